"""`verify`: is the store intact, and are the files it was built from still there and unchanged?

1. The chain: each entry's SHA-256 matches its text, carries the hash of the entry before it, and the numbers
   run 1, 2, 3 ... with no gap; `anchor`, a head hash kept elsewhere, must be one of the entries.
2. The data: for each table, the data files at the version the last entry names are exactly those the entries
   added (and did not remove), each with the size and SHA-256 recorded; the files table holds exactly the rows
   the entries list; the events and rejects per file are as many as the manifest says.
3. The sources (when given): every file the store holds is still there with the bytes that were ingested
   (under its name, or, moved or rotated, under another); a file still written to may have grown.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from audit_lib.intake.discover import discover
from audit_lib.intake.entries import Limits, Source
from audit_lib.store import tables as T
from audit_lib.store.configs import entry_rows
from audit_lib.store.ingest import Progress
from audit_lib.store.lock import held, owner_of
from audit_lib.store.scan import is_active, scan_file
from audit_lib.store.tables import STREAM_KINDS, streams


@dataclass
class VerifyReport:
    store: str
    entries: int = 0
    head: str = T.GENESIS
    problems: list[dict] = field(default_factory=list)  # {"check", "what", "detail"}
    notes: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, check: str, what: str, detail: str) -> None:
        self.problems.append({"check": check, "what": what, "detail": detail})

    def as_dict(self) -> dict:
        return {"store": self.store, "ok": self.ok, "entries": self.entries, "head": self.head,
                "problems": self.problems, "notes": self.notes, "checked": self.checked}


def verify(store: str | os.PathLike | T.Location, sources: Source | None = None, *,
           storage_options: dict[str, str] | None = None, anchor: str | None = None, limits: Limits | None = None,
           roots: list[Path] | None = None, progress: Progress | None = None) -> VerifyReport:
    loc = T.Location.of(store, storage_options)
    T.deltalake()
    with T.quiet_rust():  # a tampered store makes the Rust readers panic: their text goes to the log
        return _verify(loc, sources, anchor, limits, roots, progress)


def _verify(loc: T.Location, sources: Source | None, anchor: str | None, limits: Limits | None,
            roots: list[Path] | None, progress: Progress | None) -> VerifyReport:
    report = VerifyReport(loc.uri)
    try:
        rows = T.chain_rows(loc)
    except T.StoreError:
        raise
    except BaseException as exc:  # the chain's Delta log no longer matches its data: read the files as they are
        if T.fatal(exc):
            raise
        try:
            rows = T.read_files_directly(loc, T.CHAIN, T.table_version(loc, T.CHAIN) or 0).sort("seq")
        except BaseException as again:
            if T.fatal(again):
                raise
            report.problem("chain", "chain table", f"cannot be read: {T.failure(again)}")
            return report
        report.problem("chain", "chain table", f"its data files are not what its log records ({T.failure(exc)})")
    entries = check_chain(rows, report, anchor)
    if entries is None:
        return report
    last = entries[-1] if entries else None
    versions = {name: int(last["tables"].get(name, {"version": 0})["version"]) if last else 0 for name in T.TABLES}
    _check_data(loc, entries, versions, report, progress)
    if sources is not None:
        files = _tolerant(report, "files table", lambda: T.read_files_directly(loc, T.FILES, versions[T.FILES]))
        if files is not None:
            _check_sources(files, sources, report, limits or Limits(), roots, progress)
    return report


def check_chain(rows: pl.DataFrame, report: VerifyReport, anchor: str | None) -> list[dict] | None:
    entries: list[dict] = []
    prev = T.GENESIS
    for i, (seq, prev_col, digest, text) in enumerate(rows.select("seq", "prev", "hash", "entry").iter_rows(), 1):
        what = f"chain entry {seq}"
        if seq != i:
            report.problem("chain", what, f"out of sequence: expected entry {i} (an entry was removed or added)")
        if T.entry_hash(text or "") != digest:
            report.problem("chain", what, "its SHA-256 does not match its text: the entry was edited")
        try:
            entry = json.loads(text)
        except (TypeError, ValueError):
            report.problem("chain", what, "not readable JSON")
            return None
        if entry.get("prev") != prev or prev_col != prev:
            report.problem("chain", what, "does not carry the hash of the entry before it: the chain is broken")
        if entry.get("seq") != seq:
            report.problem("chain", what, f"says it is entry {entry.get('seq')}")
        entries.append(entry)
        prev = digest
    report.entries, report.head = len(entries), prev
    report.checked["chain entries"] = len(entries)
    if anchor and anchor.lower() not in set(rows["hash"].to_list()):
        report.problem("chain", "anchor", f"no entry has the hash {anchor}: the history was rewritten or this is "
                                          "another store")
    return entries


def _check_data(loc: T.Location, entries: list[dict], versions: dict[str, int], report: VerifyReport,
                progress: Progress | None) -> None:
    stopped = _stopped_ingest(loc)
    for e in entries:  # no ingest removes data files or takes back counts
        for name, change in e["tables"].items():
            if change.get("remove"):
                report.problem("chain", f"chain entry {e.get('seq')}", f"removes {len(change['remove']):,} data "
                                                                       f"files of the {name} table: no operation "
                                                                       "of this tool does")
        for r in e.get("files", []):
            if any(isinstance(r.get(c), int) and r[c] < 0 for c in ("events", "attached", "rejects", "blank",
                                                                     "lines", "start", "end")):
                report.problem("chain", f"chain entry {e.get('seq')}", f"lists {r.get('source')} with negative "
                                                                       "counts: no ingest takes events back")
    for name in T.TABLES:
        if T.table_version(loc, name) is None and not any(name in e["tables"] for e in entries):
            report.notes.append(f"no {name} table: the store was made before it existed (the next ingest creates it)")
            continue
        expected: dict[str, tuple[int, str]] = {}
        for e in entries:
            change = e["tables"].get(name, {})
            for path in change.get("remove", []):
                expected.pop(path, None)
            for path, size, sha in change.get("add", []):
                expected[path] = (int(size), sha)
        try:
            live = T.live_files(loc, name, versions[name])
        except Exception as exc:  # a table log that cannot be read at that version
            report.problem("data", f"{name} table", f"version {versions[name]} cannot be read: {T.failure(exc)}")
            continue
        for path in sorted(set(expected) - set(live)):
            report.problem("data", f"{name}/{path}", "recorded in the chain but no longer part of the table")
        for path in sorted(set(live) - set(expected)):
            report.problem("data", f"{name}/{path}", "part of the table but not recorded in the chain")
        total = len(live)
        for k, path in enumerate(sorted(set(live) & set(expected)), 1):
            size, sha = expected[path]
            try:
                actual = T.file_sha256(loc, name, path)
            except OSError as exc:
                report.problem("data", f"{name}/{path}", f"cannot be read ({exc})")
                continue
            if actual != sha:
                report.problem("data", f"{name}/{path}", "its SHA-256 differs from the one recorded: the data "
                                                         "file was changed")
            if progress:
                progress(f"checking {name}", k, total)
        report.checked[f"{name} data files"] = total
        _check_logs(loc, name, entries, report)
        _note_log_cleanup(loc, name, report)
        latest = T.table_version(loc, name)
        if latest is not None and latest > versions[name]:
            if stopped is not None:
                report.notes.append(f"the {name} table has versions after {versions[name]} that no chain entry "
                                    f"names, left by {stopped}: they are not read, and the next ingest undoes them")
            else:
                report.problem("data", f"{name} table", f"has versions after {versions[name]}, the one the chain's "
                                                        "head names, and no stopped ingest explains them: the "
                                                        "chain's newest entries were removed, or the table was "
                                                        "changed outside an ingest")
    files = _tolerant(report, "files table", lambda: T.read_files_directly(loc, T.FILES, versions[T.FILES]))
    if files is None:
        return
    recorded = pl.DataFrame([r for e in entries for r in e.get("files", [])], schema=T.FILES_SCHEMA, orient="row")
    if _canon(files) != _canon(recorded):
        report.problem("data", "files table", "its rows differ from the files the chain entries list")
    report.checked["files rows"] = files.height
    _check_configs(loc, entries, versions, report)
    for name, column in ((T.EVENTS, "events"), (T.REJECTS, "rejects")):
        counted = _tolerant(report, f"{name} table", lambda name=name: (
            pl.scan_delta(loc.table(name), version=versions[name], storage_options=loc.options)
            .group_by("source").agg(n=pl.len()).collect()))
        if counted is None:
            continue
        want = streams(files).select("stream", column).rename({"stream": "source", column: "want"})
        both = want.join(counted, on="source", how="full", coalesce=True).with_columns(
            pl.col("want", "n").fill_null(0)).filter(pl.col("want") != pl.col("n"))
        for source, n_want, n in both.select("source", "want", "n").iter_rows():
            report.problem("data", f"{name} of {source}", f"{n:,} stored, the manifest says {n_want:,}")
        report.checked[f"{name} rows"] = int(counted["n"].sum()) if counted.height else 0
    for name in T.ROLLUPS:  # the counts kept beside the events add up to the events
        total = _tolerant(report, f"{name} table", lambda name=name: pl.scan_delta(
            loc.table(name), version=versions[name], storage_options=loc.options).select(
            pl.col("events").sum()).collect().item())
        if total is not None and "events rows" in report.checked and int(total or 0) != report.checked["events rows"]:
            report.problem("data", f"{name} table", f"counts {int(total or 0):,} events, the events table holds "
                                                    f"{report.checked['events rows']:,}")


def _check_configs(loc: T.Location, entries: list[dict], versions: dict[str, int], report: VerifyReport) -> None:
    """The configs table holds exactly the rows the entries list, each text with the SHA-256 recorded."""
    if T.table_version(loc, T.CONFIGS) is None and not any(T.CONFIGS in e["tables"] for e in entries):
        return  # a store made before the table existed
    configs = _tolerant(report, "configs table", lambda: T.read_files_directly(loc, T.CONFIGS, versions[T.CONFIGS]))
    if configs is None:
        return
    recorded = [r for e in entries for r in e.get("configs", [])]
    if _rows_text(entry_rows(configs.to_dicts())) != _rows_text(recorded):
        report.problem("data", "configs table", "its rows differ from the log4j2.properties the chain entries list "
                                                "(a stored configuration was altered, added or removed)")
    report.checked["configs rows"] = configs.height


def _rows_text(rows: list[dict]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)


def _stopped_ingest(loc: T.Location) -> str | None:
    """What explains table versions after the chain's head: an ingest running now, or one that stopped before
    its commit and left its lock record (local stores only)."""
    if not loc.local:
        return None
    folder = Path(loc.uri)
    if held(folder):
        return "the ingest running now"
    owner = owner_of(folder)
    if owner is not None:
        return f"an ingest that stopped before its commit (process {owner.get('pid')} on {owner.get('host')}, " \
               f"since {owner.get('since')})"
    return None


def _check_logs(loc: T.Location, name: str, entries: list[dict], report: VerifyReport) -> None:
    """The Delta log entries (statistics and partition values included) against the hashes the chain recorded."""
    recorded: dict[int, list] = {}
    unrecorded = [e.get("seq") for e in entries if "logs" not in e]
    for e in entries:
        for v, sha, checkpoint in e.get("logs", {}).get(name, []):
            recorded[int(v)] = [sha, checkpoint]
    if unrecorded and name == T.EVENTS:
        report.notes.append(f"chain entries {unrecorded[0]}..{unrecorded[-1]} were written before entries recorded "
                            "the hashes of the tables' Delta logs: the logs of those ingests are not checked")
    for v, (sha, checkpoint) in sorted(recorded.items()):
        if T.log_sha256(loc, name, v) != sha:
            report.problem("data", f"{name}/_delta_log version {v}", "differs from the one recorded (its "
                                                                     "actions, statistics or partition values "
                                                                     "were changed, or it is missing)")
        now = T.log_sha256(loc, name, v, "checkpoint.parquet")
        if now != checkpoint:
            report.problem("data", f"{name}/_delta_log checkpoint {v}", "differs from the one recorded" if checkpoint
                           else "was added after its version was committed")
    report.checked["log entries"] = report.checked.get("log entries", 0) + len(recorded)


def _note_log_cleanup(loc: T.Location, name: str, report: VerifyReport) -> None:
    """A table made before tables kept their Delta log whole (`tables.KEEP_LOGS`): its old log entries, whose hashes
    the chain holds, would be deleted at a checkpoint."""
    try:
        config = T.deltalake().DeltaTable(loc.table(name), storage_options=loc.options).metadata().configuration
    except Exception:  # a table log that cannot be read is reported by the checks above
        return
    if any(config.get(k) != v for k, v in T.KEEP_LOGS.items()):
        report.notes.append(f"the {name} table lets Delta delete log entries older than its log retention (30 days "
                            "by default) at a checkpoint: the next ingest switches that off")


def _tolerant(report: VerifyReport, what: str, read):
    """`read()`, or None with a problem reported when the data cannot be read as recorded."""
    try:
        return read()
    except BaseException as exc:
        if T.fatal(exc):
            raise
        report.problem("data", what, f"cannot be read as recorded: {T.failure(exc)}")
        return None


def _canon(df: pl.DataFrame) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in T.conform(df, T.FILES).to_dicts())


def _check_sources(files: pl.DataFrame, sources: Source, report: VerifyReport, limits: Limits,
                   roots: list[Path] | None, progress: Progress | None) -> None:
    """Every file the store holds (its last-seen state, and each duplicate) against the files given now."""
    entries, _ = discover(sources, roots=roots, limits=limits)
    state = streams(files)
    ends: dict[str, set[int]] = {}
    for node, end in state.select("node", "end").iter_rows():
        if end:
            ends.setdefault(node, set()).add(end)
    scans = []
    total = sum(e.size for e in entries)
    done = 0
    for e in entries:
        scans.append(scan_file(e, frozenset(ends.get(e.node, ())), limits))
        done += e.size
        if progress:
            progress("hashing sources", done, total)
    by_name = {(e.node, e.source): sc for e, sc in zip(entries, scans, strict=True)}
    by_sha = {sc.sha256: e.source for e, sc in zip(entries, scans, strict=True)}
    by_content = {sc.content_sha256: e.source for e, sc in zip(entries, scans, strict=True) if sc.content_bytes}

    def holder(node: str, end: int, prefix: str) -> str | None:
        """A file given now whose first `end` bytes are the stored part."""
        for e, sc in zip(entries, scans, strict=True):
            if e.node == node and end and sc.prefix.get(end) == prefix:
                return e.source
        return None

    held = files.filter(pl.col("kind") == "duplicate").sort("seq", "order").group_by(
        "node", "source", maintain_order=True).last()
    items = [(r, True) for r in state.iter_rows(named=True)] + [(r, False) for r in held.iter_rows(named=True)]
    for r, is_stream in items:
        node, name = r["node"], r["source"]
        label = f"{name} ({node})"
        sc = by_name.get((node, name))
        if sc is not None and sc.sha256 == r["sha256"]:
            continue
        if is_stream and r["end"] and sc is not None and is_active(name) and not r["utf16"] \
                and sc.prefix.get(r["end"]) == r["prefix_sha256"]:
            report.notes.append(f"{label} has grown by {sc.content_bytes - r['content_bytes']:,} bytes since it was "
                                "ingested")
            continue
        # moved or rotated away: its content elsewhere will do; a file still there with other bytes is altered,
        # even when another copy of the same content is intact
        moved = sc is None or is_active(name)
        elsewhere = (by_sha.get(r["sha256"]) or by_content.get(r["content_sha256"])) if moved else None
        if moved and elsewhere is None and is_stream and r["kind"] in STREAM_KINDS and is_active(name):
            elsewhere = holder(node, r["end"], r["prefix_sha256"])
        if elsewhere is not None:
            report.notes.append(f"{label}: its ingested content is now in {elsewhere}")
            continue
        if sc is None:
            report.problem("sources", label, "missing: ingested before, and its content is in no file given now")
        elif is_stream and is_active(name):
            report.problem("sources", label, f"missing or altered: it now starts with other lines, and no file given "
                                             f"starts with the {r['lines']:,} lines ingested from it (the rotated "
                                             "file is missing or was changed)")
        elif r["kind"] == "rotated":
            report.problem("sources", label, "altered: its bytes no longer match what was ingested from "
                                             "audit.log and after")
        else:
            report.problem("sources", label, "altered: its bytes no longer match what was ingested")
    report.checked["source files"] = len(entries)
