"""The compliance report: one PDF for a scope (a loaded log and filters), the companion CSV of every event in that
scope and the findings as JSON Lines, whose SHA-256 the PDF quotes.

Two editions:
- "privileged" (the default): cover and scope, findings summary, each finding with its events, sensitive actions
  with what the product recorded of their outcome, the privileged actors and their sessions, the evidence (the
  files that cover the scope and which of its days they cover), the appendix of every event only on request;
- "full": the same plus the activity figures and charts, the per user and per artifact type tables and the
  sign-ins per user, and the appendix by default.

Figures, tables and charts come from `audit_lib.analysis.metrics`, `audit_lib.analysis.compliance`, `audit_lib.checks.findings`,
`audit_lib.analysis.sessions` and `audit_lib.render.charts`, the same functions the app pages use.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from audit_lib import __version__
from audit_lib.analysis import compliance, metrics
from audit_lib.analysis.compliance import Category
from audit_lib.analysis.filters import Filters, apply_filters
from audit_lib.analysis.sessions import change_expr, sessions_and_ids
from audit_lib.checks.findings import SEVERITIES, Finding, Rule, Settings, findings, load_rules, sort_findings
from audit_lib.events.zones import extreme
from audit_lib.intake.loader import AuditLog
from audit_lib.render import charts
from audit_lib.render.export import scope_name, sha256_hex, to_csv_bytes
from audit_lib.render.textsafe import visible
from audit_lib.report.evidence import Period, PeriodComparison, scope_comparison
from audit_lib.report.pdf import CHART_FONT, GREY, ReportPDF, Span, chart_font_dir

EDITIONS = ("privileged", "full")
TITLES = {"privileged": "Privileged activity report", "full": "Audit log compliance report"}
TITLE = TITLES["full"]
MAX_ROWS = 10_000  # appendix rows printed; the companion CSV always holds every event
MAX_PER_CATEGORY = 200  # sensitive actions printed per category
EVENTS_PER_FINDING = 5  # events printed under each finding shown in full
FINDINGS_PER_RULE = 10  # findings of a rule shown with their events
FINDINGS_LISTED = 50  # further findings of a rule listed one per line
MAX_SESSIONS = 300  # sessions with sensitive actions listed
MAX_GAPS = 400
TIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Report:
    """A built report: the PDF, the companion CSV and findings it quotes, and what went into them."""

    pdf: bytes
    csv: bytes
    csv_sha256: str
    name: str  # file-name stem naming the scope, e.g. "audit_2026-11-01_2026-11-07"
    events: int
    appendix_rows: int
    edition: str = "privileged"
    findings_jsonl: bytes = b""
    findings_sha256: str = ""
    findings: int = 0
    privileged: tuple[str, ...] = ()
    sensitive: int = 0
    comparison: PeriodComparison | None = None  # this period's evidence against the previous period's
    comparison_json: bytes = b""  # the comparison as JSON, whose SHA-256 the PDF quotes

    @property
    def truncated(self) -> bool:
        return self.appendix_rows < self.events

    @property
    def pdf_sha256(self) -> str:
        return sha256_hex(self.pdf)

    def sha256_line(self, file_name: str) -> str:
        """The PDF's SHA-256 in `sha256sum` format, for a `<file_name>.sha256` beside it."""
        return f"{self.pdf_sha256}  {file_name}\n"


def build_report(log: AuditLog, filters: Filters | None = None, *, sources: Sequence[str] | None = None,
                 edition: str = "privileged", appendix: bool | None = None,
                 privileged: Sequence[str] | None = None, categories: Sequence[Category] | None = None,
                 rules: Sequence[Rule] | None = None, settings: Settings | None = None,
                 found: Sequence[Finding] | None = None, config_source: Any = None,
                 max_rows: int = MAX_ROWS, max_per_category: int = MAX_PER_CATEGORY,
                 events_per_finding: int = EVENTS_PER_FINDING, findings_per_rule: int = FINDINGS_PER_RULE,
                 findings_listed: int = FINDINGS_LISTED, max_sessions: int = MAX_SESSIONS, title: str | None = None,
                 generated_at: datetime | None = None, store: Any = None, store_sources: Any = None,
                 compare: bool | None = None, compare_with: Period | None = None,
                 comparison: PeriodComparison | None = None) -> Report:
    """Build the PDF, the companion CSV and the findings (JSON Lines) for the events of `log` within `filters`.

    `sources` names what was loaded (folders, files) for the cover; by default the folders of the files.
    `edition` is "privileged" or "full"; `appendix` (default: only in the full edition) prints the events in
    scope, at most `max_rows` of them. `privileged` lists the privileged actors (default: those who performed an
    action of a privileged category, see `audit_lib.analysis.compliance`). `found` are findings made already (the app's);
    otherwise the `rules` are evaluated with `settings`, plus the logging configuration check of
    `config_source` (folders, files or uploads) when given.

    The evidence compares the scope's days with the previous period (`compare_with`, by default as many days right
    before; see `audit_lib.report.evidence`) when `compare` is true, by default when `log` was read from the event
    `store` named (its chain entries are listed, and its recorded files checked in `store_sources` when given) or
    `compare_with` is given. Give as `store` the opened `audit_lib.store.Store` the log was read from, or the app's
    `StoreView` (whose scoped logs hold only a scope's events): the evidence then describes the version the events
    came from, not one an ingest published since. `comparison` is one made already.
    """
    if edition not in EDITIONS:
        raise ValueError(f"Unknown edition {edition!r}; use one of {', '.join(EDITIONS)}")
    filters = filters or Filters()
    settings = settings or Settings()
    events = apply_filters(log.events, filters)
    csv = to_csv_bytes(events)
    cats = compliance.load_categories() if categories is None else list(categories)
    if found is None:
        extra: list[Finding] = []
        if config_source is not None:
            from audit_lib.checks import config_check

            extra = list(config_check.check_source(config_source, log))
        found = findings(events, load_rules() if rules is None else rules, settings, extra=extra)
    found = sort_findings(found)
    jsonl = findings_jsonl(found)
    generated_at = generated_at or datetime.now(ZoneInfo(log.tz)).replace(microsecond=0)
    ctx = _Context(log=log, filters=filters, events=events, edition=edition,
                   appendix=(edition == "full") if appendix is None else appendix,
                   sources=list(sources) if sources else _default_sources(log.files), csv_sha=sha256_hex(csv),
                   findings_sha=sha256_hex(jsonl), found=list(found), categories=cats, settings=settings,
                   generated_at=generated_at, max_rows=max_rows, max_per_category=max_per_category,
                   events_per_finding=events_per_finding, findings_per_rule=findings_per_rule,
                   findings_listed=findings_listed, max_sessions=max_sessions,
                   title=title or TITLES[edition])
    ctx.prepare(privileged)
    if comparison is None and (compare if compare is not None else store is not None or compare_with is not None):
        comparison = scope_comparison(log, ctx.days, filters.nodes, compare_with, store=store, sources=store_sources)
    ctx.comparison = comparison
    pdf = _render(ctx)
    return Report(pdf, csv, ctx.csv_sha, scope_name(filters, log.tz, events), events.height,
                  min(events.height, max_rows) if ctx.appendix else 0, edition, jsonl, ctx.findings_sha,
                  len(found), tuple(ctx.privileged), ctx.sensitive.height, comparison,
                  comparison.to_json() if comparison is not None else b"")


