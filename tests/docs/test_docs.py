"""The README documents every command the parser knows (as sqlite-utils checks its own docs)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from audit_lib.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


def test_every_command_is_documented_in_the_readme() -> None:
    commands = _commands()
    assert {"summary", "ingest", "verify", "findings", "sessions", "report"} <= set(commands)
    missing = [c for c in commands if not re.search(rf"(python -m audit_lib|wso2-audit) {c}\b", README)]
    assert missing == []


def test_the_readme_names_only_modules_that_exist() -> None:
    named = set(re.findall(r"audit_lib/[\w/]+\.py", README))
    assert named and [n for n in named if not (ROOT / n).exists()] == []
