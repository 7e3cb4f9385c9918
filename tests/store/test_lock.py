"""The ingest lock against real processes racing: the lock alone, and whole `ingest` commands started at the same
instant into one store. Never two holders, never two commits, and the store verifies intact after."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

import audit_lib

pytest.importorskip("deltalake", reason="the event store needs requirements-store.txt (deltalake)")

from audit_lib.store import Location, StoreError, open_store_log, verify  # noqa: E402
from audit_lib.store.lock import RECORD, Lock, held, owner_of  # noqa: E402
from tests.store.test_store import mi_lines  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# each process tries the lock at the same instants (trial k at START + k * SLOT) and records how long it held it
RACER = """
import json, os, sys, time
from audit_lib.store import Location, StoreError
from audit_lib.store.lock import Lock
folder, start, trials, slot, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
with open(out, "a") as log:
    for k in range(trials):
        time.sleep(max(0.0, start + k * slot - time.time()))
        try:
            with Lock(Location.of(folder)):
                began = time.time()
                time.sleep(slot / 3)
                ended = time.time()
            log.write(json.dumps([k, os.getpid(), began, ended]) + "\\n")
        except StoreError:
            pass
"""


def test_the_lock_alone_has_one_holder_at_a_time(tmp_path: Path) -> None:
    folder, out, trials, slot = tmp_path / "store", tmp_path / "held.jsonl", 50, 0.12
    start = time.time() + 3  # after every process has imported
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(folder), str(start), str(trials), str(slot), str(out)],
                              cwd=ROOT) for _ in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    spans = sorted(json.loads(line) for line in out.read_text().splitlines())
    assert {k for k, *_ in spans} == set(range(trials))  # every trial had a holder
    by_time = sorted(spans, key=lambda s: s[2])
    for (_, _, _, ended), (_, _, began, _) in zip(by_time, by_time[1:], strict=False):
        assert began >= ended  # never two holders at once
    assert not (folder / RECORD).exists() and not held(folder)


def test_a_record_left_by_a_killed_ingest_is_taken_over_and_a_live_one_is_not(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom audit_lib.store import Location\n"
                               "from audit_lib.store.lock import Lock\nwith Lock(Location.of(sys.argv[1])):\n"
                               "    print('held', flush=True); time.sleep(60)", str(folder)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    assert held(folder) and owner_of(folder)["pid"] == holder.pid
    with pytest.raises(StoreError, match="Another ingest"):
        Lock(Location.of(folder)).__enter__()
    holder.kill()
    holder.wait()
    assert owner_of(folder)["pid"] == holder.pid and not held(folder)  # left behind, its OS lock freed
    with Lock(Location.of(folder)) as lock:
        assert owner_of(folder)["token"] == lock.token
    assert owner_of(folder) is None
    # a record naming a live process of this host is not broken, even with the OS lock free
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (folder / RECORD).write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname(), "token": "x"}))
        with pytest.raises(StoreError, match=f"process {sleeper.pid}"):
            Lock(Location.of(folder)).__enter__()
        assert not held(folder)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_ingests_started_at_the_same_instant_commit_once(tmp_path: Path) -> None:
    logs = tmp_path / "mi" / "mi-a" / "repository" / "logs"
    logs.mkdir(parents=True)
    (logs / "audit.log").write_text(mi_lines(datetime(2026, 11, 20, 8), 400))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for round_ in range(6):
        store = tmp_path / f"store-{round_}"
        start = time.time() + 4
        code = ("import sys, time; from audit_lib.cli import main; "
                "time.sleep(max(0, float(sys.argv[1]) - time.time())); sys.exit(main(sys.argv[2:]))")
        procs = [subprocess.Popen([sys.executable, "-c", code, str(start), "ingest", str(tmp_path / "mi"),
                                   "--store", str(store), "--json"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
        committed = [json.loads(out)["seq"] for rc, out, _ in results if rc == 0 and json.loads(out)["seq"]]
        refused = [err for rc, _, err in results if rc != 0]
        assert committed == [1], results
        assert all("Another ingest" in err and "Traceback" not in err for err in refused), refused
        rep = verify(store, [tmp_path / "mi"])
        assert rep.ok and rep.entries == 1, rep.problems
        assert open_store_log(store).events.height == 400


KILLED = """
import os, signal, sys
import audit_lib.store.tables as T
from audit_lib.store import ingest
real, written = T._put, []
def put(*args):
    real(*args)
    written.append(1)
    if len(written) == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)
T._put = put
ingest(sys.argv[1], sys.argv[2])
"""


def test_a_killed_ingest_leaves_files_the_next_ingest_removes(estate: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest_cmd = [sys.executable, "-m", "audit_lib", "ingest", "--store", str(store)]
    assert subprocess.run([*ingest_cmd, str(estate / "is-node")], cwd=ROOT, capture_output=True).returncode == 0
    committed = sorted((store / "events").rglob("*.parquet"))
    for after in (2, 3):  # killed -9 after writing data files, before committing them
        r = subprocess.run([sys.executable, "-c", KILLED, str(estate), str(store), str(after)], cwd=ROOT)
        assert r.returncode == -9
        stray = set((store / "events").rglob("*.parquet")) - set(committed)
        assert len(stray) == after  # (the next killed ingest removed those of the one before)
        assert verify(store).ok and owner_of(store) is not None and not held(store)
    r = subprocess.run([*ingest_cmd, str(estate)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not stray & set((store / "events").rglob("*.parquet"))  # every uncommitted file removed
    assert set(committed) <= set((store / "events").rglob("*.parquet"))  # the committed ones kept
    assert verify(store, [estate]).ok
    assert open_store_log(store).events.height == audit_lib.load(estate).events.height
