"""Command line: `python -m audit_lib summary PATH... [--tz ZONE] [--json]`.

Each command translates its arguments into one library call and prints the result; library errors become
a message on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import polars as pl

from audit_lib import __version__
from audit_lib.analysis.filters import FilterError
from audit_lib.events.zones import zone_clues
from audit_lib.intake.loader import AuditLog
from audit_lib.intake.sources import SourceError
from audit_lib.render.textsafe import escape_controls


class CliError(Exception):
    """An error to report to the user as one line on stderr."""


def summary(log: AuditLog) -> dict:
    """Totals and breakdowns of a loaded log, as plain JSON-ready values."""
    ev = log.events

    def counts(column: str) -> dict[str, int]:
        agg = ev.group_by(column).len().sort(["len", column], descending=[True, False])
        return {"(unknown)" if k is None else str(k): int(n) for k, n in agg.iter_rows()}

    first, last = (ev["timestamp"].min(), ev["timestamp"].max()) if ev.height else (None, None)
    return {
        "events": ev.height,
        "rejects": log.rejects.height,
        "files": log.files.height,
        "duplicate_files": int(log.files["duplicate_of"].is_not_null().sum()),
        "files_with_errors": int(log.files["error"].is_not_null().sum()),
        "complete": log.complete,
        "problems": problems(log),
        "skipped": [{"name": str(getattr(k, "name", k)), "reason": str(getattr(k, "reason", ""))}
                    for k in log.skipped],
        "ambiguous_times": int(ev["time_ambiguous"].sum()) if ev.height else 0,
        "zone_clues": zone_clues(ev, log.tz).to_dicts(),  # where the lines name another zone than log.tz
        "by_user": counts("user"),
        "by_actor": counts("actor"),
        "by_type": counts("artifact_type"),
        "by_action": counts("action"),
        "by_node": counts("node"),
        "first": first.isoformat() if first else None,
        "last": last.isoformat() if last else None,
        "tz": log.tz,
    }


def problems(log: AuditLog) -> list[dict]:
    """Files read only in part (damage, a cap) or with an error: what is known to be missing."""
    bad = log.files.filter(pl.col("error").is_not_null() | ~pl.col("complete"))
    return [{"source": src, "complete": done, "error": err, "lines_read": n}
            for src, done, err, n in bad.select("source", "complete", "error", "lines").iter_rows()]


def _table(title: str, counts: dict[str, int], limit: int = 15) -> list[str]:
    out = [f"{title}:"]
    width = max((len(k) for k in list(counts)[:limit]), default=0)
    out += [f"  {k:<{width}}  {n:>9,}" for k, n in list(counts.items())[:limit]]
    if len(counts) > limit:
        out.append(f"  … and {len(counts) - limit} more")
    return out


def format_summary(s: dict, log: AuditLog) -> str:
    lines = [
        f"Events   {s['events']:,}   from {s['first'] or '-'} to {s['last'] or '-'} ({s['tz']})",
        f"Files    {s['files']:,} found, {s['duplicate_files']} duplicate, {s['files_with_errors']} with errors",
        f"Rejects  {s['rejects']:,} lines not read as events",
    ]
    if s["complete"]:
        lines.append("Complete every file was read to its end")
    else:
        lines.append(f"INCOMPLETE {sum(not p['complete'] for p in s['problems'])} file(s) were read only in part: "
                     "the lines after the damage are unknown")
    for p in s["problems"]:
        lines.append(f"  ! {p['source']}: {p['error'] or 'read only in part'} ({p['lines_read']:,} lines read)")
    if s["ambiguous_times"]:
        lines.append(f"Times    {s['ambiguous_times']:,} event(s) fall in an hour repeated by a clock change and "
                     "nothing tells which; they are flagged time_ambiguous")
    for c in s.get("zone_clues", []):
        lines.append(f"Zone     ! {c['node']}: the {c['clue']} is {c['written']}, {s['tz']} gives {c['read_as']} "
                     f"({c['events']:,} event(s), e.g. {c['source']}:{c['line']}): is --tz the servers' zone?")
    if s["skipped"]:
        lines.append(f"Skipped  {len(s['skipped'])} file(s) left alone:")
        lines += [f"  - {k['name']}: {k['reason']}" for k in s["skipped"][:20]]
        if len(s["skipped"]) > 20:
            lines.append(f"  … and {len(s['skipped']) - 20} more (see --json)")
    for title, key in [("By node", "by_node"), ("By actor", "by_actor"), ("By artifact type", "by_type"),
                       ("By action", "by_action")]:
        lines += ["", *_table(title, s[key])]
    return "\n".join(lines)


def _cmd_summary(args: argparse.Namespace) -> int:
    from audit_lib.cli.store import load_from_args, store_summary, wants_store_summary  # PATH... or --store DIR

    if wants_store_summary(args):
        log, s = None, store_summary(args)
    else:
        log = load_from_args(args)
        s = summary(log)
    print(json.dumps(s, ensure_ascii=False) if args.json else format_summary(s, log))
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line and exit 2, as argparse does
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m audit_lib", description="Analyse WSO2 audit.log files.")
    parser.add_argument("--version", action="version", version=f"audit_lib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("summary", help="totals and breakdowns of the events in PATH...")
    p.add_argument("paths", nargs="*", metavar="PATH", help="folders (searched recursively), files or globs")
    p.add_argument("--tz", help="time zone the log times are written in (default UTC; a store's own zone)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_summary)
    from audit_lib.cli.store import add_commands as add_store_commands  # ingest, verify
    from audit_lib.cli.store import add_store_option

    add_store_option(p, ray=True)
    add_store_commands(sub)
    from audit_lib.cli.report import add_report_command  # it uses CliError from here

    add_report_command(sub)
    from audit_lib.cli.findings import add_commands as add_findings_commands  # findings, sessions

    add_findings_commands(sub)
    return parser


class _Escaping:
    """A text stream that writes control and bidi characters as escapes (newlines kept): log text printed
    by any command cannot move the cursor, recolour or reorder the terminal."""

    def __init__(self, stream: object) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(escape_controls(text))

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Escaping(out), _Escaping(err)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (SourceError, FilterError, CliError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
