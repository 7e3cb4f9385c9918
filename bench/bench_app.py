"""Time every page of the app through AppTest on the benchmark corpus: first load, a rerun, a filter change.

    python -m audit_lib.demo.sampledata corpus bench/corpus/a --lines 2000000   # once (bench_load.py builds it too)
    python bench/bench_app.py [FOLDER]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import audit_lib  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["overview", "users", "artifacts", "timeline", "explorer", "quality"]


def main(folder: str) -> None:
    script = (f"import os, runpy, sys\nsys.path.insert(0, {str(ROOT)!r})\nos.environ['AUDIT_ALLOWED_ROOTS'] = "
              f"{str(Path(folder).resolve())!r}\nrunpy.run_path({str(ROOT / 'app.py')!r}, run_name='__main__')\n")
    at = AppTest.from_string(script, default_timeout=900)
    at.run()
    at.radio(key="source_kind").set_value("folder").run()
    t0 = time.perf_counter()
    at.text_input(key="folder").set_value(folder).run()
    first = time.perf_counter() - t0
    assert not at.exception, at.exception
    events = next(m.value for m in at.metric if m.label == "Events")
    t0 = time.perf_counter()
    at.selectbox(key="tz").set_value("Asia/Colombo").run()
    zone = time.perf_counter() - t0
    assert not at.exception, at.exception
    t0 = time.perf_counter()
    audit_lib.load(folder)
    load = time.perf_counter() - t0
    print(f"first open of {folder}: {first:.2f} s ({events} events); audit_lib.load alone: {load:.2f} s "
          f"(first open / load = {first / load:.1f}x); time zone changed: {zone:.2f} s (no file read again)")
    print(f"{'page':<10} {'render':>8} {'rerun':>8} {'filter':>8}")
    user = at.multiselect(key="f_users").options[0]
    for name in PAGES:
        at.multiselect(key="f_users").set_value([]).run()
        t0 = time.perf_counter()
        at.switch_page(str(ROOT / "pages" / f"{name}.py")).run()
        render = time.perf_counter() - t0
        t0 = time.perf_counter()
        at.run()
        rerun = time.perf_counter() - t0
        t0 = time.perf_counter()
        at.multiselect(key="f_users").set_value([user]).run()
        filt = time.perf_counter() - t0
        assert not at.exception, (name, at.exception)
        print(f"{name:<10} {render:>7.2f}s {rerun:>7.2f}s {filt:>7.2f}s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "bench" / "corpus" / "a"))
