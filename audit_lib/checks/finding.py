"""A finding: what a rule (or a check) found, with its events, a stable id and an order of severity."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from audit_lib.analysis.conditions import (  # noqa: F401  (RuleError, predicate: re-exported for rule authors)
    BASE_COLUMNS,
    BOOL_COLUMNS,
    Matcher,
    RuleError,
    check_conditions,
    conditions,
    predicate,
)
from audit_lib.checks.rule import SEVERITIES


@dataclass(frozen=True)
class Finding:
    """One thing to look at: which rule, about what (`subject`, `node`), when, how many events, and the events
    behind it (`events`: time, actor, node, outcome, source and line...) or, for findings that do not come from
    events (a configuration file), `evidence`: "file:line" references or file names. Other modules make findings
    with `finding_id` for a stable id and, when events are behind them, `event_rows=<frame of those events>`."""

    id: str
    rule: str
    title: str
    severity: str
    meaning: str
    references: tuple[str, ...]
    node: str | None
    first: datetime | None
    last: datetime | None
    count: int
    subject: str = ""
    summary: str = ""
    evidence: tuple[str, ...] = ()
    event_rows: pl.DataFrame | None = field(default=None, compare=False, repr=False)
    event_span: tuple[int, int] | None = field(default=None, compare=False, repr=False)

    @property
    def events(self) -> pl.DataFrame | None:
        """The events behind the finding: `event_rows`, or the `event_span` (offset, length) of it when several
        findings share one frame; None for findings not drawn from events."""
        if self.event_rows is None or self.event_span is None:
            return self.event_rows
        return self.event_rows.slice(*self.event_span)

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity) if self.severity in SEVERITIES else -1

    def to_dict(self, *, with_events: bool = True) -> dict:
        """Plain JSON-ready values; times in ISO 8601 with their offset."""
        out: dict[str, Any] = {
            "id": self.id, "rule": self.rule, "severity": self.severity, "title": self.title,
            "subject": self.subject, "summary": self.summary, "node": self.node,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "count": self.count, "meaning": self.meaning, "references": list(self.references),
            "evidence": list(self.evidence)}
        if with_events:
            events = self.events
            out["events"] = [] if events is None else [
                {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
                for row in events.iter_rows(named=True)]
        return out


def finding_id(rule: str, *parts: Any) -> str:
    """A short id that depends only on the rule and the parts given (same input, same id)."""
    text = "\x1f".join([rule, *("" if p is None else str(p) for p in parts)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def sort_findings(items: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then by first time, rule, subject and id: the same list always comes out the same."""
    far = datetime.max.replace(tzinfo=ZoneInfo("UTC"))
    return sorted(items, key=lambda f: (-f.rank, f.first or far, f.rule, f.subject, f.id))


def at_least(items: Iterable[Finding], severity: str) -> list[Finding]:
    """The findings of `severity` or more."""
    floor = SEVERITIES.index(severity)
    return [f for f in items if f.rank >= floor]


def findings_table(items: Sequence[Finding]) -> pl.DataFrame:
    """One row per finding: severity, rule, title, subject, node, count, first, last, summary, id."""
    tz = next((f.first.tzinfo for f in items if f.first is not None), None)
    zone = getattr(tz, "key", None) or (str(tz) if tz else "UTC")
    schema = {"severity": pl.String, "rule": pl.String, "title": pl.String, "subject": pl.String, "node": pl.String,
              "count": pl.Int64, "first": pl.Datetime("ms", zone), "last": pl.Datetime("ms", zone),
              "summary": pl.String, "id": pl.String}
    rows = [{"severity": f.severity, "rule": f.rule, "title": f.title, "subject": f.subject, "node": f.node,
             "count": f.count, "first": f.first, "last": f.last, "summary": f.summary, "id": f.id} for f in items]
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
