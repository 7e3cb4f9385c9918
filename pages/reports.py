"""Reports: the sensitive actions of the scope with the events behind each count, the events as CSV / JSON Lines /
Parquet (no report needed), and the PDF report (privileged activity or full edition) with its companion files and,
for an event store (or on request for files), the comparison of its evidence with the previous period."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from audit_lib.analysis import compliance
from audit_lib.analysis.filters import Filters
from audit_lib.checks.finding import Finding
from audit_lib.checks.rule import Settings
from audit_lib.events.actors import actor_names, people, shown
from audit_lib.intake.loader import AuditLog
from audit_lib.render.export import MIME, scope_name, sha256_hex
from audit_lib.render.textsafe import md, visible
from audit_lib.report import EDITIONS, MAX_ROWS, Report, ReportLimits, build_report
from audit_lib.report.evidence import Period
from audit_lib.ui import loading, page, review
from audit_lib.ui import state as S
from audit_lib.ui.sidebar import Context

EDITION_NAMES = {"privileged": "Privileged activity", "full": "Full"}
PREFILLED = 10  # privileged actors the form pre-fills: the busiest
EVENT_COLUMNS = ["timestamp", "actor", "node", "action", "artifact_type", "artifact", "outcome", "details", "source",
                 "line"]


@st.cache_resource(max_entries=8, show_spinner=False)
def _sensitive(key: str, _events: pl.DataFrame) -> pl.DataFrame:
    del key
    return compliance.sensitive_actions(_events)


@st.cache_resource(max_entries=4, show_spinner=False)
def _report(key: str, _log: AuditLog, filters: Filters, source_label: str, edition: str, appendix: bool,
            privileged: tuple[str, ...], max_rows: int, settings: Settings, _found: tuple[Finding, ...],
            compare: bool, compare_with: Period | None, _store: Any) -> Report:
    del key
    return build_report(_log, filters, sources=[source_label], edition=edition, appendix=appendix,
                        privileged=list(privileged), settings=settings, found=list(_found),
                        limits=ReportLimits(max_rows=max_rows),
                        store=_store, compare=compare, compare_with=compare_with)


def comparison_options(ctx: Context) -> tuple[bool, Period | None]:
    """Whether to compare the evidence with the previous period (by default for an event store, as the report
    command does; on request for files) and the previous period when one is picked (else the days right before)."""
    store = ctx.store is not None
    c1, c2 = st.columns([1, 1])
    compare = c1.checkbox(
        "Compare with the previous period", value=store, key=f"{S.REPORT_COMPARE}_{'store' if store else 'files'}",
        help="The evidence compares the files covering the scope's days with those of the previous period: nodes "
             "gone silent, fewer files, fewer days covered or fewer events per day"
             + (", and lists the store's chain entries that brought the files in." if store else "."))
    picked = c2.date_input("Previous period (default: as many days right before the scope)", value=[],
                           min_value=date(1970, 1, 1), max_value=date(2099, 12, 31), key=S.REPORT_COMPARE_WITH,
                           disabled=not compare, format="YYYY-MM-DD")
    if not compare:
        return False, None
    if isinstance(picked, tuple | list) and len(picked) == 2:
        return True, Period(picked[0], picked[1])
    if isinstance(picked, tuple | list) and len(picked) == 1:
        c2.caption("Pick the last day of the previous period too; until then the days right before are used.")
    return True, None


def comparison_section(report: Report, compare: bool) -> None:
    """The flags the comparison raised (log text shown literally), or why there is no comparison."""
    c = report.comparison
    if c is None:
        if compare:
            st.info("No period to compare with: the scope has no day, or no period comes before it (pick one above).")
        return
    how = "as given" if c.explicit else f"the {c.previous.days:,} day{'s' if c.previous.days != 1 else ''} right before"
    what = f"Compared {c.period.text()} with the previous period, {c.previous.text()} ({how})"
    if c.flags:
        st.warning(f"{md(what)}: **{len(c.flags)} flag{'s' if len(c.flags) != 1 else ''}**\n\n"
                   + "\n".join(f"- {md(flag)}" for flag in c.flags))
    elif c.before_records:
        st.info(md(f"{what}: {c.verdict()}."))
    else:
        st.success(md(f"{what}: no flag. Every node kept its files, days covered and events"
                      + (" and the store's chain links." if c.store is not None else ".")))
    if c.head is not None:
        st.caption(md(f"The event store as read for this report: entry {c.head['seq']:,} of its chain (head "
                      f"{c.head['hash']}); the evidence lists the chain entries that brought the period's files in."))


def sensitive_section(ctx: Context) -> pl.DataFrame:
    """The counts per category, and the events behind the one picked."""
    sens = _sensitive(ctx.key, ctx.events)
    summary = compliance.sensitive_summary(sens)
    st.subheader("Sensitive actions in scope")
    st.caption(md(compliance.OUTCOME_NOTE))
    st.dataframe(summary.select("category", "events", "done", "failed", "not_recorded", "actors", "privileged",
                                "reason"), hide_index=True, key=S.REPORT_CATEGORIES,
                 height=35 * (summary.height + 1) + 3)  # every category in view
    off = [c.name for c in compliance.load_categories(include_disabled=True) if not c.enabled]
    if off:
        st.caption(md("Routine changes not counted as sensitive: " + ", ".join(off) + " (enabled in "
                      "audit_lib/analysis/sensitive_actions.json or with the report command's --category)."))
    counts = dict(summary.select("category", "events").iter_rows())
    names = [n for n, c in counts.items() if c]
    if not names:
        st.info("No sensitive action in this scope.")
        return sens
    picked = st.selectbox("Events behind the count of", names, format_func=lambda n: f"{n} ({counts[n]:,})",
                          key=S.REPORT_CATEGORIES + "_pick")
    rows = sens.filter(pl.col("category") == picked).select(EVENT_COLUMNS).sort("timestamp", descending=True)
    page.show_table(rows, what=f"{picked} events (newest first)", column_config={
        "timestamp": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        "line": st.column_config.NumberColumn(format="%d")})
    return sens


def body(ctx: Context) -> None:
    sens = sensitive_section(ctx)

    st.subheader("The events in scope")
    st.caption("Every event in scope with every canonical column, ready now, without building a report. The CSV is "
               "the companion CSV a PDF report quotes (same bytes, same SHA-256); cells a spreadsheet would run as a "
               "formula are neutralised.")
    name = scope_name(ctx.filters, ctx.tz, ctx.events)
    cols = st.columns(3)
    for col, fmt, label in [(cols[0], "csv", "CSV"), (cols[1], "jsonl", "JSON Lines"), (cols[2], "parquet", "Parquet")]:
        col.download_button(f"Download {label}", data=lambda fmt=fmt: loading.export(ctx.key, fmt, ctx.events),
                            file_name=f"{name}.{fmt}", mime=MIME[fmt], icon=":material/download:")

    st.subheader("PDF report")
    c1, c2, c3 = st.columns([2, 1, 1])
    edition = c1.radio("Edition", EDITIONS, format_func=EDITION_NAMES.get, key=S.REPORT_EDITION, horizontal=True,
                       help="Privileged activity: findings with their events, sensitive actions with their outcome, "
                            "the privileged actors and their sessions, and the files that cover the scope. Full: also "
                            "activity charts, per user and artifact type tables and sign-ins.")
    appendix = c2.checkbox("Appendix of every event", value=edition == "full", key=f"{S.REPORT_APPENDIX}_{edition}")
    max_rows = c3.number_input("Appendix rows at most", min_value=0, max_value=100_000, value=MAX_ROWS, step=1000,
                               key=S.REPORT_ROWS, disabled=not appendix)
    everyone = compliance.privileged_actors(sens)
    default = compliance.busiest(everyone, ctx.events, PREFILLED)
    names = actor_names(ctx.events)
    options = sorted(set(everyone) | set(ctx.events["actor"].cast(pl.String).drop_nulls().unique().to_list())) \
        if "actor" in ctx.events.columns else everyone
    if S.REPORT_PRIVILEGED not in st.session_state or any(a not in options for a in
                                                          st.session_state[S.REPORT_PRIVILEGED]):
        st.session_state[S.REPORT_PRIVILEGED] = default
    privileged = st.multiselect("Privileged actors (their sessions are listed)", options, key=S.REPORT_PRIVILEGED,
                                format_func=lambda a: visible(shown(a, names)),
                                help="By default, the actors who created or deleted users, changed roles, permissions, "
                                     f"passwords or log levels in this scope (the {PREFILLED} with most changes).")
    if len(everyone) > len(default):
        st.caption(f"{len(everyone):,} accounts performed a privileged action in this scope "
                   f"({len(people(everyone, names)):,} people); the {len(default)} with the most changes are "
                   "pre-filled. Add others from the list.")
    settings, problems = review.working_time()
    for problem in problems:
        st.warning(md(problem))
    compare, compare_with = comparison_options(ctx)
    key = f"{ctx.key}|{edition}|{appendix}|{max_rows}|{'|'.join(privileged)}|{settings!r}|{compare}|{compare_with!r}"
    if st.button("Build report", type="primary") or st.session_state.get(S.REPORT_BUILT) == key:
        with st.spinner("Building the report ...", show_time=True):
            found, problem = review.all_findings(ctx, settings)
            # an event store: its manifest with the scope's events (the whole store is never read)
            log = ctx.store.scoped_log(ctx.events) if ctx.store is not None else ctx.log
            # the store's view: the comparison reads the version the scope's events came from
            report = _report(key, log, ctx.filters, ctx.source_label, edition, appendix, tuple(privileged),
                             int(max_rows), settings, tuple(found), compare, compare_with, ctx.store)
        if problem:
            st.warning(md(f"The logging configuration check could not read the source: {problem}"))
        st.session_state[S.REPORT_BUILT] = key
        comparison_section(report, compare)
        cols = st.columns(5 if report.comparison_json else 4)
        cols[0].download_button("Download PDF report", report.pdf, file_name=f"{report.name}.pdf", mime=MIME["pdf"],
                                type="primary")
        cols[1].download_button("Its SHA-256 (.sha256)", report.sha256_line(f"{report.name}.pdf").encode("utf-8"),
                                file_name=f"{report.name}.pdf.sha256", mime="text/plain")
        cols[2].download_button("Companion CSV", report.csv, file_name=f"{report.name}.csv", mime=MIME["csv"])
        cols[3].download_button("Findings (JSON Lines)", report.findings_jsonl,
                                file_name=f"{report.name}.findings.jsonl", mime=MIME["jsonl"])
        if report.comparison_json:
            cols[4].download_button("Comparison (JSON)", report.comparison_json,
                                    file_name=f"{report.name}.comparison.json", mime="application/json")
        note = ("no appendix" if not appendix else
                f"the appendix lists {report.appendix_rows:,} of {report.events:,} events" if report.truncated else
                f"the appendix lists all {report.events:,} events")
        st.caption(f"{EDITION_NAMES[edition]} edition, {report.events:,} events, {report.findings:,} findings, "
                   f"{report.sensitive:,} sensitive actions, {note}. The PDF's SHA-256 is `{report.pdf_sha256}`; "
                   f"it quotes the companion CSV's, `{report.csv_sha256}`, the findings', `{report.findings_sha256}`"
                   + (f", and the comparison's, `{sha256_hex(report.comparison_json)}`." if report.comparison_json
                      else "."))


page.render("Reports", "Take the scope away: the sensitive actions and the events behind them, the events as CSV, "
            "JSON Lines or Parquet, and a PDF report for an auditor.", body)
