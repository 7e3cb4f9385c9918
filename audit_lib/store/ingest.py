"""`ingest`: add what is new in some paths to a store, published by one chain entry.

Each file is looked at once (`scan.scan_file`) and classed against what the store already holds:
- known: its bytes were stored before (same node, name and SHA-256, or content already read);
- seen / duplicate: stored content under another name (a rename is remembered; a copy beside the file it
  copies is a duplicate, as `load` says);
- grown: a file still written to (`audit.log`) whose first bytes hash as the stored part did: only the bytes
  after that part are parsed, their lines numbered on from the stored ones;
- rotated: another file whose first bytes are what was read as `audit.log` (the file log4j renamed): only the
  rest is parsed, under the name the events were first stored with;
- rewritten: an `audit.log` under the name and node of a stored growing file, whose first bytes no longer hash
  as stored and which no file given continues, when its first lines overlap the stored ones (see `rewrites`):
  only what follows the stored part is parsed, and the rewrite is recorded in the chain entry;
- new: anything else. The incomplete last line of a file still written to is left for the next ingest.
Each node's log4j2.properties is kept too (`configs`), a row when its content changed. Files are parsed in groups
(locally, or as Ray tasks); the data files of each group are written while the next one
is parsed, and committed at the end as one Delta version.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from audit_lib.intake.background import prefetched
from audit_lib.intake.discover import discover
from audit_lib.intake.entries import Entry, Limits, Skipped, Source
from audit_lib.intake.loader import check_tz
from audit_lib.intake.names import is_audit_name
from audit_lib.store import configs as C
from audit_lib.store import tables as T
from audit_lib.store.distributed import run_ray
from audit_lib.store.lock import Lock
from audit_lib.store.parsing import GroupResult, Part, empty_counts, groups, run_local
from audit_lib.store.rewrites import examine, rewritten_part
from audit_lib.store.scan import FileScan, is_active, scan_file
from audit_lib.store.tables import STREAM_KINDS, streams
from audit_lib.version import __version__

RAY_GROUP_BYTES = 8 << 20  # content of one Ray task: enough tasks to spread over the cluster
RAY_GROUP_FILES = 200
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class IngestResult:
    """What one ingest did. `seq` is the chain entry it committed (None when nothing was new)."""

    store: str
    tz: str
    seq: int | None
    head: str
    events_version: int
    new: int = 0
    known: int = 0
    grown: int = 0
    rotated: int = 0
    seen: int = 0
    duplicate: int = 0
    skipped: int = 0
    held: int = 0  # new parts left for a later ingest (an incomplete line, or no audit line yet)
    events_added: int = 0
    rejects_added: int = 0
    rolled_back: bool = False  # an earlier ingest had stopped before its commit: its writes were undone
    logs_kept: list[str] = field(default_factory=list)  # tables of an older store set to keep their Delta log whole
    configs: int = 0  # log4j2.properties recorded (new, or their content changed)
    seconds: float = 0.0
    files: list[dict] = field(default_factory=list)  # per file that changed the store: source, kind, events
    rewritten: list[dict] = field(default_factory=list)  # stored files rewritten on disk (see `rewrites.examine`)

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["files_count"] = {k: d[k] for k in ("new", "known", "grown", "rotated", "seen", "duplicate", "skipped",
                                              "held")}
        d["files_count"]["rewritten"] = len(self.rewritten)
        return d


@dataclass
class Plan:
    parts: list[Part] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # seen, duplicate and skipped rows
    dup_of_part: list[tuple[dict, str]] = field(default_factory=list)  # duplicate rows of files parsed now
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("new", "known", "grown", "rotated", "rewritten", "seen", "duplicate", "skipped", "held"), 0))
    suspects: list[tuple[int, dict]] = field(default_factory=list)  # (part, stored stream) maybe rewritten
    rewrites: list[dict] = field(default_factory=list)
    configs: list[dict] = field(default_factory=list)  # rows of the configs table: log4j2.properties changed


def ingest(paths: Source, store: str | os.PathLike | T.Location, tz: str | None = None, *,
           storage_options: dict[str, str] | None = None, ray: str | None = None, limits: Limits | None = None,
           roots: list[Path] | None = None, progress: Progress | None = None) -> IngestResult:
    """Add what is new in `paths` to the store (created on first use) as one commit; see the module docstring.
    `tz`: the zone the log times are written in (fixed by the first ingest; later ones must agree).
    `ray`: a Ray address (`local` starts one on this machine) to parse the files as Ray tasks."""
    began = time.monotonic()
    loc = T.Location.of(store, storage_options)
    limits = limits or Limits()
    if tz is not None:
        check_tz(tz)
    T.deltalake()
    entries, skipped = discover(paths, roots=roots, limits=limits)  # a bad path creates no store
    found_configs = C.read_configs(paths, roots, limits)
    with Lock(loc) as lock:
        T.create_tables(loc)
        head = T.head(loc)
        tz = _store_tz(head, tz, loc)
        rolled = any([T.restore(loc, name, head.version(name)) for name in T.TABLES])
        for name in T.TABLES:  # the uncommitted files of a killed ingest
            T.remove_orphans(loc, name, lock.since)
        kept = T.keep_logs(loc, full=rolled)  # a store made before its tables kept their log whole: published below
        with T.reading(loc):
            files = T.read(loc, T.FILES, head.version(T.FILES))
        state = streams(files)
        scans = _scan_all(entries, state, limits, progress)
        plan = classify(entries, scans, skipped, files, state)
        plan.configs = C.changed(found_configs, C.stored_configs(loc, head), head.seq + 1)
        _confirm_rewrites(loc, head, plan, tz, limits)
        result = IngestResult(loc.uri, tz, None, head.hash, head.version(T.EVENTS), rolled_back=rolled,
                              logs_kept=kept)
        _commit(loc, head, plan, tz, limits, ray, progress, result)
    for key, n in plan.counts.items():
        if key != "rewritten":
            setattr(result, key, n)
    result.rewritten = plan.rewrites
    result.seconds = round(time.monotonic() - began, 3)
    return result


def _store_tz(head: T.Head, tz: str | None, loc: T.Location) -> str:
    if head.tz is None:
        return tz or "UTC"
    if tz is not None and tz != head.tz:
        raise T.StoreError(f"The store at {loc.uri} holds times read in {head.tz}; ingest with --tz {head.tz} "
                           "(read it in another zone with summary --tz)")
    return head.tz


def _scan_all(entries: list[Entry], state: pl.DataFrame, limits: Limits, progress: Progress | None) -> list[FileScan]:
    """Scan every file, asking each for its prefix hashes where a growing file of its node stopped."""
    ends: dict[str, set[int]] = {}
    for node, source, end in state.select("node", "source", "end").iter_rows():
        if is_active(source) and end:
            ends.setdefault(node, set()).add(end)
    total = sum(e.size for e in entries)
    done = 0
    out = []
    with ThreadPoolExecutor(max_workers=2) as pool:  # hashing and gunzip release the GIL
        for e, sc in zip(entries, pool.map(lambda e: scan_file(e, frozenset(ends.get(e.node, ())), limits),
                                          entries), strict=True):
            out.append(sc)
            done += e.size
            if progress:
                progress("hashing", done, total)
    return out


def _row(**values: object) -> dict:
    row = dict.fromkeys(T.FILES_SCHEMA)
    row.update(events=0, attached=0, rejects=0, blank=0, start=0, end=0, line_start=0, lines=0, complete=True,
               utf16=False)
    row.update(values)
    return row


def _file_fields(e: Entry, sc: FileScan) -> dict:
    return {"source": e.source, "node": e.node, "sha256": sc.sha256, "bytes": sc.bytes,
            "content_sha256": sc.content_sha256, "content_bytes": sc.content_bytes, "compressed": sc.compressed,
            "error": sc.error, "complete": sc.complete, "utf16": sc.utf16}


def classify(entries: list[Entry], scans: list[FileScan], skipped: list[Skipped], files: pl.DataFrame,
             state: pl.DataFrame) -> Plan:
    """Decide, file by file (in source order), what each adds to the store."""
    plan = Plan()
    latest = {r["stream"]: r for r in state.iter_rows(named=True)}
    same = {(r["node"], r["source"], r["sha256"]) for r in state.iter_rows(named=True)}
    same |= {(n, s, h) for n, s, h in files.filter(pl.col("kind") == "duplicate")
             .select("node", "source", "sha256").iter_rows()}
    owner: dict[str, str] = {}  # content already read -> its stream
    for r in files.filter(pl.col("kind").is_in(STREAM_KINDS)).iter_rows(named=True):
        if r["content_bytes"] and r["complete"]:
            owner.setdefault(r["content_sha256"], r["stream"])
        if r["end"]:
            owner.setdefault(r["prefix_sha256"], r["stream"])
    names = set(files["stream"].drop_nulls().to_list())
    recorded_skips = {(n, s): r for n, s, r in files.filter(pl.col("kind") == "skipped")
                      .sort("seq", "order").select("node", "source", "error").iter_rows()}

    known = [(e.node, e.source, sc.sha256) in same for e, sc in zip(entries, scans, strict=True)]
    present = {latest_name for latest_name, r in latest.items()
               if any(k and e.node == r["node"] and e.source == r["source"] for k, e in zip(known, entries,
                                                                                            strict=True))}
    fresh: dict[str, str] = {}  # content of files parsed in this ingest -> stream
    continued = _continued_somewhere(entries, scans, latest)
    extended: set[str] = set()
    renamed: set[str] = set()

    skips = [(s.name, s.reason, s.unread) for s in skipped]  # unread: an audit log not read, kept as incomplete
    skips += [(e.source, sc.skip, is_audit_name(e.source)) for e, sc in zip(entries, scans, strict=True) if sc.skip]
    for order, (name, reason, unread) in enumerate(skips):
        plan.counts["skipped"] += 1
        if recorded_skips.get(("", name)) != reason:
            plan.rows.append(_row(kind="skipped", order=order, source=name, node="", error=reason,
                                  complete=not unread))

    for i, (e, sc) in enumerate(zip(entries, scans, strict=True)):
        if sc.skip:
            continue
        if known[i]:
            plan.counts["known"] += 1
            continue
        content = sc.content_sha256 if sc.content_bytes else None
        if content is not None and content in fresh:
            row = _row(kind="duplicate", order=i, duplicate_of=fresh[content], **_file_fields(e, sc))
            plan.rows.append(row)
            plan.dup_of_part.append((row, fresh[content]))
            plan.counts["duplicate"] += 1
            continue
        if content is not None and content in owner:
            s = owner[content]
            cur = latest[s]
            if cur["content_sha256"] != content:  # an earlier state of a stored file: nothing new in it
                plan.counts["known"] += 1
            elif s in present or s in renamed:
                plan.rows.append(_row(kind="duplicate", order=i, duplicate_of=s, lines=cur["lines"],
                                      attached=cur["attached"], blank=cur["blank"], **_file_fields(e, sc)))
                plan.counts["duplicate"] += 1
            else:  # the same content under a new name: remember the name
                renamed.add(s)
                plan.rows.append(_row(kind="seen", order=i, stream=s, start=cur["end"], end=cur["end"],
                                      prefix_sha256=cur["prefix_sha256"], line_start=cur["lines"],
                                      lines=cur["lines"], **_file_fields(e, sc)))
                plan.counts["seen"] += 1
            continue
        active = is_active(e.source)
        end = sc.cut if active else sc.content_bytes
        prefix = sc.cut_sha256 if active else sc.content_sha256
        base = _continued(e, sc, latest, extended)
        if base is not None:
            s = latest[base]
            extended.add(base)
            if content is not None:
                fresh[content] = base
            if end <= s["end"]:
                plan.counts["held"] += 1
                continue
            kind = "grown" if e.source == s["source"] else "rotated"
            plan.parts.append(Part(i, e, sc, kind, base, s["end"], end, s["lines"], prefix))
            continue
        stream = _unique_name(e.source, names)
        names.add(stream)
        if content is not None:
            fresh[content] = stream
        plan.parts.append(Part(i, e, sc, "new", stream, 0, end, 0, prefix))
        stored = _same_file(e, latest, continued | extended) if active and not sc.utf16 else None
        if stored is not None:
            plan.suspects.append((len(plan.parts) - 1, stored))
    return plan


def _continued_somewhere(entries: list[Entry], scans: list[FileScan], latest: dict[str, dict]) -> set[str]:
    """The growing streams whose stored part some file given now starts with."""
    by_node: dict[str, list[dict]] = {}
    for r in latest.values():
        if is_active(r["source"]) and r["end"]:
            by_node.setdefault(r["node"], []).append(r)
    return {r["stream"] for e, sc in zip(entries, scans, strict=True) for r in by_node.get(e.node, ())
            if sc.prefix.get(r["end"]) == r["prefix_sha256"]}


def _same_file(e: Entry, latest: dict[str, dict], taken: set[str]) -> dict | None:
    """The stored growing stream last seen under this file's name and node, that no file given now continues."""
    rows = [r for name, r in latest.items() if r["node"] == e.node and r["source"] == e.source and r["end"]
            and not r["utf16"] and name not in taken]
    return max(rows, key=lambda r: (r["seq"], r["order"])) if rows else None


