"""Alert channels against real local servers: an HTTPS webhook, syslog over UDP, TCP and TLS sockets, and an SMTP
server with STARTTLS (aiosmtpd), each with a certificate made in the test. Hostile log text stays data."""

from __future__ import annotations

import email
import json
import socket
import ssl
import threading
from datetime import UTC, datetime
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from audit_lib.checks.finding import Finding
from audit_lib.watch.channels import DeliveryError, email_message, send_email, send_syslog, send_webhook
from tests.support.mi_server import make_certificate

EVIL = "admin\r\nBcc: victim@example.com\n<script>alert(1)</script>|CEF:0|x|y=z"


def finding(summary: str = EVIL) -> Finding:
    t = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    return Finding(id="f1a2b3", rule="sign-in-after-failures", title="Sign-in after failures", severity="high",
                   meaning="m", references=("PCI DSS 10.2.1.4",), node="mi3", first=t, last=t, count=21,
                   summary=summary)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("cert"))


class _Hook(BaseHTTPRequestHandler):
    got: list[tuple[dict, bytes]] = []
    status = 200

    def log_message(self, *a: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_webhook_posts_ecs_and_slack_over_verified_tls(cert) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*cert)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"https://localhost:{httpd.server_address[1]}/T000/B000"
    try:
        send_webhook(url, finding(), ca_file=str(cert[0]))
        send_webhook(url, finding(), slack=True, ca_file=str(cert[0]))
        with pytest.raises(DeliveryError, match="certificate"):
            send_webhook(url, finding())  # not trusted without the CA file
        _Hook.status = 500
        with pytest.raises(DeliveryError, match="HTTP 500"):
            send_webhook(url, finding(), ca_file=str(cert[0]))
    finally:
        httpd.shutdown()
    ecs, slack = (json.loads(b) for _, b in _Hook.got[:2])
    assert ecs["event"]["kind"] == "alert" and ecs["event"]["id"] == "f1a2b3" and ecs["rule"]["id"]
    assert ecs["message"] == EVIL and ecs["host"]["name"] == "mi3" and "PCI DSS 10.2.1.4" in ecs["event"]["reference"]
    assert set(slack) == {"text"} and EVIL in slack["text"]


def _listen(kind: int, tls: tuple[Path, Path] | None = None) -> tuple[socket.socket, int, list[bytes]]:
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    got: list[bytes] = []
    if kind == socket.SOCK_DGRAM:
        def run() -> None:
            got.append(s.recv(65536))
    else:
        s.listen()

        def run() -> None:
            conn, _ = s.accept()
            if tls:
                ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                ctx.load_cert_chain(*tls)
                conn = ctx.wrap_socket(conn, server_side=True)
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
            got.append(data)
    threading.Thread(target=run, daemon=True).start()
    return s, s.getsockname()[1], got


def _wait(got: list[bytes]) -> bytes:
    for _ in range(200):
        if got:
            return got[0]
        threading.Event().wait(0.02)
    raise AssertionError("nothing arrived")


def test_syslog_rfc5424_over_udp_tcp_and_tls(cert) -> None:
    s, port, got = _listen(socket.SOCK_DGRAM)
    send_syslog(f"udp://127.0.0.1:{port}", finding())
    udp = _wait(got).decode()
    s.close()
    assert udp.startswith("<106>1 ") and " audit_lib - sign-in-after-failures - CEF:0|WSO2|audit_lib|" in udp
    assert "\n" not in udp and "\r" not in udp and "msg=admin\\r\\nBcc: victim@example.com\\n" in udp
    assert "y\\=z" in udp  # an '=' of the log text cannot start a field of its own
    s, port, got = _listen(socket.SOCK_STREAM)
    send_syslog(f"tcp://127.0.0.1:{port}", finding(), body="json")
    tcp = _wait(got).decode()
    s.close()
    length, _, msg = tcp.partition(" ")
    assert int(length) == len(msg.encode()) and json.loads(msg.split(" - ", 2)[2])["message"] == EVIL
    s, port, got = _listen(socket.SOCK_STREAM, tls=cert)
    send_syslog(f"tls://localhost:{port}", finding(), ca_file=str(cert[0]))
    assert b"CEF:0|WSO2" in _wait(got)
    s.close()
    with pytest.raises(DeliveryError, match="use udp"):
        send_syslog("http://x", finding())


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(envelope.content)
        self.rcpt = list(envelope.rcpt_tos)
        return "250 OK"


def test_email_with_starttls_lists_findings_and_keeps_log_text_out_of_headers(cert) -> None:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*cert)
    inbox = _Inbox()
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctl = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True)
    ctl.start()
    try:
        send_email(f"localhost:{port}", "secops@example.com", [finding(), finding("quiet")], ca_file=str(cert[0]))
        with pytest.raises(DeliveryError):
            send_email(f"localhost:{port}", "secops@example.com", [finding()])  # the certificate is not trusted
    finally:
        ctl.stop()
    assert len(inbox.messages) == 1 and inbox.rcpt == ["secops@example.com"]
    msg = email.message_from_bytes(inbox.messages[0], policy=policy.default)
    assert msg["Subject"] == "WSO2 audit: 2 new finding(s), 2 high" and msg["Bcc"] is None
    plain = msg.get_body(("plain",)).get_content()
    html_part = msg.get_body(("html",)).get_content()
    assert "sign-in-after-failures" in plain and "<script>" not in html_part and "&lt;script&gt;" in html_part
    assert "Bcc" not in email_message([finding()], "a@example.com", "b@example.com")["Subject"]
