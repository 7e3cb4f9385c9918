"""log4j2's model of a properties file: components, loggers, the rolling appender's rollover, sizes and
durations, as log4j2 itself reads them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from audit_lib.checks.config_check.properties import Prop, parse_properties


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
        m = DATE.search(self.file_pattern or "")
        return (m.group(1) or "yyyy-MM-dd") if m else None


DATE = re.compile(r"%d(?:ate)?(?:\{([^}]*)\})?")
INDEX = re.compile(r"%(?:0?\d+)?i\b")


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
    return Rollover(comp.value("name") or comp.id, comp.value("fileName"), pattern, bool(DATE.search(pattern or "")),
                    bool(INDEX.search(pattern or "")), size, time, startup, strategy_max, delete, source, comp)
