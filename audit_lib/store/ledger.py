"""Records the store keeps beside its events, in the chain itself: a chain entry of another kind (`deliveries`,
`reviews`) names the tables at the versions the store stands at and lists its records, so they are hashed with
the rest of the history: `verify` fails when one is altered or removed, and nothing erases one (a later record
supersedes an earlier one)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime

from audit_lib.errors import SourceError
from audit_lib.store import tables as T
from audit_lib.store.lock import Lock
from audit_lib.version import __version__

KINDS = ("deliveries", "reviews")
StoreRef = str | os.PathLike | T.Location


def records(store: StoreRef, kind: str) -> list[dict]:
    """Every record of `kind`, oldest first, each with the `time` and `seq` of its entry."""
    loc = T.Location.of(store)
    if T.table_version(loc, T.CHAIN) is None:
        return []
    return [{**r, "time": r.get("time") or e["time"], "seq": e["seq"]} for e in T.head(loc).entries
            if e.get("kind") == kind for r in e.get(kind, [])]


def append(store: StoreRef, kind: str, rows: Sequence[dict], at: datetime | None = None) -> str:
    """One chain entry of `kind` holding `rows`; its hash. The store must have had an ingest."""
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}")
    loc = T.Location.of(store)
    if T.table_version(loc, T.CHAIN) is None:
        raise SourceError(f"{loc.uri} is not an event store (no ingest yet): nothing to record there")
    with Lock(loc):
        head = T.head(loc)
        entry = {
            "seq": head.seq + 1, "kind": kind,
            "time": (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"), "tz": head.tz,
            "tool": f"audit_lib {__version__}", "prev": head.hash, "counts": {}, "events_added": 0,
            "rejects_added": 0, "files": [], "pairs": [],
            "tables": {name: {"version": head.version(name), "add": [], "remove": []} for name in T.TABLES},
            "logs": {name: [] for name in T.TABLES},
            kind: list(rows),
        }
        return T.commit_entry(loc, entry)
