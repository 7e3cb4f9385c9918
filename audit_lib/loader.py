"""`load()`: every audit file of a source, parsed into one table of events, plus rejects and a manifest."""

from __future__ import annotations

import hashlib
import io
import os
import zoneinfo
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import polars as pl

from audit_lib.formats import Formats, load_formats
from audit_lib.parse import MessageMemo, parse_lines
from audit_lib.schema import REJECTS_SCHEMA, events_schema, files_schema
from audit_lib.sources import Entry, Source, SourceError, discover, file_sha256, is_gzip, read_content

CATEGORICAL = ["node", "product", "user", "action", "artifact_type", "artifact", "outcome", "level", "source"]


@dataclass
class AuditLog:
    """The loaded log: `events`, `rejects` and the `files` manifest, all polars DataFrames."""

    events: pl.DataFrame
    rejects: pl.DataFrame
    files: pl.DataFrame
    tz: str = "UTC"
    skipped: list[str] = field(default_factory=list)  # files seen in the source that are not audit logs
    entries: dict[str, Entry] = field(default_factory=dict, repr=False)

    def raw_line(self, source: str, line: int) -> str | None:
        """The text of one line of a source file, read back from the file (or upload) on demand."""
        entry = self.entries.get(source)
        if entry is None or line < 1:
            return None
        lines = read_content(entry).data.removesuffix(b"\n").split(b"\n")  # numbered as the loader does
        return _decode(lines[line - 1]).removesuffix("\r") if line <= len(lines) else None

    @property
    def fingerprint(self) -> str:
        """A short hash of what was loaded (sources, contents, time zone): a cache key for the app."""
        h = hashlib.sha256(self.tz.encode())
        for src, sha in self.files.select("source", "sha256").iter_rows():
            h.update(f"{src}\0{sha}\n".encode())
        return h.hexdigest()[:16]


def check_tz(tz: str) -> str:
    """Return `tz` if it is a known IANA zone, else raise a SourceError that says so."""
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SourceError(f"Unknown time zone {tz!r}: use an IANA name such as UTC or Asia/Colombo") from None
    return tz


def load(source: Source, tz: str = "UTC", *, formats: Formats | None = None, workers: int | None = None) -> AuditLog:
    """Load audit logs from a folder (searched recursively), a file, a glob, uploads as (name, bytes)
    pairs, or a list of those. Times are read as wall-clock time in `tz`.

    Raises SourceError for a path that does not exist or holds no audit file; a damaged file does not
    raise: its `error` in the manifest says what happened and the other files load as usual.
    """
    check_tz(tz)
    fmts = formats or load_formats()
    entries, skipped = discover(source)
    workers = workers or min(len(entries), os.cpu_count() or 1)
    memo = MessageMemo(fmts)
    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        results = list(pool.map(lambda e: _load_file(e, fmts, tz, memo), entries))

    seen: dict[str, str] = {}
    rows, events, rejects = [], [], []
    for entry, (row, ev, rej, content_hash) in zip(entries, results, strict=True):
        if content_hash is not None and content_hash in seen:
            row.update(duplicate_of=seen[content_hash], events=0, rejects=0, attached=0, blank=0,
                       first=None, last=None)
            rows.append(row)
            continue
        if content_hash is not None:
            seen[content_hash] = entry.source
        rows.append(row)
        if ev is not None and ev.height:
            events.append(ev)
        if rej is not None and rej.height:
            rejects.append(rej.with_columns(source=pl.lit(entry.source)))

    ev_df = pl.concat(events) if events else _typed(pl.DataFrame(schema=events_schema(tz)), tz)
    events.clear()  # drop the per-file frames: sorting can then free each column as it goes
    results.clear()
    ev_df = _sorted(ev_df)
    rej_df = pl.concat(rejects, how="vertical_relaxed") if rejects else pl.DataFrame(schema=REJECTS_SCHEMA)
    rej_df = rej_df.select([pl.col(c).cast(t) for c, t in REJECTS_SCHEMA.items()])
    files = pl.DataFrame(rows, schema=files_schema(tz), orient="row") if rows else pl.DataFrame(
        schema=files_schema(tz))
    return AuditLog(ev_df, rej_df, files, tz, skipped, {e.source: e for e in entries})


