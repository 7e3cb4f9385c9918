"""How a report prints: text rows of a frame, numbers and times, the event table, figure grids and charts drawn
to fill a box. No section logic."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from audit_lib.analysis import compliance, metrics
from audit_lib.events.vocabulary import UNKNOWN
from audit_lib.render import charts
from audit_lib.render.textsafe import visible
from audit_lib.report.context import Context
from audit_lib.report.pdf import CHART_FONT, GREY, ReportPDF, chart_font_dir

TIME = "%Y-%m-%d %H:%M:%S"


# ---------------------------------------------------------------- formatting helpers


def text_rows(df: pl.DataFrame, columns: Sequence[str]) -> list[tuple]:
    """`columns` of `df` as text rows: times as "YYYY-MM-DD HH:MM:SS", numbers with thousands separators."""
    exprs = []
    for c in columns:
        dtype = df.schema[c]
        col = pl.col(c)
        if isinstance(dtype, pl.Datetime):
            exprs.append(col.dt.to_string(TIME).fill_null(""))
        elif isinstance(dtype, pl.Date):
            exprs.append(col.dt.to_string("%Y-%m-%d (%a)").fill_null(""))
        elif dtype.is_integer():
            exprs.append(thousands(col).fill_null(""))
        elif dtype == pl.Boolean:
            exprs.append(pl.when(col).then(pl.lit("yes")).otherwise(pl.lit("no")))
        else:
            exprs.append(col.cast(pl.String).fill_null(""))
    return df.select(exprs).rows()


def thousands(col: pl.Expr) -> pl.Expr:
    """Integers with "," every three digits, vectorised."""
    return col.cast(pl.String).str.reverse().str.replace_all(r"(\d{3})(\d)", "$1,$2").str.reverse()


def num(value: int | None) -> str:
    return f"{value or 0:,}"


def stamp(value: datetime | None) -> str:
    return f"{value.year:04d}-{value:%m-%d %H:%M:%S}" if value else "-"


def plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


EVENT_HEAD = ["Time", "Actor", "Node", "Action", "Target", "Outcome", "Details", "Session", "Source:line"]
EVENT_WIDTHS = [22, 20, 10, 18, 30, 11, 66, 9, 40]
EVENT_LINES = [1, 2, 1, 2, 2, 1, 2, 1, 3]


def event_rows(ctx: Context, df: pl.DataFrame, details: bool = True, session: bool = True) -> list[tuple]:
    """Event rows for a table: time, actor, node, action, target, outcome (done / failed / not recorded),
    details, session and source:line (relative to the common folder)."""
    person = pl.col("actor") if "actor" in df.columns else pl.col("user")
    labelled = df.schema.get("outcome") == pl.String and df["outcome"].is_in(list(compliance.OUTCOMES)).all()
    outcome = pl.col("outcome") if labelled else compliance.outcome_label(df)
    if df.schema["source"] != pl.String:
        df = df.with_columns(pl.col("source").cast(pl.String))
    if session and "session" not in df.columns:
        df = df.with_columns(ctx.session_of.of(df))
    cols = [pl.col("timestamp").dt.convert_time_zone(ctx.tz).dt.to_string(TIME),
            person.cast(pl.String).fill_null(UNKNOWN), pl.col("node").cast(pl.String),
            pl.col("action").cast(pl.String),
            pl.concat_str([pl.col("artifact_type").cast(pl.String), pl.col("artifact").cast(pl.String)],
                          separator=" ", ignore_nulls=True), outcome]
    if details:
        cols.append(pl.col("details"))
    if session:
        cols.append(pl.when(pl.col("session").is_not_null()).then(pl.format("#{}", pl.col("session")))
                    .otherwise(pl.lit("none")))
    cols.append(pl.format("{}:{}", ctx.rel(), pl.col("line")))
    return df.select([c.alias(f"c{i}") for i, c in enumerate(cols)]).fill_null("").rows()


def event_table(pdf: ReportPDF, ctx: Context, rows: Sequence, details: bool = True, session: bool = True,
                 size: float = 6.5) -> None:
    keep = [i for i, h in enumerate(EVENT_HEAD) if (details or h != "Details") and (session or h != "Session")]
    pdf.table([EVENT_HEAD[i] for i in keep], rows, [EVENT_WIDTHS[i] for i in keep],
              max_lines=[EVENT_LINES[i] for i in keep], size=size)


def paths_note(pdf: ReportPDF, ctx: Context) -> None:
    if ctx.root:
        pdf.para(f"Source paths are relative to {visible(ctx.root)}", 7.5, color=GREY)


def figure_grid(pdf: ReportPDF, figures: list[tuple[str, str]], per_row: int = 6) -> None:
    w = pdf.epw / per_row
    h = 14
    y = pdf.get_y() - h - 2
    for i, (label, value) in enumerate(figures):
        if i % per_row == 0:
            y += h + 2
        x = pdf.l_margin + (i % per_row) * w
        pdf.set_draw_color(200, 200, 200)
        pdf.rect(x + 1, y, w - 2, h)
        pdf.set_xy(x + 3, y + 1.5)
        pdf.set_font("DejaVu", "", 7.5)
        pdf.set_text_color(*GREY)
        pdf.cell(w - 6, 4, pdf.fit(label, w - 6))
        pdf.set_text_color(0, 0, 0)
        pdf.set_xy(x + 3, y + 6)
        pdf.set_font("DejaVu", "B", 13)
        pdf.cell(w - 6, 6, pdf.fit(value, w - 6))
    pdf.set_xy(pdf.l_margin, y + h + 3)


# ---------------------------------------------------------------- charts (full edition)

PX_PER_MM = 96 / 25.4


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _render_png(chart: Any) -> bytes:
    import vl_convert as vlc

    vlc.register_font_directory(chart_font_dir())
    return charts.chart_png(chart, scale=2, config={"font": CHART_FONT})


def draw_chart(pdf: ReportPDF, make: Callable[[int, int], Any], box_w: float, box_h: float, x: float, y: float) -> None:
    """An altair chart built by `make(width_px, height_px)` drawn to fill a box of box_w x box_h mm: rendered once,
    then once more with its plot height corrected so that the image has the box's proportions."""
    width = int(box_w * PX_PER_MM * 0.82)
    height = int(box_h * PX_PER_MM * 0.7)
    try:
        png = _render_png(make(width, height))
        pw, ph = _png_size(png)
        wanted = pw * box_h / box_w  # image height (px at scale 2) of the box's proportions
        if abs(ph - wanted) > 0.06 * wanted:
            height = max(60, int(height + (wanted - ph) / 2))
            png = _render_png(make(width, height))
            pw, ph = _png_size(png)
    except Exception as exc:  # a chart that cannot render must not cost the auditor the report
        pdf.set_xy(x, y)
        pdf.para(f"(chart not rendered: {exc})", 8, color=GREY)
        return
    w = min(box_w, box_h * pw / ph)
    h = w * ph / pw
    pdf.image(io.BytesIO(png), x=x + (box_w - w) / 2, y=y, w=w, h=h)


def count_table(pdf: ReportPDF, title: str, df: pl.DataFrame, lead: list[tuple[str, str, float, str]]) -> None:
    """A sub-section with one row per value: the `lead` columns (name, heading, width, alignment), then
    the events of each kind of action."""
    pdf.heading(title, 2)
    if df.is_empty():
        pdf.para("No events in scope.")
        return
    kinds = metrics.KINDS
    names, heads, widths, aligns = (list(x) for x in zip(*lead, strict=True))
    pdf.table([*heads, *kinds], text_rows(df, [*names, *kinds]), [*widths, *[9] * len(kinds)],
              aligns=[*aligns, *["R"] * len(kinds)], max_lines=2)
