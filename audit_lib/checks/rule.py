"""A rule as its JSON file states it (`Rule`, `load_rules`), and the working time rules read (`Settings`)."""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
    parse_duration,
)

RULES_DIR = Path(__file__).parent / "rules"
SEVERITIES = ("info", "low", "medium", "high")
RULE_KINDS = ("match", "threshold", "sequence", "new_term", "absence", "baseline", "external")
EVENT_COLUMNS = ["timestamp", "actor", "node", "product", "action", "artifact_type", "artifact", "outcome",
                 "details", "source", "line"]
MAX_EVENTS = 1000  # events kept with one finding; `count` always holds the full number
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_PSEUDO = {"kind", "date", "address", *BOOL_COLUMNS}


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
    # (severity, conditions): a finding any of whose events meets the conditions takes that severity (the first
    # that applies), so one rule can weigh what was hit: the audit logger turned off is not a component logger
    severity_when: tuple[tuple[str, tuple[dict, ...]], ...] = ()
    # baseline rules: active days of history an actor needs, a day's changes against the actor's own usual number
    # (at least `volume_min` and more than `volume_factor` times their 95th percentile), what is new for them
    # (`novel`: node, artifact_type), and hours more than `hour_margin` outside the hours they ever acted at
    min_history: int | None = None
    volume_factor: float | None = None
    volume_min: int | None = None
    novel: tuple[str, ...] = ()
    hour_margin: int | None = None

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)

    @property
    def window_text(self) -> str:
        return duration_text(self.window) if self.window else ""

    def columns(self) -> set[str]:
        """Every column the rule reads."""
        cols = set(self.key)
        for cond in (*self.where, *self.then, *(c for _, conds in self.severity_when for c in conds)):
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
                               "window", "count", "baseline", "working_hours", "summary", "description",
                               "severity_when", "min_history", "volume", "novel", "hour_margin"}
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
                summary=str(spec.get("summary") or ""), path=path,
                severity_when=_severity_when(spec.get("severity_when")),
                **_baseline_fields(spec))
        except (TypeError, ValueError) as exc:
            raise RuleError(where + str(exc)) from None
        rule._check(where)
        return rule

    def _check(self, where: str) -> None:
        needs = {"threshold": ("window", "count"), "sequence": ("then", "window"), "new_term": ("baseline",),
                 "absence": ("working_hours",), "baseline": ("baseline", "min_history")}.get(self.kind, ())
        for name in needs:
            if not getattr(self, name):
                raise RuleError(where + f"a {self.kind} rule needs {name!r}")
        if self.kind == "baseline" and list(self.key) != ["actor", "date"]:
            raise RuleError(where + "a baseline rule's key is [\"actor\", \"date\"] (one finding per person and day)")
        if self.kind == "baseline" and not (self.volume_factor or self.novel or self.hour_margin is not None):
            raise RuleError(where + "a baseline rule needs 'volume', 'novel' or 'hour_margin'")
        if set(self.novel) - {"node", "artifact_type"}:
            raise RuleError(where + "novel lists node and/or artifact_type")
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
        for severity, conds in self.severity_when:
            if severity not in SEVERITIES:
                raise RuleError(where + f"severity_when: severity must be one of {', '.join(SEVERITIES)}, "
                                f"not {severity!r}")
            check_conditions(where + "severity_when: ", conds, known)
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


SUMMARY_FIELDS = ("count", "window", "first", "last", "actors", "nodes", "artifacts", "silent", "baseline")


def duration_text(d: timedelta) -> str:
    """"7 days", "1 hour", "10 minutes", "90 seconds"."""
    seconds = int(d.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def _severity_when(value: Any) -> tuple[tuple[str, tuple[dict, ...]], ...]:
    """[{"severity": "high", "where": ...}, ...] as (severity, conditions) pairs."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, dict) and set(v) == {"severity", "where"}
                                              for v in value):
        raise ValueError("severity_when must be a list of {\"severity\": ..., \"where\": ...}")
    return tuple((str(v["severity"]), conditions(v["where"])) for v in value)


def _baseline_fields(spec: dict) -> dict[str, Any]:
    """The baseline parameters: {"min_history": 14, "volume": {"factor": 4, "min": 20}, "novel": ["node"],
    "hour_margin": 3}; every one optional."""
    out: dict[str, Any] = {}
    if spec.get("min_history") is not None:
        out["min_history"] = int(spec["min_history"])
        if out["min_history"] < 1:
            raise ValueError("min_history must be 1 or more (active days)")
    if spec.get("volume") is not None:
        volume = spec["volume"]
        if not isinstance(volume, dict) or set(volume) - {"factor", "min"} or not volume.get("factor"):
            raise ValueError('volume must be {"factor": N, "min": N}')
        out["volume_factor"], out["volume_min"] = float(volume["factor"]), int(volume.get("min", 1))
        if out["volume_factor"] <= 1:
            raise ValueError("volume factor must be more than 1")
    if spec.get("novel") is not None:
        if not isinstance(spec["novel"], list):
            raise ValueError("novel must be a list of columns")
        out["novel"] = tuple(str(c) for c in spec["novel"])
    if spec.get("hour_margin") is not None:
        out["hour_margin"] = int(spec["hour_margin"])
        if not 0 <= out["hour_margin"] < 12:
            raise ValueError("hour_margin must be 0 to 11 hours")
    return out
