"""Alert channels: what machines read (an ECS JSON webhook, syslog RFC 5424 with a CEF or ECS JSON body) and what
people read (Slack's `{"text"}` webhook, an e-mail listing the new findings in plain text and HTML).

Text from the logs stays data on every channel: JSON-encoded in webhooks, CEF-escaped (and the syslog header
built only from our own fields) in syslog, HTML-escaped in e-mail, and never in a header line (the subject holds
counts and rule ids only, with every line break removed). TLS is verified unless `insecure` says otherwise.
Each send raises `DeliveryError` with one line when the other end does not take it.
"""

from __future__ import annotations

import html
import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlsplit

from audit_lib.checks.finding import Finding
from audit_lib.errors import AuditLibError
from audit_lib.render.siem import CEF_SEVERITY, cef_header_text, cef_value_text, finding_ecs
from audit_lib.version import __version__

SYSLOG_SEVERITY = {"high": 2, "medium": 4, "low": 5, "info": 6}  # critical, warning, notice, informational
FACILITY = 13  # log audit
APP = "audit_lib"


class DeliveryError(AuditLibError):
    """An alert the channel did not take; the message says why in one line."""


def _context(ca_file: str | None, insecure: bool) -> ssl.SSLContext:
    if insecure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=ca_file)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:300]


# ------------------------------------------------------------------------------------------------- webhook


def webhook_body(f: Finding, slack: bool = False) -> bytes:
    if slack:
        text = f"[{f.severity.upper()}] {f.title}: {f.summary} (node {f.node or '-'}, rule {f.rule}, id {f.id})"
        return json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")
    return json.dumps(finding_ecs(f), ensure_ascii=False, default=str).encode("utf-8")


def send_webhook(url: str, f: Finding, *, slack: bool = False, ca_file: str | None = None, insecure: bool = False,
                 timeout: float = 15.0) -> None:
    """One POST of the finding (ECS JSON, or Slack's shape); any 2xx is taken."""
    req = urllib.request.Request(url, data=webhook_body(f, slack), method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": f"{APP}/{__version__}"})
    try:
        ctx = _context(ca_file, insecure) if url.lower().startswith("https:") else None
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
            r.read(1 << 16)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook {_host(url)}: HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"webhook {_host(url)}: {_one_line(getattr(exc, 'reason', None) or exc)}") from None


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}" if parts.port else f"{parts.scheme}://{parts.hostname}"


# -------------------------------------------------------------------------------------------------- syslog


def cef_line(f: Finding) -> str:
    """The finding as one CEF record (the escaping of `render.siem`)."""
    return (f"CEF:0|WSO2|audit_lib|{__version__}|{cef_header_text(f.rule)}|{cef_header_text(f.title)}|"
            f"{CEF_SEVERITY.get(f.severity, 1)}|externalId={cef_value_text(f.id)} "
            f"dvchost={cef_value_text(f.node or '')} msg={cef_value_text(f.summary)} cnt={f.count}")


def syslog_message(f: Finding, body: str = "cef", hostname: str | None = None, at: datetime | None = None) -> bytes:
    """An RFC 5424 message: `<PRI>1 TIMESTAMP HOST audit_lib - RULE - BODY`, the header from our own fields."""
    pri = FACILITY * 8 + SYSLOG_SEVERITY.get(f.severity, 6)
    when = (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    host = "".join(c for c in (hostname or socket.gethostname()) if 33 <= ord(c) <= 126)[:255] or "-"
    msgid = "".join(c for c in f.rule if 33 <= ord(c) <= 126)[:32] or "-"
    text = cef_line(f) if body == "cef" else json.dumps(finding_ecs(f), ensure_ascii=False, default=str)
    return f"<{pri}>1 {when} {host} {APP} - {msgid} - ".encode() + text.encode("utf-8")


def send_syslog(url: str, f: Finding, *, body: str = "cef", ca_file: str | None = None, insecure: bool = False,
                timeout: float = 10.0) -> None:
    """Send over `udp://`, `tcp://` (octet counting, RFC 6587) or `tls://` (RFC 5425)."""
    parts = urlsplit(url)
    if parts.scheme not in ("udp", "tcp", "tls") or not parts.hostname:
        raise DeliveryError(f"syslog {url!r}: use udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT")
    port = parts.port or (6514 if parts.scheme == "tls" else 514)
    msg = syslog_message(f, body)
    try:
        if parts.scheme == "udp":
            with socket.socket(socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(timeout)
                s.sendto(msg, (parts.hostname, port))
            return
        with socket.create_connection((parts.hostname, port), timeout=timeout) as raw:
            conn = _context(ca_file, insecure).wrap_socket(raw, server_hostname=parts.hostname) \
                if parts.scheme == "tls" else raw
            conn.sendall(f"{len(msg)} ".encode() + msg)
            if conn is not raw:
                conn.close()
    except (OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"syslog {parts.scheme}://{parts.hostname}:{port}: {_one_line(exc)}") from None


# --------------------------------------------------------------------------------------------------- e-mail


def email_message(found: Sequence[Finding], to: str, sender: str) -> EmailMessage:
    """One message listing the findings: the subject holds counts only; the text parts hold the log's words."""
    msg = EmailMessage()
    highs = sum(f.severity == "high" for f in found)
    msg["Subject"] = f"WSO2 audit: {len(found)} new finding(s), {highs} high"
    msg["From"], msg["To"] = _one_line(sender), _one_line(to)
    msg["Message-ID"] = make_msgid(domain="audit-lib.local")
    plain = [f"{len(found)} new finding(s):", ""]
    rows = []
    for f in found:
        when = f.first.isoformat() if f.first else "-"
        plain.append(f"{f.severity.upper():<7} {f.rule}  {f.summary}")
        plain.append(f"        node {f.node or '-'} · {when} · id {f.id}")
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in
                                     (f.severity, f.rule, f.summary, f.node or "-", when, f.id)) + "</tr>")
    msg.set_content("\n".join(plain) + "\n")
    msg.add_alternative("<html><body><p>" + html.escape(f"{len(found)} new finding(s)") + "</p><table border=1>"
                        "<tr><th>Severity</th><th>Rule</th><th>Summary</th><th>Node</th><th>First</th><th>Id</th></tr>"
                        + "".join(rows) + "</table></body></html>", subtype="html")
    return msg


def send_email(smtp: str, to: str, found: Sequence[Finding], *, sender: str = "wso2-audit@localhost",
               user: str | None = None, password: str | None = None, starttls: bool = True,
               ca_file: str | None = None, insecure: bool = False, timeout: float = 30.0) -> None:
    """One message through `smtp` ("host:port"), upgraded with STARTTLS unless `starttls` is false."""
    host, _, port = smtp.rpartition(":") if ":" in smtp else (smtp, "", "587")
    try:
        with smtplib.SMTP(host, int(port or 587), timeout=timeout) as s:
            s.ehlo()
            if starttls:
                if not s.has_extn("starttls"):
                    raise DeliveryError(f"e-mail {host}:{port}: the server offers no STARTTLS (starttls = false to "
                                        "send in the clear)")
                s.starttls(context=_context(ca_file, insecure))
                s.ehlo()
            if user:
                s.login(user, password or "")
            s.send_message(email_message(found, to, sender))
    except DeliveryError:
        raise
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        raise DeliveryError(f"e-mail {host}:{port}: {_one_line(exc)}") from None
