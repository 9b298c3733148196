"""Prometheus's number-formatting template functions, printing an alert's value as Prometheus does.

``humanize`` (SI prefixes), ``humanize1024`` (binary prefixes), ``humanizePercentage``
and ``humanizeDuration``, ported from Prometheus's template/template.go and
prometheus/common's helpers/templates (the same code in Prometheus 2.42 and today).
Each prints 4 significant digits with Go's ``%.4g``, which is Python's but for NaN and
the infinities (``NaN``, ``+Inf``, ``-Inf``). The loader's list of them is
``promrules.VALUE_FUNCTIONS``.
"""

import math

_SI_UP = ("k", "M", "G", "T", "P", "E", "Z", "Y")
_SI_DOWN = ("m", "u", "n", "p", "f", "a", "z", "y")
_BINARY = ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi")
_INT64 = 2 ** 63


def _g4(v: float) -> str:
    """Go's ``%.4g``."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return format(v, ".4g")


def _scaled_up(v: float, base: int, prefixes: tuple) -> tuple[float, str]:
    """``v`` divided by ``base`` until it is under ``base``, with the prefix reached."""
    prefix = ""
    for p in prefixes:
        if abs(v) < base:
            break
        prefix, v = p, v / base
    return v, prefix


def _scaled_down(v: float) -> tuple[float, str]:
    """``v`` (0 < |v| < 1) times 1000 until it is at least 1, with the prefix reached."""
    prefix = ""
    for p in _SI_DOWN:
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return v, prefix


def humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    v, prefix = _scaled_up(v, 1000, _SI_UP) if abs(v) >= 1 else _scaled_down(v)
    return _g4(v) + prefix


def humanize1024(v: float) -> str:
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    v, prefix = _scaled_up(v, 1024, _BINARY)
    return _g4(v) + prefix


def humanize_percentage(v: float) -> str:
    return _g4(v * 100) + "%"


def _quo_rem(n: int, d: int) -> tuple[int, int]:
    """Go's integer ``n / d`` and ``n % d`` (d > 0): both truncate towards zero."""
    q, r = divmod(abs(n), d)
    return (-q, -r) if n < 0 else (q, r)


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        # Go's int64(v); past int64's range amd64 gives its smallest value (printed as Go does)
        whole = int(v) if v < _INT64 else -_INT64
        minutes, seconds = _quo_rem(whole, 60)
        hours, minutes = _quo_rem(minutes, 60)
        days, hours = _quo_rem(hours, 24)
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    v, prefix = _scaled_down(v)
    return f"{_g4(v)}{prefix}s"


FUNCTIONS = {"humanize": humanize, "humanize1024": humanize1024, "humanizePercentage": humanize_percentage,
             "humanizeDuration": humanize_duration}
