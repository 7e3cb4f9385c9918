"""What the watcher sent, kept in the chain (`ledger`): each delivery (channel, finding id, rule, severity, whether
it arrived, the error), so `verify` covers them and a removed or altered delivery breaks the chain. Also: the
rotations of a node already stored, which a fetch need not download again."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime

import polars as pl

from audit_lib.errors import SourceError
from audit_lib.store import ledger
from audit_lib.store import tables as T
from audit_lib.store.read import Store

StoreRef = str | os.PathLike | T.Location


def delivered(store: StoreRef) -> set[tuple[str, str]]:
    """(channel, finding id) of every delivery that arrived."""
    return {(d["channel"], d["finding"]) for d in ledger.records(store, "deliveries") if d.get("delivered")}


def deliveries(store: StoreRef) -> pl.DataFrame:
    """Every delivery recorded, oldest first: time, channel, finding, rule, severity, delivered, error."""
    schema = {"time": pl.String, "channel": pl.String, "finding": pl.String, "rule": pl.String,
              "severity": pl.String, "delivered": pl.Boolean, "error": pl.String}
    return pl.DataFrame(ledger.records(store, "deliveries"), schema=schema, orient="row")


def record_deliveries(store: StoreRef, rows: Sequence[dict], at: datetime | None = None) -> str:
    """Append one chain entry listing `rows` (channel, finding, rule, severity, delivered, error); its hash."""
    keys = ("channel", "finding", "rule", "severity", "delivered", "error")
    return ledger.append(store, "deliveries", [{k: r.get(k) for k in keys} for r in rows], at)


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
