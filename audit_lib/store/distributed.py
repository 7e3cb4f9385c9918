"""Ray, for stores larger than one machine handles.

- Parsing: each group of files becomes a Ray task that parses the bytes it is sent (so the workers need no
  access to the files) and returns the store's rows; the driver streams the results, in order, into the one
  commit of the ingest.
- Aggregates (`grouped`): each group of the events table's data files, at the version the chain names, becomes
  a Ray task that reads them with polars, as `Store.scan` reads them, and returns partial aggregates per group
  key (counts, first and last times); the driver merges them. The workers read the data files themselves.

`address` is a running cluster (`ray start --head` here, `ray start --address` on the other machines; give its
address, or `auto`), or `local` for a Ray instance on this machine alone."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

import polars as pl

from audit_lib.intake.entries import Limits
from audit_lib.store import tables as T
from audit_lib.store.parsing import parse_payloads
from audit_lib.store.read import Store
from audit_lib.store.tables import StoreError

IN_FLIGHT = 4  # groups sent ahead of the one being written: bounds the driver's memory


def _ray():
    try:
        import ray
    except ImportError:
        raise StoreError("--ray needs the optional packages of requirements-store.txt: "
                         "pip install -r requirements-store.txt") from None
    return ray


def connect(address: str) -> bool:
    """Join (or, for `local`, start) a Ray instance; True when this call started it (and should stop it)."""
    ray = _ray()
    if ray.is_initialized():
        return False
    package = str(Path(__file__).resolve().parent.parent)  # audit_lib, shipped to the workers
    env = {"py_modules": [package], "excludes": ["__pycache__"]}
    try:
        if address == "local":
            ray.init(num_cpus=None, include_dashboard=False, runtime_env=env, log_to_driver=False,
                     configure_logging=False)
        else:
            ray.init(address=address, runtime_env=env, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise StoreError(f"Cannot reach Ray at {address!r}: {str(exc).splitlines()[0] if str(exc) else exc}") \
            from None
    return True


def _task(specs, line_starts, tz, limits):
    return parse_payloads(specs, line_starts, tz, limits)


def run_ray(batches: list, tz: str, limits: Limits, address: str) -> Iterator:
    """The GroupResult of each group, in order, parsed as Ray tasks (a few in flight at a time)."""
    ray = _ray()
    started = connect(address)
    remote = ray.remote(_task)
    try:
        pending: deque = deque()
        todo = iter(batches)
        while True:
            while len(pending) < IN_FLIGHT and (g := next(todo, None)) is not None:
                specs = [(p.stream, p.entry.node, p.payload(limits)) for p in g]
                pending.append(remote.remote(specs, [p.line_start for p in g], tz, limits))
            if not pending:
                return
            yield ray.get(pending.popleft())
    finally:
        if started:
            ray.shutdown()


# ------------------------------------------------------------------------------------------------ aggregates

TASK_BYTES = 64 << 20  # parquet bytes of events one aggregate task reads (a group of whole data files)
# how the partial aggregates of several groups of files are merged into the aggregate of all of them
MERGE: dict[str, Callable[[str], pl.Expr]] = {"sum": lambda c: pl.col(c).sum(), "min": lambda c: pl.col(c).min(),
                                              "max": lambda c: pl.col(c).max()}
# one aggregate: the group keys (expressions over `Store.scan`'s columns), and per output column the partial
# aggregate of a group of files and how the parts merge (a key of MERGE)
Query = tuple[list[pl.Expr], dict[str, tuple[pl.Expr, str]]]


@dataclass(eq=False)
class Scope:
    """Part of a store to aggregate on Ray: the events of `store.scan(start=, end=, nodes=).filter(where)`.
    Unlike that LazyFrame, it can be split by data file and sent to the workers."""

    store: Store
    start: datetime | None = None
    end: datetime | None = None
    nodes: list[str] | None = None
    where: pl.Expr | None = None

    def scan(self) -> pl.LazyFrame:
        """The scope read locally."""
        lf = self.store.scan(start=self.start, end=self.end, nodes=self.nodes)
        return lf if self.where is None else lf.filter(self.where)


@dataclass(frozen=True)
class DataFile:
    """A data file of the events table: its path (relative to the table), partition values and size."""

    path: str
    partition: dict[str, str | None]
    size: int


def event_files(scope: Scope) -> list[DataFile]:
    """The events table's live data files at the version the store's chain names, in partition order, less
    those of the partitions outside the scope's nodes and months (as `Store.scan` prunes them)."""
    st = scope.store
    dl = T.deltalake()
    with T.reading(st.loc):
        table = dl.DeltaTable(st.loc.table(T.EVENTS), version=st.head.version(T.EVENTS),
                              storage_options=st.loc.options)
        acts = pl.DataFrame(table.get_add_actions(flatten=True))
    if acts.is_empty():
        return []
    keys = T.EVENTS_PARTITIONS
    acts = acts.select("path", "size_bytes", *[pl.col(f"partition.{k}").alias(k) for k in keys])
    if scope.nodes is not None:
        acts = acts.filter(pl.col("node").is_in(list(scope.nodes)))
    if scope.start is not None:
        acts = acts.filter(pl.col("month") >= T.month_key(scope.start))
    if scope.end is not None:
        acts = acts.filter(pl.col("month") <= T.month_key(scope.end))
    acts = acts.sort([*keys, "path"], nulls_last=True)
    return [DataFile(unquote(p), dict(zip(keys, values, strict=True)), int(size))
            for p, size, *values in acts.iter_rows()]


