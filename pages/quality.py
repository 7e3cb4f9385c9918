"""Data quality: the file manifest, the rejected lines and the days without a file or without events."""

import polars as pl
import streamlit as st

from audit_lib import charts, metrics
from audit_lib.ui import page

ctx = page.start("Data quality", "Which files were read, what could not be parsed, and where the record has "
                 "holes. This page shows the whole loaded set: only the time zone applies, not the filters.")
if ctx is None and st.session_state.get("context") is not None and st.session_state["context"].log is not None:
    ctx = st.session_state["context"]  # the filters matched nothing, but the files are still worth showing
if ctx is not None:
    log = ctx.log
    q = metrics.parse_quality(log.files, log.rejects)
    cols = st.columns(5)
    cols[0].metric("Files", q["files"], help=f"{q['duplicates']} duplicate(s) counted once")
    cols[1].metric("Lines", f"{q['lines']:,}")
    cols[2].metric("Parsed", f"{q['parsed_share']:.2%}", help="Lines read as events, attached continuation lines "
                   "or blank, out of all lines of non-duplicate files.")
    cols[3].metric("Rejected lines", f"{q['rejects']:,}")
    cols[4].metric("Unreadable files", q["errors"])
    if q["complete"]:
        st.success(f"Every line is accounted for: {q['events']:,} events + {q['attached']:,} attached + "
                   f"{q['blank']:,} blank + {q['rejects']:,} rejected + {q['duplicate_lines']:,} in duplicate "
                   f"files = {q['lines']:,} lines.")
    else:
        st.warning("The line counts do not add up; some lines are not accounted for.")
    if log.skipped:
        st.caption(f"{len(log.skipped)} file(s) in the source are not audit logs and were left alone: "
                   + ", ".join(map(str, log.skipped[:10])) + (" ..." if len(log.skipped) > 10 else ""))

    st.subheader("Files")
    page.show_table(log.files, what="files", column_config={
        "bytes": st.column_config.NumberColumn(format="%d"),
        "first": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        "last": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})

    st.subheader("Rejected lines")
    if log.rejects.is_empty():
        st.info("No line was rejected.")
    else:
        st.dataframe(q["reasons"], hide_index=True, width="content")
        page.show_table(log.rejects, what="rejected lines")

    st.subheader("Coverage")
    cov = metrics.coverage_gaps(log.events, log.files, log.tz)
    gaps = cov.filter(pl.col("status") != "ok")
    if cov.is_empty():
        st.info("No dated file or event to check coverage against.")
    else:
        page.chart(charts.coverage_chart(cov, title=f"Days per node from its first to its last day ({log.tz})"))
        if gaps.is_empty():
            st.success("Every node has a file and events on every day of its range.")
        else:
            st.warning(f"{gaps.height} node-day(s) without a log file or without events: a gap may mean lost "
                       "or deleted files, or simply a quiet day.")
            page.show_table(gaps, what="days")
