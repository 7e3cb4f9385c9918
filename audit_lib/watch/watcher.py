"""One watch cycle, and the loop around it: ingest every source of the estate (folders and running MI nodes) into
the store, evaluate the rules over the lookback (so each rule sees its window, its baseline and the sessions open
before the new lines), and deliver each finding not yet delivered on a channel. Deliveries are recorded in the
store, in the chain (`store.deliveries`): a finding goes out once per channel across restarts, a failed delivery
is tried again next cycle and never dropped, and a finding that grows (more events, same id) is not sent again.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from audit_lib.analysis.filters import Filters, known_nodes
from audit_lib.checks import config_check
from audit_lib.checks.finding import Finding, at_least
from audit_lib.checks.findings import findings
from audit_lib.checks.rule import Settings, load_rules
from audit_lib.errors import AuditLibError
from audit_lib.intake.mi import NodeFetch, fetch_node
from audit_lib.store import Store, ingest
from audit_lib.store.deliveries import delivered, record_deliveries, stored_rotations
from audit_lib.store.rewrites import rewrite_findings, rewritten_sources
from audit_lib.store.status import record_sources
from audit_lib.watch.channels import DeliveryError, send_email, send_syslog, send_webhook
from audit_lib.watch.estate import Alert, Estate
from audit_lib.watch.notify import send_notify


@dataclass
class CycleResult:
    """What one cycle did: what was fetched and ingested, the findings, and each channel's deliveries."""

    started: str
    fetched: list[NodeFetch] = field(default_factory=list)
    ingest: dict | None = None
    findings: int = 0
    sent: dict[str, list[str]] = field(default_factory=dict)  # channel -> finding ids delivered now
    failed: dict[str, list[str]] = field(default_factory=dict)  # channel -> one line per failed delivery
    errors: list[str] = field(default_factory=list)  # sources that could not be read

    @property
    def ok(self) -> bool:
        return not self.errors and not any(self.failed.values()) and all(f.ok for f in self.fetched)

    def as_dict(self) -> dict:
        return {"started": self.started, "ok": self.ok, "ingest": self.ingest, "findings": self.findings,
                "sent": self.sent, "failed": self.failed, "errors": self.errors,
                "remote": [f.as_dict() for f in self.fetched]}


def _deliver(alert: Alert, pending: list[Finding]) -> tuple[list[str], list[tuple[str, str]]]:
    """(ids delivered, [(id, error)]) for one channel."""
    o = alert.options
    ok: list[str] = []
    bad: list[tuple[str, str]] = []
    if alert.kind == "notify":  # one message listing them, to one apprise URL
        if pending:
            try:
                send_notify(o["url"], alert.target, pending)
                ok = [f.id for f in pending]
            except AuditLibError as exc:
                bad = [(f.id, str(exc)) for f in pending]
        return ok, bad
    if alert.kind == "email":
        if pending:
            try:
                send_email(o["smtp"], alert.target, pending, sender=o.get("sender", "wso2-audit@localhost"),
                           user=o.get("user"), password=o.get("password"), starttls=o.get("starttls", True),
                           ca_file=o.get("ca_file"), insecure=o.get("insecure", False))
                ok = [f.id for f in pending]
            except DeliveryError as exc:
                bad = [(f.id, str(exc)) for f in pending]
        return ok, bad
    for f in pending:
        try:
            if alert.kind == "webhook":
                send_webhook(alert.target, f, slack=o.get("slack", False), ca_file=o.get("ca_file"),
                             insecure=o.get("insecure", False))
            else:
                send_syslog(alert.target, f, body=o.get("format", "cef"), ca_file=o.get("ca_file"),
                            insecure=o.get("insecure", False))
            ok.append(f.id)
        except DeliveryError as exc:
            bad.append((f.id, str(exc)))
    return ok, bad


