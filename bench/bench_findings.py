"""Benchmark: sessions and findings on 2,000,000 events.

    .venv/bin/python bench/bench_findings.py [--events N]

The events are the bundled samples (MI, API-M and IS, every rule kind has something to look at) repeated
over 50 nodes and as many 26-day periods as needed, so sign-ins, bursts and gaps keep their real shapes.
Target: sessions plus findings under 5 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

import audit_lib  # noqa: E402
from audit_lib.analysis.sessions import sessions  # noqa: E402
from audit_lib.checks.findings import findings  # noqa: E402

NODES = 50


def corpus(n: int) -> pl.DataFrame:
    """`n` events made of copies of the samples, on NODES nodes per product node, period after period."""
    base = audit_lib.load(ROOT / "samples").events
    period = timedelta(days=26)
    copies = -(-n // base.height)
    cats = [c for c, t in base.schema.items() if isinstance(t, pl.Categorical)]
    frames = [base.with_columns(timestamp=pl.col("timestamp") + period * (k // NODES),
                                node=pl.col("node").cast(pl.String) + f"-{k % NODES}")
              for k in range(copies)]
    return pl.concat(frames).head(n).sort("timestamp", maintain_order=True).with_columns(
        [pl.col(c).cast(pl.Categorical) for c in cats])


def timed(label: str, fn):
    t0 = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - t0
    print(f"{label:<28} {secs:7.2f} s")
    return out, secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=2_000_000)
    args = ap.parse_args()
    events, _ = timed(f"build {args.events:,} events", lambda: corpus(args.events))
    table, s1 = timed("sessions", lambda: sessions(events))
    found, s2 = timed("findings (all rules)", lambda: findings(events))
    print(f"{table.height:,} sessions, {len(found):,} findings; sessions + findings {s1 + s2:.2f} s (target < 5 s)")


if __name__ == "__main__":
    main()
