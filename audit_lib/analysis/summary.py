"""The totals and breakdowns of a loaded log (`summary --json`), and what is known to be missing from it."""

from __future__ import annotations

import polars as pl

from audit_lib.events.vocabulary import UNKNOWN
from audit_lib.events.zones import zone_clues
from audit_lib.intake.loader import AuditLog


def summary(log: AuditLog) -> dict:
    """Totals and breakdowns of a loaded log, as plain JSON-ready values."""
    ev = log.events

    def counts(column: str) -> dict[str, int]:
        agg = ev.group_by(column).len().sort(["len", column], descending=[True, False])
        return {UNKNOWN if k is None else str(k): int(n) for k, n in agg.iter_rows()}

    first, last = (ev["timestamp"].min(), ev["timestamp"].max()) if ev.height else (None, None)
    return {
        "events": ev.height,
        "rejects": log.rejects.height,
        "files": log.files.height,
        "duplicate_files": int(log.files["duplicate_of"].is_not_null().sum()),
        "files_with_errors": int(log.files["error"].is_not_null().sum()),
        "complete": log.complete,
        "problems": problems(log),
        "skipped": [{"name": str(getattr(k, "name", k)), "reason": str(getattr(k, "reason", "")),
                     "unread": bool(getattr(k, "unread", False))} for k in log.skipped],
        "ambiguous_times": int(ev["time_ambiguous"].sum()) if ev.height else 0,
        "zone_clues": zone_clues(ev, log.tz).to_dicts(),  # where the lines name another zone than log.tz
        "by_user": counts("user"),
        "by_actor": counts("actor"),
        "by_type": counts("artifact_type"),
        "by_action": counts("action"),
        "by_node": counts("node"),
        "first": first.isoformat() if first else None,
        "last": last.isoformat() if last else None,
        "tz": log.tz,
    }


def problems(log: AuditLog) -> list[dict]:
    """Files read only in part (damage, a cap) or with an error, and files named as audit logs that could not be
    read at all (`Skipped.unread`: not a log inside, unreadable, refused): what is known to be missing."""
    bad = log.files.filter(pl.col("error").is_not_null() | ~pl.col("complete"))
    out = [{"source": src, "complete": done, "error": err, "lines_read": n}
           for src, done, err, n in bad.select("source", "complete", "error", "lines").iter_rows()]
    return out + [{"source": k.name, "complete": False, "error": f"not read: {k.reason}", "lines_read": 0}
                  for k in log.skipped if getattr(k, "unread", False)]
