"""A period's evidence set against the period before it: did every node keep writing, and is what the store recorded
still there?

    from audit_lib.report.evidence import Period, period_comparison
    c = period_comparison(log, Period(date(2026, 11, 1), date(2026, 11, 30)), store="store/", sources=["/var/log"])
    c.flags              # sentences; empty when nothing changed for the worse
    c.per_node           # node, files/events/days covered now and before, flag
    c.to_json()          # everything, deterministic (the report quotes its SHA-256)

The manifests are the files covering each period (`compliance.covering_files`: a day of theirs falls in the
period, or events of the period come from them). The previous period is by default the same number of days right
before. Counts are compared as rates per day, so an explicit previous period of another length compares fairly:
fewer files or fewer days covered is flagged, fewer events only when they fall by `drop` (half) or more.

With a store: the chain entries that brought this period's files in (their hashes link, or the chain is broken),
and, given the folders the store was ingested from, every recorded file of either period that is now missing or
altered there (`audit_lib.store.verify`). Pass the opened `Store` (or the app's `StoreView`) the log was read
from: the chain and the files are then read at that published version, whatever was ingested since; a store
named by its folder is opened at its newest version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from audit_lib.analysis import compliance
from audit_lib.analysis.filters import FilterError, Filters, parse_when
from audit_lib.intake.entries import Source
from audit_lib.intake.loader import AuditLog
from audit_lib.store import tables as T
from audit_lib.store import view as V
from audit_lib.store.read import Store
from audit_lib.store.verify import VerifyReport, check_chain, verify
from audit_lib.store.view import StoreView

DROP = 0.5  # events of a node falling by this share (per day) or more are flagged
# the columns of a manifest (first and last: times of the file's first and last event, in the report's zone)
MANIFEST = ["source", "node", "sha256", "bytes", "lines", "events", "in_period", "first", "last", "days", "note",
            "entries"]
PER_NODE = {"node": pl.String, "files_now": pl.Int64, "files_before": pl.Int64, "events_now": pl.Int64,
            "events_before": pl.Int64, "days_now": pl.Int64, "days_before": pl.Int64, "flag": pl.String}
SOURCE_PROBLEMS = {"source": pl.String, "node": pl.String, "period": pl.String, "sha256": pl.String,
                   "detail": pl.String}
CHAIN = {"seq": pl.Int64, "time": pl.String, "hash": pl.String, "prev": pl.String, "files": pl.Int64,
         "events": pl.Int64, "kinds": pl.String}
ISO = "%Y-%m-%dT%H:%M:%S%.3f%:z"


@dataclass(frozen=True)
class Period:
    """Calendar days `first` to `last`, both included, in the report's zone."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise FilterError(f"The period ends ({self.last:%Y-%m-%d}) before it starts ({self.first:%Y-%m-%d}).")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def text(self) -> str:
        return f"{self.first:%Y-%m-%d}" if self.days == 1 else f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """Its start and its end (excluded), aware, in `tz`."""
        zone = ZoneInfo(tz)
        start = datetime(self.first.year, self.first.month, self.first.day, tzinfo=zone)
        if self.last == date.max:
            return start, datetime.max.replace(tzinfo=zone)
        after = self.last + timedelta(days=1)
        return start, datetime(after.year, after.month, after.day, tzinfo=zone)

    def before(self) -> Period | None:
        """The period of as many days right before this one (None before the first day a date can hold)."""
        try:
            return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))
        except OverflowError:
            return None

    def as_dict(self) -> dict:
        return {"first": self.first.isoformat(), "last": self.last.isoformat(), "days": self.days}


def parse_period(text: str, tz: str) -> Period:
    """"START..END" as typed on the command line (dates python-dateutil reads; END's whole day included)."""
    start, sep, end = (text or "").partition("..")
    if not sep or not start.strip() or not end.strip():
        raise FilterError(f"Cannot read {text[:60]!r} as a period: give START..END, e.g. 2026-10-01..2026-10-31")
    first = parse_when(start, tz).date()
    last = (parse_when(end, tz, end=True) - timedelta(microseconds=1)).date()
    return Period(first, last)


