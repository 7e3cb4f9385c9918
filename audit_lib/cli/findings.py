"""`python -m audit_lib findings PATH...` and `python -m audit_lib sessions PATH...`.

`findings` is meant for the daily log review from cron or CI (PCI DSS 10.4.1.1): it exits 0 when no finding
reaches `--fail-on` (default high) and 3 when one does; `--json` prints one JSON object per finding and line,
for a SIEM. Both commands load like `summary` (PATH... or `--store DIR`) and scope like `report` (--from, --to,
--tz).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

import polars as pl

from audit_lib.analysis.filters import Filters, apply_filters, known_nodes, scope_span
from audit_lib.analysis.sessions import parse_duration, session_changes
from audit_lib.checks import config_check
from audit_lib.checks.finding import Finding, at_least, sort_findings
from audit_lib.checks.findings import findings
from audit_lib.checks.rule import SEVERITIES
from audit_lib.cli.common import CliError, add_paths, add_store_option
from audit_lib.cli.logs import load_from_args
from audit_lib.cli.scope import add_rules_options, add_scope_options, rules_from_args, scope_from_args
from audit_lib.events.vocabulary import UNKNOWN
from audit_lib.intake.loader import AuditLog
from audit_lib.render.textsafe import terminal
from audit_lib.store.checks import store_findings
from audit_lib.store.reviews import MISSING_RULE, latest_reviews, review_missing, suppressed_by, suppressions

EXIT_FOUND = 3  # a finding at or above --fail-on


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `findings` and `sessions` on the CLI's subparsers."""
    p = sub.add_parser("findings", help="what deserves attention: rule findings and the logging configuration check",
                       description="Evaluate the rules (audit_lib/checks/rules/*.json, or --rules DIR) over the "
                                   "events in PATH... within the scope, check any log4j2.properties found "
                                   "there (or kept by the --store, with what the store tells: its files "
                                   f"found rewritten on disk), and print the findings. Exit status {EXIT_FOUND} "
                                   "when one reaches --fail-on, else 0.")
    _common(p)
    p.add_argument("--fail-on", choices=SEVERITIES, default="high",
                   help="exit with status 3 when a finding of this severity or above is found (default high)")
    p.add_argument("--json", action="store_true", help="one JSON object per finding and line (for a SIEM)")
    p.add_argument("--events", type=int, default=5, metavar="N",
                   help="events listed under each finding in the text output (default 5; JSON has them all)")
    add_rules_options(p)
    p.add_argument("--unreviewed", action="store_true", help="with --store: only the findings nobody reviewed yet")
    p.set_defaults(func=run_findings)

    p = sub.add_parser("sessions", help="sign-in to sign-out sessions per actor and node, with their changes",
                       description="List the sessions in PATH...: who signed in where, when and how the session "
                                   "ended (signed_out, next_sign_in, timeout, open), and how many changes it made.")
    _common(p)
    p.add_argument("--timeout", default="60m", metavar="DURATION",
                   help="longest quiet spell a session survives, e.g. 30m or 2h (default 60m)")
    p.add_argument("--user", action="append", default=[], metavar="U",
                   help="only this person's sessions (repeatable; as in the app: the actor or the user name)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per session and line, with its changes (time, action, artifact type, "
                        "artifact, outcome, source:line)")
    p.set_defaults(func=run_sessions)


def _common(p: argparse.ArgumentParser) -> None:
    add_paths(p)
    add_scope_options(p)
    add_store_option(p)


def _scoped(args: argparse.Namespace) -> tuple[AuditLog, pl.DataFrame, Filters]:
    scope_from_args(args, args.tz or "UTC")  # a bad zone or date is told before anything is read
    log = load_from_args(args)
    filters = scope_from_args(args, log.tz)
    return log, apply_filters(log.events, filters), filters


def _extra_findings(args: argparse.Namespace, log: AuditLog) -> list[Finding]:
    """The findings beside the rules': the logging configuration check (audit_lib.checks.config_check) of the
    log4j2.properties found in PATH... or kept by the store, and of the log itself (coverage, PCI fields), unless
    --no-config; and from a store, the stored files found rewritten on disk."""
    if args.store:
        return store_findings(args.store, log, config=not args.no_config)
    return [] if args.no_config else list(config_check.check_source(args.paths or [], log))


