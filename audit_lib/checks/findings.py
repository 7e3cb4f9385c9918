"""Findings: what deserves an auditor's attention, from rules kept as data in `audit_lib/checks/rules/*.json`.

Each rule file names an id, a title, a severity (info, low, medium, high), what it means, the PCI DSS v4 and
SOC 2 references it supports, a kind and that kind's parameters:

- `match`: every event that matches `where`, one finding per distinct value of `key`;
- `threshold`: at least `count` matching events within `window` for the same `key` (one finding per burst);
- `sequence`: an event matching `where` followed, within `window`, by one matching `then` with the same `key`;
- `new_term`: a `key` value first seen after the first `baseline` of the events;
- `absence`: no matching event for `working_hours` working hours for the same `key` (working hours, days and
  holidays come from `Settings`);
- `external`: metadata only, for findings other modules produce (e.g. a configuration check).

`where` and `then` are a condition or a list of conditions (any may hold); a condition maps a column to a value,
a list of values (case-insensitive), null, true/false, or an object with `in`, `not_in`, `regex`, `not_regex`,
`null` and, on `details`, `key` (a JSON key of the details whose value is tested). Besides the event columns,
rules may use `actor`, `kind` (sign-in, create, delete, ... from `audit_lib.analysis.metrics`), `change`, `sign_in`,
`sign_out`, `failed_sign_in`, `off_hours`, `in_session` and `date` (the local day).

`findings(events)` evaluates every rule with whole-column polars operations and returns `Finding`s in a
stable order with deterministic ids; `extra` joins findings made elsewhere into the same list.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from audit_lib.analysis.conditions import (  # noqa: F401  (RuleError, predicate: re-exported for rule authors)
    BASE_COLUMNS,
    BOOL_COLUMNS,
    Matcher,
    RuleError,
    check_conditions,
    conditions,
    predicate,
)
from audit_lib.analysis.sessions import (
    DEFAULT_TIMEOUT,
    actor_expr,
    parse_duration,
    session_ids,
)
from audit_lib.events.vocabulary import UNKNOWN

RULES_DIR = Path(__file__).parent / "rules"
SEVERITIES = ("info", "low", "medium", "high")
RULE_KINDS = ("match", "threshold", "sequence", "new_term", "absence", "external")
EVENT_COLUMNS = ["timestamp", "actor", "node", "product", "action", "artifact_type", "artifact", "outcome",
                 "details", "source", "line"]
MAX_EVENTS = 1000  # events kept with one finding; `count` always holds the full number
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_PSEUDO = {"kind", "date", *BOOL_COLUMNS}


# --- rules -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One rule, as read from its JSON file."""

    id: str
    title: str
    severity: str
    meaning: str
    references: tuple[str, ...]
    kind: str
    where: tuple[dict, ...] = ()
    then: tuple[dict, ...] = ()
    key: tuple[str, ...] = ()
    window: timedelta | None = None
    count: int | None = None
    baseline: timedelta | None = None
    working_hours: float | None = None
    summary: str = ""
    path: str = ""

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)

    @property
    def window_text(self) -> str:
        return _duration_text(self.window) if self.window else ""

    def columns(self) -> set[str]:
        """Every column the rule reads."""
        cols = set(self.key)
        for cond in (*self.where, *self.then):
            cols |= set(cond)
        return cols

    @classmethod
    def from_dict(cls, spec: dict, path: str = "") -> Rule:
        where = f"{path or 'rule'}: "
        if not isinstance(spec, dict):
            raise RuleError(where + "a rule must be a JSON object")
        missing = [k for k in ("id", "title", "severity", "meaning", "references", "kind") if not spec.get(k)]
        if missing:
            raise RuleError(where + f"missing {', '.join(missing)}")
        if spec["severity"] not in SEVERITIES:
            raise RuleError(where + f"severity must be one of {', '.join(SEVERITIES)}, not {spec['severity']!r}")
        if spec["kind"] not in RULE_KINDS:
            raise RuleError(where + f"kind must be one of {', '.join(RULE_KINDS)}, not {spec['kind']!r}")
        unknown = set(spec) - {"id", "title", "severity", "meaning", "references", "kind", "where", "then", "key",
                               "window", "count", "baseline", "working_hours", "summary", "description"}
        if unknown:
            raise RuleError(where + f"unknown field {', '.join(sorted(unknown))}")
        try:
            rule = cls(
                id=str(spec["id"]), title=str(spec["title"]), severity=spec["severity"], meaning=str(spec["meaning"]),
                references=_references(spec["references"]), kind=spec["kind"],
                where=conditions(spec.get("where")), then=conditions(spec.get("then")),
                key=tuple(spec.get("key") or ()),
                window=parse_duration(spec["window"]) if spec.get("window") is not None else None,
                count=int(spec["count"]) if spec.get("count") is not None else None,
                baseline=parse_duration(spec["baseline"]) if spec.get("baseline") is not None else None,
                working_hours=float(spec["working_hours"]) if spec.get("working_hours") is not None else None,
                summary=str(spec.get("summary") or ""), path=path)
        except (TypeError, ValueError) as exc:
            raise RuleError(where + str(exc)) from None
        rule._check(where)
        return rule

    def _check(self, where: str) -> None:
        needs = {"threshold": ("window", "count"), "sequence": ("then", "window"), "new_term": ("baseline",),
                 "absence": ("working_hours",)}.get(self.kind, ())
        for name in needs:
            if not getattr(self, name):
                raise RuleError(where + f"a {self.kind} rule needs {name!r}")
        if self.kind in ("threshold", "sequence", "new_term", "absence", "match") and not self.key:
            raise RuleError(where + f"a {self.kind} rule needs 'key' (the columns a finding is about)")
        if self.count is not None and self.count < 1:
            raise RuleError(where + "count must be 1 or more")
        if self.working_hours is not None and self.working_hours <= 0:
            raise RuleError(where + "working_hours must be positive")
        known = BASE_COLUMNS | _PSEUDO
        bad = sorted(self.columns() - known)
        if bad:
            raise RuleError(where + f"unknown column {', '.join(bad)}; use one of {', '.join(sorted(known))}")
        check_conditions(where, (*self.where, *self.then), known)
        try:
            names = {n for _, n, _, _ in string.Formatter().parse(self.summary) if n is not None}
        except ValueError as exc:
            raise RuleError(where + f"bad summary template ({exc})") from None
        bad = sorted(names - set(SUMMARY_FIELDS) - set(self.key))
        if bad:
            allowed = ", ".join((*self.key, *SUMMARY_FIELDS))
            raise RuleError(where + f"the summary names {', '.join(bad)}; use {allowed}")


