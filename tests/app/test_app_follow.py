"""The app follows an event store, on a real Streamlit server in Chromium: a store is opened, more is ingested
into it from the test, and within the fragment's interval the page says how many new events were published; a
click on Refresh shows the new counts. The Data quality page shows the store's head hash, the last verify and per
source its last fetch or ingest and its last error (a watcher cycle with a Micro Integrator node that does not
answer)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("deltalake", reason="the event store needs requirements-store.txt (deltalake)")

from audit_lib.intake.loader import load  # noqa: E402
from audit_lib.store import Store, ingest  # noqa: E402
from audit_lib.ui import roots  # noqa: E402
from audit_lib.watch.estate import load_estate  # noqa: E402
from audit_lib.watch.watcher import run_cycle  # noqa: E402
from tests.app.test_browser import ARGS, CHROMIUM  # noqa: E402
from tests.support.app_server import serve  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHOTS = os.environ.get("AUDIT_SCREENSHOTS")

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the test connects: the node does not answer


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_the_app_notices_an_ingest_and_shows_the_store_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import sync_playwright

    logs = tmp_path / "logs"
    shutil.copytree(ROOT / "samples" / "mi-node-1", logs / "mi-node-1")
    store = tmp_path / "store"
    estate = tmp_path / "estate.toml"
    estate.write_text(f'store = "{store}"\ntz = "UTC"\nlookback = "3650d"\n[[source]]\npath = "{logs}"\n'
                      f'[[source]]\nmi = "https://127.0.0.1:{_closed_port()}"\nnode = "mi9"\nuser_env = "T_U"\n'
                      'password_env = "T_P"\ntimeout = 3\n')
    monkeypatch.setenv("T_U", "admin")
    monkeypatch.setenv("T_P", "admin")
    cycle = run_cycle(load_estate(estate))  # the folder goes in, the node fails
    assert cycle.ingest and cycle.ingest["events_added"] > 0 and cycle.fetched and not cycle.fetched[0].ok
    first = Store(store).head
    subprocess.run([sys.executable, "-m", "audit_lib", "verify", "--store", str(store)], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    before = load(logs, tz="UTC").events.height
    more = load(ROOT / "samples" / "mi-node-2", tz="UTC").events.height

    monkeypatch.setenv(roots.ENV_VAR, str(tmp_path))
    monkeypatch.setenv("AUDIT_STORE_POLL_SECONDS", "2")
    with serve() as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(url)
            page.get_by_role("heading", name="Overview").wait_for(timeout=60000)
            page.get_by_test_id("stRadioGroup").get_by_text("Event store").click()
            box = page.get_by_test_id("stTextInputField").and_(page.get_by_label("Event store folder on the server"))
            box.fill(str(store))
            box.press("Enter")
            page.get_by_text(f"{before:,} of {before:,} events").first.wait_for(timeout=60000)
            assert not page.get_by_text("new events").count()

            shutil.copytree(ROOT / "samples" / "mi-node-2", logs / "mi-node-2")  # a second node's files arrive
            ingest([str(logs)], store)
            page.get_by_text(f"{more:,} new events").first.wait_for(timeout=20000)  # the fragment's poll, 2 s
            assert page.get_by_text(f"{before:,} of {before:,} events").count()  # no full rerun by itself
            _shot(page, "store-new-events")
            page.get_by_role("button", name="Refresh").click()
            total = before + more
            page.get_by_text(f"{total:,} of {total:,} events").first.wait_for(timeout=60000)
            page.wait_for_timeout(3000)  # a poll after the refresh: nothing new any more
            assert not page.get_by_text("new events").count()

            page.get_by_role("link", name="Data quality").first.click()
            page.get_by_role("heading", name="Data quality").first.wait_for(timeout=30000)
            page.get_by_text("Head hash").first.wait_for(timeout=30000)
            head = Store(store).head
            assert head.hash != first.hash and page.get_by_text(head.hash).count()
            assert page.get_by_text("found the store intact up to chain entry 1 (entries published since").count()
            failed = page.get_by_text("1 source(s) failed in their latest attempt: mi9 (20")
            assert failed.count() and "127.0.0.1" in failed.first.inner_text()  # the node's own error line
            page.get_by_test_id("stDataFrame").nth(2).wait_for(timeout=30000)  # files, sources, nodes
            assert not page.get_by_text("Traceback").count()
            _shot(page, "store-status")
        finally:
            browser.close()
