"""What a store's watcher and `verify` last saw, and its published head read cheaply.

- **Sources.** Per source of an estate (a folder, or a Micro Integrator node) the last successful fetch or ingest
  and the last error (text and time). Errors are not events, so they are not in the chain: they are kept in
  `DIR/status.json`, rewritten whole (a temporary file renamed into place) under a lock, so that a reader sees
  the old record or the new one, never half of one. A store on object storage keeps no status record.
- **Verify.** When `verify` last ran, its verdict, the head it checked and how many problems it found.
- **Head.** `published_since(store, seq)`: the entries published after entry `seq`, read from the chain table
  alone (its Delta log, then only its rows past `seq`), never the events: what the app polls to notice an ingest.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from audit_lib.store import tables as T
from audit_lib.store.read import Store

STATUS_FILE = "status.json"
StoreRef = str | os.PathLike | T.Location
SOURCE_SCHEMA = {"source": pl.String, "kind": pl.String, "last_ok": pl.String, "last_error_at": pl.String,
                 "last_error": pl.String}


@dataclass(frozen=True)
class Status:
    """The status record: per source name its fields (kind, last_ok, last_error_at, last_error), the last
    verify (time, ok, head, entries, problems) or None, and `problem`, why the record could not be read."""

    sources: dict[str, dict[str, Any]]
    verify: dict[str, Any] | None = None
    problem: str | None = None

    def sources_frame(self) -> pl.DataFrame:
        """One row per source, in name order, with the columns of SOURCE_SCHEMA."""
        rows = [{"source": name, **{k: None if s.get(k) is None else str(s[k]) for k in SOURCE_SCHEMA
                                    if k != "source"}} for name, s in sorted(self.sources.items())]
        return pl.DataFrame(rows, schema=SOURCE_SCHEMA, orient="row")


def _path(store: StoreRef) -> Path | None:
    loc = T.Location.of(store)
    return Path(loc.uri) / STATUS_FILE if loc.local else None


def _stamp(at: datetime | None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


def read_status(store: StoreRef) -> Status:
    """The status record of a store; empty when there is none yet (or the store is on object storage)."""
    path = _path(store)
    if path is None or not path.exists():
        return Status({})
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        sources = data.get("sources", {})
        verify = data.get("verify")
        if not isinstance(sources, dict) or not all(isinstance(v, dict) for v in sources.values()) \
                or not isinstance(verify, dict | None):
            raise ValueError("unexpected shape")
    except (OSError, ValueError, AttributeError, UnicodeDecodeError) as exc:
        return Status({}, None, f"{path} cannot be read ({exc}); the next watch cycle or verify rewrites it")
    return Status(sources, verify)


def _update(store: StoreRef, change: Any) -> None:
    """Read, change and rewrite the record whole, under a lock (`DIR/.status.flock`); a StoreError when the
    folder cannot be written."""
    path = _path(store)
    if path is None or not (path.parent / T.CHAIN).is_dir():  # not a store (yet): nothing to record
        return
    try:
        _rewrite(store, path, change)
    except OSError as exc:
        raise T.StoreError(f"The status record {path} cannot be written ({exc.strerror or exc})") from None


def _rewrite(store: StoreRef, path: Path, change: Any) -> None:
    fd = os.open(path.parent / ".status.flock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        old = read_status(store)
        data = {"sources": dict(old.sources), "verify": old.verify}
        change(data)
        tmp = path.with_name(f".status.{os.getpid()}.tmp")  # one writer at a time: the lock is held
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=1, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # readable like the tables (the app may run as another user)
        os.replace(tmp, path)
    finally:
        os.close(fd)


def record_sources(store: StoreRef, outcomes: list[tuple[str, str, str | None]], at: datetime | None = None) -> None:
    """Record one cycle's outcome per source: (name, kind, error or None). A success sets `last_ok`; an error
    sets `last_error` and `last_error_at`; the other fields are kept (the last error stays until a newer one)."""
    when = _stamp(at)

    def change(data: dict) -> None:
        for name, kind, error in outcomes:
            row = dict(data["sources"].get(name, {}), kind=kind)
            if error is None:
                row["last_ok"] = when
            else:
                row["last_error"], row["last_error_at"] = " ".join(str(error).split())[:500], when
            data["sources"][name] = row

    _update(store, change)


def record_verify(store: StoreRef, ok: bool, head: str, entries: int, problems: int,
                  at: datetime | None = None) -> None:
    """Record that `verify` ran: its verdict, the head hash it checked, the entries and the problems found."""
    row = {"time": _stamp(at), "ok": bool(ok), "head": head, "entries": entries, "problems": problems}
    _update(store, lambda data: data.update(verify=row))


# ---------------------------------------------------------------------------------------------------- head


@dataclass(frozen=True)
class Published:
    """The chain as published now, compared with a known entry: the head's `seq` and `hash`, the chain table's
    Delta version, and what the entries after the known one hold (`entries`, `events` added, `kinds`)."""

    seq: int
    hash: str | None
    chain_version: int
    entries: int = 0
    events: int = 0
    kinds: tuple[str, ...] = ()


def published_since(store: StoreRef, seq: int, chain_version: int | None = None) -> Published:
    """What was published after entry `seq`. When the chain table still stands at `chain_version`, only its
    Delta log is read; else only its rows past `seq` (the events and other tables are never opened)."""
    loc = T.Location.of(store)
    with T.reading(loc):
        version = T.table_version(loc, T.CHAIN)
        if version is None:
            raise T.StoreError(f"No event store at {loc.uri} any more")
        if version == chain_version:
            return Published(seq, None, version)
        rows = (pl.scan_delta(loc.table(T.CHAIN), version=version, storage_options=loc.options)
                .filter(pl.col("seq") > seq).select("seq", "hash", "entry").collect().sort("seq"))
    if rows.is_empty():
        return Published(seq, None, version)
    entries = [json.loads(text) for text in rows["entry"]]
    return Published(int(rows["seq"][-1]), rows["hash"][-1], version, rows.height,
                     sum(int(e.get("events_added") or 0) for e in entries),
                     tuple(str(e.get("kind") or "ingest") for e in entries))


def node_ingests(store: Store) -> pl.DataFrame:
    """Per node, the last ingest that added to it (its chain entry's time), and the files and events it holds:
    node, last_ingest, files, events (from the files table and the chain, never the events)."""
    times = pl.DataFrame({"seq": [int(e["seq"]) for e in store.head.entries],
                          "last_ingest": [str(e["time"]) for e in store.head.entries]},
                         schema={"seq": pl.Int64, "last_ingest": pl.String})
    rows = store.file_rows().filter(pl.col("kind").is_in(T.STREAM_KINDS))
    per = rows.group_by("node").agg(pl.col("seq").max(), files=pl.col("stream").n_unique(),
                                    events=pl.col("events").sum())
    return per.join(times, on="seq", how="left").select("node", "last_ingest", "files", "events").sort("node")
