"""Reviews on the Findings page with an event store (AppTest): each finding's status, the unreviewed filter, the
review-missing findings, the one line without a store; and each session's changes on the Users page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

import audit_lib
from audit_lib.analysis.sessions import session_changes
from audit_lib.store import ingest
from audit_lib.store.reviews import Scope, record_review
from audit_lib.ui import roots
from audit_lib.ui import state as S
from audit_lib.ui.review import NO_STORE
from tests.app.test_app import app as run_app
from tests.app.test_app import shown as shown_text
from tests.app.test_app import texts

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
LOG = audit_lib.load(SAMPLES, tz="UTC")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "store"
    ingest(SAMPLES, folder)
    monkeypatch.setenv(roots.ENV_VAR, str(tmp_path))
    return folder


def findings_of(folder: Path | None) -> AppTest:
    at = run_app()
    if folder is not None:
        at.radio(key=S.SOURCE_KIND).set_value("store").run()
        at.text_input(key=S.STORE).set_value(str(folder)).run()
    at.switch_page(str(ROOT / "pages/findings.py")).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_without_a_store_the_page_says_reviews_need_one() -> None:
    at = findings_of(None)
    assert NO_STORE in texts(at)
    assert "status" not in at.dataframe[0].value.columns


def test_status_column_and_unreviewed_filter(store: Path) -> None:
    at = findings_of(store)
    table = at.dataframe[0].value
    assert table["status"].iloc[0] == "unreviewed" and set(table["status"]) == {"unreviewed"}
    assert "review-missing" in set(table["rule"])  # nobody reviewed the samples' days
    first, second = table["id"].iloc[0], table["id"].iloc[1]
    until = datetime.now(UTC).date() + timedelta(days=10)
    record_review(store, [first], "Priya", "incident", "INC-7")
    record_review(store, [second], "Sam", "expected", suppress=Scope(table["rule"].iloc[1], until))
    at.run()
    table = at.dataframe[0].value
    status = dict(zip(table["id"], table["status"], strict=True))
    assert status[first] == "incident" and status[second] == "suppressed"
    assert "Reviewed" in texts(at) and "INC-7" in texts(at)  # the first finding is shown with its review
    at.toggle(key=S.FINDING_UNREVIEWED).set_value(True).run()
    left = at.dataframe[0].value
    assert first not in set(left["id"]) and second not in set(left["id"]) and len(left) == len(table) - 2
    assert set(left["status"]) <= {"unreviewed", "suppressed"}


def test_the_users_page_lists_each_sessions_changes() -> None:
    at = run_app()
    at.switch_page(str(ROOT / "pages/users.py")).run()
    assert not at.exception, at.exception
    who = at.selectbox(key=S.USER).value
    table, changes = session_changes(LOG.events)
    mine = table.filter((pl.col("actor") == who) & (pl.col("changes") > 0))
    assert mine.height > 0
    boxes = [e for e in at.expander if e.label.startswith("Session ")]
    labels = [shown_text(e.label) for e in boxes]
    assert len(labels) == min(mine.height, 100)
    newest = mine.sort("start", descending=True).row(0, named=True)
    assert labels[0].startswith(f"Session {newest['session']} · {newest['start']:%Y-%m-%d %H:%M:%S}")
    shown = boxes[0].dataframe[0].value
    assert list(shown.columns) == ["time", "action", "artifact_type", "artifact", "outcome", "where"]
    expected = changes.filter(pl.col("session") == newest["session"])
    assert len(shown) == expected.height == newest["changes"]
    assert list(shown["where"]) == [f"{s}:{n}" for s, n in zip(expected["source"], expected["line"], strict=True)]
    assert None not in set(shown["outcome"]) and "None" not in set(shown["outcome"])
