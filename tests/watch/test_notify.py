"""People's channels through apprise, against real local servers: apprise's `json://` and Mattermost (`mmost://`,
a Markdown target) to an HTTP server the test runs, and `mailto://` to aiosmtpd. One message per cycle lists the
new findings; log text arrives as text (no mention, no link, no markup); a bad URL is refused at load naming its
key, a URL from the environment never shows; a failed delivery is recorded and retried next cycle."""

from __future__ import annotations

import email
import json
import socket
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

pytest.importorskip("apprise", reason="notify alerts need apprise (requirements-store.txt)")

from audit_lib.store import ingest  # noqa: E402
from audit_lib.store.deliveries import deliveries  # noqa: E402
from audit_lib.watch.estate import EstateError, load_estate  # noqa: E402
from audit_lib.watch.notify import NotifyError, notify_body, people_text, send_notify  # noqa: E402
from audit_lib.watch.watcher import run_cycle  # noqa: E402
from tests.watch.test_channels import finding  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "@everyone <@123456> @here look at http://evil.example/x *bold* [a](javascript:x) \x1b[31m\nnext line"


class _Hook(BaseHTTPRequestHandler):
    got: list[tuple[str, dict]] = []
    fail = False

    def log_message(self, *a: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = 503 if type(self).fail else 200
        if status == 200:
            type(self).got.append((self.path, json.loads(body)))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def hook():
    _Hook.got, _Hook.fail = [], False
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_log_text_cannot_mention_link_or_break_lines() -> None:
    text = people_text(HOSTILE)
    assert "\n" not in text and "\x1b" not in text and "\\u001b" in text
    assert "@everyone" not in text and "@here" not in text and "<@123456>" not in text
    assert "http://" not in text and "evil.example" in text
    body = notify_body([finding(HOSTILE)])
    assert body.count("\n") == 4  # the heading, a blank line and the finding's three lines


def test_json_and_a_markdown_target_get_one_message_with_the_text_escaped(hook: int) -> None:
    found = [finding(HOSTILE), finding("quiet")]
    send_notify(f"json://127.0.0.1:{hook}/alerts", "json", found)
    send_notify(f"mmost://127.0.0.1:{hook}/token1234", "mattermost", found)
    (path, msg), (mm_path, mm) = _Hook.got
    assert path == "/alerts" and msg["title"] == "WSO2 audit: 2 new finding(s), 2 high" and msg["type"] == "failure"
    assert "**HIGH** Sign-in after failures (sign-in-after-failures)" in msg["message"]
    assert "Summary: quiet" in msg["message"]
    assert "@everyone" not in msg["message"] and "http://evil" not in msg["message"]
    assert mm_path.endswith("/hooks/token1234")
    text = mm["text"]  # Mattermost renders Markdown: what would mark up is escaped
    assert "\\*bold\\*" in text and "\\[a\\](javascript:x)" in text and "@everyone" not in text
    assert "\\<@\u2060123456\\>" in text


def test_a_refused_message_is_one_line_without_the_secret(hook: int) -> None:
    _Hook.fail = True
    with pytest.raises(NotifyError) as err:
        send_notify(f"json://user:s3cretpassword@127.0.0.1:{hook}/Tok3nInThePath", "json://user:****@127.0.0.1",
                    [finding()])
    said = str(err.value)
    assert "s3cret" not in said and "Tok3n" not in said and "\n" not in said and said.startswith("notify json")


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


def test_mailto_to_a_local_smtp_server() -> None:
    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        send_notify(f"mailto://127.0.0.1:{port}?to=secops@example.com&from=watch@example.com&mode=insecure",
                    "mail", [finding(HOSTILE)])
    finally:
        ctl.stop()
    (raw,) = inbox.messages
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "WSO2 audit: 1 new finding(s), 1 high" and msg["To"] == "secops@example.com"
    body = (msg.get_body(("html", "plain"))).get_content()
    assert "Sign-in after failures" in body and "<@123456>" not in body and "\nnext line" not in body
    assert "*bold*" in body and "<em>" not in body and "href" not in body  # shown, not marked up or linked


def _estate(tmp_path: Path, alert: str) -> Path:
    f = tmp_path / "estate.toml"
    f.write_text(f'store = "{tmp_path / "store"}"\ntz = "UTC"\nlookback = "3650d"\n[[source]]\n'
                 f'path = "{ROOT / "samples"}"\n[[alert]]\n{alert}\n', encoding="utf-8")
    return f


def test_the_estate_checks_every_url_before_anything_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(EstateError, match=r"alert\[1\]\.notify\[2\]: not a URL apprise can use \(scheme 'nope'"):
        load_estate(_estate(tmp_path, 'notify = ["json://127.0.0.1:9/", "nope://x"]'))
    with pytest.raises(EstateError, match=r"alert\[1\]\.notify_env\[1\]: the environment variable T_HOOK is not"):
        load_estate(_estate(tmp_path, 'notify_env = ["T_HOOK"]'))
    monkeypatch.setenv("T_HOOK", "slack://not-a-token-s3cret")
    with pytest.raises(EstateError, match="T_HOOK holds no URL apprise can use") as err:
        load_estate(_estate(tmp_path, 'notify_env = ["T_HOOK"]'))
    assert "s3cret" not in str(err.value)
    with pytest.raises(EstateError, match=r"alert\[1\]\.notify: a list of non-empty texts"):
        load_estate(_estate(tmp_path, "notify = [1]"))
    with pytest.raises(EstateError, match=r"alert\[1\]\.to: unknown key"):
        load_estate(_estate(tmp_path, 'notify = ["json://127.0.0.1:9/"]\nto = "x"'))
    assert not (tmp_path / "store").exists()
    monkeypatch.setenv("T_HOOK", "json://user:s3cret@127.0.0.1:9/")
    alerts = load_estate(_estate(tmp_path, 'notify = ["json://127.0.0.1:9/"]\nnotify_env = ["T_HOOK"]')).alerts
    assert [a.channel for a in alerts] == ["notify:json://127.0.0.1:9/", "notify:$T_HOOK"]
    assert all("s3cret" not in a.channel for a in alerts)


def test_a_cycle_notifies_once_and_retries_a_failed_delivery(tmp_path: Path, hook: int,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(ROOT / "samples", tmp_path / "store")
    monkeypatch.setenv("T_HOOK", f"json://127.0.0.1:{hook}/env")
    estate = load_estate(_estate(tmp_path, f'notify = ["json://127.0.0.1:{hook}/inline"]\nnotify_env = ["T_HOOK"]'
                                           '\nmin_severity = "medium"'))
    _Hook.fail = True
    first = run_cycle(estate)
    assert not first.ok and first.findings and all(first.failed.values()) and not _Hook.got
    _Hook.fail = False
    second = run_cycle(estate)
    assert second.ok and sorted(p for p, _ in _Hook.got) == ["/env", "/inline"]  # one message per URL
    sent = second.sent["notify:$T_HOOK"]
    assert sent and len(sent) == len(second.sent[f"notify:json://127.0.0.1:{hook}/inline"])
    assert f"{len(sent)} new finding(s)" in _Hook.got[0][1]["message"]
    third = run_cycle(estate)
    assert third.ok and not any(third.sent.values()) and len(_Hook.got) == 2  # delivered once per channel
    rows = deliveries(tmp_path / "store")
    assert set(rows["channel"]) == {"notify:$T_HOOK", f"notify:json://127.0.0.1:{hook}/inline"}
    assert rows["delivered"].sum() == 2 * len(sent) and (~rows["delivered"]).sum() == 2 * len(sent)
