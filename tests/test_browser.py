"""One real-browser run: Streamlit served on a free port, driven by Playwright in Debian's Chromium."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = os.environ.get("AUDIT_SCREENSHOTS")  # a folder (e.g. docs) to save a screenshot of each page into

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")]


def _counts(samples_log) -> tuple[str, str]:
    """("N of N events", "J of N events") as the scope line prints them, for all events and jane.ops'."""
    n = samples_log.events.height
    jane = samples_log.events.filter(samples_log.events["user"] == "jane.ops").height
    return f"{n:,} of {n:,} events", f"{jane:,} of {n:,} events"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _shot(page, name: str) -> None:
    page.wait_for_timeout(1500)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def _open(page, title: str) -> None:
    page.get_by_role("link", name=title).first.click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=30000)
    page.wait_for_load_state("networkidle")


def test_browser_walkthrough(server, samples_log):
    from playwright.sync_api import sync_playwright

    everything, jane = _counts(samples_log)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2200})
            page.goto(server)
            page.get_by_role("heading", name="Overview").wait_for(timeout=60000)
            page.locator("canvas, svg.marks").first.wait_for(timeout=30000)  # the vega chart is drawn
            assert page.get_by_text(everything).count()
            _shot(page, "overview")
            for title, name in [("Users", "users"), ("Artifacts", "artifacts"), ("Timeline", "timeline"),
                                ("Explorer", "explorer"), ("Data quality", "quality"), ("Reports", "reports")]:
                _open(page, title)
                assert not page.get_by_text("Traceback").count()
                _shot(page, name)

            # a user filter, kept on another page
            _open(page, "Overview")
            users = page.locator("[data-testid='stMultiSelect']").filter(has_text="Users").first
            users.click()
            page.keyboard.type("jane.ops")
            page.keyboard.press("Enter")
            page.keyboard.press("Escape")
            page.get_by_text(jane).first.wait_for(timeout=30000)
            _open(page, "Users")
            page.get_by_text(jane).first.wait_for(timeout=30000)

            # upload a log file
            page.get_by_test_id("stRadioGroup").get_by_text("Upload files").click()
            log = ROOT / "samples/mi-node-2/repository/logs/audit-11-02-2026.log"
            page.locator("input[type='file']").set_input_files(str(log))
            n = len(log.read_bytes().splitlines())
            page.get_by_text(f"of {n} events").first.wait_for(timeout=30000)
            page.get_by_text("1 uploaded file(s)").first.wait_for(timeout=30000)
        finally:
            browser.close()
