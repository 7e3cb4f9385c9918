"""One ingest at a time: the lock an ingest holds on its store for as long as it writes.

Two parts, both in the store's folder:
- `.ingest.flock`, a file that is never removed, on which the ingest holds an OS lock (`fcntl.flock`, exclusive)
  for its whole run: the kernel (or the NFS lock manager) gives it to one process at a time, and frees it when
  that process ends, however it ends;
- `.ingest.lock`, the owner's record (PID, host, a random token, when): written to a temporary file first and
  linked into place, so it never exists half-written. It is removed when the ingest ends normally; one left
  behind marks an ingest that stopped (killed, or failed) before it finished, which `verify` uses to tell a
  stopped ingest's unread table versions from history removed from the chain. A record left behind is taken over
  only by a process that holds the OS lock (its owner is then gone), never when it names a live process of
  this host.
Object stores have neither: an ingest there takes no lock (run one at a time).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
import uuid
from pathlib import Path

from audit_lib.store.tables import Location, StoreError

FLOCK, RECORD = ".ingest.flock", ".ingest.lock"


class Lock:
    """Hold the store's ingest lock (a no-op for object stores). On an exception the record is left behind as
    the mark of an ingest that stopped before it finished."""

    def __init__(self, loc: Location) -> None:
        self.folder = Path(loc.uri) if loc.local else None
        self.token = uuid.uuid4().hex
        self._fd: int | None = None
        self.since = time.time()

    @property
    def record(self) -> Path | None:
        return self.folder / RECORD if self.folder else None

    def __enter__(self) -> Lock:
        if self.folder is None:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / FLOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreError(f"Another ingest is writing to this store (it holds {self.folder / FLOCK}); wait for "
                             "it to finish") from None
        self._fd = fd
        self.since = time.time()  # files written before this are no running ingest's
        try:
            self._write_record()
        except BaseException:
            self._release()
            raise
        return self

    def _write_record(self) -> None:
        assert self.folder is not None and self.record is not None
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "token": self.token,
                 "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        temp = self.folder / f".ingest.lock.{self.token}"
        temp.write_text(json.dumps(owner))
        try:
            try:
                os.link(temp, self.record)  # appears whole, or not at all
                return
            except FileExistsError:
                pass
            left = owner_of(self.folder)
            if left and left.get("host") == owner["host"] and left.get("pid") != owner["pid"] \
                    and _alive(left.get("pid")):
                raise StoreError(f"Another ingest (process {left['pid']}) is writing to this store (lock file "
                                 f"{self.record}); wait for it to finish")
            os.replace(temp, self.record)  # we hold the OS lock: the record's owner is gone
        finally:
            temp.unlink(missing_ok=True)

    def __exit__(self, kind: object, *exc: object) -> None:
        if self.folder is None:
            return
        try:
            if kind is None and (owner_of(self.folder) or {}).get("token") == self.token:
                self.record.unlink(missing_ok=True)  # type: ignore[union-attr]
        finally:
            self._release()

    def _release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def owner_of(folder: Path) -> dict | None:
    """The owner record in a store's folder (a running or a stopped ingest), or None."""
    try:
        owner = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


def held(folder: Path) -> bool:
    """Whether an ingest holds the store's OS lock now."""
    try:
        fd = os.open(folder / FLOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
