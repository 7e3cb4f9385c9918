"""python -m audit_lib findings / sessions: exit status by severity, JSON lines, scope, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest

from audit_lib.analysis.sessions import sessions
from audit_lib.checks.findings import findings
from audit_lib.cli import main
from tests.support.wso2_lines import DAY, HOUR, MIN, MONDAY, mi_change, mi_sign, write_node

T = MONDAY


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audit_lib", *args], capture_output=True, text=True)


@pytest.fixture()
def quiet_site(tmp_path):
    """One MI node whose only finding is a low one: a change on a Saturday inside a session."""
    fri, sat = T + 4 * DAY, T + 5 * DAY
    write_node(tmp_path, "mi-1", [
        mi_sign(fri, "jane"), mi_change(fri + MIN, "jane", "enabled", "endpoint", endpointName="EP"),
        mi_sign(fri + 2 * MIN, "jane", "out"),
        mi_sign(sat, "jane"), mi_change(sat + MIN, "jane", "disabled", "endpoint", endpointName="EP"),
        mi_sign(sat + 2 * MIN, "jane", "out")])
    return tmp_path


def test_json_lines_match_the_library(samples_log, samples_dir, capsys):
    code = main(["findings", str(samples_dir), "--json", "--no-config"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = findings(samples_log.events)
    assert [r["id"] for r in rows] == [f.id for f in expected]
    assert code == 3 and any(r["severity"] == "high" for r in rows)
    first = rows[0]
    assert {"id", "rule", "severity", "title", "summary", "first", "last", "count", "meaning", "references",
            "events"} <= set(first)
    assert len(first["events"]) == first["count"]
    assert all({"timestamp", "actor", "node", "outcome", "source", "line"} <= set(e) for e in first["events"])


def test_configuration_findings_join_the_output(samples_dir, capsys):
    main(["findings", str(samples_dir), "--json"])
    with_config = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    main(["findings", str(samples_dir), "--json", "--no-config"])
    without = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    extra = {r["rule"] for r in with_config} - {r["rule"] for r in without}
    assert extra and extra <= {"audit-logger-missing", "rollover-overwrites-archives", "retention-below-12-months",
                               "archive-at-size-limit", "missing-pci-fields"}


def test_exit_status_follows_fail_on(quiet_site):
    r = run("findings", str(quiet_site), "--no-config")
    assert r.returncode == 0, r.stderr
    assert "LOW     off-hours-change" in r.stdout and "1 finding (0 high, 0 medium, 1 low, 0 info)" in r.stdout
    assert "mi-1/repository/logs/audit.log:5" in r.stdout  # the event's file and line
    assert run("findings", str(quiet_site), "--no-config", "--fail-on", "low").returncode == 3
    assert run("findings", str(quiet_site), "--no-config", "--fail-on", "medium").returncode == 0
    # a scope that leaves the Saturday out has nothing to report
    r = run("findings", str(quiet_site), "--no-config", "--fail-on", "info", "--to", "2026-11-06")
    assert r.returncode == 0 and "0 findings" in r.stdout


def test_custom_rules_and_settings(quiet_site, tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"work_days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]}))
    r = run("findings", str(quiet_site), "--no-config", "--fail-on", "low", "--settings", str(settings))
    assert r.returncode == 0 and "0 findings" in r.stdout
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "endpoint-touched.json").write_text(json.dumps({
        "id": "endpoint-touched", "title": "Endpoint touched", "severity": "high", "meaning": "any endpoint change",
        "references": ["SOC 2 CC8.1"], "kind": "match", "where": {"artifact_type": "endpoint"}, "key": ["node"]}))
    r = run("findings", str(quiet_site), "--no-config", "--rules", str(rules), "--json")
    assert r.returncode == 3
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(x["rule"], x["count"]) for x in rows] == [("endpoint-touched", 2)]


def test_findings_errors_are_one_line(tmp_path, quiet_site):
    (tmp_path / "bad-rules").mkdir()
    (tmp_path / "bad-rules" / "x.json").write_text("{")
    for args, needle in [(["findings", str(tmp_path / "nope")], "No such file or folder"),
                         (["findings", str(quiet_site), "--rules", str(tmp_path / "bad-rules")], "x.json"),
                         (["findings", str(quiet_site), "--settings", str(tmp_path / "none.json")], "settings file"),
                         (["findings", str(quiet_site), "--from", "someday"], "Cannot read 'someday' as a date"),
                         (["findings", str(quiet_site), "--tz", "Nowhere/Land"], "Unknown time zone"),
                         (["sessions", str(quiet_site), "--timeout", "forever"], "as a duration")]:
        r = run(*args)
        assert r.returncode == 1 and needle in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    r = run("findings", str(quiet_site), "--fail-on", "catastrophic")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_sessions_json_and_table(samples_log, samples_dir, capsys):
    assert main(["sessions", str(samples_dir), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    table = sessions(samples_log.events)
    assert len(rows) == table.height and [r["session"] for r in rows] == table["session"].to_list()
    assert rows[0]["ended"] in ("signed_out", "next_sign_in", "timeout", "open")
    assert sum(r["changes"] for r in rows) == table["changes"].sum()
    assert main(["sessions", str(samples_dir / "mi-node-1"), "--from", "2026-11-01", "--to", "2026-11-01"]) == 0
    out = capsys.readouterr().out
    day = samples_log.events.filter(pl.col("node").cast(pl.String) == "mi-node-1",
                                    pl.col("timestamp").dt.date().cast(pl.String) == "2026-11-01")
    assert f"{sessions(day).height:,} sessions" in out and "signed_out" in out


def test_sessions_timeout_option(tmp_path):
    write_node(tmp_path, "mi-1", [mi_sign(T, "jane"), mi_change(T + 2 * HOUR, "jane", "enabled", "endpoint",
                                                                  endpointName="EP")])
    short = json.loads(run("sessions", str(tmp_path), "--json", "--timeout", "30m").stdout)
    long = json.loads(run("sessions", str(tmp_path), "--json", "--timeout", "3h").stdout)
    assert (short["changes"], short["ended"]) == (0, "timeout")
    assert (long["changes"], long["ended"]) == (1, "open")


def test_sessions_of_one_user_with_their_changes(capsys):
    import audit_lib
    from audit_lib.analysis.sessions import session_changes

    log = audit_lib.load("samples")
    table, changes = session_changes(log.events)
    who = table.filter(pl.col("changes") > 0)["actor"][0]
    assert main(["sessions", "samples", "--user", who, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and {r["actor"] for r in rows} == {who}
    for r in rows:
        assert len(r["change_events"]) == r["changes"]
        for c in r["change_events"]:
            assert set(c) == {"timestamp", "action", "artifact_type", "artifact", "outcome", "source", "line"}
            assert c["outcome"] is not None and c["outcome"] != "None"
            assert log.raw_line(c["source"], c["line"])  # each change points at the line it was read from
    assert sum(r["changes"] for r in rows) == table.filter(pl.col("actor") == who)["changes"].sum()


def test_a_week_without_any_event_reports_every_silent_node(tmp_path, capsys):
    """Two nodes write in the first week and nothing in the second: findings on the second week, where no event
    lies, report both nodes silent (exit 3 with --fail-on medium) instead of finding nothing."""
    for node in ("mi-1", "mi-2"):
        write_node(tmp_path, node, [mi_change(T + k * DAY, "jane", "enabled", "endpoint", endpointName=node)
                                    for k in range(5)])
    week = ["--from", (T + 7 * DAY).strftime("%Y-%m-%d"), "--to", (T + 11 * DAY).strftime("%Y-%m-%d")]
    code = main(["findings", str(tmp_path), *week, "--fail-on", "medium", "--json", "--no-config"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 3
    assert sorted((r["rule"], r["node"], r["count"]) for r in rows) == [("audit-gap", "mi-1", 0),
                                                                         ("audit-gap", "mi-2", 0)]
    assert all("for 50.0 working hours" in r["summary"] for r in rows)
    # one node picked: only that one
    assert main(["findings", str(tmp_path), *week, "--node", "mi-2", "--fail-on", "medium", "--json",
                 "--no-config"]) == 3
    assert [json.loads(line)["node"] for line in capsys.readouterr().out.splitlines()] == ["mi-2"]
