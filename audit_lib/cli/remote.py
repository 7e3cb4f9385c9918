"""`ingest --mi URL [--mi URL ...] [--node NAME ...] [--ca-file PEM] [--insecure]`: the running MI nodes an ingest
fetches from (`intake.mi`), with credentials from AUDIT_MI_USER / AUDIT_MI_PASSWORD, never from the command line.
What is fetched goes into the same ingest as PATH..., as uploads named `<node>/<file>`."""

from __future__ import annotations

import argparse
import os
import sys

from audit_lib.cli.common import CliError
from audit_lib.intake.entries import Upload
from audit_lib.intake.mi import MiNode, NodeFetch, fetch_node
from audit_lib.render.textsafe import escape_controls
from audit_lib.store.deliveries import stored_rotations

EXIT_PARTIAL = 5  # a node or a file could not be fetched; what was fetched is ingested


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mi", action="append", default=[], metavar="URL",
                   help="also fetch the audit logs of this running Micro Integrator node through its Management "
                        "API, e.g. https://mi2:9164 (repeatable; user and password from AUDIT_MI_USER and "
                        "AUDIT_MI_PASSWORD)")
    p.add_argument("--node", action="append", default=[], metavar="NAME",
                   help="the name of each --mi node, in the same order (default: the URL's host)")
    p.add_argument("--ca-file", metavar="PEM", help="trust the nodes' certificates signed by (or in) this PEM file")
    p.add_argument("--insecure", action="store_true",
                   help="do not verify the nodes' TLS certificates (every run says so)")


def nodes_from_args(args: argparse.Namespace) -> list[MiNode]:
    if not args.mi:
        if args.node or args.ca_file or args.insecure:
            raise CliError("--node, --ca-file and --insecure go with --mi URL")
        return []
    if args.node and len(args.node) != len(args.mi):
        raise CliError(f"give one --node per --mi ({len(args.mi)} nodes, {len(args.node)} names), or none")
    user, password = os.environ.get("AUDIT_MI_USER"), os.environ.get("AUDIT_MI_PASSWORD")
    if not user or password is None:
        raise CliError("--mi needs the nodes' user and password in the environment variables AUDIT_MI_USER and "
                       "AUDIT_MI_PASSWORD (never on the command line)")
    names = args.node or [""] * len(args.mi)
    return [MiNode(url, node=name, user=user, password=password, ca_file=args.ca_file, insecure=args.insecure)
            for url, name in zip(args.mi, names, strict=True)]


def fetch_all(args: argparse.Namespace) -> tuple[list[Upload], list[NodeFetch]]:
    """The uploads of every --mi node, and what each fetch brought; one line on stderr per failure."""
    uploads: list[Upload] = []
    fetched: list[NodeFetch] = []
    for node in nodes_from_args(args):
        if node.insecure:
            print(f"warning: TLS verification is off for {escape_controls(node.url)}: anyone on the way can read "
                  "and change what is fetched", file=sys.stderr)
        known = stored_rotations(args.store, node.name)
        got = fetch_node(node, skip=known.__contains__)
        for line in got.errors:
            print(f"error: {line}", file=sys.stderr)
        uploads += got.uploads()
        fetched.append(got)
    return uploads, fetched
