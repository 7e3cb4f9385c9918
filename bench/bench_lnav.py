"""Benchmark: `python -m audit_lib summary --json` against lnav counting events per user, whole processes.

    .venv/bin/python bench/bench_lnav.py                 # every bench corpus of bench_load.py (built there)
    .venv/bin/python bench/bench_lnav.py --only f,g --runs 3

lnav (Debian's `lnav`, 0.11) reads the corpus with a WSO2 format file (bench/lnav_wso2_audit.json: MI's and API
Manager's change records and sign-in/out lines, the user of each), installed into a HOME of its own under
bench/out/, and runs `SELECT user, count(*) FROM wso2_audit GROUP BY user` headless (-n). Both run alternately,
each a fresh process, best of --runs; the peak RSS is each child's own (wait4). The counts per user of the two are
compared: the floor (summary at least 2x faster than lnav) counts only where they agree.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_load as B

ROOT = B.ROOT
FORMAT = ROOT / "bench" / "lnav_wso2_audit.json"
HOME = ROOT / "bench" / "out" / "lnav-home"
QUERY = ";SELECT user, count(*) AS n FROM wso2_audit GROUP BY user"
OPENED = ";SELECT count(*) AS n FROM lnav_file"  # lnav 0.11 leaves files out past a limit of its own, silently
MB = 1_000_000
FLOOR = 2.0


def _child(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[float, int, bytes, str]:
    """Run `cmd`: wall seconds, its peak RSS (bytes), stdout, the last line of stderr (empty when it succeeded)."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, cwd=cwd)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        err.seek(0)
        failed = (err.read().decode(errors="replace").strip().splitlines() or ["?"])[-1] \
            if os.waitstatus_to_exitcode(status) else ""
    return seconds, usage.ru_maxrss * 1024, out, failed


def install_format() -> dict:
    """lnav's environment: a HOME of its own with the WSO2 format installed."""
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    env = {**os.environ, "HOME": str(HOME)}
    subprocess.run(["lnav", "-i", str(FORMAT)], env=env, check=True, capture_output=True)
    return env


def lnav_counts(text: str) -> dict[str, int]:
    """lnav's printed table (header line, then `user n` rows) as a dict."""
    rows = [line.rsplit(None, 1) for line in text.splitlines()[1:] if line.strip()]
    return {user.strip(): int(n) for user, n in rows if n.isdigit()}


def run_lnav(files: list[Path], env: dict) -> dict:
    seconds, rss, out, failed = _child(["lnav", "-n", "-c", QUERY, *map(str, files)], env=env)
    return {"error": failed} if failed else {"seconds": seconds, "max_rss": rss,
                                              "by_user": lnav_counts(out.decode("utf-8", "replace"))}


def lnav_opened(files: list[Path], env: dict) -> int | None:
    """How many of `files` lnav opens (run apart, untimed)."""
    _, _, out, failed = _child(["lnav", "-n", "-c", OPENED, *map(str, files)], env=env)
    numbers = [int(w) for w in out.decode("utf-8", "replace").split() if w.isdigit()]
    return None if failed or not numbers else numbers[-1]


def run_summary(folder: Path, tz: str) -> dict:
    seconds, rss, out, failed = _child([sys.executable, "-m", "audit_lib", "summary", "--json", str(folder),
                                        "--tz", tz], cwd=ROOT)
    return {"error": failed} if failed else {"seconds": seconds, "max_rss": rss,
                                              "by_user": json.loads(out)["by_user"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated corpora of bench_load.py")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes for each (best kept)")
    parser.add_argument("--quick", action="store_true", help="bench_load's small corpora")
    parser.add_argument("--corpus-dir", type=Path, default=ROOT / "bench" / "corpus")
    args = parser.parse_args()
    if args.quick:
        args.corpus_dir = args.corpus_dir / "quick"
    if shutil.which("lnav") is None:
        sys.exit("lnav is not installed (apt-get install -y lnav)")
    version = subprocess.run(["lnav", "-V"], capture_output=True, text=True).stdout.strip()
    env = install_format()
    chosen = [c for c in B.corpora(args.quick) if not args.only or c.name in args.only.split(",")]
    print(f"{version}, format {FORMAT.relative_to(ROOT)}; best of {args.runs}, alternating, whole processes")
    rows = []
    for c in chosen:
        f = B.ensure(c, args.corpus_dir, False)
        folder = args.corpus_dir / c.name
        files = B.audit_files(folder)
        best: dict[str, dict | None] = {"lnav": None, "summary": None}
        for _ in range(args.runs):
            for name in ("lnav", "summary"):
                r = run_lnav(files, env) if name == "lnav" else run_summary(folder, c.tz)
                if "error" in r:
                    print(f"  ({c.name}) {name} failed: {r['error']}")
                elif best[name] is None or r["seconds"] < best[name]["seconds"]:
                    best[name] = r
        lnav, ours = best["lnav"], best["summary"]
        opened = lnav_opened(files, env)
        if lnav and ours and lnav["by_user"] == ours["by_user"]:
            agree = "same"
        elif lnav and ours:
            why = f" (lnav opened {opened} of {len(files)} files)" if opened is not None and opened < len(files) else ""
            agree = f"differ{why}: " + ", ".join(f"{k} {lnav['by_user'].get(k)} vs {v}"
                                                 for k, v in ours["by_user"].items()
                                                 if lnav["by_user"].get(k) != v)[:160]
        else:
            agree = "-"
        rows.append((c, f, lnav, ours, agree, agree == "same"))
        print(f"  ({c.name}) lnav {B._s(lnav)} s {B._mb(lnav)} MB, summary {B._s(ours)} s {B._mb(ours)} MB, "
              f"counts per user {agree}", flush=True)
    print("\n| corpus | files | lines | lnav s | lnav RSS MB | summary s | summary RSS MB | lnav/summary | "
          "counts per user |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for c, f, lnav, ours, agree, _ in rows:
        ratio = f"{lnav['seconds'] / ours['seconds']:.2f}x" if lnav and ours else "-"
        print(f"| {c.name} | {f['files']:,} | {f['lines']:,} | {B._s(lnav)} | {B._mb(lnav)} | {B._s(ours)} | "
              f"{B._mb(ours)} | {ratio} | {agree} |")
    print(f"\nFloor: summary --json at least {FLOOR:g}x faster than lnav, with the same counts per user:")
    for c, _, lnav, ours, agree, ok in rows:
        met = ok and lnav["seconds"] / ours["seconds"] >= FLOOR
        print(f"  {'met    ' if met else 'MISSED '} {c.name}" + ("" if ok else f" (counts {agree})"))


if __name__ == "__main__":
    main()
