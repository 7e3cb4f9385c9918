"""`python -m audit_lib summary PATH... | --store DIR [--ray ADDRESS] [--tz ZONE] [--json]`: totals and breakdowns
(`analysis.summary`); of files counted batch by batch as they are parsed (`analysis.summary.summarise`), never
holding the events whole. Of a store (`cli.store.run_store_summary`): the CLI's dispatch runs that one when
--store or --ray is given, so that a summary of files starts without the store's modules."""

from __future__ import annotations

import argparse
import json

from audit_lib.analysis.summary import summarise
from audit_lib.cli.common import NO_INPUT, CliError, add_paths, add_store_option
from audit_lib.render.textsafe import terminal


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("summary", help="totals and breakdowns of the events in PATH...")
    add_paths(p)
    p.add_argument("--tz", help="time zone the log times are written in (default UTC; a store's own zone)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_store_option(p, ray=True)
    p.set_defaults(func=run_summary)


def run_summary(args: argparse.Namespace) -> int:
    """`summary PATH...`, counted batch by batch as the files are parsed: the events are never held whole. With
    --store or --ray the command runs in `cli.store` (`run_store_summary`), which reads the store."""
    if not getattr(args, "paths", None):
        raise CliError(NO_INPUT)
    print_summary(summarise(args.paths, tz=args.tz or "UTC"), args.json)
    return 0


def print_summary(s: dict, as_json: bool) -> None:
    print(json.dumps(s, ensure_ascii=False) if as_json else format_summary(s))


def _table(title: str, counts: dict[str, int], limit: int = 15) -> list[str]:
    out = [f"{title}:"]
    shown = [(terminal(k), n) for k, n in list(counts.items())[:limit]]  # names from the logs: one line each
    width = max((len(k) for k, _ in shown), default=0)
    out += [f"  {k:<{width}}  {n:>9,}" for k, n in shown]
    if len(counts) > limit:
        out.append(f"  … and {len(counts) - limit} more")
    return out


def format_summary(s: dict) -> str:
    lines = [
        f"Events   {s['events']:,}   from {s['first'] or '-'} to {s['last'] or '-'} ({s['tz']})",
        f"Files    {s['files']:,} found, {s['duplicate_files']} duplicate, {s['files_with_errors']} with errors",
        f"Rejects  {s['rejects']:,} lines not read as events",
    ]
    if s["complete"]:
        lines.append("Complete every file was read to its end")
    else:
        lines.append(f"INCOMPLETE {sum(not p['complete'] for p in s['problems'])} file(s) were read only in part "
                     "or not at all: the lines after the damage, or in them, are unknown")
    for p in s["problems"]:
        lines.append(f"  ! {terminal(p['source'])}: {terminal(p['error'] or 'read only in part')} "
                     f"({p['lines_read']:,} lines read)")
    if s["ambiguous_times"]:
        lines.append(f"Times    {s['ambiguous_times']:,} event(s) fall in an hour repeated by a clock change and "
                     "nothing tells which; they are flagged time_ambiguous")
    for c in s.get("zone_clues", []):
        lines.append(f"Zone     ! {terminal(c['node'])}: the {c['clue']} is {terminal(c['written'])}, {s['tz']} gives "
                     f"{c['read_as']} ({c['events']:,} event(s), e.g. {terminal(c['source'])}:{c['line']}): is --tz "
                     "the servers' zone?")
    if s["skipped"]:
        lines.append(f"Skipped  {len(s['skipped'])} file(s) left alone:")
        lines += [f"  - {terminal(k['name'])}: {terminal(k['reason'])}" for k in s["skipped"][:20]]
        if len(s["skipped"]) > 20:
            lines.append(f"  … and {len(s['skipped']) - 20} more (see --json)")
    for title, key in [("By node", "by_node"), ("By actor", "by_actor"), ("By artifact type", "by_type"),
                       ("By action", "by_action")]:
        lines += ["", *_table(title, s[key])]
    return "\n".join(lines)

