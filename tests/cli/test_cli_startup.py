"""A command imports only what it needs: `summary` over files starts without the report's, the charts', the store's
or the app's dependencies (read from a fresh interpreter's sys.modules)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["altair", "vl_convert", "fpdf", "deltalake", "ray", "streamlit", "pyarrow", "audit_lib.report",
         "audit_lib.render.charts", "audit_lib.store", "audit_lib.checks", "audit_lib.analysis.filters", "dateutil"]
PROBE = """
import io, json, sys, contextlib
from audit_lib.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "events": json.loads(out.getvalue())["events"],
                  "loaded": sorted(m for m in %r if m in sys.modules)}))
"""


def _run(*argv: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE % (HEAVY,), *argv], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_summary_of_files_imports_none_of_the_heavy_packages() -> None:
    got = _run("summary", "--json", "samples")
    assert got["code"] == 0 and got["events"] > 1000
    assert got["loaded"] == []


def test_summary_of_a_store_is_run_by_the_module_that_reads_stores(tmp_path: Path) -> None:
    """The dispatch hands `summary --store` to `cli.store`: the same figures as the files give."""
    store = tmp_path / "store"
    subprocess.run([sys.executable, "-m", "audit_lib", "ingest", "samples", "--store", str(store)], cwd=ROOT,
                   capture_output=True, check=True)
    files, stored = _run("summary", "--json", "samples"), _run("summary", "--json", "--store", str(store))
    assert stored["code"] == 0 and stored["events"] == files["events"]
    assert "audit_lib.store" in stored["loaded"] and "deltalake" in stored["loaded"]
    bad = subprocess.run([sys.executable, "-m", "audit_lib", "summary", "samples", "--store", str(store)], cwd=ROOT,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.strip() == "error: give PATH... or --store DIR, not both"
    none = subprocess.run([sys.executable, "-m", "audit_lib", "summary"], cwd=ROOT, capture_output=True, text=True)
    assert none.returncode == 1 and "give PATH..." in none.stderr and "Traceback" not in none.stderr


def test_the_whole_parser_still_knows_every_command() -> None:
    out = subprocess.run([sys.executable, "-m", "audit_lib", "--help"], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    for command in ("summary", "ingest", "verify", "report", "findings", "sessions", "review", "export", "watch"):
        assert command in out.stdout
    bad = subprocess.run([sys.executable, "-m", "audit_lib", "summry"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "summary" in bad.stderr