def _confirm_rewrites(loc: T.Location, head: T.Head, plan: Plan, tz: str, limits: Limits) -> None:
    """Each suspect classed as new that turns out to be its stored file rewritten: it adds only what follows."""
    for k, stored in plan.suspects:
        part = plan.parts[k]
        record = examine(loc, head, part, stored, tz, limits)
        if record is None:
            continue
        plan.parts[k] = rewritten_part(part, record)
        plan.rewrites.append(record)
        for j, (row, stream) in enumerate(plan.dup_of_part):  # a copy of it beside it
            if stream == part.stream:
                row["duplicate_of"] = record["stream"]
                plan.dup_of_part[j] = (row, record["stream"])


def _continued(e: Entry, sc: FileScan, latest: dict[str, dict], taken: set[str]) -> str | None:
    """The growing stream this file continues (its first bytes are that stream's stored part), if any."""
    best, best_end = None, -1
    for name, r in latest.items():
        if r["node"] != e.node or not is_active(r["source"]) or r["utf16"] or name in taken:
            continue
        if r["end"] == 0:  # nothing stored yet: only the same file can go on with it
            fits = e.source == r["source"]
        else:
            fits = r["end"] <= sc.content_bytes and sc.prefix.get(r["end"]) == r["prefix_sha256"]
        if fits and r["end"] > best_end:
            best, best_end = name, r["end"]
    return best


