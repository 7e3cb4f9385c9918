"""Findings and sessions for the pages, cached like the other results (see `audit_lib.ui.loading`).

Event findings depend on the scope and the settings; configuration findings on the loaded source (its
log4j2.properties files and its manifest), whatever the filters. Both lists are treated as read-only.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import polars as pl
import streamlit as st

from audit_lib.analysis.filters import known_nodes, scope_span
from audit_lib.analysis.sessions import sessions_and_ids
from audit_lib.checks import config_check
from audit_lib.checks.finding import Finding, sort_findings
from audit_lib.checks.findings import findings
from audit_lib.checks.rule import WEEKDAYS, Settings, load_rules
from audit_lib.errors import SourceError
from audit_lib.render.textsafe import md
from audit_lib.ui import loading, roots
from audit_lib.ui import state as S
from audit_lib.ui.sidebar import Context


@st.cache_resource(max_entries=8, show_spinner=False)
def _event_findings(key: str, settings: Settings, _events: pl.DataFrame, _nodes: tuple[str, ...] = (),
                    _span: tuple | None = None) -> list[Finding]:
    del key
    return findings(_events, load_rules(), settings, nodes=_nodes, span=_span)


@st.cache_resource(max_entries=4, show_spinner=False)
def _config_findings(key: str, _source: Any, _log: Any) -> tuple[list[Finding], str | None]:
    del key
    try:
        return list(config_check.check_source(_source, _log)), None
    except SourceError as exc:  # the source moved or broke since it was loaded: say so, keep the event findings
        return list(config_check.check_source([], _log)), str(exc)


@st.cache_resource(max_entries=8, show_spinner=False)
def _sessions(key: str, timeout: timedelta, _events: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    del key
    return sessions_and_ids(_events, timeout)


def current_source() -> Any:
    """What the sidebar loaded from: the samples folder, the server folder typed, or the uploads."""
    kind = st.session_state.get(S.SOURCE_KIND, "samples")
    if kind == "upload":
        return [(f.name, f.getvalue()) for f in st.session_state.get(S.UPLOADS) or []]
    if kind == "folder":
        return str(roots.check_path(st.session_state.get(S.FOLDER, ""), roots.allowed_roots(st.secrets)))
    if kind == "store":  # an event store keeps no configuration files
        return []
    return str(loading.sample_path())


def all_findings(ctx: Context, settings: Settings) -> tuple[list[Finding], str | None]:
    """The findings of the scope (rules over the filtered events) and of the source (logging configuration,
    retention at hand, missing PCI DSS fields), in one stable list; and a message when the configuration
    check could not read the source."""
    events = _event_findings(f"{ctx.key}|{settings!r}", settings, ctx.events,
                             tuple(known_nodes(ctx.log.files, ctx.filters)), scope_span(ctx.filters, ctx.log.files))
    kind = st.session_state.get(S.SOURCE_KIND, "samples")
    # an event store's source checks (coverage, PCI DSS fields) read its manifest and the events of the scope
    log, key = (ctx.log, ctx.log.fingerprint) if ctx.store is None else (ctx.store.scoped_log(ctx.events), ctx.key)
    try:
        config, problem = _config_findings(f"{key}|{kind}|{ctx.source_label}", current_source(), log)
    except SourceError as exc:
        config, problem = [], str(exc)
    return sort_findings([*events, *config]), problem


def scope_sessions(ctx: Context, timeout: timedelta) -> tuple[pl.DataFrame, pl.Series]:
    """`sessions_and_ids` of the events in scope."""
    return _sessions(f"{ctx.key}|{timeout}", timeout, ctx.events)


def show_user_sessions(ctx: Context, who: str) -> None:
    """The Users page's section on one actor's sessions: each sign-in with how it ended and its changes; pick
    one to list the events it holds."""
    timeout = timedelta(minutes=int(st.session_state.get(S.SESSION_TIMEOUT, 60)))
    table, ids = scope_sessions(ctx, timeout)
    mine = table.filter(pl.col("actor") == who)
    st.subheader(f"Sessions of {md(who)}")
    if mine.is_empty():
        st.caption(md(f"No sign-in of {who} in this scope."))
        return
    ended = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in mine.group_by("ended").len().sort("ended").iter_rows())
    st.caption(md(f"{mine.height:,} sessions ({ended}); a session ends at sign-out, at the next sign-in, or after "
                  f"{timeout.total_seconds() / 60:.0f} quiet minutes (the timeout is set on the Findings page). "
                  "Select one to see its events."))
    shown = mine.with_columns(minutes=(pl.col("duration").dt.total_milliseconds() / 60000).round(1)).select(
        "session", "start", "end", "minutes", "node", "product", "ended", "changes", "source", "line")
    picked = st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="single-row",
                          key=S.USER_SESSIONS, column_config={
                              "start": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                              "end": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})
    rows = picked.selection.rows if picked is not None and hasattr(picked, "selection") else []
    if rows and rows[0] < shown.height:
        sid = shown["session"][rows[0]]
        events = ctx.events.filter(ids == sid).select(
            "timestamp", "action", "artifact_type", "artifact", "outcome", "node", "source", "line")
        st.dataframe(events, hide_index=True, column_config={
            "timestamp": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})


DAY_NAMES = [d.capitalize() for d in WEEKDAYS]


def working_time() -> tuple[Settings, list[str]]:
    """Working time and session timeout as chosen in the expander (shared by the pages that use them: the same
    keys), and what could not be read."""
    with st.expander("Working hours, days off and session timeout"):
        c1, c2, c3 = st.columns([2, 2, 1])
        start, end = c1.slider("Working hours", value=(time(8), time(18)), step=timedelta(minutes=30),
                               format="HH:mm", key=S.WORK_HOURS)
        days = c2.multiselect("Working days", DAY_NAMES, default=DAY_NAMES[:5], key=S.WORK_DAYS)
        timeout = c3.number_input("Session timeout (min)", min_value=1, max_value=24 * 60, value=60, step=5,
                                  key=S.SESSION_TIMEOUT, help="The longest quiet spell a sign-in session survives.")
        text = st.text_input("Holidays", key=S.HOLIDAYS, placeholder="2026-12-25, 2026-12-26",
                             help="Dates (YYYY-MM-DD) counted as days off, separated by commas or spaces.")
    problems, holidays = [], []
    for word in text.replace(",", " ").split():
        try:
            holidays.append(date.fromisoformat(word))
        except ValueError:
            problems.append(f"{word!r} is not a date (YYYY-MM-DD); it is ignored.")
    if end <= start:
        problems.append("The working day must end after it starts; the default 08:00-18:00 is used.")
        start, end = time(8), time(18)
    work_days = tuple(DAY_NAMES.index(d) + 1 for d in days) or (1, 2, 3, 4, 5)
    if not days:
        problems.append("No working day chosen; Monday to Friday are used.")
    return Settings(work_start=start, work_end=end, work_days=work_days, holidays=tuple(sorted(set(holidays))),
                    session_timeout=timedelta(minutes=int(timeout))), problems
