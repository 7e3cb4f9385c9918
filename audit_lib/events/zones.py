"""The time zones offered and accepted: real IANA zones that both Python and polars know.

`zoneinfo.available_timezones()` also lists files of the zone database that are not zones (`Factory`,
`localtime`, `posixrules`, the `posix/` and `right/` copies, table files on some systems); `Factory` and
`localtime` make polars fail, and `right/` zones count leap seconds that polars does not.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import polars as pl

NOT_ZONES = frozenset({"Factory", "localtime", "posixrules", "leap-seconds.list", "leapseconds", "tzdata.zi",
                       "zone.tab", "zone1970.tab", "iso3166.tab", "zonenow.tab", "SECURITY", "+VERSION"})
NOT_PREFIXES = ("posix/", "right/")
COMMON = ("UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago", "America/Los_Angeles",
          "Asia/Colombo", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney")


@lru_cache(maxsize=1)
def iana_zones() -> tuple[str, ...]:
    """Every accepted zone name, sorted: `zoneinfo.available_timezones()` minus the files that are not zones,
    keeping only names polars can use."""
    return tuple(name for name in sorted(_named()) if _polars_knows(name))


def is_zone(name: object) -> bool:
    """True when `name` is one of `iana_zones()` (polars is asked about this name only: a command's start does
    not probe all 600)."""
    return isinstance(name, str) and name in _named() and _polars_knows(name)


@lru_cache(maxsize=1)
def _named() -> frozenset[str]:
    return frozenset(n for n in zoneinfo.available_timezones() if n not in NOT_ZONES and not n.startswith(NOT_PREFIXES))


@lru_cache(maxsize=1024)
def _polars_knows(name: str) -> bool:
    try:
        pl.Series([0], dtype=pl.Datetime("us")).dt.replace_time_zone(name)
    except Exception:  # a name this polars build does not know
        return False
    return True


def offered_zones() -> list[str]:
    """The zones for a pick list: the common ones first, then all others alphabetically."""
    common = [z for z in COMMON if is_zone(z)]
    return common + [z for z in iana_zones() if z not in common]


def extreme(times: pl.Series, which: str = "max") -> datetime | None:
    """The earliest (`which="min"`) or latest time of an aware series as a Python datetime in its zone.

    Python cannot hold an instant past 9999-12-31 UTC, so the latest time of a year-9999 line read west of UTC
    (or the earliest of a year-1 line east of it) cannot be converted as usual: it is then given as its
    wall-clock time with the zone attached, which formats and compares like the real one.
    """
    if times.is_empty() or times.null_count() == times.len():
        return None
    try:
        return getattr(times, which)()
    except OverflowError:
        naive = getattr(times.dt.replace_time_zone(None), which)()
        zone = getattr(times.dtype, "time_zone", None)
        return naive.replace(tzinfo=ZoneInfo(zone)) if zone else naive


# What the lines themselves say of the servers' zone: API Manager's sign-ins end their inner time with an offset
# ("2026-10-26 10:23:58,618+0530"), MI's name the zone as Java prints it ("Mon Oct 26 10:23:58 IST 2026"), and
# Identity Server 7 records carry their UTC instant (recordedAt) beside the line's wall-clock time.
# Each is cut straight from the details (the parser writes them as compact JSON) by one pattern with one group;
# MI's usual sign-in details ({"at":"Tue Feb 03 00:00:12 IST 2026"}, _MI_AT) are matched without a capture and
# their zone cut by position (27 characters in, 7 before the end), several times cheaper; they hold no offset.
CLUE_KEYS = ("at", "recordedAt")  # the details' keys that hold a clue (a parser counting events may drop the rest)
_AT_ZONE = r'"at":"\w{3} \w{3} +\d{1,2} \d\d:\d\d:\d\d ([^\s"\\]+) \d{4}"'
_AT_OFFSET = r'"at":"[^"\\]*([+-]\d\d:?\d\d)"'
_RECORDED = r'"recordedAt":"([^"\\]*)"'
_MI_AT = r'^\{"at":"\w{3} \w{3} \d\d \d\d:\d\d:\d\d [^\s"\\]+ \d{4}"\}$'
CLUE_SCHEMA = {"node": pl.String, "clue": pl.String, "written": pl.String, "read_as": pl.String, "events": pl.Int64,
               "source": pl.String, "line": pl.Int64}


def zone_clues(events: pl.DataFrame | pl.LazyFrame, tz: str) -> pl.DataFrame:
    """Where the lines' own clues disagree with reading their times in `tz`: per node and clue (the offset
    written in sign-in lines, the zone MI's sign-ins name, IS 7's UTC instant), what the lines say, what `tz`
    gives then, how many events, and the first of them (source, line). Empty when every clue agrees (or there is
    none). A zone whose own abbreviation is numeric (Asia/Colombo: +0530) cannot be matched by name: MI's clue
    is then left out. `events` may be a lazy scan (an event store's): it is read streaming, five columns."""
    return clues_of(clue_counts(events, tz), tz)


_CLUE_BY = ["node", "source", "abbr", "at_offset", "lag"]  # what each event's clues are counted by
CLUE_COUNTS = [*_CLUE_BY, "_q", "read"]  # a clue count's keys (with what `tz` reads there), then events, line


def clue_counts(events: pl.DataFrame | pl.LazyFrame, tz: str) -> pl.DataFrame:
    """The events' clues counted (`events`, first `line`) per node, source, clue and what `tz` reads there
    (`_q`: the quarter hour, `read`: the offset): what `clues_of` needs, as few rows as there are distinct
    ones. Counts of several parts of a log can be added up (`add_clue_counts`) before `clues_of`."""
    lf = events.lazy()
    if not {"node", "details", "timestamp", "source", "line"} <= set(lf.collect_schema().names()):
        return _no_counts(tz)
    # each event's clues, then as few rows as there are distinct ones (per node, source and UTC minute) before
    # the offset `tz` gives them and their quarter hour (zones change their offset on a quarter hour) are worked
    # out once a minute; a minute in which either changes (an offset with seconds: local mean time) is worked out
    # event by event
    rows = _clue_rows(lf.filter(has_clue(pl.col("details"))))
    by = _CLUE_BY
    counted = {"events": pl.len().cast(pl.Int64), "line": pl.col("line").min().cast(pl.Int64)}
    # a scan (an event store's) is read streaming; a frame in memory at once (a batch's: the engine costs more)
    engine = "in-memory" if isinstance(events, pl.DataFrame) else "streaming"
    minutes = rows.group_by(*by, "_m").agg(**counted).collect(engine=engine)
    if minutes.is_empty():
        return _no_counts(tz)
    at = {end: pl.from_epoch(pl.col("_m") * 60_000 + end * 1000, time_unit="ms").dt.replace_time_zone("UTC")
          .dt.convert_time_zone(tz) for end in (0, 59)}
    minutes = minutes.with_columns(_q=at[0].dt.truncate("15m"), read=_offset(at[0])).with_columns(
        _sure=(pl.col("_q") == at[59].dt.truncate("15m")) & (pl.col("read") == _offset(at[59])))
    out = minutes.filter("_sure").drop("_m", "_sure")
    if not minutes["_sure"].all():
        unsure = minutes.filter(~pl.col("_sure"))["_m"].unique().implode()
        ts = pl.col("timestamp")
        each = rows.filter(pl.col("_m").is_in(unsure)).with_columns(
            _q=ts.dt.truncate("15m").dt.cast_time_unit("ms"), read=_offset(ts))
        out = pl.concat([out, each.group_by(*by, "_q", "read").agg(**counted).collect()], how="diagonal_relaxed")
    return add_clue_counts([out])


def has_clue(details: pl.Expr) -> pl.Expr:
    """Whether an event's details (compact JSON) may hold a clue: they name one of CLUE_KEYS with a text value."""
    return pl.any_horizontal([details.str.contains(f'"{key}":"', literal=True) for key in CLUE_KEYS])


def add_clue_counts(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Clue counts (`clue_counts`) of parts of a log, added up."""
    return pl.concat(parts, how="vertical_relaxed").group_by(CLUE_COUNTS).agg(pl.col("events").sum(),
                                                                            pl.col("line").min())


def _no_counts(tz: str) -> pl.DataFrame:
    return pl.DataFrame(schema={"node": pl.String, "source": pl.String, "abbr": pl.String, "at_offset": pl.String,
                                "lag": pl.Int64, "_q": pl.Datetime("ms", tz), "read": pl.Int64, "events": pl.Int64,
                                "line": pl.Int64})


def clues_of(counts: pl.DataFrame, tz: str) -> pl.DataFrame:
    """The clues that disagree with `tz` (see `zone_clues`), from their counts (see `clue_counts`)."""
    if counts.is_empty():
        return pl.DataFrame(schema=CLUE_SCHEMA)
    lf = counts.with_columns(pl.col("node", "source").cast(pl.String))
    names = _zone_names(lf["_q"].unique(), tz)
    sign = pl.when(pl.col("at_offset").str.starts_with("-")).then(-1).otherwise(1)
    digits = pl.col("at_offset").str.replace(":", "", literal=True)
    written = sign * (digits.str.slice(1, 2).cast(pl.Int64) * 60 + digits.str.slice(3, 2).cast(pl.Int64))
    lf = lf.lazy().with_columns(offset=written).join(names.lazy(), on="_q", how="left")
    keep = ("node", "source", "line", "events")
    clues = pl.concat([
        lf.filter(pl.col("offset").is_not_null() & (pl.col("offset") != pl.col("read"))).select(
            *keep, clue=pl.lit("offset written in sign-in lines"), written=_as_offset(pl.col("offset")),
            read_as=_as_offset(pl.col("read"))),
        lf.filter(pl.col("abbr").is_not_null() & ~pl.col("name").str.contains(r"^[+-]\d")
                  & (pl.col("abbr") != pl.col("name"))).select(
            *keep, clue=pl.lit("zone named in MI sign-in lines"), written="abbr", read_as="name"),
        lf.filter(pl.col("lag").is_not_null() & (pl.col("lag") != pl.col("read"))).select(
            *keep, clue=pl.lit("UTC time of Identity Server 7 records"), written=_as_offset(pl.col("lag")),
            read_as=_as_offset(pl.col("read"))),
    ])
    first = pl.col("source").min()  # the example: the first line of the first file by name
    out = clues.group_by("node", "clue", "written", "read_as").agg(
        pl.col("events").sum(), source=first, line=pl.col("line").filter(pl.col("source") == first).min())
    return out.select(list(CLUE_SCHEMA)).sort("node", "clue", "events", descending=[False, False, True]).collect()


def _clue_rows(lf: pl.LazyFrame) -> pl.LazyFrame:
    """node, source, line, timestamp, its UTC minute `_m` and the clues of each event (abbr: the zone MI's
    sign-ins name; at_offset: the offset API Manager's write; lag: IS 7's wall-clock time less its UTC instant,
    in minutes rounded to a quarter hour). MI's usual sign-ins are cut by position, the others by the patterns."""
    details, ts = pl.col("details"), pl.col("timestamp")
    lf = lf.select("node", "source", "line", "timestamp", "details", _m=ts.dt.epoch("ms") // 60_000,
                   _mi=details.str.contains(_MI_AT))
    keep = ("node", "source", "line", "timestamp", "_m")
    mi = lf.filter("_mi").select(*keep, abbr=details.str.slice(27, details.str.len_chars() - 34),
                                 at_offset=pl.lit(None, pl.String), lag=pl.lit(None, pl.Int64))
    wall = ts.dt.replace_time_zone(None).dt.cast_time_unit("ms")
    instant = details.str.extract(_RECORDED, 1).str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", strict=False)
    other = lf.filter(~pl.col("_mi")).select(
        *keep, abbr=details.str.extract(_AT_ZONE, 1), at_offset=details.str.extract(_AT_OFFSET, 1),
        lag=((wall - instant.dt.cast_time_unit("ms")).dt.total_seconds() / 900).round().cast(pl.Int64) * 15)
    return pl.concat([mi, other])


def _offset(t: pl.Expr) -> pl.Expr:
    """The zone's offset from UTC at `t`, in minutes."""
    return (t.dt.base_utc_offset() + t.dt.dst_offset()).dt.total_minutes()


def _zone_names(times: pl.Series, tz: str) -> pl.DataFrame:
    """The zone's abbreviation at each distinct time (tzdata's: IST, CET, CEST, UTC, or a number)."""
    zone = ZoneInfo(tz)
    distinct = times.drop_nulls()
    return pl.DataFrame({"_q": distinct, "name": [t.astimezone(zone).tzname() for t in distinct.to_list()]},
                        schema={"_q": times.dtype, "name": pl.String})


def _as_offset(minutes: pl.Expr) -> pl.Expr:
    sign = pl.when(minutes < 0).then(pl.lit("-")).otherwise(pl.lit("+"))
    m = minutes.abs()
    return pl.format("UTC{}{}:{}", sign, (m // 60).cast(pl.String).str.zfill(2), (m % 60).cast(pl.String).str.zfill(2))