def _unique_name(source: str, taken: set[str]) -> str:
    if source not in taken:
        return source
    for k in itertools.count(2):
        if f"{source} ({k})" not in taken:
            return f"{source} ({k})"
    raise AssertionError


# ---------------------------------------------------------------------------------------------------- commit


def _commit(loc: T.Location, head: T.Head, plan: Plan, tz: str, limits: Limits, ray: str | None,
            progress: Progress | None, result: IngestResult) -> None:
    batches = groups(plan.parts, RAY_GROUP_BYTES, RAY_GROUP_FILES) if ray else groups(plan.parts)
    results = run_ray(batches, tz, limits, ray) if ray else run_local(batches, tz, limits)
    total = sum(p.end - p.start for p in plan.parts)
    collected: list[GroupResult] = []
    pairs: set[tuple] = set()
    done = 0

    def frames() -> Iterator[pl.DataFrame]:
        nonlocal done
        for g, res in zip(batches, results, strict=True):
            collected.append(GroupResult(res.events.head(0), res.rejects, res.files, res.skipped))
            pairs.update(res.events.select("user", "product").unique().iter_rows())
            partials.append(T.rollups(res.events))
            done += sum(p.end - p.start for p in g)
            if progress:
                progress("parsing", done, total)
            yield res.events

    versions = {name: T.table_version(loc, name) or 0 for name in T.TABLES}  # after any restore
    start = dict(versions)
    partials: list[dict[str, pl.DataFrame]] = []
    # each group's data files are written while the next group is parsed
    ev_version = T.append_frames(loc, T.EVENTS, prefetched(frames(), ahead=1))
    if ev_version is not None:
        versions[T.EVENTS] = ev_version
        _append_rollups(loc, partials, versions)
    counts = pl.concat([c.files for c in collected]) if collected else empty_counts()
    held = {s for c in collected for s in c.skipped}
    rows = _rows(plan, counts, held, head.seq + 1)
    for kind in ("new", "grown", "rotated", "rewritten"):
        plan.counts[kind] = sum(r["kind"] == kind for r in rows)
    plan.counts["held"] += sum(p.end > p.start for p in plan.parts) - sum(
        r["kind"] in ("grown", "rotated") or (r["kind"] in ("new", "rewritten") and r["end"] > r["start"])
        for r in rows)
    if not rows and not plan.configs and not result.rolled_back and not result.logs_kept:
        # (a rollback or a table set to keep its log is published, so that no table is ahead of the chain)
        _undo_if_needed(loc, start, versions)
        return
    rejects = pl.concat([c.rejects for c in collected]) if collected else T.empty(T.REJECTS)
    added = {r["stream"]: r["events"] for r in rows if r["kind"] == "rewritten"}
    for record in plan.rewrites:
        record["events_added"] = int(added.get(record["stream"], 0))
    _publish(loc, head, versions, rows, rejects, pairs, plan.counts, tz, progress, result, plan.rewrites,
             plan.configs)


