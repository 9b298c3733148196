"""The console's command language, without a terminal: text -> action, usage errors, completion, charts."""

import datetime as dt

import pytest

from sim.inputs.actions import parse_action
from sim.live.commands import (
    COMMANDS,
    UsageError,
    Vocabulary,
    business_days_after,
    completions,
    help_lines,
    hint,
    parse_command,
)
from sim.live.console import _Completer, chart, reading, seen, who

WORDS = Vocabulary(services=("storefront", "checkout", "payment-gateway"), severities=("SEV1", "SEV2", "SEV3", "SEV4"),
                   people=("ana", "dana", "lee", "sam"), teams=("checkout", "payments", "sre"), pages=("P1", "P2"),
                   dates=("2026-04-21", "2026-04-22"))
START = dt.datetime(2026, 4, 20, 14, 40, tzinfo=dt.timezone.utc)


def parse(text, now=0.0):
    return parse_command(text, "ana", WORDS, now)


@pytest.mark.parametrize("text, action", [
    ("ack", {"do": "ack", "by": "ana"}),
    ("ack P1", {"do": "ack", "by": "ana", "page": "P1"}),
    ("look checkout", {"do": "look", "by": "ana", "service": "checkout"}),
    ("declare SEV2 checkout customers see errors",
     {"do": "declare", "by": "ana", "severity": "SEV2", "service": "checkout", "summary": "customers see errors"}),
    ('declare sev1 "Checkout is down"', {"do": "declare", "by": "ana", "severity": "SEV1", "summary": "Checkout is down"}),
    ("declare SEV3", {"do": "declare", "by": "ana", "severity": "SEV3"}),
    ('severity SEV1 "Revenue impact confirmed"',
     {"do": "severity", "by": "ana", "severity": "SEV1", "reason": "Revenue impact confirmed"}),
    ("assign comms sam", {"do": "assign", "by": "ana", "role": "comms", "who": "sam"}),
    ("page payments,checkout", {"do": "page", "by": "ana", "teams": ["payments", "checkout"]}),
    ("page payments checkout", {"do": "page", "by": "ana", "teams": ["payments", "checkout"]}),
    ("update mitigating Rolled back, errors falling next=15:45",
     {"do": "update", "by": "ana", "status": "mitigating", "summary": "Rolled back, errors falling", "next_update": "15:45"}),
    ("investigate payment-gateway", {"do": "investigate", "by": "ana", "service": "payment-gateway"}),
    ("mitigate scale-up checkout", {"do": "mitigate", "by": "ana", "action": "scale_up", "service": "checkout"}),
    ("resolve", {"do": "resolve", "by": "ana"}),
    ("stand_down Alert cleared by itself", {"do": "stand_down", "by": "ana", "reason": "Alert cleared by itself"}),
    ("postmortem 2026-04-23", {"do": "schedule_postmortem", "by": "ana", "date": "2026-04-23"}),
    ("speed 20", {"console": "speed", "speed": 20.0}),
    ("dashboard checkout 30", {"console": "dashboard", "service": "checkout", "minutes": 30.0}),
    ("help update", {"console": "help", "command": "update"}),
    ("PAUSE", {"console": "pause"}),
])
def test_a_line_becomes_an_action_or_a_control(text, action):
    assert parse(text) == action


def test_relative_next_update_times_count_from_now():
    # At t=600 (14:50), +30m and 30m both mean 15:20, i.e. 2400 s after the 14:40 start.
    for text in ('update investigating "Rolling back" next=+30m eta=15:40', 'update investigating "Rolling back" next=30m eta=15:40'):
        raw = parse(text, now=600)
        assert raw == {"do": "update", "by": "ana", "status": "investigating", "summary": "Rolling back",
                       "next_update": "+2400s", "eta": "15:40"}
        assert parse_action(raw, START).get("next_update") == 2400


def test_an_empty_line_is_nothing():
    assert parse("   ") is None


@pytest.mark.parametrize("text, message", [
    ("mitigate rollback", "missing service. Usage: mitigate MITIGATION SERVICE   e.g. mitigate rollback payment-gateway"),
    ("assign comms", "missing person. Usage: assign ROLE PERSON"),
    ("update investigating", "missing summary. Usage: update STATUS SUMMARY..."),
    ("speed fast", "speed must be a number, got 'fast'"),
    ("dashboard checkout -5", "minutes must be more than 0, got '-5'. Usage: dashboard SERVICE [MINUTES]"),
    ("dashboard checkout nan", "minutes must be more than 0, got 'nan'"),
    ("ack P1 P2", "unexpected 'P2'. Usage: ack [PAGE]"),
    ('declare SEV2 "unclosed', "No closing quotation (quote text with"),
    ("frobnicate now", "unknown command 'frobnicate': type help for the list"),
    ("update investigating text next=soon", "next= takes 15:30, +30m or 30m, got 'soon'"),
])
def test_a_line_that_does_not_fit_says_how_it_should_be(text, message):
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert str(caught.value).startswith(message)


