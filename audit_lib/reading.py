"""Read each input file once, as a stream: hash the stored bytes, decompress gzip with caps, turn the text into
UTF-8 lines and cut it into pieces at event boundaries, so that files of any size are parsed in bounded memory.

Text rules (the parser and `AuditLog.raw_line` both number lines this way): CRLF and a lone CR end a line;
NUL bytes are dropped; UTF-16 (BOM or NUL pattern) is decoded; a line that is not valid UTF-8 is read as
Windows-1252 (José, not Jos�); a line longer than the line cap is replaced by a marker line that the parser
rejects as too long, keeping its first characters.
"""

from __future__ import annotations

import hashlib
import re
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from audit_lib.sources import Entry

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 4 << 20  # bytes read (or decompressed) at a time
TOO_LONG = "\x00too long\x00"  # marks a clipped over-long line; NUL never survives in real text
KEEP_OF_LONG_LINE = 4000
# a line that starts an event: "[2026-..." or "TID: [" (the layouts); pieces are cut before such a line
_EVENT_START = re.compile(rb"\n(?=\[\d{4}-|TID:)")


@dataclass(frozen=True)
class ReadLimits:
    """Caps that keep memory bounded whatever the input (all configurable)."""

    max_line: int = 1 << 20  # characters; longer lines are rejected as too long
    max_expanded: int = 4 << 30  # decompressed bytes of one gzip file
    max_ratio: int = 200  # decompressed / compressed, beyond a first few MB
    ratio_grace: int = 64 << 20


@dataclass
class FileFacts:
    """What was read of one file: facts about its stored bytes and how far the reading got."""

    sha256: str = ""  # of the stored bytes that were read and parsed
    size: int = 0  # stored bytes read
    compressed: bool = False
    content: str = ""  # SHA-256 of the decompressed text: equal contents are loaded once
    lines: int = 0
    complete: bool = True  # False when the text stops before the end of the file (damage, a cap)
    error: str | None = None
    cut_last: bool = False  # the last line ends without a line break (cut off, or still being written)
    _content_hash: object = field(default=None, repr=False)


@dataclass
class Piece:
    """A run of whole lines of one file (normalised UTF-8, each ending in a line break)."""

    fid: int
    first_line: int
    text: bytes
    lines: int
    last: bool  # the file's last piece
    cut: bool = False  # its last line ends without a line break


def read_pieces(fid: int, entry: Entry, facts: FileFacts, limits: ReadLimits = ReadLimits(),
                piece_size: int = CHUNK) -> Iterator[Piece]:
    """The file's text as pieces cut at event boundaries; `facts` is filled in as the reading goes."""
    lines_so_far = 0
    pending = b""
    splitter = _Lines(limits)
    for raw in _decompressed(entry, facts, limits):
        pending += splitter.feed(raw)
        while len(pending) >= piece_size:
            head, pending = _cut_at_event(pending, piece_size)
            n = head.count(b"\n")
            yield Piece(fid, lines_so_far + 1, head, n, False)
            lines_so_far += n
    tail = splitter.finish()
    facts.cut_last = bool(tail) and not tail.endswith(b"\n")
    pending += tail if not facts.cut_last else tail + b"\n"
    n = pending.count(b"\n")
    facts.lines = lines_so_far + n
    facts.content = facts._content_hash.hexdigest() if facts._content_hash else ""
    yield Piece(fid, lines_so_far + 1, pending, n, True, facts.cut_last)


