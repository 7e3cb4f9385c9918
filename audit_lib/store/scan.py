"""The look at each file before anything is parsed: one streaming read that hashes the stored bytes and the
decompressed content, and the content's first n bytes for each n where a stored growing file stopped, so the
ingest can tell a file already stored, a file that grew, and a rotated file that continues one."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from audit_lib.intake.archives import ChunkStream
from audit_lib.intake.content import iter_content
from audit_lib.intake.entries import Content, Entry, Limits

ACTIVE_NAMES = frozenset({"audit.log"})  # the files the products write to (rotation renames them)


def is_active(source: str) -> bool:
    """A file still being written to: its last line may be incomplete, and it may grow."""
    return source.replace("\\", "/").rsplit("/", 1)[-1].lower() in ACTIVE_NAMES


@dataclass
class FileScan:
    sha256: str = ""  # the stored bytes
    bytes: int = 0
    content_sha256: str = ""  # the decompressed bytes (equal to sha256 for a plain file)
    content_bytes: int = 0
    compressed: bool = False
    skip: str | None = None
    error: str | None = None
    complete: bool = True
    utf16: bool = False
    prefix: dict[int, str] = field(default_factory=dict)  # offset -> SHA-256 of content[:offset]
    cut: int = 0  # the end of the last whole line (a final CR may be half of a CRLF: it is left out)
    cut_sha256: str = ""


def scan_file(entry: Entry, offsets: set[int] | frozenset[int] = frozenset(), limits: Limits | None = None) -> FileScan:
    """Read `entry` once: hashes, sizes, the prefix hashes at `offsets`, and where its last whole line ends."""
    facts = Content()
    out = FileScan()
    h = hashlib.sha256()
    want = sorted(o for o in offsets if o > 0)
    i, pos = 0, 0
    last = None  # (hash state before, chunk, offset, break) of the last chunk with a line break: hashed at the end
    for chunk in iter_content(entry, facts, limits):
        if pos == 0:
            out.utf16 = chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in chunk[:400]
        end = pos + len(chunk)
        while i < len(want) and want[i] <= end:
            part = h.copy()
            part.update(chunk[: want[i] - pos])
            out.prefix[want[i]] = part.hexdigest()
            i += 1
        k = _last_break(chunk)
        if k is not None:
            last = (h.copy(), chunk, pos, k)
        h.update(chunk)
        pos = end
    out.sha256, out.bytes, out.compressed = facts.sha256, facts.size, facts.compressed
    out.skip, out.error, out.complete = facts.skip, facts.error, facts.complete
    out.content_sha256, out.content_bytes = h.hexdigest(), pos
    if last is None:
        out.cut, out.cut_sha256 = 0, hashlib.sha256().hexdigest()
    else:
        state, chunk, at, k = last
        state.update(chunk[:k])
        out.cut, out.cut_sha256 = at + k, state.hexdigest()
    return out


def _last_break(chunk: bytes) -> int | None:
    """The index just after the last line break of `chunk`, not counting a CR that ends it (maybe half a CRLF)."""
    k = max(chunk.rfind(b"\n"), chunk.rfind(b"\r", 0, len(chunk) - 1))
    return k + 1 if k >= 0 else None


def _sliced(chunks: Iterator[bytes], start: int, end: int) -> Iterator[bytes]:
    """Bytes `start` to `end` of an iterator of chunks; `chunks` is closed when this is."""
    skip, left = start, end - start
    try:
        for chunk in chunks:
            if skip:
                drop = min(skip, len(chunk))
                chunk, skip = chunk[drop:], skip - drop
            if chunk and left > 0:
                chunk = chunk[:left]
                left -= len(chunk)
                yield chunk
            if left <= 0:
                return
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def slice_opener(entry: Entry, start: int, end: int, limits: Limits | None = None):
    """An opener for bytes `start` to `end` of `entry`'s decompressed content (plain text: what the loader reads
    for the new part of a growing file, or a file less its incomplete last line)."""

    def chunks() -> Iterator[bytes]:
        yield from iter_content(entry, Content(), limits)

    def opener() -> BinaryIO:
        return io.BufferedReader(ChunkStream(_sliced(chunks(), start, end)), 1 << 20)  # type: ignore[arg-type]

    return opener


def read_slice(entry: Entry, start: int, end: int, limits: Limits | None = None) -> bytes:
    with slice_opener(entry, start, end, limits)() as f:
        return f.read()



def line_offset(entry: Entry, lines: int, limits: Limits | None = None) -> int | None:
    """Where line `lines + 1` of `entry`'s content starts: after `lines` line breaks (LF, CR, CRLF as one, as the
    loader counts them); None when the content has fewer."""
    if lines <= 0:
        return 0
    seen, pos, cr = 0, 0, False  # cr: the last byte read was a CR (a LF right after it is the same break)
    with slice_opener(entry, 0, 1 << 62, limits)() as f:
        while chunk := f.read(1 << 20):
            k = 1 if cr and chunk[:1] == b"\n" else 0
            cr = False
            if b"\r" not in chunk and seen + chunk.count(b"\n", k) < lines:  # the usual case: a whole chunk
                seen += chunk.count(b"\n", k)
                pos += len(chunk)
                continue
            nn, rr = chunk.find(b"\n", k), chunk.find(b"\r", k)
            while seen < lines and (nn >= 0 or rr >= 0):
                j = nn if rr < 0 or 0 <= nn < rr else rr
                if j == rr:
                    if chunk[j + 1:j + 2] == b"\n":
                        j += 1
                    elif j + 1 == len(chunk):
                        cr = True
                seen += 1
                k = j + 1
                if 0 <= nn < k:
                    nn = chunk.find(b"\n", k)
                if 0 <= rr < k:
                    rr = chunk.find(b"\r", k)
            if seen == lines:
                if cr:  # a CR ended the chunk: the line starts after the LF that may follow
                    return pos + k + (1 if f.peek(1)[:1] == b"\n" else 0)
                return pos + k
            pos += len(chunk)
    return None