def test_every_example_in_the_help_is_a_valid_command():
    for name, command in COMMANDS.items():
        for example in command.examples:
            raw = parse(example)
            if "do" in raw:
                assert raw["do"] == command.action
                parse_action(raw, START)  # raises if the action's shape is wrong
            else:
                assert raw["console"] == name


def test_help_lists_every_command_and_shows_one_with_examples():
    lines = help_lines()
    for command in COMMANDS.values():
        assert any(line.strip().startswith(command.usage) for line in lines)
    assert help_lines("postmortem") == ["postmortem DATE", "  schedule the postmortem, within 5 business days (IC)",
                                        "  e.g. postmortem 2026-04-23"]
    with pytest.raises(UsageError, match="unknown command 'nope'"):
        help_lines("nope")


def test_help_and_usage_errors_speak_the_drills_own_levels():
    # A team with P1 to P5 was shown 'declare SEV2 ...', which its drill refuses (unknown severity 'SEV2').
    levels = Vocabulary(services=WORDS.services, severities=("P1", "P2", "P3", "P4", "P5"))
    assert help_lines("declare", levels.severities)[2] == '  e.g. declare P2 checkout "Checkout errors at 15%, customers affected"'
    assert '  severity P1 "Revenue impact confirmed"' in help_lines(None, levels.severities)
    with pytest.raises(UsageError, match="e.g. severity P1 "):
        parse_command("severity", "ana", levels)
    # One level of its own: both examples are that level.
    assert help_lines("declare", ("incident",))[2].startswith("  e.g. declare incident checkout")


@pytest.mark.parametrize("text, expected", [
    ("dec", ("dec", ["declare"])),
    ("s", ("s", ["severity", "say", "standdown", "status", "speed"])),
    ("assign ", ("", ["ic", "comms", "ops"])),
    ("assign comms s", ("s", ["sam"])),
    ("declare SEV2 ", ("", ["storefront", "checkout", "payment-gateway"])),
    ("declare s", ("s", ["SEV1", "SEV2", "SEV3", "SEV4"])),
    ("mitigate roll", ("roll", ["rollback"])),
    ("mitigate rollback pay", ("pay", ["payment-gateway"])),
    ("page payments,ch", ("ch", ["checkout"])),
    ("ack ", ("", ["P1", "P2"])),
    ("postmortem ", ("", ["2026-04-21", "2026-04-22"])),
    ("update investigating rolling back n", ("n", ["next="])),
    ('update investigating "rolling ba', ("", [])),
    ("help up", ("up", ["update"])),
])
def test_tab_completes_the_word_being_typed(text, expected):
    assert completions(text, WORDS) == expected


def test_postmortem_dates_offered_are_business_days():
    # 2026-04-23 is a Thursday: Friday, then Monday to Thursday.
    assert business_days_after(dt.date(2026, 4, 23), 5) == ("2026-04-24", "2026-04-27", "2026-04-28", "2026-04-29", "2026-04-30")


def test_the_dashboard_chart_shows_the_worst_value_of_each_time_slice():
    # One sample every 15 s for 10 min: error rate 0.1% until 5 min, 2.5% until 7m30s, then 10%; p99 flat at 500 ms.
    samples = [(t, {"x": (0.001 if t < 300 else 0.025 if t < 450 else 0.1, 500.0)}) for t in range(0, 601, 15)]
    assert chart(samples, "x", 600, minutes=10, width=20, rows=2) == [
        "x: last 10m, one column per 30s",
        "  error rate   now 10.00%, highest 10.00%",
        "  10.00% |               █████",
        "   0.00% |          ▄▄▄▄▄█████",
        "  p99 latency   now 500 ms, highest 500 ms",
        "  500 ms |" + "█" * 20,
        "    0 ms |" + "█" * 20,
    ]
    assert chart(samples, "nowhere", 600) == ["nowhere: no samples yet"]


