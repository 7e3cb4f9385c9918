"""The logging configuration check: what a node's `log4j2.properties` does with the audit log, what the loaded
files show about retention, and which PCI DSS 10.2.2 fields the products' lines lack.

    from audit_lib.checks import config_check

    from audit_lib.checks import findings
    extra = config_check.check_source("exports/", log := audit_lib.load("exports/"))
    everything = findings.findings(log.events, extra=extra)

Findings are `audit_lib.checks.findings.Finding`s (`ConfigFinding` adds the config file as `source`); each check is
described by an `external` rule file in audit_lib/rules (title, usual severity, meaning, references).

- `check_config(text, node)`: the `AUDIT_LOG` logger and its routing, rollover that overwrites archives, and
  retention as configured (a Delete action, or a rollover counter that caps the archives).
- `find_configs(source)`: `conf/log4j2.properties` (MI) and `repository/conf/log4j2.properties` (API-M, IS) in
  a folder, a zip or uploads, each with the node it belongs to (named as the loader names nodes).
- `coverage_findings(files)`: from the loader's manifest, retention actually at hand per node and archives
  that end at the size trigger.
- `missing_pci_fields(events)`: per product, the 10.2.2 fields its loaded lines do not carry.

How log4j2 reads the file (followed here): `java.util.Properties` syntax; when an `appenders` or `loggers`
list is present only the listed ids are built; an appender reference names the appender's `name`, not its
id; attribute names and plugin types are case-insensitive; sizes use 1 KB = 1024 bytes; the
DefaultRolloverStrategy `max` counts `%i` only (a pattern without `%i` is never pruned by it).
"""

from __future__ import annotations

import fnmatch
import functools
import glob as globlib
import io
import json
import os
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl

from audit_lib.checks.findings import RULES_DIR, Finding, Rule, RuleError, finding_id, sort_findings
from audit_lib.events.products import OUTCOME_IN_SOURCE, RECORD_FORMS, SOURCE_NOTES
from audit_lib.intake.loader import AuditLog
from audit_lib.intake.sources import Source, SourceError

# ---------------------------------------------------------------------------------------------- findings

CHECK_IDS = ("audit-logger-missing", "rollover-overwrites-archives", "retention-below-12-months",
             "archive-at-size-limit", "missing-pci-fields")


@dataclass(frozen=True)
class ConfigFinding(Finding):
    """A Finding of this module: `rule` is the check's id (one of CHECK_IDS, described by the `external` rule of
    that name in audit_lib/rules), `subject` what it is about, `source` the config file it was read from (empty
    for findings from the loaded files) and `evidence` the lines behind it (`file:line: text` for a config)."""

    source: str = ""

    def to_dict(self, *, with_events: bool = True) -> dict[str, Any]:
        return {**super().to_dict(with_events=with_events), "source": self.source}


@functools.cache
def check_rule(check_id: str) -> Rule:
    """The rule file of a check (title, usual severity, meaning, references), read once."""
    path = RULES_DIR / f"{check_id}.json"
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RuleError(f"{path.name}: cannot be read as JSON ({exc})") from None
    return Rule.from_dict(spec, path.name)


def _config_finding(check_id: str, node: str, source: str, summary: str, meaning: str, props: Sequence[Prop], *,
                    severity: str | None = None) -> ConfigFinding:
    """A finding about a config file, its evidence the properties behind it in line order."""
    evidence = [p.evidence(source) for p in sorted(set(props), key=lambda p: p.line)]
    return _finding(check_id, node, source or node, summary, meaning, severity=severity, source=source,
                    evidence=evidence)


def _finding(check_id: str, node: str, subject: str, summary: str, meaning: str, *, severity: str | None = None,
             source: str = "", evidence: Sequence[str] = (), first: datetime | None = None,
             last: datetime | None = None, count: int = 1) -> ConfigFinding:
    rule = check_rule(check_id)
    return ConfigFinding(id=finding_id(check_id, node, subject, source), rule=check_id, title=rule.title,
                         severity=severity or rule.severity, meaning=meaning, references=rule.references, node=node,
                         first=first, last=last, count=count, subject=subject, summary=summary,
                         evidence=tuple(evidence), source=source)


# ------------------------------------------------------------------------------- java.util.Properties

