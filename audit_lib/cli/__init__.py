"""Command line: `python -m audit_lib COMMAND ...` (or `wso2-audit COMMAND ...`).

Each command translates its arguments into one library call and prints the result; every error a user can cause
(`audit_lib.errors.AuditLibError`) becomes one line on stderr and exit status 1, never a traceback. The commands
live one group per module (summary, store, findings, report) over the options and readers of `cli.common`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from audit_lib.cli import export, findings, report, review, store, watch
from audit_lib.cli import summary as summary_cli
from audit_lib.cli.common import CliError
from audit_lib.errors import AuditLibError
from audit_lib.render.textsafe import terminal
from audit_lib.version import __version__

__all__ = ["CliError", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line and exit 2, as argparse does
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m audit_lib", description="Analyse WSO2 audit.log files.")
    parser.add_argument("--version", action="version", version=f"audit_lib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for group in (summary_cli, store, report, findings, review, export, watch):
        group.add_commands(sub)
    return parser


class _Escaping:
    """A text stream that writes control, bidi and invisible characters as escapes (newlines kept): log text
    printed by any command cannot move the cursor, recolour, reorder or hide in the terminal. Newlines inside a
    field are escaped where the field is printed (`render.textsafe.terminal`): only the layout's stay."""

    def __init__(self, stream: object) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(terminal(text, keep="\n"))

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Escaping(out), _Escaping(err)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AuditLibError as exc:
        print(f"error: {terminal(exc)}", file=sys.stderr)  # one line, whatever the message holds
        return 1
    except OSError as exc:
        print(terminal(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
