"""What names and paths say: audit-log and archive names, the node a path belongs to, paths kept inside
the allowed roots, text made printable, and regular files opened without following them elsewhere."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from audit_lib.errors import ReadError, SourceError

ZIP_SUFFIX = ".zip"
PATH_MAX = 4096  # bytes of a whole path, and of one name in it:
NAME_MAX = 255


def is_upload(item: object) -> bool:
    """An upload: a (name, bytes) pair."""
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes | bytearray | memoryview)


def is_audit_name(name: str) -> bool:
    """A name that may hold an audit log: it starts with `audit` (the content decides in the end)."""
    return PurePosixPath(name.replace("\\", "/")).name.lower().startswith("audit")


def is_archive_name(name: str) -> bool:
    return name.lower().endswith(ZIP_SUFFIX)


def node_of(parts: Sequence[str], root_name: str) -> str:
    """The folder right above repository/logs, else the first folder under the root, else the root's name."""
    parts = list(parts)
    for i in range(len(parts) - 1):
        if [p.lower() for p in parts[i : i + 2]] == ["repository", "logs"]:
            return parts[i - 1] if i else root_name
    return parts[0] if len(parts) > 1 else root_name


def inside(path: str | os.PathLike, roots: Sequence[Path]) -> bool:
    """Whether the resolved `path` is one of `roots` or lies below one (the roots must be resolved)."""
    real = Path(os.path.realpath(path))
    return any(real == r or real.is_relative_to(r) for r in roots)


def check_path_text(text: str) -> None:
    """SourceError for a path that no file system accepts (a NUL byte, too long): said plainly, not as OSError."""
    if "\x00" in text:
        raise SourceError("The path contains a NUL character: check what was typed or pasted.")
    raw = os.fsencode(text)
    if len(raw) > PATH_MAX or any(len(p) > NAME_MAX for p in raw.split(b"/")):
        raise SourceError(f"The path is too long ({len(raw):,} bytes; at most {PATH_MAX:,}, and {NAME_MAX} per "
                          f"name): {printable(text, 60)}")


def printable(text: str, keep: int = 200) -> str:
    """Text safe to put in a message: control characters replaced, cut to `keep` characters."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= keep else text[:keep] + "…"


def display_name(name: str) -> str:
    """A file name as text that can be shown and stored (undecodable bytes replaced)."""
    return os.fsencode(name).decode("utf-8", "replace")


def file_kind(mode: int) -> str:
    for test, what in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "folder"), (stat.S_ISLNK, "symlink")):
        if test(mode):
            return what
    return "special file"


def reason_of(exc: BaseException) -> str:
    """An OS error in words, without the file name it carries (that may be a server path)."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def size_text(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GB"


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """Open a regular file for reading; anything else (FIFO, device, socket, a symlink swapped in after the
    file was listed) raises ReadError instead of blocking or reading what it should not."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ReadError(f"cannot read: {reason_of(exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ReadError(f"not a regular file ({file_kind(mode)})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
