"""The pages' figures of a store as small aggregates, with the shapes of `audit_lib.analysis.metrics` (key_figures,
per_user, over_time). Given a `Store`, they read its rollup tables (a few rows per node, month and hour or
user, kept beside the events by every ingest): the whole store's figures without reading the events. Given a
lazy scan (a filtered scope: `Store.scan(start=, end=, nodes=).filter(...)`), they group the events it reads,
never holding them in memory. Per person the work is grouped by (user, product) first and the actor applied to
that small frame, so the mapping of names never runs over every event.

With `ray=ADDRESS` (a running Ray cluster, `auto`, or `local`), a `Store` or a `Scope` (a part of a store that
can be sent to the workers) is aggregated from its events as Ray tasks, one per group of data files, each
returning partial aggregates (counts, first and last times per group key) that are merged here: the same
results as the local computation. Ray is started and stopped by each call unless it is already running
(`audit_lib.store.distributed.connect`)."""

from __future__ import annotations

from typing import Any

import polars as pl

from audit_lib.analysis.metrics import KINDS, UNKNOWN, WORK_HOURS, action_kind
from audit_lib.events.actors import actors
from audit_lib.store import tables as T
from audit_lib.store.distributed import Query, Scope, grouped
from audit_lib.store.read import Store
from audit_lib.store.tables import StoreError

Source = Store | Scope | pl.LazyFrame
FAILED = pl.col("outcome").cast(pl.String) == "failure"
TS = pl.col("timestamp")


def _off_hours(ts: pl.Expr) -> pl.Expr:
    """Weekends and hours outside WORK_HOURS, as `audit_lib.analysis.metrics` counts them."""
    hour = ts.dt.hour()
    return (ts.dt.weekday() >= 6) | (hour < WORK_HOURS[0]) | (hour >= WORK_HOURS[1])


# what each group of a store's data files adds up per group key on Ray, and how the parts merge
PARTS: dict[str, tuple[pl.Expr, str]] = {
    "events": (pl.len().cast(pl.Int64), "sum"), "first": (TS.min(), "min"), "last": (TS.max(), "max"),
    "failures": (FAILED.sum().cast(pl.Int64), "sum"), "off_hours": (_off_hours(TS).sum().cast(pl.Int64), "sum"),
    "ambiguous": (pl.col("time_ambiguous").sum().cast(pl.Int64), "sum"),
}


def _query(keys: list[pl.Expr], *parts: str) -> Query:
    return keys, {p: PARTS[p] for p in parts}


def _on_ray(source: Source, ray: str | None) -> Scope | None:
    """The scope to aggregate as Ray tasks (None: compute here)."""
    if ray is None:
        return None
    if isinstance(source, Scope):
        return source
    if isinstance(source, Store):
        return Scope(source)
    raise StoreError("Aggregates on Ray read a Store or a Scope of one (a LazyFrame cannot be split by data file)")


def _local(source: Source) -> Store | pl.LazyFrame:
    return source.scan() if isinstance(source, Scope) else source


def _collect(*frames: pl.LazyFrame) -> list[pl.DataFrame]:
    try:
        with T.quiet_rust():
            return pl.collect_all(list(frames), engine="streaming")
    except BaseException as exc:  # a damaged or edited data file makes the readers fail, even panic
        if T.fatal(exc):
            raise
        raise StoreError(f"The store cannot be read ({T.failure(exc)}): check it with `python -m audit_lib "
                         "verify --store DIR`") from None


def key_figures(source: Source, ray: str | None = None) -> dict[str, Any]:
    """Events, distinct users / artifact types / artifacts / nodes, failures, off-hours events, first and last,
    sign-ins and failed sign-ins."""
    if (scope := _on_ray(source, ray)) is not None:
        return _key_figures_ray(scope, ray)
    source = _local(source)
    if isinstance(source, Store):
        return _key_figures_rolled(source)
    lf = source
    row, kinds = _collect(
        lf.select(events=pl.len(), users=pl.col("user").drop_nulls().n_unique(),
                  artifact_types=pl.col("artifact_type").drop_nulls().n_unique(),
                  artifacts=pl.struct("artifact_type", "artifact").drop_nulls().n_unique(),
                  nodes=pl.col("node").drop_nulls().n_unique(),
                  failures=FAILED.sum(),
                  off_hours=_off_hours(pl.col("timestamp")).sum(),
                  first=pl.col("timestamp").min(), last=pl.col("timestamp").max()),
        lf.group_by("action").agg(n=pl.len()))
    return _finish_figures(row.row(0, named=True), kinds)


