"""The one base of every error a user can cause (a bad path, a broken file, a rule that does not parse, a date
that does not read, an option the command line refuses). Its message is meant to be shown as it is, on one line;
the command line catches it once, the app's pages show it without a traceback."""

from __future__ import annotations


class AuditLibError(Exception):
    """An error to report to the user as its message, never as a traceback."""


class SourceError(AuditLibError, ValueError):
    """A source the user named cannot be used: the message says why, in words a user understands."""


class ReadError(AuditLibError, OSError):
    """A file could not be read to its end (damaged archive member, a cap reached): the message says why."""
