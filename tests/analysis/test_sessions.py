"""Sessions: sign-in to sign-out per actor and node, how each ended, and the changes inside it."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

import audit_lib
from audit_lib.analysis.sessions import ENDINGS, parse_duration, session_ids, sessions, with_sessions
from tests.support.wso2_lines import (
    DAY,
    HOUR,
    MIN,
    MONDAY,
    apim_change,
    apim_sign,
    is_login,
    is_record,
    load_nodes,
    mi_change,
    mi_sign,
)

T = MONDAY


def _one(table: pl.DataFrame, **where: object) -> dict:
    rows = table.filter(*[pl.col(k) == v for k, v in where.items()])
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_sign_in_changes_sign_out(tmp_path):
    ev = load_nodes(tmp_path, {"mi-1": [
        mi_sign(T, "jane"), mi_change(T + 5 * MIN, "jane", "disabled", "proxy_service", proxyName="OrderProxy"),
        mi_change(T + 9 * MIN, "jane", "enabled", "proxy_service", proxyName="OrderProxy"),
        mi_sign(T + 12 * MIN, "jane", "out"),
        mi_change(T + 20 * MIN, "jane", "deleted", "carbon_application", cAppFileName="a.car")]})
    table = sessions(ev)
    s = _one(table, actor="jane")
    assert (s["node"], s["product"], s["ended"], s["changes"]) == ("mi-1", "mi", "signed_out", 2)
    assert s["start"].replace(tzinfo=None) == T and s["end"].replace(tzinfo=None) == T + 12 * MIN
    assert s["duration"] == timedelta(minutes=12) and s["line"] == 1 and s["source"].endswith("audit.log")
    ids = with_sessions(ev)["session"].to_list()
    assert ids == [s["session"]] * 4 + [None]  # the change after the sign-out belongs to no session


def test_next_sign_in_timeout_and_open(tmp_path):
    ev = load_nodes(tmp_path, {"mi-1": [
        mi_sign(T, "raj"), mi_change(T + 10 * MIN, "raj", "updated", "log_level", loggerName="a", loggingLevel="INFO"),
        mi_sign(T + 20 * MIN, "raj"),  # again, without signing out: the first session ends here
        mi_change(T + 30 * MIN, "raj", "enabled", "endpoint", endpointName="EP"),
        mi_change(T + 3 * HOUR, "raj", "disabled", "endpoint", endpointName="EP"),  # 2.5 h quiet: the session is over
        mi_sign(T + 4 * HOUR, "ana"),
        mi_change(T + 4 * HOUR + 5 * MIN, "ana", "enabled", "endpoint", endpointName="EP"),
    ]})
    table = sessions(ev, timeout="1h")
    raj = table.filter(pl.col("actor") == "raj").sort("start")
    assert raj["ended"].to_list() == ["next_sign_in", "timeout"]
    assert raj["changes"].to_list() == [1, 1]
    assert raj["end"][1].replace(tzinfo=None) == T + 30 * MIN  # the last event seen in it
    assert _one(table, actor="ana")["ended"] == "open"  # the log ends within the timeout
    assert set(table["ended"]) <= set(ENDINGS)
    marks = with_sessions(ev, "1h").filter(pl.col("actor") == "raj")["session"].to_list()
    assert marks[-1] is None and marks[:4] == [raj["session"][0]] * 2 + [raj["session"][1]] * 2
    # a longer timeout keeps the late change in the second session
    assert sessions(ev, timeout="3h").filter(pl.col("actor") == "raj")["changes"].to_list() == [1, 2]


def test_session_left_quiet_until_the_node_moves_on_times_out(tmp_path):
    ev = load_nodes(tmp_path, {"mi-1": [mi_sign(T, "jane"), mi_sign(T + 5 * HOUR, "raj")],
                               "mi-2": [mi_sign(T + 5 * HOUR, "jane")]})
    table = sessions(ev)
    assert _one(table, actor="jane", node="mi-1")["ended"] == "timeout"
    assert _one(table, actor="jane", node="mi-2")["ended"] == "open"
    assert _one(table, actor="raj")["ended"] == "open"


def test_sessions_are_per_node(tmp_path):
    ev = load_nodes(tmp_path, {
        "mi-1": [mi_sign(T, "jane"), mi_change(T + MIN, "jane", "enabled", "proxy_service", proxyName="P"),
                 mi_sign(T + 2 * MIN, "jane", "out")],
        "mi-2": [mi_change(T + MIN, "jane", "enabled", "proxy_service", proxyName="P")]})
    table = sessions(ev)
    assert table.height == 1 and table["node"][0] == "mi-1" and table["changes"][0] == 1
    marked = with_sessions(ev).filter(pl.col("node").cast(pl.String) == "mi-2")
    assert marked["session"].null_count() == 1  # jane signed in on mi-1, not on mi-2


def test_api_manager_console_sign_in_covers_the_folded_actor(tmp_path):
    ev = load_nodes(tmp_path, {"apim": [
        apim_sign(T, "admin"), apim_change(T + MIN, "admin", "created", name="OrderAPI", version="1.0.0"),
        apim_sign(T + 3 * MIN, "admin", "out")]})
    s = _one(sessions(ev), node="apim")
    assert s["ended"] == "signed_out" and s["changes"] == 1 and s["product"] == "apim"


def test_identity_server_logins_open_sessions_and_failures_do_not(tmp_path):
    ev = load_nodes(tmp_path, {"is-1": [
        is_login(T, "null", "Failed"), is_login(T + MIN, "alice@carbon.super"),
        is_record(T + 2 * MIN, "alice@carbon.super", "Add User", "dave"),
        is_record(T + 3 * MIN, "alice@carbon.super", "Update Roles of User", "dave")]})
    table = sessions(ev)
    assert table.height == 1
    s = table.row(0, named=True)
    assert s["product"] == "is" and s["changes"] == 2 and s["ended"] == "open"
    assert s["start"].replace(tzinfo=None) == T + MIN


def test_actor_column_wins_over_user():
    tz = "UTC"
    base = pl.DataFrame({
        "timestamp": [MONDAY, MONDAY + MIN, MONDAY + 2 * MIN],
        "node": ["n1"] * 3, "product": ["apim"] * 3,
        "user": ["admin@carbon.super", "admin", "admin@carbon.super"],
        "action": ["logged_in", "created", "logged_out"], "artifact_type": ["session", "API", "session"],
        "artifact": ["admin@carbon.super", "OrderAPI", "admin@carbon.super"], "outcome": ["success"] * 3,
        "details": [None] * 3, "source": ["a.log"] * 3, "line": [1, 2, 3]}).with_columns(
        pl.col("timestamp").dt.replace_time_zone(tz), pl.col("line").cast(pl.UInt32))
    by_user = sessions(base)
    assert by_user["changes"].to_list() == [0]  # "admin" never signed in as "admin"
    by_actor = sessions(base.with_columns(actor=pl.lit("admin")))
    assert by_actor["changes"].to_list() == [1] and by_actor["actor"].to_list() == ["admin"]


def test_samples_sessions_hold_only_their_own_events(samples_log):
    ev = samples_log.events
    table = sessions(ev)
    assert table.height > 50 and table["session"].to_list() == list(range(1, table.height + 1))
    assert table["start"].is_sorted() and (table["end"] >= table["start"]).all()
    marked = with_sessions(ev).filter(pl.col("session").is_not_null())
    actor = "actor" if "actor" in ev.columns else "user"
    per = marked.group_by("session").agg(
        actors=pl.col(actor).cast(pl.String).n_unique(), nodes=pl.col("node").n_unique(),
        first=pl.col("timestamp").min(), last=pl.col("timestamp").max(),
        first_action=pl.col("action").cast(pl.String).sort_by("timestamp").first(), n=pl.len())
    joined = per.join(table, on="session")
    assert joined.height == table.height
    assert (joined["actors"] == 1).all() and (joined["nodes"] == 1).all()
    assert (joined["first"] == joined["start"]).all() and (joined["last"] == joined["end"]).all()
    assert set(joined["first_action"]) == {"logged_in"}
    # every change inside a session is counted in it; sign-ins, sign-outs and changes are all that is marked
    signs = marked.filter(pl.col("artifact_type").cast(pl.String) == "session").height
    assert table["changes"].sum() + signs == marked.height
    assert session_ids(ev).equals(with_sessions(ev)["session"])


def test_same_input_same_sessions(samples_log):
    assert sessions(samples_log.events).equals(sessions(samples_log.events.sample(fraction=1.0, shuffle=True, seed=3)
                                                        .sort("timestamp", maintain_order=True)))


def test_empty_and_sessionless_inputs(samples_log):
    empty = samples_log.events.head(0)
    assert sessions(empty).is_empty() and list(sessions(empty).columns)[:4] == ["session", "actor", "node", "product"]
    assert with_sessions(empty).height == 0
    changes_only = samples_log.events.filter(pl.col("artifact_type").cast(pl.String) != "session")
    assert sessions(changes_only).is_empty()
    assert with_sessions(changes_only)["session"].null_count() == changes_only.height


def test_package_exports_sessions():
    assert audit_lib.sessions is sessions and audit_lib.with_sessions is with_sessions


@pytest.mark.parametrize(("text", "expected"), [
    ("30m", timedelta(minutes=30)), ("2h", timedelta(hours=2)), ("90s", timedelta(seconds=90)), ("7d", 7 * DAY),
    (45, timedelta(minutes=45)), ("1.5h", timedelta(minutes=90))])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["soon", "", "-5m", "0", "3 fortnights"])
def test_parse_duration_refuses(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)