def _key_figures_rolled(st: Store) -> dict[str, Any]:
    hours, kinds, users, arts = _collect(
        st.rollup(T.BY_HOUR).select(
            events=pl.col("events").sum(), artifact_types=pl.col("artifact_type").drop_nulls().n_unique(),
            nodes=pl.col("node").drop_nulls().n_unique(), failures=pl.col("events").filter(FAILED).sum(),
            off_hours=pl.col("events").filter(_off_hours(pl.col("hour"))).sum(),
            first=pl.col("first").min().dt.convert_time_zone(st.tz).dt.cast_time_unit("ms"),
            last=pl.col("last").max().dt.convert_time_zone(st.tz).dt.cast_time_unit("ms")),
        st.rollup(T.BY_HOUR).group_by("action").agg(n=pl.col("events").sum()),
        st.rollup(T.BY_USER).select(users=pl.col("user").drop_nulls().n_unique()),
        st.rollup(T.BY_ARTIFACT).select(artifacts=pl.struct("artifact_type", "artifact").n_unique()))
    row = hours.row(0, named=True)
    row.update(users=users.item(), artifacts=arts.item())
    for k in ("events", "failures", "off_hours"):
        row[k] = int(row[k] or 0)
    if not row["events"]:
        row.update(users=0, artifacts=0)
    return _finish_figures(row, kinds)


def _key_figures_ray(scope: Scope, ray: str) -> dict[str, Any]:
    """The key figures from counts per action, user, artifact and node (the distinct values are the groups)."""
    kinds, users, arts, nodes = grouped(scope, [
        _query([pl.col("action")], "events", "failures", "off_hours", "first", "last"),
        _query([pl.col("user")], "events"), _query([pl.col("artifact_type"), pl.col("artifact")], "events"),
        _query([pl.col("node")], "events")], ray)
    row = kinds.select(events=pl.col("events").sum(), failures=pl.col("failures").sum(),
                       off_hours=pl.col("off_hours").sum(), first=pl.col("first").min(),
                       last=pl.col("last").max()).row(0, named=True)
    row = {"events": row.pop("events"), "users": users["user"].drop_nulls().len(),
           "artifact_types": arts["artifact_type"].drop_nulls().n_unique(), "artifacts": arts.height,
           "nodes": nodes["node"].drop_nulls().len(), **row}
    return _finish_figures(row, kinds.select("action", n="events"))


def _finish_figures(row: dict, kinds: pl.DataFrame) -> dict[str, Any]:
    by_kind = kinds.with_columns(kind=action_kind(pl.col("action"))).group_by("kind").agg(pl.col("n").sum())
    counts = dict(by_kind.iter_rows())
    out = {"events": row.pop("events"), **row}
    out["span"] = out["last"] - out["first"] if out["events"] else None
    out["sign_ins"], out["failed_sign_ins"] = int(counts.get("sign-in", 0)), int(counts.get("failed sign-in", 0))
    return out


def counts_by(source: Source, column: str, top: int | None = None, ray: str | None = None) -> pl.DataFrame:
    """Events per value of `column`, most first (from a Store: a key of the hourly rollup)."""
    order = {"by": ["events", column], "descending": [True, False]}
    if (scope := _on_ray(source, ray)) is not None:
        (df,) = grouped(scope, [_query([pl.col(column).cast(pl.String)], "events")], ray)
        return df.sort(**order).head(top) if top else df.sort(**order)
    source = _local(source)
    if isinstance(source, Store):
        lf, count = source.rollup(T.BY_HOUR), pl.col("events").sum()
    else:
        lf, count = source, pl.len()
    df = lf.group_by(pl.col(column).cast(pl.String)).agg(events=count.cast(pl.Int64)).sort(**order).collect(
        engine="streaming")
    return df.head(top) if top else df


def over_time(source: Source, every: str = "1d", by: str | None = "artifact_type",
              ray: str | None = None) -> pl.DataFrame:
    """Events per time bucket (and per value of `by`): bucket, [group], events. From a Store, buckets of an hour
    or more, and `by` one of the hourly rollup's keys (action, artifact_type, outcome, product, node)."""
    group = [pl.col(by).cast(pl.String).alias("group")] if by else []
    if (scope := _on_ray(source, ray)) is not None:
        (df,) = grouped(scope, [_query([TS.dt.truncate(every).alias("bucket"), *group], "events")], ray)
        return df.sort(["bucket", *(["group"] if by else [])])
    source = _local(source)
    if isinstance(source, Store):
        bucket = pl.col("hour").dt.truncate(every).dt.replace_time_zone(
            source.tz, ambiguous="earliest", non_existent="null").dt.cast_time_unit("ms").alias("bucket")
        lf, count = source.rollup(T.BY_HOUR), pl.col("events").sum()
    else:
        bucket = pl.col("timestamp").dt.truncate(every).alias("bucket")
        lf, count = source, pl.len()
    keys = [bucket, *group]
    return lf.group_by(keys).agg(events=count.cast(pl.Int64)).sort([k.meta.output_name() for k in keys]).collect(
        engine="streaming")


