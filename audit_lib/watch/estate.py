"""The estate file a watcher runs from (TOML): the store, the zone, how often, which sources to ingest (folders
and running MI nodes) and where alerts go. Read whole and checked before anything runs: an unknown key or a bad
value is an `EstateError` naming the key; secrets are never in the file, only the names of the environment
variables that hold them, and those must be set. Relative paths are read from the estate file's folder.

    store = "/var/lib/wso2-audit/store"
    tz = "Asia/Colombo"
    interval = "5m"                    # ignored with --once
    lookback = "35d"                   # events the rules see each cycle (their windows and baselines fit in it)
    [[source]]
    path = "/mnt/mi1/repository/logs"
    [[source]]
    mi = "https://mi2.example:9164"
    node = "mi2"
    user_env = "MI2_USER"
    password_env = "MI2_PASSWORD"
    ca_file = "/etc/wso2-audit/mi2.pem"
    [[alert]]
    webhook = "https://hooks.example/T000/B000"
    min_severity = "high"
    [[alert]]
    syslog = "udp://127.0.0.1:514"     # also tcp:// and tls://
    format = "cef"                     # or "json" (ECS)
    [[alert]]
    email = "secops@example.com"
    smtp = "smtp.example:587"          # STARTTLS; user/password from user_env / password_env
    [[alert]]
    notify = ["mmosts://chat.example/hook-id"]   # apprise URLs: Slack, Teams, Mattermost, Telegram, ...
    notify_env = ["SECOPS_SLACK_URL"]            # URLs with tokens: from environment variables
    min_severity = "medium"

A notify alert is one channel per URL (named `notify:` and the URL with its secrets masked, or `notify:$VAR`), so
each target is delivered to, recorded and retried on its own; each URL is checked by apprise at load.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from audit_lib.analysis.sessions import parse_duration
from audit_lib.checks.rule import SEVERITIES
from audit_lib.errors import AuditLibError
from audit_lib.events.zones import is_zone
from audit_lib.intake.mi import MiNode
from audit_lib.watch.notify import NotifyError, notify_label

TOP = {"store", "tz", "interval", "lookback", "source", "alert"}
SOURCE_KEYS = {"path": {"path", "node"},
               "mi": {"mi", "node", "user_env", "password_env", "ca_file", "insecure", "timeout"}}
ALERT_KEYS = {"webhook": {"webhook", "slack", "min_severity", "ca_file", "insecure", "name"},
              "syslog": {"syslog", "format", "min_severity", "ca_file", "insecure", "name"},
              "email": {"email", "smtp", "sender", "user_env", "password_env", "starttls", "min_severity",
                        "ca_file", "insecure", "name"},
              "notify": {"notify", "notify_env", "min_severity", "name"}}


class EstateError(AuditLibError):
    """An estate file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Alert:
    """One channel: its kind (webhook, syslog, email, notify), target (for notify: the URL with its secrets
    masked, or `$VAR`; the URL itself is `options["url"]`), options and the lowest severity sent."""

    kind: str
    target: str
    min_severity: str = "high"
    options: dict[str, Any] = field(default_factory=dict)
    name: str = ""

    @property
    def channel(self) -> str:
        """The channel's stable name, under which its deliveries are recorded."""
        return self.name or f"{self.kind}:{self.target}"


@dataclass(frozen=True)
class Estate:
    store: str
    tz: str | None = None
    interval: timedelta = timedelta(minutes=5)
    lookback: timedelta = timedelta(days=35)
    paths: tuple[str, ...] = ()
    nodes: tuple[MiNode, ...] = ()
    alerts: tuple[Alert, ...] = ()
    file: str = ""


def _env(where: str, key: str, spec: dict) -> str | None:
    name = spec.get(key)
    if name is None:
        return None
    if not isinstance(name, str) or not name:
        raise EstateError(f"{where}.{key}: the name of an environment variable")
    value = os.environ.get(name)
    if value is None:
        raise EstateError(f"{where}.{key}: the environment variable {name} is not set")
    return value


def _duration(where: str, value: Any) -> timedelta:
    try:
        d = parse_duration(value)
    except (TypeError, ValueError):
        raise EstateError(f"{where}: a duration such as 5m, 1h or 35d, not {value!r}") from None
    if d <= timedelta(0):
        raise EstateError(f"{where}: must be longer than zero")
    return d


def _kind(where: str, spec: Any, kinds: dict[str, set[str]]) -> str:
    if not isinstance(spec, dict):
        raise EstateError(f"{where}: a table")
    found = [k for k in kinds if k in spec or (k == "notify" and "notify_env" in spec)]
    if len(found) != 1:
        raise EstateError(f"{where}: give exactly one of {', '.join(kinds)}")
    kind = found[0]
    unknown = sorted(set(spec) - kinds[kind])
    if unknown:
        raise EstateError(f"{where}.{unknown[0]}: unknown key (a {kind} takes {', '.join(sorted(kinds[kind]))})")
    if kind != "notify" and (not isinstance(spec[kind], str | list) or not spec[kind]):
        raise EstateError(f"{where}.{kind}: a non-empty text")
    for flag in ("insecure", "slack", "starttls"):
        if flag in spec and not isinstance(spec[flag], bool):
            raise EstateError(f"{where}.{flag}: true or false")
    return kind


