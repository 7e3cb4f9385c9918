"""The scope of an analysis: time range and field filters, applied to the events table in one place."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from dateutil import parser as dateparser

from audit_lib.errors import AuditLibError
from audit_lib.events.vocabulary import NOT_RECORDED, change_expr

# free-text search looks in these columns
SEARCH_COLUMNS = ["user", "actor", "action", "artifact_type", "artifact", "details", "attachment"]


class FilterError(AuditLibError, ValueError):
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
    changes_only: bool = False  # only events that change something: no sign-in, sign-out or read
    ambiguous_only: bool = False  # only events in an hour a clock change repeated, with no clue which reading

    def __post_init__(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise FilterError(f"The end {self.end:%Y-%m-%d %H:%M} is not after the start {self.start:%Y-%m-%d %H:%M}.")

    def is_empty(self) -> bool:
        return self == Filters()

    def describe(self, tz: str) -> str:
        """One line naming the scope, e.g. "2026-11-01 00:00 to 2026-11-08 00:00 (UTC); users: admin"."""
        start = _local(self.start, tz) if self.start else "the first event"
        end = _local(self.end, tz) if self.end else "the last event"
        parts = [f"{start} to {end} ({tz})"]
        labels = {"users": "users", "actions": "actions", "artifact_types": "artifact types", "nodes": "nodes",
                  "products": "products", "outcomes": "outcome"}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in labels and value:
                parts.append(f"{labels[f.name]}: {', '.join(value)}")
        if self.text:
            parts.append(f'text: "{self.text}"')
        if self.changes_only:
            parts.append("changes only (no sign-ins)")
        if self.ambiguous_only:
            parts.append("only times a clock change made ambiguous")
        return "; ".join(parts)


def _local(value: datetime, tz: str) -> str:
    """`value` as "YYYY-MM-DD HH:MM" in `tz`; in its own offset when `tz` would take it past year 9999."""
    try:
        local, offset = value.astimezone(ZoneInfo(tz)), ""
    except OverflowError:
        local, offset = value, f" {value:%z}"
    return f"{local.year:04d}-{local:%m-%d %H:%M}{offset}"  # %Y gives "1", not "0001"


def _instant(value: datetime, events: pl.DataFrame) -> pl.Expr:
    """`value` as a literal in the zone of the events' timestamps (polars compares times of one zone only)."""
    tz = getattr(events.schema.get("timestamp"), "time_zone", None)
    lit = pl.lit(value)
    return lit.dt.convert_time_zone(tz) if tz else lit


def apply_filters(events: pl.DataFrame, f: Filters) -> pl.DataFrame:
    """The events within the scope `f` (the table itself when nothing is filtered)."""
    conds: list[pl.Expr] = []
    if f.start is not None:
        conds.append(pl.col("timestamp") >= _instant(f.start, events))
    if f.end is not None:
        conds.append(pl.col("timestamp") < _instant(f.end, events))
    if f.users:  # users are picked by actor (see metrics.who); a name as written in the log matches too
        people = [c for c in ("actor", "user") if c in events.columns]
        conds.append(pl.any_horizontal(pl.col(c).cast(pl.String).is_in(list(f.users)).fill_null(False)
                                       for c in people))
    for column, values in [("action", f.actions), ("artifact_type", f.artifact_types),
                           ("node", f.nodes), ("product", f.products)]:
        if values:
            conds.append(pl.col(column).cast(pl.String).is_in(list(values)))
    if f.outcomes:  # NOT_RECORDED picks the records whose line states no outcome
        picked = pl.col("outcome").cast(pl.String).is_in(list(f.outcomes)).fill_null(False)
        conds.append(picked | pl.col("outcome").is_null() if NOT_RECORDED in f.outcomes else picked)
    if f.changes_only and events.height:
        conds.append(change_expr(events).fill_null(False))
    if f.ambiguous_only:
        conds.append(pl.col("time_ambiguous").fill_null(False) if "time_ambiguous" in events.columns
                     else pl.lit(False))
    if f.text.strip():
        needle = f.text.strip().lower()
        conds.append(pl.any_horizontal(
            pl.col(c).cast(pl.String).str.to_lowercase().str.contains(needle, literal=True).fill_null(False)
            for c in SEARCH_COLUMNS if c in events.columns))
    return events.filter(*conds) if conds else events


