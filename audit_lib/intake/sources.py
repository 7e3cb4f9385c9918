"""Find the audit files a user points at and read them safely: folders, files, globs, uploads and zip archives.

Discovery (`discover`) looks at names and file types only; it opens zip archives to list them and nothing else.
- A file whose name starts with `audit` (any rotation suffix: `audit.log.1`, `audit-10-07-2026.1.log`,
  `audit.log-20261005.gz`, ...) is a candidate, and so is a file or upload named explicitly, whatever its name.
  Zip archives of any name are searched like folders. Every other file is listed in `skipped` with the reason.
- A path that exists is a path even with glob characters in it (`mi[prod]`); a glob only when it does not exist.
- Only regular files are ever opened (FIFOs, devices and sockets are skipped); with `roots`, every path and every
  symlink is resolved and must stay inside one of them; messages never show where a refused symlink points.
- Nodes: the folder above `repository/logs`, else the first folder below the loaded folder (or zip), else the
  name of the loaded folder (or zip, or the `label` of an upload batch).

Reading (`read_content`, `iter_content`, `Entry.open`) reads each file once, as a stream, with the caps of
`Limits`: decompression is streamed and stops at the cap, so a bomb costs bounded memory and is reported.
The content decides last: a candidate whose first lines do not look like a log4j audit line is skipped.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import io
import os
import re
import stat
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from struct import error as struct_error
from typing import BinaryIO

from audit_lib.errors import AuditLibError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_SUFFIX = ".zip"
CHUNK = 1 << 20  # stored bytes read, and decompressed bytes produced, at a time
PATH_MAX = 4096  # bytes of a whole path, and of one name in it:
NAME_MAX = 255
# the start of a log4j audit line: "[2026-10-07 12:00:00,000] ..." (MI, IS, old API-M) or "TID: [" (API-M, IS)
LOG_LINE = re.compile(rb"^[ \t]*(?:TID: ?\[|\[\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2})", re.MULTILINE)
NOT_A_LOG = "content does not look like an audit log (no line starts like '[2026-01-01 10:00' or 'TID: [')"

Upload = tuple[str, bytes]
Source = str | os.PathLike | Upload | Sequence["str | os.PathLike | Upload"]


class SourceError(AuditLibError, ValueError):
    """A source the user named cannot be used: the message says why, in words a user understands."""


class ReadError(AuditLibError, OSError):
    """A file could not be read to its end (damaged archive member, a cap reached): the message says why."""


@dataclass(frozen=True)
class Limits:
    """Caps that keep memory and time bounded whatever the input. All sizes are in bytes.

    A file hitting `max_file_bytes` or the load hitting `max_total_bytes` keeps what was read before the cap
    and is marked incomplete. Gzip files and zip members whose output grows beyond `max_ratio` times their
    compressed size (once `ratio_grace` bytes have come out: small files compress well) are refused as bombs,
    and so are zip members whose declared sizes say so, before anything is decompressed. Archives: a zip may
    hold zips `max_nesting` levels deep (1: a zip of zips is read, a zip inside those is refused); a nested zip
    is read into memory, so it may not expand to more than `max_nested_bytes`."""

    max_file_bytes: int = 1 << 30  # decompressed bytes of one file
    max_total_bytes: int = 4 << 30  # decompressed bytes of one load (with a `Budget`)
    max_ratio: int = 100  # real audit logs compress 5 to 20 times
    ratio_grace: int = 8 << 20
    max_members: int = 10_000  # entries in one zip archive
    max_nesting: int = 1
    max_nested_bytes: int = 256 << 20
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
    """A file (or folder) seen in the source and left alone, with the reason."""

    name: str
    reason: str

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


# ---------------------------------------------------------------------------------------------------- names


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


def _display(name: str) -> str:
    """A file name as text that can be shown and stored (undecodable bytes replaced)."""
    return os.fsencode(name).decode("utf-8", "replace")


def _kind(mode: int) -> str:
    for test, what in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "folder"), (stat.S_ISLNK, "symlink")):
        if test(mode):
            return what
    return "special file"


def _why(exc: BaseException) -> str:
    """An OS error in words, without the file name it carries (that may be a server path)."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def _size(n: float) -> str:
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
        raise ReadError(f"cannot read: {_why(exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ReadError(f"not a regular file ({_kind(mode)})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# ------------------------------------------------------------------------------------------------ discovery


def _is_upload(item: object) -> bool:
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes | bytearray | memoryview)