def _references(value: Any) -> tuple[str, ...]:
    """["PCI DSS 10.2.1.4", "SOC 2 CC7.2"] from {"pci_dss_v4": [...], "soc2": [...]} or a list of strings."""
    names = {"pci_dss_v4": "PCI DSS", "pci_dss": "PCI DSS", "soc2": "SOC 2", "soc_2": "SOC 2"}
    if isinstance(value, dict):
        return tuple(f"{names.get(k, k)} {ref}" for k, refs in value.items() for ref in refs)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    raise ValueError("references must be an object of lists or a list of strings")


def load_rules(folder: str | Path | None = None) -> list[Rule]:
    """Every rule of `folder` (default: the rules shipped beside the formats), in order of id."""
    base = Path(folder) if folder is not None else RULES_DIR
    if not base.is_dir():
        raise RuleError(f"No rules folder at {base}")
    rules: dict[str, Rule] = {}
    for path in sorted(base.glob("*.json")):
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RuleError(f"{path.name}: cannot be read as JSON ({exc})") from None
        rule = Rule.from_dict(spec, path.name)
        if rule.id in rules:
            raise RuleError(f"{path.name}: rule id {rule.id!r} is also used by {rules[rule.id].path}")
        rules[rule.id] = rule
    if not rules:
        raise RuleError(f"No rule file (*.json) in {base}")
    return sorted(rules.values(), key=lambda r: r.id)


def rule_by_id(rule_id: str, rules: Sequence[Rule] | None = None) -> Rule:
    for rule in rules if rules is not None else load_rules():
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)


