"""Parsing on Ray: each group of files becomes a Ray task that parses the bytes it is sent (so the workers
need no access to the files) and returns the store's rows; the driver streams the results, in order, into the
one commit of the ingest. `address` is a running cluster (`ray start --head` here, `ray start --address` on the
other machines; give its address, or `auto`), or `local` for a Ray instance on this machine alone."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path

from audit_lib.sources import Limits
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
    from audit_lib.store.ingest import parse_payloads

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