@dataclass
class PeriodComparison:
    """This period's manifest against the previous period's (see the module's docstring)."""

    tz: str
    period: Period
    previous: Period
    explicit: bool  # the previous period was given, not derived
    nodes: tuple[str, ...]  # the nodes compared (empty: every node)
    manifest: pl.DataFrame  # MANIFEST: the files covering this period
    previous_manifest: pl.DataFrame  # MANIFEST: those covering the previous one
    per_node: pl.DataFrame  # PER_NODE
    silent: pl.DataFrame  # MANIFEST: files of the previous period of the nodes with no file in this one
    store: str | None = None
    sources_checked: bool = False
    source_problems: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SOURCE_PROBLEMS))
    other_source_problems: int = 0  # missing or altered files of neither period
    store_problems: list[dict] = field(default_factory=list)  # verify's problems of the chain and the data
    chain: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CHAIN))  # entries of this period
    head: dict | None = None  # the store's last entry: seq, hash
    chain_intact: bool | None = None  # the hashes of every entry link (None: no store)
    flags: list[str] = field(default_factory=list)
    recorded_from: date | None = None  # the first day any file of the nodes compared covers

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def before_records(self) -> bool:
        """The previous period ends before anything was recorded: there is nothing to compare with."""
        return self.recorded_from is not None and self.previous.last < self.recorded_from

    def verdict(self) -> str:
        """One sentence: the flags' count, or why there is none."""
        if self.flags:
            return f"{len(self.flags)} flag{'s' if len(self.flags) != 1 else ''}"
        if self.before_records:
            return (f"nothing to compare with: the records begin on {self.recorded_from:%Y-%m-%d}, after the "
                    "previous period")
        return "no flag"

    def as_dict(self) -> dict:
        return {
            "tz": self.tz, "period": self.period.as_dict(),
            "previous": {**self.previous.as_dict(), "explicit": self.explicit}, "nodes": list(self.nodes),
            "flags": self.flags, "recorded_from": None if self.recorded_from is None else str(self.recorded_from),
            "previous_before_records": self.before_records,
            "per_node": self.per_node.to_dicts(), "silent": _records(self.silent),
            "manifest": _records(self.manifest), "previous_manifest": _records(self.previous_manifest),
            "store": None if self.store is None else {
                "uri": self.store, "head": self.head, "chain_intact": self.chain_intact,
                "chain": self.chain.to_dicts(), "sources_checked": self.sources_checked,
                "source_problems": self.source_problems.to_dicts(), "other_source_problems": self.other_source_problems,
                "problems": self.store_problems},
        }

    def to_json(self) -> bytes:
        """One JSON object, the same bytes for the same log and store."""
        return (json.dumps(self.as_dict(), ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def period_comparison(log: AuditLog, period: Period, previous: Period | None = None, *,
                      nodes: tuple[str, ...] | list[str] | None = None, store: Any = None,
                      sources: Source | None = None, storage_options: dict[str, str] | None = None,
                      drop: float = DROP, roots: list | None = None) -> PeriodComparison:
    """Compare the files covering `period` with those covering `previous` (default: `period.before()`), for
    `nodes` (default every node). `store` is the event store `log` was read from: the opened
    `audit_lib.store.Store` (read at the version it was opened at, the one the log holds), the app's
    `audit_lib.store.view.StoreView` (the same, and the events of both periods are read from it by a scan of
    three columns, so `log` may hold only a scope's events, as `StoreView.scoped_log` gives), or a folder, URL
    or `audit_lib.store.Location` (opened now). The chain entries of this period's files are listed, and with
    `sources` (the folders it was ingested from) the recorded files of both periods are checked there by
    `audit_lib.store.verify` (`roots` as for `verify`); a StoreError when an ingest landed since the version
    read, as verify reads the newest."""
    if sources is not None and store is None:
        raise ValueError("sources are checked against what a store recorded: give the store too")
    prev = previous or period.before()
    if prev is None:
        raise FilterError(f"No period comes before {period.text()}: give the one to compare with")
    keep = tuple(dict.fromkeys(nodes or ()))
    opened, view = _opened(store, storage_options) if store is not None else (None, None)
    if view is not None:  # the app's view of a store: the periods' events read from it
        log = _periods_log(view, (period, prev), keep)
    now, now_n = _period_files(log, period, keep)
    before, before_n = _period_files(log, prev, keep)
    names = sorted(set(now_n) | set(before_n) | set(keep))
    zero = {"files": 0, "events": 0, "days": 0}
    per_node = pl.DataFrame(
        [{"node": n, **{f"{k}_now": v for k, v in now_n.get(n, zero).items()},
          **{f"{k}_before": v for k, v in before_n.get(n, zero).items()}, "flag": ""} for n in names], schema=PER_NODE)
    per_node = per_node.with_columns(flag=_flag_expr(period.days, prev.days, drop))
    out = PeriodComparison(log.tz, period, prev, previous is not None, keep, now, before, per_node, before.clear())
    if opened is not None:
        _with_store(out, opened, sources, roots)
    quiet = per_node.filter((pl.col("files_now") == 0) & (pl.col("files_before") > 0))["node"]
    out.silent = out.previous_manifest.filter(pl.col("node").is_in(quiet.implode()))
    out.flags = _flags(out)
    firsts = (log.files.filter(pl.col("node").is_in(list(keep))) if keep else log.files)["first"].drop_nulls()
    out.recorded_from = firsts.min().astimezone(ZoneInfo(log.tz)).date() if firsts.len() else None
    return out


def _period_files(log: AuditLog, period: Period, nodes: tuple[str, ...]) -> tuple[pl.DataFrame, dict[str, dict]]:
    """The manifest of the files covering `period`, and per node: its files (not copies, with a day or an event
    in the period), events of the period, days of it a file covers."""
    start, end = period.bounds(log.tz)
    ev = log.events.filter(pl.col("timestamp") >= start, pl.col("timestamp") < end)
    files = log.files
    if nodes:
        ev = ev.filter(pl.col("node").cast(pl.String).is_in(list(nodes)))
        files = files.filter(pl.col("node").is_in(list(nodes)))
    days = (period.first, period.last)
    cov = compliance.covering_files(files, ev, days, log.tz)
    man = compliance.manifest(cov).join(cov.select("source", "in_scope", "scope_days"), on="source", how="left")
    man = man.select("source", "node", "sha256", "bytes", "lines", "events", "in_scope", "first", "last",
                     "scope_days", "note", entries=pl.lit(None, pl.String)).rename(
        {"in_scope": "in_period", "scope_days": "days"}).sort("node", "source")
    own = cov.filter(pl.col("duplicate_of").is_null() & ((pl.col("in_scope") > 0) | (pl.col("scope_days") != "none")))
    counts = (own.group_by(pl.col("node").cast(pl.String)).agg(files=pl.len())
              .join(ev.group_by(pl.col("node").cast(pl.String)).agg(events=pl.len()), on="node", how="full",
                    coalesce=True)
              .join(compliance.node_coverage(cov, days, log.tz).select("node", days="covered"), on="node", how="full",
                    coalesce=True)
              .with_columns(pl.col("files", "events", "days").fill_null(0).cast(pl.Int64)))
    return man, {r.pop("node"): r for r in counts.iter_rows(named=True) if r["node"] is not None}


def _flag_expr(days_now: int, days_before: int, drop: float) -> pl.Expr:
    """What fell per node, as rates per day of each period: files, days covered, events (by `drop` or more)."""
    def fewer(now: str, before: str, share: float = 1.0) -> pl.Expr:  # now / days_now < share * before / days_before
        return pl.col(now) * days_before < pl.col(before) * days_now * share

    silent = (pl.col("files_now") == 0) & (pl.col("files_before") > 0)
    parts = [
        pl.when(fewer("files_now", "files_before")).then(pl.format("files {} → {}", "files_before", "files_now")),
        pl.when(fewer("days_now", "days_before")).then(pl.format("days covered {} → {}", "days_before", "days_now")),
        pl.when(fewer("events_now", "events_before", 1 - drop)).then(
            pl.format("events {} → {}", "events_before", "events_now")),
    ]
    drops = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return pl.when(silent).then(pl.lit("silent: no file in this period")).otherwise(drops.fill_null("")).alias(
        "flag")


def _flags(c: PeriodComparison) -> list[str]:
    out = []
    for node, flag in c.per_node.filter(pl.col("flag") != "").select("node", "flag").iter_rows():
        out.append(f"node {node}: {flag}")
    if c.source_problems.height:
        out.append(f"{c.source_problems.height} recorded file(s) of these periods missing or altered at the source")
    if c.other_source_problems:
        out.append(f"{c.other_source_problems} recorded file(s) of other periods missing or altered at the source")
    if c.store_problems:
        out.append(f"the store's chain or data: {len(c.store_problems)} problem(s)")
    elif c.chain_intact is False:
        out.append("the store's manifest chain is broken")
    return out


# ---------------------------------------------------------------------------------------------------- store


def _opened(store: Any, storage_options: dict[str, str] | None) -> tuple[Any, Any]:
    """The `Store` to read (an opened one as it is, a view's, or the store named, opened now) and the
    `StoreView` when `store` is one."""
    if isinstance(store, StoreView):
        return store.store, store
    return (store if isinstance(store, Store) else Store(store, storage_options)), None


def _periods_log(view: Any, periods: tuple[Period, ...], nodes: tuple[str, ...]) -> AuditLog:
    """The view's manifest with the events of `periods` (timestamp, node, source: what the comparison counts),
    read by scans of its published version (overlapping periods as one); ScopeTooLarge past the view's limit,
    as for a page's scope."""
    spans: list[list[date]] = []
    for p in sorted(periods, key=lambda p: p.first):
        if spans and p.first <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], p.last)
        else:
            spans.append([p.first, p.last])
    scopes = []
    for first, last in spans:
        start, end = Period(first, last).bounds(view.tz)
        scopes.append(Filters(start=start, end=None if last == date.max else end, nodes=nodes))
    total = sum(view.count(scope) for scope in scopes)
    if total > V.SCOPE_LIMIT:
        raise V.ScopeTooLarge(f"The comparison with the previous period reads the events of both periods, "
                              f"{total:,} events of the store, more than the {V.SCOPE_LIMIT:,} read at once: narrow "
                              "the time range, pick nodes, or build the report without the comparison.")
    with T.reading(view.store.loc):
        frames = [view.scan(scope).select("timestamp", "node", "source").collect(engine="streaming")
                  for scope in scopes]
    return AuditLog(pl.concat(frames), view.log.rejects, view.log.files, view.tz, view.log.skipped)


