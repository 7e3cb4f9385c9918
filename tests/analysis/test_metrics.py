"""Metrics on small frames with known answers, and on the bundled samples."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import audit_lib
from audit_lib.analysis import metrics
from audit_lib.events.schema import events_schema, files_schema

ROOT = Path(__file__).resolve().parents[2]


def ev(rows: list[tuple]) -> pl.DataFrame:
    """Events from (time, user, action, artifact_type, artifact[, outcome[, node]]) tuples."""
    out = []
    for i, r in enumerate(rows):
        t, user, action, typ, art = r[:5]
        out.append({"timestamp": t, "node": r[6] if len(r) > 6 else "n1", "product": "mi", "user": user,
                    "actor": user, "action": action, "artifact_type": typ, "artifact": art,
                    "outcome": r[5] if len(r) > 5 else "success", "details": None, "level": "INFO",
                    "source": "a.log", "line": i + 1, "attachment": None})
    df = pl.DataFrame(out, schema=events_schema("UTC"))
    return df.with_columns([pl.col(c).cast(pl.Categorical) for c in ["node", "product", "user", "action",
                                                                      "artifact_type", "outcome", "level", "source"]])


def t(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # 2026-11-02 is a Monday


SMALL = ev([
    (t(2, 9), "alice", "logged_in", "session", "alice"),
    (t(2, 9, 5), "alice", "created", "proxy_service", "P1"),
    (t(2, 9, 10), "alice", "disabled", "proxy_service", "P1"),
    (t(3, 20), "bob", "enabled", "proxy_service", "P1"),
    (t(3, 21), "bob", "updated", "proxy_service", "P1"),
    (t(4, 11), "bob", "deleted", "endpoint", "E1"),
    (t(5, 12), "bob", "enabled", "endpoint", "E1", "failure"),
    (t(7, 3), "mallory", "login_failed", "session", "mallory", "failure"),
    (t(7, 4), "carol", "Add User", "user", "dave"),
])


@pytest.fixture(scope="module")
def sample() -> audit_lib.AuditLog:
    return audit_lib.load(ROOT / "samples", tz="UTC")


def test_action_kind_maps_products_vocabularies():
    got = pl.DataFrame({"a": ["logged_in", "login_failed", "Add User", "Delete Role", "Change Password by "
                              "Administrator", "lifecycle-changed", "undeployed", "POST"]}).select(
        metrics.action_kind(pl.col("a"))).to_series().to_list()
    assert got == ["sign-in", "failed sign-in", "create", "delete", "update", "update", "undeploy", "other"]


def test_key_figures_small():
    kf = metrics.key_figures(SMALL)
    assert kf["events"] == 9 and kf["users"] == 4 and kf["nodes"] == 1
    assert kf["artifact_types"] == 4 and kf["artifacts"] == 5
    assert kf["sign_ins"] == 1 and kf["failed_sign_ins"] == 1 and kf["failures"] == 2
    assert kf["span"] == t(7, 4) - t(2, 9)
    # off-hours: 20:00, 21:00 on weekdays, 03:00 and 04:00 on Saturday
    assert kf["off_hours"] == 4


def test_key_figures_empty_and_with_manifest(sample):
    kf = metrics.key_figures(SMALL.clear())
    assert kf["events"] == 0 and kf["span"] is None and kf["sign_ins"] == 0
    full = metrics.key_figures(sample.events, sample.files, sample.rejects)
    assert full["files"] == sample.files.height and full["rejects"] == sample.rejects.height
    assert full["sign_ins"] == sample.events.filter(pl.col("action") == "logged_in").height


def test_per_user_counts_kinds():
    users = metrics.per_user(SMALL)
    bob = users.filter(pl.col("user") == "bob").row(0, named=True)
    assert users["user"][0] == "bob"  # most active first
    assert bob["events"] == 4 and bob["enable"] == 2 and bob["update"] == 1 and bob["delete"] == 1
    assert bob["failures"] == 1 and bob["first_seen"] == t(3, 20) and bob["last_seen"] == t(5, 12)
    alice = users.filter(pl.col("user") == "alice").row(0, named=True)
    assert (alice["sign-in"], alice["create"], alice["disable"]) == (1, 1, 1)
    # kinds add up to the events of each user
    assert users.select(pl.sum_horizontal(metrics.KINDS) == pl.col("events")).to_series().all()


def test_per_user_on_samples_adds_up(sample):
    users = metrics.per_user(sample.events)
    assert users["events"].sum() == sample.events.height
    assert users["user"].n_unique() == users.height


def test_user_kinds_long_drops_zeros_and_keeps_order():
    long = metrics.user_kinds_long(metrics.per_user(SMALL), top=2)
    assert set(long["user"]) == {"bob", "alice"}
    assert (long["events"] > 0).all()
    assert long.filter(pl.col("user") == "bob")["events"].sum() == 4


def test_per_artifact_type_and_artifact():
    types = metrics.per_artifact_type(SMALL)
    proxy = types.filter(pl.col("artifact_type") == "proxy_service").row(0, named=True)
    assert proxy["events"] == 4 and proxy["artifacts"] == 1 and proxy["users"] == 2
    arts = metrics.per_artifact(SMALL)
    p1 = arts.filter(pl.col("artifact") == "P1").row(0, named=True)
    assert p1["last_action"] == "updated" and p1["last_user"] == "bob" and p1["state"] == "enabled"
    assert metrics.per_artifact(SMALL, "endpoint").height == 1


def test_artifact_state_ignores_updates_and_failures():
    state = metrics.artifact_state(SMALL)
    p1 = state.filter(pl.col("artifact") == "P1").row(0, named=True)
    assert p1["state"] == "enabled" and p1["state_by"] == "bob" and p1["state_since"] == t(3, 20)
    e1 = state.filter(pl.col("artifact") == "E1").row(0, named=True)
    assert e1["state"] == "deleted"  # the failed enable afterwards does not revive it
    assert state.filter(pl.col("artifact") == "dave")["state"].to_list() == ["created"]


def test_artifact_history_in_order_with_states():
    h = metrics.artifact_history(SMALL, "proxy_service", "P1")
    assert h["action"].to_list() == ["created", "disabled", "enabled", "updated"]
    assert h["state"].to_list() == ["created", "disabled", "enabled", None]
    assert h["timestamp"].is_sorted()


def test_artifact_history_on_samples_matches_state(sample):
    state = metrics.artifact_state(sample.events)
    row = state.row(0, named=True)
    h = metrics.artifact_history(sample.events, row["artifact_type"], row["artifact"])
    assert h.filter(pl.col("state").is_not_null())["state"][-1] == row["state"]


def test_over_time_buckets_and_top():
    daily = metrics.over_time(SMALL, "day", by="artifact_type")
    assert daily["events"].sum() == SMALL.height
    nov2 = daily.filter(pl.col("bucket") == t(2, 0))
    assert dict(nov2.select("group", "events").iter_rows()) == {"session": 1, "proxy_service": 2}
    top1 = metrics.over_time(SMALL, "day", by="artifact_type", top=1)
    assert set(top1["group"]) == {"proxy_service", metrics.OTHER} and top1["events"].sum() == SMALL.height
    total = metrics.over_time(SMALL, "day", by=None)
    assert total.height == 6 and total["events"].to_list() == [3, 2, 1, 1, 0, 2]  # Nov 6 is filled with 0
    weekly = metrics.over_time(SMALL, "week", by=None)
    assert weekly["events"].to_list() == [9] and weekly["bucket"][0] == t(2, 0)  # weeks start on Monday


def test_over_time_bounded_on_many_buckets():
    many = ev([(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i), f"u{i % 50}", "enabled", f"type{i % 30}",
                "a") for i in range(3000)])
    out = metrics.over_time(many, "hour", by="artifact_type", top=20, max_rows=5000)
    assert out.height <= 5000 and out["events"].sum() == 3000


def test_over_time_by_kind():
    out = metrics.over_time(SMALL, "day", by="kind")
    assert set(out["group"]) >= {"sign-in", "create", "enable"}


def test_weekday_hour_grid():
    wh = metrics.weekday_hour(SMALL)
    assert wh.height == 168 and wh["events"].sum() == SMALL.height
    mon9 = wh.filter((pl.col("day") == "Mon") & (pl.col("hour") == 9)).row(0, named=True)
    assert mon9["events"] == 3 and not mon9["off_hours"]
    assert wh.filter(pl.col("day") == "Sat")["off_hours"].all()


def test_off_hours_by_user():
    out = metrics.off_hours_by_user(SMALL)
    assert dict(out.select("user", "off_hours").iter_rows()) == {"bob": 2, "mallory": 1, "carol": 1}


def test_coverage_gaps_small():
    files = pl.DataFrame([
        {"source": "n1/audit-11-02-2026.log", "node": "n1", "first": t(2, 9), "last": t(2, 9, 10)},
        {"source": "n1/audit-11-03-2026.log", "node": "n1", "first": t(3, 20), "last": t(3, 21)},
        {"source": "n1/audit-11-05-2026.log", "node": "n1", "first": None, "last": None},
        {"source": "n1/audit.log", "node": "n1", "first": t(7, 3), "last": t(7, 4)},
    ], schema={k: v for k, v in files_schema("UTC").items() if k in ["source", "node", "first", "last"]}).with_columns(
        duplicate_of=pl.lit(None, pl.String))
    small = SMALL.filter(pl.col("timestamp").dt.day() != 4)
    cov = metrics.coverage_gaps(small, files)
    status = dict(cov.select(pl.col("day").dt.day(), "status").iter_rows())
    assert status == {2: "ok", 3: "ok", 4: "no file", 5: "ok", 6: "no file", 7: "ok"}
    gaps = metrics.coverage_gaps(small.filter(pl.col("timestamp").dt.day() != 5), files, only_gaps=True)
    assert dict(gaps.select(pl.col("day").dt.day(), "status").iter_rows()) == {4: "no file", 5: "no events",
                                                                                 6: "no file"}


def test_coverage_gaps_on_samples_finds_missing_day(sample):
    gaps = metrics.coverage_gaps(sample.events, sample.files, "UTC", only_gaps=True)
    mi1 = gaps.filter(pl.col("node") == "mi-node-1")
    assert mi1.select("day", "status").rows() == [(date(2026, 11, 10), "no file")]
    assert gaps.filter(pl.col("node") == "mi-node-2").is_empty()


def test_coverage_days_follow_time_zone(sample):
    utc = metrics.coverage_gaps(sample.events, sample.files, "UTC")
    east = metrics.coverage_gaps(sample.events, sample.files, "Asia/Tokyo")
    assert east["events"].sum() == utc["events"].sum() == sample.events.height
    assert not utc.filter(pl.col("node") == "mi-node-1").equals(east.filter(pl.col("node") == "mi-node-1"))


def test_parse_quality_adds_up(sample):
    q = metrics.parse_quality(sample.files, sample.rejects)
    assert q["complete"] and q["rejects"] == sample.rejects.height == 2
    assert q["events"] == sample.events.height and q["duplicates"] == 1
    assert q["reasons"]["lines"].sum() == 2


def test_top_values_and_event_page():
    top = metrics.top_values(SMALL, "user", 2)
    assert top["value"].to_list() == ["bob", "alice"] and top["events"].to_list() == [4, 3]
    page = metrics.event_page(SMALL, "user", True, offset=1, limit=2)
    assert page.height == 2 and page["user"].to_list() == ["carol", "bob"]
    assert page.schema["user"] == pl.String
    assert metrics.event_page(SMALL, offset=8, limit=5).height == 1


def test_format_span():
    assert metrics.format_span(timedelta(days=2, hours=3)) == "2 d 3 h"
    assert metrics.format_span(timedelta(minutes=5)) == "5 min"
    assert metrics.format_span(None) == "-"


def test_artifact_state_per_node_and_mixed_across_the_cluster():
    rows = ev([
        (t(2, 9), "ops", "enabled", "message_processor", "MP1", "success", "mi-1"),
        (t(2, 9), "ops", "enabled", "message_processor", "MP1", "success", "mi-2"),
        (t(2, 9), "ops", "enabled", "message_processor", "MP1", "success", "mi-3"),
        (t(3, 9), "ops", "disabled", "message_processor", "MP1", "success", "mi-2"),
        (t(3, 10), "ops", "disabled", "message_processor", "MP1", "success", "mi-3"),
        (t(4, 9), "ops", "enabled", "proxy_service", "P1", "success", "mi-1"),
        (t(4, 9), "ops", "enabled", "proxy_service", "P1", "success", "mi-2"),
    ])
    by_node = metrics.artifact_state_by_node(rows)
    mp1 = by_node.filter(pl.col("artifact") == "MP1")
    assert dict(mp1.select("node", "state").iter_rows()) == {"mi-1": "enabled", "mi-2": "disabled",
                                                             "mi-3": "disabled"}
    cluster = {r["artifact"]: r for r in metrics.artifact_state(rows).iter_rows(named=True)}
    assert cluster["MP1"]["state"] == "mixed" and cluster["MP1"]["state_since"] == t(3, 10)
    assert cluster["MP1"]["nodes"] == "disabled: mi-2, mi-3; enabled: mi-1"
    assert cluster["P1"]["state"] == "enabled"


def test_coverage_tells_partial_days_and_days_off_from_gaps():
    files = pl.DataFrame([
        {"source": "n1/audit-11-06-2026.log", "node": "n1", "first": t(6, 9), "last": t(6, 11, 44),
         "complete": False},  # Friday, the file ends in damage
        {"source": "n1/audit-11-10-2026.log", "node": "n1", "first": t(10, 9), "last": t(10, 17),
         "complete": True},  # Tuesday
    ], schema={k: v for k, v in files_schema("UTC").items() if k in ["source", "node", "first", "last",
                                                                      "complete"]}).with_columns(
        duplicate_of=pl.lit(None, pl.String))
    events = ev([(t(6, 9), "a", "enabled", "proxy_service", "P1"), (t(6, 11, 44), "a", "enabled", "x", "P"),
                 (t(10, 9), "a", "enabled", "proxy_service", "P1")])
    cov = metrics.coverage_gaps(events, files)
    status = dict(cov.select(pl.col("day").dt.day(), "status").iter_rows())
    assert status == {6: "partial", 7: "day off", 8: "day off", 9: "no file", 10: "ok"}
    holiday = metrics.coverage_gaps(events, files, holidays=(date(2026, 11, 9),), only_gaps=True)
    assert holiday["status"].to_list() == ["partial"]


def test_events_with_no_known_user_are_grouped_as_unknown():
    rows = ev([(t(2, 9), None, "login_failed", "session", None, "failure"),
               (t(2, 10), "alice", "logged_in", "session", "alice")])
    users = metrics.per_user(rows)
    assert set(users["user"]) == {"(unknown)", "alice"}
    assert metrics.top_values(rows, "user")["value"].null_count() == 0
