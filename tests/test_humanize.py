"""Prometheus's number-formatting template functions print an alert's value as Prometheus does.

The expected strings are Prometheus's own (template/template_test.go), and for the edges
it does not test, promtool's output where promtool is installed.
"""

import json
import math
import shutil
import subprocess

import pytest

from sim.inputs.promrules import VALUE_FUNCTIONS, load_rules, template
from sim.model.monitoring.humanize import (
    FUNCTIONS,
    go_printf,
    humanize,
    humanize1024,
    humanize_duration,
    humanize_percentage,
)
from sim.model.monitoring.rules import render

from .conftest import REPO

INF, NAN = math.inf, math.nan
MAX_INT64, MAX_UINT64 = float(2 ** 63 - 1), float(2 ** 64 - 1)


def test_the_loader_and_the_renderer_know_the_same_functions():
    assert set(VALUE_FUNCTIONS) == set(FUNCTIONS)


@pytest.mark.parametrize(("function", "cases"), [
    (humanize, {0.0: "0", 1.0: "1", 1234567.0: "1.235M", .12: "120m", -1.0: "-1", MAX_INT64: "9.223E",
                MAX_UINT64: "18.45E", INF: "+Inf", -INF: "-Inf", NAN: "NaN"}),
    (humanize1024, {0.0: "0", 1.0: "1", 1048576.0: "1Mi", .12: "0.12", -1.0: "-1", 1234567.0: "1.177Mi",
                    MAX_INT64: "8Ei", MAX_UINT64: "16Ei", INF: "+Inf", -INF: "-Inf", NAN: "NaN"}),
    (humanize_duration, {0.0: "0s", 1.0: "1s", 60.0: "1m 0s", 3600.0: "1h 0m 0s", 86400.0: "1d 0h 0m 0s",
                         86400.0 + 3600: "1d 1h 0m 0s", -(86400 * 2 + 3600 * 3 + 60 * 4 + 5.0): "-2d 3h 4m 5s",
                         899.99: "14m 59s", .1: "100ms", .0001: "100us", .12345: "123.5ms", 60.1: "1m 0s",
                         60.5: "1m 0s", 1.2345: "1.234s", 12.345: "12.35s", -1.0: "-1s", 1234567.0: "14d 6h 56m 7s",
                         INF: "+Inf", -INF: "-Inf", NAN: "NaN"}),
    (humanize_percentage, {-0.22222: "-22.22%", 0.0: "0%", 0.1234567: "12.35%", 1.23456: "123.5%", -1.0: "-100%",
                           1.0: "100%", 1234567.0: "1.235e+08%", MAX_INT64: "9.223e+20%", MAX_UINT64: "1.845e+21%"}),
])
def test_prometheus_template_tests(function, cases):
    # template_test.go's cases (its int and string inputs are converted to these floats first)
    assert {v: function(v) for v in cases} == cases


# Edges template_test.go leaves out, as promtool 2.42 prints them (checked below where it is
# installed): signed zero, negative values, the prefixes' ends, 4-digit rounding carrying
# over a unit (999.95, 59.9999 s), and durations past int64 seconds, where Go's conversion
# on amd64 gives int64's smallest value.
EDGES = {
    -0.0: ("-0", "-0", "-0s", "-0%"),
    -1234567.0: ("-1.235M", "-1.177Mi", "-14d 6h 56m 7s", "-1.235e+08%"),
    -0.001: ("-1m", "-0.001", "-1ms", "-0.1%"),
    999.95: ("1000", "1000", "16m 39s", "1e+05%"),
    1000.0: ("1k", "1000", "16m 40s", "1e+05%"),
    1023.99: ("1.024k", "1024", "17m 3s", "1.024e+05%"),
    -2048.0: ("-2.048k", "-2ki", "-34m 8s", "-2.048e+05%"),
    59.9999: ("60", "60", "60s", "6000%"),
    0.000999999: ("1000u", "0.001", "1000us", "0.1%"),
    1.5e-7: ("150n", "1.5e-07", "150ns", "1.5e-05%"),
    1e-30: ("1e-06y", "1e-30", "1e-06ys", "1e-28%"),
    1e30: ("1e+06Y", "8.272e+05Yi", "-106751991167300d -15h -30m -8s", "1e+32%"),
    -1e19: ("-10E", "-8.674Ei", "--106751991167300d -15h -30m -8s", "-1e+21%"),
    9.2233720368547e18: ("9.223E", "8Ei", "106751991167299d 18h 27m 12s", "9.223e+20%"),
    2.0 ** 63: ("9.223E", "8Ei", "-106751991167300d -15h -30m -8s", "9.223e+20%"),
    NAN: ("NaN", "NaN", "NaN", "NaN%"),
    -INF: ("-Inf", "-Inf", "-Inf", "-Inf%"),
}
NAMES = ("humanize", "humanize1024", "humanizeDuration", "humanizePercentage")


