"""Reviews on the Findings page with an event store (AppTest): each finding's status, the unreviewed filter, the
review-missing findings, the one line without a store; and each session's changes on the Users page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
from tests.support.app_server import serve

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
    held = sum(s == "suppressed" for s in table["status"])
    assert f"2 of {len(table):,} findings reviewed, {len(table) - 2:,} not; {held:,} suppressed" in texts(at)
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


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SHOTS = os.environ.get("AUDIT_SCREENSHOTS")


def _rows_box(page) -> dict:
    grid = page.get_by_test_id("stDataFrame").first
    grid.locator("canvas").first.wait_for(timeout=60000)
    return grid.bounding_box()


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")
def test_record_a_review_in_the_browser_then_verify_and_findings(store: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with serve() as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1800})
            page.goto(url)
            page.get_by_role("heading", name="Overview").wait_for(timeout=60000)
            page.get_by_test_id("stRadioGroup").get_by_text("Event store").click()
            box = page.get_by_role("textbox", name="Event store folder on the server")
            box.fill(str(store))
            box.press("Enter")
            page.get_by_text("event store", exact=False).first.wait_for(timeout=60000)
            page.get_by_role("link", name="Findings").first.click()
            page.get_by_role("heading", name="Findings").first.wait_for(timeout=60000)
            page.get_by_text("Select one or more findings").wait_for(timeout=60000)
            grid = _rows_box(page)
            for row in (0, 1):  # tick the first two rows (the selection column at the left of the grid)
                page.mouse.click(grid["x"] + 16, grid["y"] + 35 * (row + 1) + 17)
                page.wait_for_timeout(800)
            page.get_by_text("Review 2 selected findings").wait_for(timeout=30000)
            page.get_by_role("textbox", name="Your name").fill("Priya Nair")
            page.get_by_role("textbox", name="Comment").fill("planned change CHG-1042")
            page.get_by_role("button", name="Record the review").click()
            page.get_by_text("Recorded: 2 finding(s) reviewed as expected by Priya Nair").wait_for(timeout=60000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(Path(SHOTS or tmp_path) / "findings-review.png"), full_page=False)
            grid_text = page.get_by_test_id("stDataFrame").first.text_content() or ""
            # the same two again, now with a suppression of their rules (no narrower scope)
            page.get_by_text("Suppress later findings like these").click()
            page.get_by_text("Suppress later findings of the same rule in this scope").click()
            page.get_by_role("button", name="Record the review").click()
            page.get_by_text("with a suppression.").wait_for(timeout=60000)
            page.wait_for_timeout(1500)
            suppressed_text = page.get_by_test_id("stDataFrame").first.text_content() or ""
            page.screenshot(path=str(Path(SHOTS or tmp_path) / "findings-suppressed.png"), full_page=False)
        finally:
            browser.close()
    ok = subprocess.run([sys.executable, "-m", "audit_lib", "verify", "--store", str(store)], cwd=ROOT,
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "INTACT" in ok.stdout, ok.stdout
    out = subprocess.run([sys.executable, "-m", "audit_lib", "findings", "--store", str(store), "--json"], cwd=ROOT,
                         capture_output=True, text=True)
    found = [json.loads(x) for x in out.stdout.splitlines()]
    reviewed = [f for f in found if f["review"]]
    assert len(reviewed) == 2, [f["id"] for f in reviewed]
    assert {f["review"]["reviewer"] for f in reviewed} == {"Priya Nair"}
    assert {f["review"]["disposition"] for f in reviewed} == {"expected"}
    assert {f["review"]["comment"] for f in reviewed} == {"planned change CHG-1042"}
    assert {f["review"]["authenticated"] for f in reviewed} == {False}  # no sign-in: the name is given
    assert [f["id"] for f in reviewed] == [f["id"] for f in found[:2]]  # the two rows ticked, most severe first
    # their rules' other high findings are suppressed too; --fail-on high passes
    high = [f for f in found if f["severity"] == "high"]
    assert {f["rule"] for f in high} == {f["rule"] for f in reviewed}
    assert all(f["suppressed"] and f["suppressed"]["reviewer"] == "Priya Nair" for f in high)
    assert suppressed_text.count("suppressed") >= len(high)
    assert subprocess.run([sys.executable, "-m", "audit_lib", "findings", "--store", str(store)], cwd=ROOT,
                          capture_output=True).returncode == 0
    # the table showed the new status after recording, without a reload (the grid's accessible copy of its cells)
    assert grid_text.count("expected") == 2 and "unreviewed" in grid_text, grid_text[:300]


def _identity_script() -> None:
    import streamlit as st

    from audit_lib.ui.review import reviewer_identity

    name, how = reviewer_identity()
    st.write(f"{name}|{how}")


@pytest.mark.parametrize(("secrets", "user", "expected"), [
    ({"auth": {"redirect_uri": "http://localhost/oauth2callback", "cookie_secret": "x" * 32, "client_id": "c",
               "client_secret": "s", "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}},
     {"is_logged_in": True, "email": "priya@example.com", "name": "Priya Nair"}, "priya@example.com|single sign-on"),
    ({"password_hash": "scrypt$placeholder"}, {}, "None|shared password"),
    ({}, {}, "None|no sign-in"),
])
def test_the_reviewer_is_the_signed_in_user_or_asked_for(secrets: dict, user: dict, expected: str) -> None:
    at = AppTest.from_function(_identity_script)
    for k, v in secrets.items():
        at.secrets[k] = v
    at.user = user
    at.run()
    assert not at.exception, at.exception
    assert [m.value for m in at.markdown] == [expected]
