"""The store's folder: Delta Lake tables, and the manifest chain that publishes the others.

    DIR/events/   the canonical events (less `actor`, derived when read), plus `wall` and `month`;
                  partitioned by node and month (UTC)
    DIR/rejects/  the lines that are not events, with their file, line number and reason
    DIR/files/    one row per file observation that changed the store (see `FILES_SCHEMA`)
    DIR/configs/  each node's log4j2.properties as read (a row when its content changed), for the configuration check
    DIR/chain/    the manifest chain: one row per ingest, each entry carrying the SHA-256 of the one before
    DIR/by_hour/, DIR/by_user/, DIR/by_artifact/
                  counts kept beside the events (per local hour and kind of change; per user and action; per
                  artifact), each with first and last time: what the pages show of a whole store, read from a
                  few rows per node and month instead of every event

An ingest writes at most one Delta version of each table, then appends its chain entry, which
names those versions: readers read the tables as of the versions the last entry names, so an ingest that stops
before its entry is committed leaves nothing visible, and the next ingest restores the tables to those versions.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import polars as pl

from audit_lib.errors import SourceError
from audit_lib.store.quiet import failure, fatal, quiet_rust

EVENTS, REJECTS, FILES, CONFIGS, CHAIN = "events", "rejects", "files", "configs", "chain"
BY_HOUR, BY_USER, BY_ARTIFACT = "by_hour", "by_user", "by_artifact"
ROLLUPS = (BY_HOUR, BY_USER, BY_ARTIFACT)
TABLES = (EVENTS, REJECTS, FILES, *ROLLUPS, CONFIGS)
GENESIS = "0" * 64  # the `prev` of the first entry
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
INSTALL_HINT = "the event store needs the optional packages of requirements-store.txt: " \
               "pip install -r requirements-store.txt"

EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "timestamp": pl.Datetime("us", "UTC"), "node": pl.String(), "month": pl.String(), "product": pl.String(),
    "user": pl.String(), "action": pl.String(), "artifact_type": pl.String(), "artifact": pl.String(),
    "outcome": pl.String(), "details": pl.String(), "level": pl.String(), "source": pl.String(),
    "line": pl.Int32(), "attachment": pl.String(), "time_ambiguous": pl.Boolean(), "wall": pl.Datetime("us"),
}
EVENTS_PARTITIONS = ["node", "month"]
REJECTS_SCHEMA: dict[str, pl.DataType] = {"node": pl.String(), "source": pl.String(), "line": pl.Int32(),
                                          "text": pl.String(), "reason": pl.String()}
# kind: new (a file first stored), grown (more lines of a growing file), rotated (a file that continues what was
# read as audit.log), rewritten (what follows the stored part of an audit.log rewritten on disk: see `rewrites`),
# seen (stored content under a new name), duplicate (a copy of stored content), skipped.
# `stream` is the name its events are stored under; `start`/`end` are byte offsets into the decompressed
# content (`prefix_sha256` hashes content[:end]); `lines` is the total read up to `end`; events, attached,
# rejects and blank count what this row added (a duplicate: what its copy holds).
FILES_SCHEMA: dict[str, pl.DataType] = {
    "seq": pl.Int64(), "order": pl.Int64(), "kind": pl.String(), "stream": pl.String(), "source": pl.String(),
    "node": pl.String(), "sha256": pl.String(), "bytes": pl.Int64(), "content_sha256": pl.String(),
    "content_bytes": pl.Int64(), "compressed": pl.Boolean(), "start": pl.Int64(), "end": pl.Int64(),
    "prefix_sha256": pl.String(), "line_start": pl.Int64(), "lines": pl.Int64(), "events": pl.Int64(),
    "attached": pl.Int64(), "rejects": pl.Int64(), "blank": pl.Int64(), "error": pl.String(),
    "complete": pl.Boolean(), "duplicate_of": pl.String(), "utf16": pl.Boolean(),
}
# one row per log4j2.properties read whose content changed (see `configs`): `sha256` of the file's bytes, its text
CONFIGS_SCHEMA: dict[str, pl.DataType] = {
    "seq": pl.Int64(), "node": pl.String(), "source": pl.String(), "product": pl.String(), "sha256": pl.String(),
    "bytes": pl.Int64(), "text": pl.String(), "error": pl.String()}
CHAIN_SCHEMA: dict[str, pl.DataType] = {"seq": pl.Int64(), "time": pl.String(), "prev": pl.String(),
                                        "hash": pl.String(), "entry": pl.String()}
_COUNTS: dict[str, pl.DataType] = {"events": pl.Int64(), "first": pl.Datetime("us", "UTC"),
                                   "last": pl.Datetime("us", "UTC")}
_PART: dict[str, pl.DataType] = {"node": pl.String(), "month": pl.String(), "product": pl.String()}
# the keys of each rollup (`hour`: the wall-clock hour as written, in the store's zone)
ROLLUP_KEYS: dict[str, dict[str, pl.DataType]] = {
    BY_HOUR: {**_PART, "hour": pl.Datetime("us"), "action": pl.String(), "artifact_type": pl.String(),
              "outcome": pl.String()},
    BY_USER: {**_PART, "user": pl.String(), "action": pl.String(), "outcome": pl.String()},
    BY_ARTIFACT: {**_PART, "artifact_type": pl.String(), "artifact": pl.String()},
}
SCHEMAS = {EVENTS: EVENTS_SCHEMA, REJECTS: REJECTS_SCHEMA, FILES: FILES_SCHEMA, CONFIGS: CONFIGS_SCHEMA,
           CHAIN: CHAIN_SCHEMA,
           **{name: {**keys, **_COUNTS} for name, keys in ROLLUP_KEYS.items()}}
# Delta deletes the log entries older than delta.logRetentionDuration (30 days by default) each time it writes a
# checkpoint (every 100 versions), unless delta.enableExpiredLogCleanup is false: the chain holds the SHA-256 of every
# log entry, so none may go. The longer retention guards against a writer that turns the cleanup back on.
KEEP_LOGS = {"delta.enableExpiredLogCleanup": "false", "delta.logRetentionDuration": "interval 3650 days"}
PARTITIONS = {EVENTS: EVENTS_PARTITIONS, REJECTS: None, FILES: None, CONFIGS: None, CHAIN: None,
              **dict.fromkeys(ROLLUPS, EVENTS_PARTITIONS)}


def rollups(events: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The rollup rows of some events (in the events table's schema)."""
    ev = events.with_columns(hour=pl.col("wall").dt.truncate("1h"))
    agg = [pl.len().cast(pl.Int64).alias("events"), pl.col("timestamp").min().alias("first"),
           pl.col("timestamp").max().alias("last")]
    return {name: conform(ev.group_by(list(keys)).agg(agg), name) for name, keys in ROLLUP_KEYS.items()}


