"""The log a command reads: `load(PATH...)`, or the event store named by --store. Apart from `cli.common`, so
that a command over files alone (`summary`) starts without the store's modules."""

from __future__ import annotations

import argparse

from audit_lib.cli.common import NO_INPUT, CliError
from audit_lib.intake.loader import AuditLog, load
from audit_lib.store import open_store_log


def load_from_args(args: argparse.Namespace) -> AuditLog:
    """The log a command reads: `load(PATH...)`, or the event store named by --store (exactly one of them).
    `args.tz` None means UTC for files and the store's own zone for a store."""
    paths, store, tz = getattr(args, "paths", None) or [], getattr(args, "store", None), getattr(args, "tz", None)
    if store and paths:
        raise CliError("give PATH... or --store DIR, not both")
    if store:
        return open_store_log(store, tz)
    if not paths:
        raise CliError(NO_INPUT)
    return load(paths, tz=tz or "UTC")
