"""The sign-in and Streamlit's own endpoints on a real server (`streamlit run app.py` with a temporary secrets
file), driven by Playwright in Debian's Chromium: uploads refused before sign-in, no metrics, a broken secrets
file stops the app, wrong passwords from many sessions lock the sign-in."""

import os
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from audit_lib.ui.passwords import make_hash
from tests.support.app_server import serve

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PASSWORD = "correct horse battery"
MB = 1 << 20

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")]


@pytest.fixture
def password_secrets(tmp_path) -> Path:
    path = tmp_path / "secrets.toml"
    # a first lock long enough to outlast a slow machine's guessing (the default is 2 s)
    path.write_text(f'password_hash = "{make_hash(PASSWORD)}"\nsignin_lock_seconds = 600\n')
    return path


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _session_ids(page) -> list[str]:
    """Fills with the session id the server sends in its first websocket message."""
    ids: list[str] = []

    def frame(payload) -> None:
        if isinstance(payload, bytes | bytearray):
            msg = ForwardMsg()
            try:
                msg.ParseFromString(bytes(payload))
            except Exception:
                return
            if msg.WhichOneof("type") == "new_session" and msg.new_session.initialize.session_id:
                ids.append(msg.new_session.initialize.session_id)

    page.on("websocket", lambda ws: ws.on("framereceived", frame))
    return ids


def _put(page, url: str, session: str, size: int) -> int:
    xsrf = next((c["value"] for c in page.context.cookies() if c["name"] == "_streamlit_xsrf"), "")
    r = page.request.put(f"{url}/_stcore/upload_file/{session}/f{time.monotonic_ns()}",
                         headers={"X-Xsrftoken": xsrf},
                         multipart={"file": {"name": "big.log", "mimeType": "text/plain", "buffer": os.urandom(size)}})
    return r.status


def _sign_in(page, password: str) -> None:
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def _rss(proc) -> int:
    return psutil.Process(proc.pid).memory_info().rss


def test_uploads_are_refused_before_sign_in_and_metrics_are_off(password_secrets):
    with serve(password_secrets) as (url, proc), browser() as b:
        page = b.new_page()
        ids = _session_ids(page)
        page.goto(url)
        page.get_by_label("Password", exact=True).wait_for(timeout=60000)
        assert ids
        before = _rss(proc)
        statuses = [_put(page, url, ids[-1], 40 * MB) for _ in range(5)]
        assert statuses == [400] * 5  # refused before the body is read
        assert _rss(proc) - before < 60 * MB, (before, _rss(proc))  # 200 MB sent, not held
        with urllib.request.urlopen(url + "/_stcore/metrics", timeout=5) as r:
            text = r.read().decode()
        assert "session" not in text and "cache" not in text and "UploadedFileManager" not in text, text
        _sign_in(page, PASSWORD)
        page.get_by_role("heading", name="Overview").wait_for(timeout=60000)
        assert _put(page, url, ids[-1], 1 * MB) == 204  # the same session, signed in, may upload
        # another visitor, not signed in, still may not
        other = b.new_page()
        other_ids = _session_ids(other)
        other.goto(url)
        other.get_by_label("Password", exact=True).wait_for(timeout=60000)
        assert _put(other, url, other_ids[-1], 1 * MB) == 400


def test_a_refused_upload_is_freed(tmp_path):
    empty = tmp_path / "secrets.toml"
    empty.write_text("# no sign-in\n")
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04" + os.urandom(120 * MB))
    with serve(empty) as (url, proc), browser() as b:
        page = b.new_page()
        page.goto(url)
        page.get_by_role("heading", name="Overview").wait_for(timeout=60000)
        page.get_by_test_id("stRadioGroup").get_by_text("Upload files").click()
        page.wait_for_timeout(1500)
        before = _rss(proc)
        page.locator("input[type='file']").set_input_files(str(junk))
        page.get_by_text("junk.zip is not a readable zip archive").first.wait_for(timeout=60000)
        page.get_by_test_id("stRadioGroup").get_by_text("Bundled samples").click()  # the next click
        page.get_by_text("Showing the bundled demo logs").first.wait_for(timeout=60000)
        page.wait_for_timeout(1500)
        assert _rss(proc) - before < 40 * MB, (before, _rss(proc))


def test_a_secrets_file_that_does_not_parse_stops_the_app(tmp_path):
    broken = tmp_path / "secrets.toml"
    broken.write_text(f'password_hash = "{make_hash(PASSWORD)}"\nthis line = is not toml\n')
    with serve(broken) as (url, _), browser() as b:
        page = b.new_page()
        page.goto(url)
        page.get_by_text("The app is stopped: its secrets file").first.wait_for(timeout=60000)
        page.wait_for_timeout(2000)
        assert not page.get_by_role("heading", name="Overview").count()
        assert not page.get_by_label("Password", exact=True).count() and not page.locator("canvas, svg.marks").count()
        assert not page.get_by_role("link", name="findings").count()  # no page is listed
        page.goto(url + "/findings")
        page.get_by_text("The app is stopped: its secrets file").first.wait_for(timeout=60000)
        page.wait_for_timeout(2000)
        assert not page.get_by_role("heading", name="Findings").count()


def test_wrong_passwords_from_many_sessions_lock_the_sign_in(password_secrets):
    sessions = 12
    with serve(password_secrets) as (url, proc), browser() as b:
        pages = [b.new_page() for _ in range(sessions)]
        for p in pages:
            p.goto(url)
        for p in pages:
            p.get_by_label("Password", exact=True).wait_for(timeout=60000)
        peak = 0
        for _ in range(2):  # every session guesses at once, twice
            for p in pages:
                _sign_in(p, "wrong guess")
            for p in pages:
                p.get_by_text("Wrong password.").or_(p.get_by_text("sign-in is locked")).or_(
                    p.get_by_text("Too many sign-ins at once")).first.wait_for(timeout=60000)
                peak = max(peak, _rss(proc))
            for p in pages:
                p.wait_for_timeout(200)
        locked = sum(p.get_by_text("sign-in is locked").count() > 0 for p in pages)
        assert locked, "no session was locked out"
        # the right password, from a new session, is refused while the account is locked
        page = b.new_page()
        page.goto(url)
        page.get_by_label("Password", exact=True).wait_for(timeout=60000)
        _sign_in(page, PASSWORD)
        page.get_by_text("sign-in is locked").first.wait_for(timeout=60000)
        assert not page.get_by_role("heading", name="Overview").count()
        assert peak < 1200 * MB, peak
