"""Where the `log4j2.properties` files of a source are: `conf/` (MI) and `repository/conf/` (API-M, IS) in
folders, zips and uploads, each with the node it belongs to, found by the loader's own discovery."""

from __future__ import annotations

import glob as globlib
import io
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from audit_lib.errors import SourceError
from audit_lib.events.products import guess_product
from audit_lib.intake.entries import Source
from audit_lib.intake.names import is_upload

CONFIG_NAME = "log4j2.properties"
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class ConfigFile:
    """A log4j2.properties found in a source: where, for which node and product, and its text."""

    source: str
    node: str
    product: str | None
    text: str
    error: str | None = None


def config_node(parts: Sequence[str], root_name: str) -> str:
    """The node a config belongs to: the folder holding `conf/` (MI) or `repository/conf/` (API-M, IS), named
    like the loader names the node of `<node>/repository/logs/audit.log`."""
    parts = list(parts)
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] == CONFIG_NAME and parts[i - 1] == "conf":
            home = i - 2 if i >= 2 and parts[i - 2] == "repository" else i - 1
            return parts[home - 1] if home >= 1 else root_name
    return parts[-2] if len(parts) >= 2 else root_name


def _is_config_path(parts: Sequence[str]) -> bool:
    return len(parts) >= 2 and parts[-1] == CONFIG_NAME and parts[-2] == "conf"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # what java.util.Properties reads from a stream


def _config(source: str, node: str, read: Any, size: int) -> ConfigFile:
    if size > MAX_CONFIG_BYTES:
        return ConfigFile(source, node, None, "", f"larger than {MAX_CONFIG_BYTES:,} bytes: not read")
    try:
        text = _decode(read())
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        return ConfigFile(source, node, None, "", f"cannot read the file: {exc}")
    return ConfigFile(source, node, guess_product(text, source), text)


def _from_zip(name: str, data: bytes | Path) -> list[ConfigFile]:
    """The configs inside a zip, given as bytes or as a file on disk (read member by member, not whole)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{name} is not a readable zip archive ({exc})") from None
    top = PurePosixPath(name).stem
    out = []
    for m in members:
        parts = PurePosixPath(m.filename).parts
        if _is_config_path(parts):
            out.append(_config(f"{name}/{m.filename}", config_node(parts, top),
                               lambda m=m: archive.read(m), m.file_size))
    return out


def _from_path(path: Path, base: Path) -> list[ConfigFile]:
    """The configs of a folder (named below `base`, the folder shared by everything loaded), a zip or a file."""
    if path.is_dir():
        root = path.resolve()
        out = []
        for f in sorted(root.rglob(CONFIG_NAME)):
            rel = PurePosixPath(f.relative_to(base).as_posix())
            if f.is_symlink() or not f.is_file() or not _is_config_path(rel.parts):
                continue
            out.append(_config(rel.as_posix(), config_node(rel.parts, base.name), f.read_bytes, f.stat().st_size))
        for z in sorted(root.rglob("*.zip")):
            if z.is_file() and not z.is_symlink():
                rel = z.relative_to(base).as_posix()
                try:
                    found = _from_zip(z.name, z)
                except SourceError as exc:  # one broken archive does not hide the other configs
                    out.append(ConfigFile(rel, base.name, None, "", str(exc)))
                    continue
                out += [ConfigFile(f"{rel}/{c.source.split('/', 1)[1]}", c.node, c.product, c.text, c.error)
                        for c in found]
        return out
    if path.suffix.lower() == ".zip":
        return _from_zip(path.name, path)
    parts = path.resolve().parts
    return [_config(path.as_posix(), config_node(parts, path.resolve().parent.name), path.read_bytes,
                    path.stat().st_size)]


def find_configs(root_or_entries: Source) -> list[ConfigFile]:
    """Every `conf/log4j2.properties` (MI) and `repository/conf/log4j2.properties` (API-M, IS) in a folder
    (searched recursively, zips inside included), a zip, a file named explicitly, uploads as (name, bytes), or
    a list of those; sorted by source. Raises SourceError for a path that does not exist or a broken zip; a
    file that cannot be read is returned with its `error`."""
    items = [root_or_entries] if isinstance(root_or_entries, str | os.PathLike) or is_upload(root_or_entries) else (
        list(root_or_entries))
    out: list[ConfigFile] = []
    paths: list[Path] = []
    for item in items:
        if is_upload(item):
            name, data = item[0], bytes(item[1])
            if name.lower().endswith(".zip"):
                out += _from_zip(name, data)
            else:
                parts = PurePosixPath(name).parts
                out.append(_config(name, config_node(parts, "upload") if len(parts) > 1 else "upload",
                                   lambda data=data: data, len(data)))
            continue
        text = str(item)
        paths += [Path(h) for h in sorted(globlib.glob(text, recursive=True))] if globlib.has_magic(text) else [
            Path(item)]
    for path in paths:
        if not path.exists():
            raise SourceError(f"No such file or folder: {path}")
    folders = [p.resolve() if p.is_dir() else p.resolve().parent for p in paths]
    base = Path(os.path.commonpath(folders)) if folders else Path(".")
    for path in paths:
        try:
            out += _from_path(path, base)
        except OSError as exc:
            raise SourceError(f"Cannot read {path}: {exc.strerror or exc}") from None
    seen: set[str] = set()
    return sorted((c for c in out if not (c.source in seen or seen.add(c.source))), key=lambda c: c.source)
