"""The allocator settings made when audit_lib is imported."""

import os
import subprocess
import sys

from audit_lib import memory


def _run(code: str, env: dict[str, str]) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()


def test_import_sets_the_jemalloc_purge_unless_the_user_did():
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    code = "import audit_lib, polars, os; print(os.environ.get('_RJEM_MALLOC_CONF'))"  # polars after the package
    # polars puts its own defaults in front: jemalloc reads the options in order, so the last ones count
    assert _run(code, env).endswith(memory.JEMALLOC_CONF)
    assert _run(code, {**env, "_RJEM_MALLOC_CONF": "dirty_decay_ms:7"}).endswith(",dirty_decay_ms:7")


def test_give_back_returns_freed_heap_pages():
    code = ("import audit_lib\nfrom audit_lib.memory import give_back\n"
            "def rss(): return int(open('/proc/self/statm').read().split()[1]) * 4096\n"
            "blocks = [bytearray(2 << 20) for _ in range(100)]\n"  # 200 MB from the heap (under the threshold)
            "for b in blocks: b[::4096] = b'x' * len(b[::4096])\n"
            "full = rss(); del blocks[:-1]; give_back(); print(full - rss())")
    if not sys.platform.startswith("linux"):
        return
    assert int(_run(code, dict(os.environ))) > 150 << 20