def discover(source: Source, *, roots: Sequence[Path] | None = None, limits: Limits | None = None,
             label: str | None = None) -> tuple[list[Entry], list[Skipped]]:
    """The candidate audit files of `source` (sorted by `source`) and what was seen and left alone, with why.

    `source`: a folder (searched recursively), a file, a glob, a zip, an upload `(name, bytes)`, or a list of
    those. `roots`: when given, every path must resolve inside one of these folders. `label`: the node of
    uploads (and files) whose location names none. Raises SourceError when nothing usable is found."""
    items = [source] if isinstance(source, str | os.PathLike) or _is_upload(source) else list(source)
    if not items:
        raise SourceError("Nothing to load: no folder, file or upload was given.")
    finder = _Finder([Path(os.path.realpath(r)) for r in roots] if roots is not None else None,
                     limits or Limits(), label.strip() if label and label.strip() else None)
    paths = [i for i in items if not _is_upload(i)]
    for p in paths:
        check_path_text(os.fspath(p))
    base = finder.base([os.fspath(p) for p in paths])
    name_count: dict[str, int] = {}
    for item in items:
        if _is_upload(item):
            name = str(item[0])
            name_count[name] = name_count.get(name, 0) + 1
            finder.upload(name, bytes(item[1]), name_count[name])
        else:
            finder.path(os.fspath(item), base)
    entries = _unique(finder.entries)
    if not entries:
        names = ", ".join(printable(str(i[0] if _is_upload(i) else os.fspath(i)), 80) for i in items[:8])
        seen = finder.skipped
        what = f"; found instead: {'; '.join(map(str, seen[:8]))}{' …' if len(seen) > 8 else ''}" if seen else ""
        raise SourceError(f"No audit log file (audit.log, audit-MM-dd-yyyy.log, .gz, .zip) in {names}{what}")
    return sorted(entries, key=lambda e: e.source), finder.skipped


def _unique(entries: list[Entry]) -> list[Entry]:
    """The same file reached twice (a folder and a file in it) once; different files with one name apart."""
    seen_paths: set[tuple[str, Path]] = set()
    out: list[Entry] = []
    for e in entries:
        if e.path is not None:
            if (e.source, e.path) in seen_paths:
                continue
            seen_paths.add((e.source, e.path))
        out.append(e)
    taken: dict[str, int] = {}
    for e in out:
        taken[e.source] = taken.get(e.source, 0) + 1
    counts: dict[str, int] = {}
    renamed = []
    for e in out:
        if taken[e.source] == 1:
            renamed.append(e)
            continue
        counts[e.source] = counts.get(e.source, 0) + 1
        k = counts[e.source]
        renamed.append(e if k == 1 else replace(e, source=f"{e.source} ({k})"))
    return renamed


