"""Counting without reading every line: a file's events whose message repeats, read once and counted as one row.

A node toggles the same artifacts again and again, so most of a busy file's messages are repeats. Where events
are only counted (`parse_batch(..., counting=True)`), the headed lines of a batch are gathered per file, tenant
and message: one row each, with its number of events `n`, its first line, and its earliest and latest wall-clock
time (`wall`, `wall_last`). Only what needs each event by itself is turned back into rows: the events of a
message no format reads (each line is a reject) and those whose details hold a clue to the servers' zone (counted
by the minute). The parser gathers a batch only where nothing else needs its rows one by one: no line without a
header (attached, blank or rejected) and one offset for the whole batch (no repeated or skipped hour).
"""

from __future__ import annotations

import polars as pl

SAMPLE = 4096  # lines looked at to decide whether a batch's messages repeat
MOST_DISTINCT = 0.75  # a share of distinct messages in the sample above which gathering does not pay

_KEY = ["fid", "tenant", "body"]


def repeats(timed: pl.DataFrame) -> bool:
    """Whether enough of the lines' messages repeat (within a file) for gathering them to pay."""
    sample = timed.head(SAMPLE).select(_KEY)
    return sample.height > 0 and sample.n_unique() <= MOST_DISTINCT * sample.height


def gathered(timed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one row per file, tenant and message, in the order of its first line, with `n`, `wall` (the earliest),
    `wall_last` and `_i` (the position of its first line in `timed`); the lines' own `row`, `fid`, `line`,
    `wall`, `tenant` and `body`, to turn a gathered row back into its lines with `scattered`)."""
    key = ["fid", "body"] if timed["tenant"].null_count() == timed.height else _KEY  # MI writes no tenant
    first = timed.with_row_index("_i").group_by(key).agg(
        pl.col("_i").first(), _wall=pl.col("wall").min(), wall_last=pl.col("wall").max(), n=pl.len()).sort("_i")
    rows = timed.select("row", *_KEY, "line", "wall")
    out = timed[first["_i"]].with_columns(wall=first["_wall"], wall_last=first["wall_last"], n=first["n"],
                                          _i=first["_i"])
    return out, rows


def scattered(gathered_rows: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Gathered rows (with `_i`) turned back into one row per line: each line's `row`, `line` and `wall` (its
    `wall_last` too, `n` 1), the rest of the columns as gathered."""
    keys = rows[gathered_rows["_i"]].select(_KEY)
    fields = pl.concat([gathered_rows.drop("row", "line", "wall", "wall_last", "n", *_KEY, strict=False), keys],
                       how="horizontal")
    out = rows.join(fields, on=_KEY, how="inner", nulls_equal=True).sort("row")
    return out.with_columns(wall_last=pl.col("wall"), n=pl.lit(1, pl.UInt32)).select(gathered_rows.columns)
