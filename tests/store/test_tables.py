"""The store's tables keep their whole Delta log: the chain holds the SHA-256 of every log entry, and Delta's
default (delete entries older than 30 days at each checkpoint) would break it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("deltalake", reason="the event store needs requirements-store.txt (deltalake)")

from deltalake import DeltaTable  # noqa: E402

from audit_lib.cli import main  # noqa: E402
from audit_lib.store import ingest, verify  # noqa: E402
from audit_lib.store import tables as T  # noqa: E402

ALL = (*T.TABLES, T.CHAIN)


def config(store: Path, name: str) -> dict[str, str]:
    return DeltaTable(str(store / name)).metadata().configuration


def logs(table: Path) -> list[str]:
    return sorted(p for p in os.listdir(table / "_delta_log") if p.endswith(".json"))


def test_a_new_store_keeps_every_delta_log_entry(node: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    r = ingest(node, store)
    assert r.logs_kept == []
    for name in ALL:
        assert config(store, name) == T.KEEP_LOGS, name
    rep = verify(store)
    assert rep.ok and not any("log retention" in n for n in rep.notes)


@pytest.mark.parametrize("kept", [True, False])
def test_log_entries_past_their_retention_survive_a_checkpoint_only_when_kept(tmp_path: Path, kept: bool,
                                                                              monkeypatch) -> None:
    """What deltalake does: with the retention past and a checkpoint every other version, the cleanup deletes the
    log entries before the checkpoint unless the table keeps them."""
    if not kept:
        monkeypatch.setattr(T, "KEEP_LOGS", {})
    loc = T.Location.of(tmp_path / "t")
    T.create_tables(loc)
    DeltaTable(loc.table(T.REJECTS)).alter.set_table_properties(
        {"delta.checkpointInterval": "2", "delta.logRetentionDuration": "interval 0 seconds"})
    for line in range(5):
        time.sleep(0.01)  # the cleanup compares the entries' times with now less the retention
        T.append(loc, T.REJECTS, pl.DataFrame({"node": ["n"], "source": ["s"], "line": [line], "text": ["x"],
                                               "reason": ["r"]}))
    entries = logs(Path(loc.table(T.REJECTS)))
    if kept:
        assert entries == [f"{v:020d}.json" for v in range(7)]
    else:
        assert entries[0] != f"{0:020d}.json" and len(entries) < 7
    assert DeltaTable(loc.table(T.REJECTS)).version() == 6


def test_an_older_store_is_set_to_keep_its_log_by_the_next_ingest(node: Path, tmp_path: Path, monkeypatch,
                                                                  capsys) -> None:
    store = tmp_path / "store"
    with monkeypatch.context() as m:  # a store made before the tables kept their log
        m.setattr(T, "KEEP_LOGS", {})
        ingest(node, store)
    assert all(config(store, name) == {} for name in ALL)
    rep = verify(store)
    assert rep.ok and sum("log retention" in n for n in rep.notes) == len(T.TABLES)
    assert main(["ingest", str(node), "--store", str(store)]) == 0  # nothing new: the change is published
    assert f"Note     {len(ALL)} tables now keep their Delta log whole" in capsys.readouterr().out
    assert all(config(store, name) == T.KEEP_LOGS for name in ALL)
    rep = verify(store, [node])
    assert rep.ok and rep.entries == 2 and not any("log retention" in n for n in rep.notes)
    r = ingest(node, store)
    assert (r.seq, r.logs_kept) == (None, [])
