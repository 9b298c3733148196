"""An alert's value printed as Prometheus's templates print it: as it is, through printf, or
through Prometheus's number-formatting functions.

``go_float`` is Go's ``%v`` of a float (``{{ $value }}``); ``go_printf`` is Go's
``fmt.Sprintf`` of a format and the value (``{{ printf "%.2f" $value }}``), Go's error
texts for a verb that does not print a float, a missing or an extra operand included.

``humanize`` (SI prefixes), ``humanize1024`` (binary prefixes), ``humanizePercentage``
and ``humanizeDuration``, ported from Prometheus's template/template.go and
prometheus/common's helpers/templates (the same code in Prometheus 2.42 and today).
Each prints 4 significant digits with Go's ``%.4g``, which is Python's but for NaN and
the infinities (``NaN``, ``+Inf``, ``-Inf``). The loader's list of them is
``promrules.VALUE_FUNCTIONS``.
"""

import math
from decimal import Decimal

from ...inputs.promrules import PRINTF_VERB, go_unquote

_SI_UP = ("k", "M", "G", "T", "P", "E", "Z", "Y")
_SI_DOWN = ("m", "u", "n", "p", "f", "a", "z", "y")
_BINARY = ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi")
_INT64 = 2 ** 63


def go_float(value: float) -> str:
    """A float as Go's fmt prints it (``%v``): shortest digits, an exponent below 1e-4 and from 1e6."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    number = Decimal(repr(value)).normalize()
    sign, digits, exponent = number.as_tuple()
    digits = "".join(map(str, digits))
    exp10 = len(digits) + exponent - 1
    if exp10 < -4 or exp10 >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = f"{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    else:
        text = format(number, "f")
    return ("-" if sign else "") + text.lstrip("-")


def go_printf(form: str, value: float | str) -> str:
    """Go's ``fmt.Sprintf(form, value)`` for a float64 (the value) or a string (a label),
    ``form`` as written in the template (a Go string literal's body; the loader refused the
    verbs and flags this does not print)."""
    form, out, pos, used = go_unquote(form), [], 0, False
    text = isinstance(value, str)
    shown = f"string={value}" if text else f"float64={go_float(value)}"  # as Go's error texts show it
    for match in PRINTF_VERB.finditer(form):
        out.append(form[pos:match.start()])
        pos = match.end()
        flags, width, precision, verb = match.groups()
        if verb == "%":
            out.append("%")  # takes no operand, whatever its flags
        elif not verb:
            out.append("%!(NOVERB)")
        elif used:
            out.append(f"%!{verb}(MISSING)")
        else:
            used = True
            if verb in ("sqv" if text else "eEfFgGv"):
                out.append((_text_verb if text else _verb)(value, flags, int(width or 0), precision, verb))
            else:
                out.append(f"%!{verb}({shown})")
    out.append(form[pos:])
    if not used:
        out.append(f"%!(EXTRA {shown})")
    return "".join(out)


def _text_verb(s: str, flags: str, width: int, precision: str | None, verb: str) -> str:
    """One string verb: ``%s`` and ``%v`` the text, ``%q`` and ``%#v`` it quoted; a precision
    cuts the text (in characters), then it is padded (with zeros too, as Go pads strings)."""
    if verb == "q" or (verb == "v" and "#" in flags):
        s = go_quote(s)
    if precision is not None:
        s = s[:int(precision or 0)]
    return _pad(s, flags, width)


def _pad(text: str, flags: str, width: int, sign: str = "", zeros: bool = True) -> str:
    """``sign`` and ``text`` padded to ``width`` as Go's fmt pads: on the right with ``-``, else
    on the left, with zeros after the sign when ``0`` says so and ``zeros`` allows it."""
    if "-" in flags:
        return (sign + text).ljust(width)
    if zeros and "0" in flags:
        return sign + text.rjust(width - len(sign), "0")
    return (sign + text).rjust(width)


_QUOTED = {"\\": "\\\\", '"': '\\"', "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
           "\t": "\\t", "\v": "\\v"}


def go_quote(s: str) -> str:
    """Go's ``strconv.Quote``: printable characters as they are, the rest escaped."""
    def one(c: str) -> str:
        if c in _QUOTED:
            return _QUOTED[c]
        if c.isprintable():
            return c
        code = ord(c)
        return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    return '"' + "".join(map(one, s)) + '"'


def _verb(v: float, flags: str, width: int, precision: str | None, verb: str) -> str:
    """One float verb: Python's ``%`` prints as Go does where a precision is given (or implied,
    for e and f); Go's shortest digits (``%v``, ``%g``) and its NaN and infinities differ."""
    plus = "+" in flags and verb != "v"  # %+v is Go's flag for field names: a float ignores it
    space = " " in flags
    if math.isnan(v) or math.isinf(v):
        text = "+NaN" if math.isnan(v) else go_float(v)
        if space and text[0] == "+" and not plus:
            text = " " + text[1:]
        if math.isnan(v) and not (space or plus):
            text = text[1:]
        return _pad(text, flags, width, zeros=False)  # never zero-padded
    if precision is None and verb in "gGv":
        text = go_float(v)
        text = text.upper() if verb == "G" else text
        sign, digits = ("-", text[1:]) if text[0] == "-" else ("+" if plus else " " if space else "", text)
        return _pad(digits, flags, width, sign)
    spec = flags.replace("+", "") if verb == "v" else flags
    return f"%{spec}{width or ''}{'.' + (precision or '0') if precision is not None else ''}{'g' if verb == 'v' else verb}" % v


def _g4(v: float) -> str:
    """Go's ``%.4g``: Python's, but for NaN and the infinities, printed as Go prints them."""
    return format(v, ".4g") if math.isfinite(v) else go_float(v)


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
