"""A stored audit.log rewritten on disk: the ingest says so, stores none of its old lines again, and the store
raises a `source-rewritten` finding; a rotation (archive given or not) and a file started afresh stay ordinary."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("deltalake", reason="the event store needs requirements-store.txt (deltalake)")

from audit_lib.cli import main  # noqa: E402
from audit_lib.store import ingest, open_store_log, verify  # noqa: E402
from audit_lib.store.rewrites import rewritten_sources  # noqa: E402
from tests.store.test_store import mi_lines  # noqa: E402

ACTIVE = "mi-a/repository/logs/audit.log"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """One MI node whose audit.log holds 32 lines (line 1 a sign-in by deployer)."""
    logs = tmp_path / "mi" / "mi-a" / "repository" / "logs"
    logs.mkdir(parents=True)
    (logs / "audit.log").write_text(mi_lines(datetime(2026, 11, 20, 8), 32, seed=2))
    return tmp_path / "mi"


def active(folder: Path) -> Path:
    return folder / ACTIVE


def rewrite_line(path: Path, number: int, old: str, new: str, append: str = "") -> None:
    lines = path.read_text().splitlines(keepends=True)
    assert old in lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new)
    path.write_text("".join(lines) + append)


def stored(store: Path) -> pl.DataFrame:
    return open_store_log(store).events.with_columns(pl.col("source", "user").cast(pl.String))


def source_rewritten(store: Path, capsys) -> list[dict]:
    main(["findings", "--store", str(store), "--json"])
    found = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return [f for f in found if f["rule"] == "source-rewritten"]


def test_a_rewritten_line_is_reported_and_only_the_appended_line_is_added(folder: Path, tmp_path: Path,
                                                                          capsys) -> None:
    store = tmp_path / "store"
    assert main(["ingest", str(folder), "--store", str(store), "--json"]) == 0
    capsys.readouterr()
    # line 1 rewritten (3 bytes shorter: the stored byte length now ends inside the appended line), one line added
    rewrite_line(active(folder), 1, "deployer", "admin", mi_lines(datetime(2026, 11, 20, 9), 1, seed=3))
    assert main(["ingest", str(folder), "--store", str(store), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["events_added"] == 1 and out["files_count"]["rewritten"] == 1 and out["files_count"]["new"] == 0
    [w] = out["rewritten"]
    assert (w["source"], w["node"], w["stored_lines"], w["changed_lines"], w["events_added"]) == (
        ACTIVE, "mi-a", 32, [1], 1)
    ev = stored(store)
    assert ev.height == 33 and set(ev["source"]) == {ACTIVE}  # no `audit.log (2)`
    assert ev.filter(pl.col("line") == 1)["user"].to_list() == ["deployer"]  # the line as first read
    assert ev["line"].sort().to_list() == list(range(1, 34))
    assert main(["verify", "--store", str(store)]) == 0
    assert capsys.readouterr().out.startswith("INTACT")
    assert verify(store, [folder]).ok  # the file as it is now is what the store last read
    [f] = source_rewritten(store, capsys)
    assert (f["severity"], f["node"], f["subject"]) == ("high", "mi-a", ACTIVE)
    assert "1 of its 32 stored lines differ (line 1)" in f["meaning"]
    assert f["references"] == ["PCI DSS 10.3.2", "PCI DSS 10.3.4", "SOC 2 CC7.2", "SOC 2 CC7.3"]
    # nothing new since: no second rewrite, no second finding
    r = ingest(folder, store)
    assert r.seq is None and r.rewritten == []
    assert len(source_rewritten(store, capsys)) == 1
    # it goes on growing as usual from what it holds now
    with active(folder).open("a") as fh:
        fh.write(mi_lines(datetime(2026, 11, 20, 10), 2, seed=4))
    r = ingest(folder, store)
    assert (r.grown, r.events_added, r.rewritten) == (1, 2, [])


def test_the_text_output_warns_and_a_longer_line_keeps_the_boundary(folder: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    main(["ingest", str(folder), "--store", str(store)])
    capsys.readouterr()
    more = mi_lines(datetime(2026, 11, 20, 9), 3, seed=3)
    rewrite_line(active(folder), 2, "Proxy", "AnotherProxy", more)  # 7 bytes longer
    assert main(["ingest", str(folder), "--store", str(store)]) == 0
    out = capsys.readouterr().out
    warning = [line for line in out.splitlines() if line.startswith("Warning")]
    assert warning == [f"Warning  {ACTIVE} (mi-a) was rewritten on disk: its first 4,417 bytes no longer hash as "
                       "stored by ingest 1; 1 of its 32 stored lines differ (line 2); only the lines after them were "
                       "added (3 events, from line 33); the stored lines are kept"]
    assert "1 rewritten" in out and "Events   3 added" in out
    assert stored(store).height == 35
    assert main(["verify", "--store", str(store)]) == 0


def test_a_file_cut_back_is_rewritten_and_adds_nothing(folder: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    ingest(folder, store)
    text = active(folder).read_text()
    active(folder).write_text("".join(text.splitlines(keepends=True)[:20]))  # its last 12 lines removed
    r = ingest(folder, store)
    [w] = r.rewritten
    assert (w["changed"], w["changed_lines"][:2], w["events_added"], r.events_added) == (12, [21, 22], 0, 0)
    assert stored(store).height == 32  # what was stored stays
    assert verify(store).ok
    [f] = source_rewritten(store, capsys)
    assert "12 of its 32 stored lines differ" in f["summary"]
    with active(folder).open("a") as fh:  # it grows on from what it holds now
        fh.write(mi_lines(datetime(2026, 11, 20, 10), 2, seed=4))
    r = ingest(folder, store)
    assert (r.grown, r.events_added, r.rewritten) == (1, 2, [])


def test_a_shorter_file_of_newer_lines_is_a_new_file(folder: Path, tmp_path: Path, capsys) -> None:
    """audit.log started again (rotated away, its archive not given, or truncated): an ordinary new file."""
    store = tmp_path / "store"
    ingest(folder, store)
    active(folder).write_text(mi_lines(datetime(2026, 11, 21, 0, 5), 5, seed=6))
    r = ingest(folder, store)
    assert (r.new, r.events_added, r.rewritten) == (1, 5, [])
    assert stored(store).height == 37
    assert source_rewritten(store, capsys) == [] and rewritten_sources(store) == []


def test_a_longer_new_file_after_a_rotation_whose_archive_is_not_given_is_a_new_file(folder: Path,
                                                                                     tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest(folder, store)
    active(folder).write_text(mi_lines(datetime(2026, 11, 21, 0, 5), 45, seed=6))  # larger than the stored part
    r = ingest(folder, store)
    assert (r.new, r.events_added, r.rewritten) == (1, 45, [])


def test_a_rotation_with_its_archive_given_is_still_rotated(folder: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    ingest(folder, store)
    logs = active(folder).parent
    with active(folder).open("a") as fh:  # written to until midnight, then renamed by log4j
        fh.write(mi_lines(datetime(2026, 11, 20, 23), 4, seed=7))
    active(folder).rename(logs / "audit-11-20-2026.log")
    active(folder).write_text(mi_lines(datetime(2026, 11, 21, 0, 1), 45, seed=8))  # larger than the stored part
    r = ingest(folder, store)
    assert (r.rotated, r.new, r.events_added, r.rewritten) == (1, 1, 4 + 45, [])
    assert verify(store, [folder]).ok
    assert source_rewritten(store, capsys) == []


def test_crlf_lines_rewritten_find_the_same_boundary(folder: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    text = active(folder).read_text().replace("\n", "\r\n")
    active(folder).write_bytes(text.encode())
    ingest(folder, store)
    lines = text.split("\r\n")
    lines[0] = lines[0].replace("deployer", "admin")
    more = mi_lines(datetime(2026, 11, 20, 9), 2, seed=3).replace("\n", "\r\n")
    active(folder).write_bytes(("\r\n".join(lines) + more).encode())
    r = ingest(folder, store)
    assert ([w["changed_lines"] for w in r.rewritten], r.events_added) == ([[1]], 2)
    assert stored(store)["line"].sort().to_list() == list(range(1, 35))
    assert open_store_log(store).rejects.is_empty()


def test_the_report_of_a_store_lists_the_rewrite(folder: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    ingest(folder, store)
    rewrite_line(active(folder), 1, "deployer", "admin", mi_lines(datetime(2026, 11, 20, 9), 1, seed=3))
    ingest(folder, store)
    pdf = tmp_path / "out" / "r.pdf"
    pdf.parent.mkdir()
    assert main(["report", "--store", str(store), "--pdf", str(pdf)]) == 0
    rules = [json.loads(line)["rule"] for line in (tmp_path / "out" / "r.findings.jsonl").read_text().splitlines()]
    assert rules.count("source-rewritten") == 1
    assert main(["report", "--store", str(store), "--pdf", str(pdf), "--no-config"]) == 0
    rules = [json.loads(line)["rule"] for line in (tmp_path / "out" / "r.findings.jsonl").read_text().splitlines()]
    assert rules.count("source-rewritten") == 1  # not a configuration finding: --no-config keeps it