def merge_rollups(name: str, parts: list[pl.DataFrame] | pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Rollup rows of table `name` with equal keys added up (parts from several groups, or ingests)."""
    df = pl.concat(parts) if isinstance(parts, list) else parts
    if not isinstance(df, pl.LazyFrame):
        df = df.lazy()
    out = df.group_by(list(ROLLUP_KEYS[name])).agg(pl.col("events").sum(), pl.col("first").min(),
                                                   pl.col("last").max()).collect()
    return conform(out, name)


class StoreError(SourceError):
    """The store cannot be used as asked: the message says why."""


def deltalake() -> Any:
    """The deltalake module, or a StoreError that says how to install it."""
    try:
        import deltalake as dl
    except ImportError:
        raise StoreError(INSTALL_HINT[0].upper() + INSTALL_HINT[1:]) from None
    return dl


@dataclass(frozen=True)
class Location:
    """Where a store lives: a local folder, or an object-storage URL with its storage options."""

    uri: str
    options: dict[str, str] | None = field(default=None, compare=False)

    @classmethod
    def of(cls, store: str | os.PathLike | Location, options: dict[str, str] | None = None) -> Location:
        if isinstance(store, Location):
            return store
        text = os.fspath(store)
        if not text.strip():
            raise StoreError("No store folder given: name one with --store DIR")
        if "://" in text and not text.startswith("file://"):
            return cls(text.rstrip("/"), options)
        return cls(os.path.abspath(text.removeprefix("file://")), options)

    @property
    def local(self) -> bool:
        return "://" not in self.uri

    def table(self, name: str) -> str:
        return f"{self.uri}/{name}" if not self.local else os.path.join(self.uri, name)

    def exists(self) -> bool:
        return bool(deltalake().DeltaTable.is_deltatable(self.table(CHAIN), storage_options=self.options))


def empty(name: str) -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMAS[name])


def conform(df: pl.DataFrame, name: str) -> pl.DataFrame:
    """`df` with exactly the columns and types of table `name`, in order."""
    return df.select([pl.col(c).cast(t) for c, t in SCHEMAS[name].items()])


def table_version(loc: Location, name: str) -> int | None:
    dl = deltalake()
    uri = loc.table(name)
    if not dl.DeltaTable.is_deltatable(uri, storage_options=loc.options):
        return None
    return dl.DeltaTable(uri, storage_options=loc.options).version()


def create_tables(loc: Location) -> None:
    """Create the tables that do not exist yet, each empty at version 0, their Delta log kept whole (KEEP_LOGS)."""
    dl = deltalake()
    if loc.local:
        Path(loc.uri).mkdir(parents=True, exist_ok=True)
    for name in (*TABLES, CHAIN):
        if table_version(loc, name) is None:
            dl.write_deltalake(loc.table(name), empty(name).to_arrow(), mode="append",
                               partition_by=PARTITIONS[name], storage_options=loc.options, configuration=KEEP_LOGS)


def keep_logs(loc: Location, full: bool = False) -> list[str]:
    """Set KEEP_LOGS on the tables of a store made before it was set at creation: one metadata version of each
    (which the ingest then publishes). Returns the tables changed. The chain is set last: unless `full` (after a
    restore, which may have undone the others), a chain already set means every table is."""
    def table(name: str) -> Any:
        return deltalake().DeltaTable(loc.table(name), storage_options=loc.options)

    def keeps(dt: Any) -> bool:
        return all(dt.metadata().configuration.get(k) == v for k, v in KEEP_LOGS.items())

    if not full and keeps(table(CHAIN)):
        return []
    changed = []
    for name in (*TABLES, CHAIN):
        dt = table(name)
        if not keeps(dt):
            dt.alter.set_table_properties(KEEP_LOGS)
            changed.append(name)
    return changed


def append(loc: Location, name: str, data: Any) -> int:
    """Append a frame (or an Arrow stream of batches) to table `name` as one Delta version; returns it."""
    dl = deltalake()
    if isinstance(data, pl.DataFrame):
        data = conform(data, name).to_arrow()
    dl.write_deltalake(loc.table(name), data, mode="append", partition_by=PARTITIONS[name],
                       storage_options=loc.options)
    return dl.DeltaTable(loc.table(name), storage_options=loc.options).version()


def append_frames(loc: Location, name: str, frames: Iterable[pl.DataFrame]) -> int | None:
    """Append frames to the partitioned table `name` as one Delta version; returns it (None when no frame has a
    row). Each frame's partitions are written by polars as zstd parquet files (faster than the Delta writer,
    and smaller), then committed at once through the Delta transaction log: until that commit the files are
    not part of the table, so a write that stops half-way leaves the table as it was."""
    dl = deltalake()
    from deltalake.transaction import AddAction

    keys = PARTITIONS[name] or []
    handler = _storage(loc, name)
    adds: list = []
    try:
        for frame in frames:
            df = conform(frame, name)
            parts = df.partition_by(keys, as_dict=True, maintain_order=True) if keys else {(): df}
            for values, part in parts.items():
                if part.height:
                    adds.append(_write_part(handler, keys, values, part, AddAction))
        if not adds:
            return None
        table = dl.DeltaTable(loc.table(name), storage_options=loc.options)
        table.create_write_transaction(adds, mode="append", schema=empty(name).to_arrow().schema, partition_by=keys)
    except BaseException:  # nothing was committed: the files written are removed (what remains is never read)
        for add in adds:
            with suppress(Exception):  # best effort
                handler.delete_file(add.path)
        raise
    return dl.DeltaTable(loc.table(name), storage_options=loc.options).version()


def _write_part(handler: Any, keys: list[str], values: tuple, part: pl.DataFrame, action: Any) -> Any:
    """One data file: the rows of one partition, in a Hive-style folder named as Delta's own writer names it;
    returns its add action."""
    folder = "/".join(f"{k}={_HIVE_NULL if v is None else quote(str(v), safe='')}"
                      for k, v in zip(keys, values, strict=True))
    path = f"{folder}/part-{uuid.uuid4()}.zstd.parquet".lstrip("/")
    buffer = io.BytesIO()
    part.drop(keys).write_parquet(buffer, compression="zstd")
    data = buffer.getvalue()
    _put(handler, path, data)
    return action(path, len(data), {k: None if v is None else str(v) for k, v in zip(keys, values, strict=True)},
                  int(time.time() * 1000), True, json.dumps({"numRecords": part.height}))


_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # the folder of a null partition value, as Hive and Delta name it


def _storage(loc: Location, name: str) -> Any:
    """The storage of table `name` (a local folder or an object store), to read and write its files."""
    from deltalake.fs import DeltaStorageHandler

    return DeltaStorageHandler(loc.table(name), loc.options)


def _put(handler: Any, path: str, data: bytes) -> None:
    """Write `data` to `path` in a table's storage. The handler's public output stream hands pyarrow buffers
    to a writer that takes only bytes (deltalake 1.6.6 with pyarrow 26), so the stream under it is used."""
    out = handler._handler.open_output_stream(path, None)
    try:
        out.write(data)
    finally:
        out.close()


def restore(loc: Location, name: str, version: int) -> bool:
    """Bring table `name` back to `version` when later versions exist (left by an ingest that stopped before
    its chain entry); True when something was undone."""
    dl = deltalake()
    dt = dl.DeltaTable(loc.table(name), storage_options=loc.options)
    if dt.version() <= version:
        return False
    dt.restore(version)
    return True


def remove_orphans(loc: Location, name: str, before: float) -> int:
    """Remove the data files of table `name` (a local store) that no committed version ever added, written
    before `before` (a time.time()): what a killed ingest wrote and did not commit. Nothing is removed when
    a log entry is missing (then a file's history cannot be told). Returns how many were removed."""
    folder = Path(loc.table(name))
    latest = table_version(loc, name)
    if not loc.local or latest is None:
        return 0
    added: set[str] = set()
    for v in range(latest + 1):
        try:
            text = (folder / _log_path(v, "json")).read_text(encoding="utf-8")
        except OSError:
            return 0
        for line in text.splitlines():
            with suppress(ValueError, TypeError, AttributeError):
                if path := (json.loads(line).get("add") or {}).get("path"):
                    added.add(os.path.normpath(unquote(path)))
    removed = 0
    for f in folder.rglob("*.parquet"):
        rel = os.path.relpath(f, folder)
        if rel.startswith("_delta_log") or rel in added or f.stat().st_mtime >= before:
            continue
        f.unlink(missing_ok=True)
        removed += 1
    return removed


def live_files(loc: Location, name: str, version: int) -> dict[str, int]:
    """The data files of table `name` at `version`: path (relative to the table) -> size in bytes."""
    dl = deltalake()
    dt = dl.DeltaTable(loc.table(name), version=version, storage_options=loc.options)
    acts = pl.DataFrame(dt.get_add_actions(flatten=True))
    if acts.is_empty():
        return {}
    return {unquote(p): int(s) for p, s in acts.select("path", "size_bytes").iter_rows()}


def file_sha256(loc: Location, name: str, path: str) -> str:
    """SHA-256 of one data file of table `name`, read through the table's own storage."""
    deltalake()
    handler = _storage(loc, name)
    h = hashlib.sha256()
    with handler.open_input_stream(path) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def log_hashes(loc: Location, name: str, first: int, last: int) -> list[list]:
    """[version, SHA-256 of its Delta log entry (the JSON commit: actions, statistics, partition values), SHA-256
    of its checkpoint or None] for the versions `first`..`last` of table `name`."""
    deltalake()
    handler = _storage(loc, name)
    return [[v, _sha(handler, _log_path(v, "json")), _sha(handler, _log_path(v, "checkpoint.parquet"))]
            for v in range(first, last + 1)]


def log_sha256(loc: Location, name: str, version: int, kind: str = "json") -> str | None:
    """SHA-256 of one Delta log file of table `name` now (None when there is none)."""
    deltalake()
    return _sha(_storage(loc, name), _log_path(version, kind))


def _log_path(version: int, kind: str) -> str:
    return f"_delta_log/{version:020d}.{kind}"


def _sha(handler: Any, path: str) -> str | None:
    h = hashlib.sha256()
    try:
        with handler.open_input_stream(path) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    except (OSError, FileNotFoundError):
        return None
    return h.hexdigest()


def read(loc: Location, name: str, version: int) -> pl.DataFrame:
    """Table `name` as of `version`, with the declared types."""
    return conform(pl.scan_delta(loc.table(name), version=version, storage_options=loc.options).collect(), name)


@contextmanager
def reading(loc: Location) -> Iterator[None]:
    """Turn any failure to read the tables (a damaged or edited data file makes the Rust readers fail, even
    panic) into a StoreError that says what to do."""
    try:
        with quiet_rust():
            yield
    except StoreError:
        raise
    except BaseException as exc:
        if fatal(exc):
            raise
        raise StoreError(f"The store at {loc.uri} cannot be read ({failure(exc)}): check it with "
                         f"`python -m audit_lib verify --store {loc.uri}`") from None


def read_files_directly(loc: Location, name: str, version: int) -> pl.DataFrame:
    """Table `name` at `version` read file by file from the bytes in storage, ignoring the sizes the Delta
    log records: for `verify`, which must read what is there even when it was changed."""
    deltalake()
    handler = _storage(loc, name)
    frames = []
    for path in sorted(live_files(loc, name, version)):
        with handler.open_input_stream(path) as f:
            frames.append(pl.read_parquet(io.BytesIO(f.read())))
    return conform(pl.concat(frames, how="diagonal_relaxed"), name) if frames else empty(name)


# ---------------------------------------------------------------------------------------------------- chain


def entry_text(entry: dict) -> str:
    """The canonical text of a chain entry: what its SHA-256 is taken of."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Head:
    """The published state of a store: its chain entries (oldest first) and what the last one names."""

    entries: list[dict]
    hashes: list[str]
    chain_version: int

    @property
    def seq(self) -> int:
        return len(self.entries)

    @property
    def hash(self) -> str:
        return self.hashes[-1] if self.hashes else GENESIS

    @property
    def tz(self) -> str | None:
        return self.entries[0]["tz"] if self.entries else None

    def version(self, name: str) -> int:
        """The version of table `name` the store stands at (0, the empty table, before any ingest)."""
        return int(self.entries[-1]["tables"].get(name, {"version": 0})["version"]) if self.entries else 0

    def pairs(self) -> pl.DataFrame:
        """Every (user, product) pair among the stored events, from the entries."""
        rows = [p for e in self.entries for p in e.get("pairs", [])]
        return pl.DataFrame(rows, schema={"user": pl.String, "product": pl.String}, orient="row")


def chain_rows(loc: Location) -> pl.DataFrame:
    """The rows of the chain table (latest version), in sequence order."""
    if table_version(loc, CHAIN) is None:
        raise StoreError(f"No event store at {loc.uri}: create one with `python -m audit_lib ingest PATH... "
                         f"--store {loc.uri}`")
    return conform(pl.scan_delta(loc.table(CHAIN), storage_options=loc.options).collect(), CHAIN).sort("seq")


def head(loc: Location) -> Head:
    """The published state (the entries are read as stored; `verify` is what checks them)."""
    with reading(loc):
        rows = chain_rows(loc)
    entries, hashes = [], []
    for text, digest in rows.select("entry", "hash").iter_rows():
        try:
            entries.append(json.loads(text))
        except (TypeError, ValueError):
            raise StoreError(f"The manifest chain of {loc.uri} is damaged (an entry is not JSON): run verify") \
                from None
        hashes.append(digest)
    return Head(entries, hashes, table_version(loc, CHAIN) or 0)


def commit_entry(loc: Location, entry: dict) -> str:
    """Append a chain entry (it must carry `seq` and `prev`): the ingest's commit point. Returns its hash."""
    text = entry_text(entry)
    digest = entry_hash(text)
    row = pl.DataFrame({"seq": [entry["seq"]], "time": [entry["time"]], "prev": [entry["prev"]], "hash": [digest],
                        "entry": [text]})
    append(loc, CHAIN, row)
    return digest


# --------------------------------------------------------------------------------------------------- streams

STREAM_KINDS = ("new", "grown", "rotated", "rewritten", "seen")  # files rows that add to a stream


def streams(files: pl.DataFrame) -> pl.DataFrame:
    """One row per stored stream: the fields of its latest row, with the totals of what its rows added."""
    rows = files.filter(pl.col("kind").is_in(STREAM_KINDS)).sort("seq", "order")
    latest = [c for c in files.columns if c not in ("stream", "events", "attached", "rejects", "blank")]
    return rows.group_by("stream", maintain_order=True).agg(
        *[pl.col(c).last() for c in latest], pl.col("events", "attached", "rejects", "blank").sum())


def utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("scan_store needs aware datetimes for start and end")
    return t.astimezone(UTC)


def month_key(t: datetime) -> str:
    """The `month` partition value of an instant ("YYYY-MM", UTC)."""
    return utc(t).strftime("%Y-%m")
