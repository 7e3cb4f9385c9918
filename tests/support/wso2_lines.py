"""Audit lines written the way Micro Integrator, API Manager and Identity Server write them, and small log
folders made of them, for the session, rule and CLI tests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

import audit_lib

MONDAY = datetime(2026, 11, 2, 9, 0)  # a Monday, 09:00
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def stamp(t: datetime) -> str:
    """log4j2's default `%d`: 2026-11-02 09:00:00,000."""
    return f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d}"


def mi_change(t: datetime, user: str, action: str, type_: str, **info: object) -> str:
    """A management API change (AuditLogger): info is a JSON-encoded string inside the JSON object."""
    record = {"performedBy": user, "action": action, "type": type_, "info": json.dumps(info, separators=(",", ":"))}
    return f"[{stamp(t)}]  INFO {{AUDIT_LOG}} - {json.dumps(record, separators=(',', ':'), ensure_ascii=False)}"


def mi_sign(t: datetime, user: str, verb: str = "in") -> str:
    """An MI sign-in or sign-out; the inner time is java.util.Date.toString()."""
    return f"[{stamp(t)}]  INFO {{AUDIT_LOG}} - {user} logged {verb} at [{t:%a %b %d %H:%M:%S} UTC {t:%Y}]"


def apim_sign(t: datetime, user: str, verb: str = "in") -> str:
    return (f"TID: [-1234] [{stamp(t)}]  INFO {{AUDIT_LOG}} - '{user}@carbon.super [-1234]' logged {verb} at "
            f"[{stamp(t)}+0000] from IP address 10.0.0.7")


def apim_failed(t: datetime, user: str) -> str:
    return (f"TID: [-1234] [{stamp(t)}]  WARN {{AUDIT_LOG}} - Login failed. Unauthorized login attempt "
            f"'{user}[-1234]' at [{stamp(t)}+0000] from IP address 10.0.0.9")


def apim_change(t: datetime, user: str, action: str, typ: str = "API", **info: object) -> str:
    record = {"performedBy": user, "action": action, "typ": typ, "info": info}
    return f"TID: [-1234] [{stamp(t)}]  INFO {{AUDIT_LOG}} - {json.dumps(record, separators=(',', ':'))}"


def is_record(t: datetime, initiator: str, action: str, target: str, data: str = "{ Roles : }",
              result: str = "Success") -> str:
    """An Identity Server record in the pipe-separated form (trailing space included)."""
    return (f"TID: [-1234] [{stamp(t)}] [6d1f1c0e-5c3a-4f55-a1a1-0c2a43c5ae1f]  INFO {{AUDIT_LOG}} - "
            f"Initiator : {initiator} | Action : {action} | Target : {target} | Data : {data} | Result : {result} ")


def is_kv(t: datetime, initiator: str, action: str, target: str, data: dict, outcome: str = "Success") -> str:
    """An Identity Server 5.10+ user-management record (key=value with Outcome)."""
    return (f"TID: [-1234] [{stamp(t)}] [3f2c9a10-7b7e-4c55-9d1e-2a7c4b1e9f00]  INFO {{AUDIT_LOG}} - "
            f"Initiator={initiator} Action={action} Target={target} Data={json.dumps(data, separators=(',', ':'))} "
            f"Outcome={outcome}")


def is_login(t: datetime, initiator: str, result: str = "Success") -> str:
    return (f"TID: [-1234] [{stamp(t)}] [c0ffee00-1111-2222-3333-444455556666]  INFO {{AUDIT_LOG}} - "
            f"Initiator : {initiator} | Action : Login | Target : ApplicationAuthenticationFramework | "
            f'Data : {{ "ServiceProviderName" : "Console","StepNo" : "1" }} | Result : {result} ')


def write_node(root: Path, node: str, lines: list[str], name: str = "audit.log") -> Path:
    """`lines` as `<root>/<node>/repository/logs/<name>` (the layout the products ship)."""
    path = root / node / "repository" / "logs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load_nodes(root: Path, nodes: dict[str, list[str]], tz: str = "UTC") -> pl.DataFrame:
    """Write each node's lines under `root` and load them all: the events table."""
    for node, lines in nodes.items():
        write_node(root, node, lines)
    return audit_lib.load(root, tz=tz).events
