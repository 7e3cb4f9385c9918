"""Benchmark: the exports and the PDF report of a 2,000,000-line MI corpus.

    .venv/bin/python bench/bench_report.py [--corpus DIR] [--lines N] [--max-rows N]

Creates the corpus with `audit_lib.sampledata.write_mi_corpus` when it is missing, loads it once, then
times the CSV, JSON Lines and Parquet exports and the PDF (appendix capped at --max-rows). Targets:
CSV <= 5 s, PDF <= 20 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import audit_lib  # noqa: E402
from audit_lib.export import to_csv_bytes, to_jsonl_bytes, to_parquet_bytes  # noqa: E402
from audit_lib.report import MAX_ROWS, build_report  # noqa: E402
from audit_lib.sampledata import write_mi_corpus  # noqa: E402


def timed(label: str, fn):
    t0 = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - t0
    size = f"{len(out) / 1e6:8.1f} MB" if isinstance(out, bytes) else ""
    print(f"{label:<32} {secs:7.2f} s {size}")
    return out, secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", default=str(ROOT / "bench" / "corpus" / "a"))  # bench_load.py's corpus (a)
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--max-rows", type=int, default=MAX_ROWS)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out"))
    args = ap.parse_args()
    corpus = Path(args.corpus)
    if not corpus.exists() or not any(corpus.rglob("audit*.log*")):
        print(f"writing a {args.lines:,}-line corpus to {corpus} ...")
        write_mi_corpus(corpus, args.lines)
    log, _ = timed("load", lambda: audit_lib.load(str(corpus)))
    print(f"events {log.events.height:,}, files {log.files.height}")
    _, csv_s = timed("CSV export", lambda: to_csv_bytes(log.events))
    timed("JSON Lines export", lambda: to_jsonl_bytes(log.events))
    timed("Parquet export", lambda: to_parquet_bytes(log.events))
    report, pdf_s = timed(f"PDF (appendix {args.max_rows:,} rows)",
                          lambda: build_report(log, sources=[str(corpus)], max_rows=args.max_rows))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.pdf").write_bytes(report.pdf)
    print(f"PDF {len(report.pdf) / 1e6:.1f} MB in {out / 'report.pdf'} (its time includes the CSV it quotes)")
    print(f"targets: CSV {csv_s:.2f} s <= 5 s {'ok' if csv_s <= 5 else 'MISSED'}; "
          f"PDF {pdf_s:.2f} s <= 20 s {'ok' if pdf_s <= 20 else 'MISSED'}")


if __name__ == "__main__":
    main()
