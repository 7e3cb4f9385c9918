"""`python -m audit_lib review --store DIR ID [ID ...] --by NAME --disposition D [--comment TEXT]`: record that
findings were reviewed (kept in the store's chain; see `store.reviews`). With `--disposition expected --suppress
--until DATE [--for-actor A] [--for-node N] [--for-artifact X]`, later findings of each reviewed finding's rule in
that scope are marked suppressed (still counted and listed)."""

from __future__ import annotations

import argparse
import json
from datetime import date

from audit_lib.checks.findings import findings
from audit_lib.cli.common import CliError
from audit_lib.cli.scope import rules_from_args
from audit_lib.render.textsafe import terminal
from audit_lib.store import open_store_log
from audit_lib.store.reviews import DISPOSITIONS, Scope, record_review


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="record the review of findings in an event store",
                       description="Record that the findings named by their ids (as `findings` prints them) were "
                                   "reviewed: by whom, with which disposition and comment. Reviews are kept in the "
                                   "store's chain: append-only, a later review supersedes, verify covers them.")
    p.add_argument("ids", nargs="+", metavar="ID", help="finding ids")
    p.add_argument("--store", metavar="DIR", help="the event store (reviews need one)")
    p.add_argument("--by", required=True, metavar="NAME", help="who reviewed them")
    p.add_argument("--disposition", required=True, choices=DISPOSITIONS)
    p.add_argument("--comment", default="", metavar="TEXT")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    g = p.add_argument_group("suppression (with --disposition expected)")
    g.add_argument("--suppress", action="store_true",
                   help="mark later findings of the same rule in the scope below as suppressed (never hidden)")
    g.add_argument("--until", metavar="DATE", help="last day (YYYY-MM-DD) a finding is suppressed; required")
    g.add_argument("--for-actor", metavar="A", help="only findings whose events are all this actor's")
    g.add_argument("--for-node", metavar="N", help="only findings of this node")
    g.add_argument("--for-artifact", metavar="X", help="only findings whose events are all about this artifact")
    g.add_argument("--rule", metavar="RULE", help="the rule suppressed (default: each finding's own, looked up "
                                                  "among the store's findings)")
    g.add_argument("--rules", metavar="DIR", help="rules the findings came from (default: the shipped ones)")
    g.add_argument("--settings", metavar="FILE", help="settings the findings came from (working time)")
    p.set_defaults(func=run_review)


def _scopes(args: argparse.Namespace) -> list[Scope] | None:
    narrow = (args.until, args.for_actor, args.for_node, args.for_artifact, args.rule)
    if not args.suppress:
        if any(v is not None for v in narrow):
            raise CliError("--until, --for-actor, --for-node, --for-artifact and --rule go with --suppress")
        return None
    if args.disposition != "expected":
        raise CliError("--suppress needs --disposition expected")
    if not args.until:
        raise CliError("--suppress needs --until DATE (YYYY-MM-DD): a suppression always ends")
    try:
        until = date.fromisoformat(args.until)
    except ValueError:
        raise CliError(f"--until {args.until!r} is not a date (YYYY-MM-DD)") from None
    if args.rule:
        rules = {i: args.rule for i in args.ids}
    else:  # each finding's rule, from the findings of the whole store
        rule_list, settings = rules_from_args(argparse.Namespace(rules=args.rules, settings=args.settings))
        known = {f.id: f.rule for f in findings(open_store_log(args.store).events, rule_list, settings)}
        missing = [i for i in args.ids if i not in known]
        if missing:
            raise CliError(f"finding {terminal(missing[0])} is not among the store's findings: name its rule "
                           "with --rule RULE")
        rules = known
    return [Scope(rule=rules[i], until=until, actor=args.for_actor, node=args.for_node, artifact=args.for_artifact)
            for i in args.ids]


def run_review(args: argparse.Namespace) -> int:
    if not args.store:
        raise CliError("reviews are kept in an event store: give --store DIR (plain folders keep no record)")
    args.ids = list(dict.fromkeys(args.ids))
    scopes = _scopes(args)
    digest = record_review(args.store, args.ids, args.by, args.disposition, args.comment, suppress=scopes)
    if args.json:
        print(json.dumps({"store": args.store, "reviewed": args.ids, "head": digest,
                          "suppressions": [s.to_dict() for s in scopes or []]}, ensure_ascii=False))
        return 0
    print(f"Reviewed {len(args.ids)} finding(s) as {args.disposition} by {terminal(args.by)}: head {digest}")
    for s in {s.describe(): s for s in scopes or []}:
        print(f"Suppressed: later findings of {terminal(s)}")
    return 0