# --- settings --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """Working time and session timeout the rules use. `tz` None means the zone the logs were read in."""

    work_start: time = time(8)
    work_end: time = time(18)
    work_days: tuple[int, ...] = (1, 2, 3, 4, 5)  # ISO weekdays, Monday = 1
    holidays: tuple[date, ...] = ()
    tz: str | None = None
    session_timeout: timedelta = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        if self.work_end <= self.work_start:
            raise RuleError(f"Working hours must end after they start ({self.work_start} to {self.work_end}).")
        if not self.work_days or any(d not in range(1, 8) for d in self.work_days):
            raise RuleError("Working days must be weekdays 1 (Monday) to 7 (Sunday).")
        if self.tz is not None:
            try:
                ZoneInfo(self.tz)
            except (KeyError, ValueError, OSError):
                raise RuleError(f"Unknown time zone {self.tz!r} in the settings.") from None

    @property
    def week_mask(self) -> list[bool]:
        return [d in self.work_days for d in range(1, 8)]

    @classmethod
    def from_dict(cls, spec: dict) -> Settings:
        """From {"work_hours": ["08:00", "18:00"], "work_days": ["Mon", ...], "holidays": ["2026-12-25"],
        "tz": "Europe/Paris", "session_timeout": "1h"}; every field optional."""
        if not isinstance(spec, dict):
            raise RuleError("Settings must be a JSON object.")
        unknown = set(spec) - {"work_hours", "work_days", "holidays", "tz", "session_timeout", "description"}
        if unknown:
            raise RuleError(f"Unknown setting {', '.join(sorted(unknown))}.")
        kw: dict[str, Any] = {}
        try:
            if "work_hours" in spec:
                start, end = spec["work_hours"]
                kw["work_start"], kw["work_end"] = time.fromisoformat(start), time.fromisoformat(end)
            if "work_days" in spec:
                kw["work_days"] = tuple(sorted({_weekday(d) for d in spec["work_days"]}))
            if "holidays" in spec:
                kw["holidays"] = tuple(sorted(date.fromisoformat(str(d)) for d in spec["holidays"]))
            if "session_timeout" in spec:
                kw["session_timeout"] = parse_duration(spec["session_timeout"])
        except (TypeError, ValueError) as exc:
            raise RuleError(f"Bad setting: {exc}") from None
        if spec.get("tz"):
            kw["tz"] = str(spec["tz"])
        return cls(**kw)


def _weekday(value: Any) -> int:
    if isinstance(value, int) and 1 <= value <= 7:
        return value
    text = str(value).strip().lower()[:3]
    if text not in WEEKDAYS:
        raise ValueError(f"{value!r} is not a weekday")
    return WEEKDAYS.index(text) + 1


def load_settings(path: str | Path) -> Settings:
    """Settings from a JSON file (see `Settings.from_dict`)."""
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RuleError(f"Cannot read the settings file {path}: {exc}") from None
    try:
        return Settings.from_dict(spec)
    except RuleError as exc:
        raise RuleError(f"{path}: {exc}") from None


# --- findings --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One thing to look at: which rule, about what (`subject`, `node`), when, how many events, and the events
    behind it (`events`: time, actor, node, outcome, source and line...) or, for findings that do not come from
    events (a configuration file), `evidence`: "file:line" references or file names. Other modules make findings
    with `finding_id` for a stable id and, when events are behind them, `event_rows=<frame of those events>`."""

    id: str
    rule: str
    title: str
    severity: str
    meaning: str
    references: tuple[str, ...]
    node: str | None
    first: datetime | None
    last: datetime | None
    count: int
    subject: str = ""
    summary: str = ""
    evidence: tuple[str, ...] = ()
    event_rows: pl.DataFrame | None = field(default=None, compare=False, repr=False)
    event_span: tuple[int, int] | None = field(default=None, compare=False, repr=False)

    @property
    def events(self) -> pl.DataFrame | None:
        """The events behind the finding: `event_rows`, or the `event_span` (offset, length) of it when several
        findings share one frame; None for findings not drawn from events."""
        if self.event_rows is None or self.event_span is None:
            return self.event_rows
        return self.event_rows.slice(*self.event_span)

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity) if self.severity in SEVERITIES else -1

    def to_dict(self, *, with_events: bool = True) -> dict:
        """Plain JSON-ready values; times in ISO 8601 with their offset."""
        out: dict[str, Any] = {
            "id": self.id, "rule": self.rule, "severity": self.severity, "title": self.title,
            "subject": self.subject, "summary": self.summary, "node": self.node,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "count": self.count, "meaning": self.meaning, "references": list(self.references),
            "evidence": list(self.evidence)}
        if with_events:
            events = self.events
            out["events"] = [] if events is None else [
                {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
                for row in events.iter_rows(named=True)]
        return out


def finding_id(rule: str, *parts: Any) -> str:
    """A short id that depends only on the rule and the parts given (same input, same id)."""
    text = "\x1f".join([rule, *("" if p is None else str(p) for p in parts)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def sort_findings(items: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then by first time, rule, subject and id: the same list always comes out the same."""
    far = datetime.max.replace(tzinfo=ZoneInfo("UTC"))
    return sorted(items, key=lambda f: (-f.rank, f.first or far, f.rule, f.subject, f.id))