def _ingest(estate: Estate, result: CycleResult) -> list[str]:
    """Fetch every node and ingest what every source brought as one commit, then record per source (folder or
    node) its outcome in the store's status record: a folder gone or a node that fails is its own error, and
    the other sources still go in. Returns the folders that were there."""
    outcomes: dict[str, tuple[str, str | None]] = {}
    paths = []
    for path in estate.paths:
        if "://" not in path and not os.path.exists(path):
            outcomes[path] = ("path", f"{path}: no such file or folder")
            result.errors.append(outcomes[path][1] or "")
        else:
            paths.append(path)
            outcomes[path] = ("path", None)
    uploads = []
    for node in estate.nodes:
        got = fetch_node(node, skip=stored_rotations(estate.store, node.name).__contains__)
        result.fetched.append(got)
        uploads += got.uploads()
        outcomes[node.name] = ("mi", got.errors[0] if got.errors else None)
    sources = [*paths, *uploads]
    try:
        result.ingest = ingest(sources, estate.store, estate.tz).as_dict() if sources else None
    except AuditLibError as exc:  # nothing went in: every source that was read shares the error
        result.errors.append(str(exc))
        outcomes = {k: (kind, err or str(exc)) for k, (kind, err) in outcomes.items()}
    try:
        record_sources(estate.store, [(name, kind, err) for name, (kind, err) in outcomes.items()])
    except AuditLibError as exc:
        result.errors.append(str(exc))
    return paths


def run_cycle(estate: Estate, *, now: datetime | None = None) -> CycleResult:
    """Ingest, evaluate, deliver (see the module docstring)."""
    now = now or datetime.now(UTC)
    result = CycleResult(now.isoformat(timespec="seconds"))
    paths = _ingest(estate, result)
    try:
        st = Store(estate.store)
    except AuditLibError as exc:
        result.errors.append(str(exc))
        return result
    start = now - estate.lookback
    events = st.scan(start=start).collect()
    # every node the store ever had is judged for silence over the lookback (from its first event in it, if later)
    nodes = known_nodes(st.file_rows(), Filters(start=start))
    first = events["timestamp"].min() if events.height else None
    span = (max(start, first) if first is not None else start, now)
    found = findings(events, load_rules(), Settings(tz=st.tz), nodes=nodes, span=span)
    found += rewrite_findings(rewritten_sources(st.loc, st.head), st.tz)  # a source changed on disk
    try:
        configs = config_check.check_source(paths) if paths else []
    except AuditLibError as exc:  # a folder that went away since
        configs = []
        result.errors.append(str(exc))
    found += [f for f in configs if f.id not in {g.id for g in found}]
    result.findings = len(found)
    done = delivered(estate.store)
    rows = []
    for alert in estate.alerts:
        pending = [f for f in at_least(found, alert.min_severity) if (alert.channel, f.id) not in done]
        ok, bad = _deliver(alert, pending)
        result.sent[alert.channel], result.failed[alert.channel] = ok, [e for _, e in bad]
        by_id = {f.id: f for f in pending}
        rows += [{"channel": alert.channel, "finding": i, "rule": by_id[i].rule, "severity": by_id[i].severity,
                  "delivered": True, "error": None} for i in ok]
        rows += [{"channel": alert.channel, "finding": i, "rule": by_id[i].rule, "severity": by_id[i].severity,
                  "delivered": False, "error": e} for i, e in bad]
    if rows:
        record_deliveries(estate.store, rows, now)
    return result


def watch(estate: Estate, report: Callable[[CycleResult], None], *, once: bool = False,
          stop: threading.Event | None = None) -> int:
    """Cycles every `estate.interval` until SIGTERM or SIGINT (or `stop`); with `once`, one cycle. Returns 0 when
    the last cycle was clean, 6 when something failed (a source, a fetch or a delivery)."""
    stop = stop or threading.Event()
    if not once and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    while True:
        result = run_cycle(estate)
        report(result)
        if once or stop.wait(estate.interval.total_seconds()):
            return 0 if result.ok else 6
