"""`python -m audit_lib report PATH... --pdf FILE [--edition privileged|full] [--appendix] [--privileged ACTOR ...]
[--csv FILE] [--findings FILE] [--jsonl FILE] [--parquet FILE]`: the compliance report of a scope for scheduled
runs, with the same content as the app's Reports page. Beside the PDF: its SHA-256 (`<pdf>.sha256`, in `sha256sum`
format), the companion CSV of every event in scope and the findings as JSON Lines, whose SHA-256 the PDF quotes."""

from __future__ import annotations

import argparse
import glob
import os
import stat
import sys
import tempfile
from pathlib import Path

from audit_lib.analysis.compliance import load_categories
from audit_lib.analysis.filters import apply_filters
from audit_lib.cli.common import CliError, add_paths, add_store_option
from audit_lib.cli.logs import load_from_args
from audit_lib.cli.scope import add_rules_options, add_scope_options, rules_from_args, scope_from_args
from audit_lib.intake.loader import AuditLog, check_tz
from audit_lib.intake.names import file_kind
from audit_lib.render.export import export_bytes, sha256_hex
from audit_lib.render.textsafe import terminal
from audit_lib.report import EDITIONS, ReportLimits, build_report
from audit_lib.report.evidence import parse_period
from audit_lib.store import Store, open_store_log

OUTPUT_NAMES = {"sha256": "the PDF's checksum file"}


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the `report` subcommand on the CLI's subparsers."""
    p = sub.add_parser("report", help="write a PDF compliance report (and CSV / JSON Lines / Parquet exports)",
                       description="Write the compliance report of the events in PATH... within the scope given by "
                                   "the options. Dates accept anything python-dateutil reads; a bare --to date "
                                   "includes that whole day.")
    add_paths(p)
    add_store_option(p)  # or --store DIR: the events of an event store (times in its zone, or read in --tz)
    add_scope_options(p, people=True)
    p.add_argument("--pdf", required=True, metavar="FILE",
                   help="write the PDF report here, and its SHA-256 beside it (FILE.sha256)")
    p.add_argument("--edition", choices=EDITIONS, default="privileged",
                   help="privileged (default): findings, sensitive actions, sessions of privileged actors and "
                        "evidence; full: also activity charts, per user and artifact type tables, sign-ins and "
                        "the appendix")
    p.add_argument("--appendix", action=argparse.BooleanOptionalAction, default=None,
                   help="print every event in scope at the end (default: only in the full edition)")
    p.add_argument("--privileged", action="extend", nargs="+", metavar="ACTOR",
                   help="the privileged actors whose sessions are listed (default: those who created users, changed "
                        "roles, permissions, passwords or log levels)")
    p.add_argument("--csv", metavar="FILE", help="write every event in scope as CSV, the companion CSV whose SHA-256 "
                                                  "the PDF quotes (default: next to the PDF, named like it)")
    p.add_argument("--findings", metavar="FILE", help="write the findings with their events as JSON Lines, whose "
                                                       "SHA-256 the PDF quotes (default: next to the PDF, "
                                                       "<name>.findings.jsonl)")
    p.add_argument("--jsonl", metavar="FILE", help="write every event in scope as JSON Lines")
    p.add_argument("--parquet", metavar="FILE", help="write every event in scope as Parquet")
    p.add_argument("--max-rows", type=int, default=ReportLimits.max_rows, metavar="N",
                   help=f"events printed in the appendix (default {ReportLimits.max_rows:,}); the CSV always holds all")
    p.add_argument("--max-per-category", type=int, default=ReportLimits.max_per_category, metavar="N",
                   help=f"sensitive actions printed per category (default {ReportLimits.max_per_category})")
    p.add_argument("--findings-per-rule", type=int, default=ReportLimits.findings_per_rule, metavar="N",
                   help=f"findings of a rule printed with their events (default {ReportLimits.findings_per_rule})")
    p.add_argument("--events-per-finding", type=int, default=ReportLimits.events_per_finding, metavar="N",
                   help=f"events printed under each of those findings (default {ReportLimits.events_per_finding})")
    p.add_argument("--categories", metavar="FILE",
                   help="categories of sensitive actions (default: audit_lib/analysis/sensitive_actions.json)")
    p.add_argument("--category", action="append", default=[], metavar="ID",
                   help="also count this category that is off by default, e.g. capp-deployment (repeatable)")
    add_rules_options(p)
    p.add_argument("--compare", action=argparse.BooleanOptionalAction, default=None,
                   help="compare the evidence with the previous period: nodes gone silent, fewer files, days or "
                        "events (default: with --store, --compare-with or --comparison)")
    p.add_argument("--compare-with", metavar="START..END",
                   help="the period to compare with, e.g. 2026-10-01..2026-10-31 (default: as many days right before "
                        "the scope)")
    p.add_argument("--sources", nargs="+", metavar="PATH",
                   help="with --store: the folders the store was ingested from; the evidence names every recorded "
                        "file of both periods now missing or altered there")
    p.add_argument("--comparison", metavar="FILE", help="write the comparison with the previous period as JSON "
                                                         "(its SHA-256 is on the cover)")
    p.add_argument("--allow-empty", action="store_true", help="write a report that says so when no event is in scope")
    p.set_defaults(func=run_report)


