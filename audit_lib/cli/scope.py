"""The scope options (--from, --to, --tz, --node, and who and what) and the rules options (--rules, --settings),
and their readers: the Filters (`scope_from_args`) and the rules (`rules_from_args`), for the commands that
filter or check (a command that only counts does not import the scope's and rules' modules)."""

from __future__ import annotations

import argparse

from audit_lib.analysis.filters import Filters, parse_when
from audit_lib.checks.rule import Rule, Settings, load_rules, load_settings
from audit_lib.cli.common import TZ_HELP
from audit_lib.intake.loader import check_tz


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
