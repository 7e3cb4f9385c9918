"""Reviews of findings (PCI DSS 10.4.1: audit logs reviewed daily, with evidence that it happened): who reviewed
which finding, when, with what disposition and comment. Kept in the chain (`ledger`): append-only, a later review
of a finding supersedes the earlier one without erasing it, and `verify` fails when one is altered or removed.

An `expected` review may carry a suppression (`Scope`): later findings of the same rule, for that actor, node or
artifact, up to a date, are marked suppressed (`suppressed_by`), never dropped. It stands while it is the latest
review of its finding. `review_missing` makes the `review-missing` rule's findings: days with findings that nobody
reviewed by the end of the next working day."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from audit_lib.checks.config_check.finding import check_rule
from audit_lib.checks.finding import Finding, finding_id
from audit_lib.checks.rule import Settings
from audit_lib.errors import AuditLibError
from audit_lib.store import ledger
from audit_lib.store import tables as T

DISPOSITIONS = ("expected", "false-positive", "incident", "needs-follow-up")
MAX_COMMENT = 2000
MAX_SUPPRESS_DAYS = 366  # the longest a suppression may run
MISSING_RULE = "review-missing"
StoreRef = str | os.PathLike | T.Location
SCHEMA = {"finding": pl.String, "reviewer": pl.String, "time": pl.String, "disposition": pl.String,
          "comment": pl.String, "authenticated": pl.Boolean, "seq": pl.Int64}


class ReviewError(AuditLibError):
    """A review that cannot be recorded; the message says why."""


@dataclass(frozen=True)
class Scope:
    """What a suppression covers: findings of `rule` whose events are all of `actor`, on `node`, about `artifact`
    (each None for any), first seen on or before `until`."""

    rule: str
    until: date
    actor: str | None = None
    node: str | None = None
    artifact: str | None = None

    def to_dict(self) -> dict:
        return {**asdict(self), "until": self.until.isoformat()}

    @classmethod
    def from_dict(cls, d: dict) -> Scope:
        return cls(rule=d["rule"], until=date.fromisoformat(d["until"]), actor=d.get("actor"), node=d.get("node"),
                   artifact=d.get("artifact"))

    def describe(self) -> str:
        parts = [f"rule {self.rule}"] + [f"{k} {v}" for k, v in (("actor", self.actor), ("node", self.node),
                                                                 ("artifact", self.artifact)) if v is not None]
        return ", ".join(parts) + f", until {self.until.isoformat()}"


@dataclass(frozen=True)
class Suppression:
    """A suppression as recorded: its scope, the finding whose review made it, who, when and why."""

    scope: Scope
    finding: str
    reviewer: str
    time: str
    comment: str
    authenticated: bool

    def to_dict(self) -> dict:
        return {"scope": self.scope.to_dict(), "finding": self.finding, "reviewer": self.reviewer,
                "time": self.time, "comment": self.comment, "authenticated": self.authenticated}


def _check_scope(scope: Scope, when: datetime) -> Scope:
    for name in ("actor", "node", "artifact"):
        value = getattr(scope, name)
        if value is not None and (not value.strip() or len(value) > 500):
            raise ReviewError(f"the suppression's {name} must be a name of at most 500 characters")
    if not scope.rule or not scope.rule.replace("-", "").isalnum() or len(scope.rule) > 100:
        raise ReviewError(f"not a rule id: {scope.rule[:100]!r}")
    if scope.until < when.date():
        raise ReviewError(f"the suppression would end on {scope.until}, before today ({when.date()})")
    if scope.until > when.date() + timedelta(days=MAX_SUPPRESS_DAYS):
        raise ReviewError(f"a suppression runs at most {MAX_SUPPRESS_DAYS} days (until "
                          f"{when.date() + timedelta(days=MAX_SUPPRESS_DAYS)} at the latest)")
    return scope


def record_review(store: StoreRef, findings: Sequence[str], reviewer: str, disposition: str, comment: str = "", *,
                  authenticated: bool = False, at: datetime | None = None,
                  suppress: Scope | Sequence[Scope] | None = None) -> str:
    """One review of each finding id, in one chain entry; its hash. `authenticated` says whether the reviewer's
    name was proven by a sign-in (the app's) or only given (the command line, an app without sign-in).
    `suppress` (only with `expected`): the scope of each finding's suppression, one for all or one per finding."""
    ids = list(dict.fromkeys(f.strip() for f in findings if f and f.strip()))
    if not ids:
        raise ReviewError("name at least one finding id to review")
    bad = [i for i in ids if not i.isalnum() or len(i) > 64]
    if bad:
        raise ReviewError(f"not a finding id: {bad[0][:64]!r} (ids are the 12 characters findings print)")
    if not reviewer or not reviewer.strip():
        raise ReviewError("a review needs the reviewer's name")
    if disposition not in DISPOSITIONS:
        raise ReviewError(f"disposition must be one of {', '.join(DISPOSITIONS)}, not {disposition!r}")
    if len(comment) > MAX_COMMENT:
        raise ReviewError(f"the comment is longer than {MAX_COMMENT:,} characters")
    now = (at or datetime.now(UTC)).astimezone(UTC)
    when = now.isoformat(timespec="seconds")
    scopes: list[Scope | None] = [None] * len(ids)
    if suppress is not None:
        if disposition != "expected":
            raise ReviewError("only an 'expected' review can suppress later findings")
        given = [suppress] if isinstance(suppress, Scope) else list(suppress)
        if len(given) not in (1, len(ids)):
            raise ReviewError("give one suppression scope for all the findings or one per finding")
        scopes = [_check_scope(s, now) for s in (given * len(ids) if len(given) == 1 else given)]
    rows = [{"finding": i, "reviewer": reviewer.strip()[:200], "time": when, "disposition": disposition,
             "comment": comment, "authenticated": bool(authenticated),
             **({"suppress": s.to_dict()} if s is not None else {})} for i, s in zip(ids, scopes, strict=True)]
    return ledger.append(store, "reviews", rows, at)


def reviews(store: StoreRef) -> pl.DataFrame:
    """Every review recorded, oldest first (the suppressions they carry: `suppressions`)."""
    rows = [{k: r.get(k) for k in SCHEMA} for r in ledger.records(store, "reviews")]
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def latest_reviews(store: StoreRef) -> dict[str, dict]:
    """finding id -> its latest review (reviewer, time, disposition, comment, authenticated)."""
    out: dict[str, dict] = {}
    for r in ledger.records(store, "reviews"):
        out[r["finding"]] = {k: r[k] for k in ("reviewer", "time", "disposition", "comment", "authenticated")}
        if r.get("suppress"):
            out[r["finding"]]["suppress"] = r["suppress"]
    return out


def suppressions(store: StoreRef | None = None, latest: dict[str, dict] | None = None) -> list[Suppression]:
    """The suppressions in force: those carried by the latest review of their finding, oldest first. From
    `latest` (as `latest_reviews` gives) when given, else read from `store`."""
    latest = latest_reviews(store) if latest is None else latest
    out = [Suppression(Scope.from_dict(r["suppress"]), fid, r["reviewer"], r["time"], r["comment"],
                       r["authenticated"]) for fid, r in latest.items() if r.get("suppress")]
    return sorted(out, key=lambda s: (s.time, s.finding))


def _all_equal(events: pl.DataFrame | None, column: str, value: str | None) -> bool:
    if value is None:
        return True
    if events is None or events.is_empty() or column not in events.columns:
        return False
    return bool(events.select((pl.col(column).cast(pl.String) == value).fill_null(False).all()).item())


def covers(s: Suppression, f: Finding, today: date) -> bool:
    """Whether `s` covers `f`: same rule, every event of the actor, node and artifact named, first seen on or before
    `until` (a finding with no time: while `today` is not past it)."""
    sc = s.scope
    if f.rule != sc.rule or (f.first.date() if f.first else today) > sc.until:
        return False
    events = f.events
    node_ok = sc.node is None or f.node == sc.node or _all_equal(events, "node", sc.node)
    return node_ok and _all_equal(events, "actor", sc.actor) and _all_equal(events, "artifact", sc.artifact)


def suppressed_by(found: Sequence[Finding], suppressed: Sequence[Suppression],
                  today: date | None = None) -> dict[str, Suppression]:
    """finding id -> the suppression that covers it (its own when it has one, else the oldest; see `covers`)."""
    today = today or datetime.now(UTC).date()
    own = {s.finding: s for s in suppressed}
    out: dict[str, Suppression] = {}
    for f in found:
        mine = own.get(f.id)
        if mine is not None and covers(mine, f, today):
            out[f.id] = mine
            continue
        hit = next((s for s in suppressed if s.scope.rule == f.rule and covers(s, f, today)), None)
        if hit is not None:
            out[f.id] = hit
    return out


def review_missing(found: Sequence[Finding], store: StoreRef | None = None, settings: Settings | None = None, *,
                   now: datetime | None = None, records: Sequence[dict] | None = None) -> list[Finding]:
    """The `review-missing` findings: one per day (in the settings' zone, else the findings') with findings of
    which some had no review, nor a suppression covering them, by the end of the next working day (working days,
    hours and holidays from `settings`); days whose deadline is still ahead are left alone. The reviews are those
    of `store`, or `records` (as `ledger.records` gives them)."""
    settings = settings or Settings()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    items = [f for f in found if f.rule != MISSING_RULE and f.first is not None]
    if not items:
        return []
    zone = settings.tz or getattr(items[0].first.tzinfo, "key", None) or "UTC"
    rows = list(ledger.records(store, "reviews")) if records is None else list(records)
    latest: dict[str, dict] = {}
    for r in rows:
        latest[r["finding"]] = r
    covered = suppressed_by(items, suppressions(latest=latest), now.date())
    firsts: dict[str, str] = {}
    for r in rows:  # any review counts, superseded or not: the first one is when the finding was reviewed
        firsts.setdefault(r["finding"], r["time"])
    done = {f.id: min(filter(None, (firsts.get(f.id), covered[f.id].time if f.id in covered else None)),
                      default=None) for f in items}
    frame = pl.DataFrame({"id": [f.id for f in items], "first": [f.first.astimezone(UTC) for f in items],
                          "reviewed": [done[f.id] for f in items]},
                         schema={"id": pl.String, "first": pl.Datetime("us", "UTC"), "reviewed": pl.String})
    end = settings.work_end
    days = (frame.with_columns(day=pl.col("first").dt.convert_time_zone(zone).dt.date(),
                               reviewed=pl.col("reviewed").str.to_datetime(time_zone="UTC", time_unit="us"))
            .with_columns(due=pl.col("day").dt.add_business_days(1, week_mask=settings.week_mask,
                                                                 holidays=list(settings.holidays), roll="backward"))
            .with_columns(deadline=pl.col("due").dt.combine(end).dt.replace_time_zone(zone, ambiguous="earliest")
                          .dt.convert_time_zone("UTC"))
            .with_columns(late=pl.col("reviewed").is_null() | (pl.col("reviewed") > pl.col("deadline")))
            .filter(pl.col("deadline") < now)
            .group_by("day", "due", "deadline").agg(pl.len().alias("total"), pl.col("late").sum().alias("late"),
                                                     pl.col("id").filter(pl.col("late")).sort().alias("ids"),
                                                     pl.col("first").min().alias("t0"), pl.col("first").max()
                                                     .alias("t1"))
            .filter(pl.col("late") > 0).sort("day"))
    tz, rule = ZoneInfo(zone), check_rule(MISSING_RULE)
    out = []
    for r in days.iter_rows(named=True):
        day = r["day"].isoformat()
        summary = (f"{r['late']:,} of {r['total']:,} findings of {day} not reviewed by the end of "
                   f"{r['due']:%a %Y-%m-%d} ({end:%H:%M} {zone})")
        out.append(Finding(id=finding_id(MISSING_RULE, day), rule=MISSING_RULE, title=rule.title,
                           severity=rule.severity, meaning=rule.meaning, references=rule.references, node=None,
                           first=r["t0"].astimezone(tz), last=r["t1"].astimezone(tz), count=int(r["late"]),
                           subject=f"day {day}", summary=summary,
                           evidence=tuple(f"finding {i} not reviewed in time" for i in r["ids"])))
    return out
