"""The zones offered, and what the lines themselves say of the servers' zone (`zones.zone_clues`)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

import polars as pl

import audit_lib
from audit_lib.events import zones
from audit_lib.events.zones import is_zone, zone_clues
from tests.support.wso2_lines import apim_sign, mi_change, mi_sign, stamp, write_node


def test_only_real_zones_are_accepted():
    assert is_zone("Asia/Colombo") and is_zone("UTC")
    assert not is_zone("Factory") and not is_zone("right/UTC") and not is_zone("Mars/Olympus")


def _mi_sign_in(t: datetime, user: str, zone: str) -> str:
    return f"[{stamp(t)}]  INFO {{AUDIT_LOG}} - {user} logged in at [{t:%a %b %d %H:%M:%S} {zone} {t:%Y}]"


def _is7(t: datetime, utc: datetime) -> str:
    record = (f'{{"id":"1","recordedAt":"{utc:%Y-%m-%dT%H:%M:%S}.000Z","requestId":"r","initiatorId":"6a5b",'
              f'"initiatorType":"User","targetId":"9e","targetType":"Application","action":"add-application",'
              f'"data":{{"Name":"billing"}}}}')
    return f"TID: [-1234] [{stamp(t)}] [r]  INFO {{AUDIT_LOG}} - {record}"


def test_clues_agree_with_the_zone_the_servers_write(tmp_path):
    t = datetime(2026, 11, 2, 15, 30)
    write_node(tmp_path, "mi", [_mi_sign_in(t, "admin", "IST"), mi_change(t, "admin", "enabled", "proxy_service",
                                                                          proxyName="P")])
    write_node(tmp_path, "apim", [apim_sign(t, "publisher").replace("+0000", "+0530")])
    write_node(tmp_path, "is7", [_is7(t, datetime(2026, 11, 2, 10, 0))])
    assert zone_clues(audit_lib.load(tmp_path, tz="Asia/Kolkata").events, "Asia/Kolkata").is_empty()
    wrong = zone_clues(audit_lib.load(tmp_path, tz="UTC").events, "UTC")
    got = {(n, w, r, e) for n, w, r, e in wrong.select("node", "written", "read_as", "events").iter_rows()}
    assert got == {("mi", "IST", "UTC", 1), ("apim", "UTC+05:30", "UTC+00:00", 1), ("is7", "UTC+05:30", "UTC+00:00", 1)}
    assert set(wrong["line"]) == {1}


def test_a_zone_named_by_a_number_is_not_matched_by_name_and_daylight_saving_is_followed(tmp_path):
    winter, summer = datetime(2026, 1, 10, 9), datetime(2026, 7, 10, 9)
    write_node(tmp_path, "colombo", [_mi_sign_in(winter, "a", "IST")])  # Java says IST, tzdata +0530
    write_node(tmp_path, "berlin", [_mi_sign_in(winter, "b", "CET"), _mi_sign_in(summer, "b", "CEST"),
                                     mi_sign(summer, "c")])  # the last one names UTC: it disagrees
    assert zone_clues(audit_lib.load(tmp_path / "colombo", tz="Asia/Colombo").events, "Asia/Colombo").is_empty()
    clues = zone_clues(audit_lib.load(tmp_path / "berlin", tz="Europe/Berlin").events, "Europe/Berlin")
    assert clues.select("written", "read_as", "events").rows() == [("UTC", "CEST", 1)]


def test_no_clue_no_row():
    empty = audit_lib.load([("audit.log", mi_change(datetime(2026, 1, 1), "a", "enabled", "api", apiName="x")
                             .encode())]).events
    assert zone_clues(empty, "UTC").is_empty() and zone_clues(empty.clear(), "UTC").is_empty()
    assert zone_clues(pl.DataFrame({"x": [1]}), "UTC").is_empty()


def test_the_zone_of_mi_sign_ins_is_read_the_same_in_every_form_they_take():
    """The usual form is cut by position; a one-digit day, a zone after a GMT offset, or an "at" inside other
    details take the pattern, and each gives the zone its text names (or none)."""
    t = datetime(2026, 11, 2, 15, 30)
    details = ['{"at":"Mon Nov 02 15:30:00 IST 2026"}', '{"at":"Mon Nov  2 15:30:00 CET 2026"}',
               '{"at":"Mon Nov 02 15:30:00 GMT+05:30 2026"}', '{"k":"v","at":"Mon Nov 02 15:30:00 EST 2026"}',
               '{"at":"Mon Nov 02 15:30:00 IST 2026","x":1}', '{"at":"Mon Nov 02 15:30 IST 2026"}',
               '{"at":"2026-11-02 15:30:00,001+0530"}']
    ev = pl.DataFrame({"node": [f"n{i}" for i in range(len(details))], "source": "audit.log", "line": 1,
                       "timestamp": pl.Series([t] * len(details)).dt.replace_time_zone("UTC"), "details": details})
    got = {n: (w, r) for n, w, r in zone_clues(ev, "UTC").select("node", "written", "read_as").iter_rows()}
    assert got == {"n0": ("IST", "UTC"), "n1": ("CET", "UTC"), "n2": ("GMT+05:30", "UTC"), "n3": ("EST", "UTC"),
                   "n4": ("IST", "UTC"), "n6": ("UTC+05:30", "UTC+00:00")}


def test_a_clue_is_read_at_its_own_quarter_hour_when_the_offset_has_seconds_or_changes_within_a_minute():
    """The clues are worked out once a UTC minute; where an offset has seconds (Dublin's mean time of
    1916) or changes (the clocks going forward and back), each event still gets its own quarter hour's zone."""
    from zoneinfo import ZoneInfo

    for tz, starts in [("Europe/Dublin", [datetime(1916, 5, 21, 1, 30), datetime(1916, 10, 1, 0, 40)]),
                       ("Europe/Berlin", [datetime(2026, 3, 29, 0, 40), datetime(2026, 10, 25, 0, 40)])]:
        utc = pl.concat([pl.datetime_range(s, s + timedelta(hours=2), "7s", eager=True, time_unit="ms")
                         for s in starts])
        ts = utc.dt.replace_time_zone("UTC").dt.convert_time_zone(tz)
        ev = pl.DataFrame({"node": "n", "source": "audit.log", "line": pl.int_range(1, ts.len() + 1, eager=True),
                           "timestamp": ts, "details": '{"at":"Mon Nov 02 15:30:00 XYZ 2026"}'})
        zone, want = ZoneInfo(tz), {}
        for t in ts.to_list():
            q = t.replace(minute=t.minute // 15 * 15, second=0, microsecond=0).astimezone(zone)
            if q.tzname()[0] not in "+-":  # a zone named by a number is not matched by name
                want[q.tzname()] = want.get(q.tzname(), 0) + 1
        got = dict(zone_clues(ev, tz).select("read_as", "events").iter_rows())
        assert got == want and len(want) >= 2, tz


def test_a_name_is_a_zone_exactly_when_the_full_list_has_it() -> None:
    """`is_zone` asks polars about one name; `iana_zones` probes them all: both accept the same names."""
    zones._polars_knows.cache_clear()
    names = sorted(zoneinfo.available_timezones()) + ["Nope/Nowhere", "../etc/passwd", "", "utc", "Europe/berlin"]
    listed = set(zones.iana_zones())
    assert {n for n in names if zones.is_zone(n)} == listed
    assert {"Factory", "localtime", "posixrules"}.isdisjoint(listed) and "Asia/Kolkata" in listed
