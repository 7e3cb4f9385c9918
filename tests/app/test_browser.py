"""Real-browser runs: Streamlit served on a free port, driven by Playwright in Debian's Chromium. A walk through
the pages on the samples, and the pages on a hostile corpus: no request leaves the app, no link from the logs."""

import os
from pathlib import Path

import pytest

from tests.support.app_server import serve

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = os.environ.get("AUDIT_SCREENSHOTS")  # a folder (e.g. docs) to save a screenshot of each page into

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")]


def _counts(samples_log) -> tuple[str, str]:
    """("N of N events", "J of N events") as the scope line prints them, for all events and jane.ops'."""
    n = samples_log.events.height
    jane = samples_log.events.filter(samples_log.events["user"] == "jane.ops").height
    return f"{n:,} of {n:,} events", f"{jane:,} of {n:,} events"


@pytest.fixture(scope="module")
def server():
    with serve() as (url, _):
        yield url


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


class _Canary:
    """An HTTP server that counts the requests it gets: log text pointing at it must never make the browser
    fetch it."""

    def __init__(self) -> None:
        import http.server
        import threading

        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_hostile_corpus_makes_no_request_and_no_link(server, tmp_path):
    import io
    import zipfile

    from playwright.sync_api import sync_playwright

    from tests.support import hostile

    canary = _Canary()
    bait = f"127.0.0.1:{canary.port}"
    extra = [hostile.line(u, f"![a](http://{bait}/artifact.png)", 59, 5) for u in [
        f"![c](http://{bait}/user.png)", f"<img src=http://{bait}/tag.png>", f"http://{bait}/bare",
        f"[x](http://{bait}/link)", f"<a href=http://{bait}/a>a</a>"]]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{hostile.NODE}/repository/logs/audit.log", hostile.log_text() + "\n".join(extra) + "\n")
        z.writestr(hostile.MEMBER_NOTE, "not a log\n")
        z.writestr(f"![w](http:{bait})/repository/logs/audit-11-05-2026.log", "\x00\x01 broken\n")
    upload = tmp_path / f"[z](http:{bait}).zip"
    upload.write_bytes(buf.getvalue())
    n = len(hostile.users()) + len(extra)
    shots = Path(SHOTS) if SHOTS else tmp_path
    requests: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 2400})
                page.on("request", lambda r: requests.append(r.url))
                page.goto(server)
                page.get_by_role("heading", name="Overview").wait_for(timeout=60000)
                page.get_by_test_id("stRadioGroup").get_by_text("Upload files").click()
                page.locator("input[type='file']").set_input_files(str(upload))
                page.get_by_text(f"{n} of {n} events").first.wait_for(timeout=60000)
                page.locator("canvas, svg.marks").first.wait_for(timeout=30000)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(shots / "hostile-overview.png"))
                for title in ["Findings", "Users", "Artifacts", "Timeline", "Explorer", "Data quality", "Reports"]:
                    _open(page, title)
                    page.wait_for_timeout(1500)
                    assert not page.get_by_text("Traceback").count()
                    page.screenshot(path=str(shots / f"hostile-{title.lower().replace(' ', '-')}.png"))
                    _no_link_from_the_logs(page, server)
                # the pick lists show the names too: open the user list
                _open(page, "Users")
                page.locator("[data-testid='stSelectbox']").filter(has_text="User").last.click()
                page.wait_for_timeout(1000)
                page.screenshot(path=str(shots / "hostile-user-list.png"))
                _no_link_from_the_logs(page, server)
                page.keyboard.press("Escape")
                page.wait_for_timeout(1000)
            finally:
                browser.close()
    finally:
        canary.close()
    assert requests
    foreign = [u for u in requests if not u.startswith(server + "/") and u != server]
    assert not foreign, sorted(set(foreign))
    assert canary.hits == []


def _no_link_from_the_logs(page, server: str) -> None:
    """Every link and image on the page points at the app itself (its pages, its static files)."""
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    assert all(h.startswith(server + "/") or h == server for h in hrefs), [h for h in hrefs if not h.startswith(server)]
    srcs = page.eval_on_selector_all("img[src], image[href], iframe[src]",
                                     "els => els.map(e => e.src || e.href.baseVal || '')")
    assert all(s.startswith((server + "/", "data:", "blob:")) or not s for s in srcs), srcs


def test_explorer_table_fills_a_tall_window(server):
    """In a tall window the Explorer's table shows 25 rows before it scrolls, not Streamlit's default ten."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2200})
            page.goto(server)
            page.get_by_role("heading", name="Overview").wait_for(timeout=60000)
            _open(page, "Explorer")
            table = page.locator("[data-testid='stDataFrame']").first
            table.wait_for(timeout=30000)
            box = table.bounding_box()
            assert box is not None and box["height"] >= 26 * 35, box  # 25 rows and the header
        finally:
            browser.close()
