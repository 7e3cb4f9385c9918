"""How the process's allocators hand memory back: large loads should neither keep it nor pay to fault it in
again and again."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

# polars allocates through jemalloc, which by default keeps freed pages for seconds: a large load would then
# hold about twice its final size. Purge them after 0.1 s (longer bought no speed in bench_load, only memory).
# Set the variable yourself to override; it only counts before polars is first imported.
JEMALLOC_CONF = "background_thread:true,dirty_decay_ms:100,muzzy_decay_ms:0"
# glibc's threshold above which a block gets its own mapping: fixed above the reader's buffers (a few MB), so
# they are reused from the heap instead of being mapped, faulted in and unmapped for each chunk
MMAP_THRESHOLD = 64 << 20


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def configure() -> None:
    """Set both allocators up; called once when audit_lib is imported."""
    os.environ.setdefault("_RJEM_MALLOC_CONF", JEMALLOC_CONF)
    if (libc := _libc()) is not None:
        with contextlib.suppress(AttributeError):  # not glibc
            libc.mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD (fixing it also stops glibc moving it)
            libc.mallopt(-1, 32 << 20)  # M_TRIM_THRESHOLD: free space kept at the top of the heap


def give_back() -> None:
    """Return the heap's free pages to the system (after a load, its buffers are free but still resident)."""
    if (libc := _libc()) is not None:
        with contextlib.suppress(AttributeError):
            libc.malloc_trim(0)