def _with_store(c: PeriodComparison, st: Any, sources: Source | None, roots: list | None) -> None:
    """The chain entries and (with `sources`) the source checks, read at the version `st` was opened at."""
    c.store = st.loc.uri
    c.head = {"seq": st.head.seq, "hash": st.head.hash}
    with T.reading(st.loc):
        # the chain as it stood when the store was opened: an entry committed since is not this version's
        rows = T.read(st.loc, T.CHAIN, st.head.chain_version).sort("seq").filter(pl.col("seq") <= st.head.seq)
        files = st.file_rows()
    report = VerifyReport(st.loc.uri)
    check_chain(rows, report, None)  # the hashes of the entries, each against its text and the one before
    c.chain_intact = report.ok
    renamed = st.names()
    c.manifest, c.chain = _entries(c.manifest, files, rows, renamed)
    c.previous_manifest, _ = _entries(c.previous_manifest, files, rows, renamed)
    if sources is None:
        c.store_problems = report.problems
        return
    full = verify(st.loc, sources, roots=roots)  # verify reads the newest version: it must be the one read
    if "chain entries" in full.checked and (full.entries, full.head) != (st.head.seq, st.head.hash):
        raise T.StoreError(f"The store at {st.loc.uri} changed while the report was built: its events were read at "
                         f"entry {st.head.seq}, and it now stands at entry {full.entries} (an ingest landed). "
                         "Build the report again.")
    c.sources_checked = True
    c.store_problems = [p for p in full.problems if p["check"] != "sources"]
    c.chain_intact = c.chain_intact and not any(p["check"] == "chain" for p in c.store_problems)
    found = pl.DataFrame([(p["what"], p["detail"]) for p in full.problems if p["check"] == "sources"],
                         schema={"label": pl.String, "detail": pl.String}, orient="row")
    label = pl.format("{} ({})", "source", "node").alias("label")
    both = pl.concat([c.manifest.select("source", "node", "sha256", label, period=pl.lit("this")),
                      c.previous_manifest.select("source", "node", "sha256", label, period=pl.lit("previous"))])
    both = both.group_by("source", "node", "sha256", "label").agg(pl.col("period").sort().str.join(" and "))
    c.source_problems = both.join(found, on="label").select(list(SOURCE_PROBLEMS)).sort("node", "source")
    c.other_source_problems = found.filter(~pl.col("label").is_in(both["label"].implode())).height


