"""Read each input file once, as a stream: hash the stored bytes, decompress gzip with caps, turn the text into
UTF-8 lines and cut it into pieces at event boundaries, so that files of any size are parsed in bounded memory.

Text rules (the parser and `AuditLog.raw_line` both number lines this way): CRLF and a lone CR end a line;
NUL bytes are dropped; UTF-16 (BOM or NUL pattern) is decoded; a line that is not valid UTF-8 is read as
Windows-1252 (José, not Jos�); a line longer than the line cap is replaced by a marker line that the parser
rejects as too long, keeping its first characters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl

from audit_lib.intake.content import iter_content
from audit_lib.intake.entries import Budget, Content, Entry, Limits

TOO_LONG = "\x00too long\x00"  # marks a clipped over-long line; NUL never survives in real text
KEEP_OF_LONG_LINE = 4000
PIECE = 4 << 20  # bytes of text in one piece


@dataclass
class FileFacts(Content):
    """What was read of one file (see `Content`), and what its text turned out to be."""

    lines: int = 0
    content: str = ""  # SHA-256 of the decompressed text: equal contents are loaded once
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


def read_text(entry: Entry, facts: FileFacts, limits: Limits | None = None,
              budget: Budget | None = None) -> Iterator[bytes]:
    """The file's normalised text in blocks of whole lines, as it is read (a cut-off last line gets its line
    break); `facts` is filled in as the reading goes, except `lines`, which the caller counts. A file whose
    content is not an audit log yields nothing and gets `facts.skip`. Blocks are valid UTF-8 once passed
    through `utf8_text` (checked per batch, where it costs least)."""
    limits = limits or Limits()
    splitter = _Lines(limits.max_line)
    content = hashlib.sha256()
    for raw in iter_content(entry, facts, limits, budget):
        if facts.compressed:  # a plain file's content hash is its stored bytes' hash
            content.update(raw)
        if text := splitter.feed(raw):
            yield text
    if facts.skip:
        return
    tail = splitter.finish()
    facts.cut_last = bool(tail) and not tail.endswith(b"\n")
    facts.content = content.hexdigest() if facts.compressed else facts.sha256
    if tail:
        yield tail + b"\n" if facts.cut_last else tail


def read_pieces(fid: int, entry: Entry, facts: FileFacts, limits: Limits | None = None,
                piece_size: int = PIECE, budget: Budget | None = None) -> Iterator[Piece]:
    """The file's text (see `read_text`, made valid UTF-8) as pieces cut at event boundaries."""
    lines_so_far = 0
    buf = bytearray()
    for text in read_text(entry, facts, limits, budget):
        buf += text
        while len(buf) >= piece_size:
            cut = event_cut(buf, 0, piece_size)
            head = utf8_text(take(buf, cut))
            n = head.count(b"\n")
            yield Piece(fid, lines_so_far + 1, head, n, False)
            lines_so_far += n
    if facts.skip:
        return
    text = utf8_text(bytes(buf))
    n = text.count(b"\n")
    facts.lines = lines_so_far + n
    yield Piece(fid, lines_so_far + 1, text, n, True, facts.cut_last)


def take(buf: bytearray, n: int) -> bytes:
    """The first `n` bytes of `buf`, removed from it (one copy)."""
    with memoryview(buf) as view:
        head = bytes(view[:n])
    del buf[:n]
    return head


def event_cut(text: bytes | bytearray, lo: int, size: int) -> int:
    """Where to cut about `size` bytes off the front of `text` without cutting into the run of lines from `lo`
    on: before a line that starts an event (so an event's continuation lines stay with it); else at `lo` when it
    is past the start (a boundary between files); else at a line break; failing that, after the whole text."""
    for start in (max(lo, size - (1 << 20)), max(lo, size // 2), lo):
        if (pos := last_event_start(text, start, size)) > 0:
            return pos + 1
    if lo > 0:
        return lo
    nl = text.rfind(b"\n", 0, size)
    nl = nl if nl >= 0 else text.find(b"\n", size)
    return nl + 1 if nl >= 0 else len(text)


def last_event_start(text: bytes | bytearray, lo: int, hi: int) -> int:
    """The last line break in [lo, hi) followed by `[dddd-` or `TID:` (within hi), or -1."""
    tid = text.rfind(b"\nTID:", lo, hi)
    end = hi
    while (pos := text.rfind(b"\n[", lo, end)) > tid:
        if pos + 7 <= hi and text[pos + 2 : pos + 6].isdigit() and text[pos + 6] == 0x2D:  # "-"
            return pos
        end = pos + 1
    return tid


def utf8_text(text: bytes) -> bytes:
    """`text` with every line that is not valid UTF-8 read as Windows-1252 (or Latin-1) instead."""
    if text.isascii():
        return text
    try:
        text.decode("utf-8")
        return text
    except UnicodeDecodeError:
        return b"\n".join(_decode_line(line).encode("utf-8") for line in text.split(b"\n"))


class _Lines:
    """Turns a stream of raw bytes into normalised UTF-8 text made of whole lines (see the module docstring)."""

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
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
        if len(self.rest) <= self.max_line:
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
        if len(data) > self.max_line:
            data = self._clip_long_lines(data)
        return data

    def _clip_long_lines(self, data: bytes) -> bytes:
        """Replace every line longer than the cap by a marker line (fast: jumps a cap's length at a time)."""
        cap = self.max_line
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


def text_lines(entry: Entry, limits: Limits | None = None) -> list[str]:
    """Every line of a file, numbered as the loader numbers them (for showing a raw line on demand)."""
    facts = FileFacts()
    text = utf8_text(b"".join(read_text(entry, facts, limits)))
    return text.decode("utf-8").split("\n")[: text.count(b"\n")]


def clip_text(text: pl.Expr, cap: int) -> pl.Expr:
    """Reject text as shown: an over-long line's kept head, anything longer than the cap clipped."""
    text = pl.when(text.str.starts_with(TOO_LONG)).then(
        pl.format("{}… [line too long: clipped]", text.str.split_exact("\x00", 3).struct.field("field_3"))
    ).otherwise(text)
    n = text.str.len_chars()
    return pl.when(n > cap).then(
        pl.format("{}… [{} more characters]", text.str.slice(0, cap), n - cap)
    ).otherwise(text)
