"""`summarise` (counted batch by batch as the files are parsed) gives exactly `summary(load(...))`."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import audit_lib
from audit_lib.analysis import summary as summary_module
from audit_lib.analysis.summary import summarise, summary
from audit_lib.demo.estate import write_estate
from audit_lib.intake import loader

ROOT = Path(__file__).resolve().parents[2]


def _same(source, tz: str) -> dict:
    whole, streamed = summary(audit_lib.load(source, tz=tz)), summarise(source, tz=tz)
    assert json.dumps(streamed, ensure_ascii=False) == json.dumps(whole, ensure_ascii=False)  # values and order
    return whole


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_the_samples_counted_as_parsed_match_the_loaded_summary(samples_dir: Path, tz: str) -> None:
    s = _same(samples_dir, tz)
    assert s["events"] > 1000 and s["duplicate_files"] and s["rejects"]


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> Path:
    """Three products over a clock change (Europe/London, 25 October), gzipped archives; a rotated file copied
    as .gz beside itself and into another node's folder (duplicates), damaged lines (rejects)."""
    out = tmp_path_factory.mktemp("estate")
    write_estate(out, ["mi1", "mi2", "apim1", "is1"], start=date(2026, 10, 22), days=6, events_per_day=900,
                 gzip_after=3, tz="Europe/London", seed=5)
    logs = out / "mi1" / "repository" / "logs"
    rotated = sorted(p for p in logs.iterdir() if p.name.endswith(".log") and p.name != "audit.log")[0]
    (logs / (rotated.name + ".gz")).write_bytes(gzip.compress(rotated.read_bytes()))
    shutil.copy(rotated, out / "mi2" / "repository" / "logs" / rotated.name.replace("audit", "audit-copy"))
    with (out / "is1" / "repository" / "logs" / "audit.log").open("ab") as f:
        f.write(b"no timestamp here\n[2026-10-27 10:00:00,000]  INFO {AUDIT_LOG} - {\"performedBy\":\"x\"\n"
                b"   at org.example.Foo(Foo.java:1)\n[2026-10-27 10:00:01,000]  INFO {AUDIT_LOG} - cut off")
    return out


@pytest.mark.parametrize("tz,clue_rows", [("Europe/London", 100_000), ("UTC", 100_000), ("UTC", 50)])
def test_an_estate_counted_as_parsed_matches_in_small_batches(estate: Path, tz: str, clue_rows: int,
                                                              monkeypatch) -> None:
    """Batches of 64 KB: files span many batches, the memo of repeated messages is shared by them. The events
    with a zone clue are counted with other batches' (or, with `clue_rows` 50, mostly in their own batch)."""
    monkeypatch.setattr(loader, "BATCH", 64 << 10)
    monkeypatch.setattr(summary_module, "BATCH", 48 << 10)
    monkeypatch.setattr(summary_module, "CLUE_ROWS", clue_rows)
    s = _same(estate, tz)
    assert s["duplicate_files"] == 2 and s["rejects"] >= 3
    if tz == "Europe/London":
        assert s["ambiguous_times"] > 0  # the hour repeated on 25 October, where nothing tells
    else:
        assert s["zone_clues"]  # the lines' clues name another zone than UTC


def test_the_command_prints_the_same_figures(estate: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "audit_lib", "summary", "--json", "--tz", "Europe/London",
                          str(estate)], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(out.stdout) == summary(audit_lib.load(estate, tz="Europe/London"))


def test_clues_inside_change_records_are_counted_as_the_loaded_summary_counts_them(tmp_path: Path) -> None:
    """Counting keeps a change record's details only where they may hold a zone clue: an `at` or `recordedAt` in its
    info, encoded or not, is still found, and a record without one adds none."""
    head = "[2026-01-12 10:00:0{}, 000]  INFO {{AUDIT_LOG}} - ".replace(", ", ",")
    lines = [
        head.format(1) + '{"performedBy":"admin","action":"created","type":"proxy_service",'
                         '"info":"{\\"proxyName\\":\\"P\\",\\"at\\":\\"Mon Jan 12 10:00:01 IST 2026\\"}"}',
        head.format(2) + '{"performedBy":"admin","action":"updated","type":"proxy_service",'
                         '"info":{"at":"Mon Jan 12 10:00:02 PST 2026"}}',
        head.format(3) + '{"performedBy":"admin","action":"deleted","type":"proxy_service",'
                         '"info":"{\\"proxyName\\":\\"beat\\"}"}',
        head.format(4) + "admin logged in at [Mon Jan 12 10:00:04 IST 2026]",
    ]
    (tmp_path / "audit.log").write_text("\n".join(lines) + "\n")
    s = _same(tmp_path, "Europe/Berlin")
    assert s["events"] == 4
    assert {(c["written"], c["events"]) for c in s["zone_clues"]} == {("IST", 2), ("PST", 1)}