class _Finder:
    """Collects entries and skipped files while walking the items of one `discover` call."""

    def __init__(self, roots: list[Path] | None, limits: Limits, label: str | None) -> None:
        self.roots = roots
        self.limits = limits
        self.label = label
        self.entries: list[Entry] = []
        self.skipped: list[Skipped] = []
        self.visited: set[tuple[int, int]] = set()
        self.budget = Budget(limits.max_total_bytes)  # for nested archives read while listing

    def skip(self, name: str, reason: str) -> None:
        self.skipped.append(Skipped(name, reason))

    def allowed(self, path: str) -> bool:
        return self.roots is None or inside(path, self.roots)

    # -- paths

    def base(self, paths: list[str]) -> Path | None:
        """The folder sources are named relative to: the loaded folder, or the parent shared by several."""
        bases = []
        for text in paths:
            p = Path(os.path.abspath(text))
            if os.path.lexists(p):
                bases.append(p if _is_dir(p) else p.parent)
            elif globlib.has_magic(text):
                bases.append(_glob_root(p))
            else:
                bases.append(p.parent)
        if not bases:
            return None
        return bases[0] if len(bases) == 1 else Path(os.path.commonpath(bases))

    def path(self, text: str, base: Path | None) -> None:
        p = Path(os.path.abspath(text))
        root_name = self.label or (base.name if base is not None and base.name else "root")
        try:
            exists = os.path.lexists(p)
            if self.roots is not None and not self.allowed(_glob_root(p) if not exists and globlib.has_magic(text)
                                                           else p):
                raise SourceError(f"Refused: {printable(text)} is outside the folders this server allows.")
            if exists:
                self._named(p, text, base, root_name)
            elif globlib.has_magic(text):
                self._glob(text, base, root_name)
            else:
                raise SourceError(f"No such file or folder: {printable(text)}")
        except OSError as exc:  # too long for this file system, a loop of links, a file gone while listed
            raise SourceError(f"Cannot read {printable(text)}: {_why(exc)}") from None

    def _named(self, p: Path, text: str, base: Path | None, root_name: str) -> None:
        real = os.path.realpath(p)
        try:
            st = os.stat(real)
        except FileNotFoundError:
            raise SourceError(f"{printable(text)} is a broken symlink") from None
        rel = _rel(p, base)
        if stat.S_ISDIR(st.st_mode):
            if not os.access(real, os.R_OK | os.X_OK):
                raise SourceError(f"Cannot read {printable(text)}: permission denied")
            self.visited.add((st.st_dev, st.st_ino))
            self._walk(p, real, base, root_name)
        elif stat.S_ISREG(st.st_mode):
            self._file(p, real, st, rel, root_name, explicit=True)
        else:
            self.skip(rel, f"not a regular file ({_kind(st.st_mode)})")

    def _glob(self, text: str, base: Path | None, root_name: str) -> None:
        hits = sorted(globlib.glob(text, recursive=True))
        if not hits:
            raise SourceError(f"Nothing matches {printable(text)}")
        for hit in hits:
            p = Path(os.path.abspath(hit))
            rel = _rel(p, base)
            real = os.path.realpath(p)
            if not self.allowed(real):
                self.skip(rel, "outside the allowed folders" if not p.is_symlink()
                          else "symlink leaves the allowed folders")
                continue
            try:
                st = os.stat(real)
            except OSError as exc:
                self.skip(rel, f"cannot read: {_why(exc)}")
                continue
            if stat.S_ISDIR(st.st_mode):
                if (st.st_dev, st.st_ino) not in self.visited:
                    self.visited.add((st.st_dev, st.st_ino))
                    self._walk(p, real, base, root_name)
            elif stat.S_ISREG(st.st_mode):
                self._file(p, real, st, rel, root_name, explicit=False)
            else:
                self.skip(rel, f"not a regular file ({_kind(st.st_mode)})")

    def _walk(self, folder: Path, real_folder: str, base: Path | None, root_name: str) -> None:
        """Every file below `folder` (depth first, sorted); symlinks resolved one by one."""
        try:
            with os.scandir(folder) as it:
                items = sorted(it, key=lambda d: d.name)
        except OSError as exc:
            self.skip(_rel(folder, base) + "/", f"cannot read: {_why(exc)}")
            return
        for item in items:
            p = folder / item.name
            rel = _rel(p, base)
            try:
                if item.is_symlink():
                    real = os.path.realpath(p)
                    if not self.allowed(real):
                        self.skip(rel, "symlink leaves the allowed folders")
                        continue
                    try:
                        st = os.stat(real)
                    except FileNotFoundError:
                        self.skip(rel, "broken symlink")
                        continue
                else:
                    real = os.path.join(real_folder, item.name)
                    st = item.stat(follow_symlinks=False)
            except OSError as exc:
                self.skip(rel, f"cannot read: {_why(exc)}")
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in self.visited:
                    self.skip(rel + "/", "a link to a folder already searched")
                    continue
                self.visited.add(key)
                self._walk(p, real, base, root_name)
            elif stat.S_ISREG(st.st_mode):
                self._file(p, real, st, rel, root_name, explicit=False)
            else:
                self.skip(rel, f"not a regular file ({_kind(st.st_mode)})")

    def _file(self, p: Path, real: str, st: os.stat_result, rel: str, root_name: str, explicit: bool) -> None:
        name = p.name
        archive = is_archive_name(name)
        if not (archive or explicit or is_audit_name(name)):
            self.skip(rel, "not an audit log name")
            return
        if not os.access(real, os.R_OK):
            self.skip(rel, "cannot read: permission denied")
            return
        if archive:
            try:
                holder = _Archive.on_disk(real, self.limits)
            except ReadError as exc:
                self.skip(rel, str(exc))
                return
            if explicit:  # the zip is the loaded "folder": its own folders give nodes, else its name
                parts, top = [], self.label or _stem(name)
            else:  # a zip found in a folder is searched like a folder of that name
                parts, top = list(PurePosixPath(rel).parts[:-1]) + [_stem(name)], root_name
            self._archive(holder, rel, parts, top, 0, upload=rel)
            return
        parts = PurePosixPath(rel).parts
        self.entries.append(Entry(rel, node_of(parts, root_name), _file_reader(real), st.st_size, st.st_mtime,
                                  Path(real)))

    # -- uploads and archives

    def upload(self, name: str, data: bytes, k: int) -> None:
        """An uploaded file or zip; the k-th upload of one name is kept apart as `name (k)` (node `upload (k)`
        or `<zip name> (k)`, unless the batch has a `label`)."""
        name = "/".join(_clean_parts(name)) or "upload"
        shown = name if k == 1 else f"{name} ({k})"
        if len(data) > self.limits.max_upload_bytes:
            self.skip(shown, f"refused: the upload is {_size(len(data))}, more than the cap of "
                             f"{_size(self.limits.max_upload_bytes)}")
            return
        parts = PurePosixPath(name).parts
        if is_archive_name(name):
            try:
                holder = _Archive.in_memory(data, self.limits)
            except ReadError as exc:
                self.skip(shown, str(exc))
                return
            self._archive(holder, shown, [], self.label or _apart(_stem(parts[-1]), k), 0, upload=shown)
            return
        node = node_of(parts, self.label or _apart("upload", k))
        source = f"{self.label}/{shown}" if self.label else shown
        self.entries.append(Entry(source, node, lambda: data, len(data), upload=shown))

    def _archive(self, holder: _Archive, shown: str, parts: list[str], top: str, depth: int, upload: str) -> None:
        """Every member of a zip: audit files become entries, zips inside are searched (to `max_nesting`)."""
        lim = self.limits
        for index, info in enumerate(holder.infos):
            if info.is_dir():
                continue
            inner = _clean_parts(info.filename)
            if not inner:
                continue
            src = f"{shown}/{'/'.join(inner)}"
            base_name = inner[-1]
            if stat.S_ISLNK(info.external_attr >> 16):
                self.skip(src, "a symlink inside the archive")
                continue
            if not (is_archive_name(base_name) or is_audit_name(base_name)):
                self.skip(src, "not an audit log name")
                continue
            if info.flag_bits & 0x1:
                self.skip(src, "encrypted: cannot be read")
                continue
            if problem := _declared_bomb(info, lim):
                self.skip(src, problem)
                continue
            if is_archive_name(base_name):
                if depth + 1 > lim.max_nesting:
                    self.skip(src, f"refused: a zip inside a zip more than {lim.max_nesting} level(s) deep")
                    continue
                if info.file_size > lim.max_nested_bytes:
                    self.skip(src, f"refused: a zip inside a zip larger than {_size(lim.max_nested_bytes)}")
                    continue
                try:
                    data = b"".join(_member_chunks(holder, index, info, lim, lim.max_nested_bytes))
                    if self.budget.take(len(data)) < len(data):
                        raise ReadError("refused: the total size cap of this load was reached")
                    nested = _Archive.in_memory(data, lim)
                except ReadError as exc:
                    self.skip(src, str(exc))
                    continue
                self._archive(nested, src, parts + inner[:-1] + [_stem(base_name)], top, depth + 1, upload)
                continue
            mtime = _zip_time(info)
            self.entries.append(Entry(src, node_of(parts + inner, top), _member_reader(holder, index, info, lim),
                                      info.file_size, mtime, upload=upload,
                                      opener=_member_opener(holder, index, info, lim)))