def at_least(items: Iterable[Finding], severity: str) -> list[Finding]:
    """The findings of `severity` or more."""
    floor = SEVERITIES.index(severity)
    return [f for f in items if f.rank >= floor]


def findings(events: pl.DataFrame, rules: Sequence[Rule] | None = None, settings: Settings | None = None,
             extra: Iterable[Finding] = ()) -> list[Finding]:
    """Every finding of `rules` (default: all shipped rules) over `events`, plus `extra` findings made
    elsewhere, in a stable order."""
    rules = load_rules() if rules is None else list(rules)
    settings = settings or Settings()
    out = list(extra)
    active = [r for r in rules if r.kind != "external"]
    if events.height and active:
        frame = _Frame(events, settings, active)
        for rule in active:
            out += _EVALUATE[rule.kind](frame, rule)
    return sort_findings(out)


def findings_table(items: Sequence[Finding]) -> pl.DataFrame:
    """One row per finding: severity, rule, title, subject, node, count, first, last, summary, id."""
    tz = next((f.first.tzinfo for f in items if f.first is not None), None)
    zone = getattr(tz, "key", None) or (str(tz) if tz else "UTC")
    schema = {"severity": pl.String, "rule": pl.String, "title": pl.String, "subject": pl.String, "node": pl.String,
              "count": pl.Int64, "first": pl.Datetime("ms", zone), "last": pl.Datetime("ms", zone),
              "summary": pl.String, "id": pl.String}
    rows = [{"severity": f.severity, "rule": f.rule, "title": f.title, "subject": f.subject, "node": f.node,
             "count": f.count, "first": f.first, "last": f.last, "summary": f.summary, "id": f.id} for f in items]
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


# --- evaluation ------------------------------------------------------------------------------------------------

class _Frame(Matcher):
    """The events with a row number `_i`, `actor`, and the derived columns the rules read (the working-time ones
    from the settings)."""

    def __init__(self, events: pl.DataFrame, settings: Settings, rules: Sequence[Rule]) -> None:
        self.settings = settings
        ts = events.schema["timestamp"]
        self.tz = settings.tz or getattr(ts, "time_zone", None) or "UTC"
        used = set().union(*(r.columns() for r in rules))
        local = pl.col("timestamp").dt.convert_time_zone(self.tz)
        extra: dict[str, pl.Expr] = {"actor": actor_expr(events)}
        if "off_hours" in used:
            extra["off_hours"] = _off_hours(local, settings)
        if "date" in used:
            extra["date"] = local.dt.date()
        super().__init__(events, used, extra)
        if "in_session" in used:
            self.ev = self.ev.with_columns(in_session=session_ids(events, settings.session_timeout).is_not_null())
        self.start: datetime = self.ev["timestamp"].min()
        self.end: datetime = self.ev["timestamp"].max()


def _seconds_of_day(local: pl.Expr) -> pl.Expr:
    return local.dt.hour().cast(pl.Int64) * 3600 + local.dt.minute().cast(pl.Int64) * 60 + local.dt.second()


