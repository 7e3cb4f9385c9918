"""Which server folders a user may load from the app: pure checks, made on resolved paths (symlinks, `..`).

By default only the bundled samples may be loaded (never the working directory, never `/`). Operators add
folders in `.streamlit/secrets.toml`:

    allowed_roots = ["/var/log/wso2/mi-1", "/srv/audit-archive"]

or in the AUDIT_ALLOWED_ROOTS environment variable (folders separated by `:`); both add to the samples.
Relative folders are taken from the app's folder. Pass the roots on to `discover` as well: every file and
symlink below a typed folder must stay inside them too. Messages never show a path outside the roots.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from audit_lib.errors import SourceError
from audit_lib.intake.names import check_path_text, inside, printable

ENV_VAR = "AUDIT_ALLOWED_ROOTS"  # os.pathsep-separated folders
SECRET = "allowed_roots"  # in .streamlit/secrets.toml: a list of folders or one os.pathsep-separated text
APP_DIR = Path(__file__).resolve().parents[2]
SAMPLES = APP_DIR / "samples"
HOW_TO_ALLOW = f"An operator can allow more folders with {SECRET} in .streamlit/secrets.toml or {ENV_VAR}."


def allowed_roots(secrets: Mapping | None = None, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The bundled samples, plus the folders of the `allowed_roots` secret and of AUDIT_ALLOWED_ROOTS; each
    resolved, without repeats, in that order."""
    environ = os.environ if environ is None else environ
    configured: list[str] = []
    for value in (_secret(secrets), environ.get(ENV_VAR)):
        if value is None:
            continue
        items: Iterable = value.split(os.pathsep) if isinstance(value, str) else value
        configured += [str(i).strip() for i in items if str(i).strip()]
    roots = [SAMPLES.resolve()]
    for text in configured:
        try:
            check_path_text(text)
            root = Path(os.path.realpath(APP_DIR / os.path.expanduser(text)))
        except (SourceError, OSError, ValueError):
            continue  # a root no file system accepts allows nothing
        if root not in roots:
            roots.append(root)
    return roots


def _secret(secrets: Mapping | None) -> object:
    if secrets is None:
        return None
    try:
        return secrets.get(SECRET)
    except Exception:  # no secrets file, or one that does not parse: streamlit raises its own error types
        return None


def check_path(path: str, roots: list[Path]) -> Path:
    """`path` resolved, if it lies inside one of `roots` and exists; else a SourceError saying why, which names
    no path but the one typed and the roots (whether a path outside the roots exists is never told)."""
    text = (path or "").strip()
    if not text:
        raise SourceError("Type the path of a folder or file on the server.")
    check_path_text(text)
    try:
        resolved = Path(os.path.realpath(os.path.expanduser(text)))
    except (OSError, ValueError, RuntimeError):
        raise SourceError(f"Cannot use the path {printable(text)}.") from None
    if not inside(resolved, roots):
        allowed = ", ".join(str(r) for r in roots) or "none"
        raise SourceError(f"Refused: {printable(text)} is outside the folders this server allows ({allowed}). "
                          + HOW_TO_ALLOW)
    if not os.path.exists(resolved):
        raise SourceError(f"No such file or folder: {printable(text)}")
    return resolved


def path_fingerprint(path: Path, roots: list[Path] | None = None) -> tuple:
    """(name below `path`, size, mtime) of every regular file below `path`: changes when a file is added, grows
    or is rotated. Never opens a file; follows a symlink only when it stays inside `roots`."""
    base = Path(path)
    out: list[tuple[str, int, int]] = []
    seen: set[tuple[int, int]] = set()

    def add(p: Path, st: os.stat_result) -> None:
        out.append((p.relative_to(base).as_posix() if p != base else p.name, st.st_size, st.st_mtime_ns))

    def walk(folder: Path) -> None:
        try:
            with os.scandir(folder) as it:
                items = sorted(it, key=lambda d: d.name)
        except OSError:
            return  # reported by the loader
        for item in items:
            p = folder / item.name
            try:
                if item.is_symlink() and roots is not None and not inside(p, roots):
                    continue
                st = os.stat(p)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode) and (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                walk(p)
            elif stat.S_ISREG(st.st_mode):
                add(p, st)

    try:
        st = os.stat(base)
    except OSError:
        return ()
    if stat.S_ISDIR(st.st_mode):
        seen.add((st.st_dev, st.st_ino))
        walk(base)
    elif stat.S_ISREG(st.st_mode):
        add(base, st)
    return tuple(out)


def check_store(path: str, roots: list[Path]) -> Path:
    """`path` resolved, if it is a folder inside `roots` (see `check_path`) in which no symlink leads out of them:
    an event store's folder (whether it holds a store is for the store reader to say)."""
    resolved = check_path(path, roots)
    if not resolved.is_dir():
        raise SourceError(f"{printable(path.strip())} is a file: an event store is a folder (the one given to "
                          "`python -m audit_lib ingest ... --store DIR`).")
    for folder, dirs, files in os.walk(resolved):
        for name in dirs + files:
            p = Path(folder) / name
            if p.is_symlink() and not inside(p, roots):
                raise SourceError(f"Refused: the store {printable(path.strip())} holds a link that leads outside "
                                  "the folders this server allows.")
    return resolved
