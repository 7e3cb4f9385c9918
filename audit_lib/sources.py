"""Find the audit files a user points at and read them: folders, files, globs, uploads and zip archives."""

from __future__ import annotations

import glob as globlib
import hashlib
import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# audit.log, audit-MM-dd-yyyy.log, audit-MM-dd-yyyy.N.log, audit.log.N, any of them gzipped
AUDIT_NAME = re.compile(r"^audit(?:-\d{2}-\d{2}-\d{4})?(?:\.\d+)?\.log(?:\.\d+)?(?:\.gz)?$", re.IGNORECASE)
ARCHIVE_NAME = re.compile(r"\.zip$", re.IGNORECASE)
GZIP_MAGIC = b"\x1f\x8b"

Upload = tuple[str, bytes]
Source = str | os.PathLike | Upload | Sequence["str | os.PathLike | Upload"]


class SourceError(ValueError):
    """A source the user named cannot be used: the message says why, in words a user understands."""


@dataclass(frozen=True)
class Entry:
    """One input file: where it came from and how to get its stored bytes."""

    source: str  # shown to the user: path below the loaded root, or the upload's name
    node: str
    read: Callable[[], bytes]
    size: int
    mtime: float = 0.0
    path: Path | None = None  # set for files on disk, which can be read without a copy in memory


def is_audit_name(name: str) -> bool:
    return bool(AUDIT_NAME.match(PurePosixPath(name).name))


def node_of(parts: Sequence[str], root_name: str) -> str:
    """The folder right above repository/logs, else the first folder under the root, else the root's name."""
    parts = list(parts)
    for i in range(len(parts) - 1):
        if parts[i : i + 2] == ["repository", "logs"]:
            return parts[i - 1] if i else root_name
    return parts[0] if len(parts) > 1 else root_name


def _is_upload(item: object) -> bool:
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes | bytearray | memoryview)


def discover(source: Source) -> tuple[list[Entry], list[str]]:
    """All audit files of `source` (sorted by source name) and the other files seen but left alone."""
    items = [source] if isinstance(source, str | os.PathLike) or _is_upload(source) else list(source)
    if not items:
        raise SourceError("Nothing to load: no folder, file or upload was given.")
    paths = [Path(i) for i in items if not _is_upload(i)]
    base = _common_base(paths)
    entries: list[Entry] = []
    skipped: list[str] = []
    for item in items:
        if _is_upload(item):
            found, left = _from_upload(item[0], bytes(item[1]))
        else:
            try:
                found, left = _from_path(Path(item), base)
            except OSError as exc:  # a folder that cannot be listed, a file that vanished while listed
                raise SourceError(f"Cannot read {item}: {exc.strerror or exc}") from None
        entries += found
        skipped += left
    seen: set[str] = set()
    unique = [e for e in entries if not (e.source in seen or seen.add(e.source))]
    if not unique:
        names = ", ".join(str(i[0] if _is_upload(i) else i) for i in items)
        what = f"; found instead: {', '.join(skipped[:8])}{' …' if len(skipped) > 8 else ''}" if skipped else ""
        raise SourceError(f"No audit log file (audit.log, audit-MM-dd-yyyy.log, .gz) in {names}{what}")
    return sorted(unique, key=lambda e: e.source), skipped


def _common_base(paths: list[Path]) -> Path | None:
    """The folder sources are named relative to: the loaded folder, or the parent shared by several."""
    if not paths:
        return None
    roots = [p.resolve() if p.exists() and p.is_dir() else _glob_root(p).resolve() for p in paths]
    if len(roots) == 1:
        return roots[0]
    return Path(os.path.commonpath(roots))


def _glob_root(p: Path) -> Path:
    """A file's folder, or for a glob the folder before its first wildcard."""
    parts = p.parts
    for i, part in enumerate(parts):
        if globlib.has_magic(part):
            return Path(*parts[:i]) if i else Path(".")
    return p.parent


