"""Reading a file's content once, as a stream, with the caps of `Limits`: gunzip streamed and stopped at
the cap, the encoding sniffed, and the content checked to look like an audit log."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator

from audit_lib.errors import ReadError
from audit_lib.intake.entries import CHUNK, GZIP_MAGIC, LOG_LINE, NOT_A_LOG, Budget, Content, Entry, Limits
from audit_lib.intake.names import reason_of, size_text


class _Gunzip:
    """Streaming decompression of gzip data (concatenated members allowed), output in bounded chunks."""

    def __init__(self) -> None:
        self.d = zlib.decompressobj(wbits=31)
        self.fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        self.fed = self.fed or bool(data)
        while True:
            if self.d.eof:
                data = (self.d.unused_data + data).lstrip(b"\x00")  # zero padding between members is allowed
                if not data:
                    return
                self.d = zlib.decompressobj(wbits=31)
            out = self.d.decompress(data, CHUNK)
            data = self.d.unconsumed_tail
            if out:
                yield out
            elif not data and not self.d.eof:
                return  # needs more input

    @property
    def truncated(self) -> bool:
        return self.fed and not self.d.eof


def sniff(head: bytes) -> str | None:
    """Why the first decompressed bytes of a file are not an audit log, or None when they may be one: a line in
    them starts like a log4j audit line (an empty or blank file is an audit log with no event yet). UTF-16 is
    decoded first; stray NUL bytes are ignored, but a file of NULs is not a log."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head):
        head = head.decode("utf-16-be" if head[:1] == b"\x00" or head.startswith(b"\xfe\xff") else "utf-16-le",
                           errors="replace").lstrip("\ufeff").encode("utf-8", "replace")
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not head.strip():
        return None
    return None if LOG_LINE.search(head.replace(b"\x00", b"").replace(b"\r", b"\n")) else NOT_A_LOG


def _looks_utf16(head: bytes) -> bool:
    sample = head[:400]
    if len(sample) < 8:
        return False
    odd, even = sample[1::2], sample[0::2]
    return (odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even)) or \
        (even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd))


def iter_content(entry: Entry, facts: Content, limits: Limits | None = None,
                 budget: Budget | None = None) -> Iterator[bytes]:
    """The decompressed bytes of `entry` as chunks, read once as a stream; `facts` (a fresh Content, its `data`
    left empty) holds sha256, size, compressed, error, complete and skip once the iteration is over.

    Nothing is yielded before the first `sniff_bytes` were checked; a file that is not an audit log yields
    nothing and gets `skip`. A cap stops the reading: what came before it is yielded, then `error` says why."""
    lim = limits or Limits()
    stored = hashlib.sha256()
    try:
        stream = entry.open()
    except OSError as exc:
        facts.error, facts.complete = _read_error(exc), False
        return
    head: list[bytes] = []
    held = 0
    decided = False
    expanded = 0
    gz: _Gunzip | None = None
    stop = False
    try:
        with stream:
            first = True
            while not stop:
                try:
                    raw = stream.read(CHUNK)
                except OSError as exc:
                    facts.error, facts.complete = _read_error(exc), False
                    break
                if not raw:
                    break
                stored.update(raw)
                facts.size += len(raw)
                if first:
                    first = False
                    if raw[:2] == GZIP_MAGIC:
                        gz, facts.compressed = _Gunzip(), True
                try:
                    outs = gz.feed(raw) if gz is not None else iter((raw,))
                    for out in outs:
                        expanded += len(out)
                        out, stop = _within_caps(out, expanded, facts, lim, budget)
                        if not decided:
                            head.append(out)
                            held += len(out)
                            if held < lim.sniff_bytes and not stop:
                                continue
                            decided = True
                            facts.skip = sniff(b"".join(head))
                            if facts.skip:
                                return
                            yield from head
                            head = []
                        elif out:
                            yield out
                        if stop:
                            break
                except zlib.error as exc:
                    facts.error = f"corrupt gzip file ({exc}): the lines after the damage are unknown"
                    facts.complete = False
                    break
            if gz is not None and gz.truncated and facts.complete:
                facts.error, facts.complete = "truncated gzip file: the lines after the cut are unknown", False
        if not decided:
            facts.skip = sniff(b"".join(head))
            if not facts.skip:
                yield from head
    finally:
        facts.sha256 = stored.hexdigest()


def _within_caps(out: bytes, expanded: int, facts: Content, lim: Limits,
                 budget: Budget | None) -> tuple[bytes, bool]:
    """`out` cut to what the caps allow, and whether reading must stop (the reason goes to `facts`)."""
    if facts.compressed and expanded > lim.ratio_grace and expanded > lim.max_ratio * facts.size:
        facts.error = (f"refused: its first {size_text(facts.size)} expand to more than {size_text(expanded)}, "
                       f"more than {lim.max_ratio} times (a gzip bomb?); the lines after that are unknown")
        facts.complete = False
        return out[: max(0, len(out) - (expanded - lim.max_ratio * facts.size))], True
    stop = False
    if expanded > lim.max_file_bytes:
        out = out[: max(0, len(out) - (expanded - lim.max_file_bytes))]
        facts.error = f"stopped at the cap of {size_text(lim.max_file_bytes)} per file: the rest is unknown"
        stop = True
    if budget is not None:
        allowed = budget.take(len(out))
        if allowed < len(out):
            out = out[:allowed]
            facts.error = "stopped at the total size cap of this load: the rest of the file is unknown"
            stop = True
    if stop:
        facts.complete = False
    return out, stop


def _read_error(exc: OSError) -> str:
    if isinstance(exc, ReadError):
        return str(exc)
    return f"cannot read: {reason_of(exc)}"


def read_content(entry: Entry, limits: Limits | None = None, budget: Budget | None = None) -> Content:
    """Read one file once: hash its stored bytes, decompress gzip as a stream within the caps, and check that
    it looks like an audit log. Damage, caps and unreadable files are reported in the result, never raised."""
    facts = Content()
    facts.data = b"".join(iter_content(entry, facts, limits, budget))
    return facts


def gunzip(stored: bytes, max_bytes: int | None = None) -> tuple[bytes, str | None]:
    """Decompress gzip data as a stream, keeping whatever precedes damage, truncation or `max_bytes`."""
    gz = _Gunzip()
    out: list[bytes] = []
    size = 0
    try:
        for i in range(0, max(len(stored), 1), CHUNK):
            for chunk in gz.feed(stored[i : i + CHUNK]):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    out.append(chunk[: len(chunk) - (size - max_bytes)])
                    return b"".join(out), f"stopped at the cap of {size_text(max_bytes)}: the rest is unknown"
                out.append(chunk)
    except zlib.error as exc:
        return b"".join(out), f"corrupt gzip file ({exc}): kept the lines before the damage"
    if gz.truncated:
        return b"".join(out), "truncated gzip file: kept the lines before the cut"
    return b"".join(out), None