def findings_jsonl(found: Sequence[Finding]) -> bytes:
    """One JSON object per finding (`Finding.to_dict`: id, rule, severity, ..., then its events), one per line.
    The events of findings that share a frame are written by polars once, then cut per finding."""
    blocks: dict[int, list[bytes]] = {}
    out: list[bytes] = []
    for f in found:
        frame = f.event_rows
        if frame is None:
            out.append(json.dumps(f.to_dict(), ensure_ascii=False, default=str).encode("utf-8") + b"\n")
            continue
        lines = blocks.get(id(frame))
        if lines is None:
            buf = io.BytesIO()
            frame.with_columns(pl.col(c).dt.to_string("%Y-%m-%dT%H:%M:%S%.3f%:z")
                               for c, t in frame.schema.items() if isinstance(t, pl.Datetime)).write_ndjson(buf)
            lines = blocks[id(frame)] = buf.getvalue().splitlines()
        offset, length = f.event_span if f.event_span is not None else (0, frame.height)
        head = json.dumps(f.to_dict(with_events=False), ensure_ascii=False, default=str).encode("utf-8")
        out.append(head[:-1] + b', "events": [' + b",".join(lines[offset: offset + length]) + b"]}\n")
    return b"".join(out)


class _Sessions:
    """The session of an event, looked up by its source and line: one sorted integer key per event, searched for the
    few rows a table prints (a join with millions of rows per table would cost more than the table)."""

    def __init__(self, events: pl.DataFrame, ids: pl.Series) -> None:
        marked = events.select(pl.col("source").cast(pl.String), "line", session=ids).filter(
            pl.col("session").is_not_null())
        self.sources = marked["source"].unique().sort().to_list()
        self.table = marked.select(key=self._key(), session="session").sort("key")

    def _key(self) -> pl.Expr:
        code = pl.col("source").cast(pl.String).replace_strict(self.sources, list(range(len(self.sources))),
                                                               default=None, return_dtype=pl.UInt64)
        return code * (1 << 32) + pl.col("line").cast(pl.UInt64)

    def of(self, df: pl.DataFrame) -> pl.Series:
        """The session ids of the rows of `df` (null outside any session)."""
        table = self.table["key"]
        if table.is_empty() or df.is_empty():
            return pl.Series("session", [None] * df.height, dtype=pl.UInt32)
        keys = df.select(self._key().alias("key"))["key"]
        at = table.search_sorted(keys.fill_null(0)).clip(upper_bound=table.len() - 1)
        found = (table.gather(at) == keys).fill_null(False)
        return pl.select(pl.when(found).then(self.table["session"].gather(at))).to_series().alias("session")


