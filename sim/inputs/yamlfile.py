"""Reading YAML files with line numbers, and checking them field by field.

Every mapping and list loaded here remembers the line it starts on and the line of
each of its keys, so that every problem can be reported as ``file:line: message``.
Drill files are plain data: the reader refuses what no drill file needs (explicit
tags such as ``!!int``, keys that are lists, mappings or null, nesting deeper than
``MAX_DEPTH``), and the numbers it hands on are finite and within their field's range.
"""

import math
import re
import tempfile
from pathlib import Path

import yaml

from .errors import DrillError


class Mapping(dict):
    """A YAML mapping that knows its own line and the line of each key."""

    line = 0
    key_lines: dict


class Sequence(list):
    """A YAML list that knows its own line and the line of each item."""

    line = 0
    item_lines: list


MAX_DEPTH = 50  # far deeper than any drill file; a bound keeps a hostile file from exhausting the stack
_NODE_STARTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class _Loader(yaml.SafeLoader):
    depth = 0

    def fetch_flow_collection_start(self, token_class):
        # Checked while scanning: the scanner reads a whole flow nest before the composer
        # sees its first node, in time that grows with the square of its depth.
        if self.flow_level >= MAX_DEPTH:
            raise yaml.MarkedYAMLError(None, None, f"nested more than {MAX_DEPTH} levels deep", self.get_mark())
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.ScalarEvent) and _CONTROL.search(event.value):  # escaped, as "\0": no text holds one
            raise yaml.MarkedYAMLError(None, None, f"control character {_CONTROL.search(event.value)[0]!r} in "
                                       f"{event.value[:40]!r}", event.start_mark)
        if isinstance(event, _NODE_STARTS) and event.tag not in (None, "!"):
            raise yaml.MarkedYAMLError(None, None, f"tags such as {event.tag} are not used in drill files: "
                                       "write the plain value", event.start_mark)
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if self.depth >= MAX_DEPTH:
                raise yaml.MarkedYAMLError(None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1
        return super().compose_node(parent, index)


def _mapping(loader, node):
    loader.flatten_mapping(node)
    result = Mapping()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key_node, yaml.ScalarNode) or key is None:
            what = "null" if key is None else "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
            raise yaml.MarkedYAMLError("while reading a mapping", node.start_mark, f"a key must be a name, not {what}",
                                       key_node.start_mark)
        if key in result:
            raise yaml.MarkedYAMLError("while reading a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader, node):
    result = Sequence(loader.construct_object(item, deep=True) for item in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [item.start_mark.line + 1 for item in node.value]
    return result


def _timestamp(loader, node):
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError) as exc:  # looks like a date but is none (2026-13-01, or past year 9999)
        raise yaml.MarkedYAMLError(None, None, f"{node.value!r} is not a valid date or time ({exc})", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def read_text(path) -> str:
    """A file's UTF-8 text; a file that cannot be read, or a byte that is not UTF-8, names the file
    (and the line)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DrillError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DrillError(f"{path}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x}); save the file as UTF-8") from None


class _JsonLoader(_Loader):
    """A JSON file's numbers as JSON reads them: YAML 1.1 reads 6e2 and 1.2e2 as text (its floats
    need a dot and a signed exponent), so a Chaos Toolkit experiment's pause of 1.2e2 was lost."""


_JsonLoader.add_implicit_resolver("tag:yaml.org,2002:float",
                                  re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?[eE][-+]?[0-9]+$"), list("-0123456789"))


def load(path) -> object:
    """Parse one YAML (or JSON) file; a syntax error names the file and line."""
    path = Path(path)
    text = read_text(path)
    try:
        return yaml.load(text, Loader=_JsonLoader if path.suffix.lower() == ".json" else _Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise DrillError(f"{path}:{line}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow; it knows only the position
        line = text[:exc.position].count("\n") + 1
        raise DrillError(f"{path}:{line}: invalid YAML: character {exc.character!r} is not allowed in YAML") from None
    except yaml.YAMLError as exc:
        raise DrillError(f"{path}:1: invalid YAML: {exc}") from None


def loaded_as(shown: Path, text: str, load):
    """``load`` of the YAML ``text`` that is to become the file ``shown`` (an importer checks what it
    made before it writes it): read from a temporary file of that name, with every problem named
    ``shown:line``, never by a temporary file that is gone when the message is read."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / shown.name
        path.write_text(text, encoding="utf-8")
        try:
            return load(path)
        except DrillError as exc:
            raise DrillError(str(exc).replace(str(path), str(shown))) from None


def document(path, kind: str) -> "Fields":
    """The fields of the ``kind`` file at ``path``: read, parsed with its lines and checked to be
    a mapping (whose ``kind:``, if given, names ``kind``), or a ``DrillError`` naming the file and
    line. Their ``checker`` collects what reading the fields finds wrong."""
    check = Checker(Path(path))  # as Path prints it: ./x.yaml as x.yaml, as each loader always did
    doc = check.mapping(load(path), kind, 1, root=True)
    check.raise_problems()
    return doc


class Checker:
    """Collects every problem found in one file, then raises them together."""

    def __init__(self, path):
        self.path = str(path)
        self.problems: list[tuple[int, str]] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append((line, message))

    def raise_problems(self) -> None:
        if self.problems:
            lines = sorted(set(self.problems))
            raise DrillError("\n".join(f"{self.path}:{line}: {message}" for line, message in lines))

    def mapping(self, value, where: str, line: int, root: bool = False) -> "Fields | None":
        """Fields of a mapping; a ``root`` mapping's field names are not prefixed with ``where``."""
        if not isinstance(value, dict):
            self.problem(getattr(value, "line", line), f"{where} must be a mapping, got {_kind(value)}")
            return None
        return Fields(self, value, where, root)

    def items(self, value, where: str, line: int) -> list[tuple[int, object]]:
        """``(line, item)`` pairs of a list, or a problem when it is not one."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(getattr(value, "line", line), f"{where} must be a list, got {_kind(value)}")
            return []
        lines = getattr(value, "item_lines", [line] * len(value))
        return list(zip(lines, value))


class Fields:
    """Reads the fields of one mapping; unknown keys are problems."""

    def __init__(self, checker: Checker, data: dict, where: str, root: bool = False):
        self.checker, self.data, self.where = checker, data, where
        self.prefix = "" if root else f"{where}."
        self.line = getattr(data, "line", 1)
        self.seen: set = set()
        if root:  # an explicit ``kind:`` names what the file is (sim.validate); it must name this one
            self.seen.add("kind")
            if "kind" in data and data["kind"] != where:
                checker.problem(self.line_of("kind"), f"kind: {data['kind']!r}, but this is read as kind {where!r}")

    def line_of(self, key) -> int:
        return getattr(self.data, "key_lines", {}).get(key, self.line)

    def get(self, key, convert=None, default=None, required=False):
        """The converted value of ``key``; on a problem, record it and return ``default``."""
        self.seen.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                self.checker.problem(self.line, f"{self.where}: missing required field '{key}'")
            return default
        value = self.data[key]
        if convert is None:
            return value
        try:
            return convert(value)
        except (TypeError, ValueError) as exc:
            self.checker.problem(self.line_of(key), f"{self.prefix}{key}: {exc}")
            return default

    def sub(self, key, required=False) -> "Fields | None":
        """The nested mapping under ``key`` (an empty one when absent and optional)."""
        self.seen.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                self.checker.problem(self.line, f"{self.where}: missing required field '{key}'")
                return None
            empty = Mapping()
            empty.line, empty.key_lines = self.line_of(key), {}
            return Fields(self.checker, empty, f"{self.prefix}{key}")
        return self.checker.mapping(self.data[key], f"{self.prefix}{key}", self.line_of(key))

    def items(self, key) -> list[tuple[int, object]]:
        self.seen.add(key)
        return self.checker.items(self.data.get(key), f"{self.prefix}{key}", self.line_of(key))

    def done(self) -> None:
        for key in self.data:
            if key not in self.seen:
                known = ", ".join(str(k) for k in sorted(self.seen, key=str))
                self.checker.problem(self.line_of(key), f"{self.where}: unknown field '{key}' (known: {known})")


def _kind(value) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return "text" if isinstance(value, str) else repr(value)


def text(value) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError(f"expected text, got {_kind(value)}")
    return str(value).strip()


def repeated(items) -> list:
    """The items listed more than once, each once, in the order their second listing comes."""
    seen, again = set(), []
    for item in items:
        if item in seen and item not in again:
            again.append(item)
        seen.add(item)
    return again


def name(value) -> str:
    """A person's or a team's name: text, not empty (an empty one was paged as '' and shown as nobody)."""
    named = text(value)
    if not named:
        raise ValueError("expected a name, got empty text")
    return named


MAX_SIGMA = 5.0  # a log-normal spread of e**5 either way already covers seconds to hours; more overflows a sample
LIMIT = 1e12  # no quantity in a drill file comes near it: a larger one is a typo, and would overflow later


def number(value, low: float = -LIMIT, high: float = LIMIT) -> float:
    """A finite number from ``low`` to ``high``: the one check every numeric field goes through."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r}")
    if not (isinstance(value, int) or math.isfinite(value)) or not low <= value <= high:
        raise ValueError(f"expected a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def ranged(low: float = -LIMIT, high: float = LIMIT):
    """A converter for numbers from ``low`` to ``high``."""
    return lambda value: number(value, low, high)


def whole(low: int = 0, high: int = 2**63 - 1):
    """A converter for whole numbers from ``low`` to ``high`` (the default: what the drill store holds)."""
    def convert(value) -> int:
        if isinstance(value, float) and value.is_integer() and abs(value) <= LIMIT:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}, got {value!r}")
        return value
    return convert


_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def slug(value) -> str:
    """A name that becomes a file or folder name: letters, digits, ``.``, ``_`` and ``-``, never a path."""
    name = text(value)
    if not _SLUG.fullmatch(name):
        raise ValueError(f"expected a plain name (letters, digits, '.', '_' and '-', at most 100), got {name!r}")
    return name


def flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def one_of(*choices):
    def convert(value):
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(map(str, choices))}, got {value!r}")
        return value
    return convert


def names_in(known, noun: str):
    """A converter for a list of names, each one of ``known`` (an unknown one is named)."""
    def convert(value) -> tuple[str, ...]:
        names = text_list(value)
        for name in names:
            if name not in known:
                raise ValueError(f"unknown {noun} {name!r} (known: {', '.join(known)})")
        return names
    return convert


def text_list(value) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        raise ValueError(f"expected a list of names, got {_kind(value)}")
    return tuple(text(item) for item in value)
