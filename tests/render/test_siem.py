"""SIEM exports: every ECS and OCSF line carries the fields its schema requires, the OCSF classes follow the kind of
record, and CEF escaping keeps log text inside its field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl

import audit_lib
from audit_lib.render.siem import events_export, findings_export

ROOT = Path(__file__).resolve().parents[2]
LOG = audit_lib.load(ROOT / "samples")

# required attributes of OCSF 1.3: the base event, then each class's own
OCSF_BASE = {"activity_id", "category_uid", "class_uid", "metadata", "severity_id", "time", "type_uid"}
OCSF_CLASS = {3002: {"user"}, 3001: {"user"}, 3004: {"entity"}, 6003: {"actor", "api", "src_endpoint"},
              2004: {"finding_info"}}
ACTIVITIES = {3002: {1, 2, 99}, 3001: {1, 2, 3, 4, 5, 6, 99}, 3004: {1, 2, 3, 4, 99}, 6003: {1, 2, 3, 4, 99}}
ECS_REQUIRED = {"@timestamp", "event", "message"}


def lines(data: bytes) -> list[dict]:
    return [json.loads(x) for x in data.decode().splitlines()]


def test_ocsf_lines_carry_their_required_fields_and_their_class() -> None:
    rows = lines(events_export(LOG.events, "ocsf"))
    assert len(rows) == LOG.events.height
    for r in rows:
        assert set(r) >= OCSF_BASE and OCSF_CLASS[r["class_uid"]] <= set(r)
        assert r["type_uid"] == r["class_uid"] * 100 + r["activity_id"]
        assert r["activity_id"] in ACTIVITIES[r["class_uid"]]
        assert r["metadata"]["product"]["vendor_name"] == "WSO2" and r["metadata"]["version"]
        assert r["status_id"] in (0, 1, 2)
    by_class = {c: [r for r in rows if r["class_uid"] == c] for c in (3001, 3002, 3004, 6003)}
    assert all(by_class.values()), {c: len(v) for c, v in by_class.items()}
    sign_ins = LOG.events.filter(pl.col("action").cast(pl.String).is_in(["logged_in", "login", "login_failed",
                                                                          "logged_out", "logout"])).height
    assert len(by_class[3002]) == sign_ins
    failed = [r for r in by_class[3002] if r["status_id"] == 2]
    assert failed and all(r["activity_id"] == 1 for r in failed)  # a refused logon is a logon that failed


def test_ecs_lines_and_findings_as_alerts() -> None:
    rows = lines(events_export(LOG.events, "ecs"))
    assert len(rows) == LOG.events.height and all(set(r) >= ECS_REQUIRED for r in rows)
    assert {r["event"]["category"][0] for r in rows} == {"authentication", "iam", "configuration"}
    assert all(r["@timestamp"].endswith("Z") and r["host"]["name"] for r in rows)
    found = audit_lib.findings(LOG.events)
    alerts = lines(findings_export(found, "ecs"))
    assert len(alerts) == len(found) and all(a["event"]["kind"] == "alert" for a in alerts)
    assert {a["event"]["id"] for a in alerts} == {f.id for f in found}
    assert all(a["rule"]["id"] and a["rule"]["name"] and a["message"] for a in alerts)
    ocsf = lines(findings_export(found, "ocsf"))
    assert all(set(r) >= OCSF_BASE and OCSF_CLASS[2004] <= set(r) for r in ocsf)


def test_cef_escaping_keeps_hostile_text_in_its_field() -> None:
    hostile = LOG.events.head(3).with_columns(
        pl.lit("ev|il\\=x\nCEF:0|WSO2|forged|1|x|y|10|").cast(pl.Categorical).alias("actor"),
        pl.lit("a=b|c\r\nd").cast(pl.Categorical).alias("artifact"))
    out = events_export(hostile, "cef").decode().splitlines()
    assert len(out) == 3
    for line in out:
        head = line.split("|")
        assert head[:3] == ["CEF:0", "WSO2", "audit_lib"]
        assert "suser=ev|il\\\\\\=x\\nCEF:0|WSO2|forged|1|x|y|10|" in line  # = and \ escaped, newline as \n
        assert "cs2=a\\=b|c\\r\\nd" in line
        assert line.count(" suser=") == 1
    found = audit_lib.findings(LOG.events)
    cef = findings_export(found, "cef").decode().splitlines()
    assert len(cef) == len(found) and all(c.startswith("CEF:0|WSO2|audit_lib|") for c in cef)


def test_export_command_writes_what_the_library_gives(tmp_path: Path) -> None:
    out = tmp_path / "events.ocsf.jsonl"
    r = subprocess.run([sys.executable, "-m", "audit_lib", "export", str(ROOT / "samples"), "--format", "ocsf",
                        "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == events_export(LOG.events, "ocsf")
    r = subprocess.run([sys.executable, "-m", "audit_lib", "export", str(ROOT / "samples"), "--format", "ecs",
                        "--findings", "--no-config"], capture_output=True, cwd=ROOT)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == len(audit_lib.findings(LOG.events))
