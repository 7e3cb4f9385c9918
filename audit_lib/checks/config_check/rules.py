"""The checks of one `log4j2.properties`: the `AUDIT_LOG` logger and its routing, rollover that overwrites
archives, and retention as configured."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from audit_lib.checks.config_check.finding import ConfigFinding, config_finding
from audit_lib.checks.config_check.log4j import (
    AUDIT_LEVEL,
    DATE,
    INDEX,
    LEVELS,
    Component,
    Log4jConfig,
    Rollover,
    parse_duration_days,
    read_config,
)
from audit_lib.checks.config_check.properties import Prop
from audit_lib.events.products import guess_product

RETENTION_DAYS = 365  # PCI DSS 10.5.1: 12 months kept, the most recent 3 at hand
AT_HAND_MONTHS = 3


def check_config(text: str, node: str, product: str | None = None, source: str = "") -> list[ConfigFinding]:
    """Findings about one node's log4j2.properties: `audit-logger-missing`, `rollover-overwrites-archives` and
    `retention-below-12-months` (as configured)."""
    return check(read_config(text, source), node, product or guess_product(text, source), source)


def check(cfg: Log4jConfig, node: str, product: str | None, source: str) -> list[ConfigFinding]:
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
    return config_finding("audit-logger-missing", node, source, f"{node}: {_lower_first(first)}", meaning, evidence)


def _lower_first(text: str) -> str:
    """"The logger ..." -> "the logger ...", but a name in capitals (AUDIT_LOG, OFF) keeps its case."""
    word = text.split(" ", 1)[0]
    if not word or word.upper() == word or any(c.isupper() for c in word[1:]):
        return text
    return text[0].lower() + text[1:]


def _prop_lines(comp: Component, *types: str) -> list[Prop]:
    out = []
    for c in comp.walk():
        if c.type in types:
            out += list(c.attrs.values())
    return sorted(out, key=lambda p: p.line)


def suggested_pattern(pattern: str) -> str:
    """The pattern with `-%i` after its date, as WSO2's later docs recommend (`audit-%d{MM-dd-yyyy}-%i.log`)."""
    m = DATE.search(pattern)
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
        findings.append(config_finding("rollover-overwrites-archives", node, source, summary, meaning, evidence))
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

    return INDEX.sub("1", DATE.sub(render, name))


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
            return config_finding("retention-below-12-months", node, source,
                                   f"{node}: retention of the Delete action cannot be read", meaning, evidence,
                                   severity="low")
        days, how = min(known, key=lambda r: r[0] or 0.0)
        if days is not None and days >= RETENTION_DAYS:
            return None
        meaning = (f"A Delete action removes audit archives {how}: about {days:g} days of audit history are kept, "
                   "below the 12 months PCI DSS 10.5.1 asks for.")
        return config_finding("retention-below-12-months", node, source,
                               f"{node}: audit archives deleted after about {days:g} days", meaning, evidence,
                               severity="high")
    if roll.has_index and not roll.has_date and roll.max is not None:
        span = f"about {roll.max} days" if daily else f"{roll.max} rolls"
        if daily and roll.max >= RETENTION_DAYS:
            return None
        meaning = (f"The rollover keeps at most {roll.max} archives (max), the oldest deleted at each roll: {span} "
                   "of audit history (fewer when the file also rolls by size), below the 12 months PCI DSS 10.5.1 "
                   "asks for.")
        return config_finding("retention-below-12-months", node, source,
                               f"{node}: at most {roll.max} audit archives kept ({span})", meaning, base,
                               severity="high")
    per_day = (f" With %i, max={roll.max} caps the archives of one day: on a day with more than {roll.max} rolls "
               "the oldest of that day are deleted." if roll.has_index and roll.max is not None else "")
    meaning = ("Retention is not enforced by configuration: there is no Delete action, and the rollover strategy's "
               "max only counts the %i archives within one date, so dated archives are never pruned by log4j2 and "
               "are kept or removed by operators (or by disk space)." + per_day + " PCI DSS 10.5.1 asks for 12 "
               "months of audit history kept, the most recent 3 months immediately available: show it from the "
               "archives themselves or from a log server.")
    return config_finding("retention-below-12-months", node, source,
                           f"{node}: audit retention not enforced by configuration", meaning, base, severity="low")
