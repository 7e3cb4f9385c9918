"""Command line of the event store: `ingest PATH... --store DIR`, `verify --store DIR [--sources PATH...]`,
`--store DIR` for the commands that read events (`load_from_args`), and `summary --store DIR --ray ADDRESS`
(`store_summary`: the figures counted by a scan of the store, or as Ray tasks over its data files)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from audit_lib.intake.loader import AuditLog, load

VERIFY_FAILED = 4


def add_store_option(p: argparse.ArgumentParser, ray: bool = False) -> None:
    """`--store DIR` on a command whose PATH... become optional: read the events from an event store; and with
    `ray`, `--ray ADDRESS` (see `store_summary`)."""
    p.add_argument("--store", metavar="DIR", help="read the events from this event store instead of PATH... "
                                                  "(a folder, or an object-storage URL)")
    if ray:
        p.add_argument("--ray", metavar="ADDRESS", help="with --store: compute the figures as Ray tasks over the "
                                                        "store's data files on this cluster (`auto`, host:port, or "
                                                        "`local` for this machine alone)")


def load_from_args(args: argparse.Namespace) -> AuditLog:
    """The log a command reads: `load(PATH...)`, or the event store named by --store (exactly one of them).
    `args.tz` None means UTC for files and the store's own zone for a store."""
    from audit_lib.cli import CliError

    paths, store, tz = getattr(args, "paths", None) or [], getattr(args, "store", None), getattr(args, "tz", None)
    if store and paths:
        raise CliError("give PATH... or --store DIR, not both")
    if store:
        from audit_lib.store import open_store_log

        return open_store_log(store, tz)
    if not paths:
        raise CliError("give PATH... (folders, files or globs) or --store DIR")
    return load(paths, tz=tz or "UTC")


def store_summary(args: argparse.Namespace) -> dict:
    """`summary` of the store named by --store, its event figures counted by a streaming scan (or as Ray tasks
    on the cluster named by --ray: `audit_lib.store.aggregates.summary_counts`), the rest from the manifest: the
    same figures as `summary` of the store read whole, without holding its events. The times are the store's
    zone's (`wants_store_summary` says when that applies)."""
    from audit_lib.cli import CliError, summary

    ray = getattr(args, "ray", None)
    if ray is not None:
        if getattr(args, "paths", None) or not getattr(args, "store", None):
            raise CliError("--ray reads an event store: give --store DIR instead of PATH... (files are parsed on "
                           "Ray by `ingest PATH... --store DIR --ray ADDRESS`)")
        if not ray.strip():
            raise CliError("--ray needs an address: `auto`, host:port, or `local`")
    import polars as pl

    from audit_lib.events.schema import REJECTS_SCHEMA, events_schema
    from audit_lib.events.zones import zone_clues
    from audit_lib.intake.loader import check_tz
    from audit_lib.store import Store
    from audit_lib.store import tables as T
    from audit_lib.store.aggregates import summary_counts

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
    from audit_lib.store import Store

    return Store(args.store).tz == args.tz


class ProgressBar:
    """A one-line progress bar on the terminal's stderr; silent when stderr is not a terminal."""

    def __init__(self) -> None:
        err = sys.__stderr__
        self.stream = err if err is not None and err.isatty() else None
        self.last = 0.0
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if self.stream is None or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        share = done / total if total else 1.0
        bar = "#" * int(share * 30)
        self.stream.write(f"\r{stage:<16} [{bar:<30}] {share:4.0%}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown and self.stream is not None:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="add what is new in PATH... to an event store",
                       description="Add what is new in PATH... to the event store DIR (created on first use) as "
                                   "one commit: files already stored are skipped, a growing audit.log is read from "
                                   "where the last ingest stopped, a rotated file is recognised.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="folders (searched recursively), files or globs")
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
    from audit_lib.store import ingest

    bar = ProgressBar()
    try:
        r = ingest(args.paths, args.store, args.tz, ray=args.ray, progress=bar)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(r.as_dict(), ensure_ascii=False))
        return 0
    c = r.as_dict()["files_count"]
    print(f"Files    {c['new']:,} new, {c['known']:,} known, {c['grown']:,} grown, {c['rotated']:,} rotated, "
          f"{c['seen']:,} renamed, {c['duplicate']:,} duplicate, {c['skipped']:,} skipped"
          + (f", {c['held']:,} left for later (incomplete)" if c["held"] else ""))
    if r.seq is None:
        print(f"Events   nothing new: the store is unchanged (entry {_entry(r)})")
    else:
        print(f"Events   {r.events_added:,} added, {r.rejects_added:,} rejected lines, in {r.seconds:.1f} s")
        print(f"Store    {r.store}: entry {r.seq}, head {r.head}")
    if r.rolled_back:
        print("Note     an earlier ingest had stopped before its commit: what it wrote was undone")
    return 0


def _entry(r) -> str:
    from audit_lib.store import store_info

    return str(store_info(r.store)["entries"])


def run_verify(args: argparse.Namespace) -> int:
    from audit_lib.store import verify

    bar = ProgressBar()
    try:
        rep = verify(args.store, args.sources, anchor=args.anchor, progress=bar)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(rep.as_dict(), ensure_ascii=False))
    else:
        checked = ", ".join(f"{n:,} {what}" for what, n in rep.checked.items())
        print(f"{'INTACT' if rep.ok else 'NOT INTACT'}  {rep.store}: {rep.entries} chain entries, head {rep.head}")
        print(f"Checked  {checked}")
        for p in rep.problems:
            print(f"  ! {p['check']}: {p['what']}: {p['detail']}")
        for n in rep.notes:
            print(f"  - {n}")
    return 0 if rep.ok else VERIFY_FAILED