def _cut_at_event(text: bytes, size: int) -> tuple[bytes, bytes]:
    """Cut about `size` bytes off the front, before a line that starts an event, so an event's continuation
    lines stay with it (where no line starts an event, at a line break; failing that, the whole text)."""
    for start in (max(0, size - (1 << 20)), size // 2, 0):
        last = None
        for m in _EVENT_START.finditer(text, start, size):
            last = m
        if last is not None and last.start() > 0:
            return text[: last.start() + 1], text[last.start() + 1 :]
    nl = text.rfind(b"\n", 0, size)
    nl = nl if nl >= 0 else text.find(b"\n", size)
    return (text[: nl + 1], text[nl + 1 :]) if nl >= 0 else (text, b"")


def _decompressed(entry: Entry, facts: FileFacts, limits: ReadLimits) -> Iterator[bytes]:
    """The file's bytes, decompressed when gzip, hashed as they are read; damage ends the stream with an error."""
    stored = hashlib.sha256()
    content = facts._content_hash = hashlib.sha256()
    try:
        stream = _stored_chunks(entry)
        first = next(stream, b"")
    except OSError as exc:
        facts.error, facts.complete = f"cannot read the file: {exc.strerror or exc}", False
        return
    facts.compressed = first[:2] == GZIP_MAGIC
    d = zlib.decompressobj(wbits=31) if facts.compressed else None
    expanded = 0

    def chunks() -> Iterator[bytes]:
        yield first
        yield from stream

    try:
        for raw in chunks():
            if not raw:
                continue
            stored.update(raw)
            facts.size += len(raw)
            if d is None:  # plain text: its content hash is the stored bytes' hash
                yield raw
                continue
            data = raw
            while data:
                out = d.decompress(data, CHUNK)
                expanded += len(out)
                if expanded > limits.max_expanded or (
                        expanded > limits.ratio_grace and expanded > limits.max_ratio * facts.size):
                    facts.error = (f"refused: decompresses to more than {_size(expanded)} from {_size(facts.size)} "
                                   f"(cap {_size(limits.max_expanded)}, ratio {limits.max_ratio}:1); "
                                   "the lines before the cap were read")
                    facts.complete = False
                    _drain(stream, stored, facts)
                    facts.sha256 = stored.hexdigest()
                    out = out[: max(0, len(out) - (expanded - limits.max_expanded))]
                    content.update(out)
                    yield out
                    return
                content.update(out)
                yield out
                if d.eof:  # concatenated gzip members are valid gzip
                    data = d.unused_data.lstrip(b"\x00")
                    d = zlib.decompressobj(wbits=31) if data else d
                    if not data:
                        break
                else:
                    data = d.unconsumed_tail
        if d is not None and not d.eof:
            if tail := d.flush():
                content.update(tail)
                yield tail
            facts.error, facts.complete = "truncated gzip file: the lines after the cut are unknown", False
    except zlib.error as exc:
        facts.error, facts.complete = f"corrupt gzip file ({exc}): the lines after the damage are unknown", False
        _drain(stream, stored, facts)
    except OSError as exc:
        facts.error, facts.complete = f"cannot read the whole file: {exc.strerror or exc}", False
    facts.sha256 = stored.hexdigest()
    if d is None:
        facts._content_hash = stored


def _drain(stream: Iterator[bytes], stored, facts: FileFacts) -> None:
    """Hash the rest of the stored bytes (the manifest describes the whole file even when reading stopped)."""
    for raw in stream:
        stored.update(raw)
        facts.size += len(raw)


def _stored_chunks(entry: Entry) -> Iterator[bytes]:
    if entry.path is None:
        data = entry.read()
        for i in range(0, len(data), CHUNK):
            yield data[i : i + CHUNK]
        return
    with entry.path.open("rb") as f:
        if not stat.S_ISREG(_fstat_mode(f)):
            raise OSError(0, "not a regular file")
        while raw := f.read(CHUNK):
            yield raw


def _fstat_mode(f) -> int:
    import os

    return os.fstat(f.fileno()).st_mode


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


class _Lines:
    """Turns a stream of raw bytes into normalised UTF-8 text made of whole lines (see the module docstring)."""

    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.rest = b""
        self.utf16: str | None = None
        self.started = False
        self.long_len = 0  # characters of an over-long line being skipped
        self.long_head = b""

    def feed(self, raw: bytes) -> bytes:
        if not self.started:
            self.started = True
            self.utf16 = _utf16_kind(raw)
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
        if self.utf16:  # rare: collect, decode at the end
            self.rest += raw
            return b""
        data = self.rest + raw
        cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if cut < 0:
            self.rest = data
            return self._clip_pending()
        if data[cut : cut + 1] == b"\r" and cut == len(data) - 1:
            cut -= 1  # a CR at the very end may be the first half of CRLF: wait for the next chunk
            cut = max(data.rfind(b"\n", 0, cut + 1), data.rfind(b"\r", 0, cut + 1))
            if cut < 0:
                self.rest = data
                return self._clip_pending()
        self.rest = data[cut + 1 :]
        return self._normalise(data[: cut + 1])

    def finish(self) -> bytes:
        if self.utf16:
            text = self.rest.decode(self.utf16, errors="replace").lstrip("\ufeff")
            self.rest = b""
            return self._normalise(text.encode("utf-8"))
        out = self._normalise(self.rest) if self.rest or self.long_len else b""
        self.rest = b""
        return out

    def _clip_pending(self) -> bytes:
        """An unterminated line that grew past the cap: keep its head, count the rest, drop it."""
        if len(self.rest) <= self.limits.max_line:
            return b""
        if not self.long_len:
            self.long_head = self.rest[:KEEP_OF_LONG_LINE * 4]
        self.long_len += len(self.rest)
        self.rest = b""
        return b""

    def _normalise(self, data: bytes) -> bytes:
        if self.long_len:  # the end of a line that was too long
            first_break = min((i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0), default=len(data))
            self.long_len += first_break
            marker = self._marker(self.long_head, self.long_len)
            self.long_len, self.long_head = 0, b""
            data = data[first_break:]
            if data.startswith(b"\r\n"):
                data = data[2:]
            elif data[:1] in (b"\n", b"\r"):
                data = data[1:]
            return marker + self._normalise(data)
        if b"\x00" in data:
            data = data.replace(b"\x00", b"")
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not data.isascii():
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                data = b"\n".join(_decode_line(line).encode("utf-8") for line in data.split(b"\n"))
        if len(data) > self.limits.max_line:
            data = self._clip_long_lines(data)
        return data

    def _clip_long_lines(self, data: bytes) -> bytes:
        """Replace every line longer than the cap by a marker line (fast: jumps a cap's length at a time)."""
        cap = self.limits.max_line
        out, start, pos = [], 0, 0
        while pos < len(data):
            window_end = min(pos + cap + 1, len(data))
            nl = data.rfind(b"\n", pos, window_end)
            if nl >= 0 or window_end == len(data):
                pos = (nl + 1) if nl >= 0 else window_end
                continue
            end = data.find(b"\n", pos)  # the line starting at pos is longer than the cap
            end = len(data) if end < 0 else end
            out += [data[start:pos], self._marker(data[pos : pos + KEEP_OF_LONG_LINE * 4], end - pos)]
            start = pos = min(end + 1, len(data))
        if not out:
            return data
        out.append(data[start:])
        return b"".join(out)

    def _marker(self, head: bytes, length: int) -> bytes:
        text = _decode_line(head.replace(b"\x00", b"")).replace("\r", " ").replace("\n", " ")[:KEEP_OF_LONG_LINE]
        return f"{TOO_LONG}{length}\x00{text}\n".encode()


def _utf16_kind(head: bytes) -> str | None:
    """'utf-16' when the bytes are UTF-16 (a BOM, or NULs in every other byte of ASCII text)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = head[:400]
    if len(sample) >= 8:
        odd, even = sample[1::2], sample[0::2]
        if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
    return None


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return line.decode("cp1252")
        except UnicodeDecodeError:
            return line.decode("latin-1")


def text_lines(entry: Entry, limits: ReadLimits = ReadLimits()) -> list[str]:
    """Every line of a file, numbered as the loader numbers them (for showing a raw line on demand)."""
    facts = FileFacts()
    text = b"".join(p.text for p in read_pieces(0, entry, facts, limits))
    return text.decode("utf-8").split("\n")[: facts.lines]