@dataclass(frozen=True)
class Prop:
    """One property: its key and value (escapes resolved) and where it is written (first and last line)."""

    key: str
    value: str
    line: int
    end: int
    text: str  # the logical line as written, continuation lines joined

    def evidence(self, source: str = "", limit: int = 200) -> str:
        """`file:line: text` (`file:first-last: text` across continuation lines; `line N: text` without a file)."""
        text = self.text if len(self.text) <= limit else self.text[: limit - 1] + "…"
        lines = f"{self.line}" if self.end == self.line else f"{self.line}-{self.end}"
        return f"{source}:{lines}: {text}" if source else f"line{'s' if self.end > self.line else ''} {lines}: {text}"


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_BLANK = " \t\f"


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
            out.append(chr(int(text[i + 2 : i + 6], 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        i += 2
    return "".join(out)


def _continues(line: str) -> bool:
    """A line ending in an odd number of backslashes continues on the next line."""
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _split_key(logical: str) -> tuple[str, str]:
    i = 0
    while i < len(logical):
        c = logical[i]
        if c == "\\":
            i += 2
            continue
        if c in "=:" or c in _BLANK:
            break
        i += 1
    key, rest = logical[:i], logical[i:].lstrip(_BLANK)
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(_BLANK)
    return _unescape(key), _unescape(rest)


def parse_properties(text: str) -> dict[str, Prop]:
    """The properties of a `.properties` text as `java.util.Properties.load` reads them (comments, blank
    lines, `key = value`, `key:value`, `key value`, backslash continuations, escapes); a repeated key keeps
    its last value. Each Prop remembers its line numbers for evidence."""
    lines = re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff"))
    props: dict[str, Prop] = {}
    i = 0
    while i < len(lines):
        start = i
        first = lines[i].lstrip(_BLANK)
        i += 1
        if not first or first[0] in "#!":
            continue
        parts, shown = [first], [first.rstrip()]
        while _continues(parts[-1]):
            parts[-1] = parts[-1][:-1]
            shown[-1] = shown[-1][:-1].rstrip()
            if i >= len(lines):
                break
            parts.append(lines[i].lstrip(_BLANK))
            shown.append(parts[-1].rstrip())
            i += 1
        key, value = _split_key("".join(parts))
        props[key] = Prop(key, value.strip(), start + 1, start + len(parts), " ".join(s for s in shown if s))
    return props


# ----------------------------------------------------------------------------------- log4j2 model

@dataclass
class Component:
    """A log4j2 component read from the properties under one prefix: its attributes (lower-cased names)
    and its sub-components by id (as written)."""

    id: str
    attrs: dict[str, Prop] = field(default_factory=dict)
    kids: dict[str, Component] = field(default_factory=dict)

    def get(self, name: str) -> Prop | None:
        return self.attrs.get(name.lower())

    def value(self, name: str, default: str | None = None) -> str | None:
        prop = self.get(name)
        return prop.value if prop is not None else default

    @property
    def type(self) -> str:
        return (self.value("type") or "").lower()

    def walk(self) -> Iterator[Component]:
        """This component and every component below it, depth first in file order."""
        yield self
        for kid in self.kids.values():
            yield from kid.walk()

    def props(self) -> list[Prop]:
        """Every property of this component and below, in line order."""
        return sorted((p for c in self.walk() for p in c.attrs.values()), key=lambda p: p.line)


def _components(props: Mapping[str, Prop], prefix: str) -> dict[str, Component]:
    """The components under `prefix.` (`appender`, `logger`), by id, built from their dotted keys."""
    out: dict[str, Component] = {}
    for key, prop in props.items():
        if not key.startswith(prefix + "."):
            continue
        parts = key[len(prefix) + 1 :].split(".")
        if len(parts) < 2 or not parts[0]:
            continue
        node = out.setdefault(parts[0], Component(parts[0]))
        for part in parts[1:-1]:
            node = node.kids.setdefault(part, Component(part))
        node.attrs[parts[-1].lower()] = prop
    return out


def _root_component(props: Mapping[str, Prop]) -> Component:
    root = Component("rootLogger")
    for key, prop in props.items():
        if key.startswith("rootLogger."):
            parts = key.split(".")[1:]
            node = root
            for part in parts[:-1]:
                node = node.kids.setdefault(part, Component(part))
            node.attrs[parts[-1].lower()] = prop
    return root


def _listed(props: Mapping[str, Prop], key: str) -> list[str] | None:
    prop = props.get(key)
    return None if prop is None else [p.strip() for p in prop.value.split(",") if p.strip()]


LEVELS = {"all": 0, "trace": 1, "debug": 2, "info": 3, "warn": 4, "error": 5, "fatal": 6, "off": 7}
AUDIT_LEVEL = "info"  # sign-ins and changes are written at INFO; API-M's failed sign-ins at WARN


@dataclass
class Logger:
    id: str
    name: str
    level: str | None  # lower-cased; None when not set (inherited)
    additivity: bool
    refs: list[tuple[str, str | None, Prop | None]]  # (appender name, level of the reference, property)
    component: Component
    shorthand: Prop | None = None  # `logger.<id> = LEVEL, REF...`

    def props(self) -> list[Prop]:
        return sorted(self.component.props() + ([self.shorthand] if self.shorthand else []), key=lambda p: p.line)


def _logger(lid: str, comp: Component, shorthand: Prop | None) -> Logger:
    level = comp.value("level")
    refs: list[tuple[str, str | None, Prop | None]] = []
    if shorthand is not None:  # log4j2 2.17.2+: `logger.x = INFO, APPENDER`
        head, *tail = [p.strip() for p in shorthand.value.split(",")]
        level = level or head or None
        refs += [(r, None, shorthand) for r in tail if r]
    ref_root = next((k for i, k in comp.kids.items() if i.lower() == "appenderref"), None)
    for ref in ref_root.kids.values() if ref_root else []:
        if ref.get("ref") is not None:
            refs.append((ref.value("ref") or "", (ref.value("level") or "").lower() or None, ref.get("ref")))
    additivity = (comp.value("additivity") or "true").strip().lower() != "false"
    return Logger(lid, comp.value("name") or "", level.lower() if level else None, additivity, refs, comp,
                  shorthand)


@dataclass
class Rollover:
    """What the audit appender's rollover does: pattern, triggers, strategy, Delete actions."""

    appender: str
    file_name: str | None
    file_pattern: str | None
    has_date: bool
    has_index: bool
    size_trigger: int | None  # bytes, None when there is no SizeBasedTriggeringPolicy
    time_trigger: bool
    startup_trigger: bool
    max: int | None  # DefaultRolloverStrategy max (log4j2's default is 7), or DirectWrite maxFiles
    delete: list[Component]
    source: str = ""
    component: Component | None = None

    @property
    def date_format(self) -> str | None:
        m = _DATE.search(self.file_pattern or "")
        return (m.group(1) or "yyyy-MM-dd") if m else None


_DATE = re.compile(r"%d(?:ate)?(?:\{([^}]*)\})?")
_INDEX = re.compile(r"%(?:0?\d+)?i\b")


@dataclass
class Log4jConfig:
    """The parts of a log4j2.properties the check reads."""

    props: dict[str, Prop]
    appenders: dict[str, Component]  # built appenders (listed, when a list exists) by id
    defined_appenders: dict[str, Component]  # every `appender.<id>.*` in the file
    loggers: dict[str, Logger]  # built loggers by id
    defined_loggers: dict[str, Logger]
    root: Logger
    source: str = ""

    @property
    def by_name(self) -> dict[str, Component]:
        """Built appenders by their `name` (what references point at)."""
        return {(c.value("name") or ""): c for c in self.appenders.values() if c.value("name")}

    def audit_logger(self) -> Logger | None:
        return next((lg for lg in self.loggers.values() if lg.name == "AUDIT_LOG"), None)

    def is_audit_file(self, comp: Component) -> bool:
        """A file appender writing audit.log (or the appender WSO2 names AUDIT_LOGFILE)."""
        file_name = PurePosixPath((comp.value("fileName") or "").replace("\\", "/")).name.lower()
        pattern = PurePosixPath((comp.value("filePattern") or "").replace("\\", "/")).name.lower()
        return ("file" in comp.type and (file_name == "audit.log" or pattern.startswith("audit"))) or (
            comp.value("name") == "AUDIT_LOGFILE")

    def audit_appender(self) -> Component | None:
        """The audit file appender the audit logger writes to, else the first audit file appender built."""
        names = self.by_name
        logger = self.audit_logger()
        for ref, _, _ in logger.refs if logger else []:
            if ref in names and self.is_audit_file(names[ref]):
                return names[ref]
        return next((c for c in self.appenders.values() if self.is_audit_file(c)), None)

    def rollover(self) -> Rollover | None:
        comp = self.audit_appender()
        return None if comp is None else rollover_of(comp, self.source)


def read_config(text: str, source: str = "") -> Log4jConfig:
    """Read a log4j2.properties text into appenders and loggers, as log4j2 builds them."""
    props = parse_properties(text)
    defined = _components(props, "appender")
    listed = _listed(props, "appenders")
    appenders = defined if listed is None else {i: defined[i] for i in listed if i in defined}
    logger_comps = _components(props, "logger")
    for key in props:  # loggers written only as a shorthand `logger.<id> = LEVEL, REF`
        parts = key.split(".")
        if len(parts) == 2 and parts[0] == "logger" and parts[1]:
            logger_comps.setdefault(parts[1], Component(parts[1]))
    defined_loggers = {i: _logger(i, c, props.get(f"logger.{i}")) for i, c in logger_comps.items()}
    listed_loggers = _listed(props, "loggers")
    loggers = defined_loggers if listed_loggers is None else {
        i: defined_loggers[i] for i in listed_loggers if i in defined_loggers}
    root = _logger("rootLogger", _root_component(props), props.get("rootLogger"))
    if root.level is None:
        root.level = "error"  # log4j2's default root level
    return Log4jConfig(props, appenders, defined, loggers, defined_loggers, root, source)


_SIZE = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*([kmgt]?)b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
DEFAULT_SIZE_TRIGGER = 10 << 20  # log4j2's default, and what WSO2 ships: 10MB = 10,485,760 bytes


def parse_size(text: str | None, default: int = DEFAULT_SIZE_TRIGGER) -> int:
    """A log4j2 file size (`10MB`, `1000 KB`, `2.5 GB`, `4096`) in bytes; log4j2's default when unreadable."""
    m = _SIZE.match(text or "")
    if not m:
        return default
    return int(float(m.group(1).replace(",", ".")) * _UNITS[m.group(2).lower()])


_DURATION = re.compile(r"^\s*P?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:[.,]\d+)?S)?)?\s*$", re.IGNORECASE)


def parse_duration_days(text: str | None) -> float | None:
    """A log4j2 Delete-condition age (`400d`, `P400D`, `PT36H`) in days; None when unreadable."""
    m = _DURATION.match(text or "")
    if not m or not any(m.groups()):
        return None
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return d + h / 24 + mi / 1440 + s / 86400


def rollover_of(comp: Component, source: str = "") -> Rollover:
    pattern = comp.value("filePattern")
    size, time, startup = None, False, False
    strategy_max: int | None = None
    strategy_seen = False
    delete = []
    for c in comp.walk():
        kind = c.type
        if kind == "sizebasedtriggeringpolicy":
            size = parse_size(c.value("size"))
        elif kind in ("timebasedtriggeringpolicy", "crontriggeringpolicy"):
            time = True
        elif kind == "onstartuptriggeringpolicy":
            startup = True
        elif kind == "defaultrolloverstrategy":
            strategy_seen = True
            raw = c.value("max")
            strategy_max = int(raw) if raw and raw.strip().lstrip("-").isdigit() else 7
        elif kind == "directwriterolloverstrategy":
            strategy_seen = True
            raw = c.value("maxFiles")
            strategy_max = int(raw) if raw and raw.strip().isdigit() else None
        elif kind == "delete":
            delete.append(c)
    if not strategy_seen:
        strategy_max = 7  # a RollingFile without a strategy gets DefaultRolloverStrategy(max=7)
    return Rollover(comp.value("name") or comp.id, comp.value("fileName"), pattern, bool(_DATE.search(pattern or "")),
                    bool(_INDEX.search(pattern or "")), size, time, startup, strategy_max, delete, source, comp)


# ------------------------------------------------------------------------------------ check_config

PRODUCT_NAMES = {"mi": "Micro Integrator", "apim": "API Manager", "is": "Identity Server"}
# Markers of each product's shipped file, tried in order, when the caller does not say which product it is.
PRODUCT_MARKERS: list[tuple[str, re.Pattern[str]]] = [
    ("apim", re.compile(r"apimgt|apigw|BOTDATA_APPENDER")),
    ("is", re.compile(r"DELETE_EVENT_LOGFILE|org\.wso2\.carbon\.identity|%mm\b")),
    ("mi", re.compile(r"logfiles\.home|wso2-mi-|micro\.integrator")),
]
RETENTION_DAYS = 365  # PCI DSS 10.5.1: 12 months kept, the most recent 3 at hand
AT_HAND_MONTHS = 3


def guess_product(text: str, source: str = "") -> str | None:
    """mi, apim or is from markers of the shipped files, else from the path (`conf/` without `repository/`)."""
    for product, marker in PRODUCT_MARKERS:
        if marker.search(text):
            return product
    parts = PurePosixPath(source.replace("\\", "/")).parts
    if len(parts) >= 2 and parts[-2] == "conf" and (len(parts) < 3 or parts[-3] != "repository"):
        return "mi"
    return None


def check_config(text: str, node: str, product: str | None = None, source: str = "") -> list[ConfigFinding]:
    """Findings about one node's log4j2.properties: `audit-logger-missing`, `rollover-overwrites-archives` and
    `retention-below-12-months` (as configured)."""
    return _check(read_config(text, source), node, product or guess_product(text, source), source)


def _check(cfg: Log4jConfig, node: str, product: str | None, source: str) -> list[ConfigFinding]:
    findings = []
    missing = _audit_logger_finding(cfg, node, source)
    if missing is not None:
        findings.append(missing)
    roll = cfg.rollover()
    if roll is not None:
        findings += _rollover_findings(roll, node, product, source)
    return findings


def _names(refs: Sequence[str]) -> str:
    return ", ".join(refs) if refs else "none"


def _audit_logger_finding(cfg: Log4jConfig, node: str, source: str) -> ConfigFinding | None:
    """Whether an INFO record of AUDIT_LOG reaches an audit file appender, and if not, why."""
    props = cfg.props
    logger = cfg.audit_logger()
    names = cfg.by_name
    reasons: list[str] = []
    evidence: list[Prop] = []
    loggers_list = props.get("loggers")
    if logger is None:
        defined = next((lg for lg in cfg.defined_loggers.values() if lg.name == "AUDIT_LOG"), None)
        if defined is not None and loggers_list is not None:
            reasons.append(f"AUDIT_LOG is configured (logger id {defined.id}) but its id is not in the `loggers` "
                           "list, so log4j2 ignores it")
            evidence += [loggers_list, *defined.props()]
        else:
            reasons.append("no logger is named AUDIT_LOG")
        root = cfg.root
        evidence += root.props()
        if LEVELS.get(root.level or "error", 5) > LEVELS[AUDIT_LEVEL]:
            reasons.append(f"audit records fall to the root logger, whose level {root.level.upper()} drops them: "
                           "nothing is recorded")
        else:
            reasons.append("audit records fall to the root logger and go to its appenders "
                           f"({_names([r for r, _, _ in root.refs])}), mixed with the server log, not to audit.log")
        return _missing(node, source, reasons, evidence)

    evidence += logger.props()
    level = logger.level or cfg.root.level or "error"
    said = f"AUDIT_LOG is set to {level.upper()}" if logger.level else (
        f"AUDIT_LOG has no level and takes the root logger's {level.upper()}")
    if level == "off":
        reasons.append(f"{said}: no audit record is written")
    elif LEVELS.get(level, 3) > LEVELS[AUDIT_LEVEL]:
        reasons.append(f"{said}: sign-ins and changes, written at INFO, are dropped")
    dropped: list[str] = []
    for ref, _, _ in logger.refs:  # references log4j2 cannot resolve are dropped
        if ref not in names:
            declared = next((c for c in cfg.defined_appenders.values() if c.value("name") == ref), None)
            why = "is defined but not in the `appenders` list" if declared is not None else "is not defined here"
            dropped.append(f"AUDIT_LOG refers to appender {ref}, which {why}: log4j2 drops the reference")
            if props.get("appenders") is not None and declared is not None:
                evidence.append(props["appenders"])
    # where an INFO record goes: the logger's own appenders, plus the root's when additive
    targets = list(logger.refs) + (list(cfg.root.refs) if logger.additivity else [])
    reached: list[str] = []
    for ref, ref_level, _ in targets:
        comp = names.get(ref)
        if comp is None or (ref_level and LEVELS.get(ref_level, 3) > LEVELS[AUDIT_LEVEL]):
            continue
        threshold = _threshold(comp)
        if cfg.is_audit_file(comp) and threshold is not None and (
                LEVELS.get(threshold.value.lower(), 3) > LEVELS[AUDIT_LEVEL]):
            dropped.append(f"appender {ref} writes audit.log but its threshold filter is {threshold.value.upper()}: "
                           "INFO records are dropped")
            evidence.append(threshold)
            continue
        reached.append(ref)
    if reasons or any(cfg.is_audit_file(names[r]) for r in reached):
        return _missing(node, source, reasons, evidence) if reasons else None
    if dropped:
        return _missing(node, source, dropped, evidence)
    own = [r for r, _, _ in logger.refs]
    roots = _names([r for r, _, _ in cfg.root.refs])
    if not own:
        where = (f"its records go only to the root logger's appenders ({roots})" if logger.additivity else
                 "it has no appender and additivity is false: its records go nowhere")
    elif logger.additivity:
        where = f"its records go to {_names(own)} and, by additivity, to the root logger's appenders ({roots})"
    else:
        where = f"its records go to {_names(own)} only (additivity is false)"
    if logger.additivity:
        evidence += cfg.root.props()
    return _missing(node, source, [f"AUDIT_LOG is not routed to the audit file appender: {where}"], evidence)


def _threshold(comp: Component) -> Prop | None:
    for c in comp.walk():
        if c.type == "thresholdfilter" and c.get("level") is not None:
            return c.get("level")
    return None


def _missing(node: str, source: str, reasons: list[str], evidence: list[Prop]) -> ConfigFinding:
    meaning = ("; ".join(dict.fromkeys(reasons)) + ". PCI DSS 10.2.1 asks for audit logs enabled and active; "
               "without AUDIT_LOG written to audit.log, sign-ins and administrative changes of this node leave no "
               "audit trail (a log server fed by another appender counts only if it keeps them).")
    first = reasons[0]
    return _config_finding("audit-logger-missing", node, source, f"{node}: {first[0].lower()}{first[1:]}", meaning,
                           evidence)


def _prop_lines(comp: Component, *types: str) -> list[Prop]:
    out = []
    for c in comp.walk():
        if c.type in types:
            out += list(c.attrs.values())
    return sorted(out, key=lambda p: p.line)


def suggested_pattern(pattern: str) -> str:
    """The pattern with `-%i` after its date, as WSO2's later docs recommend (`audit-%d{MM-dd-yyyy}-%i.log`)."""
    m = _DATE.search(pattern)
    if m is None:
        stem, dot, ext = pattern.rpartition(".")
        return f"{stem}-%i.{ext}" if dot else f"{pattern}-%i"
    return pattern[: m.end()] + "-%i" + pattern[m.end() :]


def _rollover_findings(roll: Rollover, node: str, product: str | None, source: str) -> list[ConfigFinding]:
    comp = roll.component
    assert comp is not None
    findings = []
    pattern_prop = comp.get("filePattern")
    shipped = " (as WSO2 ships it for MI and API-M)" if (
        roll.file_pattern or "").endswith("audit-%d{MM-dd-yyyy}.log") and product in (None, "mi", "apim") else ""
    extra_trigger = roll.size_trigger is not None or roll.startup_trigger
    if roll.file_pattern and not roll.has_index and (extra_trigger or not roll.has_date):
        what = []
        if roll.size_trigger is not None:
            what.append(f"a size trigger of {roll.size_trigger:,} bytes")
        if roll.startup_trigger:
            what.append("a roll at every start")
        cause = " and ".join(what) if what else "every roll"
        name = PurePosixPath(roll.file_pattern.replace("\\", "/")).name
        meaning = (f"The audit file pattern {name}{shipped} has {'a date but ' if roll.has_date else ''}no %i, and "
                   f"{cause} can roll the file more than once a day: each further roll of the same day renames "
                   "audit.log onto the same archive name, so the earlier archive of that day is overwritten and its "
                   "records are lost on any busy day. Add %i to the pattern, e.g. "
                   f"{PurePosixPath(suggested_pattern(roll.file_pattern)).name}.")
        evidence = ([pattern_prop] if pattern_prop else []) + _prop_lines(
            comp, "sizebasedtriggeringpolicy", "onstartuptriggeringpolicy")
        summary = f"{node}: {name} has no %i, a second roll on the same day overwrites that day's archive"
        findings.append(_config_finding("rollover-overwrites-archives", node, source, summary, meaning, evidence))
    retention = _config_retention(roll, node, source, pattern_prop)
    if retention is not None:
        findings.append(retention)
    return findings


def _condition_days(c: Component, daily: bool) -> tuple[float | None, str]:
    """Age in days past which a Delete condition (tree) removes an archive, and how that was read.
    (None, why) when it cannot be told."""
    kind = c.type
    kids = [k for k in c.kids.values() if k.type]
    if kind == "iflastmodified":
        days = parse_duration_days(c.value("age"))
        return (days, f"older than {c.value('age')}") if days is not None else (None, "an unreadable age")
    if kind == "ifaccumulatedfilecount":
        raw = c.value("exceeds") or ""
        if raw.strip().isdigit() and daily:
            return float(raw), f"beyond {raw} archives (about {raw} days with one archive a day)"
        return None, "a file count"
    if kind == "ifaccumulatedfilesize":
        return None, f"a total size above {c.value('exceeds')}"
    if kind in ("iffilename", "ifall", "delete"):  # all conditions must hold: the longest age decides
        results = [_condition_days(k, daily) for k in kids]
        known = [r for r in results if r[0] is not None]
        if not known:
            return None, "; ".join(r[1] for r in results) or "no age or count condition"
        return max(known, key=lambda r: r[0] or 0.0)
    if kind == "ifany":
        results = [_condition_days(k, daily) for k in kids]
        if results and all(r[0] is not None for r in results):
            return min(results, key=lambda r: r[0] or 0.0)
        return None, "alternative conditions"
    return None, f"a {c.value('type')} condition"


def _delete_applies(action: Component, roll: Rollover) -> bool:
    """Whether a Delete action's IfFileName conditions can match the audit archives' names."""
    example = _example_name(roll)
    if example is None:
        return True
    globs = [(c.value("glob"), c.value("regex")) for c in action.walk() if c.type == "iffilename"]
    if not globs:
        return True
    for glob, regex in globs:
        if glob and (fnmatch.fnmatch(example, glob) or fnmatch.fnmatch(example, PurePosixPath(glob).name)):
            return True
        if regex:
            try:
                if re.fullmatch(regex, example):
                    return True
            except re.error:
                return True
    return False


def _example_name(roll: Rollover) -> str | None:
    if not roll.file_pattern:
        return None
    name = PurePosixPath(roll.file_pattern.replace("\\", "/")).name
    java = {"yyyy": "2026", "yy": "26", "MM": "11", "dd": "05", "HH": "10", "mm": "00", "ss": "00"}

    def render(m: re.Match[str]) -> str:
        fmt = m.group(1) or "yyyy-MM-dd"
        return re.sub(r"yyyy|yy|MM|dd|HH|mm|ss", lambda t: java[t.group(0)], fmt)

    return _INDEX.sub("1", _DATE.sub(render, name))


def _config_retention(roll: Rollover, node: str, source: str, pattern_prop: Prop | None) -> ConfigFinding | None:
    comp = roll.component
    assert comp is not None
    daily = roll.time_trigger and (roll.date_format or "").find("d") >= 0
    strategy = _prop_lines(comp, "defaultrolloverstrategy", "directwriterolloverstrategy")
    base = ([pattern_prop] if pattern_prop else []) + [p for p in strategy if p.key.lower().endswith((".type", ".max",
                                                                                                     ".maxfiles"))]
    actions = [a for a in roll.delete if _delete_applies(a, roll)]
    if actions:
        readings = [_condition_days(a, daily) for a in actions]
        known = [r for r in readings if r[0] is not None]
        evidence = [p for a in actions for p in a.props()]
        if not known:
            meaning = ("A Delete action removes audit archives by " + "; ".join(r[1] for r in readings) +
                       ": how long archives are kept cannot be read from the configuration. PCI DSS 10.5.1 asks for "
                       "12 months of audit history kept, the most recent 3 months immediately available.")
            return _config_finding("retention-below-12-months", node, source,
                                   f"{node}: retention of the Delete action cannot be read", meaning, evidence,
                                   severity="low")
        days, how = min(known, key=lambda r: r[0] or 0.0)
        if days is not None and days >= RETENTION_DAYS:
            return None
        meaning = (f"A Delete action removes audit archives {how}: about {days:g} days of audit history are kept, "
                   "below the 12 months PCI DSS 10.5.1 asks for.")
        return _config_finding("retention-below-12-months", node, source,
                               f"{node}: audit archives deleted after about {days:g} days", meaning, evidence,
                               severity="high")
    if roll.has_index and not roll.has_date and roll.max is not None:
        span = f"about {roll.max} days" if daily else f"{roll.max} rolls"
        if daily and roll.max >= RETENTION_DAYS:
            return None
        meaning = (f"The rollover keeps at most {roll.max} archives (max), the oldest deleted at each roll: {span} "
                   "of audit history (fewer when the file also rolls by size), below the 12 months PCI DSS 10.5.1 "
                   "asks for.")
        return _config_finding("retention-below-12-months", node, source,
                               f"{node}: at most {roll.max} audit archives kept ({span})", meaning, base,
                               severity="high")
    per_day = (f" With %i, max={roll.max} caps the archives of one day: on a day with more than {roll.max} rolls "
               "the oldest of that day are deleted." if roll.has_index and roll.max is not None else "")
    meaning = ("Retention is not enforced by configuration: there is no Delete action, and the rollover strategy's "
               "max only counts the %i archives within one date, so dated archives are never pruned by log4j2 and "
               "are kept or removed by operators (or by disk space)." + per_day + " PCI DSS 10.5.1 asks for 12 "
               "months of audit history kept, the most recent 3 months immediately available: show it from the "
               "archives themselves or from a log server.")
    return _config_finding("retention-below-12-months", node, source,
                           f"{node}: audit retention not enforced by configuration", meaning, base, severity="low")


# ------------------------------------------------------------------------------------ find_configs

CONFIG_NAME = "log4j2.properties"
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class ConfigFile:
    """A log4j2.properties found in a source: where, for which node and product, and its text."""

    source: str
    node: str
    product: str | None
    text: str
    error: str | None = None


def config_node(parts: Sequence[str], root_name: str) -> str:
    """The node a config belongs to: the folder holding `conf/` (MI) or `repository/conf/` (API-M, IS), named
    like the loader names the node of `<node>/repository/logs/audit.log`."""
    parts = list(parts)
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] == CONFIG_NAME and parts[i - 1] == "conf":
            home = i - 2 if i >= 2 and parts[i - 2] == "repository" else i - 1
            return parts[home - 1] if home >= 1 else root_name
    return parts[-2] if len(parts) >= 2 else root_name


def _is_config_path(parts: Sequence[str]) -> bool:
    return len(parts) >= 2 and parts[-1] == CONFIG_NAME and parts[-2] == "conf"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # what java.util.Properties reads from a stream


def _config(source: str, node: str, read: Any, size: int) -> ConfigFile:
    if size > MAX_CONFIG_BYTES:
        return ConfigFile(source, node, None, "", f"larger than {MAX_CONFIG_BYTES:,} bytes: not read")
    try:
        text = _decode(read())
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        return ConfigFile(source, node, None, "", f"cannot read the file: {exc}")
    return ConfigFile(source, node, guess_product(text, source), text)


def _from_zip(name: str, data: bytes | Path) -> list[ConfigFile]:
    """The configs inside a zip, given as bytes or as a file on disk (read member by member, not whole)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{name} is not a readable zip archive ({exc})") from None
    top = PurePosixPath(name).stem
    out = []
    for m in members:
        parts = PurePosixPath(m.filename).parts
        if _is_config_path(parts):
            out.append(_config(f"{name}/{m.filename}", config_node(parts, top),
                               lambda m=m: archive.read(m), m.file_size))
    return out


def _from_path(path: Path, base: Path) -> list[ConfigFile]:
    """The configs of a folder (named below `base`, the folder shared by everything loaded), a zip or a file."""
    if path.is_dir():
        root = path.resolve()
        out = []
        for f in sorted(root.rglob(CONFIG_NAME)):
            rel = PurePosixPath(f.relative_to(base).as_posix())
            if f.is_symlink() or not f.is_file() or not _is_config_path(rel.parts):
                continue
            out.append(_config(rel.as_posix(), config_node(rel.parts, base.name), f.read_bytes, f.stat().st_size))
        for z in sorted(root.rglob("*.zip")):
            if z.is_file() and not z.is_symlink():
                rel = z.relative_to(base).as_posix()
                try:
                    found = _from_zip(z.name, z)
                except SourceError as exc:  # one broken archive does not hide the other configs
                    out.append(ConfigFile(rel, base.name, None, "", str(exc)))
                    continue
                out += [ConfigFile(f"{rel}/{c.source.split('/', 1)[1]}", c.node, c.product, c.text, c.error)
                        for c in found]
        return out
    if path.suffix.lower() == ".zip":
        return _from_zip(path.name, path)
    parts = path.resolve().parts
    return [_config(path.as_posix(), config_node(parts, path.resolve().parent.name), path.read_bytes,
                    path.stat().st_size)]


def _is_upload(item: object) -> bool:
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes | bytearray | memoryview)


def find_configs(root_or_entries: Source) -> list[ConfigFile]:
    """Every `conf/log4j2.properties` (MI) and `repository/conf/log4j2.properties` (API-M, IS) in a folder
    (searched recursively, zips inside included), a zip, a file named explicitly, uploads as (name, bytes), or
    a list of those; sorted by source. Raises SourceError for a path that does not exist or a broken zip; a
    file that cannot be read is returned with its `error`."""
    items = [root_or_entries] if isinstance(root_or_entries, str | os.PathLike) or _is_upload(root_or_entries) else (
        list(root_or_entries))
    out: list[ConfigFile] = []
    paths: list[Path] = []
    for item in items:
        if _is_upload(item):
            name, data = item[0], bytes(item[1])
            if name.lower().endswith(".zip"):
                out += _from_zip(name, data)
            else:
                parts = PurePosixPath(name).parts
                out.append(_config(name, config_node(parts, "upload") if len(parts) > 1 else "upload",
                                   lambda data=data: data, len(data)))
            continue
        text = str(item)
        paths += [Path(h) for h in sorted(globlib.glob(text, recursive=True))] if globlib.has_magic(text) else [
            Path(item)]
    for path in paths:
        if not path.exists():
            raise SourceError(f"No such file or folder: {path}")
    folders = [p.resolve() if p.is_dir() else p.resolve().parent for p in paths]
    base = Path(os.path.commonpath(folders)) if folders else Path(".")
    for path in paths:
        try:
            out += _from_path(path, base)
        except OSError as exc:
            raise SourceError(f"Cannot read {path}: {exc.strerror or exc}") from None
    seen: set[str] = set()
    return sorted((c for c in out if not (c.source in seen or seen.add(c.source))), key=lambda c: c.source)


# ------------------------------------------------------------------------------- coverage_findings

MANIFEST_COLUMNS = ("source", "node", "bytes", "compressed", "first", "last", "duplicate_of")
SIZE_SLACK_BELOW = 4 << 10  # an archive rolled by size ends just past the trigger; allow a little below it
SIZE_SLACK_ABOVE = 64 << 10  # and up to one long record (a stack trace) above it
_DAY_IN_NAME = r"(\d{2})-(\d{2})-(\d{4})"
_INDEXED_NAME = r"^audit-\d{2}-\d{2}-\d{4}[.-]\d+\.log"


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _check_manifest(files: pl.DataFrame) -> None:
    if not isinstance(files, pl.DataFrame):
        raise ValueError("coverage_findings needs the loader's manifest (AuditLog.files), a polars DataFrame")
    lacking = [c for c in MANIFEST_COLUMNS if c not in files.columns]
    if lacking:
        raise ValueError(f"The file manifest lacks the columns {', '.join(lacking)} (use AuditLog.files)")


def coverage_findings(files: pl.DataFrame, *, configs: Mapping[str, Rollover] | None = None,
                      as_of: date | datetime | None = None) -> list[ConfigFinding]:
    """Findings from the loader's manifest (`AuditLog.files`): `retention-below-12-months` per node whose
    loaded files do not reach back 12 months (or do not hold the last 3 months) before `as_of` (default: the
    node's last record), and `archive-at-size-limit` for archives that end at the size trigger (read from the
    node's config in `configs` when given, else the shipped 10MB; skipped for patterns with %i, where such
    archives are expected)."""
    _check_manifest(files)
    live = files.filter(pl.col("duplicate_of").is_null() & pl.col("first").is_not_null()).with_columns(
        pl.col("node").cast(pl.String), pl.col("source").cast(pl.String))
    if live.is_empty():
        return []
    return _retention_from_files(live, as_of) + _size_limit_findings(live, configs or {})


def _months_before(day: date, months: int) -> date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    last_day = [31, 29 if y % 4 == 0 and (y % 100 or y % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                31][m - 1]
    return date(y, m, min(day.day, last_day))


def _retention_from_files(live: pl.DataFrame, as_of: date | datetime | None) -> list[ConfigFinding]:
    per_node = (live.group_by("node").agg(
        first=pl.col("first").min(), last=pl.col("last").max(), files=pl.len(),
        days=pl.date_ranges(pl.col("first").dt.date(), pl.col("last").dt.date()).explode().n_unique())
        .sort("node"))
    fixed = as_of.date() if isinstance(as_of, datetime) else as_of
    findings = []
    for node, first, last, n_files, n_days in per_node.iter_rows():  # one row per node
        end = fixed or last.date()
        keep_from, hand_from = _months_before(end, 12), _months_before(end, AT_HAND_MONTHS)
        short: list[str] = []
        if first.date() > keep_from:
            short.append(f"12 months kept ({keep_from} to {end}): the files reach back to {first.date()} only, "
                         f"{_n((end - first.date()).days + 1, 'day')}")
        if first.date() > hand_from:
            short.append(f"the most recent {AT_HAND_MONTHS} months at hand ({hand_from} to {end}): the files "
                         f"cover {first.date()} to {last.date()}")
        if last.date() < end:
            short.append(f"records up to {end}: the files end on {last.date()}, "
                         f"{_n((end - last.date()).days, 'day')} before")
        if not short:
            continue
        meaning = ("PCI DSS 10.5.1 asks for 12 months of audit history kept and the most recent 3 months immediately "
                   "available. Short of it here: " + "; ".join(short) + ". This judges what was loaded: archives "
                   "kept elsewhere (a backup, a log server) count as well, load them to show it.")
        evidence = [f"{node}: {_n(n_files, 'file')}, records from {first:%Y-%m-%d %H:%M:%S} to "
                    f"{last:%Y-%m-%d %H:%M:%S}, {_n(n_days, 'calendar day')} inside the files' spans"]
        summary = (f"{node}: loaded audit files cover {first.date()} to {last.date()} "
                   f"({_n((last.date() - first.date()).days + 1, 'day')})")
        findings.append(_finding("retention-below-12-months", node, node, summary, meaning, first=first, last=last,
                                 count=n_files, evidence=evidence))
    return findings


def _size_limit_findings(live: pl.DataFrame, configs: Mapping[str, Rollover]) -> list[ConfigFinding]:
    triggers = pl.DataFrame({"node": list(configs), "trigger": [c.size_trigger for c in configs.values()],
                             "indexed": [c.has_index for c in configs.values()],
                             "config": [c.source for c in configs.values()]},
                            schema={"node": pl.String, "trigger": pl.Int64, "indexed": pl.Boolean,
                                    "config": pl.String})
    name = pl.col("source").str.split("/").list.last()
    day_in_name = name.str.extract_groups(_DAY_IN_NAME)
    rows = (live.join(triggers, on="node", how="left")
            .with_columns(from_config=pl.col("config").is_not_null(),
                          trigger=pl.col("trigger").fill_null(DEFAULT_SIZE_TRIGGER),
                          indexed=pl.col("indexed").fill_null(name.str.contains(_INDEXED_NAME)),
                          day=pl.coalesce(pl.date(day_in_name.struct[2].cast(pl.Int32, strict=False),
                                                  day_in_name.struct[0].cast(pl.Int8, strict=False),
                                                  day_in_name.struct[1].cast(pl.Int8, strict=False)),
                                          pl.col("last").dt.date()))
            .with_columns(earliest_of_day=pl.col("first").min().over("node", pl.col("first").dt.date())))
    hits = rows.filter(~pl.col("compressed") & ~pl.col("indexed")
                       & pl.col("bytes").is_between(pl.col("trigger") - SIZE_SLACK_BELOW,
                                                    pl.col("trigger") + SIZE_SLACK_ABOVE)).sort("node", "day", "source")
    findings = []
    for node in hits["node"].unique(maintain_order=True).to_list():
        part = hits.filter(pl.col("node") == node)
        trigger = part["trigger"][0]
        origin = (f"the size trigger of {part['config'][0]}" if part["from_config"][0]
                  else "the shipped size trigger, 10MB,")
        evidence = []
        for row in part.iter_rows(named=True):  # only the flagged archives: a handful of rows
            earlier = ("; no loaded file holds that day's records before it"
                       if row["first"] == row["earliest_of_day"] and row["first"].time() > datetime.min.time() else "")
            evidence.append(f"{row['source']}: {row['bytes']:,} bytes ({row['bytes'] - trigger:+,} from the trigger), "
                            f"records {row['first']:%Y-%m-%d %H:%M:%S} to {row['last']:%H:%M:%S}{earlier}")
        days = part["day"].n_unique()
        meaning = (f"{_n(days, 'day')} of {node} ended in an archive within a few KB of "
                   f"{origin} ({trigger:,} bytes): that day rolled by size. With a file pattern without %i (the MI "
                   "and API-M default) every roll of the same day writes the same archive name, so the day's other "
                   "parts were likely overwritten and are missing from the audit trail.")
        summary = f"{node}: {_n(days, 'day')} ended in an archive at the {trigger:,}-byte size trigger"
        findings.append(_finding("archive-at-size-limit", node, node, summary, meaning, first=part["first"].min(),
                                 last=part["last"].max(), count=part.height, evidence=evidence,
                                 source=part["config"][0] or ""))
    return findings


# ------------------------------------------------------------------------------- missing_pci_fields

# a network origin is a named field (an address inside a changed artifact, such as an endpoint URL, is not one)
_ORIGIN = r'(?i)"(?:ip|ip[_-]?address|client[_-]?ip|remote[_-]?(?:address|addr|ip|host)|x-forwarded-for)"\s*:\s*"[^"]+"'
_ZONED_TIME = r'"at"\s*:\s*"[^"]*(?:[+-]\d{2}:?\d{2}|Z)"'
_NO_USER = ["", "anonymous", "null", "n/a", "none", "-"]
FIELDS = ("user", "event type", "date/time", "success/failure", "origin", "affected resource")


def _kind(a_type: pl.Expr) -> pl.Expr:
    """The kind of record of an artifact type: sign-in/out, REST call or change."""
    return (pl.when(a_type == "session").then(pl.lit("sign-in/out"))
            .when(a_type == "rest_call").then(pl.lit("REST call")).otherwise(pl.lit("change")))


def _record_form(details: pl.Expr) -> pl.Expr:
    """The RECORD_FORMS kind of each event, null for the events of no such form."""
    form = pl.lit(None, pl.String)
    for (product, kind), (label, keys) in RECORD_FORMS.items():
        hit = ((pl.col("product").cast(pl.String) == product) & (_kind(pl.col("artifact_type").cast(pl.String)) == kind)
               & pl.all_horizontal([details.str.contains(k, literal=True) for k in keys]))
        form = pl.when(hit.fill_null(False)).then(pl.lit(label)).otherwise(form)
    return form


def missing_pci_fields(events: pl.DataFrame) -> list[ConfigFinding]:
    """Per product, which of PCI DSS 10.2.2's six fields its loaded records lack, stated as gaps of the
    source (never as passes), per kind of record (changes, sign-ins and sign-outs, REST calls, and the forms of
    RECORD_FORMS such as IS 7's JSON changes)."""
    needed = {"timestamp", "node", "product", "user", "action", "artifact_type", "artifact", "outcome", "details",
              "source", "line"}
    if not isinstance(events, pl.DataFrame) or not needed <= set(events.columns):
        raise ValueError("missing_pci_fields needs the loader's events table (AuditLog.events)")
    if events.is_empty():
        return []
    details = pl.col("details").fill_null("")
    # counted per product, artifact type and user over the whole table (categorical keys: a few hundred groups),
    # then the small result is labelled and summed per product and kind of record
    groups = (events.lazy().group_by("product", "artifact_type", "user", _record_form(details).alias("form")).agg(
        n=pl.len(),
        no_action=pl.col("action").is_null().sum(),
        no_outcome=pl.col("outcome").is_null().sum(),
        no_artifact=pl.col("artifact").is_null().sum(),
        failures=(pl.col("outcome") == "failure").sum(),
        origins=details.str.contains(_ORIGIN).sum(),
        zoned=details.str.contains(_ZONED_TIME).sum(),
        nodes=pl.col("node").unique(),
        first=pl.col("timestamp").min(), last=pl.col("timestamp").max(),
        example_source=pl.col("source").first(), example_line=pl.col("line").first()).collect())
    a_type = pl.col("artifact_type").cast(pl.String)
    user = pl.col("user").cast(pl.String).str.strip_chars().str.to_lowercase()
    kinds = (groups.with_columns(
        product=pl.col("product").cast(pl.String).fill_null("unknown"),
        kind=pl.coalesce(pl.col("form"), _kind(a_type)),
        no_user=pl.when(user.is_null() | user.is_in(_NO_USER) | user.str.starts_with("anonymous"))
        .then(pl.col("n")).otherwise(0),
        example=pl.format("{}:{}", pl.col("example_source").cast(pl.String), pl.col("example_line")))
        .sort("first", "example")
        .group_by("product", "kind").agg(
            pl.col("n", "no_user", "no_action", "no_outcome", "no_artifact", "failures", "origins", "zoned").sum(),
            nodes=pl.col("nodes").explode().cast(pl.String).unique().sort(),
            first=pl.col("first").min(), last=pl.col("last").max(), example=pl.col("example").first(),
            example_no_user=pl.col("example").filter(pl.col("no_user") > 0).first())
        .sort("product", "kind"))
    tz = getattr(events.schema["timestamp"], "time_zone", None) or "UTC"
    findings = []
    for product in kinds["product"].unique(maintain_order=True).to_list():
        part = kinds.filter(pl.col("product") == product)
        lines, evidence, serious = [], [], False
        for row in part.iter_rows(named=True):  # one row per kind of record: at most three
            gaps = _gaps(product, row, tz)
            serious |= any(g.startswith(("success/failure", "origin", "user")) for g in gaps)
            lines.append(f"{row['kind']} ({row['n']:,} records): " + "; ".join(gaps))
            lacks = [g.split(":")[0] for g in gaps if not g.startswith("note:")]
            evidence.append(f"{row['kind']}, e.g. {row['example']}: lacks " + ", ".join(dict.fromkeys(lacks)))
            if row["no_user"]:
                evidence.append(f"{row['kind']} without a user, e.g. {row['example_no_user']}")
        name = PRODUCT_NAMES.get(product, product)
        meaning = (f"{name} audit lines lack fields PCI DSS 10.2.2 asks for (user, event type, date/time, "
                   "success/failure, origin, affected resource) — gaps of the source, not of this tool: "
                   + " | ".join(lines) + ". Compensate elsewhere (time zone of the servers documented, sign-in "
                   "origin from access logs) or configure the product to add them where it can.")
        nodes = sorted({n for ns in part["nodes"].to_list() for n in ns})
        lacking = sorted({g.split(":")[0] for row in part.iter_rows(named=True) for g in _gaps(product, row, tz)
                          if not g.startswith("note:")}, key=FIELDS.index)
        summary = f"{name} records lack {', '.join(lacking)}"
        findings.append(_finding("missing-pci-fields", ", ".join(nodes), name, summary, meaning,
                                 severity="medium" if serious else "low", first=part["first"].min(),
                                 last=part["last"].max(), count=int(part["n"].sum()), evidence=evidence))
    return findings


def _gaps(product: str, row: dict[str, Any], tz: str) -> list[str]:
    n, kind = row["n"], row["kind"]
    gaps = []
    if row["no_user"]:
        gaps.append(f"user: none or anonymous on {row['no_user']:,} of {n:,}")
    if row["no_action"]:
        gaps.append(f"event type: missing on {row['no_action']:,} of {n:,}")
    zone = (f"date/time: the record time carries no time zone (read as {tz})" if not row["zoned"] else
            f"date/time: the record time carries no time zone (read as {tz}); only {row['zoned']:,} of {n:,} "
            "carry an offset in their inner time")
    gaps.append(zone)
    in_source = OUTCOME_IN_SOURCE.get((product, kind))
    if row["no_outcome"] == n:
        gaps.append("success/failure: the lines have no outcome field" if in_source is False
                    else "success/failure: no record carries an outcome")
    elif row["no_outcome"]:
        gaps.append(f"success/failure: no outcome on {row['no_outcome']:,} of {n:,}")
    elif not row["failures"] and in_source is None:
        gaps.append(f"success/failure: no failure appears in {n:,} records, the lines may not record outcomes")
    if row["origins"] == 0:
        gaps.append("origin: no record carries a network origin")
    elif row["origins"] < n:
        gaps.append(f"origin: only {row['origins']:,} of {n:,} records carry one")
    if row["no_artifact"]:
        gaps.append(f"affected resource: missing on {row['no_artifact']:,} of {n:,}")
    note = SOURCE_NOTES.get((product, kind))
    if note:
        gaps.append(f"note: {note}")
    return gaps


# ------------------------------------------------------------------------------------ check_source

def check_source(source: Source, log: AuditLog | None = None, *,
                 as_of: date | datetime | None = None) -> list[ConfigFinding]:
    """Every finding of this module for a source: each log4j2.properties found in it, and, given the loaded
    `log` (an AuditLog), its coverage and the fields of its records, in `findings.sort_findings` order. A config
    file that cannot be read (see `find_configs`) is left out."""
    findings: list[ConfigFinding] = []
    rollovers: dict[str, Rollover] = {}
    for cfg in find_configs(source):
        if cfg.error:
            continue
        config = read_config(cfg.text, cfg.source)
        findings += _check(config, cfg.node, cfg.product, cfg.source)
        roll = config.rollover()
        if roll is not None:
            rollovers[cfg.node] = roll
    if log is not None:
        findings += coverage_findings(log.files, configs=rollovers, as_of=as_of)
        findings += missing_pci_fields(log.events)
    return sort_findings(findings)
