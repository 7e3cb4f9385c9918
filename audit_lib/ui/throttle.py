"""Sign-in attempts, throttled for the whole server process (every session shares `THROTTLE`).

Each failure counts against the account (the configured password) and against the client's address. After
`free` failures of a key, every further failure locks it for twice as long as the last (`base` seconds, then
2x, 4x, ... up to `cap`); a locked key refuses attempts without checking the password, the right one too. A
key's failures are forgotten after `forget` seconds without one; a success clears the address. At most
`concurrent` password checks run at once: scrypt takes 32 MiB each, so many sessions cannot exhaust memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

MAX_KEYS = 10_000  # addresses remembered; beyond that, those whose lock has passed are forgotten


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0
    until: float = 0.0


class Throttle:
    """Failure counts and locks per key (`account:...`, `address:...`), and a bound on concurrent checks."""

    def __init__(self, *, free: int = 5, base: float = 2.0, cap: float = 900.0, forget: float = 3600.0,
                 concurrent: int = 2, clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.base, self.cap, self.forget, self.clock = free, base, cap, forget, clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(concurrent)

    def wait(self, keys: Sequence[str]) -> float:
        """Seconds until an attempt is allowed for every key (0: now)."""
        now = self.clock()
        with self._lock:
            return max([0.0] + [r.until - now for k in keys if (r := self._records.get(k))])

    def failed(self, keys: Sequence[str]) -> None:
        now = self.clock()
        with self._lock:
            if len(self._records) > MAX_KEYS:
                self._records = {k: r for k, r in self._records.items() if r.until > now}
            for key in keys:
                r = self._records.setdefault(key, _Record())
                if now - r.last > self.forget:
                    r.failures = 0
                r.failures += 1
                r.last = now
                if r.failures > self.free:
                    r.until = now + min(self.cap, self.base * 2 ** (r.failures - self.free - 1))

    def succeeded(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                self._records.pop(key, None)

    @contextmanager
    def slot(self, timeout: float = 5.0) -> Iterator[bool]:
        """One of the `concurrent` places to check a password; False when none freed up within `timeout`."""
        got = self._slots.acquire(timeout=timeout)
        try:
            yield got
        finally:
            if got:
                self._slots.release()


THROTTLE = Throttle()
