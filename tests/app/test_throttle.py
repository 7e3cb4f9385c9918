"""The sign-in throttle on a clock the test moves: free failures, locks that double up to the cap, failures
forgotten after a quiet hour, a success that clears the address, and the bound on concurrent checks."""

from __future__ import annotations

import threading

from audit_lib.ui.throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


KEYS = ("account:a", "address:10.0.0.9")


def test_locks_double_up_to_the_cap_and_are_forgotten() -> None:
    clock = Clock()
    t = Throttle(free=5, base=2.0, cap=60.0, forget=3600.0, clock=clock)
    for _ in range(5):
        t.failed(KEYS)
        assert t.wait(KEYS) == 0  # five free failures
    waits = []
    for _ in range(6):
        t.failed(KEYS)
        waits.append(t.wait(KEYS))
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0]  # doubling, capped
    clock.now += 61
    assert t.wait(KEYS) == 0
    clock.now += 3601  # an hour without a failure: counted afresh
    t.failed(KEYS)
    assert t.wait(KEYS) == 0
    t.failed(("account:a",))
    t.succeeded(KEYS[1:])  # a success clears the address, never the account
    assert t.wait(("address:10.0.0.9",)) == 0


def test_other_keys_are_not_locked() -> None:
    clock = Clock()
    t = Throttle(free=0, base=5.0, clock=clock)
    t.failed(("address:10.0.0.9",))
    assert t.wait(("address:10.0.0.9",)) == 5.0 and t.wait(("address:10.0.0.10",)) == 0


def test_at_most_the_given_number_of_checks_run_at_once() -> None:
    t = Throttle(concurrent=2)
    inside, release = threading.Barrier(3), threading.Event()
    results: list[bool] = []

    def hold() -> None:
        with t.slot(timeout=5) as got:
            results.append(got)
            inside.wait()
            release.wait(5)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for h in holders:
        h.start()
    inside.wait(5)
    with t.slot(timeout=0.2) as third:
        assert third is False  # both places taken
    release.set()
    for h in holders:
        h.join()
    with t.slot(timeout=0.2) as again:
        assert again is True
    assert results == [True, True]
