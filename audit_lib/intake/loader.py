"""`load()`: every audit file of a source, parsed into one table of events, plus rejects and a manifest.

Cost per batch, not per file: files are read once as streams (a background thread hashes, decompresses and
normalises them, see `audit_lib.intake.reading`), their lines are gathered into batches of a few MB carrying `fid`
(file) and `line`, and each batch goes through the polars pipeline once (`audit_lib.intake.parse`), two batches at a
time. A big file is cut into pieces at event boundaries, so it is parsed in bounded memory like many small ones.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from audit_lib.errors import SourceError
from audit_lib.events.actors import actors
from audit_lib.events.schema import REJECTS_SCHEMA, events_schema, files_schema
from audit_lib.events.zones import is_zone
from audit_lib.intake.background import prefetched
from audit_lib.intake.discover import discover
from audit_lib.intake.entries import Budget, Entry, Limits, Skipped, Source
from audit_lib.intake.formats import Formats, load_formats
from audit_lib.intake.messages import MessageMemo, message_memo
from audit_lib.intake.names import is_audit_name
from audit_lib.intake.parse import Parsed, parse_batch
from audit_lib.intake.reading import FileFacts, event_cut, last_event_start, read_text, text_lines, utf8_text
from audit_lib.intake.times import localise
from audit_lib.memory import give_back

CATEGORICAL = ["node", "product", "user", "actor", "action", "artifact_type", "artifact", "outcome", "level",
               "source"]
BATCH = 16 << 20  # bytes of text parsed in one pass (polars has a cost per operation: fewer, larger batches)


@dataclass
class AuditLog:
    """The loaded log: `events`, `rejects` and the `files` manifest, all polars DataFrames."""

    events: pl.DataFrame
    rejects: pl.DataFrame
    files: pl.DataFrame
    tz: str = "UTC"
    skipped: list = field(default_factory=list)  # files seen in the source and left alone, with the reason
    entries: dict[str, Entry] = field(default_factory=dict, repr=False)
    wall: pl.Series | None = field(default=None, repr=False)  # each event's wall-clock time, as written
    _lines: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)  # files read back

    def raw_line(self, source: str, line: int) -> str | None:
        """The text of one line of a source file, read back from the file (or upload) on demand."""
        entry = self.entries.get(source)
        if entry is None or line < 1:
            return None
        if source not in self._lines:  # the last few files shown, kept with this log
            if len(self._lines) >= 4:
                self._lines.pop(next(iter(self._lines)))
            self._lines[source] = text_lines(entry)
        lines = self._lines[source]
        return lines[line - 1] if line <= len(lines) else None

    @property
    def complete(self) -> bool:
        """True only when every file was read to its end and no file named as an audit log (or zip, or folder)
        was left unread (see `Skipped.unread`)."""
        if any(getattr(s, "unread", False) for s in self.skipped):
            return False
        return bool(self.files["complete"].all()) if self.files.height else True

    def with_tz(self, tz: str) -> AuditLog:
        """The same log with its wall-clock times read in another zone: no file is read or parsed again."""
        check_tz(tz)
        if tz == self.tz or self.wall is None:
            return self
        ev = self.events.with_columns(wall=self.wall)
        ev = with_times(ev, tz)
        ev, wall = _sorted(ev)
        files = file_times(self.files.drop("first", "last"), per_file(ev), tz)
        return AuditLog(ev, self.rejects, files, tz, self.skipped, self.entries, wall)

    @property
    def fingerprint(self) -> str:
        """A short hash of what was loaded (sources, contents, time zone): a cache key for the app."""
        h = hashlib.sha256(self.tz.encode())
        for src, sha in self.files.select("source", "sha256").iter_rows():
            h.update(f"{src}\0{sha}\n".encode())
        return h.hexdigest()[:16]


def check_tz(tz: str) -> str:
    """Return `tz` if it is a real IANA zone (see `audit_lib.events.zones`), else raise a SourceError that says so."""
    if not isinstance(tz, str) or not is_zone(tz):
        raise SourceError(f"Unknown time zone {str(tz)[:60]!r}: use an IANA name such as UTC or Asia/Colombo")
    return tz


def load(source: Source, tz: str = "UTC", *, formats: Formats | None = None, workers: int | None = None,
         limits: Limits | None = None, roots: list[Path] | None = None, label: str | None = None) -> AuditLog:
    """Load audit logs from a folder (searched recursively), a file, a glob, a zip, uploads as (name, bytes)
    pairs, or a list of those. Times are read as wall-clock time in `tz`. `limits` caps what is read (see
    `audit_lib.intake.entries.Limits`); `roots`, when given, are the only folders paths may lead into; `label` names
    the node of uploads whose names say none.

    Raises SourceError for a path that does not exist or holds no audit file; a damaged file does not
    raise: its `error` in the manifest says what happened and the other files load as usual.
    """
    check_tz(tz)
    limits = limits or Limits()
    entries, skipped = discover(source, roots=roots, limits=limits, label=label)
    return load_entries(entries, tz, skipped=skipped, formats=formats, workers=workers, limits=limits)


def load_entries(entries: list[Entry], tz: str = "UTC", *, skipped: list[Skipped] | None = None,
                 formats: Formats | None = None, workers: int | None = None,
                 limits: Limits | None = None) -> AuditLog:
    """Load files already found (see `audit_lib.intake.discover.discover`, or entries made by hand, e.g. the new part
    of a growing file): the same result as `load`."""
    p = parse_entries(entries, tz, skipped=skipped, formats=formats, workers=workers, limits=limits)
    ev, wall = _sorted(_with_actor(p.events))
    give_back()
    return AuditLog(ev, p.rejects, p.files, tz, p.skipped, p.kept, wall)


@dataclass
class ParsedFiles:
    """What `parse_entries` read: events in file order, without `actor` (see `actors`), with `wall`."""

    events: pl.DataFrame
    rejects: pl.DataFrame
    files: pl.DataFrame
    skipped: list[Skipped]
    kept: dict[str, Entry]


def parse_entries(entries: list[Entry], tz: str = "UTC", *, skipped: list[Skipped] | None = None,
                  formats: Formats | None = None, workers: int | None = None, limits: Limits | None = None,
                  categorical: bool = True, drop_duplicates: bool = True) -> ParsedFiles:
    """Read and parse files into events, rejects and the manifest, as `load_entries` does before it orders the
    events in time and adds actors (what a writer of the event store needs, and no more). `categorical=False`
    keeps the text columns as strings; `drop_duplicates=False` keeps the events of a file whose text equals an
    earlier one's (its manifest row still says so)."""
    check_tz(tz)
    facts = [FileFacts() for _ in entries]
    events, rejects, counts = [], [], []
    for parsed in parsed_batches(entries, facts, formats=formats, workers=workers, limits=limits,
                                 keep=lambda p: _kept(p, categorical)):
        events.append(parsed.events)
        counts.append(parsed.counts)
        if parsed.rejects.height:
            rejects.append(parsed.rejects)
    skipped, dup_of = files_found(entries, facts, skipped)
    sources = pl.Series("source", [e.source for e in entries], pl.String)
    nodes = pl.Series("node", [e.node for e in entries], pl.String)
    ev = _assemble(events) if events else _empty_parsed(categorical)
    rej = pl.concat(rejects) if rejects else pl.DataFrame(schema={"fid": pl.UInt32, **REJECTS_SCHEMA}).drop("source")
    if dup_of and drop_duplicates:
        dup_ids = pl.Series(list(dup_of), dtype=pl.UInt32)
        ev = ev.filter(~pl.col("fid").is_in(dup_ids.implode()))
        rej = rej.filter(~pl.col("fid").is_in(dup_ids.implode()))
    if categorical:
        sources, nodes = sources.cast(pl.Categorical), nodes.cast(pl.Categorical)
    ev = ev.with_columns(source=sources.gather(ev["fid"]), node=nodes.gather(ev["fid"]))
    ev = with_times(_typed(ev) if categorical else ev, tz)
    files = manifest(entries, facts, dup_of, counts, rej, tz)
    rej = rej.with_columns(source=sources.cast(pl.String).gather(rej["fid"])).select(
        [pl.col(c).cast(t) for c, t in REJECTS_SCHEMA.items()])
    files = file_times(files, per_file(ev), tz)
    kept = {e.source: e for e, f in zip(entries, facts, strict=True) if not f.skip}
    return ParsedFiles(ev.drop("fid"), rej, files, skipped, kept)