@dataclass
class _Context:
    log: AuditLog
    filters: Filters
    events: pl.DataFrame
    edition: str
    appendix: bool
    sources: list[str]
    csv_sha: str
    findings_sha: str
    found: list[Finding]
    categories: list[Category]
    settings: Settings
    generated_at: datetime
    max_rows: int
    max_per_category: int
    events_per_finding: int
    findings_per_rule: int
    findings_listed: int
    max_sessions: int
    title: str
    sections: list[str] = field(default_factory=list)
    sensitive: pl.DataFrame = field(default_factory=pl.DataFrame)
    privileged: list[str] = field(default_factory=list)
    privileged_given: bool = False
    sessions: pl.DataFrame = field(default_factory=pl.DataFrame)
    session_of: _Sessions | None = None
    days: Any = None
    covering: pl.DataFrame = field(default_factory=pl.DataFrame)
    root: str = ""
    comparison: PeriodComparison | None = None

    @property
    def tz(self) -> str:
        return self.log.tz

    def prepare(self, privileged: Sequence[str] | None) -> None:
        """What several sections share: sensitive actions, sessions, privileged actors, the covering files."""
        ev = self.events
        table, ids = sessions_and_ids(ev, self.settings.session_timeout)
        self.sessions = table
        self.session_of = _Sessions(ev, ids)
        sens = compliance.sensitive_actions(ev, self.categories)
        self.sensitive = sens.with_columns(self.session_of.of(sens))
        if privileged is None:
            self.privileged = compliance.privileged_actors(sens, self.categories)
        else:
            self.privileged, self.privileged_given = sorted(dict.fromkeys(privileged)), True
        self.days = compliance.scope_days(ev, self.filters.start, self.filters.end, self.tz)
        self.covering = compliance.covering_files(self.log.files, ev, self.days, self.tz)
        sources = self.log.files["source"].to_list()
        self.root = _common_folder(sources)
        names = ["Findings summary", "Findings and their events", "Sensitive actions",
                 "Privileged actors and their sessions", "Evidence"]
        if self.edition == "full":
            names = ["Activity", "Who and what", names[0], names[1], names[2], "Sign-ins and sign-outs", *names[3:]]
        if self.appendix:
            names.append("Appendix: events in scope")
        names.append("Review")
        self.sections = [f"{i}. {n}" for i, n in enumerate(names, 1)]

    def section(self, name: str) -> str:
        return next(s for s in self.sections if s.split(". ", 1)[1] == name)

    def rel(self, column: str = "source") -> pl.Expr:
        """A source path relative to the common folder of the files (stated in the report)."""
        col = pl.col(column).cast(pl.String)
        return col.str.strip_prefix(self.root) if self.root else col


def _common_folder(sources: Sequence[str]) -> str:
    """The folder all `sources` lie in, with its trailing slash ("" when they share none)."""
    if not sources:
        return ""
    folders = [s.rsplit("/", 1)[0] + "/" if "/" in s else "" for s in sources]
    common = os.path.commonprefix(folders)
    return common[: common.rfind("/") + 1]


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
            exprs.append(_thousands(col).fill_null(""))
        elif dtype == pl.Boolean:
            exprs.append(pl.when(col).then(pl.lit("yes")).otherwise(pl.lit("no")))
        else:
            exprs.append(col.cast(pl.String).fill_null(""))
    return df.select(exprs).rows()


def _thousands(col: pl.Expr) -> pl.Expr:
    """Integers with "," every three digits, vectorised."""
    return col.cast(pl.String).str.reverse().str.replace_all(r"(\d{3})(\d)", "$1,$2").str.reverse()


def _n(value: int | None) -> str:
    return f"{value or 0:,}"


def _when(value: datetime | None) -> str:
    return f"{value.year:04d}-{value:%m-%d %H:%M:%S}" if value else "-"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


EVENT_HEAD = ["Time", "Actor", "Node", "Action", "Target", "Outcome", "Details", "Session", "Source:line"]
EVENT_WIDTHS = [22, 20, 10, 18, 30, 11, 66, 9, 40]
EVENT_LINES = [1, 2, 1, 2, 2, 1, 2, 1, 3]


def _event_rows(ctx: _Context, df: pl.DataFrame, details: bool = True, session: bool = True) -> list[tuple]:
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
            person.cast(pl.String).fill_null("(unknown)"), pl.col("node").cast(pl.String),
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


def _event_table(pdf: ReportPDF, ctx: _Context, rows: Sequence, details: bool = True, session: bool = True,
                 size: float = 6.5) -> None:
    keep = [i for i, h in enumerate(EVENT_HEAD) if (details or h != "Details") and (session or h != "Session")]
    pdf.table([EVENT_HEAD[i] for i in keep], rows, [EVENT_WIDTHS[i] for i in keep],
              max_lines=[EVENT_LINES[i] for i in keep], size=size)


def _paths_note(pdf: ReportPDF, ctx: _Context) -> None:
    if ctx.root:
        pdf.para(f"Source paths are relative to {visible(ctx.root)}", 7.5, color=GREY)


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
    if ctx.edition == "full":
        _activity(pdf, ctx)
        _who_and_what(pdf, ctx)
    _findings_summary(pdf, ctx)
    _findings_detail(pdf, ctx)
    _sensitive(pdf, ctx)
    if ctx.edition == "full":
        _sign_ins(pdf, ctx)
    _privileged(pdf, ctx)
    _evidence(pdf, ctx)
    if ctx.appendix:
        _appendix(pdf, ctx)
    _review(pdf, ctx)
    return bytes(pdf.output())


