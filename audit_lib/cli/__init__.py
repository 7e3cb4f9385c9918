"""Command line: `python -m audit_lib COMMAND ...` (or `wso2-audit COMMAND ...`).

Each command translates its arguments into one library call and prints the result; every error a user can cause
(`audit_lib.errors.AuditLibError`) becomes one line on stderr and exit status 1, never a traceback. The commands
live one group per module (summary, store, findings, report) over the options and readers of `cli.common` and
`cli.scope`. A run imports only its command's module (`COMMANDS`, the one place modules are imported by name), so
`summary` starts without the report's, the charts', the store's or the rules' dependencies; the whole parser
(help, a mistyped command) imports them all.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from audit_lib.errors import AuditLibError
from audit_lib.render.textsafe import terminal
from audit_lib.version import __version__

__all__ = ["COMMANDS", "OF_STORE", "build_parser", "main"]

# command -> the module that declares it (`add_commands`) and runs it, in the order of the help
COMMANDS = {"summary": "audit_lib.cli.summary", "ingest": "audit_lib.cli.store", "verify": "audit_lib.cli.store",
            "report": "audit_lib.cli.report", "findings": "audit_lib.cli.findings",
            "sessions": "audit_lib.cli.findings", "review": "audit_lib.cli.review", "export": "audit_lib.cli.export",
            "watch": "audit_lib.cli.watch"}
# a command that reads an event store when given --store or --ray, run then by this function of this module (which
# imports the store): the command's own module does not, so that it starts without the store's modules
OF_STORE = {"summary": ("audit_lib.cli.store", "run_store_summary")}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line and exit 2, as argparse does
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or only of `command` (one of `COMMANDS`) when given."""
    parser = _Parser(prog="python -m audit_lib", description="Analyse WSO2 audit.log files.")
    parser.add_argument("--version", action="version", version=f"audit_lib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    names = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in names:
        import_module(name).add_commands(sub)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command named in `argv` (its first word not an option), if it is one of `COMMANDS`."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


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
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_command(argv)).parse_args(argv)
    try:
        if args.command in OF_STORE and (getattr(args, "store", None) or getattr(args, "ray", None) is not None):
            module, name = OF_STORE[args.command]
            args.func = getattr(import_module(module), name)
        return args.func(args)
    except AuditLibError as exc:
        print(f"error: {terminal(exc)}", file=sys.stderr)  # one line, whatever the message holds
        return 1
    except OSError as exc:
        print(terminal(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
