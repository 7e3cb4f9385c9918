"""Sign-in to sign-out sessions per actor and node, and the changes each session holds.

A session opens at a successful sign-in (MI management API, API-M console, IS `Login`) and lasts until the
first of: the actor's sign-out on that node (`signed_out`), a gap of more than `timeout` between two of the
actor's events there (`timeout`), the actor's next sign-in there (`next_sign_in`), or the end of the node's log
(`open` when the log ends within `timeout` of the last activity, else `timeout`). A session's `end` is the time
of its last event, so `duration` is what the log shows of it. Changes the actor makes on the node while a
session is open belong to it; `with_sessions` puts the session id on each event.

Everything is computed with whole-column polars operations: one sort by actor, node and time, cumulative sums
over those groups, one group-by.
"""

from __future__ import annotations

import re
from datetime import timedelta

import polars as pl

from audit_lib.events.vocabulary import (  # noqa: F401  (re-exported: rules and reports pick events by them)
    FAILED_SIGN_IN_ACTIONS,
    FRAMEWORK_TARGETS,
    NOT_RECORDED,
    READ_ACTIONS,
    SIGN_IN_ACTIONS,
    SIGN_OUT_ACTIONS,
    actor_expr,
    change_expr,
    failed_sign_in_expr,
    sign_in_expr,
    sign_out_expr,
)

DEFAULT_TIMEOUT = timedelta(hours=1)

ENDINGS = ("signed_out", "next_sign_in", "timeout", "open")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?\s*$", re.IGNORECASE)
_UNIT = {"s": "seconds", "sec": "seconds", "m": "minutes", "min": "minutes", "h": "hours", "d": "days",
         "w": "weeks"}


def parse_duration(value: timedelta | str | float) -> timedelta:
    """A duration given as a timedelta, a number of minutes, or text such as "90s", "30m", "8h", "7d", "2w"."""
    if isinstance(value, timedelta):
        out = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out = timedelta(minutes=value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"Cannot read {value!r} as a duration; use e.g. 30m, 8h or 7d.")
        out = timedelta(**{_UNIT[(match.group(2) or "m").lower()]: float(match.group(1))})
    if out <= timedelta(0):
        raise ValueError(f"A duration must be positive, not {value!r}.")
    return out


def _physical(column: str) -> pl.Expr:
    """A sort key that groups equal values: a categorical's codes, any other column as it is."""
    return pl.col(column).to_physical()


def _marked(events: pl.DataFrame, timeout: timedelta) -> pl.DataFrame:
    """The sign-ins, sign-outs and changes of named actors, ordered by actor, node and time. Each row gets its
    segment `seg` (a run of rows of one actor and node that starts at a sign-in, or at the first row of that
    actor and node) and whether it falls inside the session that segment's sign-in opened (`in_session`).

    The rows of one actor and node are contiguous after the sort, so segments are found with running sums
    over the whole column and forward fills, without grouping."""
    base = (events.select(
        _i=pl.int_range(pl.len(), dtype=pl.UInt32), timestamp=pl.col("timestamp"), actor=actor_expr(events),
        node=pl.col("node"), product=pl.col("product"), source=pl.col("source"), line=pl.col("line"),
        sign_in=sign_in_expr(events).fill_null(False), sign_out=sign_out_expr(events).fill_null(False),
        change=change_expr(events).fill_null(False))
        .filter(pl.col("actor").is_not_null() & (pl.col("sign_in") | pl.col("sign_out") | pl.col("change")))
        # events of the same millisecond keep their order in the file, whatever the order of the input
        .sort([pl.col("actor").to_physical(), pl.col("node").to_physical(), "timestamp", _physical("source"), "line",
               "_i"]))
    new_pair = (pl.col("actor").ne_missing(pl.col("actor").shift(1))
                | pl.col("node").ne_missing(pl.col("node").shift(1))).fill_null(True)
    gap = ((pl.col("timestamp") - pl.col("timestamp").shift(1)) > timeout).fill_null(False)

    def since_start(flag: str) -> pl.Expr:  # how many `flag` rows since the segment began, this one excluded
        total = pl.col(flag).cast(pl.UInt32).cum_sum() - pl.col(flag).cast(pl.UInt32)
        return total - pl.when(pl.col("_start")).then(total).forward_fill()

    return (base.with_columns(_pair=new_pair)
            .with_columns(_start=pl.col("_pair") | pl.col("sign_in"),
                          _gap=gap & ~pl.col("_pair") & ~pl.col("sign_in"))
            .with_columns(seg=pl.col("_start").cast(pl.UInt32).cum_sum(),
                          pair=pl.col("_pair").cast(pl.UInt32).cum_sum(),
                          opened=pl.when(pl.col("_start")).then(pl.col("sign_in")).forward_fill(),
                          broken=(since_start("_gap") + pl.col("_gap").cast(pl.UInt32)) > 0,
                          out_before=since_start("sign_out") > 0)
            .with_columns(in_session=pl.col("opened") & ~pl.col("broken") & ~pl.col("out_before"))
            .drop("_pair", "_start", "_gap"))


def _empty(tz: str | None) -> pl.DataFrame:
    return pl.DataFrame(schema={
        "session": pl.UInt32, "actor": pl.String, "node": pl.String, "product": pl.String,
        "start": pl.Datetime("ms", tz), "end": pl.Datetime("ms", tz), "ended": pl.String,
        "duration": pl.Duration("ms"), "changes": pl.UInt32, "source": pl.String, "line": pl.UInt32})


