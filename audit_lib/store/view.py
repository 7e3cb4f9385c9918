"""An event store opened for browsing (the app's "Event store" source), without holding its events.

- The whole store's figures (key figures, people, counts, the hourly series) come from the rollup tables: a
  few rows per node, month and hour, user or artifact, whatever the number of events.
- A filtered scope is a scan of the events table: the time range and nodes prune partitions, the other filters
  are pushed down as predicates, and each figure reads only the columns it uses, grouped while streaming.
- The events of a scope are collected only for the pages that need each one (findings, artifacts, explorer,
  reports), and only up to `SCOPE_LIMIT` events: a larger scope is refused with a message asking to narrow it.

The results have the shapes of `audit_lib.analysis.metrics`, so the pages draw them with the same code.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import polars as pl

from audit_lib.analysis import metrics
from audit_lib.analysis.filters import NOT_RECORDED, Filters, apply_filters
from audit_lib.errors import SourceError
from audit_lib.events.vocabulary import change_expr
from audit_lib.intake.loader import CATEGORICAL, AuditLog
from audit_lib.store import aggregates as agg
from audit_lib.store import tables as T
from audit_lib.store.read import Store

SCOPE_LIMIT = 5_000_000  # events of a scope collected for a page that needs every one of them


PERSON_COLUMNS = ["timestamp", "user", "actor", "product", "action", "artifact_type", "artifact", "outcome", "node",
                  "details", "source", "line"]


class ScopeTooLarge(SourceError):
    """A page needs every event of a scope larger than SCOPE_LIMIT."""


class StoreLog(AuditLog):
    """The `AuditLog` of a store as the app holds it: the manifest, the rejects and the files left alone at hand;
    `events` (every event of the store) read only if something asks for them, and only up to SCOPE_LIMIT.
    `view` is the `StoreView` it belongs to."""

    def __init__(self, view: StoreView) -> None:
        self.view = view
        self._events: pl.DataFrame | None = None
        store = view.store
        with T.reading(store.loc):
            files, rejects, skipped = store.files(), store.rejects(), store.skipped()
        super().__init__(None, rejects, files, store.tz, skipped)  # type: ignore[arg-type]

    @property  # type: ignore[override]
    def events(self) -> pl.DataFrame:
        if self._events is None:
            self._events = self.view.events(Filters())
        return self._events

    @events.setter
    def events(self, value: pl.DataFrame | None) -> None:
        self._events = value


def _collect(lf: pl.LazyFrame, store: Store) -> pl.DataFrame:
    with T.reading(store.loc):
        return lf.collect(engine="streaming").sort(["timestamp", "source", "line"], maintain_order=True)


def _categorical(ev: pl.DataFrame) -> pl.DataFrame:
    """The loader's column types (categoricals), so the metrics and findings run on the frame as on `load`'s."""
    return ev.with_columns([pl.col(c).cast(pl.Categorical) for c in CATEGORICAL if c in ev.columns])


class StoreView:
    """A store at its published version, with the figures the app's pages show, for a whole store or a scope."""

    def __init__(self, store: str | os.PathLike | T.Location, storage_options: dict[str, str] | None = None) -> None:
        self.store = Store(store, storage_options)
        self.tz = self.store.tz
        self.key = f"{self.store.loc.uri}|{self.store.head.hash}"
        self.total = int(self._hours(pl.col("events").sum()).item() or 0)
        self._options: dict[str, list[str]] | None = None
        self.log = StoreLog(self)

    def _hours(self, *exprs: pl.Expr, by: list[pl.Expr] | None = None) -> pl.DataFrame:
        """A query of the hourly rollup: `exprs` selected, or aggregated per `by` (only those columns read)."""
        lf = self.store.rollup(T.BY_HOUR)
        lf = lf.group_by(by).agg(*exprs) if by else lf.select(*exprs)
        with T.reading(self.store.loc):
            return lf.collect(engine="streaming")

    def scan(self, filters: Filters) -> pl.LazyFrame:
        """The events of the scope, lazily: partitions outside its time range and nodes are not opened."""
        lf = self.store.scan(start=filters.start, end=filters.end, nodes=list(filters.nodes) or None)
        if filters.users:  # by the stored names: no actor is derived for the events left out
            lf = lf.filter(self.store.person_filter(list(filters.users)))
            filters = replace(filters, users=())
        changes = getattr(filters, "changes_only", False)
        if changes:  # which actions change something is decided on the store's distinct actions
            filters = replace(filters, changes_only=False)
            lf = lf.filter(change_expr(pl.DataFrame({"action": self.options()["action"]})).fill_null(False))
        with warnings.catch_warnings():  # apply_filters reads the frame's schema: known here without reading data
            warnings.simplefilter("ignore", pl.exceptions.PerformanceWarning)
            return apply_filters(lf, filters)

    def _source(self, filters: Filters) -> Store | pl.LazyFrame:
        return self.store if filters.is_empty() else self.scan(filters)

    def _run(self, fn: Any, *args: Any) -> Any:
        with T.reading(self.store.loc):
            return fn(*args)

    def count(self, filters: Filters) -> int:
        if filters.is_empty():
            return self.total
        return int(self._run(lambda: self.scan(filters).select(pl.len()).collect(engine="streaming").item()))

    def key_figures(self, filters: Filters) -> dict[str, Any]:
        return self._run(agg.key_figures, self._source(filters))

    def per_user(self, filters: Filters) -> pl.DataFrame:
        return self._run(agg.per_user, self._source(filters), self.store.names_table())

    def top_values(self, filters: Filters, column: str, n: int = 10) -> pl.DataFrame:
        """`metrics.top_values` of the scope: value, events, share (people by actor, as `metrics.who` names them)."""
        if column == "user":
            top = self.per_user(filters).select(pl.col("user").alias("value"), "events").head(n)
        else:
            top = self._run(agg.counts_by, self._source(filters), column, n).rename({column: "value"})
        total = self.count(filters)
        return top.with_columns(pl.col("events").cast(pl.UInt32), share=pl.col("events") / max(total, 1))

    def hourly(self, filters: Filters, keys: tuple[str, ...] = ()) -> pl.DataFrame:
        """Events per hour and `keys` (columns of the hourly rollup: action, artifact_type, outcome, node,
        product): `timestamp` (the hour's start in the store's zone) and `events`. Feed it to
        `metrics.over_time(..., weight="events")` and `metrics.bucket_every`."""
        zone = pl.Datetime("ms", self.tz)
        if filters.is_empty():
            lf = self.store.rollup(T.BY_HOUR)
            hour = pl.col("first").dt.convert_time_zone(self.tz).dt.cast_time_unit("ms").dt.truncate("1h")
            count = pl.col("events").sum()
        else:
            lf, hour, count = self.scan(filters), pl.col("timestamp").dt.truncate("1h"), pl.len()
        return self._counts(lf, hour, count, keys, zone)

    def person_hourly(self, filters: Filters, who: str) -> pl.DataFrame:
        """`hourly` of one person (an actor as `metrics.who` names them) by action, from a scan of the scope."""
        hour = pl.col("timestamp").dt.truncate("1h")
        return self._counts(self.person(filters, who), hour, pl.len(), ("action",), pl.Datetime("ms", self.tz))

    def _counts(self, lf: pl.LazyFrame, hour: pl.Expr, count: pl.Expr, keys: tuple[str, ...],
                zone: pl.DataType) -> pl.DataFrame:
        out = self._run(lambda: lf.group_by(hour.alias("timestamp"), *[pl.col(k).cast(pl.String) for k in keys])
                        .agg(events=count.cast(pl.Int64)).collect(engine="streaming"))
        return out.with_columns(pl.col("timestamp").cast(zone)).sort("timestamp", *keys)

    def person(self, filters: Filters, who: str) -> pl.LazyFrame:
        """The scope's events of one person, lazily: picked by the (user, product) pairs the person stands for,
        a predicate on stored columns that the reader applies before it reads the other columns."""
        return self.scan(filters).filter(self.store.person_filter([who], written=False))

    def person_latest(self, filters: Filters, who: str, n: int) -> pl.DataFrame:
        """The last `n` events of one person in the scope, in time order, with the columns the Users page shows:
        the time of the n-th last is found from the timestamps alone, then only the rows from it on are read
        (a scan starting there: the reader skips what lies before)."""
        times = self.person(filters, who).select(pl.col("timestamp").top_k(n).min())
        cut = self._run(lambda: times.collect(engine="streaming").item())
        if cut is None:
            return _categorical(self.person(filters, who).select(PERSON_COLUMNS).head(0).collect())
        narrowed = replace(filters, start=max(filters.start, cut) if filters.start else cut)
        rows = self._run(lambda: self.person(narrowed, who).select(PERSON_COLUMNS).collect(engine="streaming"))
        return _categorical(rows.sort(["timestamp", "source", "line"]).tail(n))

    def events(self, filters: Filters, limit: int | None = None, count: int | None = None) -> pl.DataFrame:
        """Every event of the scope, as `apply_filters(load(...).events, filters)` gives them; ScopeTooLarge when
        there are more than `limit` (default SCOPE_LIMIT; `count`: the scope's `count`, when known)."""
        limit = SCOPE_LIMIT if limit is None else limit
        n = self.count(filters) if count is None else count
        if n > limit:
            raise ScopeTooLarge(f"This scope holds {n:,} events of the store, more than the {limit:,} this page "
                                "reads at once: narrow the time range or pick nodes or users in the sidebar.")
        return _categorical(_collect(self.scan(filters), self.store))

    def scoped_log(self, events: pl.DataFrame) -> AuditLog:
        """An `AuditLog` of the store's manifest with the events of a scope: what a report of the scope reads."""
        log = self.log
        return AuditLog(events, log.rejects, log.files, self.tz, log.skipped)

    # ------------------------------------------------------------------------------------------- sidebar, quality

    def options(self) -> dict[str, list[str]]:
        """The values the filters offer: people (actors), actions, artifact types, nodes and outcomes."""
        if self._options is None:
            out = {"actor": sorted(self.store.names_table()["actor"].drop_nulls().unique().to_list())}
            for column in ("action", "artifact_type", "node", "outcome"):
                values = self._hours(pl.col(column).unique()).to_series()
                out[column] = sorted(values.drop_nulls().to_list())
                if column == "outcome" and values.null_count():
                    out[column].append(NOT_RECORDED)
            self._options = out
        return self._options

    def bounds(self) -> tuple[datetime, datetime] | None:
        """The first and last event's times in the store's zone."""
        row = self._hours(pl.col("first").min(), pl.col("last").max())
        if not self.total:
            return None
        row = row.with_columns(pl.all().dt.convert_time_zone(self.tz).dt.cast_time_unit("ms"))
        return row["first"].item(), row["last"].item()

    def ambiguous(self) -> int:
        """Events in an hour a clock change repeats (time_ambiguous)."""
        lf = self.store.raw(T.EVENTS).select(pl.col("time_ambiguous").sum())
        return int(self._run(lambda: lf.collect(engine="streaming").item()) or 0)

    def coverage(self, work_days: tuple[int, ...] = (1, 2, 3, 4, 5), holidays: tuple[date, ...] = ()) -> pl.DataFrame:
        """`metrics.coverage_gaps` of the whole store, from the files table and the hourly rollup (days in the
        store's zone)."""
        day = pl.col("first").dt.convert_time_zone(self.tz).dt.date().alias("day")
        days = self._hours(pl.col("events").sum().cast(pl.Int64), by=[pl.col("node"), day])
        # one stand-in event per node and day with events: the statuses depend on whether a day has any
        noon = days.select("node", timestamp=pl.col("day").cast(pl.Datetime("ms")).dt.offset_by("12h")
                           .dt.replace_time_zone(self.tz, ambiguous="earliest", non_existent="null"))
        cov = metrics.coverage_gaps(noon, self.log.files, self.tz, work_days=work_days, holidays=holidays)
        return cov.drop("events").join(days, on=["node", "day"], how="left").with_columns(
            pl.col("events").fill_null(0)).select(cov.columns)