def _tod(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _off_hours(local: pl.Expr, s: Settings) -> pl.Expr:
    """True outside working hours, on days off and on holidays (in the settings' zone)."""
    sec = _seconds_of_day(local)
    workday = local.dt.date().dt.is_business_day(week_mask=s.week_mask, holidays=list(s.holidays))
    return ~workday | (sec < _tod(s.work_start)) | (sec >= _tod(s.work_end))


def _work_seconds(local: pl.Expr, s: Settings) -> pl.Expr:
    """Working seconds from 1970-01-01 to each time: whole working days before it plus the worked part of its day."""
    start, length = _tod(s.work_start), _tod(s.work_end) - _tod(s.work_start)
    day = local.dt.date()
    days = pl.business_day_count(pl.lit(date(1970, 1, 1)), day, week_mask=s.week_mask, holidays=list(s.holidays))
    today = pl.when(day.dt.is_business_day(week_mask=s.week_mask, holidays=list(s.holidays))).then(
        (_seconds_of_day(local) - start).clip(0, length)).otherwise(0)
    return days.cast(pl.Int64) * length + today


# each kind returns findings from `hits`: event rows (`_i`) with their group columns


def _eval_match(frame: _Frame, rule: Rule) -> list[Finding]:
    rows = frame.select(rule.where, rule.key)
    return _to_findings(frame, rule, rows.select(*rule.key, "_i"), list(rule.key))


def _eval_threshold(frame: _Frame, rule: Rule) -> list[Finding]:
    key = list(rule.key)
    rows = frame.select(rule.where, key).sort([*key, "timestamp", "_i"])
    if rows.height < (rule.count or 1):
        return []
    window = int(rule.window.total_seconds() * 1000)
    new_key = pl.any_horizontal([pl.col(k).ne_missing(pl.col(k).shift(1)) for k in key]).fill_null(True)
    ms = pl.col("timestamp").dt.epoch("ms")
    span = int(rows.select(ms.max() - ms.min()).item()) + window + 1
    # one sorted number line, keys far apart: a window never reaches into the previous key
    rows = rows.with_columns(_k=new_key.cum_sum().cast(pl.Int64)).with_columns(
        _pos=pl.col("_k") * span + (ms - ms.min()), _n=pl.int_range(pl.len(), dtype=pl.Int64))
    pos = rows["_pos"]
    first_in = pos.search_sorted(pos - window, side="right").cast(pl.Int64)  # first row inside (t - window, t]
    rows = rows.with_columns(_from=first_in)
    qualifies = (pl.col("_n") - pl.col("_from") + 1) >= rule.count
    reach = pl.when(qualifies).then(pl.col("_from")).otherwise(pl.lit(2**62, pl.Int64))
    # a row is in a burst when some qualifying window that ends at or after it starts at or before it
    rows = rows.with_columns(_in=reach.reverse().cum_min().reverse() <= pl.col("_n"))
    # a burst goes on while covered rows of one key follow each other within the window
    starts = pl.col("_in") & (~pl.col("_in").shift(1).fill_null(False) | (pl.col("_k") != pl.col("_k").shift(1))
                              | ((pl.col("_pos") - pl.col("_pos").shift(1)) > window).fill_null(True))
    hits = rows.with_columns(_part=starts.cum_sum()).filter(pl.col("_in"))
    return _to_findings(frame, rule, hits.select(*key, "_part", "_i"), [*key, "_part"])


def _eval_sequence(frame: _Frame, rule: Rule) -> list[Finding]:
    key = list(rule.key)
    cast = [pl.col(k).cast(pl.String) for k in key]
    first = frame.select(rule.where, key).select(*cast, "timestamp", _a="_i").sort("timestamp")
    then = frame.select(rule.then, key).select(*cast, "timestamp", _b="_i").sort("timestamp")
    if first.is_empty() or then.is_empty():
        return []
    pairs = (then.join_asof(first, on="timestamp", by=key, strategy="backward", tolerance=rule.window,
                             check_sortedness=False)
             .filter(pl.col("_a").is_not_null() & (pl.col("_a") != pl.col("_b"))))
    if pairs.is_empty():
        return []
    idx = pl.concat([pairs.select(_part="_a", _i="_a"), pairs.select(_part="_a", _i="_b")]).unique().sort("_i")
    hits = idx.join(frame.ev.select("_i", *key), on="_i", how="left")
    return _to_findings(frame, rule, hits.select(*key, "_part", "_i"), [*key, "_part"])


def _eval_new_term(frame: _Frame, rule: Rule) -> list[Finding]:
    key = list(rule.key)
    cutoff = frame.start + rule.baseline
    if frame.end < cutoff:  # the baseline is not over yet: nothing can be new
        return []
    rows = frame.select(rule.where, key)
    firsts = rows.group_by(key).agg(pl.col("timestamp").min().alias("_seen"))
    new = firsts.filter(pl.col("_seen") >= cutoff).drop("_seen")
    hits = rows.join(new, on=key, how="semi", nulls_equal=True)
    return _to_findings(frame, rule, hits.select(*key, "_i"), key)


def _eval_absence(frame: _Frame, rule: Rule) -> list[Finding]:
    key = list(rule.key)
    s = frame.settings
    limit = int(rule.working_hours * 3600)
    ts = pl.col("timestamp")
    same = pl.all_horizontal([pl.col(k).eq_missing(pl.col(k).shift(1)) for k in key]).fill_null(False)
    last = ~pl.all_horizontal([pl.col(k).eq_missing(pl.col(k).shift(-1)) for k in key]).fill_null(False)
    rows = (frame.select(rule.where, key).sort([*_sortable(key), "timestamp", "_i"])
            .with_columns(_prev=pl.when(same).then(pl.col("_i").shift(1)),
                          _since=pl.when(same).then(ts.shift(1)), _last=last))
    # working time never exceeds wall-clock time: only wall-clock gaps of `limit` or more need the calendar
    wall = timedelta(seconds=limit)
    gaps = rows.filter(((ts - pl.col("_since")) >= wall) | (pl.col("_last") & ((frame.end - ts) >= wall)))
    if gaps.is_empty():
        return []
    zone = frame.tz
    end_w = pl.select(_work_seconds(pl.lit(frame.end).dt.convert_time_zone(zone), s)).item()
    gaps = gaps.with_columns(_w=_work_seconds(ts.dt.convert_time_zone(zone), s),
                             _w0=_work_seconds(pl.col("_since").dt.convert_time_zone(zone), s))
    inner = gaps.filter((pl.col("_w") - pl.col("_w0")) >= limit).select(
        *key, _part="_prev", _gap=pl.col("_w") - pl.col("_w0"), _to="timestamp", _prev="_prev", _next="_i")
    tail = gaps.filter(pl.col("_last") & ((end_w - pl.col("_w")) >= limit)).select(
        *key, _part="_i", _gap=end_w - pl.col("_w"), _to=pl.lit(frame.end), _prev="_i", _next=pl.lit(None, pl.UInt32))
    spans = pl.concat([inner, tail], how="vertical_relaxed")
    if spans.is_empty():
        return []
    hits = pl.concat([spans.select(*key, "_part", "_gap", "_to", _i="_prev"),
                      spans.filter(pl.col("_next").is_not_null()).select(*key, "_part", "_gap", "_to", _i="_next")],
                     how="vertical_relaxed")
    return _to_findings(frame, rule, hits, [*key, "_part"], span_to="_to", silent="_gap")


def _sortable(columns: Sequence[str]) -> list[pl.Expr]:
    """Sort keys that only need to bring equal values together: categoricals by their codes (no string compare)."""
    return [pl.col(c).to_physical() for c in columns]


_EVALUATE = {"match": _eval_match, "threshold": _eval_threshold, "sequence": _eval_sequence,
             "new_term": _eval_new_term, "absence": _eval_absence}


def _to_findings(frame: _Frame, rule: Rule, hits: pl.DataFrame, group: list[str], *, span_to: str | None = None,
                 silent: str | None = None) -> list[Finding]:
    """One finding per group of `hits` (event rows `_i` with the `group` columns), in order of first event.

    Everything but the final loop that makes the Finding objects runs on whole columns; each finding's events
    are a zero-copy slice of one frame sorted by finding."""
    if hits.is_empty():
        return []
    columns = [c for c in EVENT_COLUMNS if c in frame.ev.columns]
    taken = [c for c in columns if c not in hits.columns]
    # rows of one group together (in event order within it): `_g` numbers the groups in this storage order
    hits = hits.sort([*_sortable(group), "_i"])
    new = pl.any_horizontal([pl.col(g).ne_missing(pl.col(g).shift(1)) for g in group]).fill_null(True)
    hits = hits.with_columns(_g=new.cum_sum().cast(pl.UInt32) - 1)
    rows = pl.concat([hits, frame.ev.select(taken).select(pl.all().gather(hits["_i"]))], how="horizontal")
    zone = frame.tz

    def stamp(expr: pl.Expr) -> pl.Expr:
        return expr.dt.convert_time_zone(zone).dt.strftime("%Y-%m-%d %H:%M")

    last = pl.col(span_to).first() if span_to else pl.col("timestamp").max()
    agg = [pl.len().alias("_count"), pl.col("timestamp").min().alias("_first"),
           last.alias("_last"), pl.col("_i").min().alias("_first_i"),
           pl.col("source").first().cast(pl.String).alias("_source"), pl.col("line").first().alias("_line"),
           pl.col("node").drop_nulls().n_unique().alias("_nodes"), pl.col("node").drop_nulls().first().alias("_one"),
           (pl.col(silent).first().truediv(3600).round(1).cast(pl.String) if silent else pl.lit("")).alias("silent"),
           *[pl.col(g).first() for g in group]]
    groups = rows.group_by("_g").agg(agg).sort("_g")
    groups = groups.with_columns(_offset=pl.col("_count").cum_sum() - pl.col("_count"))
    used = {n for _, n, _, _ in string.Formatter().parse(rule.summary) if n}
    for name, column in (("actors", "actor"), ("nodes", "node"), ("artifacts", "artifact")):
        if name in used and column in columns:  # "a, b, c and 4 more", from the distinct values of each group
            groups = groups.join(_names(rows, column).rename({"_names": name}), on="_g", how="left").with_columns(
                pl.col(name).fill_null(UNKNOWN))
    keys = {k: pl.col(k).cast(pl.String).fill_null(UNKNOWN) for k in rule.key}
    groups = (groups.sort("_first", "_first_i")
              .with_columns(**{f"_k_{k}": e for k, e in keys.items()},
                            first=stamp(pl.col("_first")), last=stamp(pl.col("_last")), count=pl.col("_count"),
                            _node=(keys["node"] if "node" in keys else pl.when(pl.col("_nodes") == 1)
                                   .then(pl.col("_one").cast(pl.String))))
              .with_columns(_subject=pl.concat_str([pl.lit(f"{k} ") + pl.col(f"_k_{k}") for k in rule.key],
                                                   separator=" · "),
                            _id=pl.concat_str([pl.lit(rule.id), *[pl.col(f"_k_{k}") for k in rule.key], "_source",
                                               pl.col("_line").cast(pl.String),
                                               pl.col("_first").dt.epoch("ms").cast(pl.String)], separator="\x1f"))
              .with_columns(_summary=_template(rule, {"window": rule.window_text})))
    rows = rows.select(columns)
    offsets = groups["_offset"].to_list()
    lengths = groups["_count"].clip(upper_bound=MAX_EVENTS).to_list()
    out = []
    columns_out = [groups[c].to_list() for c in ("_id", "_subject", "_summary", "_node", "_first", "_last", "_count")]
    for fid, subject, summary, node, first, last, count, offset, length in zip(*columns_out, offsets, lengths,
                                                                                strict=True):
        out.append(Finding(
            id=hashlib.sha256(fid.encode("utf-8")).hexdigest()[:12], rule=rule.id, title=rule.title,
            severity=rule.severity, meaning=rule.meaning, references=rule.references, node=node, first=first,
            last=last, count=count, subject=subject, summary=summary,
            event_rows=rows, event_span=(offset, length)))
    return out


def _names(rows: pl.DataFrame, column: str, limit: int = 5) -> pl.DataFrame:
    """Per group `_g`, its distinct values of `column` as "a, b, c, d, e and 2 more"."""
    distinct = rows.select("_g", pl.col(column).cast(pl.String)).drop_nulls(column).unique().sort("_g", column)
    more = pl.len().cast(pl.Int64) - limit
    return distinct.group_by("_g").agg(
        _names=pl.col(column).head(limit).str.join(", ")
        + pl.when(more > 0).then(pl.format(" and {} more", more)).otherwise(pl.lit("")))


SUMMARY_FIELDS = ("count", "window", "first", "last", "actors", "nodes", "artifacts", "silent")


def _template(rule: Rule, constants: dict[str, str]) -> pl.Expr:
    """The rule's summary template as one string expression over the group columns."""
    if not rule.summary:
        return pl.lit(f"{rule.title}: ") + pl.col("_subject")
    parts: list[pl.Expr] = []
    for literal, name, _spec, _conv in string.Formatter().parse(rule.summary):
        if literal:
            parts.append(pl.lit(literal))
        if name is None:
            continue
        if name in constants:
            parts.append(pl.lit(constants[name]))
        elif name in rule.key:
            parts.append(pl.col(f"_k_{name}"))
        else:
            parts.append(pl.col(name).cast(pl.String).fill_null("?"))
    return pl.concat_str(parts) if parts else pl.lit("")


def _duration_text(d: timedelta) -> str:
    """"7 days", "1 hour", "10 minutes", "90 seconds"."""
    seconds = int(d.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"
