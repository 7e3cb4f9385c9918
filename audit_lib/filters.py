"""The scope of an analysis: time range and field filters, applied to the events table in one place."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from dateutil import parser as dateparser

# free-text search looks in these columns
SEARCH_COLUMNS = ["user", "action", "artifact_type", "artifact", "details", "attachment"]


class FilterError(ValueError):
    """A filter value the user typed cannot be used (a date that does not parse, an end before a start)."""


@dataclass(frozen=True)
class Filters:
    """What to keep. Empty tuples mean "all"; `start` is inclusive and `end` exclusive, both aware."""

    start: datetime | None = None
    end: datetime | None = None
    users: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    artifact_types: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    text: str = ""

    def __post_init__(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise FilterError(f"The end {self.end:%Y-%m-%d %H:%M} is not after the start {self.start:%Y-%m-%d %H:%M}.")

    def is_empty(self) -> bool:
        return self == Filters()

    def describe(self, tz: str) -> str:
        """One line naming the scope, e.g. "2026-11-01 00:00 to 2026-11-08 00:00 (UTC); users: admin"."""
        start = f"{self.start.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}" if self.start else "the first event"
        end = f"{self.end.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}" if self.end else "the last event"
        parts = [f"{start} to {end} ({tz})"]
        labels = {"users": "users", "actions": "actions", "artifact_types": "artifact types", "nodes": "nodes",
                  "products": "products", "outcomes": "outcome"}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in labels and value:
                parts.append(f"{labels[f.name]}: {', '.join(value)}")
        if self.text:
            parts.append(f'text: "{self.text}"')
        return "; ".join(parts)


def apply_filters(events: pl.DataFrame, f: Filters) -> pl.DataFrame:
    """The events within the scope `f` (the table itself when nothing is filtered)."""
    conds: list[pl.Expr] = []
    if f.start is not None:
        conds.append(pl.col("timestamp") >= f.start)
    if f.end is not None:
        conds.append(pl.col("timestamp") < f.end)
    for column, values in [("user", f.users), ("action", f.actions), ("artifact_type", f.artifact_types),
                           ("node", f.nodes), ("product", f.products), ("outcome", f.outcomes)]:
        if values:
            conds.append(pl.col(column).cast(pl.String).is_in(list(values)))
    if f.text.strip():
        needle = f.text.strip().lower()
        conds.append(pl.any_horizontal(
            pl.col(c).cast(pl.String).str.to_lowercase().str.contains(needle, literal=True).fill_null(False)
            for c in SEARCH_COLUMNS))
    return events.filter(*conds) if conds else events


def parse_when(text: str, tz: str, *, end: bool = False) -> datetime:
    """A date or date-time typed by a user (anything python-dateutil reads), as an aware datetime in `tz`.

    A bare date given as an end means the end of that day, so "--to 2026-11-03" includes the 3rd.
    """
    value = (text or "").strip()
    if not value:
        raise FilterError("An empty date was given.")
    try:
        parsed = dateparser.parse(value)
    except (ValueError, OverflowError) as exc:
        raise FilterError(f"Cannot read {value!r} as a date ({exc}); try 2026-11-03 or '2026-11-03 14:00'.") from None
    bare_date = parsed.time() == time(0) and not any(ch in value for ch in ":T")
    if end and bare_date:
        parsed += timedelta(days=1)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))


def day_range(first: date, last: date, tz: str) -> tuple[datetime, datetime]:
    """Aware [start, end) bounds covering whole days from `first` to `last` inclusive."""
    zone = ZoneInfo(tz)
    return (datetime.combine(first, time(0), zone), datetime.combine(last + timedelta(days=1), time(0), zone))
