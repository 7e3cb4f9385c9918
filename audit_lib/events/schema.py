"""The canonical tables every part of the project shares: events, rejects and the file manifest."""

from __future__ import annotations

import polars as pl


def events_schema(tz: str = "UTC") -> dict[str, pl.DataType]:
    """Columns of `AuditLog.events`, in order."""
    return {
        "timestamp": pl.Datetime("ms", tz),
        "node": pl.String(),
        "product": pl.String(),
        "user": pl.String(),
        "actor": pl.String(),
        "action": pl.String(),
        "artifact_type": pl.String(),
        "artifact": pl.String(),
        "outcome": pl.String(),
        "details": pl.String(),
        "level": pl.String(),
        "source": pl.String(),
        "line": pl.UInt32(),
        "attachment": pl.String(),
        "time_ambiguous": pl.Boolean(),
    }


REJECTS_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "line": pl.UInt32(),
    "text": pl.String(),
    "reason": pl.String(),
}


def files_schema(tz: str = "UTC") -> dict[str, pl.DataType]:
    """Columns of `AuditLog.files`, the manifest: one row per input file, duplicates included."""
    return {
        "source": pl.String(),
        "node": pl.String(),
        "bytes": pl.Int64(),
        "sha256": pl.String(),
        "compressed": pl.Boolean(),
        "lines": pl.Int64(),
        "events": pl.Int64(),
        "attached": pl.Int64(),
        "rejects": pl.Int64(),
        "blank": pl.Int64(),
        "first": pl.Datetime("ms", tz),
        "last": pl.Datetime("ms", tz),
        "duplicate_of": pl.String(),
        "error": pl.String(),
        "complete": pl.Boolean(),
    }


EVENT_COLUMNS = list(events_schema())
