"""Altair chart builders, fed by the small frames of `audit_lib.analysis.metrics`.

The charts are plain Vega-Lite: they render in the app, in a notebook and to PNG through vl-convert
(`chart_png`). Times are sent as wall-clock text of the log's zone and drawn on a UTC scale, so a chart
shows the same hours whatever the zone of the browser or the machine that renders it. Text from the logs
(names, titles) is sent with its control and invisible characters as escapes (`audit_lib.render.textsafe`): the PNG
renderer aborts the whole process on a control character in a label.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import altair as alt
import polars as pl

from audit_lib.analysis.metrics import EVERY, EVERY_NAME, KINDS, OTHER, WEEKDAYS
from audit_lib.render.textsafe import visible, visible_column

MAX_ROWS = 5000  # a chart never gets more rows than this (altair's own limit)
MAX_POINTS = 2000  # point charts (histories) show at most the latest this many events
WIDTH = 720
KIND_COLORS = ["#2ca02c", "#98df8a", "#d62728", "#1f77b4", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f",
               "#9467bd", "#c5b0d5", "#bcbd22"]
STAR = "M0,-1L0.24,-0.33L0.95,-0.31L0.38,0.12L0.59,0.81L0,0.4L-0.59,0.81L-0.38,0.12L-0.95,-0.31L-0.24,-0.33Z"
HEXAGON = "M1,0L0.5,0.87L-0.5,0.87L-1,0L-0.5,-0.87L0.5,-0.87Z"
# one filled shape per kind of action (in the order of KINDS), so that the dots read without their colour too
KIND_SHAPES = ["circle", "square", "cross", "triangle-up", "diamond", "triangle-down", "triangle-right",
               "triangle-left", STAR, HEXAGON, "triangle"]
STATUS_COLORS = {"ok": "#9ecae1", "day off": "#e5e5e5", "no events": "#fdae6b", "partial": "#9467bd",
                 "no file": "#d62728"}
BRUSH = "brush"  # name of the time-interval selection of `over_time_chart(..., brush=True)`
PICK = "pick"  # name of the legend / click selection on the stacked group


LABEL = {"1h": "%Y-%m-%d %H:00", "1d": "%Y-%m-%d (%a)", "1w": "week of %Y-%m-%d", "1mo": "%B %Y",
         "1q": "quarter from %Y-%m", "1y": "%Y", "10y": "decade from %Y", "100y": "century from %Y",
         "1000y": "millennium from %Y"}
HISTORY_AXIS = "%b %d %H:%M"
AXIS = {"1h": "%b %d %H:%M", "1d": "%b %d", "1w": "%b %d", "1mo": "%b %Y", "1q": "%b %Y", "1y": "%Y", "10y": "%Y",
        "100y": "%Y", "1000y": "%Y"}


def _wall(df: pl.DataFrame, column: str, every: str = "1s") -> pl.DataFrame:
    """Replace an aware time column by its wall-clock text marked UTC, plus `<column>_label` for tooltips."""
    fmt = LABEL.get(every, "%Y-%m-%d %H:%M:%S")
    col = pl.col(column)
    return df.with_columns(col.dt.strftime(fmt).alias(f"{column}_label"),
                           col.dt.strftime("%Y-%m-%dT%H:%M:%S.%3fZ").alias(column))


def _check(df: pl.DataFrame) -> pl.DataFrame:
    """`df` if it is small enough for a chart, with its text columns made safe to draw (see `_safe`)."""
    if df.height > MAX_ROWS:
        raise ValueError(f"A chart was given {df.height} rows; aggregate first (at most {MAX_ROWS}).")
    return _safe(df)


def _safe(df: pl.DataFrame) -> pl.DataFrame:
    """Text columns with control, bidi and invisible characters as escapes (each distinct value once)."""
    text = [c for c, t in df.schema.items() if t in (pl.String, pl.Categorical)]
    return df.with_columns(visible_column(c) for c in text) if text else df


def _bar_size(data: pl.DataFrame, width: int) -> float:
    """Bar width in pixels so that the buckets fill about 80% of the plot."""
    n = max(data["bucket"].n_unique(), 1)
    return max(1.0, min(40.0, 0.8 * width / n))


def utc_axis(fmt: str, **kwargs) -> alt.Axis:
    """An axis whose labels are the wall-clock times `fmt` (strftime, 24-hour) of values drawn on a UTC scale.
    The labels are set by expression: Vega-Lite drops `format` with `formatType="utc"`, and without a format
    Vega labels hours in 12-hour form ("03 PM")."""
    return alt.Axis(format=fmt, labelExpr=f"utcFormat(datum.value, '{fmt}')", **kwargs)


# each bucket as a polars interval: the axis ticks fall on whole buckets only
TICK_EVERY = {"1h": ("h", 1), "1d": ("d", 1), "1w": ("w", 1), "1mo": ("mo", 1), "1q": ("mo", 3), "1y": ("y", 1),
              "10y": ("y", 10), "100y": ("y", 100), "1000y": ("y", 1000)}
LABEL_PX = 72  # room a time label needs on the axis


def tick_values(data: pl.DataFrame, every: str, width: int = WIDTH) -> list[int] | None:
    """The ticks of a time axis over the chart's buckets (epoch ms of wall-clock times marked UTC): whole buckets,
    every so many that the labels fit, so that a day is never labelled twice ("Nov 03, Nov 03") however few
    buckets there are."""
    if every not in TICK_EVERY or data.is_empty():
        return None
    t = data["bucket"].str.to_datetime("%Y-%m-%dT%H:%M:%S%.3fZ", time_unit="ms")
    lo, hi = t.min(), t.max()
    unit, size = TICK_EVERY[every]
    days = {"h": 1 / 24, "d": 1, "w": 7, "mo": 28, "y": 365}[unit] * size
    if (hi - lo).total_seconds() / 86400 / days > 100_000:  # sparse buckets over ages: let Vega choose
        return None
    every_one = pl.datetime_range(lo, hi, f"{size}{unit}", eager=True, time_unit="ms")
    step = max(1, -(-every_one.len() // max(1, width // LABEL_PX)))
    return every_one.gather_every(step).dt.epoch("ms").to_list()


def _time_x(field: str, every: str, title: str | None = None, data: pl.DataFrame | None = None,
            width: int = WIDTH) -> alt.X:
    fmt = AXIS.get(every, "%b %d")
    ticks = tick_values(data, every, width) if data is not None else None
    extra = {"values": ticks} if ticks else {}
    return alt.X(f"{field}:T", title=title, scale=alt.Scale(type="utc"),
                 axis=utc_axis(fmt, labelOverlap=True, labelAngle=0, **extra))


def over_time_chart(df: pl.DataFrame, every: str = "1d", *, group_title: str = "artifact type", brush: bool = False,
                    height: int = 260, width: int = WIDTH, title: str = "Events over time") -> alt.Chart:
    """Bars of `metrics.over_time` output: stacked by `group` when present (click the legend to pick groups),
    with an optional x interval selection named BRUSH."""
    every = EVERY.get(every, every)
    data = _wall(_check(df), "bucket", every)
    base = alt.Chart(data, title=visible(title), height=height, width=width)
    tooltip = [alt.Tooltip("bucket_label:N", title="from"), alt.Tooltip("events:Q", title="events", format=",")]
    enc: dict = {"x": _time_x("bucket", every, data=data, width=width),
                 "y": alt.Y("sum(events):Q", title="events")}
    params = []
    if "group" in data.columns:
        groups = data.group_by("group").agg(pl.col("events").sum()).sort(
            ["events", "group"], descending=[True, False])["group"].to_list()
        if OTHER in groups:
            groups = [g for g in groups if g != OTHER] + [OTHER]
        pick = alt.selection_point(fields=["group"], bind="legend", name=PICK)
        params.append(pick)
        # kinds of action keep the colours they have in every other chart
        scale = (alt.Scale(domain=KINDS, range=KIND_COLORS) if set(groups) <= set(KINDS)
                 else alt.Scale(scheme="tableau20"))
        enc["color"] = alt.Color("group:N", title=group_title, sort=groups, scale=scale,
                                 legend=alt.Legend(orient="right", labelLimit=180, symbolLimit=30))
        enc["opacity"] = alt.condition(pick, alt.value(1.0), alt.value(0.15))
        enc["order"] = alt.Order("group_order:Q")
        data = data.with_columns(group_order=pl.col("group").replace_strict(groups, list(range(len(groups))),
                                                                            default=len(groups)))
        base = alt.Chart(data, title=visible(title), height=height, width=width)
        tooltip.insert(0, alt.Tooltip("group:N", title=group_title))
    if brush:
        params.append(alt.selection_interval(encodings=["x"], name=BRUSH))
    return base.mark_bar(size=_bar_size(data, width)).encode(**enc, tooltip=tooltip).add_params(*params)


def activity_dashboard(df: pl.DataFrame, every: str = "1d", *, group_title: str = "artifact type",
                       width: int = WIDTH) -> alt.VConcatChart:
    """Stacked events over time above the totals per group: click a bar (or the legend) to show only
    that group over time; shift-click for several."""
    every = EVERY.get(every, every)
    data = _wall(_check(df), "bucket", every)
    pick = alt.selection_point(fields=["group"], name=PICK, bind="legend")
    totals = data.group_by("group").agg(pl.col("events").sum()).sort(["events", "group"], descending=[True, False])
    order = [g for g in totals["group"].to_list() if g != OTHER] + ([OTHER] if OTHER in totals["group"] else [])
    color = alt.Color("group:N", title=group_title, sort=order, scale=alt.Scale(scheme="tableau20"),
                      legend=alt.Legend(orient="right", labelLimit=180))
    time = (alt.Chart(data, height=240, width=width, title="Events over time").mark_bar(size=_bar_size(data, width))
            .encode(x=_time_x("bucket", every, data=data, width=width),
                    y=alt.Y("sum(events):Q", title="events"), color=color,
                    tooltip=[alt.Tooltip("group:N", title=group_title), alt.Tooltip("bucket_label:N", title="from"),
                             alt.Tooltip("events:Q", format=",")])
            .transform_filter(pick))
    bars = (alt.Chart(totals, height=max(80, 24 * totals.height), width=width,
                      title=f"Events per {group_title} (click to focus)").mark_bar()
            .encode(y=alt.Y("group:N", sort=order, title=None, axis=alt.Axis(labelLimit=220)),
                    x=alt.X("events:Q", title="events"), color=color,
                    opacity=alt.condition(pick, alt.value(1.0), alt.value(0.3)),
                    tooltip=[alt.Tooltip("group:N", title=group_title), alt.Tooltip("events:Q", format=",")])
            .add_params(pick))
    return alt.vconcat(time, bars).resolve_scale(color="shared")


def bar_chart(df: pl.DataFrame, category: str, value: str = "events", *, title: str = "", color: str = "#ff7300",
              limit: int = 20, width: int = WIDTH, extra_tooltip: list[str] | None = None) -> alt.Chart:
    """Horizontal bars of `value` per `category`, largest first (the first `limit` rows of `df`)."""
    data = _check(df).head(limit).with_columns(pl.col(category).cast(pl.String))
    order = data[category].to_list()
    tips = [alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{value}:Q", format=",")]
    tips += [alt.Tooltip(c) for c in (extra_tooltip or []) if c in data.columns]
    hover = alt.selection_point(on="pointerover", fields=[category], empty=False)
    return (alt.Chart(data, title=visible(title), height=max(80, 22 * data.height), width=width).mark_bar(color=color)
            .encode(y=alt.Y(f"{category}:N", sort=order, title=None, axis=alt.Axis(labelLimit=240)),
                    x=alt.X(f"{value}:Q", title=value),
                    opacity=alt.condition(hover, alt.value(0.75), alt.value(1.0)), tooltip=tips)
            .add_params(hover))


def user_kinds_chart(df: pl.DataFrame, *, width: int = WIDTH, title: str = "Actions per user, by kind") -> alt.Chart:
    """Stacked horizontal bars of `metrics.user_kinds_long` output; click the legend to pick kinds."""
    data = _check(df)
    users = data.sort("order")["user"].unique(maintain_order=True).to_list()
    kinds = [k for k in KINDS if k in set(data["kind"].to_list())]
    pick = alt.selection_point(fields=["kind"], bind="legend", name=PICK)
    return (alt.Chart(data, title=visible(title), height=max(80, 24 * len(users)), width=width).mark_bar()
            .encode(y=alt.Y("user:N", sort=users, title=None, axis=alt.Axis(labelLimit=240)),
                    x=alt.X("sum(events):Q", title="events"),
                    color=alt.Color("kind:N", sort=KINDS, scale=alt.Scale(domain=KINDS, range=KIND_COLORS),
                                    legend=alt.Legend(values=kinds, title="kind of action")),
                    order=alt.Order("kind_order:Q"),
                    opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
                    tooltip=["user:N", "kind:N", alt.Tooltip("events:Q", format=",")])
            .transform_calculate(kind_order=f"indexof({KINDS!r}, datum.kind)")
            .add_params(pick))


def weekday_hour_chart(df: pl.DataFrame, *, width: int = WIDTH, title: str = "Weekday x hour of day") -> alt.LayerChart:
    """Heatmap of `metrics.weekday_hour` output; off-hours cells (before/after work, weekends) are outlined."""
    data = _check(df).with_columns(when=pl.when(pl.col("off_hours")).then(pl.lit("off-hours"))
                                   .otherwise(pl.lit("working hours")))
    base = alt.Chart(data, title=visible(title), width=width, height=210)
    x = alt.X("hour:O", title="hour of day", axis=alt.Axis(labelAngle=0))
    y = alt.Y("day:N", sort=WEEKDAYS, title=None)
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        x=x, y=y, color=alt.Color("events:Q", title="events", scale=alt.Scale(scheme="oranges")),
        tooltip=[alt.Tooltip("day:N"), alt.Tooltip("hour:O"), alt.Tooltip("events:Q", format=","),
                 alt.Tooltip("when:N", title="")])
    off = base.transform_filter("datum.off_hours").mark_rect(fill=None, stroke="#555", strokeWidth=0.6,
                                                            strokeDash=[2, 2]).encode(x=x, y=y)
    return alt.layer(cells, off)


def history_chart(df: pl.DataFrame, *, row: str = "user", width: int = WIDTH, title: str = "History") -> alt.Chart:
    """Points per event of `metrics.artifact_history` (or any frame with timestamp, user, action, kind):
    one line per `row` value (user by default), coloured and shaped by kind of action, with a legend of the kinds
    drawn (click it to pick kinds). Only the latest MAX_POINTS events are drawn."""
    extra = [c for c in ["user", "outcome", "node", "state", "artifact", "artifact_type"]
             if c in df.columns and c != row]
    data = df.tail(MAX_POINTS).select("timestamp", row, "action", "kind", *extra)
    data = _safe(_wall(data, "timestamp"))
    users = data[row].unique().sort().to_list()
    pick = alt.selection_point(fields=["kind"], bind="legend", name=PICK)
    # one legend for colour and shape (the same field and title merge), listing the kinds drawn
    present = [k for k in KINDS if k in set(data["kind"].to_list())]
    legend = alt.Legend(values=present, orient="right", symbolSize=80, labelLimit=180)
    tips = [alt.Tooltip("timestamp_label:N", title="time"), f"{row}:N", "action:N"]
    tips += [alt.Tooltip(f"{c}:N") for c in extra]
    return (alt.Chart(data, title=visible(title), width=width, height=max(90, 30 * len(users)))
            .mark_point(filled=True, size=80)
            .encode(x=alt.X("timestamp:T", title=None, scale=alt.Scale(type="utc", padding=12),
                            axis=utc_axis(HISTORY_AXIS, labelOverlap=True)),
                    y=alt.Y(f"{row}:N", sort=users, title=None, axis=alt.Axis(labelLimit=220)),
                    color=alt.Color("kind:N", sort=KINDS, scale=alt.Scale(domain=KINDS, range=KIND_COLORS),
                                    title="kind of action", legend=legend),
                    shape=alt.Shape("kind:N", sort=KINDS, scale=alt.Scale(domain=KINDS, range=KIND_SHAPES),
                                    title="kind of action", legend=legend),
                    opacity=alt.condition(pick, alt.value(1.0), alt.value(0.1)), tooltip=tips)
            .add_params(pick))


def coverage_cells(df: pl.DataFrame, max_rows: int = MAX_ROWS) -> tuple[pl.DataFrame, str]:
    """`metrics.coverage_gaps` output with at most `max_rows` rows, and the width of a cell ("1d", "1w",
    "1mo", ...): with too many node-days (14 nodes over a year), one cell per node and week, month or year,
    whose status is the worst of its days (a "no file" day makes the week "no file") and `days` counts them."""
    cells = df.with_columns(days=pl.lit(1, pl.UInt32))
    if df.height <= max_rows:
        return cells, "1d"
    order = list(STATUS_COLORS)  # from best to worst; an unknown status counts as the worst
    rank = pl.col("status").replace_strict(order, list(range(len(order))), default=len(order))
    for every in ("1w", "1mo", "1y", "10y", "100y", "1000y"):
        cells = (df.with_columns(day=pl.col("day").dt.truncate(every), rank=rank)
                 .group_by("node", "day")
                 .agg(pl.col("files").sum(), pl.col("events").sum(), days=pl.len().cast(pl.UInt32),
                      status=pl.col("status").sort_by("rank").last())
                 .sort("node", "day"))
        if cells.height <= max_rows:
            break
    return cells, every


def coverage_chart(df: pl.DataFrame, *, width: int = WIDTH, title: str = "Coverage per node and day") -> alt.Chart:
    """Node x day grid of `metrics.coverage_gaps` output coloured by status (ok / no events / no file); with
    more node-days than a chart takes, node x week (month, year) cells with the worst status of their days."""
    cells, every = coverage_cells(df)
    label = {"1d": "%Y-%m-%d (%a)", "1w": "week of %Y-%m-%d"}.get(every, LABEL.get(every, "%Y-%m-%d"))
    data = _check(cells).with_columns(label=pl.col("day").dt.strftime(label),
                                      day=pl.col("day").dt.strftime("%Y-%m-%dT00:00:00Z"))
    nodes = data["node"].unique().sort().to_list()
    statuses = list(STATUS_COLORS) + sorted(set(data["status"].to_list()) - set(STATUS_COLORS))
    colors = list(STATUS_COLORS.values()) + ["#7f7f7f"] * (len(statuses) - len(STATUS_COLORS))
    what = EVERY_NAME.get(every, every)
    return (alt.Chart(data, title=visible(title), width=width, height=max(60, 28 * len(nodes)))
            .mark_rect(stroke="white")
            .encode(x=alt.X("day:O", title=None if every == "1d" else f"one cell per {what}",
                            timeUnit="utcyearmonthdate",
                            axis=utc_axis(AXIS.get(every, "%b %d"), labelAngle=-90,
                                          labelOverlap=True)),
                    y=alt.Y("node:N", sort=nodes, title=None, axis=alt.Axis(labelLimit=200)),
                    color=alt.Color("status:N", scale=alt.Scale(domain=statuses, range=colors), title=what),
                    tooltip=["node:N", alt.Tooltip("label:N", title=what), "status:N", alt.Tooltip("days:Q"),
                             alt.Tooltip("files:Q"), alt.Tooltip("events:Q", format=",")]))


def brush_range(selection: dict | None, tz: str) -> tuple[datetime, datetime] | None:
    """The [start, end] picked with the BRUSH interval, as aware times in `tz`, from the selection state
    Streamlit returns for `over_time_chart(..., brush=True)`; None when nothing is selected."""
    if not selection:
        return None
    interval = selection.get(BRUSH) or {}
    values = interval.get("bucket") if isinstance(interval, dict) else None
    if not values or len(values) != 2:
        return None
    zone = ZoneInfo(tz)
    out = []
    for v in values:  # sent by the browser: anything that is not a time in range means no selection
        try:
            if isinstance(v, int | float):
                t = datetime.fromtimestamp(v / 1000, UTC)
            else:
                t = datetime.fromisoformat(str(v).replace("Z", "+00:00"))
        except (ValueError, OverflowError, OSError, TypeError):
            return None
        out.append(t.replace(tzinfo=None).replace(tzinfo=zone))
    lo, hi = sorted(out)
    return (lo, hi) if hi > lo else None


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0, config: dict | None = None) -> bytes:
    """The chart as a PNG image (through vl-convert; no browser needed); `config` is applied on top of the chart's
    own (e.g. {"font": ...}, a font registered with `vl_convert.register_font_directory`)."""
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_json(), scale=scale, config=config)