def _clean_parts(name: str) -> list[str]:
    """The folders and name of an upload or zip member, without `/`, `.` or `..` (names are never paths here)."""
    return [p for p in PurePosixPath(_display(name).replace("\\", "/")).parts if p not in ("/", ".", "..")]


def _apart(node: str, k: int) -> str:
    """The node of the k-th upload of one name from no known node: each kept apart."""
    return node if k == 1 else f"{node} ({k})"


def _is_dir(p: Path) -> bool:
    try:
        return stat.S_ISDIR(os.stat(p).st_mode)
    except OSError:
        return False


def _glob_root(p: Path) -> Path:
    """For a glob, the folder before its first wildcard."""
    parts = p.parts
    for i, part in enumerate(parts):
        if globlib.has_magic(part):
            return Path(*parts[:i]) if i else Path(os.path.abspath("."))
    return p.parent


def _rel(path: Path, base: Path | None) -> str:
    """`path` below `base` as text that can be shown (never an absolute server path when below the base)."""
    if base is not None:
        try:
            rel = path.relative_to(base).as_posix()
            return _display(rel if rel != "." else path.name)
        except ValueError:
            pass
    return _display(path.name)


def _stem(name: str) -> str:
    return name[: -len(ZIP_SUFFIX)] if is_archive_name(name) else name


