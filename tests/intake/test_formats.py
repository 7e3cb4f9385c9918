"""Every format file loads, and every sample line it declares parses to the fields it expects."""

from __future__ import annotations

import json

import polars as pl
import pytest

import audit_lib
from audit_lib.intake.formats import HERE, load_formats

FORMATS = load_formats()
SAMPLES = [(m.name, i, s) for m in FORMATS.messages for i, s in enumerate(m.samples)]


def test_every_format_file_is_read():
    files = {p.stem for p in HERE.glob("*.json")} - {"layouts"}
    assert {m.name for m in FORMATS.messages} == files
    assert all(m.samples for m in FORMATS.messages), "each format carries sample lines"


@pytest.mark.parametrize(("name", "index", "sample"), SAMPLES, ids=[f"{n}-{i}" for n, i, _ in SAMPLES])
def test_sample_line_parses_as_declared(name, index, sample):
    log = audit_lib.load([(f"{name}.log", sample["line"].encode())])
    assert log.rejects.height == 0, log.rejects.to_dicts()
    assert log.events.height == 1
    event = log.events.with_columns(pl.col(pl.Categorical).cast(pl.String)).to_dicts()[0]
    for field, expected in sample["expect"].items():
        assert event[field] == expected, (field, event)


def test_the_json_format_is_first_and_regex_groups_are_checked(tmp_path):
    assert FORMATS.messages[0].kind == "json"
    for f in HERE.glob("*.json"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    broken = json.loads((tmp_path / "mi_session.json").read_text(encoding="utf-8"))
    broken["details"] = ["no_such_group"]
    (tmp_path / "mi_session.json").write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(ValueError, match="no_such_group"):
        load_formats(tmp_path)


def test_a_split_needs_a_label_per_group(tmp_path):
    for f in HERE.glob("*.json"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    broken = json.loads((tmp_path / "is_audit.json").read_text(encoding="utf-8"))
    broken["split"]["labels"] = broken["split"]["labels"][:-1]
    (tmp_path / "is_audit.json").write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(ValueError, match="a label per group"):
        load_formats(tmp_path)


def test_a_new_format_file_needs_no_code(tmp_path):
    for f in HERE.glob("*.json"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "mi_restart.json").write_text(json.dumps({
        "name": "mi_restart", "product": "mi", "kind": "regex",
        "pattern": r"^(?P<user>\S+) restarted the server$",
        "fields": {"action": "restarted", "artifact_type": "server", "outcome": "success"},
        "samples": [],
    }), encoding="utf-8")
    line = b"[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - admin restarted the server\n"
    log = audit_lib.load([("audit.log", line)], formats=load_formats(tmp_path))
    assert log.events.select("user", "action", "artifact_type").row(0) == ("admin", "restarted", "server")
