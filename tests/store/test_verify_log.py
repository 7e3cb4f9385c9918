"""`verify` against edits an attacker can make while keeping the chain's hashes consistent: an entry that removes
data files, forged statistics or partition values in the Delta logs, the newest chain entry deleted, an empty
anchor. Each runs on a real store built from real files."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("deltalake", reason="the event store needs requirements-store.txt (deltalake)")

from audit_lib.cli import main  # noqa: E402
from audit_lib.store import ingest, scan_store, verify  # noqa: E402
from audit_lib.store import tables as T  # noqa: E402
from tests.store.test_store import mi_lines  # noqa: E402


def logs(store: Path, table: str) -> list[Path]:
    return sorted((store / table / "_delta_log").glob("*.json"))


def test_an_appended_entry_that_removes_a_data_file_is_refused(estate: Path, tmp_path: Path, capsys) -> None:
    from deltalake import DeltaTable

    store = tmp_path / "store"
    anchor = ingest(estate, store).head
    loc = T.Location.of(store)
    head = T.head(loc)
    victim = head.entries[-1]["files"][0]
    DeltaTable(str(store / "events")).delete(f"source = '{victim['source']}'")
    before, after = head.version(T.EVENTS), T.table_version(loc, T.EVENTS)
    old, new = T.live_files(loc, T.EVENTS, before), T.live_files(loc, T.EVENTS, after)
    tables = {name: {"version": head.version(name), "add": [], "remove": []} for name in T.TABLES}
    tables[T.EVENTS] = {"version": after, "add": [[p, new[p], T.file_sha256(loc, T.EVENTS, p)]
                                                  for p in sorted(set(new) - set(old))],
                        "remove": sorted(set(old) - set(new))}
    row = {**victim, "seq": 2, "kind": "grown", "events": -victim["events"]}
    T.append(loc, T.FILES, pl.DataFrame([row], schema=T.FILES_SCHEMA, orient="row"))
    tables[T.FILES] = {"version": T.table_version(loc, T.FILES), "add": [], "remove": []}
    T.commit_entry(loc, {"seq": 2, "time": datetime.now(UTC).isoformat(), "tz": "UTC", "prev": head.hash,
                         "files": [row], "pairs": [], "tables": tables})
    assert main(["verify", "--store", str(store), "--anchor", anchor, "--json"]) == 4
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert any(p["what"] == "chain entry 2" and "removes" in p["detail"] and "events table" in p["detail"]
               for p in problems)
    assert any(p["what"] == "chain entry 2" and "negative counts" in p["detail"] for p in problems)


@pytest.mark.parametrize("edit", ["statistics", "partition"])
def test_forged_delta_log_entries_are_detected(node: Path, tmp_path: Path, edit: str) -> None:
    store = tmp_path / "store"
    ingest(node, store)
    assert verify(store).ok
    log = logs(store, "events")[-1]
    lines = []
    for line in log.read_text().splitlines():
        action = json.loads(line)
        if "add" in action and edit == "statistics":
            stats = json.loads(action["add"]["stats"] or "{}")
            stats["minValues"] = {"timestamp": "2026-09-01T00:00:00.000Z"}
            stats["maxValues"] = {"timestamp": "2026-10-01T00:00:00.000Z"}
            action["add"]["stats"] = json.dumps(stats)
        elif "add" in action:
            action["add"]["partitionValues"]["month"] = "2025-01"
        lines.append(json.dumps(action))
    log.write_text("\n".join(lines) + "\n")
    if edit == "statistics":  # the forged statistics hide events from a scan that trusts them
        n = scan_store(store, start=datetime(2026, 11, 1, tzinfo=UTC)).select(pl.len()).collect().item()
        assert n < 50
    rep = verify(store)
    assert not rep.ok and any(p["what"].startswith("events/_delta_log version") and "statistics" in p["detail"]
                              for p in rep.problems), rep.problems


def test_the_newest_chain_entry_deleted_is_not_a_stopped_ingest(node: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest(node, store)
    with (node / "mi-a" / "repository" / "logs" / "audit.log").open("a") as f:
        f.write(mi_lines(datetime(2026, 11, 20, 11), 3))
    ingest(node, store)
    assert verify(store).ok
    logs(store, "chain")[-1].unlink()
    rep = verify(store)
    assert rep.entries == 1 and not rep.ok
    assert {p["what"] for p in rep.problems} >= {"events table", "files table"}
    assert all("no stopped ingest explains them" in p["detail"] for p in rep.problems)


def test_an_empty_anchor_is_an_error(node: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    ingest(node, store)
    assert main(["verify", "--store", str(store), "--anchor", ""]) == 1
    err = capsys.readouterr().err
    assert "--anchor" in err and len(err.strip().splitlines()) == 1


def test_an_edited_plain_copy_is_altered_though_its_gz_twin_is_intact(node: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    logs_dir = node / "mi-a" / "repository" / "logs"
    plain = logs_dir / "audit-11-19-2026.log"
    (logs_dir / "audit-11-19-2026.log.gz").write_bytes(gzip.compress(plain.read_bytes()))
    ingest(node, store)
    assert verify(store, [node]).ok
    plain.write_text(plain.read_text().replace("jane.ops", "jane.opz", 1))
    rep = verify(store, [node])
    assert not rep.ok
    assert [p["what"].split(" ")[0].rsplit("/", 1)[-1] for p in rep.problems] == ["audit-11-19-2026.log"]
    assert rep.problems[0]["detail"].startswith("altered")
    plain.unlink()  # gone, with its content intact in the twin: noted, not a problem
    assert verify(store, [node]).ok


def test_a_truncated_data_file_gives_one_line_and_no_panic_text(node: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest(node, store)
    victim = sorted((store / "events").rglob("*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[:300])
    env = {**os.environ, "RUST_BACKTRACE": "1"}
    for args, code in ((["verify", "--store", str(store)], 4), (["summary", "--store", str(store)], 1)):
        r = subprocess.run([sys.executable, "-m", "audit_lib", *args], capture_output=True, text=True, env=env,
                           cwd=Path(__file__).resolve().parents[2])
        assert r.returncode == code, r.stderr
        for text in (r.stdout, r.stderr):
            assert not any(w in text for w in ("panicked", "backtrace", "Traceback", "unwrap", "PanicException"))
        assert len(r.stderr.strip().splitlines()) <= 1
        assert ("NOT INTACT" in r.stdout) if code == 4 else ("cannot be read" in r.stderr)
