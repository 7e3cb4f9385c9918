"""python -m audit_lib summary: JSON and table output, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl

from audit_lib.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audit_lib", *args], capture_output=True, text=True)


def test_summary_json_matches_the_library(samples_log, samples_dir, capsys):
    assert main(["summary", str(samples_dir), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    ev = samples_log.events
    assert s["events"] == ev.height and s["rejects"] == samples_log.rejects.height
    assert s["files"] == samples_log.files.height and s["duplicate_files"] == 1
    assert sum(s["by_user"].values()) == sum(s["by_type"].values()) == sum(s["by_node"].values()) == ev.height
    assert s["by_user"]["admin"] == ev.filter(pl.col("user") == "admin").height
    assert s["first"].startswith("2026-10-26T") and s["last"].startswith("2026-11-20T")
    assert set(s) >= {"by_action", "by_type", "by_node", "by_user", "first", "last"}


def test_summary_table(samples_dir, capsys):
    assert main(["summary", str(samples_dir / "mi-node-1")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Events ") and "By user:" in out and "mi-node-1" in out


def test_errors_are_one_line_and_non_zero(tmp_path):
    for args, needle in [(["summary", str(tmp_path / "nope")], "No such file or folder"),
                         (["summary", str(tmp_path)], "No audit log file"),
                         (["summary", "samples", "--tz", "Nowhere/Land"], "Unknown time zone")]:
        r = run(*args)
        assert r.returncode == 1 and needle in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = run("bogus")
    assert r.returncode == 2 and "invalid choice" in r.stderr and "Traceback" not in r.stderr
