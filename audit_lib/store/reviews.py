"""Reviews of findings (PCI DSS 10.4.1: audit logs reviewed daily, with evidence that it happened): who reviewed
which finding, when, with what disposition and comment. Kept in the chain (`ledger`): append-only, a later review
of a finding supersedes the earlier one without erasing it, and `verify` fails when one is altered or removed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime

import polars as pl

from audit_lib.errors import AuditLibError
from audit_lib.store import ledger
from audit_lib.store import tables as T

DISPOSITIONS = ("expected", "false-positive", "incident", "needs-follow-up")
MAX_COMMENT = 2000
StoreRef = str | os.PathLike | T.Location
SCHEMA = {"finding": pl.String, "reviewer": pl.String, "time": pl.String, "disposition": pl.String,
          "comment": pl.String, "authenticated": pl.Boolean, "seq": pl.Int64}


class ReviewError(AuditLibError):
    """A review that cannot be recorded; the message says why."""


def record_review(store: StoreRef, findings: Sequence[str], reviewer: str, disposition: str, comment: str = "", *,
                  authenticated: bool = False, at: datetime | None = None) -> str:
    """One review of each finding id, in one chain entry; its hash. `authenticated` says whether the reviewer's
    name was proven by a sign-in (the app's) or only given (the command line, an app without sign-in)."""
    ids = list(dict.fromkeys(f.strip() for f in findings if f and f.strip()))
    if not ids:
        raise ReviewError("name at least one finding id to review")
    bad = [i for i in ids if not i.isalnum() or len(i) > 64]
    if bad:
        raise ReviewError(f"not a finding id: {bad[0][:64]!r} (ids are the 12 characters findings print)")
    if not reviewer or not reviewer.strip():
        raise ReviewError("a review needs the reviewer's name")
    if disposition not in DISPOSITIONS:
        raise ReviewError(f"disposition must be one of {', '.join(DISPOSITIONS)}, not {disposition!r}")
    if len(comment) > MAX_COMMENT:
        raise ReviewError(f"the comment is longer than {MAX_COMMENT:,} characters")
    when = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    rows = [{"finding": i, "reviewer": reviewer.strip()[:200], "time": when, "disposition": disposition,
             "comment": comment, "authenticated": bool(authenticated)} for i in ids]
    return ledger.append(store, "reviews", rows, at)


def reviews(store: StoreRef) -> pl.DataFrame:
    """Every review recorded, oldest first."""
    return pl.DataFrame(ledger.records(store, "reviews"), schema=SCHEMA, orient="row")


def latest_reviews(store: StoreRef) -> dict[str, dict]:
    """finding id -> its latest review (reviewer, time, disposition, comment, authenticated)."""
    out: dict[str, dict] = {}
    for r in ledger.records(store, "reviews"):
        out[r["finding"]] = {k: r[k] for k in ("reviewer", "time", "disposition", "comment", "authenticated")}
    return out