def _publish(loc: T.Location, head: T.Head, versions: dict[str, int], rows: list[dict], rejects: pl.DataFrame,
             pairs: set[tuple], counts: dict[str, int], tz: str, progress: Progress | None,
             result: IngestResult, rewrites: list[dict] | None = None, configs: list[dict] | None = None) -> None:
    """Write the rejects, the files and configs rows, then the chain entry that publishes them with the events."""
    if rejects.height:
        versions[T.REJECTS] = T.append(loc, T.REJECTS, rejects)
    if configs:
        versions[T.CONFIGS] = T.append(loc, T.CONFIGS, pl.DataFrame(configs, schema=T.CONFIGS_SCHEMA, orient="row"))
    files_df = pl.DataFrame(rows, schema=T.FILES_SCHEMA, orient="row")
    versions[T.FILES] = T.append(loc, T.FILES, files_df)
    known_pairs = set(head.pairs().iter_rows())
    new_pairs = sorted((p for p in pairs if p not in known_pairs), key=lambda p: (str(p[0]), str(p[1])))
    entry = {
        "seq": head.seq + 1, "time": datetime.now(UTC).isoformat(timespec="seconds"), "tz": tz,
        "tool": f"audit_lib {__version__}", "prev": head.hash,
        "counts": counts, "events_added": int(files_df["events"].sum() if files_df.height else 0),
        "rejects_added": rejects.height, "files": files_df.to_dicts(), "pairs": [list(p) for p in new_pairs],
        "tables": {name: _change(loc, name, head.version(name), versions[name]) for name in T.TABLES},
        # every Delta log entry since the last chain entry (the first: since the table was created)
        "logs": {name: T.log_hashes(loc, name, head.version(name) + 1 if head.seq else 0, versions[name])
                 for name in T.TABLES},
    }
    if rewrites:  # stored files found rewritten on disk (see `rewrites`), hashed with the rest of the entry
        entry["rewritten"] = rewrites
    if configs:
        entry["configs"] = C.entry_rows(configs)
    if progress:
        progress("committing", 1, 1)
    digest = T.commit_entry(loc, entry)
    result.seq, result.head, result.events_version = entry["seq"], digest, versions[T.EVENTS]
    result.events_added, result.rejects_added = entry["events_added"], rejects.height
    result.configs = len(configs or [])
    result.files = [{"source": r["source"], "kind": r["kind"], "events": r["events"]} for r in rows
                    if r["kind"] != "skipped"]


