"""The findings of the configuration check: `ConfigFinding` (a finding with the config file as its
source) and the `external` rule each check is described by."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit_lib.analysis.conditions import RuleError
from audit_lib.checks.config_check.properties import Prop
from audit_lib.checks.finding import Finding, finding_id
from audit_lib.checks.rule import RULES_DIR, Rule

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


def config_finding(check_id: str, node: str, source: str, summary: str, meaning: str, props: Sequence[Prop], *,
                    severity: str | None = None) -> ConfigFinding:
    """A finding about a config file, its evidence the properties behind it in line order."""
    evidence = [p.evidence(source) for p in sorted(set(props), key=lambda p: p.line)]
    return finding(check_id, node, source or node, summary, meaning, severity=severity, source=source,
                    evidence=evidence)


def finding(check_id: str, node: str, subject: str, summary: str, meaning: str, *, severity: str | None = None,
             source: str = "", evidence: Sequence[str] = (), first: datetime | None = None,
             last: datetime | None = None, count: int = 1) -> ConfigFinding:
    rule = check_rule(check_id)
    return ConfigFinding(id=finding_id(check_id, node, subject, source), rule=check_id, title=rule.title,
                         severity=severity or rule.severity, meaning=meaning, references=rule.references, node=node,
                         first=first, last=last, count=count, subject=subject, summary=summary,
                         evidence=tuple(evidence), source=source)
