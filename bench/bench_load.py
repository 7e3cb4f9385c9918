"""Benchmark: audit_lib.load on a 2,000,000-line MI corpus against a plain per-line Python parser.

    .venv/bin/python bench/bench_load.py [--lines N] [--corpus DIR]

Each contender runs in a fresh process so its peak memory (max RSS) is its own. Prints lines/s, the speed
ratio and peak RSS against the corpus size.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]\s+([A-Z]+)\s+\{([^}]*)\}\s+-\s+(.*)$")
SESSION = re.compile(r"^(\S+) logged (in|out) at \[")


def baseline(folder: Path):
    """The obvious hand-written parser: a `for line in file` loop with re and json.loads."""
    import polars as pl

    rows = []
    for path in sorted(folder.rglob("audit*.log*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                m = HEADER.match(line.rstrip("\n"))
                if not m:
                    continue
                ts, level, _logger, body = m.groups()
                if body.startswith("{"):
                    rec = json.loads(body)
                    info = json.loads(rec["info"]) if isinstance(rec["info"], str) else rec["info"]
                    artifact = next((v for k, v in info.items() if k.endswith(("Name", "Id"))), None)
                    rows.append((ts, level, rec["performedBy"], rec["action"], rec.get("type"), artifact,
                                 json.dumps(info, separators=(",", ":")), str(path), n))
                elif s := SESSION.match(body):
                    rows.append((ts, level, s.group(1), "logged_" + s.group(2), "session", s.group(1), None,
                                 str(path), n))
    df = pl.DataFrame(rows, schema=["ts", "level", "user", "action", "artifact_type", "artifact", "details",
                                    "source", "line"], orient="row")
    return df.with_columns(pl.col("ts").str.strptime(pl.Datetime("ms"), "%Y-%m-%d %H:%M:%S,%3f"))


def run_one(which: str, folder: Path) -> None:
    import audit_lib

    t0 = time.perf_counter()
    n = audit_lib.load(folder).events.height if which == "load" else baseline(folder).height
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"which": which, "seconds": seconds, "events": n, "max_rss": rss}))


def measure(which: str, folder: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", which, "--corpus", str(folder)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--corpus", type=Path, default=ROOT / "bench" / "corpus")
    parser.add_argument("--one", choices=["load", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of audit_lib.load (best is kept)")
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.corpus)
        return

    from audit_lib.sampledata import write_mi_corpus

    files = list(args.corpus.rglob("audit*.log*"))
    lines = sum(len(p.read_bytes().splitlines()) for p in files)
    if lines != args.lines:
        print(f"writing a {args.lines:,}-line corpus to {args.corpus} …")
        import shutil

        shutil.rmtree(args.corpus, ignore_errors=True)
        write_mi_corpus(args.corpus, args.lines)
        files = list(args.corpus.rglob("audit*.log*"))
        lines = args.lines
    size = sum(p.stat().st_size for p in files)
    loads = [measure("load", args.corpus) for _ in range(args.runs)]
    best = min(loads, key=lambda r: r["seconds"])
    base = measure("baseline", args.corpus)
    runs = ", ".join(f"{r['seconds']:.2f}" for r in loads)
    print(f"corpus        {lines:,} lines, {size / 1e6:,.0f} MB in {len(files)} files")
    print(f"audit_lib     {best['seconds']:.2f} s  ({lines / best['seconds'] / 1e6:.2f} M lines/s), "
          f"{best['events']:,} events, peak RSS {best['max_rss'] / 1e6:,.0f} MB "
          f"({best['max_rss'] / size:.2f}x input); runs: {runs} s")
    print(f"baseline      {base['seconds']:.2f} s  ({lines / base['seconds'] / 1e6:.2f} M lines/s), "
          f"{base['events']:,} events, peak RSS {base['max_rss'] / 1e6:,.0f} MB")
    print(f"speed-up      {base['seconds'] / best['seconds']:.1f}x")


if __name__ == "__main__":
    main()
