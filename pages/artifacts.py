"""Artifacts: activity per artifact type and per artifact; pick one to see its full history and state."""

import polars as pl
import streamlit as st

from audit_lib.analysis import metrics
from audit_lib.render import charts
from audit_lib.render.textsafe import md, visible
from audit_lib.ui import page
from audit_lib.ui import state as S
from audit_lib.ui.sidebar import Context


def body(ctx: Context) -> None:
    types = page.m(ctx, "per_artifact_type")
    left, right = st.columns([2, 3])
    with left:
        page.chart(charts.bar_chart(types, "artifact_type", title="Events per artifact type", width=320,
                                    extra_tooltip=["artifacts", "users"]))
    with right:
        page.show_table(types.select("artifact_type", "events", "artifacts", "users", "create", "update", "delete",
                                     "enable", "disable", "deploy", "undeploy", "first", "last"),
                        what="artifact types", height=420)

    st.subheader("Per artifact")
    hide = st.toggle("Hide sign-in sessions", value=True, key=S.HIDE_SESSIONS,
                     help="Sessions are recorded with the user as their artifact.")
    arts = page.m(ctx, "per_artifact")
    if hide:
        arts = arts.filter(pl.col("artifact_type") != "session")
    if arts.is_empty():
        st.info("No artifact other than sign-in sessions in this scope.")
        return
    page.show_table(arts, what="artifacts", column_config={
        "first": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "last": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "state_since": st.column_config.DatetimeColumn("state since", format="YYYY-MM-DD HH:mm")})

    st.subheader("History of one artifact")
    type_names = arts["artifact_type"].unique(maintain_order=True).to_list()
    if st.session_state.get(S.ARTIFACT_TYPE) not in type_names:
        st.session_state[S.ARTIFACT_TYPE] = type_names[0]
    c1, c2 = st.columns(2)
    kind = c1.selectbox("Artifact type", type_names, key=S.ARTIFACT_TYPE, format_func=visible)
    names = arts.filter(pl.col("artifact_type") == kind)["artifact"].to_list()
    if st.session_state.get(S.ARTIFACT) not in names:
        st.session_state[S.ARTIFACT] = names[0]
    name = c2.selectbox("Artifact", names, key=S.ARTIFACT, format_func=visible)
    hist = page.m(ctx, "artifact_history", kind, name)
    per_node = page.m(ctx, "artifact_state_of", kind, name)
    cols = st.columns(4)
    if per_node.height:
        states = per_node["state"].unique().sort().to_list()
        where = "; ".join(f"{n}: {s} since {t:%Y-%m-%d %H:%M} by {u}" for n, s, t, u in
                          per_node.select("node", "state", "state_since", "state_by").iter_rows())
        cols[0].metric("Last known state", states[0] if len(states) == 1 else "mixed", help=md(
            f"Per node (management-API changes are made node by node): {where}. From the last create, "
            "enable, disable, delete, deploy or undeploy in scope that did not fail (Micro Integrator records no "
            "outcome: its records count as done)."))
        if len(states) > 1:
            st.warning(md(f"The nodes disagree about {kind} {name}: {where}."))
    else:
        cols[0].metric("Last known state", "unknown", help="No create, enable, disable, delete, deploy or "
                       "undeploy action in scope.")
    cols[1].metric("Events", f"{hist.height:,}")
    cols[2].metric("Users", hist["user"].n_unique())
    last = page.one_row(hist.select("timestamp").sort("timestamp").tail(1), "%Y-%m-%d|%H:%M:%S")["timestamp"]
    day, clock = last.split("|")
    cols[3].metric("Last change", day, f"{clock} {ctx.tz}", delta_color="off", delta_arrow="off")
    who = (hist.group_by("kind").agg(pl.col("user").unique().sort().str.join(", "))
           .sort(pl.col("kind").replace_strict(metrics.KINDS, list(range(len(metrics.KINDS))), default=99)))
    st.markdown("  \n".join(f"**{md(k)}** by {md(u)}" for k, u in who.iter_rows()))
    page.chart(charts.history_chart(hist, title=f"{kind} {name}: who did what, when"))
    page.show_table(hist.reverse(), what="events (latest first)", column_config={
        "timestamp": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})


page.render("Artifacts", "Proxies, APIs, endpoints, applications, loggers, users and roles: what happened to each, "
            "and the state it was last left in.", body)
