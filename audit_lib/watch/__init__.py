"""Watching an estate: the estate file (`estate`), the cycle and its loop (`watcher`), the channels alerts go out
on (`channels`: an ECS or Slack webhook, syslog RFC 5424 with CEF or ECS JSON bodies over UDP, TCP or TLS, and
e-mail through SMTP with STARTTLS; `notify`: people's channels through apprise URLs)."""
