"""Signal worth acting on: a year of five nodes (3 MI, API-M, IS) with planted incidents, and the same year without.

    .venv/bin/python bench/bench_signal.py [--days 365] [--incidents 8] [--seed 1] [--events-per-day 40]

Writes the estate twice into a temporary folder (the same ordinary work; the second time with the incidents,
each of a different rule, from `audit_lib.demo.estate.INCIDENTS`), loads each, evaluates every shipped rule with
the manifest's nodes and the scope's span, and prints:

- incidents found x/N: a finding of the incident's rule on its node overlapping its days;
- other HIGH days: days with a HIGH finding that is not about a planted incident (target: at most 3);
- quiet HIGHs: HIGH findings on the estate without incidents (target: none);
- every finding per rule and severity on both, so a rule that got noisy shows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import audit_lib  # noqa: E402
from audit_lib.analysis.filters import Filters, known_nodes, scope_span  # noqa: E402
from audit_lib.checks.findings import findings  # noqa: E402
from audit_lib.demo.estate import incident_findings, other_days, write_estate  # noqa: E402

NODES = ["mi1", "mi2", "mi3", "apim1", "is1"]
TZ = "Asia/Kolkata"


def evaluate(folder: Path) -> list:
    log = audit_lib.load(folder, tz=TZ)
    scope = Filters()
    return findings(log.events, nodes=known_nodes(log.files, scope), span=scope_span(scope, log.files)), log


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--incidents", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--events-per-day", type=float, default=40)
    ap.add_argument("--start", default="2025-12-01")
    args = ap.parse_args()
    kw = dict(start=date.fromisoformat(args.start), days=args.days, events_per_day=args.events_per_day,
              seed=args.seed, tz=TZ)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        quiet_dir, noisy_dir = Path(tmp) / "quiet", Path(tmp) / "incidents"
        write_estate(quiet_dir, NODES, **kw)
        written = write_estate(noisy_dir, NODES, incidents=args.incidents, **kw)
        quiet, quiet_log = evaluate(quiet_dir)
        found, log = evaluate(noisy_dir)
        took = time.perf_counter() - t0
    hits = incident_findings(written.incidents, found, TZ)
    print(f"{len(NODES)} nodes, {args.days} days from {args.start}, seed {args.seed}: "
          f"{quiet_log.events.height:,} events without incidents, {log.events.height:,} with "
          f"({took:.1f} s to write, load and evaluate both)")
    print()
    print("Planted incidents:")
    for inc, fs in hits.items():
        mark = "found " if fs else "MISSED"
        print(f"  {mark} {inc}")
        for f in fs[:2]:
            print(f"           {f.severity.upper():<6} {f.summary[:150]}")
    others = other_days(written.incidents, found, TZ)
    quiet_high = [f for f in quiet if f.severity == "high"]
    print()
    print("Findings per rule and severity (without incidents / with):")
    a = Counter((f.rule, f.severity) for f in quiet)
    b = Counter((f.rule, f.severity) for f in found)
    for key in sorted(set(a) | set(b), key=lambda k: (k[1] != "high", k)):
        print(f"  {key[1]:<7} {key[0]:<36} {a.get(key, 0):>6} {b.get(key, 0):>6}")
    print()
    print(f"incidents found {sum(1 for fs in hits.values() if fs)}/{len(hits)}")
    print(f"other HIGH days {len(others)}" + (f" ({', '.join(map(str, others[:10]))})" if others else ""))
    print(f"quiet HIGHs {len(quiet_high)}")
    for f in quiet_high[:10]:
        print(f"  {f.summary[:150]}")
    ok = all(hits.values()) and len(others) <= 3 and not quiet_high
    print("target met" if ok else "target NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
