"""Overview: key figures, activity over time by artifact type, top users and artifact types, parse quality."""

from typing import Any

import streamlit as st

from audit_lib.analysis import metrics
from audit_lib.render import charts
from audit_lib.ui import loading, page
from audit_lib.ui.sidebar import Context


def body(ctx: Context) -> None:
    view = ctx.store  # an event store: figures from its counts (the whole store) or a scan of the scope
    kf = page.m(ctx, "key_figures") if view is None else loading.store("key_figures", view, ctx.filters)
    q = metrics.parse_quality(ctx.log.files, ctx.log.rejects)
    cols = st.columns(4)
    cols[0].metric("Events", f"{kf['events']:,}")
    cols[1].metric("Users", kf["users"])
    cols[2].metric("Artifact types", kf["artifact_types"], help=f"{kf['artifacts']:,} distinct artifacts")
    cols[3].metric("Nodes", kf["nodes"])
    cols = st.columns(4)
    cols[0].metric("Time span", metrics.format_span(kf["span"]),
                   help=f"{kf['first']:%Y-%m-%d %H:%M} to {kf['last']:%Y-%m-%d %H:%M} ({ctx.tz})")
    cols[1].metric("Sign-ins", f"{kf['sign_ins']:,}", help=f"{kf['failed_sign_ins']:,} failed sign-in(s)")
    cols[2].metric("Failures", f"{kf['failures']:,}", help="Events whose outcome is failure (failed sign-ins, "
                   "refused operations).")
    cols[3].metric("Rejected lines", f"{q['rejects']:,}", help="Lines of the files that could not be read as "
                   "events: see Data quality. Not affected by the filters.")

    span_days = (kf["last"] - kf["first"]).total_seconds() / 86400
    wanted = "1h" if span_days <= 3 else ("1d" if span_days <= 120 else "1w")
    if view is None:
        every = page.m(ctx, "bucket_every", wanted)
        series = page.m(ctx, "over_time", every, by="artifact_type", top=10)
    else:  # events counted per hour and artifact type, then bucketed as the events would be
        hourly = loading.store("hourly", view, ctx.filters, ("artifact_type",))
        every = metrics.bucket_every(hourly, wanted)
        series = metrics.over_time(hourly, every, by="artifact_type", top=10, weight="events")
    page.chart(charts.activity_dashboard(series, every))
    st.caption("Click a bar of the lower chart or a legend entry to show only that artifact type over time; "
               "shift-click for several, double-click to reset.")

    def top(column: str) -> Any:
        return page.m(ctx, "top_values", column, 10) if view is None else loading.store(
            "top_values", view, ctx.filters, column, 10)

    left, right = st.columns(2)
    with left:
        page.chart(charts.bar_chart(top("user"), "value", title="Top users", width=340, extra_tooltip=["share"]))
    with right:
        page.chart(charts.bar_chart(top("action"), "value", title="Top actions", color="#1f77b4", width=340))

    note = (f"Parse quality: {q['lines']:,} lines read from {q['files']} file(s): {q['events']:,} events, "
            f"{q['attached']:,} continuation lines attached to their event, {q['blank']:,} blank, "
            f"{q['rejects']:,} rejected")
    if q["duplicates"]:
        note += f"; {q['duplicates']} duplicate file(s) ({q['duplicate_lines']:,} lines) counted once"
    note += ". " + ("Every line is accounted for." if q["complete"] else "The counts do not add up: see Data quality.")
    if q["errors"]:
        st.warning(note + f" {q['errors']} file(s) could not be read completely.")
    else:
        st.info(note)


page.render("Overview", "Who did what, to which artifact, and when: the loaded logs at a glance.", body)