def _cover(pdf: ReportPDF, ctx: _Context, scope: str) -> None:
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 22)
    pdf.ln(4)
    pdf.cell(pdf.epw, 11, pdf.fit(ctx.title, pdf.epw), new_x="LMARGIN", new_y="NEXT")
    edition = ("privileged activity edition: findings, sensitive actions and the sessions of privileged actors"
               if ctx.edition == "privileged" else "full edition: activity, findings, sensitive actions, sign-ins, "
               "sessions and every event in scope")
    pdf.para(f"WSO2 Micro Integrator, API Manager and Identity Server audit logs · {edition}", size=10, color=GREY)
    pdf.ln(1)
    ev, files = ctx.events, ctx.log.files
    first, last = extreme(ev["timestamp"], "min"), extreme(ev["timestamp"], "max")
    errors = int(ctx.covering["error"].is_not_null().sum())
    dups = int(ctx.covering["duplicate_of"].is_not_null().sum())
    s = ctx.settings
    work = (f"{s.work_start:%H:%M}-{s.work_end:%H:%M} on "
            + ", ".join(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d - 1] for d in s.work_days)
            + (f"; {len(s.holidays)} holiday(s)" if s.holidays else "")
            + f"; sessions end after {int(s.session_timeout.total_seconds() // 60)} quiet minutes")
    how = ("as given" if ctx.privileged_given else "those who performed an action of a privileged category "
           "(accounts, roles, permissions, passwords, log levels) that was not refused")
    rows = [
        ("Scope", scope),
        ("Events in scope", f"{ev.height:,}" + (f" from {_when(first)} to {_when(last)} ({ctx.tz})" if ev.height
                                                else " (no events in scope)")),
        ("Sources", "\n".join(visible(s) for s in ctx.sources[:8])
         + (f"\n... and {len(ctx.sources) - 8} more" if len(ctx.sources) > 8 else "")),
        ("Files", f"{ctx.covering.height:,} of the {files.height:,} files read cover the scope ({dups} duplicate, "
                  f"{errors} with read errors); {_plural(ctx.log.rejects.height, 'line')} rejected in all"),
        ("Companion CSV", f"every event in scope ({ev.height:,} rows), SHA-256 {ctx.csv_sha}"),
        ("Findings file", f"every finding with its events as JSON Lines ({len(ctx.found):,} findings), "
                          f"SHA-256 {ctx.findings_sha}"),
        ("This PDF", "its own SHA-256 is written beside it, in a .sha256 file (sha256sum -c checks it)"),
        *_comparison_cover(ctx),
        ("Privileged actors", f"{len(ctx.privileged):,}, {how}"),
        ("Working time", work),
        ("Generated", f"{ctx.generated_at.isoformat()} by audit_lib {__version__}"),
    ]
    pdf.key_values(rows, key_width=34, size=8.5)
    pdf.ln(2)
    by = {sev: sum(1 for f in ctx.found if f.severity == sev) for sev in SEVERITIES}
    sens = ctx.sensitive
    _figure_grid(pdf, [("High findings", _n(by["high"])), ("Medium findings", _n(by["medium"])),
                       ("Low / info findings", _n(by["low"] + by["info"])), ("Sensitive actions", _n(sens.height)),
                       ("of which failed", _n((sens["outcome"] == compliance.FAILED).sum() if sens.height else 0)),
                       ("Privileged actors", _n(len(ctx.privileged)))])
    pdf.heading("Contents", 3)
    pdf.para("\n".join(ctx.sections), size=8.5)
    if ev.is_empty():
        pdf.para("There are no events in this scope: the report states the scope and the evidence only.", 10, "B")


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


# ---------------------------------------------------------------- charts (full edition)

PX_PER_MM = 96 / 25.4


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _render_png(chart: Any) -> bytes:
    import vl_convert as vlc

    vlc.register_font_directory(chart_font_dir())
    return charts.chart_png(chart, scale=2, config={"font": CHART_FONT})


def _chart(pdf: ReportPDF, make: Callable[[int, int], Any], box_w: float, box_h: float, x: float, y: float) -> None:
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


def _every(events: pl.DataFrame) -> str:
    """The bucket width of the activity chart: by hour up to 3 days, by day up to 120, else by week."""
    span = events.select((pl.col("timestamp").max() - pl.col("timestamp").min()).dt.total_seconds()).item()
    wanted = "1h" if span <= 3 * 86400 else "1d" if span <= 120 * 86400 else "1w"
    return metrics.bucket_every(events, wanted)


