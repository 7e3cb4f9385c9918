"""Which server folders a user may load: a pure check, resolved before comparing (symlinks, `..`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from audit_lib.sources import SourceError

ENV_VAR = "AUDIT_ALLOWED_ROOTS"  # os.pathsep-separated folders
SECRET = "allowed_roots"  # in .streamlit/secrets.toml: a list of folders or one os.pathsep-separated text
APP_DIR = Path(__file__).resolve().parents[2]
SAMPLES = APP_DIR / "samples"


def allowed_roots(secrets: Mapping | None = None, environ: Mapping[str, str] | None = None,
                  cwd: Path | None = None) -> list[Path]:
    """The configured roots: the `allowed_roots` secret, else the AUDIT_ALLOWED_ROOTS variable, else the
    bundled samples folder and the working directory. Each is resolved."""
    environ = os.environ if environ is None else environ
    value = None
    if secrets is not None:
        try:
            value = secrets.get(SECRET)
        except Exception:  # no secrets file: streamlit raises its own error type
            value = None
    if value is None and environ.get(ENV_VAR):
        value = environ[ENV_VAR]
    if value is None:
        return [SAMPLES.resolve(), (cwd or Path.cwd()).resolve()]
    items: Iterable[str] = value.split(os.pathsep) if isinstance(value, str) else value
    return [Path(os.path.expanduser(str(i))).resolve() for i in items if str(i).strip()]


def check_path(path: str, roots: list[Path]) -> Path:
    """`path` resolved, if it exists and lies inside one of `roots`; else a SourceError saying why."""
    text = (path or "").strip()
    if not text:
        raise SourceError("Type the path of a folder or file on the server.")
    resolved = Path(os.path.expanduser(text)).resolve()
    if not any(resolved == r or resolved.is_relative_to(r) for r in roots):
        allowed = ", ".join(str(r) for r in roots) or "none configured"
        raise SourceError(f"Refused: {text} is outside the folders this server allows ({allowed}). "
                          f"Set {SECRET} in .streamlit/secrets.toml or {ENV_VAR} to allow more.")
    if not resolved.exists():
        raise SourceError(f"No such file or folder: {text}")
    return resolved


def path_fingerprint(path: Path) -> tuple:
    """(name, size, mtime) of every file below `path`: changes when a file is added, grows or is rotated."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    out = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        out.append((str(f), st.st_size, st.st_mtime_ns))
    return tuple(out)