def _file_reader(real: str) -> Callable[[], bytes]:
    def read() -> bytes:
        with open_regular(real) as f:
            return f.read()

    return read


def _zip_time(info: zipfile.ZipInfo) -> float:
    try:
        return datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError, OSError):
        return 0.0


def _declared_bomb(info: zipfile.ZipInfo, lim: Limits) -> str | None:
    """Why a member is refused from its declared sizes alone (nothing decompressed), or None."""
    if info.file_size > lim.max_file_bytes:
        return (f"refused: expands to {_size(info.file_size)}, more than the cap of {_size(lim.max_file_bytes)} "
                "per file")
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > lim.ratio_grace and \
            info.file_size > lim.max_ratio * max(info.compress_size, 1):
        return (f"refused: expands from {_size(info.compress_size)} to {_size(info.file_size)}, more than "
                f"{lim.max_ratio} times (a zip bomb?)")
    return None


class _Archive:
    """An open zip archive (on disk or in memory) shared by its members' entries; member reads are locked."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.infos = zf.infolist()
        self.lock = threading.Lock()

    @classmethod
    def on_disk(cls, real: str, lim: Limits) -> _Archive:
        f = open_regular(real)
        try:
            return cls._open(f, lim)
        except BaseException:
            f.close()
            raise

    @classmethod
    def in_memory(cls, data: bytes, lim: Limits) -> _Archive:
        return cls._open(io.BytesIO(data), lim)

    @classmethod
    def _open(cls, f: BinaryIO, lim: Limits) -> _Archive:
        """Check the member count in the end record before zipfile reads the whole central directory."""
        try:
            end = zipfile._EndRecData(f)  # type: ignore[attr-defined]
            if end is None:
                raise ReadError("not a readable zip archive (no end of central directory)")
            count, cd_size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
            if count > lim.max_members or cd_size > lim.max_members * 1024:
                raise ReadError(f"refused: a zip archive with more than {lim.max_members:,} members")
            f.seek(0)
            zf = zipfile.ZipFile(f)
        except ReadError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct_error) as exc:
            raise ReadError(f"not a readable zip archive ({_why(exc)})") from None
        if len(zf.infolist()) > lim.max_members:
            raise ReadError(f"refused: a zip archive with more than {lim.max_members:,} members")
        return cls(zf)


def _member_chunks(holder: _Archive, index: int, info: zipfile.ZipInfo, lim: Limits,
                   cap: int | None = None) -> Iterator[bytes]:
    """A zip member's bytes, decompressed as a stream; past the size or ratio cap, ReadError (after the
    bytes that were within the cap)."""
    size_cap = min(cap or lim.max_file_bytes, lim.max_file_bytes)
    ratio_cap = (max(lim.ratio_grace, lim.max_ratio * max(info.compress_size, 1))
                 if info.compress_type != zipfile.ZIP_STORED else None)
    got = 0
    try:
        with holder.lock:
            f = holder.zf.open(holder.infos[index])
        with f:
            while True:
                with holder.lock:
                    chunk = f.read(CHUNK)
                if not chunk:
                    return
                got += len(chunk)
                if got > size_cap:
                    yield chunk[: len(chunk) - (got - size_cap)]
                    raise ReadError(f"stopped at the cap of {_size(size_cap)} per file: the rest is unknown")
                if ratio_cap is not None and got > ratio_cap:
                    raise ReadError(f"refused: expands from {_size(info.compress_size)} to more than {_size(got)}, "
                                    f"more than {lim.max_ratio} times (a zip bomb?)")
                yield chunk
    except ReadError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError,
            struct_error) as exc:
        raise ReadError(f"damaged zip member ({_why(exc)})") from None


class ChunkStream(io.RawIOBase):
    """A readable binary stream over an iterator of byte chunks (closing it closes the iterator)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.rest:
            nxt = next(self.chunks, None)
            if nxt is None:
                return 0
            self.rest = nxt
        n = min(len(buffer), len(self.rest))
        buffer[:n] = self.rest[:n]
        self.rest = self.rest[n:]
        return n

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()
        super().close()


