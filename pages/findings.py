"""Findings: what deserves attention in the scope, most severe first, with the events and raw lines behind each."""

import json
from collections import Counter

import polars as pl
import streamlit as st

from audit_lib.checks.finding import Finding, findings_table
from audit_lib.checks.rule import SEVERITIES
from audit_lib.render.textsafe import md, visible
from audit_lib.ui import page, review
from audit_lib.ui import state as S

EVENT_COLUMNS = ["timestamp", "actor", "action", "artifact_type", "artifact", "outcome", "node", "source", "line"]


def show_finding(ctx, f: Finding, latest: dict, held: dict) -> None:
    """The meaning of one finding, its review, its events (pick one for its raw line) or its evidence."""
    st.subheader(f"{f.severity.upper()}: {md(f.title)}")
    st.markdown(md(f.summary))
    st.caption(md(f.meaning))
    st.caption("Supports " + md(", ".join(f.references)) + f" · finding id {md(f.id)} · rule {md(f.rule)}")
    if review.store_of(ctx) is not None:
        r = latest.get(f.id)
        line = (f"Reviewed {r['time']} by {r['reviewer']}" + ("" if r["authenticated"] else " (name given)")
                + f": {r['disposition']}" + (f" ({r['comment']})" if r["comment"] else "")) if r else "Not reviewed."
        if f.id in held:
            s = held[f.id]
            line += f" Suppressed by {s.reviewer} on {s.time} ({s.scope.describe()}; review of finding {s.finding})."
        st.markdown(md(visible(line)))
    events = f.events
    if events is not None and events.height:
        shown = events.select([c for c in EVENT_COLUMNS if c in events.columns])
        if f.count > events.height:
            st.caption(f"The first {events.height:,} of {f.count:,} events.")
        picked = st.dataframe(page.table_text(shown), hide_index=True, on_select="rerun", selection_mode="single-row",
                              key=f"{S.FINDING_EVENTS}_{f.id}", column_config={
                                  "timestamp": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss.SSS"),
                                  "line": st.column_config.NumberColumn(format="%d")})
        rows = picked.selection.rows if picked is not None and hasattr(picked, "selection") else []
        row = shown.row(rows[0] if rows else 0, named=True)
        raw = ctx.log.raw_line(str(row["source"]), int(row["line"]))
        st.markdown(f"**Raw line** {md(row['source'])}, line {row['line']}" + ("" if rows else " (first event)"))
        # as the Explorer shows it: control, bidi and invisible characters as escapes (\u202e, \u200b)
        st.code(visible(raw, keep="\t") if raw is not None else "(the line could not be read back)", language=None,
                wrap_lines=True)
    if f.evidence:
        st.markdown("**Evidence**")
        st.code("\n".join(visible(e, keep="\t") for e in f.evidence), language=None, wrap_lines=True)


def body(ctx) -> None:
    settings, problems = review.working_time()
    for p in problems:
        st.warning(md(p))
    with st.spinner("Evaluating the rules...", show_time=True):
        found, problem = review.all_findings(ctx, settings)
        found, latest, held = review.with_reviews(ctx, found, settings)
    if problem:
        st.warning(md(f"The logging configuration check could not read the source: {problem}"))
    counts = Counter(f.severity for f in found)
    cols = st.columns(len(SEVERITIES))
    for col, sev in zip(cols, reversed(SEVERITIES), strict=True):
        col.metric(sev.capitalize(), f"{counts[sev]:,}")
    if not found:
        st.success("No finding in this scope: no rule matched the events, and the logging configuration check "
                   "found nothing to report.")
        return
    c1, c2, c3 = st.columns([2, 3, 1])
    severities = c1.multiselect("Severity", list(reversed(SEVERITIES)), default=list(reversed(SEVERITIES)),
                                key=S.FINDING_SEVERITIES)
    rule_ids = sorted({f.rule for f in found})
    if any(r not in rule_ids for r in st.session_state.get(S.FINDING_RULES, [])):
        st.session_state[S.FINDING_RULES] = [r for r in st.session_state[S.FINDING_RULES] if r in rule_ids]
    chosen = c2.multiselect("Rule", rule_ids, key=S.FINDING_RULES, placeholder="all rules")
    with_store = review.store_of(ctx) is not None
    unreviewed = c3.toggle("Unreviewed only", key=S.FINDING_UNREVIEWED, disabled=not with_store,
                           help="Only the findings nobody has reviewed yet (reviews are kept in an event store).")
    if not with_store:
        st.caption(review.NO_STORE)
    else:
        done = sum(1 for f in found if f.id in latest)
        st.caption(f"{done:,} of {len(found):,} findings reviewed, {len(found) - done:,} not; {len(held):,} "
                   "suppressed (still counted above). Reviews are kept in the event store's chain.")
    shown = [f for f in found if f.severity in severities and (not chosen or f.rule in chosen)
             and not (with_store and unreviewed and f.id in latest)]
    if not shown:
        st.info("No finding of the chosen severities and rules" + (" left unreviewed." if unreviewed else "."))
        return
    table = findings_table(shown[:page.TABLE_LIMIT]).with_columns(
        status=pl.Series([review.status(f.id, latest, held) for f in shown[:page.TABLE_LIMIT]], dtype=pl.String))
    table = table.select(*(["status"] if with_store else []), "severity", "rule", "subject", "count", "first", "last",
                         "summary", "node", "id")
    if len(shown) > page.TABLE_LIMIT:
        st.caption(f"Showing the first {page.TABLE_LIMIT:,} of {len(shown):,} findings (most severe first).")
    st.caption("Select a finding to see what it means, its events and their lines as written in the files"
               + ("; select several to review them at once." if with_store else "."))
    picked = st.dataframe(page.table_text(table), hide_index=True, on_select="rerun",
                          selection_mode="multi-row" if with_store else "single-row",
                          key=S.FINDING_TABLE, column_config={
                              "first": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                              "last": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                              "count": st.column_config.NumberColumn(format="%d")})
    rows = picked.selection.rows if picked is not None and hasattr(picked, "selection") else []
    rows = [r for r in rows if r < table.height]
    lines = "\n".join(json.dumps({**f.to_dict(), **({"review": latest.get(f.id), "suppressed": held[f.id].to_dict()
                                                     if f.id in held else None} if with_store else {})},
                                 ensure_ascii=False, default=str) for f in shown)
    st.download_button("Findings as JSON Lines", lines.encode("utf-8"), file_name="findings.jsonl",
                       mime="application/x-ndjson", help="One JSON object per finding, with its events (for a SIEM).")
    if with_store:
        review.review_form(ctx, [shown[r] for r in rows])
    show_finding(ctx, shown[rows[0] if rows else 0], latest, held)


page.render("Findings", "What deserves attention: rules over the events in scope (audit_lib/rules) and the logging "
            "configuration check of the source, most severe first.", body)
