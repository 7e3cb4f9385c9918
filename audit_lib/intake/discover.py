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
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from audit_lib.errors import ReadError, SourceError
from audit_lib.intake.archives import Archive, declared_bomb, member_chunks, member_opener, member_reader, zip_time
from audit_lib.intake.entries import Budget, Entry, Limits, Skipped, Source
from audit_lib.intake.names import (
    ZIP_SUFFIX,
    check_path_text,
    display_name,
    file_kind,
    inside,
    is_archive_name,
    is_audit_name,
    is_upload,
    node_of,
    open_regular,
    printable,
    reason_of,
    size_text,
)


def discover(source: Source, *, roots: Sequence[Path] | None = None, limits: Limits | None = None,
             label: str | None = None, wanted: Callable[[str], bool] = is_audit_name,
             required: bool = True) -> tuple[list[Entry], list[Skipped]]:
    """The candidate audit files of `source` (sorted by `source`) and what was seen and left alone, with why.

    `source`: a folder (searched recursively), a file, a glob, a zip, an upload `(name, bytes)`, or a list of
    those. `roots`: when given, every path must resolve inside one of these folders. `label`: the node of
    uploads (and files) whose location names none. `wanted` says which names are candidates (audit logs; the
    configuration check asks for log4j2.properties). Raises SourceError when nothing usable is found, unless
    `required` is false."""
    items = [source] if isinstance(source, str | os.PathLike) or is_upload(source) else list(source)
    if not items:
        raise SourceError("Nothing to load: no folder, file or upload was given.")
    finder = _Finder([Path(os.path.realpath(r)) for r in roots] if roots is not None else None,
                     limits or Limits(), label.strip() if label and label.strip() else None, wanted)
    paths = [i for i in items if not is_upload(i)]
    for p in paths:
        check_path_text(os.fspath(p))
    base = finder.base([os.fspath(p) for p in paths])
    name_count: dict[str, int] = {}
    for item in items:
        if is_upload(item):
            name = str(item[0])
            name_count[name] = name_count.get(name, 0) + 1
            finder.upload(name, bytes(item[1]), name_count[name])
        else:
            finder.path(os.fspath(item), base)
    entries = _unique(finder.entries)
    if not entries and required:
        names = ", ".join(printable(str(i[0] if is_upload(i) else os.fspath(i)), 80) for i in items[:8])
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

    def __init__(self, roots: list[Path] | None, limits: Limits, label: str | None,
                 wanted: Callable[[str], bool] = is_audit_name) -> None:
        self.roots = roots
        self.wanted = wanted
        self.limits = limits
        self.label = label
        self.entries: list[Entry] = []
        self.skipped: list[Skipped] = []
        self.visited: set[tuple[int, int]] = set()
        self.budget = Budget(limits.max_total_bytes)  # for nested archives read while listing

    def skip(self, name: str, reason: str, unread: bool = False) -> None:
        self.skipped.append(Skipped(name, reason, unread))

    def allowance(self, compressed: int) -> Budget:
        """The expanded bytes the members of one archive (and the zips inside it) may declare together."""
        return Budget(max(self.limits.archive_grace, self.limits.archive_ratio * compressed))

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
            raise SourceError(f"Cannot read {printable(text)}: {reason_of(exc)}") from None

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
            self.skip(rel, f"not a regular file ({file_kind(st.st_mode)})", _says_log(p.name))

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
                self.skip(rel, f"cannot read: {reason_of(exc)}", _says_log(p.name))
                continue
            if stat.S_ISDIR(st.st_mode):
                if (st.st_dev, st.st_ino) not in self.visited:
                    self.visited.add((st.st_dev, st.st_ino))
                    self._walk(p, real, base, root_name)
            elif stat.S_ISREG(st.st_mode):
                self._file(p, real, st, rel, root_name, explicit=False)
            else:
                self.skip(rel, f"not a regular file ({file_kind(st.st_mode)})", _says_log(p.name))

    def _walk(self, folder: Path, real_folder: str, base: Path | None, root_name: str) -> None:
        """Every file below `folder` (depth first, sorted); symlinks resolved one by one."""
        try:
            with os.scandir(folder) as it:
                items = sorted(it, key=lambda d: d.name)
        except OSError as exc:
            self.skip(_rel(folder, base) + "/", f"cannot read: {reason_of(exc)}", True)  # it may hold logs
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
                        self.skip(rel, "broken symlink", _says_log(item.name))
                        continue
                else:
                    real = os.path.join(real_folder, item.name)
                    st = item.stat(follow_symlinks=False)
            except OSError as exc:
                self.skip(rel, f"cannot read: {reason_of(exc)}", _says_log(item.name))
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
                self.skip(rel, f"not a regular file ({file_kind(st.st_mode)})", _says_log(item.name))

    def _file(self, p: Path, real: str, st: os.stat_result, rel: str, root_name: str, explicit: bool) -> None:
        name = p.name
        archive = is_archive_name(name)
        if not (archive or explicit or self.wanted(name)):
            self.skip(rel, "not an audit log name")
            return
        if not os.access(real, os.R_OK):
            self.skip(rel, "cannot read: permission denied", _says_log(name))
            return
        if archive:
            try:
                holder = Archive.on_disk(real, self.limits)
            except ReadError as exc:
                self.skip(rel, str(exc), True)
                return
            if explicit:  # the zip is the loaded "folder": its own folders give nodes, else its name
                parts, top = [], self.label or _stem(name)
            else:  # a zip found in a folder is searched like a folder of that name
                parts, top = list(PurePosixPath(rel).parts[:-1]) + [_stem(name)], root_name
            self._archive(holder, rel, parts, top, 0, rel, self.allowance(st.st_size))
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
            self.skip(shown, f"refused: the upload is {size_text(len(data))}, more than the cap of "
                             f"{size_text(self.limits.max_upload_bytes)}", _says_log(name))
            return
        parts = PurePosixPath(name).parts
        if is_archive_name(name):
            try:
                holder = Archive.in_memory(data, self.limits)
            except ReadError as exc:
                self.skip(shown, str(exc), True)
                return
            self._archive(holder, shown, [], self.label or _apart(_stem(parts[-1]), k), 0, shown,
                          self.allowance(len(data)))
            return
        node = node_of(parts, self.label or _apart("upload", k))
        source = f"{self.label}/{shown}" if self.label else shown
        self.entries.append(Entry(source, node, lambda: data, len(data), upload=shown))

    def _archive(self, holder: Archive, shown: str, parts: list[str], top: str, depth: int, upload: str,
                 allowance: Budget) -> None:
        """Every member of a zip: audit files become entries, zips inside are searched (to `max_nesting`); what
        the members declare they expand to is drawn from the `allowance` of the outermost archive."""
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
            if not (is_archive_name(base_name) or self.wanted(base_name)):
                self.skip(src, "not an audit log name")
                continue
            if info.flag_bits & 0x1:
                self.skip(src, "encrypted: cannot be read", True)
                continue
            if problem := declared_bomb(info, lim):
                self.skip(src, problem, True)
                continue
            if allowance.take(info.file_size) < info.file_size:
                self.skip(src, f"refused: the members of {printable(upload, 80)} expand to more than "
                               f"{lim.archive_ratio} times its size (a zip bomb?); this member and the ones after "
                               "it are not read", True)
                continue
            if is_archive_name(base_name):
                if depth + 1 > lim.max_nesting:
                    self.skip(src, f"refused: a zip inside a zip more than {lim.max_nesting} level(s) deep", True)
                    continue
                if info.file_size > lim.max_nested_bytes:
                    self.skip(src, f"refused: a zip inside a zip larger than {size_text(lim.max_nested_bytes)}",
                              True)
                    continue
                try:
                    data = b"".join(member_chunks(holder, index, info, lim, lim.max_nested_bytes))
                    if self.budget.take(len(data)) < len(data):
                        raise ReadError("refused: the total size cap of this load was reached")
                    nested = Archive.in_memory(data, lim)
                except ReadError as exc:
                    self.skip(src, str(exc), True)
                    continue
                self._archive(nested, src, parts + inner[:-1] + [_stem(base_name)], top, depth + 1, upload,
                              allowance)
                continue
            mtime = zip_time(info)
            self.entries.append(Entry(src, node_of(parts + inner, top), member_reader(holder, index, info, lim),
                                      info.file_size, mtime, upload=upload,
                                      opener=member_opener(holder, index, info, lim)))


def _says_log(name: str) -> bool:
    """Whether a name says audit log (or zip archive): such a file left unread makes the set incomplete."""
    return is_audit_name(name) or is_archive_name(name)


def _clean_parts(name: str) -> list[str]:
    """The folders and name of an upload or zip member, without `/`, `.` or `..` (names are never paths here)."""
    return [p for p in PurePosixPath(display_name(name).replace("\\", "/")).parts if p not in ("/", ".", "..")]


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
            return display_name(rel if rel != "." else path.name)
        except ValueError:
            pass
    return display_name(path.name)


def _stem(name: str) -> str:
    return name[: -len(ZIP_SUFFIX)] if is_archive_name(name) else name


def _file_reader(real: str) -> Callable[[], bytes]:
    def read() -> bytes:
        with open_regular(real) as f:
            return f.read()

    return read