def parsed_batches(entries: list[Entry], facts: list[FileFacts], *, formats: Formats | None = None,
                   workers: int | None = None, limits: Limits | None = None,
                   counting: bool = False, tz: str = "UTC", batch: int | None = None,
                   keep: Callable[[Parsed], Any] | None = None) -> Iterator[Any]:
    """Each batch of the files' lines parsed (events with `fid` and `wall`, rejects, counts), in file order: read
    in the background, parsed `workers` at a time, the messages that repeat read once for all batches. `facts`
    (one per entry) are filled in as the files are read; complete once the batches are exhausted.
    `counting=True` reads only what counts need, in zone `tz` (see `parse_batch`); `batch` is the bytes of text
    parsed in one pass (BATCH by default); `keep`, when given, is applied to each parsed batch in its thread and
    its result is yielded instead (the batch made ready to keep, or its counts)."""
    fmts = formats or load_formats()
    limits = limits or Limits()
    workers = max(1, min(workers or os.cpu_count() or 1, 4))
    pending: deque = deque()
    budget = Budget(limits.max_total_bytes)
    memo = message_memo(fmts)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for part in prefetched(_batches(entries, facts, limits, budget, batch or BATCH)):
            pending.append(pool.submit(_parse, part, fmts, memo, counting, keep, tz))
            while len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def files_found(entries: list[Entry], facts: list[FileFacts],
                skipped: list[Skipped] | None = None) -> tuple[list[Skipped], dict[int, str]]:
    """After the reading: what was skipped (the given ones, and files whose content turned out not to be an audit
    log), and the files whose text equals an earlier file's (fid -> that file). Raises SourceError when no file
    was an audit log."""
    # when the name says audit log (random bytes, zeros, a damaged gzip magic) the set is incomplete
    skipped = list(skipped or []) + [Skipped(e.source, f.skip, is_audit_name(e.source))
                                     for e, f in zip(entries, facts, strict=True) if f.skip]
    if entries and all(f.skip for f in facts):
        shown = "; ".join(map(str, skipped[:8])) + (" …" if len(skipped) > 8 else "")
        raise SourceError(f"No audit log found: {shown}")
    return skipped, _duplicates(entries, facts)


