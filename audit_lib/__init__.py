"""audit_lib: load, analyse and report the audit.log files of WSO2 Micro Integrator, API Manager and
Identity Server.

    import audit_lib
    log = audit_lib.load("samples/", tz="UTC")
    log.events, log.rejects, log.files
"""

import os

# polars allocates through jemalloc, which by default keeps freed pages for seconds: a large load would
# then hold about twice its final size. Hand them back within 0.1 s, from a background thread (set the
# variable yourself to override; it only counts before polars is first imported).
os.environ.setdefault("_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:100,muzzy_decay_ms:0")


def _glibc_returns_large_blocks() -> None:
    """glibc raises its mmap threshold as large blocks are freed, after which the reader's multi-MB buffers
    come from the heap and stay in the process: pin the threshold at 1 MB so they go back to the system."""
    import ctypes
    import sys

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
            libc.mallopt(-1, 4 << 20)  # M_TRIM_THRESHOLD
        except (OSError, AttributeError):  # not glibc: nothing to do
            pass


_glibc_returns_large_blocks()

from audit_lib.findings import Finding, Settings, findings, load_rules  # noqa: E402
from audit_lib.loader import AuditLog, check_tz, load, load_entries  # noqa: E402
from audit_lib.sessions import sessions, with_sessions  # noqa: E402
from audit_lib.sources import SourceError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["AuditLog", "Finding", "Settings", "SourceError", "check_tz", "findings", "load", "load_entries",
           "load_rules", "sessions", "with_sessions", "__version__"]
