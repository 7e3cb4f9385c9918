"""`python -m audit_lib report PATH... --pdf FILE [--csv FILE] [--jsonl FILE] [--parquet FILE]`: the compliance
report of a scope for scheduled runs, with the same content as the app's Reports page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audit_lib.cli import CliError
from audit_lib.export import export_bytes, sha256_hex
from audit_lib.filters import Filters, apply_filters, parse_when
from audit_lib.loader import check_tz, load
from audit_lib.report.build import MAX_ROWS, build_report


def add_report_command(sub: argparse._SubParsersAction) -> None:
    """Register the `report` subcommand on the CLI's subparsers."""
    p = sub.add_parser("report", help="write a PDF compliance report (and CSV / JSON Lines / Parquet exports)",
                       description="Write the compliance report of the events in PATH... within the scope given by "
                                   "the options. Dates accept anything python-dateutil reads; a bare --to date "
                                   "includes that whole day.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="folders (searched recursively), files or globs")
    p.add_argument("--from", dest="start", metavar="DATE", help="first time to include, e.g. 2026-11-01")
    p.add_argument("--to", dest="end", metavar="DATE", help="last day or time to include, e.g. 2026-11-07")
    p.add_argument("--tz", default="UTC", help="time zone the log times are written in (default UTC)")
    p.add_argument("--user", action="append", default=[], metavar="U", help="only this user (repeatable)")
    p.add_argument("--type", action="append", default=[], metavar="T", help="only this artifact type (repeatable)")
    p.add_argument("--action", action="append", default=[], metavar="A", help="only this action (repeatable)")
    p.add_argument("--node", action="append", default=[], metavar="N", help="only this node (repeatable)")
    p.add_argument("--pdf", required=True, metavar="FILE", help="write the PDF report here")
    p.add_argument("--csv", metavar="FILE", help="write every event in scope as CSV (the companion CSV)")
    p.add_argument("--jsonl", metavar="FILE", help="write every event in scope as JSON Lines")
    p.add_argument("--parquet", metavar="FILE", help="write every event in scope as Parquet")
    p.add_argument("--max-rows", type=int, default=MAX_ROWS, metavar="N",
                   help=f"events printed in the appendix (default {MAX_ROWS:,}); the CSV always holds all")
    p.add_argument("--allow-empty", action="store_true", help="write a report that says so when no event is in scope")
    p.set_defaults(func=run_report)


def scope_from_args(args: argparse.Namespace) -> Filters:
    """The Filters named by the report options (raises FilterError for a date that does not parse)."""
    tz = check_tz(args.tz)
    start = parse_when(args.start, tz) if args.start else None
    end = parse_when(args.end, tz, end=True) if args.end else None
    return Filters(start=start, end=end, users=tuple(args.user), actions=tuple(args.action),
                   artifact_types=tuple(args.type), nodes=tuple(args.node))


def run_report(args: argparse.Namespace) -> int:
    if args.max_rows < 0:
        raise CliError("--max-rows must be 0 or more")
    filters = scope_from_args(args)
    log = load(args.paths, tz=args.tz)
    report = build_report(log, filters, sources=args.paths, max_rows=args.max_rows)
    if report.events == 0 and not args.allow_empty:
        raise CliError(f"No events in scope ({filters.describe(args.tz)}); nothing written. "
                       "Use --allow-empty to write a report that says so.")
    pdf_path = Path(args.pdf)
    csv_path = Path(args.csv) if args.csv else None
    if csv_path is None and report.truncated:  # the PDF quotes the CSV that holds every event: keep it with it
        csv_path = pdf_path.with_suffix(".csv")
    pdf_path.write_bytes(report.pdf)
    print(f"PDF      {pdf_path}  ({report.events:,} events, appendix {report.appendix_rows:,} rows)")
    if csv_path is not None:
        csv_path.write_bytes(report.csv)
        print(f"CSV      {csv_path}  sha256 {report.csv_sha256}")
    scoped = None
    for fmt, target in [("jsonl", args.jsonl), ("parquet", args.parquet)]:
        if target:
            if scoped is None:
                scoped = apply_filters(log.events, filters)
            data = export_bytes(scoped, fmt)
            Path(target).write_bytes(data)
            print(f"{fmt:<8} {target}  sha256 {sha256_hex(data)}")
    if report.events == 0:
        print("note: no events in scope; the report says so", file=sys.stderr)
    return 0