@dataclass
class Span:
    """Lines of one file in a batch: `size` bytes of its text. Their number, and the first one's, are worked out
    where the batch is parsed (`_numbered`)."""

    fid: int
    size: int
    first: bool  # the file's first lines (else its lines go on from the batch before)
    last: bool = False  # the file's last lines
    cut: bool = False  # the last of them ends without a line break
    facts: FileFacts | None = None  # of the file, with `last`: its `lines` are set once counted


@dataclass
class Batch:
    text: list[bytes]  # normalised whole lines of several files, as read (see `reading.utf8_text`), in pieces
    spans: list[Span]
    before: Future | None = None  # lines of its first span's file in the batches before (when it goes on)
    after: Future | None = None  # lines of its last span's file up to this batch's end (when it goes on)


class _Text:
    """Text held as the pieces it was read in, cut without joining it: only a window looked at is copied."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, text: bytes | memoryview) -> None:
        self.parts.append(bytes(text))
        self.size += len(text)

    def window(self, lo: int, hi: int) -> bytes:
        """Bytes lo to hi (a copy of that range only)."""
        out, at = [], 0
        for part in self.parts:
            if at >= hi:
                break
            if at + len(part) > lo:
                out.append(part[max(0, lo - at) : hi - at])
            at += len(part)
        return b"".join(out)

    def take(self, n: int) -> list[bytes]:
        """The first `n` bytes, removed (only the piece cut in two is copied)."""
        head, at = [], 0
        while self.parts and at + len(self.parts[0]) <= n:
            at += len(self.parts[0])
            head.append(self.parts.pop(0))
        if at < n:
            part = self.parts[0]
            head.append(part[: n - at])
            self.parts[0] = part[n - at :]
        self.size -= n
        return head


def _text_cut(text: _Text, lo: int, size: int) -> int:
    """`event_cut(text, lo, size)` of the text held: the last MB before `size` is looked at first, the whole text
    only when no event starts there."""
    start = max(lo, size - (1 << 20))
    pos = last_event_start(text.window(start, size), 0, size - start)
    if pos >= 0 and start + pos > 0:
        return start + pos + 1
    return event_cut(text.window(0, text.size), lo, size)


def _batches(entries: list[Entry], facts: list[FileFacts], limits: Limits, budget: Budget,
             size: int = BATCH) -> Iterator[Batch]:
    """The files' text gathered into batches of about BATCH bytes, files in order, each cut at an event boundary
    or between files. The text is kept in the pieces it was read in: a byte is copied once on its way to polars;
    its lines are counted where the batch is parsed."""
    text = _Text()
    spans: list[Span] = []
    before: Future | None = None
    for fid, entry in enumerate(entries):
        f = facts[fid]
        start, first = text.size, True  # where this file's text begins in `text`; no line of it cut off yet
        for piece in read_text(entry, f, limits, budget):
            text.add(piece)
            while text.size >= size:
                cut = _text_cut(text, start, size)
                after = None
                if cut > start:
                    spans.append(Span(fid, cut - start, first))
                    after, first = Future(), False
                yield Batch(text.take(cut), spans, before, after)
                spans, start = [], max(0, start - cut)
                before = after
        if not f.skip:
            spans.append(Span(fid, text.size - start, first, True, f.cut_last, f))
    if text.size or spans:
        yield Batch(text.take(text.size), spans, before)


def _parse(batch: Batch, fmts: Formats, memo: MessageMemo | None = None, counting: bool = False,
           keep: Callable[[Parsed], Any] | None = None, tz: str = "UTC") -> Any:
    try:
        df, counts = _read_lines(batch)
        firsts = _numbered(batch, counts)
    except BaseException as exc:
        if batch.after is not None and not batch.after.done():
            batch.after.set_exception(exc)  # the next batch's numbers wait for this one's
        raise
    spans = [(s, n, first) for s, n, first in zip(batch.spans, counts, firsts, strict=True) if n]
    df = pl.concat([df, _span_rows(spans)], how="horizontal")
    parsed = parse_batch(df, fmts, memo, counting=counting, tz=tz)
    return keep(parsed) if keep else parsed


def _read_lines(batch: Batch) -> tuple[pl.DataFrame, list[int]]:
    """The batch's lines, and how many there are of each span."""
    text, batch.text = batch.text, []
    if not text:
        return pl.DataFrame(schema={"text": pl.String}), [0] * len(batch.spans)
    try:  # polars checks the UTF-8 of the whole batch; only a batch that fails is read line by line in Python
        df = pl.read_lines(text, name="text")
    except pl.exceptions.ComputeError:
        whole = b"".join(text)
        df = pl.read_lines(utf8_text(whole), name="text")  # each line re-encoded: count the breaks as read
        ends, at, n = [], 0, 0
        for s in batch.spans:  # each span's breaks counted in its own bytes only
            n += whole.count(b"\n", at, at + s.size)
            at += s.size
            ends.append(n)
    else:  # each line is its bytes and a line break: a span ends after the line that ends at its last byte
        bounds = pl.Series([s.size for s in batch.spans], dtype=pl.Int64).cum_sum()
        ends = (df["text"].str.len_bytes().cast(pl.Int64) + 1).cum_sum().search_sorted(bounds, side="right")
        ends = ends.to_list()
    counts = [b - a for a, b in zip([0, *ends[:-1]], ends, strict=True)]
    if df.height != sum(counts):
        raise RuntimeError(f"line count mismatch in a batch: {df.height} != {sum(counts)}")
    return df, counts


