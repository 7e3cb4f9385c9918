"""Shared fixtures: the bundled demo logs, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

import audit_lib

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def samples_log() -> audit_lib.AuditLog:
    return audit_lib.load(SAMPLES)
