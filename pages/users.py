"""Users: one row per user with their actions by kind; pick a user to see their timeline."""

import polars as pl
import streamlit as st

from audit_lib.analysis import metrics
from audit_lib.render import charts
from audit_lib.render.textsafe import md, visible
from audit_lib.ui import loading, page, review
from audit_lib.ui import state as S
from audit_lib.ui.sidebar import Context


def body(ctx: Context) -> None:
    view = ctx.store  # an event store: people from its counts (the whole store) or a scan of the scope
    users = page.m(ctx, "per_user") if view is None else loading.store("per_user", view, ctx.filters)
    page.chart(charts.user_kinds_chart(metrics.user_kinds_long(users, top=15),
                                       title=f"Actions per user, by kind (top {min(15, users.height)} users)"))
    st.caption("Click a legend entry to highlight one kind of action (shift-click for several).")
    page.show_table(users, what="users", column_config={
        "first_seen": st.column_config.DatetimeColumn("first seen", format="YYYY-MM-DD HH:mm"),
        "last_seen": st.column_config.DatetimeColumn("last seen", format="YYYY-MM-DD HH:mm"),
        "events": st.column_config.NumberColumn("events", format="%d")})

    st.subheader("Timeline of one user")
    names = users["user"].to_list()
    if st.session_state.get(S.USER) not in names:
        st.session_state[S.USER] = names[0]
    who = st.selectbox("User", names, key=S.USER, format_func=visible)
    picked = st.segmented_control("Granularity", list(metrics.EVERY), default="day", key=S.GRANULARITY + "_user",
                                  required=True)
    row = page.one_row(users.filter(pl.col("user") == who))
    cols = st.columns(4)
    cols[0].metric("Events", f"{row['events']:,}")
    cols[1].metric("Sign-ins", f"{row['sign-in']:,}")
    cols[2].metric("Changes", f"{sum(row[k] for k in ['create', 'update', 'delete', 'enable', 'disable']):,}",
                   help="created, updated, deleted, enabled or disabled something")
    cols[3].metric("Failures", f"{row['failures']:,}")
    st.caption(md(f"First seen {row['first_seen']}, last seen {row['last_seen']} ({ctx.tz}) on {row['nodes']}."))
    wanted = metrics.EVERY[picked]
    if view is None:
        mine = ctx.events.filter(metrics.who(ctx.events).cast(pl.String) == who)
        every = page.m(ctx, "bucket_every", wanted, events=mine, key=f"user|{who}")
        activity = page.m(ctx, "user_activity", who, every)
    else:  # the person's events counted per hour while scanning the scope; only the latest ones read whole
        hourly = loading.store("person_hourly", view, ctx.filters, who)
        every = metrics.bucket_every(hourly, wanted)
        activity = metrics.over_time(hourly, every, by="kind", top=len(metrics.KINDS), weight="events")
        mine = loading.store("person_latest", view, ctx.filters, who, max(charts.MAX_POINTS, 500))
    page.chart(charts.over_time_chart(activity, every, group_title="kind of action",
                                      title=f"{who}: events per {metrics.EVERY_NAME.get(every, every)}"))
    page.every_note(wanted, every)
    latest = metrics.with_kind(mine.tail(charts.MAX_POINTS)).with_columns(pl.col("artifact_type").cast(pl.String))
    page.chart(charts.history_chart(latest, row="artifact_type",
                                    title=f"{who}: each action by artifact type"
                                    + (f" (latest {charts.MAX_POINTS:,})" if row["events"] > charts.MAX_POINTS
                                       else "")))
    page.show_table(metrics.event_page(mine, descending=True, limit=500).select(
        "timestamp", "action", "artifact_type", "artifact", "outcome", "node", "details", "source", "line"),
        limit=500, what=f"events of {who} (latest first)")
    review.show_user_sessions(ctx, who)


page.render("Users", "Every account seen in the logs: how much it did, of which kind, and when.", body)
