"""Aggregations behind every figure, table and chart of the app and the reports.

All functions take the canonical tables (`AuditLog.events`, `.files`, `.rejects`, see `audit_lib.events.schema`)
and return small frames or dicts: their size depends on the number of users, artifacts or time buckets,
never on the number of events. Large frames are grouped first; labels are attached to the small result.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from audit_lib.events.vocabulary import (  # noqa: F401  (re-exported: the kinds are figures' labels)
    KINDS,
    NOT_RECORDED,
    STATE_OF_KIND,
    UNKNOWN,
    action_kind,
    who,
)
from audit_lib.events.zones import extreme, zone_clues  # noqa: F401  (zone_clues: a figure of the Data quality page)

EVERY = {"hour": "1h", "day": "1d", "week": "1w"}
# bucket widths from fine to coarse: a chart that would get too many buckets takes the next one
COARSER = ["1h", "1d", "1w", "1mo", "1q", "1y", "10y", "100y", "1000y"]
EVERY_NAME = {"1h": "hour", "1d": "day", "1w": "week", "1mo": "month", "1q": "quarter", "1y": "year", "10y": "decade",
              "100y": "century", "1000y": "millennium"}
_SECONDS = {"1h": 3600, "1d": 86400, "1w": 604800, "1mo": 2419200, "1q": 7776000, "1y": 31536000,
            "10y": 315360000, "100y": 3153600000, "1000y": 31536000000}  # shortest length of each width
MAX_BUCKETS = 2500  # time buckets of a stacked chart: with "(other)" it stays within 5,000 rows
# a node whose first and last day lie further apart (misdated lines: year 1, year 9999) has only the days
# with a file or events listed in its coverage, not every day in between
MAX_COVERAGE_DAYS = 36_600
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
WORK_HOURS = (8, 18)  # [start, end) of the working day, local time; weekends are off-hours
OTHER = "(other)"


def _kinds_of(events: pl.DataFrame) -> pl.DataFrame:
    """action -> kind for the distinct actions of `events` (a handful of rows, whatever the input)."""
    actions = events.select(pl.col("action").cast(pl.String).unique().drop_nulls())
    return actions.with_columns(kind=action_kind(pl.col("action")))


def with_kind(events: pl.DataFrame) -> pl.DataFrame:
    """`events` plus a `kind` column, joined from the distinct actions (cheap on large frames)."""
    kinds = _kinds_of(events).with_columns(pl.col("action").cast(events.schema["action"]))
    return events.join(kinds, on="action", how="left", maintain_order="left")


# ---------------------------------------------------------------- key figures


def key_figures(events: pl.DataFrame, files: pl.DataFrame | None = None,
                rejects: pl.DataFrame | None = None) -> dict[str, Any]:
    """The headline numbers of a scope: events, distinct users / artifact types / artifacts / nodes,
    first and last event and the span between them, sign-ins, failed sign-ins, failures (outcome),
    off-hours events, and from the manifest the files read and lines rejected."""
    n = events.height
    row = events.select(
        users=pl.col("user").drop_nulls().n_unique(),
        artifact_types=pl.col("artifact_type").drop_nulls().n_unique(),
        artifacts=pl.struct("artifact_type", "artifact").drop_nulls().n_unique(),
        nodes=pl.col("node").drop_nulls().n_unique(),
        failures=(pl.col("outcome").cast(pl.String) == "failure").sum(),
        off_hours=_off_hours(pl.col("timestamp")).sum(),
    ).row(0, named=True) if n else {"users": 0, "artifact_types": 0, "artifacts": 0, "nodes": 0, "failures": 0,
                                    "off_hours": 0}
    row["first"], row["last"] = (extreme(events["timestamp"], "min"), extreme(events["timestamp"], "max")) if n \
        else (None, None)
    by_kind = dict(events.group_by("action").len().pipe(lambda d: d.with_columns(kind=action_kind(
        pl.col("action")))).group_by("kind").agg(pl.col("len").sum()).iter_rows()) if n else {}
    out: dict[str, Any] = {"events": n, **row}
    out["span"] = (row["last"] - row["first"]) if n else None
    out["sign_ins"] = int(by_kind.get("sign-in", 0))
    out["failed_sign_ins"] = int(by_kind.get("failed sign-in", 0))
    if files is not None:
        out["files"] = files.height
        out["lines"] = int(files["lines"].sum() or 0)
        out["file_errors"] = int(files["error"].is_not_null().sum())
        out["duplicates"] = int(files["duplicate_of"].is_not_null().sum())
    if rejects is not None:
        out["rejects"] = rejects.height
    return out


def _off_hours(ts: pl.Expr) -> pl.Expr:
    hour = ts.dt.hour()
    return (ts.dt.weekday() >= 6) | (hour < WORK_HOURS[0]) | (hour >= WORK_HOURS[1])


def format_span(span: timedelta | None) -> str:
    """A time span as a short text: "25 d 9 h", "3 h 12 min", "-" when there is none."""
    if span is None:
        return "-"
    secs = int(span.total_seconds())
    d, rest = divmod(secs, 86400)
    h, rest = divmod(rest, 3600)
    m = rest // 60
    if d:
        return f"{d} d {h} h"
    return f"{h} h {m} min" if h else f"{m} min"


def parse_quality(files: pl.DataFrame, rejects: pl.DataFrame) -> dict[str, Any]:
    """How the lines of the files were used: events, attached continuation lines, blank, rejected, and lines
    of duplicate files (not counted twice); `complete` is True when these add up to all lines read."""
    dup = files.filter(pl.col("duplicate_of").is_not_null())
    own = files.filter(pl.col("duplicate_of").is_null())
    lines = int(files["lines"].sum() or 0)
    parts = {k: int(own[k].sum() or 0) for k in ["events", "attached", "blank", "rejects"]}
    dup_lines = int(dup["lines"].sum() or 0)
    parsed = parts["events"] + parts["attached"] + parts["blank"]
    considered = lines - dup_lines
    return {
        "files": files.height, "duplicates": dup.height, "errors": int(files["error"].is_not_null().sum()),
        "lines": lines, **parts, "duplicate_lines": dup_lines, "rejected_rows": rejects.height,
        "complete": parsed + parts["rejects"] + dup_lines == lines,
        "parsed_share": (parsed / considered) if considered else 1.0,
        "reasons": rejects.group_by("reason").len("lines").sort("lines", "reason", descending=[True, False]),
    }


# ---------------------------------------------------------------- counts by field


def _text(df: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """`columns` as plain text: groups are formed on the categorical codes (cheap on millions of rows)
    and only the small result is turned into text."""
    return df.with_columns(pl.col(c).cast(pl.String) for c in columns)


def top_values(events: pl.DataFrame, column: str, n: int = 10) -> pl.DataFrame:
    """The `n` most frequent values of `column` with their event counts (`value`, `events`, `share`)."""
    total = events.height
    value = who(events) if column == "user" else pl.col(column)
    return (events.group_by(value.alias("value")).len("events").pipe(_text, "value")
            .sort(["events", "value"], descending=[True, False]).head(n)
            .with_columns(share=pl.col("events") / max(total, 1)))


def _kind_columns(grouped: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """From counts per (keys, action), one row per keys with a column per kind of action (zeros included)."""
    with_k = grouped.with_columns(kind=action_kind(pl.col("action")))
    wide = with_k.group_by([*keys, "kind"]).agg(pl.col("n").sum()).pivot(
        on="kind", index=keys, values="n", aggregate_function="sum")
    missing = [k for k in KINDS if k not in wide.columns]
    wide = wide.with_columns([pl.lit(0, pl.UInt32).alias(k) for k in missing])
    return wide.select(*keys, *[pl.col(k).fill_null(0).cast(pl.Int64) for k in KINDS])


def per_user(events: pl.DataFrame) -> pl.DataFrame:
    """One row per user: events, first/last seen, nodes, failures, and a column per kind of action
    (sign-in, create, update, delete, enable, disable, ...); most active first."""
    if events.is_empty():
        return pl.DataFrame(schema={"user": pl.String, "events": pl.Int64, "first_seen": events["timestamp"].dtype,
                                    "last_seen": events["timestamp"].dtype, "nodes": pl.String,
                                    "failures": pl.Int64, **{k: pl.Int64 for k in KINDS}})
    events = events.with_columns(who(events))
    base = events.group_by("user").agg(
        events=pl.len().cast(pl.Int64), first_seen=pl.col("timestamp").min(), last_seen=pl.col("timestamp").max(),
        nodes=pl.col("node").unique().cast(pl.String).sort().str.join(", "),
        failures=(pl.col("outcome") == "failure").sum().cast(pl.Int64)).pipe(_text, "user")
    grouped = events.group_by("user", "action").agg(n=pl.len()).pipe(_text, "user", "action")
    kinds = _kind_columns(grouped, ["user"])
    return (base.join(kinds, on="user", how="left", nulls_equal=True)
            .sort(["events", "user"], descending=[True, False]))


def user_kinds_long(users: pl.DataFrame, top: int = 15) -> pl.DataFrame:
    """`per_user` output in long form for a stacked chart: user, kind, events (top users only, no zeros)."""
    head = users.head(top)
    return (head.select("user", *KINDS).unpivot(index="user", variable_name="kind", value_name="events")
            .filter(pl.col("events") > 0)
            .with_columns(order=pl.col("user").replace_strict(head["user"].to_list(),
                                                              list(range(head.height)), default=None)))


def per_artifact_type(events: pl.DataFrame) -> pl.DataFrame:
    """One row per artifact type: events, distinct artifacts, distinct users, first/last event and a column
    per kind of action; most active first."""
    if events.is_empty():
        return pl.DataFrame(schema={"artifact_type": pl.String, "events": pl.Int64, "artifacts": pl.UInt32,
                                    "users": pl.UInt32, "first": events["timestamp"].dtype,
                                    "last": events["timestamp"].dtype, **{k: pl.Int64 for k in KINDS}})
    base = events.group_by("artifact_type").agg(
        events=pl.len().cast(pl.Int64), artifacts=pl.col("artifact").n_unique(), users=pl.col("user").n_unique(),
        first=pl.col("timestamp").min(), last=pl.col("timestamp").max()).pipe(_text, "artifact_type")
    grouped = events.group_by("artifact_type", "action").agg(n=pl.len()).pipe(_text, "artifact_type", "action")
    kinds = _kind_columns(grouped, ["artifact_type"])
    return (base.join(kinds, on="artifact_type", how="left", nulls_equal=True)
            .sort(["events", "artifact_type"], descending=[True, False]))


def per_artifact(events: pl.DataFrame, artifact_type: str | None = None) -> pl.DataFrame:
    """One row per (artifact_type, artifact): events, users, first/last event, the last action with its
    user, and the last known state (see `artifact_state`); most active first."""
    if artifact_type is not None:
        events = events.filter(pl.col("artifact_type").cast(pl.String) == artifact_type)
    base = events.group_by("artifact_type", "artifact").agg(
        events=pl.len().cast(pl.Int64), users=pl.col("user").n_unique().cast(pl.Int64),
        first=pl.col("timestamp").min(), last=pl.col("timestamp").max(),
        last_action=pl.col("action").last(), last_user=pl.col("user").last(),
    ).pipe(_text, "artifact_type", "last_action", "last_user")
    state = artifact_state(events).select("artifact_type", "artifact", "state", "state_since",
                                          pl.col("nodes").alias("state_by_node"))
    return (base.join(state, on=["artifact_type", "artifact"], how="left", nulls_equal=True)
            .sort(["events", "artifact_type", "artifact"], descending=[True, False, False]))


# ---------------------------------------------------------------- artifacts: history and state


def artifact_history(events: pl.DataFrame, artifact_type: str, artifact: str) -> pl.DataFrame:
    """Every event of one artifact, oldest first, with the kind of each action and the state it left."""
    hist = events.filter((pl.col("artifact_type").cast(pl.String) == artifact_type)
                         & (pl.col("artifact") == artifact))
    hist = with_kind(hist).with_columns(
        state=pl.when(pl.col("outcome").cast(pl.String).ne_missing("failure"))  # no outcome: not a failure
        .then(pl.col("kind").replace_strict(STATE_OF_KIND, default=None)))
    return hist.select("timestamp", pl.col("user").cast(pl.String), pl.col("action").cast(pl.String), "kind",
                       pl.col("outcome").cast(pl.String), "state", pl.col("node").cast(pl.String), "details",
                       pl.col("source").cast(pl.String), "line")


def artifact_state_by_node(events: pl.DataFrame) -> pl.DataFrame:
    """The last known state of each artifact on each node (management-API changes are made node by node):
    artifact_type, artifact, node, state, state_since, state_by, state_action. Only state-setting actions
    (create, enable, disable, delete, deploy, undeploy) that did not fail count; later updates do not."""
    kinds = _kinds_of(events).with_columns(state=pl.col("kind").replace_strict(STATE_OF_KIND, default=None))
    setting = kinds.filter(pl.col("state").is_not_null())
    ev = events.filter(pl.col("action").is_in(setting["action"].implode())
                       & (pl.col("outcome").fill_null("success") != "failure"))
    last = (ev.group_by("artifact_type", "artifact", "node")
            .agg(state_action=pl.col("action").last(), state_since=pl.col("timestamp").last(),
                 state_by=who(ev).last())
            .pipe(_text, "artifact_type", "node", "state_action", "state_by"))
    last = last.join(setting.select(pl.col("action").alias("state_action"), "state"), on="state_action",
                     how="left")
    return last.select("artifact_type", "artifact", "node", "state", "state_since", "state_by",
                       "state_action").sort("artifact_type", "artifact", "node")


def artifact_state_of(events: pl.DataFrame, artifact_type: str, artifact: str) -> pl.DataFrame:
    """`artifact_state_by_node` of one artifact: node, state, state_since, state_by, state_action."""
    one = events.filter((pl.col("artifact_type").cast(pl.String) == artifact_type)
                        & (pl.col("artifact").cast(pl.String) == artifact))
    return artifact_state_by_node(one).drop("artifact_type", "artifact")


def artifact_state(events: pl.DataFrame) -> pl.DataFrame:
    """The last known state of each artifact across the nodes where it was set: the state when they agree,
    "mixed" when they do not; `nodes` says which node is in which state ("disabled: mi-2, mi-3; enabled:
    mi-1"). state_since, state_by and state_action are of the latest change on any node."""
    per_node = artifact_state_by_node(events)
    keys = ["artifact_type", "artifact"]
    listing = (per_node.group_by(*keys, "state").agg(pl.col("node").sort().str.join(", "))
               .sort(*keys, "state").group_by(*keys, maintain_order=True)
               .agg(nodes=pl.format("{}: {}", "state", "node").str.join("; ")))
    latest = per_node.sort("state_since").group_by(*keys).agg(
        pl.col("state_since", "state_by", "state_action").last(), states=pl.col("state").n_unique(),
        first_state=pl.col("state").first())
    return (latest.join(listing, on=keys, how="left")
            .with_columns(state=pl.when(pl.col("states") > 1).then(pl.lit("mixed")).otherwise("first_state"))
            .select(*keys, "state", "state_since", "state_by", "state_action", "nodes").sort(*keys))


# ---------------------------------------------------------------- time


def over_time(events: pl.DataFrame, every: str = "1d", by: str | None = "artifact_type", top: int = 8,
              max_rows: int = 5000, weight: str | None = None) -> pl.DataFrame:
    """Events per time bucket (`every`: "1h", "1d", "1w" or a key of EVERY), stacked by the column `by`.

    The `top` most frequent values of `by` keep their name, the rest become "(other)"; `top` is lowered
    so that the result never exceeds `max_rows` rows; with more buckets than that allows, the buckets are
    as coarse as `bucket_every` says (hour -> day -> week -> month ...). Without `by`, every bucket of the covered
    range is present (zeros included) unless that would exceed `max_rows` (events in the years 1 and 9999).
    Columns: bucket (start of the bucket, in the events' zone), [group], events. `weight` names a column that
    counts the events each row stands for (events counted beforehand per hour, as an event store keeps them).
    """
    every = EVERY.get(every, every)
    ts_type = events["timestamp"].dtype
    if by == "kind" and "kind" not in events.columns:
        events = with_kind(events)
    if events.is_empty():
        schema = {"bucket": ts_type, **({"group": pl.String} if by else {}), "events": pl.Int64}
        return pl.DataFrame(schema=schema)
    keys = [] if by is None else [pl.col(by).alias("group")]

    def count(width: str) -> pl.DataFrame:
        return events.group_by(pl.col("timestamp").dt.truncate(width).alias("bucket"), *keys).agg(
            events=(pl.len() if weight is None else pl.col(weight).sum()).cast(pl.Int64))

    counts = count(every)
    limit = max_rows if by is None else max(1, max_rows // 2)
    if counts["bucket"].n_unique() > limit:  # too many buckets for a chart: the first coarser width that fits
        every = bucket_every(events, every, limit)
        counts = count(every)
        while counts["bucket"].n_unique() > limit and every in COARSER[:-1]:  # offsets of seconds (old LMT)
            every = COARSER[COARSER.index(every) + 1]
            counts = count(every)
    if by is None:
        span = counts.select((pl.col("bucket").max() - pl.col("bucket").min()).dt.total_seconds()).item()
        if span // _SECONDS.get(every, 1) >= max_rows:  # the empty buckets in between would be too many
            return counts.sort("bucket")
        full = counts.select(pl.datetime_range(pl.col("bucket").min(), pl.col("bucket").max(), every)
                             .cast(ts_type).alias("bucket"))
        return full.join(counts, on="bucket", how="left").with_columns(pl.col("events").fill_null(0)).sort("bucket")
    counts = counts.pipe(_text, "group").with_columns(pl.col("group").fill_null("(none)"))
    n_buckets = counts["bucket"].n_unique()
    top = max(1, min(top, max_rows // max(n_buckets, 1) - 1))
    ranked = counts.group_by("group").agg(pl.col("events").sum()).sort(["events", "group"], descending=[True, False])
    if ranked.height > top + 1:
        keep = ranked["group"].head(top).implode()
        counts = (counts.with_columns(group=pl.when(pl.col("group").is_in(keep)).then("group").otherwise(pl.lit(OTHER)))
                  .group_by("bucket", "group").agg(pl.col("events").sum()))
    return counts.sort("bucket", "group")


def bucket_every(events: pl.DataFrame, every: str = "1d", max_buckets: int = MAX_BUCKETS) -> str:
    """`every` (a key or value of EVERY), or the first coarser width of COARSER at which the events fall in
    at most `max_buckets` buckets: a year of events asked for per hour is shown per day."""
    every = EVERY.get(every, every)
    if events.is_empty():
        return every
    steps = COARSER[COARSER.index(every):] if every in COARSER else [every, *COARSER]
    ts = events["timestamp"].drop_nulls()
    base = ts
    if every in COARSER and isinstance(ts.dtype, pl.Datetime):  # the distinct minutes first: one integer pass,
        unit = {"ms": 60_000, "us": 60_000_000, "ns": 60_000_000_000}[ts.dtype.time_unit]  # then a few values
        minutes = ((ts.to_physical() // unit).unique() * unit).cast(pl.Datetime(ts.dtype.time_unit))
        zone = ts.dtype.time_zone
        base = minutes.dt.replace_time_zone("UTC").dt.convert_time_zone(zone) if zone else minutes
    for step in steps:
        if base.dt.truncate(step).n_unique() <= max_buckets:
            return step
    return steps[-1]


def weekday_hour(events: pl.DataFrame) -> pl.DataFrame:
    """Events per weekday x hour of day (local time of the events' zone): all 168 cells, zeros included,
    with `off_hours` True outside WORK_HOURS on weekdays and all weekend long."""
    counts = events.group_by(weekday=pl.col("timestamp").dt.weekday().cast(pl.Int8),
                             hour=pl.col("timestamp").dt.hour().cast(pl.Int8)).agg(events=pl.len().cast(pl.Int64))
    grid = pl.DataFrame({"weekday": pl.Series([d for d in range(1, 8) for _ in range(24)], dtype=pl.Int8),
                         "hour": pl.Series(list(range(24)) * 7, dtype=pl.Int8)})
    out = grid.join(counts, on=["weekday", "hour"], how="left").with_columns(pl.col("events").fill_null(0))
    return out.with_columns(
        day=pl.col("weekday").replace_strict(list(range(1, 8)), WEEKDAYS, return_dtype=pl.String),
        off_hours=(pl.col("weekday") >= 6) | (pl.col("hour") < WORK_HOURS[0]) | (pl.col("hour") >= WORK_HOURS[1]),
    ).select("weekday", "day", "hour", "events", "off_hours")


def off_hours_by_user(events: pl.DataFrame) -> pl.DataFrame:
    """Per user: events outside working hours (see WORK_HOURS; weekends count), all events and the share;
    users with off-hours events only, most first."""
    return (events.group_by(who(events))
            .agg(off_hours=_off_hours(pl.col("timestamp")).sum().cast(pl.Int64), events=pl.len().cast(pl.Int64))
            .pipe(_text, "user")
            .filter(pl.col("off_hours") > 0).with_columns(share=pl.col("off_hours") / pl.col("events"))
            .sort(["off_hours", "user"], descending=[True, False]))


# ---------------------------------------------------------------- coverage


def _file_days(files: pl.DataFrame) -> pl.DataFrame:
    """(node, day, complete) for the days a file covers: the days from its first to its last event, plus the
    day in a rotated file's name (audit-MM-dd-yyyy, audit-yyyy-MM-dd, logrotate's audit.log-yyyyMMdd), so that
    a rotated file without events still counts."""
    name = pl.col("source").str.split("/").list.last()
    named = files.select(
        pl.col("node"), "complete",
        day=pl.coalesce(
            name.str.extract(r"audit-(\d{2}-\d{2}-\d{4})", 1).str.strptime(pl.Date, "%m-%d-%Y", strict=False),
            name.str.extract(r"audit-(\d{4}-\d{2}-\d{2})", 1).str.strptime(pl.Date, "%Y-%m-%d", strict=False),
            name.str.extract(r"audit\.log-(\d{8})", 1).str.strptime(pl.Date, "%Y%m%d", strict=False)))
    dated = files.filter(pl.col("first").is_not_null()).with_columns(
        first_day=pl.col("first").dt.date(), last_day=pl.col("last").dt.date())
    long = (pl.col("last_day") - pl.col("first_day")).dt.total_days() > MAX_COVERAGE_DAYS
    spans = dated.select("node", "complete", day=pl.date_ranges(  # a misdated span: its first and last day only
        "first_day", pl.when(long).then("first_day").otherwise("last_day"))).explode("day")
    ends = dated.filter(long).select("node", "complete", day="last_day")
    return pl.concat([named.drop_nulls("day"), spans, ends]).unique()


def coverage_gaps(events: pl.DataFrame, files: pl.DataFrame, tz: str | None = None,
                  only_gaps: bool = False, work_days: tuple[int, ...] = (1, 2, 3, 4, 5),
                  holidays: tuple[date, ...] = (), *, days: tuple[date, date] | None = None,
                  nodes: Sequence[str] = ()) -> pl.DataFrame:
    """Per node and day, every node (of the files, the events and `nodes`: a node known to the source but silent
    is listed too) over the same days: `days` (the scope's first and last), by default from the first to the last
    day of any node. `files` covering the day, `events` on it and `status`:
    - "ok": a file and events;
    - "partial": a file covering the day was read only in part (damage, a cap): its later lines are unknown;
    - "no file": a working day with no file at all (lost, deleted or never collected?);
    - "no events": a working day with a file but no event (quiet, or logging stopped?);
    - "day off": a day outside `work_days` (ISO weekdays, 1 = Monday) or in `holidays` with no file or no event:
      not a gap (the same working time as the findings' `Settings`).
    Days are calendar days in `tz` (default: the events' zone). With `only_gaps`, the days that are neither
    "ok" nor "day off". This is the one computation of coverage: the Data quality page, an event store's coverage
    and the report's per-node table and gaps all read it."""
    schema = {"node": pl.String, "day": pl.Date, "files": pl.UInt32, "events": pl.Int64, "status": pl.String}
    if files.is_empty() and not nodes:
        return pl.DataFrame(schema=schema)
    if tz:
        files = files.with_columns(pl.col("first", "last").dt.convert_time_zone(tz))
        events = events.with_columns(pl.col("timestamp").dt.convert_time_zone(tz))
    if "complete" not in files.columns:
        files = files.with_columns(complete=pl.lit(True))
    files = files.filter(pl.col("duplicate_of").is_null()).with_columns(pl.col("node").cast(pl.String))
    fdays = _file_days(files)
    covered = fdays.group_by("node", "day").agg(files=pl.len(), cut=(~pl.col("complete")).any())
    ev = events.group_by("node", day=pl.col("timestamp").dt.date()).agg(
        events=pl.len().cast(pl.Int64)).pipe(_text, "node")
    seen = pl.concat([fdays.select("node", "day"), ev.select("node", "day")]).unique()
    names = pl.concat([seen.select("node"), pl.DataFrame({"node": list(nodes)}, schema={"node": pl.String})]
                      ).drop_nulls().unique().sort("node")
    if days is not None:
        seen = seen.filter(pl.col("day").is_between(*days))
    # a node whose days lie centuries apart (misdated lines) lists only its dated days, and sets no bound
    spans = seen.group_by("node").agg(lo=pl.col("day").min(), hi=pl.col("day").max())
    far = spans.filter((pl.col("hi") - pl.col("lo")).dt.total_days() > MAX_COVERAGE_DAYS)["node"]
    if days is None:
        near = spans.filter(~pl.col("node").is_in(far.implode()))
        if near.is_empty() and far.is_empty():
            return pl.DataFrame(schema=schema)
        days = (near["lo"].min(), near["hi"].max()) if near.height else None
    if names.is_empty():
        return pl.DataFrame(schema=schema)
    parts = [seen.filter(pl.col("node").is_in(far.implode()))]
    if days is not None and (days[1] - days[0]).days <= MAX_COVERAGE_DAYS:
        every = pl.DataFrame({"day": pl.date_range(days[0], days[1], "1d", eager=True)})
        parts.append(names.filter(~pl.col("node").is_in(far.implode())).join(every, how="cross"))
    elif days is not None:  # a scope of centuries: its dated days only
        parts.append(seen.filter(~pl.col("node").is_in(far.implode())))
    grid = pl.concat(parts)
    off = ~pl.col("day").dt.weekday().is_in(list(work_days)) | pl.col("day").is_in(list(holidays))
    out = (grid.join(covered, on=["node", "day"], how="left").join(ev, on=["node", "day"], how="left")
           .with_columns(pl.col("files").fill_null(0).cast(pl.UInt32), pl.col("events").fill_null(0))
           .with_columns(status=pl.when(pl.col("cut").fill_null(False)).then(pl.lit("partial"))
                         .when((pl.col("files") > 0) & (pl.col("events") > 0)).then(pl.lit("ok"))
                         .when(off).then(pl.lit("day off"))
                         .when(pl.col("files") == 0).then(pl.lit("no file"))
                         .otherwise(pl.lit("no events")))
           .select(*schema).sort("node", "day"))
    return out.filter(~pl.col("status").is_in(["ok", "day off"])) if only_gaps else out


# ---------------------------------------------------------------- scope helpers and tables


def newest_event(events: pl.DataFrame) -> datetime | None:
    """The time of the last event (the anchor of relative ranges such as "last 7 days")."""
    return extreme(events["timestamp"], "max") if events.height else None


def date_bounds(events: pl.DataFrame) -> tuple[date, date] | None:
    """First and last calendar day with events, in the events' zone."""
    if events.is_empty():
        return None
    return extreme(events["timestamp"], "min").date(), extreme(events["timestamp"], "max").date()


def user_activity(events: pl.DataFrame, user: str, every: str = "1d") -> pl.DataFrame:
    """One user's events per time bucket and kind of action (bounded by buckets x kinds)."""
    mine = with_kind(events.filter(who(events).cast(pl.String) == user))
    return over_time(mine, every, by="kind", top=len(KINDS))


def event_page(events: pl.DataFrame, sort_by: str = "timestamp", descending: bool = False, offset: int = 0,
               limit: int = 1000) -> pl.DataFrame:
    """A window of the events table sorted by `sort_by`, with categoricals as text: what the explorer shows."""
    ordered = events if (sort_by == "timestamp" and not descending) else events.sort(
        pl.col(sort_by).cast(pl.String) if events[sort_by].dtype == pl.Categorical else sort_by,
        descending=descending, nulls_last=True, maintain_order=True)
    page = ordered.slice(offset, limit)
    return page.with_columns([pl.col(c).cast(pl.String) for c, t in page.schema.items() if t == pl.Categorical])


def options(events: pl.DataFrame, column: str) -> list[str]:
    """The distinct values of a column, sorted, for pick lists (outcome: with `filters.NOT_RECORDED` last when
    some record states none)."""
    values = events.select(pl.col(column).cast(pl.String).unique()).to_series()
    out = sorted(values.drop_nulls().to_list())
    if column == "outcome" and values.null_count():
        out.append(NOT_RECORDED)
    return out