def run_findings(args: argparse.Namespace) -> int:
    if args.events < 0:
        raise CliError("--events must be 0 or more")
    rules, settings = rules_from_args(args)
    log, events, filters = _scoped(args)
    extra = _extra_findings(args, log)
    found = findings(events, rules, settings, extra=extra, nodes=known_nodes(log.files, filters),
                     span=scope_span(filters, log.files))
    reviewed = latest_reviews(args.store) if args.store else {}
    if args.store and any(r.id == MISSING_RULE for r in rules):  # days nobody reviewed in time
        found = sort_findings([*found, *review_missing(found, args.store, settings)])
    held = {k: v.to_dict() for k, v in suppressed_by(found, suppressions(latest=reviewed)).items()}
    if args.unreviewed:
        if not args.store:
            raise CliError("--unreviewed needs --store DIR: reviews are kept in an event store")
        found = [f for f in found if f.id not in reviewed]
    if args.json:
        for f in found:
            print(json.dumps({**f.to_dict(), "review": reviewed.get(f.id), "suppressed": held.get(f.id)},
                             ensure_ascii=False, default=str))
    else:
        print(format_findings(found, args.events, filters.describe(log.tz), events.height, args.fail_on, reviewed,
                              held))
    return EXIT_FOUND if at_least([f for f in found if f.id not in held], args.fail_on) else 0


def format_findings(found: list[Finding], per_finding: int, scope: str, events: int, fail_on: str,
                    reviewed: dict[str, dict] | None = None, held: dict[str, dict] | None = None) -> str:
    """Findings as text: one block per finding with its first events (`source:line`), then the totals."""
    lines = [f"Scope    {terminal(scope)} · {events:,} events", ""]
    for f in found:
        when = f"{f.first:%Y-%m-%d %H:%M}" if f.first else "-"
        if f.last and f.last != f.first:
            when += f" to {f.last:%Y-%m-%d %H:%M}"
        lines.append(f"{f.severity.upper():<7} {terminal(f.rule)}  {terminal(f.summary)}")
        lines.append(f"        id {f.id} · {f.count:,} event{'s' if f.count != 1 else ''} · {when}")
        review = (reviewed or {}).get(f.id)
        if review:
            note = f" ({terminal(review['comment'])})" if review["comment"] else ""
            lines.append(f"        reviewed {review['time']} by {terminal(review['reviewer'])}: "
                         f"{review['disposition']}{note}")
        sup = (held or {}).get(f.id)
        if sup:
            lines.append(f"        suppressed until {sup['scope']['until']} by {terminal(sup['reviewer'])} "
                         f"({sup['time']}, review of finding {sup['finding']})")
        ev = f.events
        if ev is not None and per_finding:
            for row in ev.head(per_finding).iter_rows(named=True):
                who = row.get("actor") or UNKNOWN
                lines.append(f"          {row['timestamp']:%Y-%m-%d %H:%M:%S}  {terminal(str(who))}  "
                             f"{terminal(row.get('action') or '')} {terminal(row.get('artifact') or '')}  "
                             f"{terminal(row.get('node') or '')}  {terminal(row.get('outcome') or '-')}  "
                             f"{terminal(str(row['source']))}:{row['line']}")
            if ev.height > per_finding:
                lines.append(f"          … and {f.count - per_finding:,} more")
        for ref in f.evidence[:per_finding] if ev is None else ():
            lines.append(f"          {terminal(ref)}")
        lines.append("")
    by = Counter(f.severity for f in found)
    counts = ", ".join(f"{by[s]} {s}" for s in reversed(SEVERITIES))
    reached = at_least(found, fail_on)
    quiet = sum(1 for f in reached if f.id in (held or {}))
    lines.append(f"{len(found):,} finding{'s' if len(found) != 1 else ''} ({counts}); "
                 f"{len(reached)} at or above {fail_on}" + (f", {quiet} of them suppressed" if quiet else ""))
    return "\n".join(lines)


def run_sessions(args: argparse.Namespace) -> int:
    try:
        timeout = parse_duration(args.timeout)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    log, events, filters = _scoped(args)
    table, changes = session_changes(events, timeout)
    if args.json:
        by_session: dict[int, list[dict]] = {}
        for c in changes.iter_rows(named=True):
            by_session.setdefault(c.pop("session"), []).append(c)
        for row in table.iter_rows(named=True):
            row["duration"] = row["duration"].total_seconds() if row["duration"] is not None else None
            row["change_events"] = by_session.get(row["session"], [])
            print(json.dumps(row, ensure_ascii=False, default=lambda v: v.isoformat()))
        return 0
    print(f"Scope    {terminal(filters.describe(log.tz))} · {events.height:,} events · {table.height:,} sessions")
    if table.height:
        width = min(max(table["actor"].str.len_chars().max() or 0, 5), 40)
        for r in table.iter_rows(named=True):
            minutes = r["duration"].total_seconds() / 60
            print(f"{r['session']:>6}  {r['start']:%Y-%m-%d %H:%M:%S}  {minutes:7.1f} min  "
                  f"{terminal(r['actor'])[:width]:<{width}}  {terminal(r['node'])}  {r['ended']:<12}  "
                  f"{r['changes']:>4} {'change ' if r['changes'] == 1 else 'changes'}  "
                  f"{terminal(r['source'])}:{r['line']}")
    by = Counter(table["ended"].to_list())
    print(", ".join(f"{by[k]} {k}" for k in ("signed_out", "next_sign_in", "timeout", "open")))
    return 0
