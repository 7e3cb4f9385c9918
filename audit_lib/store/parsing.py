"""Parsing for the store: a file's new content (all of a new file, what a growing or rotated file added) as a
`Part`, parts cut into groups of about GROUP_BYTES, and each group parsed by the loader into rows of the store's
tables (`parse_group`), here or in a Ray task (`parse_payloads`, bytes in, rows out)."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import polars as pl

from audit_lib.errors import SourceError
from audit_lib.intake.entries import Entry, Limits
from audit_lib.intake.loader import parse_entries
from audit_lib.store import tables as T
from audit_lib.store.scan import FileScan, read_slice, slice_opener

GROUP_BYTES = 64 << 20  # content parsed in one call of the loader (it batches across files itself)
GROUP_FILES = 10_000


@dataclass
class Part:
    """A run of a file's content to parse: all of a new file, or what a growing or rotated file added."""

    index: int
    entry: Entry
    scan: FileScan
    kind: str
    stream: str
    start: int
    end: int
    line_start: int
    prefix_sha256: str

    def loader_entry(self, limits: Limits | None) -> Entry:
        """The entry the loader reads: the file itself under the stream's name, or the slice of it."""
        whole = self.start == 0 and self.end == self.scan.content_bytes
        if whole:
            return replace(self.entry, source=self.stream)
        return replace(self.entry, source=self.stream, size=self.end - self.start, path=None,
                       opener=slice_opener(self.entry, self.start, self.end, limits))

    def payload(self, limits: Limits | None) -> bytes:
        """The bytes a remote task parses (the stored bytes of a whole file, else the slice of content)."""
        if self.start == 0 and self.end == self.scan.content_bytes:
            return self.entry.read()
        return read_slice(self.entry, self.start, self.end, limits)


@dataclass
class GroupResult:
    events: pl.DataFrame
    rejects: pl.DataFrame
    files: pl.DataFrame  # source (stream), lines, events, attached, rejects, blank, error, complete
    skipped: list[str]


def parse_group(entries: Sequence[Entry], line_starts: Sequence[int], tz: str,
                limits: Limits | None = None) -> GroupResult:
    """Parse some files (or parts of files) as rows of the store's tables: lines numbered on from `line_starts`
    (the lines already stored of each). A part whose text equals another's is parsed too: the scan already
    found the copies, so what is parsed here is stored."""
    try:
        p = parse_entries(list(entries), tz, limits=limits, categorical=False, drop_duplicates=False)
    except SourceError:
        return GroupResult(T.empty(T.EVENTS), T.empty(T.REJECTS), empty_counts(), [e.source for e in entries])
    names = [e.source for e in entries]
    nodes = [e.node for e in entries]
    offset = pl.col("source").replace_strict(names, list(line_starts), default=0, return_dtype=pl.Int64)
    ts = pl.col("timestamp").dt.convert_time_zone("UTC")
    ev = p.events.with_columns(timestamp=ts.dt.cast_time_unit("us"), month=ts.dt.strftime("%Y-%m"),
                               line=(pl.col("line").cast(pl.Int64) + offset).cast(pl.Int32),
                               wall=pl.col("wall").dt.cast_time_unit("us"))
    rej = p.rejects.with_columns(node=pl.col("source").replace_strict(names, nodes, default=None),
                                 line=(pl.col("line").cast(pl.Int64) + offset).cast(pl.Int32))
    counts = p.files.select("source", "lines", "events", "attached", "rejects", "blank", "error", "complete")
    return GroupResult(T.conform(ev, T.EVENTS), T.conform(rej, T.REJECTS), counts,
                       [s.name for s in p.skipped])


def empty_counts() -> pl.DataFrame:
    return pl.DataFrame(schema={"source": pl.String, "lines": pl.Int64, "events": pl.Int64, "attached": pl.Int64,
                                "rejects": pl.Int64, "blank": pl.Int64, "error": pl.String, "complete": pl.Boolean})


def groups(parts: list[Part], max_bytes: int | None = None, max_files: int | None = None) -> list[list[Part]]:
    """Parts in order, cut into groups of about `max_bytes` of content (default GROUP_BYTES)."""
    max_bytes, max_files = max_bytes or GROUP_BYTES, max_files or GROUP_FILES
    out: list[list[Part]] = []
    size = 0
    for p in parts:
        if p.end <= p.start:
            continue
        if not out or size >= max_bytes or len(out[-1]) >= max_files:
            out.append([])
            size = 0
        out[-1].append(p)
        size += p.end - p.start
    return out


def run_local(batches: list[list[Part]], tz: str, limits: Limits) -> Iterator[GroupResult]:
    for g in batches:
        yield parse_group([p.loader_entry(limits) for p in g], [p.line_start for p in g], tz, limits)


def parse_payloads(specs: list[tuple[str, str, bytes]], line_starts: list[int], tz: str,
                   limits: Limits | None) -> GroupResult:
    """parse_group over files given as (name, node, bytes): what a Ray task runs."""
    entries = [Entry(source=name, node=node, read=(lambda d=data: d), size=len(data),
                     opener=(lambda d=data: io.BytesIO(d))) for name, node, data in specs]
    return parse_group(entries, line_starts, tz, limits)
