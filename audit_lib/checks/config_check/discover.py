"""Where the `log4j2.properties` files of a source are: `conf/` (MI) and `repository/conf/` (API-M, IS) in
folders, zips and uploads, each with the node it belongs to, found by the loader's own discovery."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from audit_lib.errors import SourceError
from audit_lib.events.products import guess_product
from audit_lib.intake.discover import discover
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


def _wanted(name: str) -> bool:
    return name == CONFIG_NAME


def find_configs(root_or_entries: Source) -> list[ConfigFile]:
    """Every `conf/log4j2.properties` (MI) and `repository/conf/log4j2.properties` (API-M, IS) in a folder
    (searched recursively, zips inside included), a zip, a file named explicitly, uploads as (name, bytes), or
    a list of those; sorted by source. Found by the loader's own discovery (`intake.discover`: the same roots,
    symlink, FIFO and zip rules, the same names). Raises SourceError for a path that does not exist or a zip named
    directly that cannot be read; a file that cannot be read is returned with its `error`."""
    items = [root_or_entries] if isinstance(root_or_entries, str | os.PathLike) or is_upload(root_or_entries) else (
        list(root_or_entries))
    if not items:
        return []
    direct = {str(i[0]) if is_upload(i) else os.fspath(i) for i in items}
    direct |= {PurePosixPath(d.replace("\\", "/")).name for d in direct}
    entries, skipped = discover(items, wanted=_wanted, required=False)
    out: list[ConfigFile] = []
    for k in skipped:
        if k.name.lower().endswith(".zip") and k.reason.startswith("not a readable zip"):
            if k.name in direct:
                raise SourceError(f"{k.name} is {k.reason}")
            out.append(ConfigFile(k.name, PurePosixPath(k.name).parts[0], None, "", k.reason))
    for e in entries:
        parts = PurePosixPath(e.source).parts
        if parts[-1] == CONFIG_NAME and len(parts) > 1 and not _is_config_path(parts):
            continue  # conf/deployment/..., a template's copy: not the node's config
        out.append(_config(e.source, config_node(parts, e.node), e.read, e.size))
    return sorted(out, key=lambda c: c.source)
