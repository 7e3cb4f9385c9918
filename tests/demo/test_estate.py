"""The estate's planted incidents: each is found by the rule it is planted for, ordinary work raises no HIGH, and
the ordinary work is the same with or without them."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

import audit_lib
from audit_lib.analysis.filters import Filters, known_nodes, scope_span
from audit_lib.checks.findings import findings
from audit_lib.demo.estate import INCIDENTS, incident_findings, other_days, plan_incidents, write_estate

NODES = ["mi1", "mi2", "mi3", "apim1", "is1"]
TZ = "Asia/Kolkata"
KW = dict(start=date(2026, 1, 5), days=120, events_per_day=30, seed=7, tz=TZ)


def evaluate(folder):
    log = audit_lib.load(folder, tz=TZ)
    return findings(log.events, nodes=known_nodes(log.files, Filters()), span=scope_span(Filters(), log.files)), log


@pytest.fixture(scope="module")
def estates(tmp_path_factory):
    root = tmp_path_factory.mktemp("signal")
    write_estate(root / "quiet", NODES, **KW)
    written = write_estate(root / "incidents", NODES, incidents=8, **KW)
    return root, written


def test_every_planted_incident_is_found_and_ordinary_work_raises_no_high(estates):
    root, written = estates
    assert len(written.incidents) == 8 and len({i.rule for i in written.incidents}) == 8
    found, _log = evaluate(root / "incidents")
    hits = incident_findings(written.incidents, found, TZ)
    assert [str(i) for i, fs in hits.items() if not fs] == []
    assert len(other_days(written.incidents, found, TZ)) <= 3
    quiet, _ = evaluate(root / "quiet")
    assert [f.summary for f in quiet if f.severity == "high"] == []
    # the baseline finding states the account's usual figures
    unusual = next(fs for i, fs in hits.items() if i.rule == "unusual-for-actor")
    assert "usually" in unusual[0].summary and "this day" in unusual[0].summary


def test_incidents_add_to_the_same_ordinary_work(estates):
    root, written = estates
    quiet = audit_lib.load(root / "quiet", tz=TZ).events
    noisy = audit_lib.load(root / "incidents", tz=TZ).events
    gap = next(i for i in written.incidents if i.rule == "audit-gap")
    days = [d.date() for d in quiet["timestamp"].to_list()]
    lost = sum(1 for d, n in zip(days, quiet["node"].to_list(), strict=True)
               if n == gap.node and 0 <= (d - gap.day).days < gap.days)
    assert lost > 0
    cols = ["timestamp", "node", "user", "action", "artifact"]
    extra = noisy.select(cols).join(quiet.select(cols), on=cols, how="anti", nulls_equal=True)
    assert noisy.height == quiet.height - lost + extra.height
    assert 8 <= extra.height < 400  # the incidents' own lines, nothing else changed


def test_plan_is_a_few_a_month_of_different_rules():
    plan = plan_incidents(len(INCIDENTS), NODES, ["mi", "mi", "mi", "apim", "is"], date(2026, 1, 1), 365, 1)
    assert sorted(i.rule for i in plan) == sorted(INCIDENTS)
    days = sorted(i.day for i in plan)
    assert all((b - a).days >= 3 for a, b in zip(days, days[1:], strict=False))
    assert all(i.day.weekday() < 5 for i in plan)
    with pytest.raises(ValueError, match="one a week at most"):
        plan_incidents(8, NODES, ["mi", "mi", "mi", "apim", "is"], date(2026, 1, 1), 40, 1)
    with pytest.raises(ValueError, match="different rules"):
        plan_incidents(4, ["is1"], ["is"], date(2026, 1, 1), 365, 1)  # only a gap can happen on IS alone


def test_estate_command_lists_the_planted_incidents(tmp_path):
    run = subprocess.run([sys.executable, "-m", "audit_lib.demo.sampledata", "estate", str(tmp_path / "out"),
                          "--nodes", "mi1,apim1", "--days", "90", "--incidents", "3"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "3 incidents planted" in run.stdout
    listed = [line for line in run.stdout.splitlines() if line.startswith("  20")]
    assert len(listed) == 3 and all(any(r in line for r in INCIDENTS) for line in listed)
