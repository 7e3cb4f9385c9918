"""Streamlit's own HTTP endpoints held to the app's sign-in, in the server process.

Streamlit serves `/_stcore/upload_file/<session>/<file>` to any open session and `/_stcore/metrics` to anyone,
with no hook for an app's sign-in. `install` (run by app.py on every script run, once per process) changes the
runtime's own objects: an upload is accepted only into a session that `allow_uploads` opened (signed in, or no
sign-in configured), and refused with 400 before its body is read; the metrics (session counts, cache names,
bytes held by uploads) are switched off: the endpoint answers with no metric at all.
"""

from __future__ import annotations

import threading
from typing import Any

from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

_LOCK = threading.Lock()
_OPEN: set[str] = set()  # sessions that may upload
_INSTALLED: list[Any] = []  # the runtime the hooks are in


def install() -> None:
    """Hold uploads to `allow_uploads` and switch the metrics off; once per server process (a no-op without a
    server runtime, as under AppTest)."""
    if not runtime.exists():
        return
    rt = runtime.get_instance()
    with _LOCK:
        if rt in _INSTALLED:
            return
        active = rt.is_active_session  # Streamlit asks only this before it reads an upload's body

        def may_upload(session_id: str) -> bool:
            with _LOCK:
                opened = session_id in _OPEN
            if not active(session_id):
                with _LOCK:
                    _OPEN.discard(session_id)  # a session that ended
                return False
            return opened

        rt.is_active_session = may_upload  # type: ignore[method-assign]
        stats = rt.stats_mgr
        stats.get_stats = lambda family_names=None: {}  # type: ignore[method-assign]
        stats.registered_families = lambda: []  # type: ignore[method-assign]
        _INSTALLED.append(rt)


def allow_uploads(allowed: bool) -> None:
    """Open this session to uploads, or close it and drop every file it holds (sent before it was closed)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    with _LOCK:
        if allowed:
            _OPEN.add(ctx.session_id)
        else:
            _OPEN.discard(ctx.session_id)
    if not allowed:
        ctx.uploaded_file_mgr.remove_session_files(ctx.session_id)


def drop_upload(file_id: str) -> None:
    """Free the bytes of one upload of this session (one the app refused): the uploader no longer returns it."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        ctx.uploaded_file_mgr.remove_file(ctx.session_id, file_id)
