"""What the commands share: the one error they raise, the option sets they declare (paths, store) and a progress
bar; the scope and rules options are in `cli.scope`, the log is read by `cli.logs`. Every command module imports
this one, never the entry module."""

from __future__ import annotations

import argparse
import os
import sys
import time

from audit_lib.errors import AuditLibError

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
