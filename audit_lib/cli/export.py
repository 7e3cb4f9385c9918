"""`python -m audit_lib export PATH... | --store DIR --format ecs|ocsf|cef [--findings] [--out FILE]`: events (or
findings) in the shapes a SIEM reads (`render.siem`), to a file or standard output."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audit_lib.analysis.filters import apply_filters, known_nodes, scope_span
from audit_lib.checks import config_check
from audit_lib.checks.findings import findings
from audit_lib.cli.common import add_paths, add_store_option
from audit_lib.cli.logs import load_from_args
from audit_lib.cli.report import check_outputs, write_all
from audit_lib.cli.scope import add_rules_options, add_scope_options, rules_from_args, scope_from_args
from audit_lib.render.siem import FORMATS, events_export, findings_export


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="events or findings as ECS or OCSF JSON Lines, or CEF lines, for a SIEM",
                       description="Write the events in PATH... (or an event store) within the scope, or with "
                                   "--findings the rule findings, as Elastic Common Schema or OCSF JSON Lines, or "
                                   "as CEF lines.")
    add_paths(p)
    add_store_option(p)
    add_scope_options(p, people=True)
    p.add_argument("--format", required=True, choices=FORMATS, help="ecs, ocsf or cef")
    p.add_argument("--findings", action="store_true", help="export the findings instead of the events")
    add_rules_options(p)
    p.add_argument("--out", metavar="FILE", help="write here (default: standard output)")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    scope_from_args(args, args.tz or "UTC")  # a bad zone or date is told before anything is read
    targets = check_outputs({"out": Path(args.out)}, args.paths) if args.out else None
    log = load_from_args(args)
    scope = scope_from_args(args, log.tz)
    events = apply_filters(log.events, scope)
    if args.findings:
        rules, settings = rules_from_args(args)
        extra = [] if args.no_config or not args.paths else config_check.check_source(args.paths, log)
        found = findings(events, rules, settings, extra=extra, nodes=known_nodes(log.files, scope),
                         span=scope_span(scope, log.files))
        data = findings_export(found, args.format)
    else:
        data = events_export(events, args.format)
    if targets is None:
        sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(data.decode())
        sys.stdout.flush()
    else:
        write_all([(targets["out"], data)])
    return 0
