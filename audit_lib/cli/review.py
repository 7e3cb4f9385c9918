"""`python -m audit_lib review --store DIR ID [ID ...] --by NAME --disposition D [--comment TEXT]`: record that
findings were reviewed (kept in the store's chain; see `store.reviews`)."""

from __future__ import annotations

import argparse
import json

from audit_lib.cli.common import CliError
from audit_lib.render.textsafe import terminal
from audit_lib.store.reviews import DISPOSITIONS, record_review


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
    p.set_defaults(func=run_review)


def run_review(args: argparse.Namespace) -> int:
    if not args.store:
        raise CliError("reviews are kept in an event store: give --store DIR (plain folders keep no record)")
    digest = record_review(args.store, args.ids, args.by, args.disposition, args.comment)
    if args.json:
        print(json.dumps({"store": args.store, "reviewed": args.ids, "head": digest}, ensure_ascii=False))
    else:
        print(f"Reviewed {len(args.ids)} finding(s) as {args.disposition} by {terminal(args.by)}: head {digest}")
    return 0