def _from_path(path: Path, base: Path | None) -> tuple[list[Entry], list[str]]:
    text = str(path)
    if globlib.has_magic(text):
        hits = [Path(h) for h in sorted(globlib.glob(text, recursive=True))]
        files = [h for h in hits if h.is_file()]
        for d in (h for h in hits if h.is_dir()):
            files += [f for f in sorted(d.rglob("*")) if f.is_file()]
        if not hits:
            raise SourceError(f"Nothing matches {text}")
        chosen = files
    elif not path.exists():
        raise SourceError(f"No such file or folder: {text}")
    elif path.is_dir():
        chosen = [f for f in sorted(path.rglob("*")) if f.is_file()]
    else:
        chosen = [path]  # a file named explicitly is read whatever its name
    explicit = not globlib.has_magic(text) and path.is_file()
    root = base or path.resolve().parent
    entries, skipped = [], []
    for f in chosen:
        rel = _relative(f.resolve(), root)
        if explicit or is_audit_name(f.name):
            st = f.stat()
            parts = PurePosixPath(rel).parts
            entries.append(Entry(rel, node_of(parts, root.name), _file_reader(f), st.st_size, st.st_mtime, f))
        elif ARCHIVE_NAME.search(f.name):
            found, left = _from_upload(rel, f.read_bytes())
            entries += found
            skipped += left
        else:
            skipped.append(rel)
    return entries, skipped


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _file_reader(path: Path) -> Callable[[], bytes]:
    return lambda: path.read_bytes()


def _from_upload(name: str, data: bytes) -> tuple[list[Entry], list[str]]:
    """An uploaded file, or every audit file inside an uploaded zip (read in memory)."""
    if not ARCHIVE_NAME.search(name):
        parts = PurePosixPath(name).parts
        return [Entry(name, node_of(parts, "upload") if len(parts) > 1 else "upload",
                      lambda: data, len(data))], []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{name} is not a readable zip archive ({exc})") from None
    top = PurePosixPath(name).stem
    entries, skipped = [], []
    for m in members:
        inner = PurePosixPath(m.filename)
        if not is_audit_name(inner.name):
            skipped.append(f"{name}/{m.filename}")
            continue
        parts = inner.parts
        node = node_of(parts, top) if len(parts) > 1 else "upload"
        entries.append(Entry(f"{name}/{m.filename}", node, _zip_reader(archive, m), m.file_size))
    return entries, skipped


def _zip_reader(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Callable[[], bytes]:
    return lambda: archive.read(member)


@dataclass
class Content:
    """A file's stored-byte facts and its decompressed content (what could be recovered of it)."""

    sha256: str
    compressed: bool
    data: bytes
    error: str | None = None


def is_gzip(entry: Entry) -> bool:
    if entry.path is None:
        return entry.read()[:2] == GZIP_MAGIC
    with entry.path.open("rb") as f:
        return f.read(2) == GZIP_MAGIC


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def read_content(entry: Entry) -> Content:
    """Read, hash and (for gzip) decompress one file; damage is reported in `error`, never raised."""
    try:
        stored = entry.read()
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        return Content("", False, b"", f"cannot read the file: {exc}")
    digest = hashlib.sha256(stored).hexdigest()
    if stored[:2] != GZIP_MAGIC:
        return Content(digest, False, stored)
    data, error = gunzip(stored)
    return Content(digest, True, data, error)


def gunzip(stored: bytes, chunk: int = 1 << 20) -> tuple[bytes, str | None]:
    """Decompress gzip data, keeping whatever precedes damage or truncation."""
    out: list[bytes] = []
    rest = stored
    while rest:  # concatenated gzip members are valid gzip
        d = zlib.decompressobj(wbits=31)
        pos = 0
        try:
            while not d.eof and pos < len(rest):
                out.append(d.decompress(rest[pos : pos + chunk]))
                pos += chunk
        except zlib.error as exc:
            return b"".join(out), f"corrupt gzip file ({exc}): kept the lines before the damage"
        if not d.eof:
            return b"".join(out), "truncated gzip file: kept the lines before the cut"
        rest = d.unused_data.lstrip(b"\x00")
    return b"".join(out), None
