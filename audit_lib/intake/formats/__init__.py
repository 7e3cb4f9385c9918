"""Log formats as data: each JSON file beside this module declares one message format.

`layouts.json` says how a line starts (time stamp, level, logger) and which lines continue the event above;
every other file is a message format with its pattern, field mapping and sample lines (a test parses them all).
Adding a format means adding a file here; the parser reads whatever it finds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Layout:
    name: str
    pattern: str
    timestamp_formats: tuple[str, ...]


@dataclass(frozen=True)
class MessageFormat:
    """One kind of audit message; `kind` is "json" (a change record) or "regex" (a line pattern)."""

    name: str
    product: str
    kind: str
    description: str = ""
    pattern: str = ""
    keys: dict = field(default_factory=dict)
    product_when: dict = field(default_factory=dict)
    artifact_keys: tuple[str, ...] = ()
    fields: dict = field(default_factory=dict)
    action_from: dict = field(default_factory=dict)
    artifact_from: str | None = None
    outcome_map: dict = field(default_factory=dict)
    artifact_type_from_action: tuple[tuple[str, str], ...] = ()
    artifact_type_default: str | None = None
    continues_until: str | None = None
    details: tuple[str, ...] = ()
    action_when_failed: str | None = None  # the action of a record whose outcome is a failure (a failed sign-in)
    null_users: tuple[str, ...] = ()  # initiator values that mean "no known user" (IS writes null or N/A)
    priority: int = 100  # formats are tried in this order (lower first), then by name
    # a faster way to the pattern's groups for messages whose separator appears only between parts:
    # {"separator", "after", "labels", "values"}, see `audit_lib.intake.parse.split_groups`
    split: dict | None = None
    # false when every message carries its own time (a sign-in's "at [...]"): such a message is not kept for the
    # load's later batches, where it will not be seen again (see `audit_lib.intake.messages.Memo`)
    repeats: bool = True
    samples: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Formats:
    layouts: tuple[Layout, ...]
    fast_header: dict | None
    continuations: tuple[str, ...]
    messages: tuple[MessageFormat, ...]

    @property
    def json_format(self) -> MessageFormat | None:
        """The JSON format whose compact form is cut at its keys (the products' change record)."""
        return next((m for m in self.messages if m.kind == "json" and "info" in m.keys), None)

    @property
    def json_formats(self) -> tuple[MessageFormat, ...]:
        return tuple(m for m in self.messages if m.kind == "json")

    @property
    def regex_formats(self) -> tuple[MessageFormat, ...]:
        return tuple(m for m in self.messages if m.kind == "regex")


def _message(path: Path) -> MessageFormat:
    spec = json.loads(path.read_text(encoding="utf-8"))
    for key in ("artifact_keys", "details", "samples", "null_users"):
        spec[key] = tuple(spec.get(key, ()))
    spec["artifact_type_from_action"] = tuple(tuple(p) for p in spec.get("artifact_type_from_action", ()))
    fmt = MessageFormat(**spec)
    if fmt.kind not in ("json", "regex"):
        raise ValueError(f"{path.name}: kind must be 'json' or 'regex', not {fmt.kind!r}")
    if fmt.kind == "regex":
        groups = set(re.compile(fmt.pattern).groupindex)
        missing = {*fmt.details, *fmt.action_from, *([fmt.artifact_from] if fmt.artifact_from else [])} - groups
        if missing:
            raise ValueError(f"{path.name}: the pattern has no group named {', '.join(sorted(missing))}")
        if fmt.split is not None:
            names = sorted(groups, key=re.compile(fmt.pattern).groupindex.get)
            if set(fmt.split) - {"separator", "after", "labels", "values"} or len(fmt.split["labels"]) != len(names) \
                    or set(fmt.split.get("values", {})) - groups:
                raise ValueError(f"{path.name}: split needs a separator, an after, a label per group of the "
                                 "pattern and value patterns of its groups only")
    return fmt


@cache
def load_formats(folder: Path = HERE) -> Formats:
    """Read every format file in `folder` (layouts.json plus one file per message format)."""
    base = json.loads((folder / "layouts.json").read_text(encoding="utf-8"))
    layouts = tuple(Layout(d["name"], d["pattern"], tuple(d["timestamp_formats"])) for d in base["layouts"])
    messages = tuple(_message(p) for p in sorted(folder.glob("*.json")) if p.name != "layouts.json")
    # JSON formats first (the change record is by far the most common line), then by priority and name
    messages = tuple(sorted(messages, key=lambda m: (m.kind != "json", m.priority, m.name)))
    return Formats(layouts, base.get("fast_header"), tuple(base["continuations"]), messages)