def _numbered(batch: Batch, counts: list[int]) -> list[int]:
    """Each span's first line number (a file going on from the batch before waits for its count there); tells
    the next batch where its file goes on, and each file ending here its number of lines."""
    firsts = [1] * len(batch.spans)
    if batch.spans and not batch.spans[0].first:
        firsts[0] = 1 + batch.before.result()
    for s, n, first in zip(batch.spans, counts, firsts, strict=True):
        if s.facts is not None:
            s.facts.lines = first - 1 + n
    if batch.after is not None:
        batch.after.set_result(firsts[-1] - 1 + counts[-1])
    return firsts


def _span_rows(spans: list[tuple[Span, int, int]]) -> pl.DataFrame:
    """Each span's lines (span, lines, first line's number): its file, their numbers, the first (nothing above
    continues into it), a cut-off last; made for all spans at once (a batch of small files holds thousands)."""
    df = pl.DataFrame({"fid": [s.fid for s, _, _ in spans], "first": [f for _, _, f in spans],
                       "end": [f + n for _, n, f in spans], "cut": [s.last and s.cut for s, _, _ in spans]},
                      schema={"fid": pl.UInt32, "first": pl.UInt32, "end": pl.UInt32, "cut": pl.Boolean})
    line = pl.col("line")
    return df.with_columns(line=pl.int_ranges("first", "end", dtype=pl.UInt32)).explode("line").select(
        "fid", "line", start=line == pl.col("first"), cut=pl.col("cut") & (line == pl.col("end") - 1))


