"""What the watcher sent, kept in the chain like every ingest: a chain entry of kind `deliveries` names the
tables at the versions the store stands at and lists each delivery (channel, finding id, rule, severity, whether
it arrived, the error), so `verify` covers them and a removed or altered delivery breaks the chain. Also: the
rotations of a node already stored, which a fetch need not download again."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime

import polars as pl

from audit_lib.errors import SourceError
from audit_lib.store import tables as T
from audit_lib.store.lock import Lock
from audit_lib.store.read import Store
from audit_lib.version import __version__

StoreRef = str | os.PathLike | T.Location


def _head(store: StoreRef) -> tuple[T.Location, T.Head] | None:
    loc = T.Location.of(store)
    if T.table_version(loc, T.CHAIN) is None:
        return None
    return loc, T.head(loc)


def delivered(store: StoreRef) -> set[tuple[str, str]]:
    """(channel, finding id) of every delivery that arrived."""
    found = _head(store)
    if found is None:
        return set()
    return {(d["channel"], d["finding"]) for e in found[1].entries if e.get("kind") == "deliveries"
            for d in e.get("deliveries", []) if d.get("delivered")}


def deliveries(store: StoreRef) -> pl.DataFrame:
    """Every delivery recorded, oldest first: time, channel, finding, rule, severity, delivered, error."""
    schema = {"time": pl.String, "channel": pl.String, "finding": pl.String, "rule": pl.String,
              "severity": pl.String, "delivered": pl.Boolean, "error": pl.String}
    found = _head(store)
    rows = [] if found is None else [{**d, "time": e["time"]} for e in found[1].entries
                                     if e.get("kind") == "deliveries" for d in e.get("deliveries", [])]
    return pl.DataFrame(rows, schema=schema, orient="row")


def record_deliveries(store: StoreRef, rows: Sequence[dict], at: datetime | None = None) -> str:
    """Append one chain entry listing `rows` (channel, finding, rule, severity, delivered, error); its hash."""
    loc = T.Location.of(store)
    with Lock(loc):
        head = T.head(loc)
        if not head.entries:
            raise SourceError(f"The store {loc.uri} has no ingest yet: nothing was delivered from it")
        entry = {
            "seq": head.seq + 1, "kind": "deliveries",
            "time": (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"), "tz": head.tz,
            "tool": f"audit_lib {__version__}", "prev": head.hash, "counts": {}, "events_added": 0,
            "rejects_added": 0, "files": [], "pairs": [],
            "tables": {name: {"version": head.version(name), "add": [], "remove": []} for name in T.TABLES},
            "logs": {name: [] for name in T.TABLES},
            "deliveries": [{k: r.get(k) for k in ("channel", "finding", "rule", "severity", "delivered", "error")}
                           for r in rows],
        }
        return T.commit_entry(loc, entry)


def stored_rotations(store: StoreRef, node: str) -> set[str]:
    """The names of a node's rotated files already stored from it as `<node>/<name>` (a rotation does not change
    once written, so a fetch need not download it again); `audit.log` is never among them."""
    try:
        rows = Store(store).file_rows()
    except SourceError:  # no store yet
        return set()
    prefix = f"{node}/"
    stored = rows.filter(pl.col("stream").str.starts_with(prefix) & pl.col("complete").fill_null(False)
                         & pl.col("kind").is_in(["new", "rotated", "seen", "duplicate"]))["stream"].to_list()
    names = {s[len(prefix):] for s in stored}
    return {n for n in names if n != "audit.log" and "/" not in n}
