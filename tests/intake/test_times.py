"""Wall-clock times read in a zone (`intake.times`): by subtracting the offset where the zone keeps one, both ways
near a clock change; always what looking each time up both ways gives."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_lib.intake.times import both_readings, localise

# clock changes: (zone, a wall time just around one); the times tried are these, or anywhere in any of the zones
NEAR = [("Europe/Berlin", datetime(2026, 3, 29, 2, 30)), ("Europe/Berlin", datetime(2026, 10, 25, 2, 30)),
        ("America/New_York", datetime(2026, 3, 8, 2, 30)), ("America/New_York", datetime(2026, 11, 1, 1, 30)),
        ("Australia/Lord_Howe", datetime(2026, 4, 5, 1, 45)), ("Australia/Lord_Howe", datetime(2026, 10, 4, 2, 15)),
        ("Pacific/Apia", datetime(2011, 12, 30, 12)), ("Europe/Dublin", datetime(1916, 10, 1, 2, 30)),
        ("America/Sao_Paulo", datetime(2018, 11, 4, 0, 30)), ("Asia/Tehran", datetime(2022, 3, 22, 0, 30)),
        ("Europe/Amsterdam", datetime(1937, 7, 1, 0, 0))]
ZONES = sorted({z for z, _ in NEAR} | {"Asia/Kolkata", "UTC"})


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(NEAR),
                 st.tuples(st.sampled_from(ZONES), st.datetimes(datetime(1901, 1, 1), datetime(2099, 1, 1)))),
       st.lists(st.integers(-3 * 86_400_000, 3 * 86_400_000), min_size=1, max_size=30), st.booleans())
def test_times_far_from_any_clock_change_are_read_as_when_both_readings_are_compared(at, offsets, spread):
    """`localise` reads a time by subtracting its offset where the zone keeps one around it (for all the times, or
    piece by piece between clock changes): the result is the one that looking each time up both ways gives,
    near clock changes (Lord Howe's half hour, Apia's lost day, offsets with seconds) and far."""
    zone, base = at
    scale = 1 if spread else 1 / 20  # spread over days, or over hours
    wall = pl.Series([base + timedelta(milliseconds=int(o * scale)) for o in offsets], dtype=pl.Datetime("ms"))
    got, want = localise(wall, zone), both_readings(wall, zone)
    for g, w in zip(got, want, strict=True):
        assert g.equals(w), (zone, base)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"])
def test_a_year_of_times_read_piece_by_piece_between_clock_changes_as_each_looked_up(zone):
    """Two years of times every 7 minutes and 13 seconds: read by subtracting each piece's offset between the
    clock changes, and both ways within a day of one, as looking each one up."""
    wall = pl.datetime_range(datetime(2025, 1, 1), datetime(2026, 12, 31), "433s", time_unit="ms", eager=True)
    got, want = localise(wall, zone), both_readings(wall, zone)
    for g, w in zip(got, want, strict=True):
        assert g.equals(w)
    assert (int(got[2].sum()) > 0) == (zone != "Asia/Kolkata")  # the hours repeated when the clocks go back
