"""Benchmark: the exports and the PDF reports.

    .venv/bin/python bench/bench_report.py [--corpus DIR] [--lines N] [--max-rows N] [--estate DIR] [--skip-corpus]

1. A quarter of a realistic estate (3 MI nodes, an API Manager and an Identity Server, 92 days from 2026-07-01, daily
   rotation, archives older than 30 days gzipped, 60 events per node and day; written with
   `audit_lib.demo.sampledata estate` when missing): the privileged activity PDF (findings, configuration check,
   sensitive actions, sessions, evidence) and the full edition with its 10,000-row appendix. Target: the
   privileged activity PDF of a quarter in under 20 s.
2. The 2,000,000-line MI corpus (created with `audit_lib.demo.sampledata.write_mi_corpus` when missing): the CSV, JSON
   Lines and Parquet exports and the privileged activity PDF. Target: CSV <= 5 s, PDF <= 20 s.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import audit_lib  # noqa: E402
from audit_lib.demo.sampledata import write_mi_corpus  # noqa: E402
from audit_lib.render.export import to_csv_bytes, to_jsonl_bytes, to_parquet_bytes  # noqa: E402
from audit_lib.report import MAX_ROWS, ReportLimits, build_report  # noqa: E402

ESTATE = ["--nodes", "mi1,mi2,mi3,apim1,is1", "--start", "2026-07-01", "--days", "92", "--rotate", "daily",
          "--gzip-after", "30", "--events-per-day", "60", "--seed", "1"]


def timed(label: str, fn):
    t0 = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - t0
    size = f"{len(out) / 1e6:8.1f} MB" if isinstance(out, bytes) else ""
    print(f"{label:<44} {secs:7.2f} s {size}")
    return out, secs


def pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def quarter(folder: Path, out: Path) -> float:
    if not folder.exists() or not any(folder.rglob("audit*.log*")):
        print(f"writing a quarter of a 5-node estate to {folder} ...")
        subprocess.run([sys.executable, "-m", "audit_lib.demo.sampledata", "estate", str(folder), *ESTATE], check=True,
                       cwd=ROOT)
    log, _ = timed("load (quarter, 5 nodes)", lambda: audit_lib.load(str(folder)))
    print(f"events {log.events.height:,}, files {log.files.height}")
    report, secs = timed("privileged activity PDF (quarter)",
                         lambda: build_report(log, sources=[str(folder)], config_source=str(folder)))
    print(f"  {pages(report.pdf)} pages, {report.findings:,} findings, {report.sensitive:,} sensitive actions, "
          f"{len(report.privileged)} privileged actors")
    (out / "quarter-privileged.pdf").write_bytes(report.pdf)
    full, _ = timed(f"full edition PDF (quarter, appendix {MAX_ROWS:,} rows)",
                    lambda: build_report(log, sources=[str(folder)], edition="full", config_source=str(folder)))
    print(f"  {pages(full.pdf)} pages")
    (out / "quarter-full.pdf").write_bytes(full.pdf)
    return secs


def corpus(folder: Path, lines: int, max_rows: int, out: Path) -> tuple[float, float]:
    if not folder.exists() or not any(folder.rglob("audit*.log*")):
        print(f"writing a {lines:,}-line corpus to {folder} ...")
        write_mi_corpus(folder, lines)
    log, _ = timed("load (2M lines)", lambda: audit_lib.load(str(folder)))
    print(f"events {log.events.height:,}, files {log.files.height}")
    _, csv_s = timed("CSV export", lambda: to_csv_bytes(log.events))
    timed("JSON Lines export", lambda: to_jsonl_bytes(log.events))
    timed("Parquet export", lambda: to_parquet_bytes(log.events))
    report, pdf_s = timed(f"privileged activity PDF (appendix {max_rows:,} rows)",
                          lambda: build_report(log, sources=[str(folder)], appendix=True,
                                               limits=ReportLimits(max_rows=max_rows)))
    (out / "report.pdf").write_bytes(report.pdf)
    print(f"  {pages(report.pdf)} pages in {out / 'report.pdf'} (its time includes the CSV it quotes)")
    return csv_s, pdf_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT / "bench" / "corpus" / "a"))  # bench_load.py's corpus (a)
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--max-rows", type=int, default=MAX_ROWS)
    ap.add_argument("--estate", default=str(ROOT / "bench" / "corpus" / "estate-quarter"))
    ap.add_argument("--skip-corpus", action="store_true", help="only the quarter of the estate")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    q = quarter(Path(args.estate), out)
    verdicts = [f"quarter privileged PDF {q:.2f} s <= 20 s {'ok' if q <= 20 else 'MISSED'}"]
    if not args.skip_corpus:
        csv_s, pdf_s = corpus(Path(args.corpus), args.lines, args.max_rows, out)
        verdicts += [f"CSV {csv_s:.2f} s <= 5 s {'ok' if csv_s <= 5 else 'MISSED'}",
                     f"2M-line PDF {pdf_s:.2f} s <= 20 s {'ok' if pdf_s <= 20 else 'MISSED'}"]
    print("targets: " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