def _typed(ev: pl.DataFrame, tz: str) -> pl.DataFrame:
    """The canonical columns and types; the repetitive text columns as categoricals (4 bytes a row)."""
    schema = events_schema(tz)
    return ev.select([pl.col(c).cast(pl.Categorical if c in CATEGORICAL else t) for c, t in schema.items()])


def _sorted(ev: pl.DataFrame) -> pl.DataFrame:
    """Events in time order (ties in file and line order), reordered a column at a time to bound memory."""
    if ev["timestamp"].is_sorted():
        return ev
    order = ev.select(pl.arg_sort_by("timestamp", maintain_order=True)).to_series()
    columns = []
    for name in ev.columns:
        columns.append(ev[name].gather(order))
        ev = ev.drop(name)
    return pl.DataFrame(columns)


def _decode(data: bytes) -> str:
    """UTF-8 where valid; a line that is not valid UTF-8 is read as Windows-1252/Latin-1 (José, not Jos�)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "\n".join(_decode_line(line) for line in data.split(b"\n"))


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return line.decode("cp1252")
        except UnicodeDecodeError:
            return line.decode("latin-1")


def _lines(data: bytes) -> pl.DataFrame:
    if b"\x00" in data:  # NUL padding (a crashed writer, a copied sparse file) carries no text
        data = data.replace(b"\x00", b"")
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            data = _decode(data).encode("utf-8")
    df = pl.read_lines(io.BytesIO(data), name="text") if data else pl.DataFrame(schema={"text": pl.String})
    return df.with_row_index("line", offset=1).with_columns(pl.col("line").cast(pl.UInt32))


def _load_file(entry: Entry, fmts: Formats, tz: str, memo: MessageMemo | None = None):
    """Read and parse one file: its manifest row, events, rejects and a hash of its content."""
    row = {"source": entry.source, "node": entry.node, "bytes": entry.size, "sha256": "", "compressed": False,
           "lines": 0, "events": 0, "attached": 0, "rejects": 0, "blank": 0, "first": None, "last": None,
           "duplicate_of": None, "error": None}
    try:
        lines = _plain_file_lines(entry) if entry.path is not None and not is_gzip(entry) else None
        if lines is not None:  # a plain file on disk: polars reads it directly, the stored bytes are the content
            row["sha256"] = content_hash = file_sha256(entry.path)
    except OSError:  # unreadable now: the careful path below says why in the manifest
        lines = None
    if lines is None:
        content = read_content(entry)
        row.update(sha256=content.sha256, compressed=content.compressed, error=content.error)
        if not content.data:  # empty, or unreadable (the error says so): nothing to parse or to de-duplicate
            return row, None, None, None
        content_hash = hashlib.sha256(content.data).hexdigest() if content.compressed else content.sha256
        lines = _lines(content.data)
        del content
    if lines.height == 0:
        return row, None, None, None
    parsed = parse_lines(lines, fmts, tz, memo)
    ev = _typed(parsed.events.with_columns(source=pl.lit(entry.source), node=pl.lit(entry.node)), tz)
    row.update(lines=lines.height, events=ev.height, attached=parsed.attached, rejects=parsed.rejects.height,
               blank=parsed.blank)
    if ev.height:
        row.update(first=ev["timestamp"].min(), last=ev["timestamp"].max())
    return row, ev, parsed.rejects, content_hash


def _plain_file_lines(entry: Entry) -> pl.DataFrame | None:
    """The lines of an uncompressed file read by polars itself, or None when it needs the careful path
    (bytes that are not UTF-8, NUL padding) or cannot be read."""
    try:
        df = pl.read_lines(entry.path, name="text", glob=False)
    except (pl.exceptions.PolarsError, OSError):
        return None
    if df.height and df["text"].str.contains("\x00", literal=True).any():
        return None
    return df.with_row_index("line", offset=1).with_columns(pl.col("line").cast(pl.UInt32))
