"""Importing a team's production ``alertmanager.yml`` into its drill monitoring file.

The import keeps what routes and groups alerts (``route``, ``inhibit_rules``, time
intervals, receivers by name and kind, with ``send_resolved``) and drops what a drill
must not hold: ``global`` (mail servers, credentials), ``templates``, ``tracing`` and
the integrations' addresses and keys. Into an existing file it merges: the imported
route and inhibit rules replace the file's; receivers and time intervals are merged by
name (the imported ones win). The result is checked by loading it before it is returned.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..inputs import yamlfile
from ..inputs.alertmanager import load_alertmanager
from ..inputs.errors import DrillError

_NAMED = ("receivers", "time_intervals", "mute_time_intervals")
_REPLACED = ("route", "inhibit_rules")


@dataclass(frozen=True)
class Imported:
    text: str
    dropped: list  # what the import left out, one line each


def import_alertmanager(source: Path, into: Path | None = None) -> Imported:
    config = load_alertmanager(source)  # every problem of the source, with its line, first
    doc = _plain(yamlfile.load(source))
    dropped = [f"{key} (not used by a drill; may hold addresses and credentials)" for key in config.ignored]
    merged = {key: doc[key] for key in _REPLACED if key in doc}
    for receiver in doc.get("receivers") or []:
        for kind, items in list(receiver.items()):
            if kind.endswith("_configs"):
                receiver[kind] = [{"send_resolved": i["send_resolved"]} if "send_resolved" in i else {} for i in items]
                dropped.append(f"receivers.{receiver['name']}.{kind}: addresses and keys")
    for key in _NAMED:
        if key in doc:
            merged[key] = doc[key]
    if into is not None and into.exists():
        load_alertmanager(into)
        old = _plain(yamlfile.load(into))
        for key in _NAMED:
            mine = {item["name"]: item for item in old.get(key) or []}
            mine.update({item["name"]: item for item in merged.get(key) or []})
            if mine:
                merged[key] = list(mine.values())
        for key in _REPLACED:
            if key not in merged and key in old:
                merged[key] = old[key]
    order = ["route", "receivers", "inhibit_rules", "time_intervals", "mute_time_intervals"]
    body = yaml.safe_dump({k: merged[k] for k in order if k in merged}, sort_keys=False, default_flow_style=None)
    text = (f"# Imported by `drill import alertmanager` from {source.name}"
            f"{' into ' + into.name if into is not None and into.exists() else ''}.\n"
            "# Who each receiver pages: escalation_policies in drills/roster.yaml.\n" + body)
    try:  # the written file must load as it is
        yamlfile.loaded_as(into or Path("alertmanager.yml"), text, load_alertmanager)
    except DrillError as exc:
        raise DrillError(f"{source}: the merged file would not load, so nothing was written: {exc}") from None
    return Imported(text, dropped)


def _plain(value):
    """Plain dicts and lists (the loader's line-remembering ones do not dump)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
