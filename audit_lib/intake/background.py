"""Run a producer in a background thread, a bounded number of items ahead of its consumer."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")


def prefetched(items: Iterator[T], ahead: int = 2) -> Iterator[T]:
    """`items`, produced in a background thread at most `ahead` items in advance (bounded memory); an error in
    the producer is raised in the consumer, and the producer stops when the consumer does."""
    q: queue.Queue = queue.Queue(maxsize=ahead)
    done = object()
    stop = threading.Event()

    def run() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # re-raised in the consumer
            q.put(exc)
            return
        q.put(done)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        while (item := q.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