def parse_when(text: str, tz: str, *, end: bool = False) -> datetime:
    """A date or date-time typed by a user (anything python-dateutil reads), as an aware datetime in `tz`.

    A bare date given as an end means the end of that day, so "--to 2026-11-03" includes the 3rd; the last
    day a datetime can hold (9999-12-31) ends at its last microsecond.
    """
    value = (text or "").strip()
    if not value:
        raise FilterError("An empty date was given.")
    shown = repr(value[:60])
    try:
        parsed = dateparser.parse(value)
    except (ValueError, OverflowError, TypeError) as exc:
        raise FilterError(f"Cannot read {shown} as a date ({str(exc)[:80]}); try 2026-11-03 or "
                          "'2026-11-03 14:00'.") from None
    bare_date = parsed.time() == time(0) and not any(ch in value for ch in ":T")
    if end and bare_date:
        try:
            parsed += timedelta(days=1)
        except OverflowError:  # 9999-12-31: the day ends at the last representable time
            parsed = datetime.max.replace(tzinfo=parsed.tzinfo)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=ZoneInfo(tz))
    if not isinstance(parsed.tzinfo, ZoneInfo):  # a fixed offset: it must stay within the years 1 to 9999 in UTC
        try:
            parsed.astimezone(UTC)
        except OverflowError:
            raise FilterError(f"{shown} is too close to the year 1 or 9999 for its offset; give a date in "
                              "the log's time zone instead.") from None
    return parsed


def day_range(first: date, last: date, tz: str) -> tuple[datetime, datetime]:
    """Aware [start, end) bounds covering whole days from `first` to `last` inclusive (9999-12-31 ends at the
    last representable time)."""
    zone = ZoneInfo(tz)
    end = (datetime.max.replace(tzinfo=zone) if last >= date.max
           else datetime.combine(last + timedelta(days=1), time(0), zone))
    return datetime.combine(first, time(0), zone), end


def known_nodes(files: pl.DataFrame, f: Filters | None = None, also: Iterable[str] = ()) -> list[str]:
    """Every node the source knows (its manifest: files seen, even outside the scope, and `also`: a store's
    nodes), within the scope's node filter; none when the scope keeps only some events of a node (users,
    actions, products, text...): a node silent for one user is no gap in its logging."""
    f = f or Filters()
    if any((f.users, f.actions, f.artifact_types, f.products, f.outcomes, f.text.strip(), f.changes_only,
            f.ambiguous_only)):
        return []
    names = set(also)
    if "node" in files.columns:
        names |= set(files["node"].cast(pl.String).drop_nulls().to_list()) - {""}  # "": a file with no node
    if f.nodes:
        names &= set(f.nodes)
    return sorted(names)


def scope_span(f: Filters, files: pl.DataFrame, now: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    """The scope's (start, end) for judging silence: its time range, from no earlier than the first event of any
    file (before it there were no logs to be silent) and until no later than `now` (the logs cannot speak for the
    future); an open end is the manifest's first or last event. (None, None) when nothing is left."""
    lo = hi = None
    if files.height and "first" in files.columns:
        lo, hi = files["first"].min(), files["last"].max()
    start = f.start if f.start is not None and (lo is None or f.start > lo) else lo
    end = f.end if f.end is not None else hi
    now = now or datetime.now(UTC)
    if end is not None and end > now:
        end = now
    if start is not None and end is not None and end <= start:
        return None, None
    return start, end