def _entries(manifest: pl.DataFrame, files: pl.DataFrame, chain: pl.DataFrame,
             renamed: dict[str, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The manifest with the chain entries that brought each file in (`entries`: "1, 3"), and those entries:
    seq, time, hash, prev, files (of the manifest) and events they added for them, kinds of observation."""
    stream = pl.col("stream")
    shown = stream.replace(list(renamed), list(renamed.values())) if renamed else stream
    rows = files.filter(pl.col("kind") != "skipped").select(
        "seq", "kind", "events", source=pl.coalesce(shown, pl.col("source")), node=pl.col("node"))
    hit = rows.join(manifest.select("source", "node"), on=["source", "node"])
    per_file = _runs(hit.select("source", "node", "seq").unique())
    manifest = manifest.drop("entries").join(per_file, on=["source", "node"], how="left").select(MANIFEST)
    kinds = hit.group_by("seq", "kind").agg(n=pl.len()).sort("seq", "kind").group_by("seq", maintain_order=True).agg(
        kinds=pl.format("{} {}", "kind", "n").str.join(", "))
    per_entry = hit.group_by("seq").agg(files=pl.struct("source", "node").n_unique().cast(pl.Int64),
                                        events=pl.col("events").sum().cast(pl.Int64))
    out = (per_entry.join(kinds, on="seq").join(chain.select("seq", "time", "hash", "prev"), on="seq", how="left")
           .select(list(CHAIN)).sort("seq"))
    return manifest.sort("node", "source"), out


def _runs(seqs: pl.DataFrame) -> pl.DataFrame:
    """source, node, entries: each file's entry numbers as runs, "1-4, 7" (a file grown by daily ingests)."""
    runs = (seqs.sort("source", "node", "seq")
            .with_columns(run=((pl.col("seq") - pl.col("seq").shift(1)).ne_missing(1)
                               | (pl.col("source") != pl.col("source").shift(1)).fill_null(True)
                               | (pl.col("node") != pl.col("node").shift(1)).fill_null(True)).cum_sum())
            .group_by("source", "node", "run").agg(lo=pl.col("seq").min(), hi=pl.col("seq").max())
            .with_columns(text=pl.when(pl.col("lo") == pl.col("hi")).then(pl.col("lo").cast(pl.String))
                          .otherwise(pl.format("{}-{}", "lo", "hi"))))
    return runs.sort("source", "node", "run").group_by("source", "node", maintain_order=True).agg(
        entries=pl.col("text").str.join(", "))


def _records(df: pl.DataFrame) -> list[dict]:
    """Rows as dicts, times as ISO 8601 text with their offset."""
    return df.with_columns(pl.col(c).dt.to_string(ISO) for c, t in df.schema.items()
                           if isinstance(t, pl.Datetime)).to_dicts()


def scope_comparison(log: AuditLog, days: tuple[date, date] | None, nodes: tuple[str, ...] | list[str] | None = None,
                     previous: Period | None = None, **store: Any) -> PeriodComparison | None:
    """`period_comparison` of a report's scope days (`compliance.scope_days`) and nodes; `store` takes its
    store, sources and storage_options. None when the scope has no day (no time range and no event) or no
    period can come before it."""
    if days is None or (previous is None and Period(*days).before() is None):
        return None
    return period_comparison(log, Period(*days), previous, nodes=nodes, **store)
