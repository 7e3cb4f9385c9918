"""`python -m audit_lib watch ESTATE.toml [--once] [--json]`: ingest the estate's sources into its store, evaluate
the rules and deliver new findings, every interval until SIGTERM/SIGINT, or once (for cron and systemd timers).
One watcher per store: a second one is refused while the first runs."""

from __future__ import annotations

import argparse
import fcntl
import json
import os
from pathlib import Path

from audit_lib.cli.common import CliError
from audit_lib.render.textsafe import escape_controls
from audit_lib.watch.estate import load_estate
from audit_lib.watch.watcher import CycleResult, watch


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("watch", help="ingest an estate's sources on a schedule and send alerts for new findings",
                       description="Read ESTATE.toml (store, tz, interval, lookback, [[source]], [[alert]]), then "
                                   "each interval: ingest every source, evaluate the rules, and deliver each new "
                                   "finding once per channel. Exit 0 after a clean --once, 6 when a source, a "
                                   "fetch or a delivery failed (failed deliveries are tried again next cycle).")
    p.add_argument("estate", metavar="ESTATE.toml", help="the estate file")
    p.add_argument("--once", action="store_true", help="one cycle, then exit (cron, systemd timers)")
    p.add_argument("--json", action="store_true", help="one JSON object per cycle")
    p.set_defaults(func=run_watch)


def _print(result: CycleResult, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, default=str), flush=True)
        return
    ing = result.ingest or {}
    sent = sum(len(v) for v in result.sent.values())
    failed = sum(len(v) for v in result.failed.values())
    print(f"{result.started}  {ing.get('events_added', 0):,} events added, {result.findings:,} findings in the "
          f"lookback, {sent} alert(s) sent, {failed} failed", flush=True)
    for f in result.fetched:
        if f.insecure:
            print(f"  warning: TLS verification is off for {escape_controls(f.url)}")
        for e in f.errors:
            print(f"  ! {escape_controls(e)}")
    for line in [*result.errors, *(e for v in result.failed.values() for e in v)]:
        print(f"  ! {escape_controls(line)}")


def run_watch(args: argparse.Namespace) -> int:
    estate = load_estate(args.estate)  # every key checked before anything runs
    if "://" not in estate.store:
        Path(estate.store).mkdir(parents=True, exist_ok=True)
        fd = os.open(Path(estate.store) / ".watch.lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise CliError(f"another watcher runs on the store {estate.store}") from None
    return watch(estate, lambda r: _print(r, args.json), once=args.once)
