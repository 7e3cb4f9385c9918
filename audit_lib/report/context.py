"""What every section of a report shares: the scope's events, findings, sessions, privileged actors and covering
files, prepared once (`Context.prepare`), and the session of an event looked up by its source and line."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from audit_lib.analysis import compliance
from audit_lib.analysis.compliance import Category
from audit_lib.analysis.filters import Filters
from audit_lib.analysis.sessions import sessions_and_ids
from audit_lib.checks.finding import Finding
from audit_lib.checks.rule import Settings
from audit_lib.events.actors import actor_names, people
from audit_lib.intake.loader import AuditLog
from audit_lib.report.evidence import PeriodComparison


class SessionLookup:
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


@dataclass(frozen=True)
class ReportLimits:
    """How much of each section a PDF prints; the companion CSV and findings file always hold everything."""

    max_rows: int = 10_000  # appendix rows printed
    max_per_category: int = 200  # sensitive actions printed per category
    events_per_finding: int = 5  # events printed under each finding shown in full
    findings_per_rule: int = 10  # findings of a rule shown with their events
    findings_listed: int = 50  # further findings of a rule listed one per line
    max_sessions: int = 300  # sessions with sensitive actions listed


@dataclass
class Context:
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
    limits: ReportLimits
    title: str
    sections: list[str] = field(default_factory=list)
    sensitive: pl.DataFrame = field(default_factory=pl.DataFrame)
    privileged: list[str] = field(default_factory=list)
    privileged_given: bool = False
    names: dict[str, str] = field(default_factory=dict)  # ids the records give a name (see events.actors)
    sessions: pl.DataFrame = field(default_factory=pl.DataFrame)
    session_of: SessionLookup | None = None
    days: Any = None
    covering: pl.DataFrame = field(default_factory=pl.DataFrame)
    root: str = ""
    comparison: PeriodComparison | None = None
    reviews: dict[str, dict] = field(default_factory=dict)  # finding id -> its latest review (from a store)
    review_store: bool = False  # the report was built from a store, which keeps reviews
    suppressions: list[Any] = field(default_factory=list)  # `store.reviews.Suppression`s in force
    suppressed: dict[str, Any] = field(default_factory=dict)  # finding id -> the suppression covering it

    @property
    def tz(self) -> str:
        return self.log.tz

    def prepare(self, privileged: Sequence[str] | None) -> None:
        """What several sections share: sensitive actions, sessions, privileged actors, the covering files."""
        ev = self.events
        table, ids = sessions_and_ids(ev, self.settings.session_timeout)
        self.sessions = table
        self.session_of = SessionLookup(ev, ids)
        sens = compliance.sensitive_actions(ev, self.categories)
        self.sensitive = sens.with_columns(self.session_of.of(sens))
        if privileged is None:
            self.privileged = compliance.privileged_actors(sens, self.categories)
        else:
            self.privileged, self.privileged_given = sorted(dict.fromkeys(privileged)), True
        self.names = actor_names(self.log.events if self.log.events.height else ev)
        self.days = compliance.scope_days(ev, self.filters.start, self.filters.end, self.tz)
        self.covering = compliance.covering_files(self.log.files, ev, self.days, self.tz)
        sources = self.log.files["source"].to_list()
        self.root = common_folder(sources)
        names = ["Findings summary", "Findings and their events", "Sensitive actions",
                 "Privileged actors and their sessions", "Evidence"]
        if self.edition == "full":
            names = ["Activity", "Who and what", names[0], names[1], names[2], "Sign-ins and sign-outs", *names[3:]]
        if self.appendix:
            names.append("Appendix: events in scope")
        names.append("Review")
        self.sections = [f"{i}. {n}" for i, n in enumerate(names, 1)]

    @property
    def privileged_people(self) -> list[str]:
        """The people behind the privileged actors: an id the records name and that name are one person."""
        return people(self.privileged, self.names)

    def section(self, name: str) -> str:
        return next(s for s in self.sections if s.split(". ", 1)[1] == name)

    def rel(self, column: str = "source") -> pl.Expr:
        """A source path relative to the common folder of the files (stated in the report)."""
        col = pl.col(column).cast(pl.String)
        return col.str.strip_prefix(self.root) if self.root else col


def common_folder(sources: Sequence[str]) -> str:
    """The folder all `sources` lie in, with its trailing slash ("" when they share none)."""
    if not sources:
        return ""
    folders = [s.rsplit("/", 1)[0] + "/" if "/" in s else "" for s in sources]
    common = os.path.commonprefix(folders)
    return common[: common.rfind("/") + 1]


def default_sources(files: pl.DataFrame) -> list[str]:
    folders = files.select(pl.col("source").str.replace(r"/[^/]*$", "")).to_series().unique().sort().to_list()
    return folders or ["(no files)"]
