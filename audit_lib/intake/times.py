"""Wall-clock times read as instants in a zone (`localise`): a time the clocks repeat when they go back has two
readings, one they skip when they go forward is read an hour later. Looking the zone up for each time costs ten
times a subtraction, so a time a day or more from every clock change is read as the wall-clock time less the
zone's offset there (from a quarter-hour grid of polars' own zone data), and only the times within a day of a
change are looked up both ways (`both_readings`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl


def localise(wall: pl.Series, tz: str) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Wall-clock times as aware times in `tz`: (first reading, second reading, ambiguous). A time repeated
    when the clocks go back has two readings; a time skipped when they go forward is read one hour later.
    Where the zone keeps one offset from a day before a time to a day after, the time has one reading: the
    wall-clock time less that offset (a tenth of the cost of looking the zone up for each time); only the times
    within a day of a clock change are looked up both ways (`both_readings`)."""
    if (grid := _offset_grid(wall, tz)) is None:
        return both_readings(wall, tz)
    start, at, offsets = grid
    changes = at.filter(offsets != offsets.shift(1, fill_value=offsets[0]))  # the first quarter hour after each
    one = pl.repeat(False, wall.len(), eager=True).alias("ambiguous")
    if changes.len() == 0:  # one offset throughout
        earliest = (wall - offsets[0]).dt.replace_time_zone("UTC").dt.convert_time_zone(tz)
        return earliest, earliest, one
    # a time a day or more from every change: its offset is the one of the quarter hours around it
    index = ((wall - start).dt.total_milliseconds() // _STEP_MS).cast(pl.UInt32)
    earliest = (wall - offsets.gather(index)).dt.replace_time_zone("UTC").dt.convert_time_zone(tz)
    after = changes.search_sorted(wall - timedelta(days=1))  # the first change from a day before each time on
    near = ((after < changes.len()) & (changes.gather(after.clip(upper_bound=changes.len() - 1))
                                       <= wall + timedelta(days=1))).fill_null(False)
    if not near.any():
        return earliest, earliest, one
    rows = near.arg_true()
    e, late, amb = both_readings(wall.gather(rows), tz)
    latest = earliest.clone().scatter(rows, late)  # (`scatter` writes into its series: a copy of its own)
    return earliest.scatter(rows, e), latest, one.scatter(rows, amb)


_STEP, _STEP_MS = "15m", 15 * 60_000  # no zone changes its clock twice in a quarter hour
_MOST = timedelta(days=5 * 366)  # times spread wider are looked up one by one (a grid of 175,000 at most)


def _offset_grid(wall: pl.Series, tz: str) -> tuple[datetime, pl.Series, pl.Series] | None:
    """The zone's offset at every quarter hour (UTC) from a day before the earliest of the times to a day after
    the latest, polars' own zone data: (the first quarter hour, the quarter hours, the offsets); None for times
    spread over more than `_MOST`."""
    lo, hi = wall.min(), wall.max()
    if lo is None:
        lo = hi = datetime(1970, 1, 1)
    if hi - lo > _MOST:
        return None
    start = lo - timedelta(days=1)
    at = pl.datetime_range(start, start if tz == "UTC" else hi + timedelta(days=1), _STEP, time_unit="ms",
                           eager=True)
    local = at.dt.replace_time_zone("UTC").dt.convert_time_zone(tz)
    return start, at, local.dt.base_utc_offset() + local.dt.dst_offset()


def both_readings(wall: pl.Series, tz: str) -> tuple[pl.Series, pl.Series, pl.Series]:
    """`localise` by looking the zone up for each time, both ways (earliest and latest reading)."""
    earliest = wall.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    latest = wall.dt.replace_time_zone(tz, ambiguous="latest", non_existent="null")
    skipped = (earliest.is_null() & wall.is_not_null()).arg_true()
    if skipped.len():
        later = (wall.gather(skipped) + timedelta(hours=1)).dt.replace_time_zone(
            tz, ambiguous="earliest", non_existent="null")
        earliest, latest = earliest.scatter(skipped, later), latest.scatter(skipped, later)
    return earliest, latest, (earliest != latest).fill_null(False).alias("ambiguous")


def steady_offset(wall: pl.Series, tz: str) -> timedelta | None:
    """The one offset from UTC `tz` keeps from a day before the earliest of the times to a day after the latest,
    or None when it changes there (or the times are spread too wide to look: see `_offset_grid`)."""
    if (grid := _offset_grid(wall, tz)) is None:
        return None
    offsets = grid[2]
    return offsets[0] if (offsets == offsets[0]).all() else None
