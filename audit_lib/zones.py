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
    probe = pl.Series([0], dtype=pl.Datetime("us"))
    out = []
    for name in sorted(zoneinfo.available_timezones()):
        if name in NOT_ZONES or name.startswith(NOT_PREFIXES):
            continue
        try:
            probe.dt.replace_time_zone(name)
        except Exception:  # a name this polars build does not know
            continue
        out.append(name)
    return tuple(out)


def is_zone(name: object) -> bool:
    """True when `name` is one of `iana_zones()`."""
    return isinstance(name, str) and name in _accepted()


@lru_cache(maxsize=1)
def _accepted() -> frozenset[str]:
    return frozenset(iana_zones())


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
