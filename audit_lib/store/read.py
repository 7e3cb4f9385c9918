"""Reading a store: lazy scans that push projections and predicates down to the Delta tables, and
`open_store_log`, the same `AuditLog` as loading the files that were ingested.

What is derived when read, not stored: `actor` (it depends on every product a name appears in, so a later
ingest can change it), and each file's current name (a rotated file's events keep the name they were first
read under; the view shows the name the file was last seen with)."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import polars as pl

from audit_lib.analysis.metrics import UNKNOWN
from audit_lib.events.actors import actors
from audit_lib.events.schema import REJECTS_SCHEMA, events_schema, files_schema
from audit_lib.intake.entries import Skipped
from audit_lib.intake.loader import CATEGORICAL, AuditLog, check_tz
from audit_lib.store import tables as T

StoreRef = str | os.PathLike | T.Location


class Store:
    """An opened store at its published version: the chain head, the files view and scans of the tables."""

    def __init__(self, store: StoreRef, storage_options: dict[str, str] | None = None) -> None:
        self.loc = T.Location.of(store, storage_options)
        T.deltalake()
        self.head = T.head(self.loc)
        self.tz = self.head.tz or "UTC"
        self._files: pl.DataFrame | None = None
        self._names: pl.DataFrame | None = None

    @property
    def version(self) -> int:
        return self.head.seq

    def raw(self, name: str) -> pl.LazyFrame:
        """Table `name` as published (the versions the last chain entry names), as stored."""
        return pl.scan_delta(self.loc.table(name), version=self.head.version(name),
                             storage_options=self.loc.options)

    def rollup(self, name: str) -> pl.LazyFrame:
        """A rollup table (see `audit_lib.store.tables.ROLLUP_KEYS`) as published, its rows added up over ingests
        only when read (several rows may share a key)."""
        return self.raw(name)

    def file_rows(self) -> pl.DataFrame:
        if self._files is None:
            self._files = T.read(self.loc, T.FILES, self.head.version(T.FILES))
        return self._files

    def names(self) -> dict[str, str]:
        """Stored name -> the name the file was last seen with, for the streams whose name changed; names kept
        unique (a file seen last under a name another file has since taken keeps its stored name)."""
        st = T.streams(self.file_rows()).select("stream", "source", "seq")
        st = st.sort(["seq", "stream"], descending=[True, False])
        taken: set[str] = set()
        out: dict[str, str] = {}
        for stream, source, _ in st.iter_rows():
            name = source if source not in taken else stream
            k = 2
            while name in taken:
                name, k = f"{stream} ({k})", k + 1
            taken.add(name)
            if name != stream:
                out[stream] = name
        return out

    def names_table(self) -> pl.DataFrame:
        """user, product -> actor for every pair among the stored events (see `audit_lib.intake.loader.actors`)."""
        if self._names is None:
            pairs = self.head.pairs().unique()
            self._names = actors(pairs) if pairs.height else pairs.with_columns(actor=pl.lit(None, pl.String))
        return self._names

    def actor_expr(self) -> pl.Expr:
        """`actor` as an expression of user and product (see `audit_lib.intake.loader.actors`)."""
        mapping = self.names_table()
        if mapping.is_empty():
            return pl.lit(None, pl.String).alias("actor")
        key = _pair_key(pl.col("user"), pl.col("product"))
        keys = mapping.select(_pair_key(pl.col("user"), pl.col("product"))).to_series().to_list()
        return key.replace_strict(keys, mapping["actor"].to_list(), default=None, return_dtype=pl.String).alias(
            "actor")

    def person_filter(self, names: list[str], written: bool = True) -> pl.Expr:
        """Events of the people named by actor (`metrics.who`'s names, "(unknown)" for no user) or, with
        `written`, by a name as written in the log, as a predicate on the stored user and product: the reader
        filters them without deriving every event's actor."""
        pairs = self.names_table().filter(pl.col("actor").fill_null(UNKNOWN).is_in(names))
        conds = [pl.col("user").is_in(names)] if written else []
        for (product,), group in pairs.group_by("product"):
            in_product = pl.col("product").is_null() if product is None else pl.col("product") == product
            user = pl.col("user").is_in(group["user"].drop_nulls().to_list())
            conds.append(in_product & (user | pl.col("user").is_null() if group["user"].null_count() else user))
        return pl.any_horizontal(conds).fill_null(False) if conds else pl.lit(False)

    def scan(self, *, start: datetime | None = None, end: datetime | None = None,
             nodes: list[str] | None = None, wall: bool = False) -> pl.LazyFrame:
        """The events as a LazyFrame with the canonical columns (times in the store's zone). `start`/`end`
        (aware datetimes, end excluded) and `nodes` prune partitions before anything is read; any other
        filter or projection on the frame is pushed down by polars."""
        lf = self.raw(T.EVENTS)
        conds = []
        if nodes is not None:
            conds.append(pl.col("node").is_in(list(nodes)))
        if start is not None:
            conds += [pl.col("month") >= T.month_key(start), pl.col("timestamp") >= T.utc(start)]
        if end is not None:
            conds += [pl.col("month") <= T.month_key(end), pl.col("timestamp") < T.utc(end)]
        if conds:
            lf = lf.filter(*conds)
        renamed = self.names()
        source = pl.col("source")
        if renamed:
            source = source.replace(list(renamed), list(renamed.values()))
        schema = events_schema(self.tz)
        cols = []
        for name, dtype in schema.items():
            if name == "actor":
                cols.append(self.actor_expr())
            elif name == "source":
                cols.append(source.alias("source"))
            elif name == "timestamp":
                cols.append(pl.col("timestamp").dt.convert_time_zone(self.tz).dt.cast_time_unit("ms"))
            else:
                cols.append(pl.col(name).cast(dtype))
        if wall:
            cols.append(pl.col("wall").dt.cast_time_unit("ms"))
        return lf.select(cols)

    def rejects(self) -> pl.DataFrame:
        renamed = self.names()
        rej = self.raw(T.REJECTS).collect()
        if renamed:
            rej = rej.with_columns(pl.col("source").replace(list(renamed), list(renamed.values())))
        return rej.select([pl.col(c).cast(t) for c, t in REJECTS_SCHEMA.items()]).sort("source", "line",
                                                                                         maintain_order=True)

    def skipped(self) -> list[Skipped]:
        rows = self.file_rows().filter(pl.col("kind") == "skipped").sort("seq", "order")
        latest = rows.group_by("source", maintain_order=True).agg(pl.col("error").last(), pl.col("seq").last(),
                                                                   pl.col("order").last(), pl.col("complete").last())
        current = set(T.streams(self.file_rows())["source"].to_list())
        latest = latest.filter(~pl.col("source").is_in(list(current))).sort("seq", "order")
        return [Skipped(name, reason, complete is False)  # complete False: an audit log that was not read
                for name, reason, complete in latest.select("source", "error", "complete").iter_rows()]

    def files(self, events: pl.DataFrame | None = None) -> pl.DataFrame:
        """The manifest as `load` gives it (one row per file, duplicates included), first and last times in the
        store's zone: from `events` when given, else from the files table."""
        rows = self.file_rows()
        renamed = self.names()
        st = T.streams(rows).with_columns(
            source=pl.col("stream").replace(list(renamed), list(renamed.values())) if renamed else pl.col("stream"),
            duplicate_of=pl.lit(None, pl.String))
        dups = rows.filter(pl.col("kind") == "duplicate").sort("seq", "order").group_by(
            "node", "source", maintain_order=True).last().with_columns(
            duplicate_of=pl.col("duplicate_of").replace(list(renamed), list(renamed.values()))
            if renamed else pl.col("duplicate_of"), rejects=pl.lit(0, pl.Int64), events=pl.lit(0, pl.Int64))
        cols = ["source", "node", "bytes", "sha256", "compressed", "lines", "events", "attached", "rejects", "blank",
                "duplicate_of", "error", "complete"]
        files = pl.concat([st.select(cols), dups.select(cols)]).sort("source")
        schema = files_schema(self.tz)
        if events is not None:
            per = events.group_by(pl.col("source").cast(pl.String)).agg(
                events=pl.len(), first=pl.col("timestamp").min(), last=pl.col("timestamp").max())
            files = files.drop("events").join(per, on="source", how="left").with_columns(
                pl.col("events").fill_null(0))
        else:
            stored = self.raw(T.EVENTS).group_by("source").agg(first=pl.col("timestamp").min(),
                                                                 last=pl.col("timestamp").max()).collect(engine="streaming")
            if renamed:
                stored = stored.with_columns(pl.col("source").replace(list(renamed), list(renamed.values())))
            files = files.join(stored.with_columns(pl.col("first", "last").dt.convert_time_zone(self.tz)),
                               on="source", how="left")
        return files.select([pl.col(c).cast(t) for c, t in schema.items()])


def _pair_key(user: pl.Expr, product: pl.Expr) -> pl.Expr:
    return pl.concat_str([user.cast(pl.String).fill_null("\x01"), product.cast(pl.String).fill_null("\x01")],
                         separator="\x00")


def scan_store(store: StoreRef, *, storage_options: dict[str, str] | None = None, start: datetime | None = None,
               end: datetime | None = None, nodes: list[str] | None = None) -> pl.LazyFrame:
    """The store's events as a polars LazyFrame (see `Store.scan`): nothing is read until it is collected."""
    return Store(store, storage_options).scan(start=start, end=end, nodes=nodes)


def open_store_log(store: StoreRef | Store, tz: str | None = None, *,
                   storage_options: dict[str, str] | None = None) -> AuditLog:
    """The store read whole as an `AuditLog`: equal to `audit_lib.load` of the files that were ingested (their
    current names, the same events, rejects, manifest and skipped files). `tz` reads the wall-clock times in
    another zone than the one they were ingested with. An opened `Store` is read at the version it was opened at
    (pass the same one to the report's evidence)."""
    if tz is not None:
        check_tz(tz)
    st = store if isinstance(store, Store) else Store(store, storage_options)
    with T.reading(st.loc):
        ev = st.scan(wall=True).collect()
        ev = ev.sort(["timestamp", "source", "line"], maintain_order=True)
        wall = ev["wall"]
        ev = ev.drop("wall").with_columns([pl.col(c).cast(pl.Categorical) for c in CATEGORICAL if c in ev.columns])
        files = st.files(ev)
        log = AuditLog(ev, st.rejects(), files, st.tz, st.skipped(), {}, wall)
    return log.with_tz(tz) if tz and tz != st.tz else log


def store_info(store: StoreRef, storage_options: dict[str, str] | None = None) -> dict[str, Any]:
    """A store's head: entries, hash, zone, table versions."""
    st = Store(store, storage_options)
    return {"store": st.loc.uri, "entries": st.head.seq, "head": st.head.hash, "tz": st.tz,
            "versions": {name: st.head.version(name) for name in T.TABLES}}
