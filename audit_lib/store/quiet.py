"""Failures of the Rust table readers: one line for a message (the text of a panic goes to the log), and their
output on descriptor 2 kept off the user's terminal."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

_log = logging.getLogger("audit_lib.store.tables")
_PANIC_WORDS = ("panicked", "Panic", "unwrap()", "assertion failed", "RUST_BACKTRACE")


def failure(exc: BaseException) -> str:
    """The first line of an error from the table readers, for a message; the text of a Rust panic stays in the
    log (it says nothing a user can act on)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if type(exc).__name__ == "PanicException" or any(w in text for w in _PANIC_WORDS):
        _log.info("table reader failed: %s", str(exc))
        return "the table reader failed on a data file that is damaged or not what its log records"
    return text[:300]


_quiet = threading.Lock()
_quiet_state: dict[str, Any] = {"depth": 0}


@contextmanager
def quiet_rust() -> Iterator[None]:
    """Keep what the Rust readers print when they panic (a message and a backtrace per thread, on file
    descriptor 2) off the user's terminal: it goes to the log. Python's own `sys.stderr` keeps the terminal.
    Nested and concurrent uses (threads of a server) share one redirection, undone by the last to leave."""
    os.environ.pop("RUST_BACKTRACE", None)
    with _quiet:
        if _quiet_state["depth"] == 0:
            try:
                _quiet_redirect()
            except OSError:
                _log.info("stderr of the table readers left as it is", exc_info=True)
        _quiet_state["depth"] += 1
    try:
        yield
    finally:
        with _quiet:
            _quiet_state["depth"] -= 1
            if _quiet_state["depth"] == 0 and "saved" in _quiet_state:
                _quiet_restore()


def _quiet_redirect() -> None:
    saved = os.dup(2)
    sink = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _quiet_restore)
    sys.stdout.flush()
    sys.stderr.flush()
    _quiet_state.update(saved=saved, sink=sink, stderr=sys.stderr)
    sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1, errors="backslashreplace",
                           encoding=getattr(sys.stderr, "encoding", None))
    os.dup2(sink.fileno(), 2)


def _quiet_restore() -> None:
    saved, sink = _quiet_state.pop("saved"), _quiet_state.pop("sink")
    os.dup2(saved, 2)
    os.close(saved)
    with suppress(Exception):
        sys.stderr.close()
    sys.stderr = _quiet_state.pop("stderr")
    sink.seek(0)
    if text := sink.read().decode("utf-8", "replace").strip():
        _log.info("table readers wrote: %s", text[:20000])
    sink.close()


def fatal(exc: BaseException) -> bool:
    """Errors that must not be turned into a message: the user stopping the program."""
    return isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit)


