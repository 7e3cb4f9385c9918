"""What the intake passes on: an `Entry` (one candidate file: where it is, its node, how to open it),
what was `Skipped` and why, the caps of `Limits` and the `Budget` they draw on, the `Content` facts of
a file read, and the errors a source can raise."""

from __future__ import annotations

import io
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from audit_lib.errors import ReadError, SourceError  # noqa: F401  (raised by every intake stage)
from audit_lib.intake.names import open_regular

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20  # stored bytes read, and decompressed bytes produced, at a time
# the start of a log4j audit line: "[2026-10-07 12:00:00,000] ..." (MI, IS, old API-M) or "TID: [" (API-M, IS)
LOG_LINE = re.compile(rb"^[ \t]*(?:TID: ?\[|\[\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2})", re.MULTILINE)
NOT_A_LOG = "content does not look like an audit log (no line starts like '[2026-01-01 10:00' or 'TID: [')"

Upload = tuple[str, bytes]
Source = str | os.PathLike | Upload | Sequence["str | os.PathLike | Upload"]


@dataclass(frozen=True)
class Limits:
    """Caps that keep memory and time bounded whatever the input. All sizes are in bytes.

    A file hitting `max_file_bytes` or the load hitting `max_total_bytes` keeps what was read before the cap
    and is marked incomplete. Gzip files and zip members whose output grows beyond `max_ratio` times their
    compressed size (once `ratio_grace` bytes have come out: small files compress well) are refused as bombs,
    and so are zip members whose declared sizes say so, before anything is decompressed. Archives: a zip may
    hold zips `max_nesting` levels deep (1: a zip of zips is read, a zip inside those is refused); a nested zip
    is read into memory, so it may not expand to more than `max_nested_bytes`. The members of one archive or
    upload together may expand to `archive_ratio` times its compressed size (at least `archive_grace`): past
    that, the members that come after are refused, the ones before kept."""

    max_file_bytes: int = 1 << 30  # decompressed bytes of one file
    max_total_bytes: int = 4 << 30  # decompressed bytes of one load (with a `Budget`)
    max_ratio: int = 100  # real audit logs compress 5 to 20 times
    ratio_grace: int = 8 << 20
    max_members: int = 10_000  # entries in one zip archive
    max_nesting: int = 1
    max_nested_bytes: int = 256 << 20
    archive_ratio: int = 25  # declared expanded bytes of all members of one archive, per compressed byte
    archive_grace: int = 64 << 20
    max_upload_bytes: int = 200 << 20  # one upload (Streamlit's default upload cap)
    sniff_bytes: int = 64 << 10  # decompressed bytes looked at to decide whether the content is an audit log
    max_line: int = 1 << 20  # characters of one line; a longer line is rejected as too long, its head kept


class Budget:
    """Decompressed bytes left for one load, shared by the files read in it (thread-safe)."""

    def __init__(self, total: int) -> None:
        self.left = total
        self._lock = threading.Lock()

    def take(self, n: int) -> int:
        """Reserve up to `n` bytes; returns how many may be used."""
        with self._lock:
            got = max(0, min(n, self.left))
            self.left -= got
            return got


@dataclass(frozen=True)
class Skipped:
    """A file (or folder) seen in the source and left alone, with the reason. `unread`: its name says audit log
    (or it is a zip archive, or a folder) but its content could not be read, so the set of logs is incomplete;
    a file whose name says nothing of the kind (wso2carbon.log, a README) is merely skipped."""

    name: str
    reason: str
    unread: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


@dataclass(frozen=True)
class Entry:
    """One input file: where it came from and how to get its stored bytes."""

    source: str  # shown to the user: path below the loaded folder, `zip/member`, or the upload's name; unique
    node: str
    read: Callable[[], bytes]  # all stored bytes (capped for zip members: raises ReadError past the cap)
    size: int  # stored bytes when listed (a zip member: its declared uncompressed size)
    mtime: float = 0.0
    path: Path | None = None  # the resolved file on disk (plain files only)
    upload: str | None = None  # the upload or zip archive the file came from, as the user named it
    opener: Callable[[], BinaryIO] | None = field(default=None, repr=False, compare=False)

    def open(self) -> BinaryIO:
        """The stored bytes as a binary stream: a regular file opened without following a swapped symlink or
        blocking on a FIFO, a zip member capped as `Limits` says, or an upload in memory."""
        if self.opener is not None:
            return self.opener()
        if self.path is not None:
            return open_regular(self.path)
        return io.BytesIO(self.read())


@dataclass
class Content:
    """What was read of one file. `sha256` and `size` describe the stored bytes read (the whole file unless
    reading stopped early), `data` the decompressed bytes recovered from them. `complete` is False when the
    data stops before the end of the file (damage, a cap); `error` says why. `skip` is set (and `data` left
    empty) when the content is not an audit log."""

    sha256: str = ""
    compressed: bool = False
    data: bytes = b""
    error: str | None = None
    complete: bool = True
    size: int = 0
    skip: str | None = None
