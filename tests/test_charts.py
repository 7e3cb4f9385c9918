"""Chart builders: they get aggregated frames, carry tooltips and selections, and render standalone."""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

import audit_lib
from audit_lib import charts, metrics

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def events() -> pl.DataFrame:
    return audit_lib.load(ROOT / "samples", tz="UTC").events


def _values(chart) -> list[dict]:
    spec = chart.to_dict()
    return next(iter(spec["datasets"].values()))


def _has(spec: dict | list, key: str) -> bool:
    if isinstance(spec, dict):
        return key in spec or any(_has(v, key) for v in spec.values())
    if isinstance(spec, list):
        return any(_has(v, key) for v in spec)
    return False


def test_over_time_chart_uses_wall_clock_and_selections(events):
    series = metrics.over_time(events, "day")
    chart = charts.over_time_chart(series, "day", brush=True)
    spec = chart.to_dict()
    names = {p["name"] for p in spec["params"]}
    assert {charts.BRUSH, charts.PICK} <= names
    assert _has(spec, "tooltip")
    rows = _values(chart)
    assert len(rows) == series.height
    assert rows[0]["bucket"].endswith("T00:00:00.000Z")  # wall-clock midnight of the log's zone


def test_wall_clock_in_other_zone(events):
    local = events.with_columns(pl.col("timestamp").dt.convert_time_zone("Asia/Colombo"))
    rows = _values(charts.over_time_chart(metrics.over_time(local, "day"), "day"))
    assert rows[0]["bucket"].endswith("T00:00:00.000Z")  # buckets start at local midnight


def test_chart_refuses_unaggregated_frames():
    big = pl.DataFrame({"bucket": [datetime(2026, 1, 1, tzinfo=UTC)] * (charts.MAX_ROWS + 1), "events": 1})
    with pytest.raises(ValueError, match="aggregate first"):
        charts.over_time_chart(big)


def test_every_builder_renders_to_png(events):
    log_files = audit_lib.load(ROOT / "samples", tz="UTC").files
    built = [
        charts.activity_dashboard(metrics.over_time(events, "day", top=10)),
        charts.user_kinds_chart(metrics.user_kinds_long(metrics.per_user(events))),
        charts.bar_chart(metrics.top_values(events, "user"), "value", title="Top users"),
        charts.weekday_hour_chart(metrics.weekday_hour(events)),
        charts.history_chart(metrics.artifact_history(events, "proxy_service", "OrderProxy")),
        charts.coverage_chart(metrics.coverage_gaps(events, log_files)),
    ]
    for c in built:
        assert _has(c.to_dict(), "tooltip")
    png = charts.chart_png(built[3], scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000


def test_history_chart_caps_points(events):
    hist = metrics.with_kind(pl.concat([events] * 2))
    chart = charts.history_chart(hist, row="artifact_type")
    assert len(_values(chart)) == charts.MAX_POINTS


def test_user_kinds_chart_orders_users_by_activity(events):
    users = metrics.per_user(events)
    chart = charts.user_kinds_chart(metrics.user_kinds_long(users, top=5))
    assert chart.to_dict()["encoding"]["y"]["sort"] == users["user"].head(5).to_list()


def test_brush_range_reads_streamlit_selection():
    sel = {charts.BRUSH: {"bucket": [1793404800000, 1793491200000]}}  # 2026-10-31 00:00Z, 2026-11-01 00:00Z
    lo, hi = charts.brush_range(sel, "Asia/Colombo")
    assert (lo.day, lo.hour, hi.day, hi.hour) == (31, 0, 1, 0) and str(lo.tzinfo) == "Asia/Colombo"
    assert charts.brush_range({}, "UTC") is None
    assert charts.brush_range({charts.BRUSH: {}}, "UTC") is None