def _member_opener(holder: _Archive, index: int, info: zipfile.ZipInfo, lim: Limits) -> Callable[[], BinaryIO]:
    return lambda: ChunkStream(_member_chunks(holder, index, info, lim))  # type: ignore[return-value]


def _member_reader(holder: _Archive, index: int, info: zipfile.ZipInfo, lim: Limits) -> Callable[[], bytes]:
    return lambda: b"".join(_member_chunks(holder, index, info, lim))


# -------------------------------------------------------------------------------------------------- reading


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
        facts.error = (f"refused: its first {_size(facts.size)} expand to more than {_size(expanded)}, more than "
                       f"{lim.max_ratio} times (a gzip bomb?); the lines after that are unknown")
        facts.complete = False
        return out[: max(0, len(out) - (expanded - lim.max_ratio * facts.size))], True
    stop = False
    if expanded > lim.max_file_bytes:
        out = out[: max(0, len(out) - (expanded - lim.max_file_bytes))]
        facts.error = f"stopped at the cap of {_size(lim.max_file_bytes)} per file: the rest is unknown"
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
    return f"cannot read: {_why(exc)}"


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
                    return b"".join(out), f"stopped at the cap of {_size(max_bytes)}: the rest is unknown"
                out.append(chunk)
    except zlib.error as exc:
        return b"".join(out), f"corrupt gzip file ({exc}): kept the lines before the damage"
    if gz.truncated:
        return b"".join(out), "truncated gzip file: kept the lines before the cut"
    return b"".join(out), None
