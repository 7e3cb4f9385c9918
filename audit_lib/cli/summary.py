"""`python -m audit_lib summary PATH... | --store DIR [--ray ADDRESS] [--tz ZONE] [--json]`: totals and breakdowns
(`analysis.summary`); of files counted batch by batch as they are parsed (`analysis.summary.summarise`), of a store
in its own zone by a streaming scan, or as Ray tasks over its data files: never holding the events whole."""

from __future__ import annotations

import argparse
import json

import polars as pl

from audit_lib.analysis.summary import summarise, summary
from audit_lib.cli.common import CliError, add_paths, add_store_option, load_from_args
from audit_lib.events.schema import REJECTS_SCHEMA, events_schema
from audit_lib.events.zones import zone_clues
from audit_lib.intake.loader import AuditLog, check_tz
from audit_lib.render.textsafe import terminal
from audit_lib.store import Store
from audit_lib.store import tables as T
from audit_lib.store.aggregates import summary_counts


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("summary", help="totals and breakdowns of the events in PATH...")
    add_paths(p)
    p.add_argument("--tz", help="time zone the log times are written in (default UTC; a store's own zone)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_store_option(p, ray=True)
    p.set_defaults(func=run_summary)


def run_summary(args: argparse.Namespace) -> int:
    if wants_store_summary(args):
        s = store_summary(args)
    elif getattr(args, "paths", None) and not getattr(args, "store", None):
        s = summarise(args.paths, tz=args.tz or "UTC")  # counted as parsed: the events are never held whole
    else:
        s = summary(load_from_args(args))
    print(json.dumps(s, ensure_ascii=False) if args.json else format_summary(s))
    return 0


def store_summary(args: argparse.Namespace) -> dict:
    """`summary` of the store named by --store, its event figures counted by a streaming scan (or as Ray tasks
    on the cluster named by --ray: `audit_lib.store.aggregates.summary_counts`), the rest from the manifest: the
    same figures as `summary` of the store read whole, without holding its events. The times are the store's
    zone's (`wants_store_summary` says when that applies)."""
    ray = getattr(args, "ray", None)
    if ray is not None:
        if getattr(args, "paths", None) or not getattr(args, "store", None):
            raise CliError("--ray reads an event store: give --store DIR instead of PATH... (files are parsed on "
                           "Ray by `ingest PATH... --store DIR --ray ADDRESS`)")
        if not ray.strip():
            raise CliError("--ray needs an address: `auto`, host:port, or `local`")
    st = Store(args.store)
    if ray is not None and args.tz is not None and check_tz(args.tz) != st.tz:
        raise CliError(f"--ray reads the store in its own zone ({st.tz}): leave out --tz, or leave out --ray to "
                       f"read the times in {args.tz}")
    with T.reading(st.loc):
        no_events = pl.DataFrame(schema=events_schema(st.tz))
        files, skipped = st.files(no_events), st.skipped()  # the manifest; its per-file counts are not shown
        rejects = st.raw(T.REJECTS).select(pl.len()).collect().item()
    out = summary(AuditLog(no_events, pl.DataFrame(schema=REJECTS_SCHEMA), files, st.tz, skipped))
    counts = summary_counts(st, ray=ray)
    first, last = counts.pop("first"), counts.pop("last")
    with T.reading(st.loc):  # the lines' own clues to the zone, from a streaming scan of five columns
        clues = zone_clues(st.scan(), st.tz).to_dicts()
    out.update(rejects=rejects, first=first.isoformat() if first else None, last=last.isoformat() if last else None,
               zone_clues=clues, **counts)
    return out


def wants_store_summary(args: argparse.Namespace) -> bool:
    """`summary --store DIR` in the store's own zone (or with --ray): counted without reading the events whole.
    Another --tz places every time again, which needs the events themselves."""
    if getattr(args, "ray", None) is not None:
        return True
    if not getattr(args, "store", None) or getattr(args, "paths", None):
        return False
    if args.tz is None:
        return True
    return Store(args.store).tz == args.tz


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

