"""Command line of the event store: `ingest PATH... [--mi URL ...] --store DIR`,
`verify --store DIR [--sources PATH...]`, and `summary --store DIR [--ray ADDRESS]` (declared with `summary` in
`cli.summary`; the CLI's dispatch runs it here when --store or --ray is given)."""

from __future__ import annotations

import argparse
import json
import sys

import polars as pl

from audit_lib.analysis.summary import summary
from audit_lib.cli import remote
from audit_lib.cli.common import CliError, ProgressBar, add_paths
from audit_lib.cli.logs import load_from_args
from audit_lib.cli.summary import print_summary
from audit_lib.events.schema import REJECTS_SCHEMA, events_schema
from audit_lib.events.zones import zone_clues
from audit_lib.intake.loader import AuditLog, check_tz
from audit_lib.render.textsafe import terminal
from audit_lib.store import Store, ingest, store_info, verify
from audit_lib.store import tables as T
from audit_lib.store.aggregates import summary_counts
from audit_lib.store.rewrites import describe
from audit_lib.store.status import record_verify
from audit_lib.store.tables import StoreError

VERIFY_FAILED = 4


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="add what is new in PATH... to an event store",
                       description="Add what is new in PATH... to the event store DIR (created on first use) as "
                                   "one commit: files already stored are skipped, a growing audit.log is read from "
                                   "where the last ingest stopped, a rotated file is recognised, a stored file "
                                   "rewritten on disk is reported (its old lines are not stored again), and each "
                                   "node's log4j2.properties is kept.")
    add_paths(p)
    remote.add_options(p)
    p.add_argument("--store", required=True, metavar="DIR", help="the event store (a folder or an object-storage "
                                                                 "URL; credentials from the environment)")
    p.add_argument("--tz", help="time zone the log times are written in (default UTC; fixed by the first ingest)")
    p.add_argument("--ray", metavar="ADDRESS", help="parse the files as Ray tasks on this cluster "
                                                    "(`auto`, host:port, or `local` for this machine alone)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_ingest)

    p = sub.add_parser("verify", help="check an event store's manifest chain, data and sources",
                       description="Check the manifest chain, that the stored data matches it, and (with "
                                   f"--sources) that the files ingested are still there unchanged. Exit 0 when "
                                   f"intact, {VERIFY_FAILED} when anything is wrong.")
    p.add_argument("--store", required=True, metavar="DIR", help="the event store")
    p.add_argument("--sources", nargs="+", metavar="PATH", help="the folders the store was ingested from")
    p.add_argument("--anchor", metavar="SHA256", help="a head hash printed by an earlier ingest and kept elsewhere: "
                                                      "it must be in the chain")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_verify)


def run_ingest(args: argparse.Namespace) -> int:
    if not args.paths and not args.mi:
        raise CliError("give PATH... (folders, files or globs) or --mi URL")
    uploads, fetched = remote.fetch_all(args)
    failed = remote.EXIT_PARTIAL if any(not f.ok for f in fetched) else 0
    if not args.paths and not uploads:  # nothing new by name, or every fetch failed: the store is not touched
        if args.json:
            print(json.dumps({"store": args.store, "events_added": 0, "remote": [f.as_dict() for f in fetched]},
                             ensure_ascii=False))
        else:
            print("Nodes    nothing fetched: the store is unchanged")
        return failed
    bar = ProgressBar()
    try:
        r = ingest([*args.paths, *uploads], args.store, args.tz, ray=args.ray, progress=bar)
    finally:
        bar.close()
    if args.json:
        print(json.dumps({**r.as_dict(), "remote": [f.as_dict() for f in fetched]}, ensure_ascii=False))
        return failed
    for f in fetched:
        print(f"Node     {terminal(f.node)} ({terminal(f.url)}): {len(f.files)} fetched, {len(f.left)} left alone, "
              f"{len(f.errors)} failed")
    c = r.as_dict()["files_count"]
    print(f"Files    {c['new']:,} new, {c['known']:,} known, {c['grown']:,} grown, {c['rotated']:,} rotated, "
          f"{c['seen']:,} renamed, {c['duplicate']:,} duplicate, {c['skipped']:,} skipped"
          + (f", {c['rewritten']:,} rewritten" if c["rewritten"] else "")
          + (f", {c['held']:,} left for later (incomplete)" if c["held"] else ""))
    if r.configs:
        print(f"Config   {r.configs:,} log4j2.properties kept (new, or changed since the last ingest)")
    for w in r.rewritten:
        print(f"Warning  {rewrite_warning(w)}")
    if r.seq is None:
        print(f"Events   nothing new: the store is unchanged (entry {_entry(r)})")
    else:
        print(f"Events   {r.events_added:,} added, {r.rejects_added:,} rejected lines, in {r.seconds:.1f} s")
        print(f"Store    {r.store}: entry {r.seq}, head {r.head}")
    if r.rolled_back:
        print("Note     an earlier ingest had stopped before its commit: what it wrote was undone")
    if r.logs_kept:
        print(f"Note     {len(r.logs_kept)} tables now keep their Delta log whole (made before this was set: Delta "
              "would have deleted log entries older than 30 days)")
    return failed


def rewrite_warning(w: dict) -> str:
    """One line on a stored file found rewritten on disk (an item of `IngestResult.rewritten`)."""
    what, added = describe(w, 10)
    return (f"{terminal(w['source'])} ({terminal(w['node'])}) was rewritten on disk: its first {w['stored_bytes']:,} "
            f"bytes no longer hash as stored by ingest {w['stored_seq']}; {what}; {added}; the stored lines are kept")


def _entry(r) -> str:
    return str(store_info(r.store)["entries"])


def run_verify(args: argparse.Namespace) -> int:
    if args.anchor is not None and not args.anchor.strip():
        raise CliError("--anchor needs the head hash printed by an earlier ingest (64 hex digits), not an empty "
                       "string")
    bar = ProgressBar()
    try:
        rep = verify(args.store, args.sources, anchor=args.anchor, progress=bar)
    finally:
        bar.close()
    try:  # when it ran and its verdict, for the app's Data quality page
        record_verify(args.store, rep.ok, rep.head, rep.entries, len(rep.problems))
    except StoreError as exc:
        print(f"note: {terminal(str(exc))}", file=sys.stderr)
    if args.json:
        print(json.dumps(rep.as_dict(), ensure_ascii=False))
    else:
        checked = ", ".join(f"{n:,} {what}" for what, n in rep.checked.items())
        print(f"{'INTACT' if rep.ok else 'NOT INTACT'}  {terminal(rep.store)}: {rep.entries} chain entries, "
              f"head {rep.head}")
        print(f"Checked  {checked}")
        for p in rep.problems:
            print(f"  ! {p['check']}: {terminal(p['what'])}: {terminal(p['detail'])}")
        for n in rep.notes:
            print(f"  - {terminal(n)}")
    return 0 if rep.ok else VERIFY_FAILED


def run_store_summary(args: argparse.Namespace) -> int:
    """`summary --store DIR` (or with --ray): of the store in its own zone without reading its events whole
    (`store_summary`), else of the store read whole in another zone (or the error of giving PATH... as well)."""
    print_summary(store_summary(args) if wants_store_summary(args) else summary(load_from_args(args)), args.json)
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
