"""Helpers every page uses: its context, the one-line scope, the empty state, cached metrics, and the guard
that turns an unexpected error into one line on the page (the traceback goes to the server log).

Text that comes from the logs (names, file names, messages) goes through `md` before any markdown element
(st.markdown, st.caption, st.info/warning/error, help texts): it is shown literally, never as a link or image.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from audit_lib.analysis import metrics
from audit_lib.analysis.filters import NOT_RECORDED
from audit_lib.render.textsafe import md, visible_column
from audit_lib.store.view import ScopeTooLarge
from audit_lib.ui import loading
from audit_lib.ui import state as S
from audit_lib.ui.errors import guard
from audit_lib.ui.sidebar import Context, build_context

TABLE_LIMIT = 2000  # rows sent to a table on the pages (the explorer pages through all)


def render(title: str, caption: str | None, body: Callable[[Context], None], *, needs_events: bool = True) -> None:
    """A page: its title and scope (see `start`), then `body(ctx)` inside `guard`. With `needs_events` False
    the body also runs when the filters match nothing, as long as logs are loaded."""
    with guard(f"The {title} page"):
        ctx = start(title, caption)
        if ctx is None and not needs_events:
            loaded = st.session_state.get(S.CONTEXT)
            ctx = loaded if loaded is not None and loaded.log is not None else None
        if ctx is not None:
            try:
                body(ctx)
            except ScopeTooLarge as exc:  # an event store's scope too large to read whole: say how to narrow it
                st.info(md(str(exc)))


def start(title: str, caption: str | None = None) -> Context | None:
    """Title, scope line and messages; returns the context, or None (after saying why) when there is
    nothing to show."""
    ctx: Context | None = st.session_state.get(S.CONTEXT)
    if ctx is None:  # a page run on its own: draw the sidebar here
        ctx = build_context()
    st.title(title)
    if caption:
        st.caption(caption)
    for level, text in ctx.messages:  # file names and loader messages: log text, shown literally
        getattr(st, level)(md(text))
    if ctx.log is None:
        if not any(level == "error" for level, _ in ctx.messages) and not ctx.messages:
            st.info("No logs loaded: pick a source in the sidebar.")
        return None
    st.markdown(f"**Scope:** {md(scope_line(ctx))}")
    if ctx.count == 0:
        st.info("No event matches the filters in the sidebar. Widen the time range or clear some filters "
                "(**Clear filters** at the bottom of the sidebar).")
        return None
    return ctx


def scope_line(ctx: Context) -> str:
    """Time range, zone, filters and number of events, in one line."""
    n = ctx.count
    return (f"{ctx.filters.describe(ctx.tz)} · {n:,} of {ctx.total:,} events · {ctx.source_label}")


def m(ctx: Context, name: str, *args: Any, events: pl.DataFrame | None = None, key: str = "", **kwargs: Any) -> Any:
    """A cached `audit_lib.analysis.metrics` result for the scope of `ctx` (or for `events`, identified by `key`)."""
    data = ctx.events if events is None else events
    return loading.metric(name, f"{ctx.key}|{key}", data, *args, **kwargs)


def show_table(df: pl.DataFrame, *, limit: int = TABLE_LIMIT, what: str = "rows", **kwargs: Any) -> Any:
    """A table capped at `limit` rows, saying how many are shown when capped; text shown as `table_text`."""
    if df.height > limit:
        st.caption(md(f"Showing the first {limit:,} of {df.height:,} {what}."))
    return st.dataframe(table_text(df.head(limit)), hide_index=True, **kwargs)


def table_text(df: pl.DataFrame) -> pl.DataFrame:
    """`df` with its text columns as `audit_lib.render.textsafe.visible` shows them: a tab, a zero-width space or a
    bidi override in a name is seen as an escape, not as a blank or reordered text. An empty outcome reads
    "not recorded" (not "None", which would look like a value the product wrote)."""
    text = [c for c, t in df.schema.items() if t in (pl.String, pl.Categorical)]
    df = df.with_columns(visible_column(c) for c in text) if text else df
    if "outcome" in text:
        df = df.with_columns(pl.col("outcome").cast(pl.String).fill_null(NOT_RECORDED))
    return df


def one_row(df: pl.DataFrame, time_format: str = "%Y-%m-%d %H:%M") -> dict[str, Any]:
    """The first row of `df` as a dict, its times as text: a time of the year 9999 west of UTC has no Python
    datetime (see `audit_lib.events.zones.extreme`)."""
    times = [c for c, t in df.schema.items() if isinstance(t, pl.Datetime)]
    return df.head(1).with_columns(pl.col(times).dt.strftime(time_format)).row(0, named=True)


def every_note(wanted: str, used: str) -> None:
    """Say so when a chart had to use coarser buckets than the ones picked."""
    if wanted != used:
        name = metrics.EVERY_NAME
        st.caption(f"Shown per {name.get(used, used)}: per {name.get(wanted, wanted)} would be more bars than a "
                   "chart can draw.")


def chart(c: Any, **kwargs: Any) -> Any:
    """An altair chart at the width of the page and at the height its builder gave it (Streamlit would
    otherwise squeeze every chart into 350 px, dropping the labels of long category axes)."""
    if "height" not in kwargs and (h := _height(c)):
        kwargs["height"] = h + 150  # title, axes (dates may stand on end) and padding around the plot
    return st.altair_chart(c, width="stretch", **kwargs)


def _height(c: Any) -> int:
    """The plot height a chart asks for: the tallest layer, the sum of vertically stacked charts."""
    if isinstance(getattr(c, "height", None), int):
        return c.height
    if isinstance(c, alt.LayerChart):
        return max((_height(x) for x in c.layer), default=0)
    if isinstance(c, alt.VConcatChart):
        return sum(_height(x) + 60 for x in c.vconcat)
    if isinstance(c, alt.HConcatChart):
        return max((_height(x) for x in c.hconcat), default=0)
    return 0
