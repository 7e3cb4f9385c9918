"""The pages' figures computed on a lazy scan of the store, as small aggregates: the events are never held in
memory, only grouped counts. Per person, the work is grouped by (user, product) first (a few thousand rows
whatever the store's size) and the actor is applied to that small frame, so the mapping of names never runs
over every event. Results have the shapes of `audit_lib.metrics` (key_figures, per_user, over_time)."""

from __future__ import annotations

from typing import Any

import polars as pl

from audit_lib.loader import actors
from audit_lib.metrics import KINDS, WORK_HOURS, action_kind


def _collect(*frames: pl.LazyFrame) -> list[pl.DataFrame]:
    return pl.collect_all(list(frames), engine="streaming")


def key_figures(lf: pl.LazyFrame) -> dict[str, Any]:
    """Events, distinct users / artifact types / artifacts / nodes, failures, first and last, sign-ins."""
    row, kinds = _collect(
        lf.select(events=pl.len(), users=pl.col("user").drop_nulls().n_unique(),
                  artifact_types=pl.col("artifact_type").drop_nulls().n_unique(),
                  artifacts=pl.struct("artifact_type", "artifact").drop_nulls().n_unique(),
                  nodes=pl.col("node").drop_nulls().n_unique(),
                  failures=(pl.col("outcome").cast(pl.String) == "failure").sum(),
                  off_hours=_off_hours(pl.col("timestamp")).sum(),
                  first=pl.col("timestamp").min(), last=pl.col("timestamp").max()),
        lf.group_by("action").agg(n=pl.len()))
    out = row.row(0, named=True)
    by_kind = kinds.with_columns(kind=action_kind(pl.col("action"))).group_by("kind").agg(pl.col("n").sum())
    counts = dict(by_kind.iter_rows())
    out["span"] = out["last"] - out["first"] if out["events"] else None
    out["sign_ins"], out["failed_sign_ins"] = int(counts.get("sign-in", 0)), int(counts.get("failed sign-in", 0))
    return out


def _off_hours(ts: pl.Expr) -> pl.Expr:
    """Weekends and hours outside WORK_HOURS, as `audit_lib.metrics` counts them."""
    hour = ts.dt.hour()
    return (ts.dt.weekday() >= 6) | (hour < WORK_HOURS[0]) | (hour >= WORK_HOURS[1])


def counts_by(lf: pl.LazyFrame, column: str, top: int | None = None) -> pl.DataFrame:
    """Events per value of `column`, most first."""
    df = lf.group_by(pl.col(column).cast(pl.String)).agg(events=pl.len()).sort(
        ["events", column], descending=[True, False]).collect(engine="streaming")
    return df.head(top) if top else df


def over_time(lf: pl.LazyFrame, every: str = "1d", by: str | None = "artifact_type") -> pl.DataFrame:
    """Events per time bucket (and per value of `by`): bucket, [group], events."""
    keys = [pl.col("timestamp").dt.truncate(every).alias("bucket")]
    if by:
        keys.append(pl.col(by).cast(pl.String).alias("group"))
    return lf.group_by(keys).agg(events=pl.len()).sort([k.meta.output_name() for k in keys]).collect(
        engine="streaming")


def per_user(lf: pl.LazyFrame) -> pl.DataFrame:
    """One row per person (actor): events, first and last seen, nodes, failures, and a column per kind of
    action; most active first. `lf` is a scan of the store (user and product are what is grouped)."""
    pairs = lf.group_by("user", "product", "action", "node").agg(
        n=pl.len(), first=pl.col("timestamp").min(), last=pl.col("timestamp").max(),
        failures=(pl.col("outcome").cast(pl.String) == "failure").sum()).collect(engine="streaming")
    names = actors(pairs.select(pl.col("user", "product").cast(pl.String)).unique())
    df = pairs.with_columns(pl.col("user", "product").cast(pl.String)).join(
        names, on=["user", "product"], how="left", nulls_equal=True)
    df = df.with_columns(kind=action_kind(pl.col("action")), user=pl.col("actor")).drop("actor")
    base = df.group_by("user").agg(
        events=pl.col("n").sum().cast(pl.Int64), first_seen=pl.col("first").min(), last_seen=pl.col("last").max(),
        nodes=pl.col("node").cast(pl.String).unique().sort().str.join(", "),
        failures=pl.col("failures").sum().cast(pl.Int64))
    wide = df.group_by("user", "kind").agg(pl.col("n").sum()).pivot("kind", index="user", values="n")
    wide = wide.with_columns([pl.lit(0).alias(k) for k in KINDS if k not in wide.columns])
    return base.join(wide.select("user", *[pl.col(k).fill_null(0).cast(pl.Int64) for k in KINDS]), on="user",
                     how="left", nulls_equal=True).sort(["events", "user"], descending=[True, False],
                                                        nulls_last=True)


def page(lf: pl.LazyFrame, n: int = 100, offset: int = 0, descending: bool = True) -> pl.DataFrame:
    """One page of events in time order (the explorer's table): only `n` rows are materialised."""
    return lf.sort("timestamp", descending=descending).slice(offset, n).collect()
