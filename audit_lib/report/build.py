"""The compliance report: one PDF for a scope (a loaded log and filters), the companion CSV of every event in that
scope and the findings as JSON Lines, whose SHA-256 the PDF quotes.

Two editions:
- "privileged" (the default): cover and scope, findings summary, each finding with its events, sensitive actions
  with what the product recorded of their outcome, the privileged actors and their sessions, the evidence (the
  files that cover the scope and which of its days they cover), the appendix of every event only on request;
- "full": the same plus the activity figures and charts, the per user and per artifact type tables and the
  sign-ins per user, and the appendix by default.

The work is shared out: `context` prepares what the sections share, `sections` prints them, `layout` holds the
drawing helpers, `evidence` compares a period with the one before. Figures, tables and charts come from
`audit_lib.analysis` (metrics, compliance, sessions), `audit_lib.checks.findings` and `audit_lib.render.charts`, the
same functions the app pages use.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from audit_lib.analysis import compliance
from audit_lib.analysis.compliance import Category
from audit_lib.analysis.filters import Filters, apply_filters, known_nodes, scope_span
from audit_lib.checks import config_check
from audit_lib.checks.finding import Finding, sort_findings
from audit_lib.checks.findings import findings
from audit_lib.checks.rule import Rule, Settings, load_rules
from audit_lib.intake.entries import Source
from audit_lib.intake.loader import AuditLog
from audit_lib.render.export import scope_name, sha256_hex, to_csv_bytes
from audit_lib.report.context import Context, ReportLimits, default_sources
from audit_lib.report.evidence import Period, PeriodComparison, scope_comparison
from audit_lib.report.sections import render
from audit_lib.store.checks import store_findings
from audit_lib.store.read import Store
from audit_lib.store.reviews import latest_reviews, suppressed_by, suppressions
from audit_lib.store.view import StoreView

EDITIONS = ("privileged", "full")
TITLES = {"privileged": "Privileged activity report", "full": "Audit log compliance report"}
TITLE = TITLES["full"]
MAX_ROWS = ReportLimits.max_rows  # appendix rows printed; the companion CSV always holds every event


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
                 found: Sequence[Finding] | None = None, config_source: Source | None = None,
                 limits: ReportLimits | None = None, title: str | None = None,
                 generated_at: datetime | None = None, store: Store | StoreView | str | os.PathLike | None = None,
                 store_sources: Sequence[str | Path] | None = None,
                 compare: bool | None = None, compare_with: Period | None = None,
                 comparison: PeriodComparison | None = None) -> Report:
    """Build the PDF, the companion CSV and the findings (JSON Lines) for the events of `log` within `filters`.

    `sources` names what was loaded (folders, files) for the cover; by default the folders of the files.
    `edition` is "privileged" or "full"; `appendix` (default: only in the full edition) prints the events in
    scope, at most `limits.max_rows` of them (`ReportLimits`: how much of each section is printed).
    `privileged` lists the privileged actors (default: those who performed an action of a privileged category,
    see `audit_lib.analysis.compliance`). `found` are findings made already (the
    app's); otherwise the `rules` are evaluated with `settings`, plus the logging configuration check of
    `config_source` (folders, files or uploads) when given (an empty one with a `store`: the log4j2.properties the
    store kept), and what the store itself tells (its sources found rewritten on disk).

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
    limits = limits or ReportLimits()
    settings = settings or Settings()
    events = apply_filters(log.events, filters)
    csv = to_csv_bytes(events)
    cats = compliance.load_categories() if categories is None else list(categories)
    if found is None:
        extra: list[Finding] = []
        if config_source is not None and (store is None or config_source):
            extra = list(config_check.check_source(config_source, log))
        if store is not None:  # sources found rewritten; with no config source given, its stored configuration
            extra += store_findings(store, log, config=config_source is not None and not config_source)
        found = findings(events, load_rules() if rules is None else rules, settings, extra=extra,
                         nodes=known_nodes(log.files, filters), span=scope_span(filters, log.files))
    found = sort_findings(found)
    jsonl = findings_jsonl(found)
    generated_at = generated_at or datetime.now(ZoneInfo(log.tz)).replace(microsecond=0)
    ctx = Context(log=log, filters=filters, events=events, edition=edition,
                   appendix=(edition == "full") if appendix is None else appendix,
                   sources=list(sources) if sources else default_sources(log.files), csv_sha=sha256_hex(csv),
                   findings_sha=sha256_hex(jsonl), found=list(found), categories=cats, settings=settings,
                  generated_at=generated_at, limits=limits, title=title or TITLES[edition])
    ctx.prepare(privileged)
    if comparison is None and (compare if compare is not None else store is not None or compare_with is not None):
        comparison = scope_comparison(log, ctx.days, filters.nodes, compare_with, store=store, sources=store_sources)
    ctx.comparison = comparison
    if store is not None:
        opened = store.store if isinstance(store, StoreView) else store
        ctx.reviews = latest_reviews(opened.loc if isinstance(opened, Store) else opened)
        ctx.review_store = True
        ctx.suppressions = suppressions(latest=ctx.reviews)
        ctx.suppressed = suppressed_by(ctx.found, ctx.suppressions, generated_at.date())
    pdf = render(ctx)
    return Report(pdf, csv, ctx.csv_sha, scope_name(filters, log.tz, events), events.height,
                  min(events.height, limits.max_rows) if ctx.appendix else 0, edition, jsonl, ctx.findings_sha,
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
