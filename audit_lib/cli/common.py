"""What the commands share: the one error they raise, the option sets they declare (paths, store, scope, rules),
and the readers of those options: the scope (`scope_from_args`) and the rules (`rules_from_args`); the log is
read by `cli.logs`. Every command module imports this one, never the entry module."""

from __future__ import annotations

import argparse
import os
import sys
import time

from audit_lib.analysis.filters import Filters, parse_when
from audit_lib.checks.rule import Rule, Settings, load_rules, load_settings
from audit_lib.errors import AuditLibError
from audit_lib.intake.loader import check_tz

NO_INPUT = "give PATH... (folders, files or globs) or --store DIR"
TZ_HELP = "time zone the log times are written in (default UTC; a store's own zone)"


class CliError(AuditLibError):
    """An error to report to the user as one line on stderr."""


def add_paths(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    p.add_argument("paths", nargs="+" if required else "*", metavar="PATH",
                   help="folders (searched recursively), files or globs")


def add_store_option(p: argparse.ArgumentParser, ray: bool = False) -> None:
    """`--store DIR` on a command whose PATH... become optional: read the events from an event store; and with
    `ray`, `--ray ADDRESS` (see `cli.store.store_summary`)."""
    p.add_argument("--store", metavar="DIR", help="read the events from this event store instead of PATH... "
                                                  "(a folder, or an object-storage URL)")
    if ray:
        p.add_argument("--ray", metavar="ADDRESS", help="with --store: compute the figures as Ray tasks over the "
                                                        "store's data files on this cluster (`auto`, host:port, or "
                                                        "`local` for this machine alone)")


def add_scope_options(p: argparse.ArgumentParser, *, people: bool = False) -> None:
    """--from, --to, --tz and --node; with `people`, also --user, --type, --action and --changes-only."""
    p.add_argument("--from", dest="start", metavar="DATE", help="first time to include, e.g. 2026-11-01")
    p.add_argument("--to", dest="end", metavar="DATE", help="last day or time to include, e.g. 2026-11-07")
    p.add_argument("--tz", help=TZ_HELP)
    if people:
        p.add_argument("--user", action="append", default=[], metavar="U", help="only this user (repeatable)")
        p.add_argument("--type", action="append", default=[], metavar="T",
                       help="only this artifact type (repeatable)")
        p.add_argument("--action", action="append", default=[], metavar="A", help="only this action (repeatable)")
    p.add_argument("--node", action="append", default=[], metavar="N", help="only this node (repeatable)")
    if people:
        p.add_argument("--changes-only", action="store_true", help="only changes: no sign-ins, sign-outs or reads")


def add_rules_options(p: argparse.ArgumentParser) -> None:
    """--rules DIR, --settings FILE and --no-config."""
    p.add_argument("--rules", metavar="DIR", help="read the rules from this folder instead of the shipped ones")
    p.add_argument("--settings", metavar="FILE",
                   help="JSON settings: work_hours, work_days, holidays, tz, session_timeout")
    p.add_argument("--no-config", action="store_true", help="skip the logging configuration check")


def rules_from_args(args: argparse.Namespace) -> tuple[list[Rule], Settings]:
    """The rules and settings named by --rules and --settings (the shipped ones by default)."""
    rules = load_rules(args.rules) if args.rules else load_rules()
    return rules, load_settings(args.settings) if args.settings else Settings()


def scope_from_args(args: argparse.Namespace, tz: str) -> Filters:
    """The Filters named by the scope options, their dates read in `tz` (an unknown zone or a date that does not
    read raises, before anything is loaded when called with the zone the user gave)."""
    check_tz(tz)
    start = parse_when(args.start, tz) if args.start else None
    end = parse_when(args.end, tz, end=True) if args.end else None
    return Filters(start=start, end=end, users=tuple(getattr(args, "user", ())),
                   actions=tuple(getattr(args, "action", ())), artifact_types=tuple(getattr(args, "type", ())),
                   nodes=tuple(args.node), changes_only=bool(getattr(args, "changes_only", False)))


class ProgressBar:
    """A one-line progress bar on the terminal's stderr; silent when stderr is not a terminal."""

    def __init__(self) -> None:
        err = sys.__stderr__
        # its own copy of the terminal's descriptor: the store's readers send descriptor 2 to the log
        self.stream = open(os.dup(err.fileno()), "w") if err is not None and err.isatty() else None  # noqa: SIM115
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
        if self.stream is not None:
            self.stream.close()
            self.stream = None
