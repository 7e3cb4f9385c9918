"""Each distinct message read once: within a batch, and across the batches of one load through a bounded memo of
the messages read so far (a node's change records toggled again and again, in every daily file and on every node).

A message's fields depend on its text and its line's tenant only, so a message read once can lend its fields to
every row that carries it. Rows are matched by a 64-bit hash of (message, tenant), and each row is checked against
the message that was read for it: a hash collision cannot give a row another message's fields.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from audit_lib.intake.formats import Formats

MEMO_ROWS = 100_000  # messages kept for the later batches of a load (the first read, until it is full)


class Memo:
    """The messages read in earlier batches of one load, with their fields, up to `limit` (shared by the threads
    that parse the batches): the first ones read, which is where a node's repeated records show up."""

    def __init__(self, limit: int = MEMO_ROWS, forget: pl.Expr | None = None) -> None:
        self.limit = limit
        self.forget = forget  # read fields that will not be seen again (a sign-in's message carries its time)
        self.known: pl.DataFrame | None = None  # _key, _body, _tenant, then the read fields
        self._lock = threading.Lock()

    def add(self, fields: pl.DataFrame) -> None:
        with self._lock:
            known = self.known
            room = self.limit - (known.height if known is not None else 0)
            if room > 0 and self.forget is not None:
                fields = fields.filter(~self.forget.fill_null(False))
            if room <= 0 or fields.height == 0:
                return
            fresh = fields if known is None else fields.join(known.select("_key"), on="_key", how="anti")
            # text copied into buffers of its own: a slice would keep its whole batch's text in memory
            fresh = fresh.head(room)
            fresh = fresh.with_columns([pl.concat_str([pl.col(c), pl.lit("")]).alias(c)
                                        for c, t in fresh.schema.items() if t == pl.String])
            self.known = fresh if known is None else pl.concat([known, fresh])


def once(rows: pl.DataFrame, read: Callable[[pl.DataFrame], pl.DataFrame], memo: Memo | None = None) -> pl.DataFrame:
    """`read(rows)` (columns `row`, `body`, `tenant`, ...; the result has `row` and the fields), reading each
    distinct message once; with a `memo`, messages it holds are not read again, and those read here are kept in
    it for the next batches while it has room."""
    if rows.height == 0:
        return read(rows)
    known = memo.known if memo is not None else None
    key = rows.select(pl.col("body").hash().xor(pl.col("tenant").hash(7))).to_series()
    sample = key.head(4096)
    if sample.len() > 256 and sample.n_unique() > 0.9 * sample.len() and (
            known is None or sample.is_in(known["_key"].implode()).mean() < 0.1):
        return read(rows)  # mostly new messages: matching them all would not pay
    first = key.is_first_distinct()
    if known is None and first.sum() > rows.height // 2:  # few repeats in this batch: read them all, and keep
        fields = read(rows)  # the messages in the memo for the next batches, where they may repeat
        if memo is not None:
            memo.add(fields.join(rows.filter(first).select("row", _key=key.filter(first), _body="body",
                                                           _tenant="tenant"), on="row").drop("row"))
        return fields
    distinct = rows.filter(first).with_columns(_key=key.filter(first))
    parts = []
    if known is not None:
        parts.append(known.join(distinct.select("_key"), on="_key", how="semi"))
        distinct = distinct.join(known.select("_key"), on="_key", how="anti")
    if distinct.height:
        fields = read(distinct.drop("_key")).join(
            distinct.select("row", "_key", _body="body", _tenant="tenant"), on="row").drop("row")
        parts.append(fields)
        if memo is not None:
            memo.add(fields)
    fields = pl.concat(parts, how="diagonal_relaxed")
    out = rows.select("row", "body", "tenant", _key=key).join(fields, on="_key", how="left")
    same = (pl.col("body") == pl.col("_body")) & pl.col("tenant").eq_missing(pl.col("_tenant"))
    if not out.select(same.all()).item():  # two messages with one hash: read them all instead
        return read(rows)
    return out.drop("body", "tenant", "_key", "_body", "_tenant")


@dataclass
class MessageMemo:
    """The messages a load has read, for its later batches: change records (`{...}`) and the other messages apart,
    so that each kind is read once a message where it repeats, and read at once where it does not (a sign-in's
    message carries its own time; a script's records name a new artifact each time)."""

    records: Memo
    others: Memo


def message_memo(fmts: Formats) -> MessageMemo:
    """A load's empty memo; messages of formats that never repeat (`MessageFormat.repeats`) are not kept in it."""
    once_only = [m.name for m in fmts.messages if not m.repeats]
    forget = pl.col("_format").is_in(once_only) if once_only else None
    return MessageMemo(Memo(forget=forget), Memo(forget=forget))