def append_events(store: str | os.PathLike | T.Location, frames: Iterable[pl.DataFrame], files: list[dict],
                  tz: str = "UTC", *, storage_options: dict[str, str] | None = None) -> IngestResult:
    """Commit events made elsewhere as one ingest: `frames` in the store's events schema (`actor` is derived
    when read), `files` the manifest rows of the files they stand for (source, node, sha256, bytes, lines,
    events; the rest as for a new file). For generated data (the benchmark) and imports from other systems;
    nothing here is scanned or parsed."""
    loc = T.Location.of(store, storage_options)
    check_tz(tz)
    with Lock(loc) as lock:
        T.create_tables(loc)
        head = T.head(loc)
        tz = _store_tz(head, tz, loc)
        rolled = any([T.restore(loc, name, head.version(name)) for name in T.TABLES])
        for name in T.TABLES:  # the uncommitted files of a killed ingest
            T.remove_orphans(loc, name, lock.since)
        result = IngestResult(loc.uri, tz, None, head.hash, head.version(T.EVENTS), rolled_back=rolled,
                              logs_kept=T.keep_logs(loc, full=rolled))
        pairs: set[tuple] = set()
        partials: list[dict[str, pl.DataFrame]] = []

        def conformed() -> Iterator[pl.DataFrame]:
            for f in frames:
                f = T.conform(f, T.EVENTS)
                pairs.update(f.select("user", "product").unique().iter_rows())
                partials.append(T.rollups(f))
                yield f

        versions = {name: T.table_version(loc, name) or 0 for name in T.TABLES}  # after any restore
        version = T.append_frames(loc, T.EVENTS, conformed())
        if version is not None:
            versions[T.EVENTS] = version
            _append_rollups(loc, partials, versions)
        rows = []
        for i, f in enumerate(files):
            content = {"content_sha256": f.get("sha256"), "content_bytes": f.get("bytes"),
                       "prefix_sha256": f.get("sha256"), "end": f.get("bytes"), "compressed": False}
            rows.append(_row(**{**content, **f, "kind": "new", "stream": f["source"], "order": i,
                                "seq": head.seq + 1}))
        counts = {"new": len(rows)}
        _publish(loc, head, versions, rows, T.empty(T.REJECTS), pairs, counts, tz, None, result)
    result.new = len(rows)
    return result