def test_a_mistyped_command_or_word_gets_did_you_mean():
    with pytest.raises(UsageError, match=r"unknown command 'updaet' \(did you mean update\?\): type help"):
        parse("updaet investigating text")
    with pytest.raises(UsageError, match=r"unknown command 'qwerty': type help"):  # nothing close: no guess
        parse("qwerty")
    # the drill rejects what it does not know; the console adds what was probably meant
    assert hint(parse("look chekout"), WORDS) == " (did you mean checkout?)"
    assert hint(parse("assign comms dan"), WORDS) == " (did you mean dana?)"
    assert hint(parse("look checkout"), WORDS) == ""
    assert hint(parse("page checkout,paymnts"), WORDS) == " (did you mean payments?)"  # it said nothing
    # two letters swapped in a short name: difflib alone rated these 0.67 and 0.5, under its 0.7
    assert hint(parse("assign comms sma"), WORDS) == " (did you mean sam?)"
    assert hint(parse("assign comms ele"), WORDS) == " (did you mean lee?)"
    assert hint(parse("assign comms dnaa"), WORDS) == " (did you mean dana?)"
    assert hint(parse("page checkout,ser"), WORDS) == " (did you mean sre?)"
    with pytest.raises(UsageError, match=r"unknown command 'sya' \(did you mean say\?\)"):
        parse("sya hello")


def test_look_reads_in_the_units_of_the_dashboards():
    assert reading({"request_rate": 120.4, "error_rate": 0.15, "latency_p99_ms": 450.2, "cpu": 0.354, "memory": 0.6}) \
        == "traffic 120 req/s, error rate 15.0 %, p99 450 ms, cpu 35 %, memory 60 %"


def test_completion_shows_each_persons_team_and_training_and_each_dates_weekday():
    from prompt_toolkit.document import Document

    from sim.inputs.config import Person

    assert who(Person("kim", team="payments", senior=True, trained=("ops", "ic"), training=("comms",))) \
        == "payments, senior, leads ops/ic, learning comms"
    assert who(Person("jo")) == "no team"
    words = Vocabulary(people=("ana", "kim"), dates=("2026-04-24", "2026-04-27"),
                       notes={"kim": "payments, senior", "2026-04-24": "Fri", "2026-04-27": "Mon"})
    shown = [(c.text, c.display_meta_text) for c in _Completer(lambda: words).get_completions(Document("assign ic k"), None)]
    assert shown == [("kim", "payments, senior")]
    shown = [(c.text, c.display_meta_text) for c in _Completer(lambda: words).get_completions(Document("postmortem 2026"), None)]
    assert shown == [("2026-04-24", "Fri"), ("2026-04-27", "Mon")]  # 2026-04-24 is a Friday, the 27th the Monday after


def test_a_page_is_shown_and_taken_as_a_number_never_as_a_level():
    # Beside a team's levels, 'dana acknowledges page P1' read like 'P1 declared'. The event log
    # keeps P1; what a person sees is #1, and what they type (#1, 1, or the log's P1) is P1.
    from sim.outputs.report import timeline

    for typed in ("ack #1", "ack 1", "ack P1"):
        assert parse(typed) == {"do": "ack", "by": "ana", "page": "P1"}
    events = [{"t": 540, "at": "2026-04-20T14:49:00Z", "kind": "page.acked", "page": "P1", "by": "dana"},
              {"t": 720, "at": "2026-04-20T14:52:00Z", "kind": "incident.declared", "severity": "P1", "by": "dana",
               "channel": "#inc-2026-04-20-checkout"}]
    assert timeline(events) == ["14:49 UTC - dana acknowledges page #1",
                                "14:52 UTC - P1 declared by dana, incident channel #inc-2026-04-20-checkout opened"]
    assert seen(events[0], "ana") == ("dim", "PAGE     #1 acknowledged by dana")
    # 'ack 12' refused: the hint names the open pages as shown ('#12' is close to '#1', not to '#5').
    assert hint({"do": "ack", "by": "ana", "page": "P12"}, Vocabulary(pages=("#1", "#5"))) == " (did you mean #1?)"


def test_a_mapping_or_list_where_a_name_goes_is_refused_not_a_crash():
    # drill serve's api/act answered {"do": "ask", "task": {}} with a 500 (TypeError: unhashable
    # type: 'dict', from the look-up of the task's name) and closed the connection
    for raw, reason in [({"do": "ask", "by": "kim", "who": "ana", "task": {}}, "ask: 'task' must be text"),
                        ({"do": "assign", "by": "kim", "who": "ana", "role": ["ic"]}, "assign: 'role' must be text"),
                        ({"do": "update", "by": "kim", "status": {"a": 1}, "summary": "s"}, "update: 'status' must be text"),
                        ({"do": "mitigate", "by": "kim", "action": [], "service": "checkout"}, "mitigate: 'action' must be text")]:
        with pytest.raises(ValueError) as refused:
            parse_action(raw, START)
        assert str(refused.value) == reason