def per_user(source: Source, names: pl.DataFrame | None = None, ray: str | None = None) -> pl.DataFrame:
    """One row per person (actor): events, first and last seen, nodes, failures, and a column per kind of
    action; most active first. `names` (user, product, actor) names the people; by default they are named from
    the (user, product) pairs of `source`, which for a scope of a store must be the store's (`Store.names_table`:
    a name's actor depends on every product it appears in; a `Scope` is named so by default)."""
    if names is None and isinstance(source, Scope):
        names = source.store.names_table()
    if (scope := _on_ray(source, ray)) is not None:
        (pairs,) = grouped(scope, [_query([pl.col(c) for c in ("user", "product", "action", "node")],
                                          "events", "first", "last", "failures")], ray)
        return _people(pairs.rename({"events": "n"}), names)
    source = _local(source)
    if isinstance(source, Store):
        pairs = source.rollup(T.BY_USER).group_by("user", "product", "action", "node").agg(
            n=pl.col("events").sum(), first=pl.col("first").min(), last=pl.col("last").max(),
            failures=pl.col("events").filter(FAILED).sum()).with_columns(
            pl.col("first", "last").dt.convert_time_zone(source.tz).dt.cast_time_unit("ms")).collect()
    else:
        pairs = source.group_by("user", "product", "action", "node").agg(
            n=pl.len(), first=pl.col("timestamp").min(), last=pl.col("timestamp").max(),
            failures=FAILED.sum()).collect(engine="streaming")
    return _people(pairs, names)


def _people(pairs: pl.DataFrame, names: pl.DataFrame | None) -> pl.DataFrame:
    """per_user from events, first, last and failures per user, product, action and node."""
    if names is None:
        names = actors(pairs.select(pl.col("user", "product").cast(pl.String)).unique())
    df = pairs.with_columns(pl.col("user", "product").cast(pl.String)).join(
        names, on=["user", "product"], how="left", nulls_equal=True)
    df = df.with_columns(kind=action_kind(pl.col("action")), user=pl.col("actor").fill_null(UNKNOWN)).drop("actor")
    base = df.group_by("user").agg(
        events=pl.col("n").sum().cast(pl.Int64), first_seen=pl.col("first").min(), last_seen=pl.col("last").max(),
        nodes=pl.col("node").cast(pl.String).unique().sort().str.join(", "),
        failures=pl.col("failures").sum().cast(pl.Int64))
    wide = df.group_by("user", "kind").agg(pl.col("n").sum()).pivot("kind", index="user", values="n")
    wide = wide.with_columns([pl.lit(0).alias(k) for k in KINDS if k not in wide.columns])
    return base.join(wide.select("user", *[pl.col(k).fill_null(0).cast(pl.Int64) for k in KINDS]), on="user",
                     how="left", nulls_equal=True).sort(["events", "user"], descending=[True, False],
                                                        nulls_last=True)


def summary_counts(source: Store | Scope, ray: str | None = None) -> dict[str, Any]:
    """The event figures of `summary` (`audit_lib.analysis.summary`) of a store or a scope of it, never holding its
    events: events, ambiguous_times, by_user, by_actor, by_type, by_action, by_node (events per value, most
    first, `(unknown)` for none), first and last (datetimes in the store's zone, None when empty)."""
    scope = source if isinstance(source, Scope) else Scope(source)
    queries = [_query([pl.col("user"), pl.col("product")], "events", "first", "last", "ambiguous"),
               *[_query([pl.col(c)], "events") for c in ("artifact_type", "action", "node")]]
    if ray is not None:
        frames = grouped(scope, queries, ray)
    else:
        lf = scope.scan()
        frames = _collect(*[lf.group_by(keys).agg([e.alias(n) for n, (e, _) in parts.items()])
                            for keys, parts in queries])
    pairs, types, actions, nodes = frames
    names = scope.store.names_table()
    people = pairs.join(names, on=["user", "product"], how="left", nulls_equal=True)
    total = pairs.select(events=pl.col("events").sum(), ambiguous=pl.col("ambiguous").sum(),
                         first=pl.col("first").min(), last=pl.col("last").max()).row(0, named=True)
    return {"events": int(total["events"]), "ambiguous_times": int(total["ambiguous"]),
            "by_user": _counts(pairs, "user"), "by_actor": _counts(people, "actor"), "by_type": _counts(types,
            "artifact_type"), "by_action": _counts(actions, "action"), "by_node": _counts(nodes, "node"),
            "first": total["first"], "last": total["last"]}


def _counts(df: pl.DataFrame, column: str) -> dict[str, int]:
    """Events per value of `column`, most first, then by value (none first, named `(unknown)`), as `summary`."""
    df = df.group_by(column).agg(pl.col("events").sum()).sort(["events", column], descending=[True, False])
    return {UNKNOWN if k is None else str(k): int(n) for k, n in df.iter_rows()}


def page(lf: pl.LazyFrame, n: int = 100, offset: int = 0, descending: bool = True) -> pl.DataFrame:
    """One page of events in time order (the explorer's table): only `n` rows are materialised."""
    return lf.sort("timestamp", descending=descending).slice(offset, n).collect()