def _source(where: str, spec: dict, kind: str) -> str | MiNode:
    if kind == "path":
        return str(spec["path"])
    if "user_env" not in spec or "password_env" not in spec:
        raise EstateError(f"{where}: a node needs user_env and password_env (names of environment variables)")
    timeout = spec.get("timeout", 30)
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise EstateError(f"{where}.timeout: seconds, more than zero")
    return MiNode(str(spec["mi"]), node=str(spec.get("node", "")), user=_env(where, "user_env", spec) or "",
                  password=_env(where, "password_env", spec) or "", ca_file=spec.get("ca_file"),
                  insecure=bool(spec.get("insecure", False)), timeout=float(timeout))


def _alert(where: str, spec: dict, kind: str) -> Alert:
    severity = spec.get("min_severity", "high")
    if severity not in SEVERITIES:
        raise EstateError(f"{where}.min_severity: one of {', '.join(SEVERITIES)}, not {severity!r}")
    options = {k: v for k, v in spec.items() if k not in (kind, "min_severity", "name", "user_env", "password_env")}
    if kind == "syslog" and options.get("format", "cef") not in ("cef", "json"):
        raise EstateError(f"{where}.format: cef or json, not {options['format']!r}")
    if kind == "email":
        if "smtp" not in spec:
            raise EstateError(f"{where}: an e-mail alert needs smtp = \"host:port\"")
        options["user"] = _env(where, "user_env", spec)
        options["password"] = _env(where, "password_env", spec)
    targets = spec[kind]
    target = ",".join(targets) if isinstance(targets, list) else targets
    return Alert(kind, target, severity, options, str(spec.get("name", "")))


def _texts(where: str, value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(x, str) and x.strip() for x in items):
        raise EstateError(f"{where}: a list of non-empty texts")
    return [x.strip() for x in items]


def _notify(where: str, spec: dict) -> list[Alert]:
    """One Alert per apprise URL: inline (`notify`) or from environment variables (`notify_env`)."""
    severity = spec.get("min_severity", "high")
    if severity not in SEVERITIES:
        raise EstateError(f"{where}.min_severity: one of {', '.join(SEVERITIES)}, not {severity!r}")
    targets: list[tuple[str, str]] = []  # (label, url)
    try:
        for i, url in enumerate(_texts(f"{where}.notify", spec.get("notify", [])), 1):
            label = notify_label(url)
            if label is None:
                scheme = url.split("://", 1)[0] if "://" in url else url[:20]
                raise EstateError(f"{where}.notify[{i}]: not a URL apprise can use (scheme {scheme!r}; see apprise's "
                                  "list of services)")
            targets.append((label, url))
        for i, name in enumerate(_texts(f"{where}.notify_env", spec.get("notify_env", [])), 1):
            url = os.environ.get(name)
            if url is None:
                raise EstateError(f"{where}.notify_env[{i}]: the environment variable {name} is not set")
            if notify_label(url.strip()) is None:
                raise EstateError(f"{where}.notify_env[{i}]: {name} holds no URL apprise can use")
            targets.append((f"${name}", url.strip()))
    except NotifyError as exc:
        raise EstateError(f"{where}: {exc}") from None
    if not targets:
        raise EstateError(f"{where}.notify: at least one apprise URL (notify or notify_env)")
    name = str(spec.get("name", ""))
    return [Alert("notify", label, severity, {"url": url}, f"{name}:{label}" if name else "")
            for label, url in targets]


def load_estate(path: str | os.PathLike) -> Estate:
    """The estate file read and checked whole (see the module docstring)."""
    p = Path(path)
    try:
        spec = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EstateError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise EstateError(f"{p}: not valid TOML ({exc})") from None
    unknown = sorted(set(spec) - TOP)
    if unknown:
        raise EstateError(f"{p}: {unknown[0]}: unknown key (use {', '.join(sorted(TOP))})")
    if not isinstance(spec.get("store"), str) or not spec["store"]:
        raise EstateError(f"{p}: store: the event store's folder (or object-storage URL) is required")
    tz = spec.get("tz")
    if tz is not None and (not isinstance(tz, str) or not is_zone(tz)):
        raise EstateError(f"{p}: tz: an IANA zone such as UTC or Asia/Colombo, not {tz!r}")
    paths: list[str] = []
    nodes: list[MiNode] = []
    for i, item in enumerate(spec.get("source", [])):
        where = f"{p}: source[{i + 1}]"
        got = _source(where, item, _kind(where, item, SOURCE_KEYS))
        (paths if isinstance(got, str) else nodes).append(got)
    if not paths and not nodes:
        raise EstateError(f"{p}: source: at least one [[source]] with path or mi")
    names = [n.name for n in nodes]
    if len(set(names)) != len(names):
        raise EstateError(f"{p}: source: two nodes are named {next(n for n in names if names.count(n) > 1)!r}")
    alerts = []
    for i, item in enumerate(spec.get("alert", [])):
        where = f"{p}: alert[{i + 1}]"
        kind = _kind(where, item, ALERT_KEYS)
        if kind == "notify":
            alerts += _notify(where, item)
        else:
            alerts.append(_alert(where, item, kind))
    channels = [a.channel for a in alerts]
    if len(set(channels)) != len(channels):
        raise EstateError(f"{p}: alert: two alerts go to the same channel; give one a name")
    here = p.parent

    def near(path: str) -> str:  # relative paths are read from the estate file's folder
        return path if "://" in path or Path(path).is_absolute() else str(here / path)

    paths = [near(x) for x in paths]
    nodes = [replace(n, ca_file=near(n.ca_file)) if n.ca_file else n for n in nodes]
    return Estate(near(spec["store"]), tz, _duration(f"{p}: interval", spec.get("interval", "5m")),
                  _duration(f"{p}: lookback", spec.get("lookback", "35d")), tuple(paths), tuple(nodes),
                  tuple(alerts), str(p))