def output_paths(args: argparse.Namespace) -> dict[str, Path]:
    """What to write where: the PDF, its SHA-256 (`<pdf>.sha256`), the companion CSV and the findings (next to the
    PDF unless --csv / --findings say otherwise: the PDF quotes their SHA-256) and the optional JSON Lines and
    Parquet files."""
    pdf = Path(args.pdf).expanduser()
    out = {"pdf": pdf, "sha256": pdf.with_name(pdf.name + ".sha256"),
           "csv": Path(args.csv).expanduser() if args.csv else pdf.with_suffix(".csv"),
           "findings": (Path(args.findings).expanduser() if getattr(args, "findings", None)
                        else pdf.with_suffix(".findings.jsonl"))}
    for fmt in ("jsonl", "parquet", "comparison"):
        if getattr(args, fmt, None):
            out[fmt] = Path(getattr(args, fmt)).expanduser()
    return out


def _inputs(paths: list[str]) -> tuple[list[Path], list[Path]]:
    """The folders and the files named by the PATH arguments (globs expanded), symlinks resolved."""
    folders, files = [], []
    for p in paths:
        for name in (glob.glob(os.path.expanduser(p), recursive=True) if glob.has_magic(p) else [p]):
            try:
                path = Path(name).expanduser().resolve()
            except (OSError, RuntimeError, ValueError):
                continue
            if path.is_dir():
                folders.append(path)
            elif path.exists():
                files.append(path)
    return folders, files


def check_outputs(outputs: dict[str, Path], paths: list[str], log: AuditLog | None = None) -> dict[str, Path]:
    """The outputs resolved (symlinks followed), or a CliError when one would overwrite a log: an input file
    (the same path or a hard link to it), a file inside a scanned folder, or when two outputs are one file.
    With `log`, the files it was read from count as inputs too."""
    folders, files = _inputs(paths)
    if log is not None:
        files += [e.path for e in log.entries.values() if e.path is not None]
    resolved: dict[str, Path] = {}
    for kind, path in outputs.items():
        name = OUTPUT_NAMES.get(kind, f"--{kind}")
        shown = terminal(str(path))
        try:
            target = path.resolve()
        except (OSError, RuntimeError, ValueError) as exc:
            raise CliError(f"{name} {shown}: cannot be resolved ({exc})") from None
        if target.is_dir():
            raise CliError(f"{name} {shown} is a folder; give a file name")
        if what := _not_regular(target):
            raise CliError(f"{name} {shown} is a {what}, not a regular file: refusing to write to it (nothing "
                           "written)")
        if not target.parent.is_dir():
            raise CliError(f"{name} {shown}: the folder {terminal(str(target.parent))} does not exist")
        inside = next((f for f in folders if target == f or target.is_relative_to(f)), None)
        if inside is not None:
            raise CliError(f"{name} {shown} lies inside the scanned folder {terminal(str(inside))}: "
                           "write reports outside the logs")
        if any(target == f or _same_file(target, f) for f in files):
            raise CliError(f"{name} {shown} is one of the input logs: refusing to overwrite it")
        other = next((k for k, t in resolved.items() if t == target), None)
        if other is not None:
            raise CliError(f"{name} and {OUTPUT_NAMES.get(other, '--' + other)} name the same file {shown}")
        resolved[kind] = target
    return resolved