def _build(events: pl.DataFrame, timeout: timedelta) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(sessions, marked rows with their session id)."""
    tz = getattr(events.schema.get("timestamp"), "time_zone", None)
    if events.is_empty():
        return _empty(tz), pl.DataFrame(schema={"_i": pl.UInt32, "session": pl.UInt32})
    marked = _marked(events, timeout)
    inside = marked.filter(pl.col("in_session"))  # a prefix of each opened segment
    cut = marked.filter(pl.col("opened") & pl.col("broken")).select(pl.col("seg").unique(), cut=pl.lit(True))
    grouped = (inside.group_by("seg").agg(
        actor=pl.col("actor").first(), node=pl.col("node").first(), pair=pl.col("pair").first(),
        product=pl.col("product").first(), start=pl.col("timestamp").first(), end=pl.col("timestamp").last(),
        signed_out=pl.col("sign_out").any(), changes=pl.col("change").sum().cast(pl.UInt32),
        source=pl.col("source").first(), line=pl.col("line").first())
        .join(cut, on="seg", how="left").with_columns(pl.col("cut").fill_null(False)))
    node_end = events.group_by("node").agg(node_end=pl.col("timestamp").max())
    same_pair = pl.col("pair") == pl.col("pair").shift(-1)
    grouped = (grouped.sort("seg")
               .with_columns(next_start=pl.when(same_pair).then(pl.col("start").shift(-1)))
               .join(node_end, on="node", how="left"))
    ended = (pl.when(pl.col("signed_out")).then(pl.lit("signed_out"))
             .when(pl.col("cut")).then(pl.lit("timeout"))
             .when(pl.col("next_start").is_not_null() & (pl.col("next_start") - pl.col("end") > timeout))
             .then(pl.lit("timeout"))
             .when(pl.col("next_start").is_not_null()).then(pl.lit("next_sign_in"))
             .when(pl.col("node_end") - pl.col("end") > timeout).then(pl.lit("timeout"))
             .otherwise(pl.lit("open")))
    out = (grouped.with_columns(ended=ended, duration=pl.col("end") - pl.col("start"),
                                actor=pl.col("actor").cast(pl.String), node=pl.col("node").cast(pl.String),
                                product=pl.col("product").cast(pl.String), source=pl.col("source").cast(pl.String))
           .sort(["start", "node", "actor", "source", "line"])
           .with_columns(session=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32)))
    # segment number -> session id, as a lookup array (segments are numbered 1..n in sort order)
    lookup = pl.repeat(None, int(marked["seg"].max() or 0) + 1, dtype=pl.UInt32, eager=True)
    lookup = lookup.scatter(out["seg"], out["session"]) if out.height else lookup
    rows = inside.select("_i", session=lookup.gather(inside["seg"]))
    return (out.select("session", "actor", "node", "product", "start", "end", "ended", "duration", "changes",
                       "source", "line"), rows)


def sessions(events: pl.DataFrame, timeout: timedelta | str | float = DEFAULT_TIMEOUT) -> pl.DataFrame:
    """One row per session, in order of start: session (id, 1..n), actor, node, product, start, end, ended
    (signed_out, next_sign_in, timeout, open), duration, changes, and the source and line of the sign-in.

    `timeout` (a timedelta, minutes, or text such as "30m") is the longest quiet spell a session survives.
    `with_sessions(events, timeout)` gives each event the id of the session it belongs to.
    """
    return _build(events, parse_duration(timeout))[0]


def with_sessions(events: pl.DataFrame, timeout: timedelta | str | float = DEFAULT_TIMEOUT) -> pl.DataFrame:
    """`events` plus a `session` column: the id (as in `sessions`) of the session each sign-in, sign-out or
    change belongs to; null for events outside any session."""
    return events.with_columns(session=session_ids(events, timeout))


def session_ids(events: pl.DataFrame, timeout: timedelta | str | float = DEFAULT_TIMEOUT) -> pl.Series:
    """The `session` column of `with_sessions` alone."""
    return sessions_and_ids(events, timeout)[1]


def sessions_and_ids(events: pl.DataFrame, timeout: timedelta | str | float = DEFAULT_TIMEOUT
                     ) -> tuple[pl.DataFrame, pl.Series]:
    """`sessions(events)` and `session_ids(events)` computed together."""
    table, rows = _build(events, parse_duration(timeout))
    column = pl.repeat(None, events.height, dtype=pl.UInt32, eager=True).alias("session")
    return table, (column.scatter(rows["_i"], rows["session"]) if rows.height else column)


def session_changes(events: pl.DataFrame, timeout: timedelta | str | float = DEFAULT_TIMEOUT
                    ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`sessions(events)` and the changes each session holds, one row per change: session, timestamp, action,
    artifact_type, artifact, outcome ("not recorded" where the line states none), source and line."""
    table, ids = sessions_and_ids(events, timeout)
    marked = events.with_columns(session=ids)
    changes = marked.filter(pl.col("session").is_not_null() & change_expr(marked).fill_null(False)).select(
        "session", "timestamp", *[pl.col(c).cast(pl.String) for c in ("action", "artifact_type", "artifact")],
        pl.col("outcome").cast(pl.String).fill_null(NOT_RECORDED), pl.col("source").cast(pl.String), "line")
    return table, changes.sort("session", "timestamp", "line")
