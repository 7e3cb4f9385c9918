"""python -m audit_lib summary: JSON and table output, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    assert set(s) >= {"by_action", "by_type", "by_node", "by_user", "by_actor", "first", "last", "complete"}
    assert s["complete"] is True and s["problems"] == []
    assert sum(s["by_actor"].values()) == ev.height


def test_summary_table(samples_dir, capsys):
    assert main(["summary", str(samples_dir / "mi-node-1")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Events ") and "By actor:" in out and "mi-node-1" in out
    assert "Complete every file was read to its end" in out
    assert "wso2carbon.log: not an audit log name" in out


def test_summary_says_when_the_lines_name_another_zone(samples_dir, capsys):
    assert main(["summary", str(samples_dir), "--tz", "Asia/Kolkata", "--json"]) == 0
    clues = {(c["node"], c["written"], c["read_as"]) for c in json.loads(capsys.readouterr().out)["zone_clues"]}
    assert {("mi-node-1", "UTC", "IST"), ("mi-node-2", "UTC", "IST"), ("apim-node", "UTC+00:00", "UTC+05:30")} <= clues
    assert main(["summary", str(samples_dir / "mi-node-2"), "--tz", "Asia/Kolkata"]) == 0
    assert "Zone     ! mi-node-2: the zone named in MI sign-in lines is UTC, Asia/Kolkata gives IST" in \
        capsys.readouterr().out
    assert main(["summary", str(samples_dir / "mi-node-2"), "--json"]) == 0  # read in UTC: no clue disagrees
    assert json.loads(capsys.readouterr().out)["zone_clues"] == []


def test_summary_says_what_is_incomplete_and_what_was_skipped(tmp_path, samples_dir, capsys):
    import gzip

    whole = gzip.compress((samples_dir / "mi-node-1/repository/logs/audit.log").read_bytes() * 40)
    (tmp_path / "audit-11-02-2026.log.gz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["summary", str(tmp_path), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["complete"] is False
    assert [p["source"] for p in s["problems"]] == ["audit-11-02-2026.log.gz"]
    assert "truncated gzip" in s["problems"][0]["error"]
    assert {k["name"] for k in s["skipped"]} == {"notes.txt"}
    assert main(["summary", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "INCOMPLETE 1 file(s) were read only in part" in out and "notes.txt" in out


def test_errors_are_one_line_and_non_zero(tmp_path):
    for args, needle in [(["summary", str(tmp_path / "nope")], "No such file or folder"),
                         (["summary", str(tmp_path)], "No audit log file"),
                         (["summary", "samples", "--tz", "Nowhere/Land"], "Unknown time zone")]:
        r = run(*args)
        assert r.returncode == 1 and needle in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = run("bogus")
    assert r.returncode == 2 and "invalid choice" in r.stderr and "Traceback" not in r.stderr


FORGED_USER = "eve\n[2026-11-20 10:00:00,000]  INFO {AUDIT_LOG} - forged line\u200b"
FORGED_ARTIFACT = "api\nHIGH    privileged-account-created  forged finding\u2028\u202e"


def _forging_folder(tmp_path: Path) -> Path:
    """Lines whose user and artifact hold JSON-escaped newlines (real newlines once parsed) and invisible text,
    in a node folder whose name holds a newline (sign-ins are plain text: their user cannot)."""
    from datetime import datetime, timedelta

    from tests.support.wso2_lines import mi_change, mi_sign, write_node

    night = datetime(2026, 11, 7, 2, 0)  # a Saturday night: off-hours changes make findings
    lines = [mi_sign(night, "eve\u200b")]
    lines += [mi_change(night + timedelta(minutes=i), FORGED_USER, "created", "proxy_service", name=FORGED_ARTIFACT)
              for i in range(1, 30)]
    lines += [mi_change(night + timedelta(minutes=31), FORGED_USER, "deleted", "proxy_service",
                        proxyName=FORGED_ARTIFACT), mi_sign(night + timedelta(minutes=40), "eve\u200b", "out")]
    write_node(tmp_path / "logs", "mi1\n[2026-11-20 10:00:00,000]  INFO {AUDIT_LOG} - forged node", lines)
    return tmp_path / "logs"


def _no_forged_line(out: str) -> None:
    for line in out.splitlines():
        assert not line.lstrip().startswith(("[2026-11-20", "HIGH    privileged-account-created")), line
        assert "forged" not in line or "\\n" in line, line
    assert "\u200b" not in out and "\u2028" not in out and "\u202e" not in out


def test_newlines_and_invisible_characters_inside_fields_are_escaped_in_every_text_output(tmp_path, capsys):
    folder = str(_forging_folder(tmp_path))
    outputs = {}
    for args in (["summary", folder], ["findings", folder], ["sessions", folder]):
        assert main(args) in (0, 3), args
        outputs[args[0]] = out = capsys.readouterr().out
        _no_forged_line(out)
    assert "eve\\n[2026-11-20 10:00:00,000]  INFO {AUDIT_LOG} - forged line\\u200b" in outputs["summary"]
    assert "\\n[2026-11-20" in outputs["sessions"] and "finding" in outputs["findings"]
    assert "api\\nHIGH    privileged-account-created  forged finding\\u2028\\u202e" in outputs["findings"]
    pdf = tmp_path / "r.pdf"
    assert main(["report", folder, "--pdf", str(pdf), "--user", FORGED_USER]) == 0
    _no_forged_line(capsys.readouterr().out)
    # an error message quoting a field is one line too
    assert main(["summary", folder, "--tz", "Nowhere/\n[2026-11-20 10:00:00,000] forged"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "\\n[2026-11-20" in err


def test_json_outputs_stay_json_with_separators_and_bidi_escaped(tmp_path, capsys):
    folder = str(_forging_folder(tmp_path))
    assert main(["summary", folder, "--json"]) == 0
    out = capsys.readouterr().out
    assert "\u2028" not in out and "\u202e" not in out and "\u200b" not in out and len(out.splitlines()) == 1
    assert json.loads(out)["by_user"][FORGED_USER] > 0  # escapes decode back to the stored names
    for cmd in ("findings", "sessions"):
        assert main([cmd, folder, "--json"]) in (0, 3)
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert rows and all("\u2028" not in json.dumps(r) for r in rows)
        text = "\0".join(_strings(rows))
        assert "mi1\n[2026-11-20 10:00:00,000]" in text  # the stored names, decoded back


def _strings(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
