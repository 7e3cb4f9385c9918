"""Explorer: the filtered events, sorted and paged (newest first unless asked otherwise), with the raw line of a
chosen row."""

import math

import streamlit as st

from audit_lib.render.export import MIME, scope_name
from audit_lib.render.textsafe import md, visible
from audit_lib.ui import loading, page
from audit_lib.ui import state as S
from audit_lib.ui.sidebar import Context

PAGE_SIZE = 500
SHOWN_ROWS = 25  # rows the table shows before it scrolls (Streamlit's default is ten, whatever the window)
ROW_PX = 35  # Streamlit's row height, header included
COLUMNS = ["timestamp", "user", "action", "artifact_type", "artifact", "outcome", "node", "product", "level",
           "details", "attachment", "source", "line"]


def body(ctx: Context) -> None:
    n = ctx.events.height
    pages = max(1, math.ceil(n / PAGE_SIZE))
    c1, c2, c3 = st.columns([2, 1, 1])
    if S.SORT_DESC not in st.session_state:  # newest first unless the user turns it off
        st.session_state[S.SORT_DESC] = True
    sort_by = c1.selectbox("Sort by", COLUMNS, key=S.SORT_BY)
    desc = c2.toggle("Newest / largest first", key=S.SORT_DESC)
    if st.session_state.get(S.PAGE, 1) > pages:
        st.session_state[S.PAGE] = 1
    number = c3.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key=S.PAGE)
    offset = (int(number) - 1) * PAGE_SIZE
    rows = page.m(ctx, "event_page", sort_by, desc, offset, PAGE_SIZE).select(COLUMNS)
    st.caption(f"Rows {offset + 1:,}-{offset + rows.height:,} of {n:,} events in scope "
               f"({PAGE_SIZE} per page). Select a row to see the line as written in its file.")
    # the table's own export is switched off (client.disableDataExport): it would write formula cells raw
    picked = st.dataframe(page.table_text(rows), hide_index=True, on_select="rerun", selection_mode="single-row",
                          key="explorer_table", height=(min(SHOWN_ROWS, rows.height) + 1) * ROW_PX + 3,
                          column_config={"timestamp": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss.SSS"),
                                         "line": st.column_config.NumberColumn(format="%d")})
    st.download_button("Download the events in scope as CSV", icon=":material/download:",
                       data=lambda: loading.export(ctx.key, "csv", ctx.events), mime=MIME["csv"],
                       file_name=f"{scope_name(ctx.filters, ctx.tz, ctx.events)}.csv",
                       help="Every event in scope, every column; cells a spreadsheet would run as a formula "
                            "are neutralised with a leading apostrophe.")
    chosen = picked.selection.rows if picked is not None and hasattr(picked, "selection") else []
    index = chosen[0] if chosen else 0
    if rows.height:
        r = rows.select("source", "line", "attachment").row(index, named=True)
        raw = ctx.log.raw_line(r["source"], r["line"])
        st.markdown(f"**Raw line** of {md(r['source'])}, line {r['line']}" + ("" if chosen else
                                                                          " (first row of the page)"))
        # as written, except that control, bidi and invisible characters show as escapes (\u202e, \u200b)
        st.code(visible(raw, keep="\t") if raw is not None else "(the line could not be read back)", language=None,
                wrap_lines=True)
        if r["attachment"]:
            st.markdown("**Attached lines**")
            st.code(visible(r["attachment"], keep="\t\n"), language=None, wrap_lines=True)


page.render("Explorer", "Every event in scope, with the file and line it was read from.", body)
