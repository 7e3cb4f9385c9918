"""Timeline: events over time at a chosen granularity, and a weekday x hour heatmap of off-hours work."""

import polars as pl
import streamlit as st

from audit_lib.analysis import metrics
from audit_lib.render import charts
from audit_lib.ui import page
from audit_lib.ui import state as S
from audit_lib.ui.sidebar import Context


def body(ctx: Context) -> None:
    c1, c2 = st.columns([1, 2])
    picked_every = c1.segmented_control("Granularity", list(metrics.EVERY), default="day", key=S.GRANULARITY,
                                        required=True)
    by = c2.segmented_control("Stack by", ["artifact type", "kind of action", "node", "none"],
                              default="artifact type", key=S.GRANULARITY + "_by", required=True)
    column = {"artifact type": "artifact_type", "node": "node", "none": None, "kind of action": "kind"}[by]
    wanted = metrics.EVERY[picked_every]
    every = page.m(ctx, "bucket_every", wanted, metrics.MAX_BUCKETS if column else charts.MAX_ROWS)
    series = page.m(ctx, "over_time", every, by=column)
    picked = page.chart(charts.over_time_chart(series, every, group_title=by, brush=True,
                                               title=f"Events per {metrics.EVERY_NAME.get(every, every)}"),
                        on_select="rerun", selection_mode=[charts.BRUSH], key=S.TIME_BRUSH)
    page.every_note(wanted, every)
    window = charts.brush_range(getattr(picked, "selection", None), ctx.tz)
    events, key = ctx.events, ""
    if window:
        lo, hi = window
        events = ctx.events.filter(pl.col("timestamp").is_between(lo, hi, closed="left"))
        key = f"{lo.isoformat()}|{hi.isoformat()}"
        st.info(f"Narrowed to {lo:%Y-%m-%d %H:%M} - {hi:%Y-%m-%d %H:%M} ({ctx.tz}): {events.height:,} events. "
                "Click the chart outside the selection to clear it.")
    if events.is_empty():
        st.info("No event in the selected interval.")
        return
    wh = page.m(ctx, "weekday_hour", events=events, key=key)
    kf = page.m(ctx, "key_figures", events=events, key=key)
    off = kf["off_hours"]
    cols = st.columns(3)
    cols[0].metric("Events", f"{kf['events']:,}")
    cols[1].metric("Off-hours events", f"{off:,}", help="Before 08:00, from 18:00, or at the weekend "
                   f"(local time, {ctx.tz}).")
    cols[2].metric("Off-hours share", f"{off / max(kf['events'], 1):.0%}")
    page.chart(charts.weekday_hour_chart(wh, title=f"Weekday x hour of day ({ctx.tz}); dashed: off-hours"))
    off_users = page.m(ctx, "off_hours_by_user", events=events, key=key)
    if off_users.height:
        page.chart(charts.bar_chart(off_users, "user", "off_hours", title="Off-hours events per user",
                                    color="#d62728", extra_tooltip=["events", "share"]))


page.render("Timeline", "When things happened. Drag across the upper chart to narrow the view below it.", body)
