"""Chart builders: they get aggregated frames, carry tooltips and selections, and render standalone."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import audit_lib
from audit_lib.analysis import metrics
from audit_lib.render import charts

ROOT = Path(__file__).resolve().parents[2]


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


def _write(folder: Path, lines: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "audit.log").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _line(when: datetime, user: str = "admin", artifact: str = "bob") -> str:
    from tests.support import hostile

    stamp = f"{when.year:04d}-{when:%m-%d %H:%M:%S}"  # %Y gives "1", not "0001"
    return hostile.line(user, artifact, 0).replace("2026-11-03 10:00:00", stamp)


def _rows(chart) -> int:
    return sum(len(v) for v in chart.to_dict()["datasets"].values())


def test_a_year_at_hour_granularity_is_drawn_per_day(tmp_path):
    from datetime import timedelta

    start = datetime(2025, 1, 1)
    _write(tmp_path / "n1" / "repository" / "logs", [_line(start + timedelta(hours=h)) for h in range(8761)])
    ev = audit_lib.load(str(tmp_path), tz="UTC").events
    assert ev.height == 8761
    assert metrics.bucket_every(ev, "hour") == "1d"
    for by in ["artifact_type", "kind", None]:
        series = metrics.over_time(ev, "hour", by=by)
        assert 0 < series.height <= charts.MAX_ROWS
        assert series["events"].sum() == ev.height
        chart = charts.over_time_chart(series, metrics.bucket_every(ev, "hour"), brush=True)
        assert _rows(chart) == series.height
    assert metrics.user_activity(ev, "admin", "1h")["events"].sum() == ev.height


def test_fourteen_nodes_over_a_year_on_the_coverage_chart(tmp_path):
    from datetime import timedelta

    for n in range(14):
        days = [_line(datetime(2025, 1, 1, 12) + timedelta(days=d)) for d in range(365) if (d + n) % 50 != 30]
        _write(tmp_path / f"node-{n:02d}" / "repository" / "logs", days)
    log = audit_lib.load(str(tmp_path), tz="UTC")
    cov = metrics.coverage_gaps(log.events, log.files, log.tz)
    assert cov.height == 14 * 365 > charts.MAX_ROWS
    cells, every = charts.coverage_cells(cov)
    assert every == "1w" and cells.height <= charts.MAX_ROWS
    assert cells["days"].sum() == cov.height
    # a week with a missing day is not "ok"
    gaps = cells.filter(pl.col("status") != "ok")
    assert gaps.height and gaps["node"].n_unique() == 14
    chart = charts.coverage_chart(cov)
    assert _rows(chart) == cells.height
    assert charts.chart_png(chart, scale=1)[:4] == b"\x89PNG"


def test_events_centuries_apart_stay_small(tmp_path):
    """The loader keeps times from 1900 to 2199: a line at each end makes 2.6M hours, 110k days."""
    _write(tmp_path / "n1" / "repository" / "logs", [_line(datetime(1900, 1, 1)), _line(datetime(2199, 12, 31, 23))])
    log = audit_lib.load(str(tmp_path), tz="America/New_York")
    assert log.events.height == 2, log.rejects
    _small_and_safe(log.events, log.files, 1900, 2199)


def test_events_in_the_years_1_and_9999_stay_small():
    """A frame built by hand (the loader rejects such times): year 9999 west of UTC has no Python datetime."""
    ts = pl.Series([datetime(1, 1, 1), datetime(9999, 12, 31, 23)]).dt.replace_time_zone("America/New_York")
    events = audit_lib.load(ROOT / "samples", tz="America/New_York").events.head(2).with_columns(
        timestamp=ts.cast(pl.Datetime("ms", "America/New_York")))
    _small_and_safe(events, None, 1, 9999)


def _small_and_safe(ev: pl.DataFrame, files: pl.DataFrame | None, first: int, last: int) -> None:
    for every in ["hour", "day", "week"]:
        for by in ["artifact_type", None]:
            assert metrics.over_time(ev, every, by=by).height <= 2
    k = metrics.key_figures(ev)
    assert (k["first"].year, k["last"].year) == (first, last)
    assert metrics.newest_event(ev).year == last and metrics.date_bounds(ev)[1].year == last
    if files is not None:
        assert metrics.coverage_gaps(ev, files, "America/New_York").height == 2
    chart = charts.over_time_chart(metrics.over_time(ev, "hour", by=None), "1h")
    assert _rows(chart) == 2


def test_log_text_in_charts_renders_to_png(tmp_path):
    """A control character in a label used to abort the whole process inside the PNG renderer: run it in a
    child process so that a regression fails this test, not the test session."""
    import subprocess
    import sys

    from tests.support import hostile

    hostile.write_folder(tmp_path)
    code = f"""
import audit_lib
from audit_lib.render import charts
from audit_lib.analysis import metrics
log = audit_lib.load({str(tmp_path)!r})
ev = log.events
users = metrics.per_user(ev)
built = [charts.bar_chart(metrics.top_values(ev, "user", 30), "value", title="Top users"),
         charts.user_kinds_chart(metrics.user_kinds_long(users), title=users["user"][0]),
         charts.over_time_chart(metrics.over_time(ev, "hour", by="user"), "1h", title=users["user"][1]),
         charts.history_chart(metrics.with_kind(ev), row="user"),
         charts.coverage_chart(metrics.coverage_gaps(ev, log.files, log.tz))]
for c in built:
    assert charts.chart_png(c, scale=1)[:4] == b"\\x89PNG"
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


@pytest.mark.parametrize(("every", "buckets", "fmt"), [
    ("1d", 3, "%b %d"), ("1d", 60, "%b %d"), ("1h", 30, "%b %d %H:%M"), ("1w", 20, "%b %d"), ("1mo", 14, "%b %Y")])
def test_time_axis_labels_each_bucket_once(every, buckets, fmt):
    """The Timeline's axis ticks fall on whole buckets, so a day (or hour, week, month) is never labelled twice,
    and no more ticks than the width holds."""
    start = datetime(2026, 11, 2, tzinfo=UTC)
    step = {"1h": "1h", "1d": "1d", "1w": "1w"}.get(every, "1mo")
    times = pl.datetime_range(start, start + timedelta(days=800), step, eager=True, time_unit="ms").head(buckets)
    df = pl.DataFrame({"bucket": times, "events": [1] * buckets})
    axis = charts.over_time_chart(df, every).to_dict()["encoding"]["x"]["axis"]
    assert axis["format"] == fmt and "tickCount" not in axis
    labels = [datetime.fromtimestamp(v / 1000, UTC).strftime(fmt) for v in axis["values"]]
    assert len(labels) == len(set(labels)) and 2 <= len(labels) <= charts.WIDTH // charts.LABEL_PX
    drawn = {t.strftime(fmt) for t in times.to_list()}
    assert set(labels) <= drawn  # each tick is a bucket's start
