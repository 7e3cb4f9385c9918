"""Findings and sessions for the pages, cached like the other results (see `audit_lib.ui.loading`), and the
reviews of findings kept in an event store (status, the review form; see `audit_lib.store.reviews`).

Event findings depend on the scope and the settings; configuration findings on the loaded source (its
log4j2.properties files and its manifest), whatever the filters. Both lists are treated as read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
import streamlit as st

from audit_lib.analysis.filters import known_nodes, scope_span
from audit_lib.analysis.sessions import session_changes, sessions_and_ids
from audit_lib.checks import config_check
from audit_lib.checks.finding import Finding, sort_findings
from audit_lib.checks.findings import findings
from audit_lib.checks.rule import WEEKDAYS, Settings, load_rules
from audit_lib.errors import AuditLibError, SourceError
from audit_lib.render.textsafe import md, visible
from audit_lib.store.checks import store_findings
from audit_lib.store.reviews import (
    DISPOSITIONS,
    MAX_SUPPRESS_DAYS,
    Scope,
    Suppression,
    latest_reviews,
    record_review,
    review_missing,
    suppressed_by,
    suppressions,
)
from audit_lib.ui import loading, page, roots, signin
from audit_lib.ui import state as S
from audit_lib.ui.sidebar import Context

NO_STORE = ("Reviews are kept in an event store: open one in the sidebar (Event store) to see and record the "
            "review of each finding.")


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


@st.cache_resource(max_entries=4, show_spinner=False)
def _store_findings(key: str, _view: Any, _log: Any) -> list[Finding]:
    del key
    return store_findings(_view, _log)


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
        if ctx.store is not None:  # its stored log4j2.properties and the files its ingests found rewritten
            config, problem = _store_findings(f"{key}|store|{ctx.source_label}", ctx.store, log), None
        else:
            config, problem = _config_findings(f"{key}|{kind}|{ctx.source_label}", current_source(), log)
    except SourceError as exc:
        config, problem = [], str(exc)
    return sort_findings([*events, *config]), problem


def scope_sessions(ctx: Context, timeout: timedelta) -> tuple[pl.DataFrame, pl.Series]:
    """`sessions_and_ids` of the events in scope."""
    return _sessions(f"{ctx.key}|{timeout}", timeout, ctx.events)


def show_user_sessions(ctx: Context, who: str, limit: int = 100) -> None:
    """The Users page's section on one actor's sessions: each sign-in with how it ended and how many changes it
    made, then each session's changes in an expander (time, action, artifact type, artifact, outcome,
    source:line); pick a session in the table to list every event it holds."""
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
                  "Select one to see all its events; open a session below for its changes."))
    shown = mine.with_columns(minutes=(pl.col("duration").dt.total_milliseconds() / 60000).round(1)).select(
        "session", "start", "end", "minutes", "node", "product", "ended", "changes", "source", "line")
    picked = st.dataframe(page.table_text(shown), hide_index=True, on_select="rerun", selection_mode="single-row",
                          key=S.USER_SESSIONS, column_config={
                              "start": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                              "end": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})
    rows = picked.selection.rows if picked is not None and hasattr(picked, "selection") else []
    if rows and rows[0] < shown.height:
        sid = shown["session"][rows[0]]
        events = ctx.events.filter(ids == sid).select(
            "timestamp", "action", "artifact_type", "artifact", "outcome", "node", "source", "line")
        st.dataframe(page.table_text(events), hide_index=True, column_config={
            "timestamp": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})
    _session_changes(ctx, mine, timeout, limit)


def _session_changes(ctx: Context, mine: pl.DataFrame, timeout: timedelta, limit: int) -> None:
    """One expander per session of `mine` that made changes (at most `limit`, newest first), with its changes."""
    busy = mine.filter(pl.col("changes") > 0).sort("start", descending=True)
    if busy.is_empty():
        st.caption("None of these sessions changed anything (only sign-ins, sign-outs and reads).")
        return
    _, changes = _session_changes_of(f"{ctx.key}|{timeout}", timeout, ctx.events)
    mine_changes = changes.filter(pl.col("session").is_in(busy["session"].head(limit).implode()))
    st.markdown(f"**Changes per session** ({busy.height:,} sessions made changes"
                + (f"; the newest {limit:,} are listed" if busy.height > limit else "") + ")")
    by = {k[0]: g for k, g in mine_changes.partition_by("session", as_dict=True).items()}
    for r in busy.head(limit).iter_rows(named=True):
        rows = by.get(r["session"])
        if rows is None:
            continue
        label = (f"Session {r['session']} · {r['start']:%Y-%m-%d %H:%M:%S} · {r['node'] or 'no node'} · "
                 f"{r['changes']:,} change{'s' if r['changes'] != 1 else ''} · ended {r['ended'].replace('_', ' ')}")
        with st.expander(md(visible(label)), expanded=False):
            shown = rows.select(time="timestamp", action="action", artifact_type="artifact_type",
                                artifact="artifact", outcome="outcome",
                                where=pl.format("{}:{}", "source", "line"))
            st.dataframe(page.table_text(shown), hide_index=True, key=f"{S.SESSION_CHANGES}_{r['session']}",
                         column_config={"time": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                                        "where": st.column_config.TextColumn("source:line")})


@st.cache_resource(max_entries=4, show_spinner=False)
def _session_changes_of(key: str, timeout: timedelta, _events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    del key
    return session_changes(_events, timeout)


# --- reviews (with an event store) ------------------------------------------------------------------------------

def store_of(ctx: Context) -> Any:
    """The location of the event store open in the sidebar, or None."""
    view = ctx.store
    return None if view is None else view.store.loc


def with_reviews(ctx: Context, found: list[Finding], settings: Settings) -> tuple[list[Finding], dict[str, dict],
                                                                                   dict[str, Suppression]]:
    """With an event store: the findings plus the review-missing ones, each finding's latest review and the
    suppressions covering findings; without one, the findings as they are and nothing else."""
    loc = store_of(ctx)
    if loc is None:
        return found, {}, {}
    latest = latest_reviews(loc)
    found = sort_findings([*found, *review_missing(found, loc, settings)])
    return found, latest, suppressed_by(found, suppressions(latest=latest))


def status(fid: str, latest: dict[str, dict], held: dict[str, Suppression]) -> str:
    """"suppressed", the latest review's disposition, or "unreviewed"."""
    if fid in held:
        return "suppressed"
    review = latest.get(fid)
    return review["disposition"] if review else "unreviewed"


