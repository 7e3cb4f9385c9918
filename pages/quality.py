"""Data quality: the file manifest, the rejected lines and the days without a file or without events."""

import polars as pl
import streamlit as st

from audit_lib.analysis import metrics
from audit_lib.render import charts
from audit_lib.render.textsafe import md
from audit_lib.ui import loading, page, review
from audit_lib.ui.sidebar import Context, ambiguous_count
from audit_lib.ui.store_status import show_store_status


def body(ctx: Context) -> None:
    log = ctx.log
    q = metrics.parse_quality(log.files, log.rejects)
    cols = st.columns(5)
    cols[0].metric("Files", q["files"], help=f"{q['duplicates']} duplicate(s) counted once")
    cols[1].metric("Lines", f"{q['lines']:,}")
    cols[2].metric("Parsed", f"{q['parsed_share']:.2%}", help="Lines read as events, attached continuation lines "
                   "or blank, out of all lines of non-duplicate files.")
    cols[3].metric("Rejected lines", f"{q['rejects']:,}")
    cols[4].metric("Unreadable files", q["errors"])
    cut = log.files.filter(~pl.col("complete"))
    unread = [s for s in log.skipped if getattr(s, "unread", False)]  # audit files not read at all
    sums = (f"{q['events']:,} events + {q['attached']:,} attached + {q['blank']:,} blank + {q['rejects']:,} "
            f"rejected + {q['duplicate_lines']:,} in duplicate files = {q['lines']:,} lines")
    if not q["complete"]:
        st.warning("The line counts do not add up; some lines are not accounted for.")
    elif cut.height:
        st.error(f"Incomplete: {cut.height} file(s) were read only in part (damaged, truncated or over a size cap); "
                 "the lines after the damage are unknown, so nothing can be said about them. Every line that "
                 f"was read is accounted for: {sums}.")
        page.show_table(cut.select("source", "node", "lines", "last", "error"), what="files read in part")
    elif not unread:
        st.success(f"Complete: every file was read to its end and every line is accounted for: {sums}.")
    if unread:
        st.error(md(f"Incomplete: {len(unread)} file(s) named as audit logs (or archives, or folders) could not be "
                    "read at all (unreadable, not text, damaged, refused); their lines are unknown: "
                    + "; ".join(map(str, unread[:10])) + (" ..." if len(unread) > 10 else "")))
    view = ctx.store  # an event store: its manifest and rejects, and counts instead of its events
    if ambiguous := ambiguous_count(log):
        st.warning(f"{ambiguous:,} event(s) fall in an hour that the clock change repeated and nothing in their "
                   "file tells which of the two it was; they show the first and are marked time_ambiguous. "
                   "The sidebar's \"Ambiguous times only\" shows them.")
    if view is None:  # what the lines themselves say of the servers' zone (an event store keeps its own)
        clues = loading.metric("zone_clues", f"{log.fingerprint}|clues", log.events, log.tz)
        if clues.height:
            st.warning(md(f"The lines' own clues disagree with reading their times in {log.tz}: "
                          + "; ".join(f"{n}: the {c} is {w}, {log.tz} gives {r} ({e:,} event(s))" for n, c, w, r, e
                                      in clues.select("node", "clue", "written", "read_as", "events").iter_rows())
                          + ". If the servers write another zone, pick it in the sidebar: every time would be "
                            "misstated."))
            page.show_table(clues, what="clues")
    if others := [s for s in log.skipped if not getattr(s, "unread", False)]:
        st.caption(md(f"{len(others)} file(s) in the source are not audit logs and were left alone: "
                      + ", ".join(map(str, others[:10])) + (" ..." if len(others) > 10 else "")))

    if view is not None:  # an event store: its head, last verify, and each source's last fetch and error
        show_store_status(view)

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
    settings, problems = review.working_time()
    for problem in problems:
        st.warning(problem)
    if view is not None:
        cov = loading.store("coverage", view, settings.work_days, settings.holidays)
    else:
        cov = metrics.coverage_gaps(log.events, log.files, log.tz, work_days=settings.work_days,
                                    holidays=settings.holidays)
    gaps = cov.filter(~pl.col("status").is_in(["ok", "day off"]))
    if cov.is_empty():
        st.info("No dated file or event to check coverage against.")
    else:
        page.chart(charts.coverage_chart(cov, title=f"Every node, first to last day of the logs ({log.tz})"))
        spans = cov.group_by("node").agg(days=(pl.col("day").max() - pl.col("day").min()).dt.total_days())
        far = spans.filter(pl.col("days") > metrics.MAX_COVERAGE_DAYS)["node"].to_list()
        if far:
            st.warning(md(f"{len(far)} node(s) have events more than a century apart (misdated lines?): "
                          + ", ".join(far[:10]) + ". For them only the days with a file or events are listed, "
                          "not every day in between."))
        if gaps.is_empty():
            st.success("Every node has a file and events on every working day of the logs (working days and "
                       "holidays as set above).")
        else:
            st.warning(f"{gaps.height} working node-day(s) read only in part, without a log file or without "
                       "events: a gap may mean damaged, lost or deleted files, or simply a quiet day.")
            page.show_table(gaps, what="days")


page.render("Data quality", "Which files were read, what could not be parsed, and where the record has holes. This "
            "page shows the whole loaded set: only the time zone applies, not the filters.", body,
            needs_events=False)
