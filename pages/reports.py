"""Reports: the PDF compliance report and the CSV / JSON Lines / Parquet exports of the current scope."""

from __future__ import annotations

import streamlit as st

from audit_lib import compliance
from audit_lib.export import MIME, scope_name
from audit_lib.report import MAX_ROWS
from audit_lib.ui import loading, page, state
from audit_lib.ui.sidebar import Context


def body(ctx: Context) -> None:
    sens = compliance.sensitive_summary(compliance.sensitive_actions(ctx.events))
    st.subheader("Sensitive actions in scope")
    st.dataframe(sens, hide_index=True)

    st.subheader("PDF compliance report")
    st.caption("Cover and scope, summary and charts, per user / artifact type tables, sensitive actions, "
               "sign-ins, evidence (file SHA-256, gaps, duplicates, rejected lines), every event in scope "
               "(up to the limit below; the companion CSV holds all of them), and a reviewer block.")
    max_rows = st.number_input("Events printed in the appendix", min_value=0, max_value=100_000, value=MAX_ROWS,
                               step=1000)
    key = f"{ctx.key}|{max_rows}"
    if st.button("Build report", type="primary") or st.session_state.get(state.REPORT_BUILT) == key:
        with st.spinner("Building the report ..."):
            report = loading.report(key, ctx.log, ctx.filters, ctx.source_label, int(max_rows))
        st.session_state[state.REPORT_BUILT] = key
        left, right = st.columns(2)
        left.download_button("Download PDF report", report.pdf, file_name=f"{report.name}.pdf", mime=MIME["pdf"],
                             type="primary")
        right.download_button("Download companion CSV", report.csv, file_name=f"{report.name}.csv",
                              mime=MIME["csv"])
        note = (f"The appendix lists {report.appendix_rows:,} of {report.events:,} events; "
                if report.truncated else f"The appendix lists all {report.events:,} events; ")
        st.caption(note + f"the companion CSV holds every event in scope, SHA-256 `{report.csv_sha256}` "
                          "(quoted in the PDF).")

    st.subheader("Other formats")
    st.caption("Every canonical column; CSV cells that a spreadsheet would run as a formula are neutralised.")
    name = scope_name(ctx.filters, ctx.tz, ctx.events)
    cols = st.columns(2)
    for col, fmt, label in [(cols[0], "jsonl", "JSON Lines"), (cols[1], "parquet", "Parquet")]:
        col.download_button(f"Download {label}", data=lambda fmt=fmt: loading.export(ctx.key, fmt, ctx.events),
                            file_name=f"{name}.{fmt}", mime=MIME[fmt])


page.render("Reports", "Take the scope away: a PDF compliance report for an auditor, and the events as CSV, JSON "
            "Lines or Parquet.", body)