def reviewer_identity() -> tuple[str | None, str]:
    """(the signed-in user's name, how it is known): the single sign-on's e-mail or name; None when the app has
    no sign-in that names a person (a shared password, or none), then the form asks for a name."""
    try:
        if signin.method() == "oidc" and st.user.is_logged_in:
            name = st.user.get("email") or st.user.get("name") or st.user.get("sub")
            if name:
                return str(name), "single sign-on"
    except Exception:  # an [auth] section Streamlit cannot use: the name is asked for
        pass
    return None, "shared password" if signin.method() == "password" else "no sign-in"


def review_form(ctx: Context, selected: Sequence[Finding]) -> None:
    """Record a review of the `selected` findings in the store (disposition, comment, and for `expected` an
    optional suppression); the reviewer is the signed-in user, else a name typed here (recorded as not
    authenticated). Reruns the page after recording, so the table shows the new status."""
    loc = store_of(ctx)
    if loc is None:
        st.caption(NO_STORE)
        return
    done = st.session_state.pop(S.REVIEW_DONE, None)
    if done:
        st.success(md(done))
    if not selected:
        st.caption("Select one or more findings in the table (tick their rows) to record their review.")
        return
    who, how = reviewer_identity()
    key = S.REVIEW_FORM
    with st.form(key, clear_on_submit=False):
        st.markdown(f"**Review {len(selected):,} selected finding{'s' if len(selected) != 1 else ''}**")
        c1, c2 = st.columns([1, 2])
        disposition = c1.selectbox("Disposition", DISPOSITIONS, key=f"{key}_disposition")
        if who is None:
            name = c1.text_input("Your name", key=f"{key}_name", max_chars=200,
                                 help=f"With {how}, the app cannot tell who you are: the review records the name "
                                      "given here as not authenticated.")
        else:
            c1.caption(md(f"Reviewer: {who} (signed in with {how})"))
            name = who
        comment = c2.text_area("Comment", key=f"{key}_comment", max_chars=2000,
                               placeholder="e.g. planned change CHG-1042")
        with st.expander("Suppress later findings like these (with 'expected')"):
            suppress = st.checkbox("Suppress later findings of the same rule in this scope", key=f"{key}_suppress")
            s1, s2, s3, s4 = st.columns(4)
            today = datetime.now(UTC).date()
            until = s1.date_input("Until", value=today + timedelta(days=30), min_value=today,
                                  max_value=today + timedelta(days=MAX_SUPPRESS_DAYS), key=f"{key}_until")
            actor = s2.text_input("For actor", key=f"{key}_actor", placeholder="any")
            node = s3.text_input("For node", key=f"{key}_node", placeholder="any")
            artifact = s4.text_input("For artifact", key=f"{key}_artifact", placeholder="any")
            st.caption("Suppressed findings stay in every count and report; they are marked, and "
                       "`findings --fail-on` passes them.")
        submitted = st.form_submit_button("Record the review", type="primary")
    if not submitted:
        return
    scopes = None
    if suppress:
        scopes = [Scope(f.rule, until, actor=actor.strip() or None, node=node.strip() or None,
                        artifact=artifact.strip() or None) for f in selected]
    try:
        record_review(loc, [f.id for f in selected], name, disposition, comment, authenticated=who is not None,
                      suppress=scopes)
    except AuditLibError as exc:
        st.error(md(str(exc)))
        return
    proof = "" if who is not None else " (name given, not authenticated)"
    also = ", with a suppression" if scopes else ""
    st.session_state[S.REVIEW_DONE] = (f"Recorded: {len(selected):,} finding(s) reviewed as {disposition} by "
                                       f"{visible(name.strip())}{proof}{also}.")
    st.rerun()


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