def _not_regular(target: Path) -> str | None:
    """What `target` is when it exists and is not a regular file (a device, FIFO, socket, folder), else None:
    such a path is never replaced by a file, nor are companions written beside it."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"path that cannot be checked ({exc.strerror or exc})"
    return None if stat.S_ISREG(mode) else file_kind(mode)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def write_all(items: list[tuple[Path, bytes]]) -> None:
    """Write every (path, bytes) to a temporary file in the path's folder, then rename them all into place;
    when any write fails, no path is touched and the temporary files are removed."""
    umask = os.umask(0)
    os.umask(umask)
    temps: list[tuple[Path, Path]] = []
    try:
        for target, data in items:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
            temps.append((Path(tmp), target))
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            try:
                mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~umask
            except OSError:
                mode = 0o666 & ~umask
            os.chmod(tmp, mode)
        for _, target in temps:  # checked again: a device or FIFO put there since is not replaced either
            if kind := _not_regular(target):
                raise CliError(f"{terminal(str(target))} is a {kind}, not a regular file: nothing written")
        for tmp, target in temps:
            os.replace(tmp, target)
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)


def run_report(args: argparse.Namespace) -> int:
    for name in ("max_rows", "max_per_category", "findings_per_rule", "events_per_finding"):
        if getattr(args, name) < 0:
            raise CliError(f"--{name.replace('_', '-')} must be 0 or more")
    store = None
    if args.store and not args.paths:  # opened once: the evidence reads the version the events were read from
        store = Store(args.store)
    args.tz = args.tz or (store.tz if store is not None else "UTC")  # a store's times as they were ingested
    filters = scope_from_args(args, args.tz)
    categories = load_categories(args.categories, enable=args.category)
    rules, settings = rules_from_args(args)
    if args.sources and not args.store:
        raise CliError("--sources names the folders an event store was ingested from: use it with --store DIR")
    if args.compare is False and (args.compare_with or args.comparison):
        raise CliError("--no-compare with --compare-with or --comparison: choose one")
    compare_with = parse_period(args.compare_with, check_tz(args.tz)) if args.compare_with else None
    inputs = [*args.paths, *(args.sources or [])]
    check_outputs(output_paths(args), inputs)  # before the (long) load: refuse early
    # a store opened once, else PATH... (or both, refused there)
    log = open_store_log(store, args.tz) if store is not None else load_from_args(args)
    sources = args.paths or [f"event store {args.store}"]
    targets = check_outputs(output_paths(args), inputs, log)  # and the files actually read
    limits = ReportLimits(max_rows=args.max_rows, max_per_category=args.max_per_category,
                          findings_per_rule=args.findings_per_rule, events_per_finding=args.events_per_finding)
    report = build_report(log, filters, sources=sources, edition=args.edition, appendix=args.appendix,
                          privileged=args.privileged, categories=categories, rules=rules, settings=settings,
                          config_source=None if args.no_config else args.paths, limits=limits, store=store,
                          store_sources=args.sources, compare=True if args.comparison else args.compare,
                          compare_with=compare_with)
    if report.events == 0 and not args.allow_empty:
        raise CliError(f"No events in scope ({terminal(filters.describe(args.tz))}); nothing written. "
                       "Use --allow-empty to write a report that says so.")
    data = {"pdf": report.pdf, "sha256": report.sha256_line(targets["pdf"].name).encode("utf-8"),
            "csv": report.csv, "findings": report.findings_jsonl, "comparison": report.comparison_json}
    if "comparison" in targets and report.comparison is None:
        raise CliError("No period to compare: the scope has no time range and no events, or no period comes before "
                       "it (give one with --compare-with); nothing written")
    scoped = None
    for fmt in ("jsonl", "parquet"):
        if fmt in targets:
            if scoped is None:
                scoped = apply_filters(log.events, filters)
            data[fmt] = export_bytes(scoped, fmt)
    write_all([(targets[k], data[k]) for k in targets])
    # only now, with every file in place, say what was written and quote the hashes of those bytes
    appendix = (f"appendix {report.appendix_rows:,} rows" if report.appendix_rows or args.appendix
                else "no appendix")
    print(f"PDF      {terminal(str(targets['pdf']))}  ({report.edition} edition, {report.events:,} events, "
          f"{report.findings:,} findings, {report.sensitive:,} sensitive actions, {appendix})  "
          f"sha256 {sha256_hex(data['pdf'])}")
    print(f"SHA-256  {terminal(str(targets['sha256']))}")
    for kind, label in (("csv", "CSV"), ("findings", "findings"), ("jsonl", "jsonl"), ("parquet", "parquet"),
                        ("comparison", "compared")):
        if kind in targets:
            print(f"{label:<8} {terminal(str(targets[kind]))}  sha256 {sha256_hex(data[kind])}")
    if report.comparison is not None:
        c = report.comparison
        print(f"Compared {terminal(c.period.text())} with {terminal(c.previous.text())}: {terminal(c.verdict())}")
        for flag in c.flags:
            print(f"  ! {terminal(flag)}")
    if report.events == 0:
        print("note: no events in scope; the report says so", file=sys.stderr)
    return 0