def test_edges_as_promtool_prints_them():
    for value, expected in EDGES.items():
        assert tuple(FUNCTIONS[name](value) for name in NAMES) == expected, value


def assert_promtool_renders(tmp_path, series: list, rules: list, tests: list) -> None:
    """promtool passes a unit test of ``rules`` over ``series`` expecting ``tests``' alerts."""
    (tmp_path / "r.yml").write_text(json.dumps({"groups": [{"name": "g", "rules": rules}]}, ensure_ascii=False))
    (tmp_path / "t.yml").write_text(json.dumps({"rule_files": ["r.yml"], "tests": [{
        "interval": "1m", "input_series": series, "alert_rule_test": tests}]}))  # escaped: YAML takes no control characters
    done = subprocess.run(["promtool", "test", "rules", "t.yml"], cwd=tmp_path, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def literal(value: float) -> str:
    """A value as a promtool test's series writes it."""
    return "NaN" if math.isnan(value) else {INF: "Inf", -INF: "-Inf"}.get(value, repr(value))


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_edges_agree_with_promtool(tmp_path):
    series, alerts = [], []
    for i, (value, expected) in enumerate(EDGES.items()):
        series.append({"series": f'v{{i="{i}"}}', "values": literal(value)})
        piped = {f"piped_{name}": text for name, text in zip(NAMES, expected)}
        alerts.append({"exp_labels": {"i": str(i)}, "exp_annotations": piped | {
            f"called_{name}": text for name, text in zip(NAMES, expected)}})
    annotations = {f"piped_{n}": f"{{{{ $value | {n} }}}}" for n in NAMES} | {
        f"called_{n}": f"{{{{ {n} .Value }}}}" for n in NAMES}
    assert_promtool_renders(tmp_path, series, [{"alert": "A", "expr": "v", "annotations": annotations}],
                            [{"eval_time": "0s", "alertname": "A", "exp_alerts": alerts}])


def test_templates_call_or_pipe_the_functions_and_printf():
    labels = {"service": "checkout"}
    assert render("{{ $labels.service }} fails {{ $value | humanizePercentage }}", labels, 0.1) == "checkout fails 10%"
    assert render("{{humanizePercentage .Value}}/{{ .Value|humanize }}", labels, 0.25) == "25%/250m"
    assert render('{{ $value | printf "%.2f" }} {{ printf "%.1f" $value }}', labels, 0.125) == "0.12 0.1"
    assert render("{{- humanizeDuration $value -}} / {{ $value | humanize1024 }}", labels, 5400.0) == "1h 30m 0s / 5.273ki"


def test_the_example_team_rules_print_the_error_ratio_as_a_percentage():
    rule = next(r for g in load_rules(REPO / "docs" / "examples" / "web-shop.rules.yml") for r in g.rules
                if r.name == "ServiceErrorBudgetBurn")
    # 0.150085 of requests failing (a reference drill with the example rules, seed 0): 15.0085 to 4 digits
    assert render(rule.annotations["summary"], {"service": "payment-gateway"}, 0.150085) == \
        "payment-gateway is failing 15.01% of requests"


def test_other_template_functions_are_errors_naming_them():
    # (at the rule's line: tests/test_promql.py, test_unsupported_promql_is_an_error_at_its_line)
    for text, named in (("{{ $labels.service | toUpper }}", "function toUpper in"),
                        ('{{ printf "%.1f" $value | title }}', "function title in"),
                        ("{{ humanize $labels.code }}", "action"), ("{{ $value | humanize | printf \"%s\" }}", "action")):
        with pytest.raises(ValueError, match=f"unsupported template {named} "):
            template(text)


# printf as Go's fmt prints a float64 (promtool 2.42's renderings, checked below where it is
# installed): Go's shortest digits for %v and %g, its NaN and infinities (never zero-padded),
# %+v ignoring the plus, and its error texts for a verb that prints no float, a missing
# operand and an extra one
PRINTF = {
    ("%v", 0.30000000000000004): "0.30000000000000004",
    ("%g", 1234567.0): "1.234567e+06",
    ("%G", 1e-05): "1E-05",
    ("%.3g", 123456.0): "1.23e+05",
    ("%e", -0.0): "-0.000000e+00",
    ("%f", NAN): "NaN",
    ("%8.2f", INF): "    +Inf",
    ("%-8.2f|", -0.0): "-0.00   |",
    ("%08.2f", -2.5): "-0002.50",
    ("%08.2f", NAN): "     NaN",
    ("%+.2f", NAN): "+NaN",
    ("% .2f", INF): " Inf",
    ("%d", 0.1): "%!d(float64=0.1)",
    ("%s", 1e21): "%!s(float64=1e+21)",
    ("%.2f and %.2f", 0.1): "0.10 and %!f(MISSING)",
    ("no verbs", -2.5): "no verbs%!(EXTRA float64=-2.5)",
    ("%%", 0.1): "%%!(EXTRA float64=0.1)",
    ("100%% %.1f", 0.1): "100% 0.1",
    ("%5v|", -0.0): "   -0|",
    ("%+v", 0.1): "0.1",
    ("%.2v", 123456.0): "1.2e+05",
    ("%08v", 1e21): "0001e+21",
    ("%-+9.3e|", NAN): "+NaN     |",
    ("%#.3g", 0.1): "0.100",
    ("%5.1f%%", -INF): " -Inf%",
    ("%.1f\\u00b0C\\t|", 21.25): "21.2°C\t|",
    ("%.1f°C", 21.26): "21.3°C",
    ("%-8v|", -2.5): "-2.5    |",
    ("%08v", -2.5): "-00002.5",
    ("%+.2v", 0.1): "0.1",
    ("%v", 1.0): "1",
    ("100%", 0.1): "100%!(NOVERB)%!(EXTRA float64=0.1)",
    ("%-+7g|", 0.1): "+0.1   |",
}


def test_printf_prints_a_float_as_go_does():
    assert {case: go_printf(*case) for case in PRINTF} == PRINTF


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_printf_agrees_with_promtool(tmp_path):
    series, rules, tests = [], [], []
    for i, ((form, value), expected) in enumerate(PRINTF.items()):
        series.append({"series": f'v{{i="{i}"}}', "values": literal(value)})
        rules.append({"alert": f"P{i}", "expr": f'v{{i="{i}"}}', "annotations": {"t": f'{{{{ printf "{form}" $value }}}}'}})
        tests.append({"eval_time": "0s", "alertname": f"P{i}",
                      "exp_alerts": [{"exp_labels": {"i": str(i)}, "exp_annotations": {"t": expected}}]})
    assert_promtool_renders(tmp_path, series, rules, tests)


def test_printf_formats_drillsim_would_print_wrong_are_errors_saying_why():
    for form, why in (("%x", "the verb %x"), ("%8.2b", "the verb %b"), ("%*d", r"a width or precision taken"),
                      ("%.*f", r"a width or precision taken"), ("%#v", "the flag # with %v"),
                      ("%#g", "the flag # with %g")):
        with pytest.raises(ValueError, match=f"unsupported printf format .*drillsim does not print {why}"):
            template(f'{{{{ printf "{form}" $value }}}}')
    assert template('{{ $value | printf "%#.3g" }}')  # with a precision, # prints as Go's does


# printf over a label prints a string as Go's fmt does (promtool 2.42's renderings): %s and %v
# the text, a precision cutting it in characters, zero-padding too, %q and %#v quoted, and the
# same error texts; an external label (none is ever set) prints as the empty string
PRINTF_LABEL = {
    ("%s", "checkout"): "checkout",
    ("%05s", "çé"): "000çé",
    ("%-7s|", "çé"): "çé     |",
    ("%.3s", "checkout"): "che",
    ("%7.2s|", "checkout"): "     ch|",
    ("%d", "checkout"): "%!d(string=checkout)",
    ("%q", "checkout"): '"checkout"',
    ("%#v", "çé"): '"çé"',
    ("%+s", "checkout"): "checkout",
    ("%s and %s", "checkout"): "checkout and %!s(MISSING)",
    ("plain", "çé"): "plain%!(EXTRA string=çé)",
    ("%.0s|", "checkout"): "|",
    ("%08v", "çé"): "000000çé",
    ("%.s|", "checkout"): "|",
    ("%q", "a\x01b\x80c\u200bd"): '"a\\x01b\\u0080c\\u200bd"',
    ("%q", 'say "hi"\\'): '"say \\"hi\\"\\\\"',
}


def test_printf_prints_a_label_as_go_does():
    assert {(form, label): render(f'{{{{ printf "{form}" $labels.lab }}}}', {"lab": label}, 1.0)
            for form, label in PRINTF_LABEL} == PRINTF_LABEL
    assert render('{{ printf "%05s|%d" $externalLabels.region }}', {}, 1.0) == "00000|%!d(MISSING)"
    # beyond the Basic Multilingual Plane, as Go's strconv.Quote writes it (promtool's test files cannot hold it)
    assert render('{{ printf "%q" $labels.lab }}', {"lab": "\U000e0001"}, 1.0) == '"\\U000e0001"'


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_printf_over_a_label_agrees_with_promtool(tmp_path):
    series, rules, tests = [], [], []
    for i, ((form, label), expected) in enumerate(PRINTF_LABEL.items()):
        series.append({"series": f'v{{i="{i}",lab={json.dumps(label, ensure_ascii=False)}}}', "values": "1"})
        rules.append({"alert": f"P{i}", "expr": f'v{{i="{i}"}}', "annotations": {
            "t": f'{{{{ printf "{form}" $labels.lab }}}}', "x": '{{ printf "%05s|%d" $externalLabels.region }}'}})
        tests.append({"eval_time": "0s", "alertname": f"P{i}", "exp_alerts": [{
            "exp_labels": {"i": str(i), "lab": label}, "exp_annotations": {"t": expected, "x": "00000|%!d(MISSING)"}}]})
    assert_promtool_renders(tmp_path, series, rules, tests)


def test_printf_of_a_label_in_hex_or_ascii_quotes_is_an_error_saying_why():
    for form in ("%x", "%X", "%+q", "%#q"):
        with pytest.raises(ValueError, match="unsupported printf format .* of a label"):
            template(f'{{{{ printf "{form}" $labels.service }}}}')


ROOT_FORMS = {  # the template's data reached from its root, $ (Prometheus's own examples write both)
    "{{ $.Labels.service }}": "checkout",
    "{{ .Labels.service }}/{{ $labels.service }}": "checkout/checkout",
    "{{ $.Value }}": "0.25",
    '{{ printf "%.1f" $.Value }}': "0.2",
    "{{ $.Value | humanizePercentage }}": "25%",
    "{{ humanize $.Value }}": "250m",
    "[{{ .ExternalLabels.region }}{{ $.ExternalLabels.region }}]": "[]",
}


def test_the_value_and_labels_from_the_templates_root():
    for source, expected in ROOT_FORMS.items():
        assert render(template(source), {"service": "checkout"}, 0.25) == expected, source


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_the_templates_root_agrees_with_promtool(tmp_path):
    annotations = {f"a{i}": source for i, source in enumerate(ROOT_FORMS)}
    assert_promtool_renders(tmp_path, [{"series": 'v{service="checkout"}', "values": "0.25"}],
                            [{"alert": "A", "expr": "v", "annotations": annotations}],
                            [{"eval_time": "0s", "alertname": "A", "exp_alerts": [{
                                "exp_labels": {"service": "checkout"},
                                "exp_annotations": dict(zip(annotations, ROOT_FORMS.values()))}]}])


def test_only_templates_that_print_the_value_make_a_rule_show_it():
    # a rule that shows its value is evaluated afresh where its result would otherwise repeat
    # (docs/model.md, "Evaluations that repeat themselves"); labels, printf'd or not, are not the value
    from sim.model.monitoring.rules import _shows_value

    assert not _shows_value(('{{ printf "%5s" $labels.service }} {{ $externalLabels.region }}', "{{ .Labels.code }}"))
    assert _shows_value(("{{ $labels.service }}", "{{ $value | humanizePercentage }}"))
    assert _shows_value(('{{ printf "%.2f" $.Value }}',))
