"""The compliance report: one PDF for a scope (a loaded log and filters) plus the companion CSV of every
event in that scope, whose SHA-256 the PDF quotes. Figures, tables and charts come from
`audit_lib.metrics` / `audit_lib.charts`, the same functions the app pages use."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from audit_lib import __version__, charts, compliance, metrics
from audit_lib.export import scope_name, sha256_hex, to_csv_bytes
from audit_lib.filters import Filters, apply_filters
from audit_lib.loader import AuditLog
from audit_lib.report.pdf import GREY, ReportPDF
from audit_lib.textsafe import visible
from audit_lib.zones import extreme

TITLE = "Audit log compliance report"
MAX_ROWS = 10_000  # appendix rows printed; the companion CSV always holds every event
MAX_PER_CATEGORY = 500  # sensitive actions printed per category
MAX_GAPS = 400
TIME = "%Y-%m-%d %H:%M:%S"
SECTIONS = ["1. Scope and sources", "2. Summary", "3. Per user and per artifact type", "4. Sensitive actions",
            "5. Sign-ins and sign-outs", "6. Evidence", "7. Appendix: events in scope", "8. Review"]


@dataclass(frozen=True)
class Report:
    """A built report: the PDF, the companion CSV it quotes, and what went into them."""

    pdf: bytes
    csv: bytes
    csv_sha256: str
    name: str  # file-name stem naming the scope, e.g. "audit_2026-11-01_2026-11-07"
    events: int
    appendix_rows: int

    @property
    def truncated(self) -> bool:
        return self.appendix_rows < self.events


def build_report(log: AuditLog, filters: Filters | None = None, *, sources: Sequence[str] | None = None,
                 max_rows: int = MAX_ROWS, max_per_category: int = MAX_PER_CATEGORY, title: str = TITLE,
                 generated_at: datetime | None = None) -> Report:
    """Build the PDF and the companion CSV for the events of `log` within `filters`.

    `sources` names what was loaded (folders, files) for the cover; by default the folders of the files.
    The appendix lists at most `max_rows` events; the PDF then says so and gives the CSV's SHA-256.
    """
    filters = filters or Filters()
    events = apply_filters(log.events, filters)
    csv = to_csv_bytes(events)
    csv_sha = sha256_hex(csv)
    generated_at = generated_at or datetime.now(ZoneInfo(log.tz)).replace(microsecond=0)
    ctx = _Context(log, filters, events, list(sources) if sources else _default_sources(log.files), csv_sha,
                   generated_at, max_rows, max_per_category, title)
    pdf = _render(ctx)
    return Report(pdf, csv, csv_sha, scope_name(filters, log.tz, events), events.height,
                  min(events.height, max_rows))


@dataclass
class _Context:
    log: AuditLog
    filters: Filters
    events: pl.DataFrame
    sources: list[str]
    csv_sha: str
    generated_at: datetime
    max_rows: int
    max_per_category: int
    title: str

    @property
    def tz(self) -> str:
        return self.log.tz


def _default_sources(files: pl.DataFrame) -> list[str]:
    folders = files.select(pl.col("source").str.replace(r"/[^/]*$", "")).to_series().unique().sort().to_list()
    return folders or ["(no files)"]


# ---------------------------------------------------------------- formatting helpers


def _text_rows(df: pl.DataFrame, columns: Sequence[str]) -> list[tuple]:
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
            exprs.append(col.map_batches(_thousands, return_dtype=pl.String).fill_null(""))
        else:
            exprs.append(col.cast(pl.String).fill_null(""))
    return df.select(exprs).rows()


def _thousands(s: pl.Series) -> pl.Series:
    """Integers with "," every three digits, vectorised (works on the small tables of the report)."""
    text = s.cast(pl.String)
    return text.str.reverse().str.replace_all(r"(\d{3})(\d)", "$1,$2").str.reverse()


def _n(value: int | None) -> str:
    return f"{value or 0:,}"


def _when(value: datetime | None) -> str:
    return f"{value.year:04d}-{value:%m-%d %H:%M:%S}" if value else "-"


def _every(events: pl.DataFrame) -> str:
    """The bucket width of the activity chart: by hour up to 3 days, by day up to 120, else by week (or
    coarser, so that the chart stays within its size)."""
    if events.is_empty():
        return "1d"
    span = events.select((pl.col("timestamp").max() - pl.col("timestamp").min()).dt.total_seconds()).item()
    wanted = "1h" if span <= 3 * 86400 else "1d" if span <= 120 * 86400 else "1w"
    return metrics.bucket_every(events, wanted)


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


# ---------------------------------------------------------------- sections


def _render(ctx: _Context) -> bytes:
    scope = visible(ctx.filters.describe(ctx.tz))  # names users: log text, printed with its escapes
    pdf = ReportPDF(running_title=f"{ctx.title} · {scope}",
                    footer_note=f"Generated {ctx.generated_at:%Y-%m-%d %H:%M %Z} · audit_lib {__version__}")
    pdf.set_title(ctx.title)
    pdf.set_subject(scope)
    pdf.set_creator(f"audit_lib {__version__}")
    pdf.set_creation_date(ctx.generated_at)
    _cover(pdf, ctx, scope)
    _summary(pdf, ctx)
    _tables(pdf, ctx)
    _sensitive(pdf, ctx)
    _sign_ins(pdf, ctx)
    _evidence(pdf, ctx)
    _appendix(pdf, ctx)
    _review(pdf, ctx)
    return bytes(pdf.output())


def _cover(pdf: ReportPDF, ctx: _Context, scope: str) -> None:
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 22)
    pdf.ln(8)
    pdf.cell(pdf.epw, 11, pdf.fit(ctx.title, pdf.epw), new_x="LMARGIN", new_y="NEXT")
    pdf.para("WSO2 Micro Integrator, API Manager and Identity Server audit logs", size=11, color=GREY)
    pdf.ln(3)
    ev, files = ctx.events, ctx.log.files
    first, last = extreme(ev["timestamp"], "min"), extreme(ev["timestamp"], "max")
    errors = int(files["error"].is_not_null().sum())
    dups = int(files["duplicate_of"].is_not_null().sum())
    rows = [
        ("Scope", scope),
        ("Time zone", ctx.tz),
        ("Events in scope", f"{ev.height:,}" + (f" from {_when(first)} to {_when(last)}" if ev.height
                                                else " (no events in scope)")),
        ("Sources", "\n".join(visible(s) for s in ctx.sources)),
        ("Files read", f"{files.height:,} files, {int(files['bytes'].sum() or 0):,} bytes; {dups} duplicate, "
                       f"{errors} with read errors; {ctx.log.rejects.height:,} lines rejected"),
        ("Companion CSV", f"every event in scope ({ev.height:,} rows), SHA-256 {ctx.csv_sha}"),
        ("Generated at", f"{ctx.generated_at.isoformat()}"),
        ("Generated by", f"audit_lib {__version__}"),
    ]
    pdf.key_values(rows, key_width=38, size=9.5)
    pdf.ln(6)
    pdf.heading("Contents", 3)
    pdf.para("\n".join(SECTIONS), size=9)
    if ev.is_empty():
        pdf.ln(2)
        pdf.para("There are no events in this scope: the report states the scope and the evidence only.", 10, "B")


def _summary(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading("2. Summary")
    k = metrics.key_figures(ctx.events, ctx.log.files, ctx.log.rejects)
    figures = [("Events", _n(k["events"])), ("Users", _n(k["users"])), ("Artifact types", _n(k["artifact_types"])),
               ("Artifacts", _n(k["artifacts"])), ("Nodes", _n(k["nodes"])),
               ("Span", metrics.format_span(k["span"])), ("Sign-ins", _n(k["sign_ins"])),
               ("Failed sign-ins", _n(k["failed_sign_ins"])), ("Failures", _n(k["failures"])),
               ("Off-hours events", _n(k["off_hours"])), ("Files", _n(k.get("files"))),
               ("Rejected lines", _n(k.get("rejects")))]
    _figure_grid(pdf, figures)
    pdf.para(f"First event {_when(k['first'])}, last event {_when(k['last'])} ({ctx.tz}). Off-hours: before "
             f"{metrics.WORK_HOURS[0]:02d}:00, from {metrics.WORK_HOURS[1]:02d}:00, and weekends.", 8.5, color=GREY)
    if ctx.events.is_empty():
        pdf.para("No events in scope: no charts.", 10, "B")
        return
    every = _every(ctx.events)
    label = metrics.EVERY_NAME.get(every, every)
    _chart(pdf, lambda: charts.over_time_chart(metrics.over_time(ctx.events, every), every,
                                               title=f"Events per {label}, by artifact type", width=900),
           pdf.epw, pdf.page_break_trigger - pdf.get_y() - 2)
    pdf.add_page()
    y = pdf.get_y()
    half = (pdf.epw - 6) / 2
    users = metrics.per_user(ctx.events)
    _chart(pdf, lambda: charts.user_kinds_chart(metrics.user_kinds_long(users), width=420), half,
           pdf.page_break_trigger - y - 2, x=pdf.l_margin, y=y)
    types = metrics.per_artifact_type(ctx.events)
    _chart(pdf, lambda: charts.bar_chart(types, "artifact_type", title="Events per artifact type", width=420),
           half, pdf.page_break_trigger - y - 2, x=pdf.l_margin + half + 6, y=y)


def _figure_grid(pdf: ReportPDF, figures: list[tuple[str, str]], per_row: int = 6) -> None:
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


def _chart(pdf: ReportPDF, make, max_w: float, max_h: float, x: float | None = None,
           y: float | None = None) -> None:
    """Render an altair chart (built by `make`) to PNG and place it within max_w x max_h mm."""
    try:
        png = charts.chart_png(make(), scale=2)
    except Exception as exc:  # a chart that cannot render must not cost the auditor the report
        pdf.para(f"(chart not rendered: {exc})", 8, color=GREY)
        return
    pw, ph = _png_size(png)
    w = min(max_w, max_h * pw / ph)
    h = w * ph / pw
    x = pdf.l_margin if x is None else x
    y = pdf.get_y() if y is None else y
    pdf.image(io.BytesIO(png), x=x, y=y, w=w, h=h)
    pdf.set_xy(pdf.l_margin, y + h + 2)


def _tables(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading("3. Per user and per artifact type")
    _count_table(pdf, "Per user", metrics.per_user(ctx.events),
                 [("user", "User", 30, "L"), ("events", "Events", 10, "R"), ("first_seen", "First seen", 25, "L"),
                  ("last_seen", "Last seen", 25, "L"), ("nodes", "Nodes", 26, "L"), ("failures", "Failures", 12, "R")])
    _count_table(pdf, "Per artifact type", metrics.per_artifact_type(ctx.events),
                 [("artifact_type", "Artifact type", 34, "L"), ("events", "Events", 10, "R"),
                  ("artifacts", "Artifacts", 12, "R"), ("users", "Users", 10, "R"), ("first", "First", 25, "L"),
                  ("last", "Last", 25, "L")])


def _count_table(pdf: ReportPDF, title: str, df: pl.DataFrame, lead: list[tuple[str, str, float, str]]) -> None:
    """A sub-section with one row per value: the `lead` columns (name, heading, width, alignment), then
    the events of each kind of action."""
    pdf.heading(title, 2)
    if df.is_empty():
        pdf.para("No events in scope.")
        return
    kinds = metrics.KINDS
    names, heads, widths, aligns = (list(x) for x in zip(*lead, strict=True))
    pdf.table([*heads, *kinds], _text_rows(df, [*names, *kinds]), [*widths, *[12] * len(kinds)],
              aligns=[*aligns, *["R"] * len(kinds)], max_lines=2)


EVENT_HEAD = ["Time", "User", "Node", "Action", "Artifact type", "Artifact", "Details", "Source : line"]
EVENT_WIDTHS = [27, 24, 17, 22, 24, 30, 80, 52]


def _event_rows(df: pl.DataFrame, with_outcome: bool = False) -> list[tuple]:
    src = pl.col("source").cast(pl.String) + pl.lit(" : ") + pl.col("line").cast(pl.String)
    action = pl.col("action").cast(pl.String)
    if with_outcome:
        action = pl.when(pl.col("outcome").cast(pl.String) == "failure").then(action + pl.lit(" (failed)")).otherwise(
            action)
    frame = df.select(pl.col("timestamp").dt.to_string(TIME), pl.col("user").cast(pl.String),
                      pl.col("node").cast(pl.String), action.alias("action"),
                      pl.col("artifact_type").cast(pl.String), pl.col("artifact").cast(pl.String),
                      pl.col("details"), src.alias("src"))
    return frame.fill_null("").rows()


def _sensitive(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading("4. Sensitive actions")
    sens = compliance.sensitive_actions(ctx.events)
    summary = compliance.sensitive_summary(sens)
    pdf.para(f"{sens.height:,} sensitive actions in scope. An event that matches several rules is listed under "
             "each of them.", 9)
    pdf.table(["Category", "What it means", "Events"], _text_rows(summary, ["category", "reason", "events"]),
              [60, 170, 20], aligns=["L", "L", "R"], size=8)
    for category, _reason, count in summary.rows():
        if not count:
            continue
        pdf.heading(f"{category} ({count:,})", 3)
        rows = sens.filter(pl.col("category") == category)
        if rows.height > ctx.max_per_category:
            pdf.para(f"The first {ctx.max_per_category:,} of {rows.height:,} are listed; every event is in the "
                     f"companion CSV (SHA-256 {ctx.csv_sha}).", 8, color=GREY)
        pdf.table(EVENT_HEAD, _event_rows(rows.head(ctx.max_per_category)), EVENT_WIDTHS, max_lines=2)


def _sign_ins(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.heading("5. Sign-ins and sign-outs")
    table = compliance.sign_ins(ctx.events)
    if table.is_empty():
        pdf.para("No sign-in, sign-out or failed sign-in in scope.")
        return
    cols = ["user", "sign_ins", "sign_outs", "failed", "first_sign_in", "last_sign_in", "last_sign_out", "nodes"]
    pdf.table(["User", "Sign-ins", "Sign-outs", "Failed", "First sign-in", "Last sign-in", "Last sign-out", "Nodes"],
              _text_rows(table, cols), [50, 15, 15, 15, 30, 30, 30, 60],
              aligns=["L", "R", "R", "R", "L", "L", "L", "L"], max_lines=2, size=7.5)


def _evidence(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading("6. Evidence")
    files, rejects = ctx.log.files, ctx.log.rejects
    q = metrics.parse_quality(files, rejects)
    pdf.para(f"{q['lines']:,} lines read from {q['files']:,} files: {q['events']:,} events, {q['attached']:,} "
             f"continuation lines attached to an event, {q['blank']:,} blank, {q['rejects']:,} rejected, "
             f"{q['duplicate_lines']:,} in duplicate files (not counted twice). These add up to every line read: "
             f"{'yes' if q['complete'] else 'NO'}. {q['errors']} file(s) could not be read.", 9)
    cut = files.filter(~pl.col("complete")) if "complete" in files.columns else files.clear()
    if cut.height:
        pdf.para(f"INCOMPLETE: {cut.height} file(s) were read only in part (damaged, truncated or over a size cap). "
                 "The lines after the damage are unknown: this report cannot speak for them. "
                 + "; ".join(f"{visible(src)}: {visible(err or 'read in part')}"
                             for src, err in cut.select("source", "error").iter_rows()), 9)
    else:
        pdf.para("Complete: every file was read to its end.", 9)
    if ctx.log.skipped:
        pdf.para(f"Not audit logs, skipped: {', '.join(visible(s) for s in ctx.log.skipped)}", 8, color=GREY)

    pdf.heading("File manifest", 2)
    in_scope = ctx.events.group_by(pl.col("source").cast(pl.String)).agg(in_scope=pl.len().cast(pl.Int64))
    man = compliance.manifest(files).join(in_scope, on="source", how="left").with_columns(
        pl.col("in_scope").fill_null(0),
        pl.col("sha256").str.slice(0, 32) + pl.lit("\n") + pl.col("sha256").str.slice(32))  # two even lines
    cols = ["source", "node", "bytes", "sha256", "lines", "events", "in_scope", "rejects", "first", "last", "note"]
    pdf.table(["Source", "Node", "Bytes", "SHA-256", "Lines", "Events", "In scope", "Rejects", "First event",
               "Last event", "Note"], _text_rows(man, cols), [54, 17, 13, 46, 10, 11, 11, 12, 26, 26, 30],
              aligns=["L", "L", "R", "L", "R", "R", "R", "R", "L", "L", "L"],
              max_lines=[3, 2, 1, 2, 1, 1, 1, 1, 1, 1, 3], size=6.5, multiline=[3])

    pdf.heading("Coverage gaps", 2)
    gaps = compliance.gaps(ctx.events, files, ctx.tz)
    if ctx.filters.start is not None:
        gaps = gaps.filter(pl.col("day") >= ctx.filters.start.astimezone(ZoneInfo(ctx.tz)).date())
    if ctx.filters.end is not None:
        gaps = gaps.filter(pl.col("day") <= (ctx.filters.end.astimezone(ZoneInfo(ctx.tz))
                                             - timedelta(microseconds=1)).date())
    pdf.para("Days between a node's first and last day with no file or no events"
             f"{' within the time range' if ctx.filters.start or ctx.filters.end else ''}: {gaps.height:,}.", 9)
    if gaps.height:
        if gaps.height > MAX_GAPS:
            pdf.para(f"The first {MAX_GAPS} are listed.", 8, color=GREY)
        pdf.table(["Node", "Day", "Files", "Events", "Status"],
                  _text_rows(gaps.head(MAX_GAPS), ["node", "day", "files", "events", "status"]),
                  [60, 40, 20, 20, 40], aligns=["L", "L", "R", "R", "L"], size=7.5)

    pdf.heading("Duplicate files", 2)
    dups = compliance.duplicates(files)
    pdf.para(f"{dups.height:,} file(s) repeat the content of another file and were read once.", 9)
    if dups.height:
        pdf.table(["File", "Same content as", "SHA-256"], _text_rows(dups, ["source", "duplicate_of", "sha256"]),
                  [90, 90, 97], max_lines=2, size=7)

    pdf.heading("Rejected lines", 2)
    pdf.para(f"{rejects.height:,} line(s) could not be read as events.", 9)
    if rejects.height:
        reasons = q["reasons"]
        pdf.para("By reason: " + "; ".join(f"{visible(r)} ({n:,})" for r, n in reasons.rows()), 8.5)
        sample = compliance.reject_sample(rejects)
        pdf.table(["Source", "Line", "Reason", "Text"], _text_rows(sample, ["source", "line", "reason", "text"]),
                  [70, 12, 30, 165], aligns=["L", "R", "L", "L"], max_lines=[2, 1, 1, 3], size=7)


def _appendix(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading("7. Appendix: events in scope")
    n = ctx.events.height
    shown = min(n, ctx.max_rows)
    if n == 0:
        pdf.para("No events in scope.", 10, "B")
        return
    if shown < n:
        pdf.para(f"This scope holds {n:,} events; more than {ctx.max_rows:,}, so the first {shown:,} are printed. "
                 f"All {n:,} are in the companion CSV, SHA-256 {ctx.csv_sha}.", 9, "B")
    else:
        pdf.para(f"All {n:,} events in scope, oldest first. The same rows are in the companion CSV, "
                 f"SHA-256 {ctx.csv_sha}.", 9)
    pdf.table(EVENT_HEAD, _event_rows(ctx.events.head(shown), with_outcome=True), EVENT_WIDTHS,
              max_lines=[1, 1, 1, 1, 1, 1, 2, 1], size=6.5, keep_end=[7])


def _review(pdf: ReportPDF, ctx: _Context) -> None:
    if pdf.get_y() + 95 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.heading("8. Review")
    pdf.para("Completed by the reviewer of this report.", 9, color=GREY)
    pdf.set_draw_color(120, 120, 120)
    for label in ["Reviewed by", "Role", "Date", "Signature"]:
        y = pdf.get_y() + 3
        pdf.set_xy(pdf.l_margin, y)
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(35, 8, label)
        pdf.line(pdf.l_margin + 35, y + 7, pdf.l_margin + 160, y + 7)
        pdf.set_xy(pdf.l_margin, y + 9)
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(35, 8, "Notes", new_x="LMARGIN", new_y="NEXT")
    y = pdf.get_y()
    pdf.rect(pdf.l_margin, y, pdf.epw, 35)
    pdf.set_xy(pdf.l_margin, y + 37)
    pdf.set_font("DejaVu", "", 9)
