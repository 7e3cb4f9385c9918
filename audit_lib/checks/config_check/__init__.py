"""The logging configuration check: what a node's `log4j2.properties` does with the audit log, what the loaded
files show about retention, and which PCI DSS 10.2.2 fields the products' lines lack.

    from audit_lib.checks import config_check

    from audit_lib.checks import findings
    extra = config_check.check_source("exports/", log := audit_lib.load("exports/"))
    everything = findings.findings(log.events, extra=extra)

One module per part: `properties` (Java's syntax), `log4j` (log4j2's model), `rules` (the checks of one file),
`discover` (where the files are), `coverage` (retention at hand), `pci_fields` (fields the lines lack), `finding`.
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

from datetime import date, datetime

from audit_lib.checks.config_check.coverage import coverage_findings
from audit_lib.checks.config_check.discover import CONFIG_NAME, MAX_CONFIG_BYTES, ConfigFile, config_node, find_configs
from audit_lib.checks.config_check.finding import CHECK_IDS, ConfigFinding, check_rule
from audit_lib.checks.config_check.log4j import (
    DEFAULT_SIZE_TRIGGER,
    Log4jConfig,
    Rollover,
    parse_duration_days,
    parse_size,
    read_config,
)
from audit_lib.checks.config_check.pci_fields import missing_pci_fields
from audit_lib.checks.config_check.properties import Prop, parse_properties
from audit_lib.checks.config_check.rules import check, check_config, suggested_pattern
from audit_lib.checks.finding import sort_findings
from audit_lib.events.products import guess_product
from audit_lib.intake.entries import Source
from audit_lib.intake.loader import AuditLog

__all__ = ["CHECK_IDS", "CONFIG_NAME", "DEFAULT_SIZE_TRIGGER", "MAX_CONFIG_BYTES", "ConfigFile", "ConfigFinding",
           "Log4jConfig", "Prop", "Rollover", "check_config", "check_rule", "check_source", "config_node",
           "coverage_findings", "find_configs", "guess_product", "missing_pci_fields", "parse_duration_days",
           "parse_properties", "parse_size", "read_config", "suggested_pattern"]


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
        findings += check(config, cfg.node, cfg.product, cfg.source)
        roll = config.rollover()
        if roll is not None:
            rollovers[cfg.node] = roll
    if log is not None:
        findings += coverage_findings(log.files, configs=rollovers, as_of=as_of)
        findings += missing_pci_fields(log.events)
    return sort_findings(findings)