def _kept(parsed: Parsed, categorical: bool = True) -> Parsed:
    """A parsed batch as it is kept (in the parsing thread): repetitive columns as categoricals (unless not
    wanted), text columns copied into buffers of their own (a sliced string still points into its batch's whole
    text, which would otherwise stay in memory)."""
    repetitive = ["product", "user", "action", "artifact_type", "artifact", "outcome", "level"]
    ev = parsed.events.with_columns(*[pl.col(c).cast(pl.Categorical) if categorical else _own(c) for c in repetitive],
                                    _own("details"), _own("attachment"))
    rej = parsed.rejects.with_columns(_own("text"), _own("reason")) if parsed.rejects.height else parsed.rejects
    return Parsed(ev, rej, parsed.counts)


def _assemble(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """One frame of the batches' frames, as chunks: nothing is copied (sorting, where needed, copies once)."""
    ev = pl.concat(frames, rechunk=False)
    frames.clear()
    return ev


def _own(column: str) -> pl.Expr:
    return pl.concat_str([pl.col(column), pl.lit("")]).alias(column)


def _empty_parsed(categorical: bool = True) -> pl.DataFrame:
    text = pl.Categorical if categorical else pl.String
    schema = {"fid": pl.UInt32, "line": pl.UInt32, "wall": pl.Datetime("ms"), "level": text,
              **{c: text for c in ("product", "user", "action", "artifact_type", "artifact", "outcome")},
              "details": pl.String, "attachment": pl.String}
    return pl.DataFrame(schema=schema)


def _duplicates(entries: list[Entry], facts: list[FileFacts]) -> dict[int, str]:
    """Files whose text equals an earlier file's (a rotated file beside its gzipped copy): fid -> that file."""
    seen: dict[str, str] = {}
    dup: dict[int, str] = {}
    for fid, (entry, f) in enumerate(zip(entries, facts, strict=True)):
        if not f.content or not f.lines:
            continue
        if f.content in seen:
            dup[fid] = seen[f.content]
        else:
            seen[f.content] = entry.source
    return dup


def _typed(ev: pl.DataFrame) -> pl.DataFrame:
    """The repetitive text columns as categoricals (those that are not yet: a cast would copy them)."""
    todo = [c for c in CATEGORICAL if c in ev.columns and ev.schema[c] != pl.Categorical]
    return ev.with_columns([pl.col(c).cast(pl.Categorical) for c in todo]) if todo else ev


def _with_actor(ev: pl.DataFrame) -> pl.DataFrame:
    """The `actor` column, mapped from the few distinct (user, product) pairs through their categorical codes
    (no text is made per event)."""
    codes = (pl.col("user").to_physical().cast(pl.Int64).fill_null(-1) * 65_536
             + pl.col("product").to_physical().cast(pl.Int64).fill_null(65_535))
    pairs = ev.select("user", "product", key=codes).unique("key", maintain_order=True)
    table = actors(pairs.select("user", "product"))["actor"].cast(pl.Categorical)
    index = ev.select(codes.replace_strict(pairs["key"], pl.int_range(pairs.height, dtype=pl.UInt32, eager=True),
                                           return_dtype=pl.UInt32)).to_series()
    return ev.with_columns(actor=table.gather(index))


def with_times(ev: pl.DataFrame, tz: str) -> pl.DataFrame:
    """`timestamp` and `time_ambiguous` from the wall-clock times: a time repeated when the clocks go back is
    placed by the order of its file's lines (after the file's clock steps back, it is the second reading);
    where nothing tells, it keeps the first reading and is flagged ambiguous."""
    earliest, latest, ambiguous = localise(ev["wall"], tz)
    if ambiguous.any():
        rows = ambiguous.arg_true()
        sub = ev.select("source", "line", "wall").with_row_index("i").filter(ambiguous).with_columns(
            early=earliest.gather(rows), late=latest.gather(rows)).sort("source", "line")
        group = [pl.col("source"), pl.col("wall").dt.date()]
        sub = sub.with_columns(jump=(pl.col("wall") < pl.col("wall").cum_max().shift(1).over(group))
                               .fill_null(False))
        sub = sub.with_columns(after=pl.col("jump").cum_sum().over(group) > 0,
                               decided=pl.col("jump").any().over(group))
        earliest = earliest.scatter(sub["i"], sub.select(pl.when("after").then("late").otherwise("early"))
                                    .to_series())
        ambiguous = ambiguous.scatter(sub["i"], ~sub["decided"])
    return ev.with_columns(timestamp=earliest, time_ambiguous=ambiguous)


def _sorted(ev: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Events in time order (ties in file and line order) with the canonical columns, reordered a column at
    a time to bound memory; and the wall-clock times in the same order."""
    schema = list(events_schema())
    if not ev["timestamp"].is_sorted():
        order = ev.select(pl.arg_sort_by("timestamp", maintain_order=True)).to_series()
        columns = {}
        for name in [*schema, "wall"]:
            columns[name] = ev[name].gather(order)
            ev = ev.drop(name)
        ev = pl.DataFrame(columns)
    return ev.select(schema), ev["wall"]


def manifest(entries: list[Entry], facts: list[FileFacts], dup_of: dict[int, str], counts: list[pl.DataFrame],
             rejects: pl.DataFrame, tz: str) -> pl.DataFrame:
    """The manifest's rows of the files read (without events, first, last: see `file_times`); `counts` are the
    batches' attached and blank lines per fid, `rejects` has the `fid` of each reject."""
    per_file = (pl.concat(counts).group_by("fid").agg(pl.col("attached", "blank").sum()) if counts
                else pl.DataFrame(schema={"fid": pl.UInt32, "attached": pl.UInt32, "blank": pl.UInt32}))
    rej = rejects.group_by("fid").agg(rejects=pl.len())
    rows = []
    for fid, (e, f) in enumerate(zip(entries, facts, strict=True)):
        if f.skip:
            continue
        rows.append({"fid": fid, "source": e.source, "node": e.node, "bytes": f.size, "sha256": f.sha256,
                     "compressed": f.compressed, "lines": f.lines, "duplicate_of": dup_of.get(fid),
                     "error": f.error, "complete": f.complete})
    schema = files_schema(tz)
    files = pl.DataFrame(rows, schema={"fid": pl.UInt32, **{c: schema[c] for c in (
        "source", "node", "bytes", "sha256", "compressed", "lines", "duplicate_of", "error", "complete")}},
        orient="row")
    files = files.join(per_file, on="fid", how="left").join(rej, on="fid", how="left")
    return files.with_columns(pl.col("attached", "blank", "rejects").fill_null(0).cast(pl.Int64))


def per_file(ev: pl.DataFrame) -> pl.DataFrame:
    """Per source: events, first and last time."""
    return ev.group_by("source").agg(  # grouped on the categorical's codes; only the result becomes text
        events=pl.len(), first=pl.col("timestamp").min(), last=pl.col("timestamp").max()).with_columns(
        pl.col("source").cast(pl.String))


def file_times(files: pl.DataFrame, per: pl.DataFrame, tz: str) -> pl.DataFrame:
    """The manifest with each file's events, first and last time (`per`: see `per_file`); its columns in order."""
    files = files.drop([c for c in ("events", "first", "last") if c in files.columns]).join(
        per, on="source", how="left").with_columns(pl.col("events").fill_null(0).cast(pl.Int64))
    schema = files_schema(tz)
    return files.select([pl.col(c).cast(t) for c, t in schema.items()])
