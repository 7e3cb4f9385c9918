"""The bounded background producer: order, errors, back-pressure, stopping early."""

from __future__ import annotations

import time

import pytest

from audit_lib.intake.background import prefetched


def test_items_arrive_in_order():
    assert list(prefetched(iter(range(100)), ahead=3)) == list(range(100))


def test_an_error_in_the_producer_reaches_the_consumer():
    def items():
        yield 1
        raise ValueError("damaged")

    got = []
    with pytest.raises(ValueError, match="damaged"):
        for x in prefetched(items()):
            got.append(x)
    assert got == [1]


def test_the_producer_stays_a_bounded_number_of_items_ahead_and_stops_with_the_consumer():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    it = prefetched(items(), ahead=2)
    assert next(it) == 0
    time.sleep(0.3)
    assert len(produced) <= 4  # the one consumed, two queued, one waiting to be queued
    it.close()
    time.sleep(0.5)
    assert len(produced) <= 5  # closed: the producer stopped instead of running through all 1,000