def _append_rollups(loc: T.Location, parts: list[dict[str, pl.DataFrame]], versions: dict[str, int]) -> None:
    """The rollup rows of the events just written, one version of each rollup table."""
    for name in T.ROLLUPS:
        merged = T.merge_rollups(name, [p[name] for p in parts])
        if merged.height:
            versions[name] = T.append(loc, name, merged)


def _undo_if_needed(loc: T.Location, start: dict[str, int], versions: dict[str, int]) -> None:
    """Nothing to commit: bring back any table an empty parse wrote to."""
    for name in T.TABLES:
        if versions[name] != start[name]:
            T.restore(loc, name, start[name])


def _rows(plan: Plan, counts: pl.DataFrame, held: set[str], seq: int) -> list[dict]:
    """The files-table rows of this ingest: parts with what parsing found, and the other rows."""
    by_stream = {r["source"]: r for r in counts.iter_rows(named=True)}
    rows = []
    for p in plan.parts:
        c = by_stream.get(p.stream)
        if p.stream in held or (c is None and p.end > p.start):
            continue  # the new part held no audit line yet: left for a later ingest
        c = c or {"lines": 0, "events": 0, "attached": 0, "rejects": 0, "blank": 0, "error": p.scan.error,
                  "complete": p.scan.complete}
        rows.append(_row(kind=p.kind, order=p.index, stream=p.stream, start=p.start, end=p.end,
                         prefix_sha256=p.prefix_sha256, line_start=p.line_start, lines=p.line_start + c["lines"],
                         events=c["events"], attached=c["attached"], rejects=c["rejects"], blank=c["blank"],
                         **{**_file_fields(p.entry, p.scan), "error": c["error"] or p.scan.error,
                            "complete": bool(c["complete"]) and p.scan.complete}))
    parsed = {r["stream"]: r for r in rows}
    for row, stream in plan.dup_of_part:
        if stream in parsed:
            row.update(lines=parsed[stream]["lines"], attached=parsed[stream]["attached"],
                       blank=parsed[stream]["blank"])
    rows += plan.rows
    for r in rows:
        r["seq"] = seq
        if r["kind"] in ("duplicate", "skipped"):
            r["stream"] = None
    rows.sort(key=lambda r: (r["kind"] == "skipped", r["order"]))
    return rows


def _change(loc: T.Location, name: str, before: int, after: int) -> dict:
    """What this ingest did to table `name`: its version, the data files added (path, size, SHA-256) and
    removed, between the version the store stood at and the new one."""
    if after == before:
        return {"version": before, "add": [], "remove": []}
    old, new = T.live_files(loc, name, before), T.live_files(loc, name, after)
    add = [[p, new[p], T.file_sha256(loc, name, p)] for p in sorted(set(new) - set(old))]
    return {"version": after, "add": add, "remove": sorted(set(old) - set(new))}
