"""The store's status record and cheap head: per source outcomes kept across cycles, the last error kept until a
newer one, `verify` recording its verdict from the command line, a damaged record read as a problem line (and
rewritten by the next write), and `published_since` counting the events of the entries after a known one."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit_lib.cli import main
from audit_lib.store import Store, ingest
from audit_lib.store.deliveries import record_deliveries
from audit_lib.store.status import (
    STATUS_FILE,
    node_ingests,
    published_since,
    read_status,
    record_sources,
    record_verify,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "samples" / "is-node", tmp_path / "logs" / "is-node")
    ingest(tmp_path / "logs", tmp_path / "store")
    return tmp_path / "store"


def test_sources_keep_their_last_success_and_last_error(store: Path) -> None:
    assert read_status(store).sources == {} and read_status(store).verify is None
    record_sources(store, [("/logs", "path", None), ("mi2", "mi", "https://mi2:9164: does not answer")], T0)
    record_sources(store, [("/logs", "path", "/logs: no such file or folder"), ("mi2", "mi", None)],
                   T0 + timedelta(minutes=5))
    rows = {r["source"]: r for r in read_status(store).sources_frame().iter_rows(named=True)}
    assert rows["/logs"] == {"source": "/logs", "kind": "path", "last_ok": "2026-12-01T08:00:00+00:00",
                             "last_error_at": "2026-12-01T08:05:00+00:00",
                             "last_error": "/logs: no such file or folder"}
    assert rows["mi2"]["last_ok"] == "2026-12-01T08:05:00+00:00"  # the old error stays, older than the success
    assert rows["mi2"]["last_error"] == "https://mi2:9164: does not answer"
    assert rows["mi2"]["last_error_at"] == "2026-12-01T08:00:00+00:00"
    assert not list(store.glob(".status.*.tmp"))  # written by renaming a whole file into place


def test_a_damaged_record_is_a_problem_line_and_the_next_write_replaces_it(store: Path) -> None:
    (store / STATUS_FILE).write_text('{"sources": [1, 2', encoding="utf-8")
    got = read_status(store)
    assert got.sources == {} and got.problem and STATUS_FILE in got.problem
    record_verify(store, True, "ab" * 32, 1, 0, T0)
    got = read_status(store)
    assert got.problem is None and got.verify == {"time": "2026-12-01T08:00:00+00:00", "ok": True,
                                                  "head": "ab" * 32, "entries": 1, "problems": 0}


def test_verify_on_the_command_line_records_its_verdict(store: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["verify", "--store", str(store)]) == 0
    got = read_status(store).verify
    assert got and got["ok"] is True and got["head"] == Store(store).head.hash and got["entries"] == 1
    events = next(store.glob("events/**/*.parquet"))
    events.write_bytes(events.read_bytes()[:-10])  # a data file damaged
    assert main(["verify", "--store", str(store)]) == 4
    got = read_status(store).verify
    assert got and got["ok"] is False and got["problems"] >= 1
    capsys.readouterr()


def test_verify_elsewhere_leaves_no_record(tmp_path: Path) -> None:
    assert main(["verify", "--store", str(tmp_path / "none")]) != 0
    assert not (tmp_path / "none").exists()


def test_published_since_counts_what_came_after_a_known_entry(store: Path, tmp_path: Path) -> None:
    head = Store(store).head
    assert published_since(store, head.seq, head.chain_version).entries == 0  # only the Delta log read
    shutil.copytree(ROOT / "samples" / "apim-node", tmp_path / "logs" / "apim-node")
    added = ingest(tmp_path / "logs", store).events_added
    record_deliveries(store, [{"channel": "c", "finding": "f", "rule": "r", "severity": "high", "delivered": True,
                               "error": None}])
    pub = published_since(store, head.seq, head.chain_version)
    now = Store(store).head
    assert added > 0 and (pub.seq, pub.hash, pub.entries, pub.events) == (now.seq, now.hash, 2, added)
    assert pub.kinds == ("ingest", "deliveries")
    assert published_since(store, now.seq, pub.chain_version).entries == 0
    nodes = {r["node"]: r for r in node_ingests(Store(store)).iter_rows(named=True)}
    assert set(nodes) == {"is-node", "apim-node"} and nodes["apim-node"]["events"] == added
    assert nodes["apim-node"]["last_ingest"] == now.entries[1]["time"]
    assert nodes["is-node"]["last_ingest"] == now.entries[0]["time"]  # the first ingest added to it


def test_a_record_edited_by_hand_is_shown_as_text(store: Path) -> None:
    (store / STATUS_FILE).write_text(json.dumps({"sources": {"<b>x</b>": {"kind": 5, "last_ok": 1.5,
                                                                          "last_error": ["a"]}}}), encoding="utf-8")
    rows = read_status(store).sources_frame().to_dicts()
    assert rows == [{"source": "<b>x</b>", "kind": "5", "last_ok": "1.5", "last_error_at": None,
                     "last_error": "['a']"}]