def _activity(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Activity"))
    k = metrics.key_figures(ctx.events, ctx.log.files, ctx.log.rejects)
    _figure_grid(pdf, [("Events", _n(k["events"])), ("Users", _n(k["users"])),
                       ("Artifact types", _n(k["artifact_types"])), ("Artifacts", _n(k["artifacts"])),
                       ("Nodes", _n(k["nodes"])), ("Span", metrics.format_span(k["span"])),
                       ("Sign-ins", _n(k["sign_ins"])), ("Failed sign-ins", _n(k["failed_sign_ins"])),
                       ("Failures", _n(k["failures"])), ("Off-hours events", _n(k["off_hours"])),
                       ("Files", _n(k.get("files"))), ("Rejected lines", _n(k.get("rejects")))])
    pdf.para(f"First event {_when(k['first'])}, last event {_when(k['last'])} ({ctx.tz}). Off-hours: before "
             f"{metrics.WORK_HOURS[0]:02d}:00, from {metrics.WORK_HOURS[1]:02d}:00, and weekends.", 8.5, color=GREY)
    if ctx.events.is_empty():
        pdf.para("No events in scope: no charts.", 10, "B")
        return
    every = _every(ctx.events)
    label = metrics.EVERY_NAME.get(every, every)
    pdf.heading(f"Events per {label}, by artifact type", 2)
    series = metrics.over_time(ctx.events, every)
    y = pdf.get_y()
    _chart(pdf, lambda w, h: charts.over_time_chart(series, every, title="", width=w, height=h),
           pdf.epw, pdf.page_break_trigger - y - 2, pdf.l_margin, y)


def _who_and_what(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Who and what"))
    if ctx.events.is_empty():
        pdf.para("No events in scope.")
        return
    users = metrics.per_user(ctx.events)
    types = metrics.per_artifact_type(ctx.events)
    half = (pdf.epw - 8) / 2
    y = pdf.get_y()
    top = min(15, users.height)
    long = metrics.user_kinds_long(users, top=top)
    shown = types.head(20)
    for i, (title, make) in enumerate([
            (f"Actions per user, by kind (the {top} most active)",
             lambda w, h: charts.user_kinds_chart(long, width=w, title="").properties(height=h)),
            (f"Events per artifact type ({'the 20 most frequent' if types.height > 20 else 'all'})",
             lambda w, h: charts.bar_chart(shown, "artifact_type", width=w, limit=20).properties(height=h))]):
        x = pdf.l_margin + i * (half + 8)
        pdf.set_xy(x, y)
        pdf.set_font("DejaVu", "B", 10)
        pdf.set_text_color(24, 70, 120)
        pdf.cell(half, 6, pdf.fit(title, half))
        pdf.set_text_color(0, 0, 0)
        _chart(pdf, make, half, pdf.page_break_trigger - y - 10, x, y + 8)
    pdf.add_page()
    _count_table(pdf, "Per user", users,
                 [("user", "User", 30, "L"), ("events", "Events", 10, "R"), ("first_seen", "First seen", 22, "L"),
                  ("last_seen", "Last seen", 22, "L"), ("nodes", "Nodes", 26, "L"), ("failures", "Failures", 10, "R")])
    _count_table(pdf, "Per artifact type", types,
                 [("artifact_type", "Artifact type", 34, "L"), ("events", "Events", 10, "R"),
                  ("artifacts", "Artifacts", 12, "R"), ("users", "Users", 10, "R"), ("first", "First", 22, "L"),
                  ("last", "Last", 22, "L")])


def _count_table(pdf: ReportPDF, title: str, df: pl.DataFrame, lead: list[tuple[str, str, float, str]]) -> None:
    """A sub-section with one row per value: the `lead` columns (name, heading, width, alignment), then
    the events of each kind of action."""
    pdf.heading(title, 2)
    if df.is_empty():
        pdf.para("No events in scope.")
        return
    kinds = metrics.KINDS
    names, heads, widths, aligns = (list(x) for x in zip(*lead, strict=True))
    pdf.table([*heads, *kinds], _text_rows(df, [*names, *kinds]), [*widths, *[9] * len(kinds)],
              aligns=[*aligns, *["R"] * len(kinds)], max_lines=2)


# ---------------------------------------------------------------- findings


def _rule_groups(found: Sequence[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings by rule, the rules ordered as their most severe finding, then by id."""
    groups: dict[str, list[Finding]] = {}
    for f in found:
        groups.setdefault(f.rule, []).append(f)
    return sorted(groups.items(), key=lambda kv: (-max(f.rank for f in kv[1]), kv[0]))


def _findings_summary(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Findings summary"))
    found = ctx.found
    by = {sev: sum(1 for f in found if f.severity == sev) for sev in SEVERITIES}
    pdf.para(f"{_plural(len(found), 'finding')} in scope: "
             + ", ".join(f"{by[s]:,} {s}" for s in reversed(SEVERITIES))
             + ". Rules over the events in scope (audit_lib/rules) and, where the source holds them, the logging "
             "configuration check; the same findings, with all their events, are in the findings file "
             f"(SHA-256 {ctx.findings_sha}).", 9)
    if not found:
        pdf.para("No rule matched the events in scope.", 10, "B")
        return
    rows = []
    for rule, items in _rule_groups(found):
        firsts = [f.first for f in items if f.first]
        lasts = [f.last for f in items if f.last]
        worst = max(items, key=lambda f: f.rank)
        rows.append((worst.severity.upper(), rule, worst.title, _n(len(items)), _n(sum(f.count for f in items)),
                     _when(min(firsts)) if firsts else "-", _when(max(lasts)) if lasts else "-",
                     ", ".join(sorted({r for f in items for r in f.references}))))
    pdf.table(["Severity", "Rule", "Title", "Findings", "Events", "First", "Last", "Supports"], rows,
              [12, 34, 50, 12, 12, 22, 22, 60], aligns=["L", "L", "L", "R", "R", "L", "L", "L"], max_lines=3,
              size=7.5)


def _findings_detail(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Findings and their events"))
    if not ctx.found:
        pdf.para("No finding in scope.")
        return
    pdf.para(f"For each rule, most severe first: what it means, then its first {ctx.findings_per_rule} findings with "
             f"up to {ctx.events_per_finding} events each (time, actor, node, outcome, source:line), then up to "
             f"{ctx.findings_listed} more findings one per line. Every finding with all its events is in the "
             f"findings file (SHA-256 {ctx.findings_sha}). " + compliance.OUTCOME_NOTE, 8.5, color=GREY)
    _paths_note(pdf, ctx)
    for rule, items in _rule_groups(ctx.found):
        worst = max(items, key=lambda f: f.rank)
        pdf.heading(f"{worst.severity.upper()} · {worst.title} ({rule}): {_plural(len(items), 'finding')}", 2,
                    keep=25)
        pdf.para(visible(worst.meaning) + "  Supports " + ", ".join(worst.references) + ".", 8, color=GREY)
        detailed = items[: ctx.findings_per_rule]
        with_events = [f for f in detailed if f.events is not None]
        if with_events:
            rows: list = []
            for f in with_events:
                ev = f.events
                shown = min(ev.height, ctx.events_per_finding)
                more = f.count - shown
                rows.append(Span(visible(f.summary),
                                 f"{_plural(f.count, 'event')} · {_when(f.first)} to {_when(f.last)} · finding {f.id}"
                                 + (f" · {more:,} more events in the findings file" if more > 0 else "")))
                rows += _event_rows(ctx, ev.head(shown), details=True, session=True)
            _event_table(pdf, ctx, rows)
        plain = [f for f in detailed if f.events is None]
        if plain:  # findings of the configuration check: their evidence, not events
            rows = [(f.severity, visible(f.summary), visible(f.node or ""), _n(f.count),
                     visible("\n".join(f.evidence[:6])) + (f"\n... and {len(f.evidence) - 6} more"
                                                           if len(f.evidence) > 6 else ""), f.id) for f in plain]
            pdf.table(["Severity", "Finding", "Node", "Records", "Evidence", "Id"], rows, [10, 70, 20, 10, 120, 14],
                      aligns=["L", "L", "L", "R", "L", "L"], max_lines=[1, 4, 2, 1, 8, 1], multiline=[4], size=7)
        rest = items[ctx.findings_per_rule: ctx.findings_per_rule + ctx.findings_listed]
        if rest:
            pdf.para(f"{len(rest):,} more of this rule, one per line:", 8.5, "B")
            pdf.table(["Finding", "Events", "First", "Last", "Id"],
                      [(visible(f.summary), _n(f.count), _when(f.first), _when(f.last), f.id) for f in rest],
                      [150, 12, 24, 24, 16], aligns=["L", "R", "L", "L", "L"], max_lines=[2, 1, 1, 1, 1], size=7)
        left = len(items) - ctx.findings_per_rule - len(rest)
        if left > 0:
            pdf.para(f"{left:,} further finding(s) of this rule are in the findings file only.", 8, color=GREY)


# ---------------------------------------------------------------- sensitive actions


def _sensitive(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Sensitive actions"))
    sens = ctx.sensitive
    summary = compliance.sensitive_summary(sens, ctx.categories)
    pdf.para(f"{sens.height:,} sensitive actions in scope, each under the first of the categories below that it "
             "matches (audit_lib/analysis/sensitive_actions.json; categories marked privileged make their actors "
             "privileged). " + compliance.OUTCOME_NOTE, 8.5)
    pdf.table(["Category", "What it means", "Events", "Done", "Failed", "Not recorded", "Actors", "Privileged"],
              _text_rows(summary, ["category", "reason", "events", "done", "failed", "not_recorded", "actors",
                                   "privileged"]),
              [38, 120, 11, 10, 10, 13, 10, 12], aligns=["L", "L", "R", "R", "R", "R", "R", "L"], max_lines=3,
              size=7.5)
    off = compliance.load_categories(include_disabled=True)
    hidden = [c.name for c in off if c.id not in {k.id for k in ctx.categories}]
    if hidden:
        pdf.para("Not counted as sensitive in this report (routine changes; enable them with --category): "
                 + ", ".join(hidden) + ".", 8, color=GREY)
    _paths_note(pdf, ctx)
    for cat in ctx.categories:
        rows = sens.filter(pl.col("category") == cat.name)
        if rows.is_empty():
            continue
        pdf.heading(f"{cat.name} ({rows.height:,})", 3, keep=15)
        if cat.listing == "counts":
            pdf.para("Counted per actor and node:", 8, color=GREY)
            table = compliance.counts_by_actor(rows)
            pdf.table(["Actor", "Node", "Events", "Failed", "First", "Last"],
                      _text_rows(table, ["actor", "node", "events", "failed", "first", "last"]),
                      [60, 30, 14, 14, 30, 30], aligns=["L", "L", "R", "R", "L", "L"], max_lines=2, size=7)
            continue
        if rows.height > ctx.max_per_category:
            pdf.para(f"The first {ctx.max_per_category:,} of {rows.height:,} are listed; every event is in the "
                     f"companion CSV (SHA-256 {ctx.csv_sha}).", 8, color=GREY)
        _event_table(pdf, ctx, _event_rows(ctx, rows.head(ctx.max_per_category)))


def _sign_ins(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Sign-ins and sign-outs"))
    table = compliance.sign_ins(ctx.events)
    if table.is_empty():
        pdf.para("No sign-in, sign-out or failed sign-in in scope.")
        return
    cols = ["user", "sign_ins", "sign_outs", "failed", "first_sign_in", "last_sign_in", "last_sign_out", "nodes"]
    pdf.table(["User", "Sign-ins", "Sign-outs", "Failed", "First sign-in", "Last sign-in", "Last sign-out", "Nodes"],
              _text_rows(table, cols), [50, 14, 14, 12, 26, 26, 26, 60],
              aligns=["L", "R", "R", "R", "L", "L", "L", "L"], max_lines=2, size=7)


# ---------------------------------------------------------------- privileged actors and sessions


def _privileged(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Privileged actors and their sessions"))
    actors = ctx.privileged
    how = ("The list was given for this report." if ctx.privileged_given else
           "Privileged actors are those who performed an action of a privileged category (accounts, roles, "
           "permissions, passwords, log levels) that was not refused; give the list with --privileged.")
    timeout = int(ctx.settings.session_timeout.total_seconds() // 60)
    pdf.para(f"{_plural(len(actors), 'privileged actor')}. {how} A session runs from a sign-in (MI management API, "
             "API-M console, IS Login) to the sign-out, the next sign-in, or "
             f"{timeout} quiet minutes (timeout); open = the log ends within that time. Changes made with no session "
             "around them are counted apart (Identity Server administration is not preceded by a Login record).", 8.5)
    if not actors:
        return
    sess = ctx.sessions.filter(pl.col("actor").is_in(actors))
    sens = ctx.sensitive.filter(pl.col("actor").is_in(actors))
    ev = ctx.events.filter(pl.col("actor").cast(pl.String).is_in(actors)) if "actor" in ctx.events.columns \
        else ctx.events.clear()
    changes = ev.select(pl.col("actor").cast(pl.String), pl.col("source").cast(pl.String), "line",
                        change=_change(ev)).filter("change")
    changes = changes.with_columns(ctx.session_of.of(changes))
    per_actor = pl.DataFrame({"actor": actors}).join(
        sens.group_by("actor").agg(sensitive=pl.len().cast(pl.Int64),
                                   failed=(pl.col("outcome") == compliance.FAILED).sum().cast(pl.Int64),
                                   nodes=pl.col("node").unique().sort().str.join(", ")), on="actor", how="left"
    ).join(sess.group_by("actor").agg(
        sessions=pl.len().cast(pl.Int64),
        ended=pl.format("{} out, {} next, {} timeout, {} open",
                        *[(pl.col("ended") == k).sum() for k in ("signed_out", "next_sign_in", "timeout", "open")])),
        on="actor", how="left"
    ).join(changes.group_by("actor").agg(in_session=pl.col("session").is_not_null().sum().cast(pl.Int64),
                                         outside=pl.col("session").is_null().sum().cast(pl.Int64)),
           on="actor", how="left").with_columns(pl.col("sensitive", "failed", "sessions", "in_session", "outside")
                                                .fill_null(0), pl.col("nodes", "ended").fill_null(""))
    pdf.heading("Privileged actors", 2)
    pdf.table(["Actor", "Nodes", "Sensitive actions", "Failed", "Sessions", "How they ended", "Changes in a session",
               "Changes with no session"],
              _text_rows(per_actor.sort(["sensitive", "actor"], descending=[True, False]),
                         ["actor", "nodes", "sensitive", "failed", "sessions", "ended", "in_session", "outside"]),
              [50, 40, 14, 10, 12, 50, 14, 14], aligns=["L", "L", "R", "R", "R", "L", "R", "R"], max_lines=2, size=7)
    pdf.heading("Sessions with sensitive actions", 2, keep=20)
    marked = sens.filter(pl.col("session").is_not_null()).group_by("session").agg(
        sensitive=pl.len().cast(pl.Int64), categories=pl.col("category").unique().sort().str.join(", "))
    listed = sess.join(marked, on="session", how="inner").sort("start")
    quiet = sess.height - listed.height
    pdf.para(f"{_plural(sess.height, 'session')} of privileged actors in scope; {listed.height:,} hold a sensitive "
             f"action and are listed (the others: {quiet:,}, counted above). The session number is the one in the "
             "Session column of the event tables."
             + (f" The first {ctx.max_sessions:,} are listed." if listed.height > ctx.max_sessions else ""), 8.5)
    if listed.height:
        shown = listed.head(ctx.max_sessions).with_columns(
            sid=pl.format("#{}", pl.col("session")),
            minutes=(pl.col("duration").dt.total_seconds() / 60).round(1).cast(pl.String),
            src=pl.format("{}:{}", ctx.rel(), pl.col("line")))
        pdf.table(["Session", "Actor", "Node", "Start", "End", "Minutes", "Ended", "Changes", "Sensitive",
                   "Categories", "Sign-in source:line"],
                  _text_rows(shown, ["sid", "actor", "node", "start", "end", "minutes", "ended", "changes",
                                     "sensitive", "categories", "src"]),
                  [10, 24, 12, 22, 22, 10, 14, 10, 11, 60, 45],
                  aligns=["L", "L", "L", "L", "L", "R", "L", "R", "R", "L", "L"], max_lines=3, size=6.5)


def _change(ev: pl.DataFrame) -> pl.Expr:
    return change_expr(ev).fill_null(False) if ev.height else pl.lit(False)


# ---------------------------------------------------------------- evidence


def _evidence(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Evidence"))
    files, rejects = ctx.covering, ctx.log.rejects.filter(
        pl.col("source").cast(pl.String).is_in(ctx.covering["source"].implode()))
    q = metrics.parse_quality(files, rejects)
    days = ctx.days
    span = f"{days[0]:%Y-%m-%d} to {days[1]:%Y-%m-%d}" if days else "no day"
    pdf.para(f"The scope's days: {span} ({ctx.tz}). {files.height:,} of the {ctx.log.files.height:,} files read "
             "cover them (a day of theirs falls in the scope, or events in scope come from them); the others are "
             "left out of this evidence.", 9)
    pdf.para(f"{q['lines']:,} lines read from these {q['files']:,} files: {q['events']:,} events, "
             f"{q['attached']:,} continuation lines attached to an event, {q['blank']:,} blank, {q['rejects']:,} "
             f"rejected, {q['duplicate_lines']:,} in duplicate files (not counted twice). These add up to every line "
             f"read: {'yes' if q['complete'] else 'NO'}. {q['errors']} file(s) could not be read.", 9)
    cut = files.filter(~pl.col("complete")) if "complete" in files.columns else files.clear()
    if cut.height:
        pdf.para(f"INCOMPLETE: {cut.height} file(s) were read only in part (damaged, truncated or over a size cap). "
                 "The lines after the damage are unknown: this report cannot speak for them. "
                 + "; ".join(f"{visible(src)}: {visible(err or 'read in part')}"
                             for src, err in cut.select("source", "error").iter_rows()), 9)
    else:
        pdf.para("Complete: every file was read to its end.", 9)
    others = ctx.log.files.filter(~pl.col("source").is_in(files["source"].implode()) & ~pl.col("complete"))
    if others.height:
        pdf.para(f"{others.height} file(s) outside the scope were read only in part as well.", 8.5, color=GREY)
    if ctx.log.skipped:
        pdf.para(f"Not audit logs, skipped: {', '.join(visible(s) for s in ctx.log.skipped[:20])}", 8, color=GREY)

    pdf.heading("Days of the scope covered, per node", 2)
    nodes = ctx.log.files["node"].cast(pl.String).drop_nulls().unique().to_list()
    cov = compliance.node_coverage(files, days, ctx.tz, nodes)
    if cov.is_empty():
        pdf.para("No file covers a day of the scope.")
    else:
        pdf.table(["Node", "Days in scope", "Days with a file", "Days without a file", "Days of files read in part"],
                  _text_rows(cov, ["node", "days", "covered", "missing", "partial"]), [30, 16, 16, 130, 60],
                  aligns=["L", "R", "R", "L", "L"], max_lines=[2, 1, 1, 4, 3], size=7.5)

    pdf.heading("Files covering the scope", 2)
    _paths_note(pdf, ctx)
    man = compliance.manifest(files).join(files.select("source", "in_scope", "scope_days"), on="source", how="left")
    man = man.with_columns(ctx.rel().alias("shown"))
    cols = ["shown", "node", "bytes", "sha256", "lines", "events", "in_scope", "scope_days", "note"]
    pdf.table(["Source", "Node", "Bytes", "SHA-256", "Lines", "Events", "In scope", "Days of the scope", "Note"],
              _text_rows(man, cols), [56, 14, 12, 70, 10, 10, 10, 36, 30],
              aligns=["L", "L", "R", "L", "R", "R", "R", "L", "L"],
              max_lines=[3, 2, 1, 1, 1, 1, 1, 3, 3], size=6.2)

    pdf.heading("Coverage gaps", 2)
    gaps = compliance.gaps(ctx.events, ctx.log.files, ctx.tz, work_days=ctx.settings.work_days,
                           holidays=ctx.settings.holidays)
    if days is not None:
        gaps = gaps.filter(pl.col("day").is_between(*days))
    pdf.para(f"Working days of the scope on which a node has no file, no event, or a file read in part: "
             f"{gaps.height:,} (days off and holidays as in the working time on the cover).", 9)
    if gaps.height:
        if gaps.height > MAX_GAPS:
            pdf.para(f"The first {MAX_GAPS} are listed.", 8, color=GREY)
        pdf.table(["Node", "Day", "Files", "Events", "Status"],
                  _text_rows(gaps.head(MAX_GAPS), ["node", "day", "files", "events", "status"]),
                  [60, 40, 20, 20, 40], aligns=["L", "L", "R", "R", "L"], size=7.5)

    pdf.heading("Duplicate files", 2)
    dups = compliance.duplicates(files).with_columns(ctx.rel().alias("shown"), ctx.rel("duplicate_of").alias("of"))
    pdf.para(f"{dups.height:,} file(s) repeat the content of another file and were read once.", 9)
    if dups.height:
        pdf.table(["File", "Same content as", "SHA-256"], _text_rows(dups, ["shown", "of", "sha256"]),
                  [90, 90, 97], max_lines=2, size=7)

    pdf.heading("Rejected lines", 2)
    pdf.para(f"{rejects.height:,} line(s) of these files could not be read as events.", 9)
    if rejects.height:
        reasons = q["reasons"]
        pdf.para("By reason: " + "; ".join(f"{visible(r)} ({n:,})" for r, n in reasons.rows()), 8.5)
        sample = compliance.reject_sample(rejects).with_columns(ctx.rel().alias("shown"))
        pdf.table(["Source", "Line", "Reason", "Text"], _text_rows(sample, ["shown", "line", "reason", "text"]),
                  [70, 12, 30, 165], aligns=["L", "R", "L", "L"], max_lines=[2, 1, 2, 3], size=7)
    if ctx.comparison is not None:
        from audit_lib.report.evidence_pdf import comparison_pages  # it uses the helpers of this module

        comparison_pages(pdf, ctx)


def _comparison_cover(ctx: _Context) -> list[tuple[str, str]]:
    c = ctx.comparison
    if c is None:
        return []
    verdict = c.verdict()
    return [("Previous period", f"{c.previous.text()}, compared in the evidence: {verdict}; the comparison as JSON "
                                "(--comparison FILE, or Comparison (JSON) on the app's Reports page) has SHA-256 "
                                f"{sha256_hex(c.to_json())}")]


def _appendix(pdf: ReportPDF, ctx: _Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Appendix: events in scope"))
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
    _paths_note(pdf, ctx)
    _event_table(pdf, ctx, _event_rows(ctx, ctx.events.head(shown), session=False), session=False, size=6.2)


def _review(pdf: ReportPDF, ctx: _Context) -> None:
    if pdf.get_y() + 95 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.heading(ctx.section("Review"))
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