def file_groups(files: list[DataFile], task_bytes: int | None = None) -> list[list[DataFile]]:
    """Consecutive files of about `task_bytes` (default TASK_BYTES) together, a larger file alone: one aggregate
    task each."""
    task_bytes = TASK_BYTES if task_bytes is None else task_bytes
    groups: list[list[DataFile]] = []
    size = 0
    for f in files:
        if not groups or size + f.size > task_bytes:
            groups.append([])
            size = 0
        groups[-1].append(f)
        size += f.size
    return groups


def read_files(loc: T.Location, files: list[DataFile], through_storage: bool | None = None) -> pl.LazyFrame:
    """The rows of some data files of the events table in its schema, their partition values as columns: what
    `pl.scan_delta` reads of those files. A local table's files are scanned by polars (only the columns a query
    uses are read); an object store's are fetched whole through the table's own storage (its storage options,
    and paths exactly as the Delta log names them), or so when `through_storage`."""
    if through_storage is None:
        through_storage = not loc.local
    handler = None
    frames = []
    for f in files:
        if through_storage:
            if handler is None:
                from deltalake.fs import DeltaStorageHandler

                handler = DeltaStorageHandler(loc.table(T.EVENTS), loc.options)
            with handler.open_input_stream(f.path) as stream:
                lf = pl.scan_parquet(stream.read())
        else:
            lf = pl.scan_parquet(os.path.join(loc.table(T.EVENTS), f.path), glob=False)
        have = lf.collect_schema()
        frames.append(lf.select([pl.lit(f.partition[c], pl.String).cast(t).alias(c) if c in f.partition
                                 else pl.col(c).cast(t) if c in have else pl.lit(None, t).alias(c)
                                 for c, t in T.EVENTS_SCHEMA.items()]))
    return pl.concat(frames) if frames else T.empty(T.EVENTS).lazy()


class _Part(Store):
    """A store whose events table is some of its data files: its `scan` is the store's scan of those files."""

    def __init__(self, store: Store, files: list[DataFile]) -> None:  # no super().__init__: nothing is read
        self.__dict__.update(store.__dict__)
        self.part = files

    def raw(self, name: str) -> pl.LazyFrame:
        return read_files(self.loc, self.part) if name == T.EVENTS else super().raw(name)


def partials(scope: Scope, files: list[DataFile], queries: list[Query]) -> list[pl.DataFrame]:
    """Each query's partial aggregates over the scope's events in `files` (one Ray task's work)."""
    lf = Scope(_Part(scope.store, files), scope.start, scope.end, scope.nodes, scope.where).scan()
    return pl.collect_all([lf.group_by(keys).agg([e.alias(n) for n, (e, _) in parts.items()])
                           for keys, parts in queries], engine="streaming")


def merge(queries: list[Query], parts: list[list[pl.DataFrame]]) -> list[pl.DataFrame]:
    """Each query's aggregates from the partial aggregates of every group of files (at least one)."""
    out = []
    for i, (keys, aggs) in enumerate(queries):
        names = [k.meta.output_name() for k in keys]
        frame = pl.concat([p[i] for p in parts])
        out.append(frame.group_by(names).agg([MERGE[how](n) for n, (_, how) in aggs.items()]))
    return out


def _aggregate_task(scope: Scope, files: list[DataFile], queries: list[Query]) -> list[pl.DataFrame]:
    return partials(scope, files, queries)


def grouped(scope: Scope, queries: list[Query], address: str, task_bytes: int | None = None) -> list[pl.DataFrame]:
    """The aggregates of `queries` over the scope's events as Ray tasks: one per group of the events table's data
    files (at the version the chain names), each returning partial aggregates the driver merges. The store's
    manifest and names are read here once and sent with the tasks; the workers read the data files themselves
    (a local folder must be at the same path on every machine of the cluster; an object store is reached with
    the store's storage options)."""
    st = scope.store
    with T.reading(st.loc):
        st.file_rows(), st.names_table()  # read once here (the scan's source names and actors), sent with the tasks
    files = event_files(scope)
    parts = [partials(scope, [], queries)]  # each result's columns, and the result of no file
    if files:
        ray = _ray()
        started = connect(address)
        try:
            task = ray.remote(_aggregate_task)
            shared = ray.put(scope)
            pending = [task.remote(shared, g, queries) for g in file_groups(files, task_bytes)]
            parts += ray.get(pending)
        except Exception as exc:  # a task failed: the error it raised, as a message
            cause = getattr(exc, "cause", None) or exc
            raise StoreError(f"The store at {st.loc.uri} cannot be read on Ray ({T.failure(cause)}): the workers "
                             "read its data files (a local folder must be at the same path on every machine); "
                             f"check it with `python -m audit_lib verify --store {st.loc.uri}`") from None
        finally:
            if started:
                ray.shutdown()
    return merge(queries, parts)
