"""People's channels through apprise (Slack, Teams, Mattermost, Telegram, Discord, e-mail, ...: one URL per
target): one message per cycle listing the new findings, its title from our counts only, its body Markdown that
we write (apprise `body_format` MARKDOWN: apprise turns it into each target's own markup, HTML for e-mail and
Telegram, Slack's mrkdwn, ...; a target apprise calls plain text, such as Mattermost or Discord, gets it as
written, and those render Markdown).

Log text cannot become markup, a mention or a link: every field from the logs is made one line, its control and
invisible characters shown as escapes (`render.textsafe.visible`), a WORD JOINER (U+2060, invisible) goes after
every `@` (no `@everyone`, `@here`, `@channel` or `<@id>` mention) and inside every `://` and `www.` (no
autolink), and every character that marks up inside a line (backslash, backtick, `*`, `_`, `~`, `[`, `]`, `<`,
`>`, `|`) is backslash-escaped.
No line starts with log text, so nothing from the logs can make a heading, a list or a quote.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from audit_lib.checks.finding import Finding
from audit_lib.errors import AuditLibError
from audit_lib.render.textsafe import JOINER, visible

MAX_LISTED = 50  # findings listed in one message; the rest are counted
_BREAK = re.compile(r"(?<=@)|(?<=:)(?=//)|(?<=www)(?=\.)", re.IGNORECASE)  # where a joiner goes
_MARKUP = re.compile(r"([\\`*_~\[\]<>|])")  # what marks up inside a line, in Markdown and its dialects
INSTALL_HINT = "notify alerts need apprise: pip install -r requirements-store.txt"


class NotifyError(AuditLibError):
    """A notify URL apprise cannot use, or a message it did not deliver; one line, never the URL's secrets."""


def _apprise() -> Any:
    try:
        import apprise
    except ImportError:
        raise NotifyError(INSTALL_HINT) from None
    return apprise


def notify_label(url: str) -> str | None:
    """The URL as apprise shows it with its secrets masked, without its options; None when apprise does not know
    it (an unknown scheme, a missing token)."""
    plugin = _apprise().Apprise.instantiate(url)
    if plugin is None:
        return None
    return str(plugin.url(privacy=True)).split("?", 1)[0]


def people_text(text: object, limit: int = 300) -> str:
    """Log text for a message people read: one line, visible escapes, no mention and no link (module docstring)."""
    return _BREAK.sub(JOINER, " ".join(visible(text).split())[:limit])


def markdown_text(text: object, limit: int = 300) -> str:
    """`people_text` with the characters that mark up inside a line backslash-escaped."""
    return _MARKUP.sub(r"\\\1", people_text(text, limit))


def notify_title(found: Sequence[Finding]) -> str:
    highs = sum(f.severity == "high" for f in found)
    return f"WSO2 audit: {len(found)} new finding(s), {highs} high"


def notify_body(found: Sequence[Finding]) -> str:
    """The findings as Markdown, one paragraph each: severity, title and rule; summary; node, first time and id
    (every line starts with our own words)."""
    t = markdown_text
    lines = [f"{len(found)} new finding(s):"]
    for f in found[:MAX_LISTED]:
        when = f.first.isoformat() if f.first else "-"
        lines += ["", f"**{f.severity.upper()}** {t(f.title)} ({t(f.rule)})", f"Summary: {t(f.summary)}",
                  f"Node {t(f.node or '-')} · first {when} · id {t(f.id)}"]
    if len(found) > MAX_LISTED:
        lines += ["", f"... and {len(found) - MAX_LISTED} more: python -m audit_lib findings --store DIR"]
    return "\n".join(lines)


def send_notify(url: str, label: str, found: Sequence[Finding]) -> None:
    """One message listing `found` to the apprise `url`; NotifyError (naming `label`, not `url`) when not taken."""
    apprise = _apprise()
    sender = apprise.Apprise()
    if not sender.add(url):
        raise NotifyError(f"notify {label}: apprise cannot use this URL")
    kind = apprise.NotifyType.FAILURE if any(f.severity == "high" for f in found) else apprise.NotifyType.WARNING
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:
        ok = sender.notify(body=notify_body(found), title=notify_title(found), notify_type=kind,
                           body_format=apprise.NotifyFormat.MARKDOWN)
    if not ok:
        said = [line for line in log.getvalue().splitlines() if line.strip()]
        why = _scrub(said[-1] if said else "not delivered", url, label)
        raise NotifyError(f"notify {label}: {why}")


def _scrub(text: str, url: str, label: str) -> str:
    """One line of apprise's log without the URL or any long part of it (tokens, passwords, webhook ids)."""
    text = text.replace(url, label)
    host = urlsplit(url).hostname or ""
    for part in sorted(set(re.split(r"[/:@?&=#,;]+", url)), key=len, reverse=True):
        if len(part) >= 8 and part.lower() != host:
            text = text.replace(part, "****")
    return " ".join(text.split())[:300]
