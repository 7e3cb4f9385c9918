"""Each node's `log4j2.properties`, kept by the ingest, so that a store raises the configuration findings the
folders raise (`audit_lib.checks.config_check`): the daily job reads the store, not the folders.

The ingest finds the files as the check finds them (`conf/log4j2.properties` of MI, `repository/conf/...` of API
Manager and Identity Server, by the loader's own discovery) and records a row in the `configs` table only when a
file's content changed since the last row of that node and file: the rows are the history of the configuration.
The chain entry lists the rows (without the text, with its SHA-256), so `verify` catches an altered row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

import polars as pl

from audit_lib.checks.config_check import (
    CONFIG_NAME,
    MAX_CONFIG_BYTES,
    ConfigFinding,
    Rollover,
    check,
    check_rule,
    config_node,
    coverage_findings,
    guess_product,
    missing_pci_fields,
    parse_properties,
    read_config,
)
from audit_lib.checks.finding import finding_id, sort_findings
from audit_lib.errors import SourceError
from audit_lib.intake.discover import discover
from audit_lib.intake.entries import Limits, Source
from audit_lib.intake.loader import AuditLog
from audit_lib.store import tables as T


def read_configs(paths: Source, roots: Sequence[Path] | None = None, limits: Limits | None = None) -> list[dict]:
    """The log4j2.properties of the nodes in `paths`, as rows of the configs table (less `seq`), by source."""
    entries, _ = discover(paths, roots=roots, limits=limits, wanted=lambda name: name == CONFIG_NAME,
                          required=False)
    rows = []
    for e in entries:
        parts = PurePosixPath(e.source).parts
        if len(parts) < 2 or parts[-2] != "conf":
            continue  # conf/deployment/..., a template's copy: not the node's config
        row = {"node": config_node(parts, e.node), "source": e.source, "product": None, "sha256": None,
               "bytes": e.size, "text": None, "error": None}
        if e.size > MAX_CONFIG_BYTES:
            row["error"] = f"larger than {MAX_CONFIG_BYTES:,} bytes: not read"
        else:
            try:
                data = e.read()
            except (OSError, EOFError, ValueError, SourceError) as exc:
                row["error"] = f"cannot read the file: {exc}"
            else:
                text = _decode(data)
                row.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), text=text,
                           product=guess_product(text, e.source))
        rows.append(row)
    return sorted(rows, key=lambda r: r["source"])


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # what java.util.Properties reads from a stream


def latest(stored: pl.DataFrame) -> pl.DataFrame:
    """The last row of each node's file."""
    return stored.sort("seq").group_by("node", "source", maintain_order=True).last().sort("source", "node")


def changed(found: list[dict], stored: pl.DataFrame, seq: int) -> list[dict]:
    """The rows to record: the files whose content (or read error) differs from the last row of that file."""
    last = {(n, s): (h, err) for n, s, h, err in latest(stored).select("node", "source", "sha256", "error").iter_rows()}
    return [{"seq": seq, **r} for r in found if last.get((r["node"], r["source"])) != (r["sha256"], r["error"])]


def entry_rows(rows: list[dict]) -> list[dict]:
    """What the chain entry lists of each row: all but the text, and the text's SHA-256 instead."""
    return [{**{k: v for k, v in r.items() if k != "text"}, "text_sha256": text_sha256(r["text"])} for r in rows]


def text_sha256(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def stored_configs(loc: T.Location, head: T.Head) -> pl.DataFrame:
    """The configs table at the version the store stands at (empty in a store made before the table existed)."""
    if T.table_version(loc, T.CONFIGS) is None:
        return T.empty(T.CONFIGS)
    with T.reading(loc):
        return T.read(loc, T.CONFIGS, head.version(T.CONFIGS))


def config_findings(loc: T.Location, head: T.Head, log: AuditLog, *,
                    as_of: date | datetime | None = None) -> list[ConfigFinding]:
    """`config_check.check_source` of a store: the checks of each node's last stored log4j2.properties, and the
    coverage (with the rollover each sets) and PCI fields of `log`."""
    findings: list[ConfigFinding] = []
    rollovers: dict[str, Rollover] = {}
    stored = stored_configs(loc, head)
    for node, source, product, text in latest(stored).filter(pl.col("error").is_null()).select(
            "node", "source", "product", "text").iter_rows():
        config = read_config(text, source)
        findings += check(config, node, product, source)
        roll = config.rollover()
        if roll is not None:
            rollovers[node] = roll
    findings += coverage_findings(log.files, configs=rollovers, as_of=as_of)
    findings += missing_pci_fields(log.events)
    findings += change_findings(stored, {e["seq"]: e["time"] for e in head.entries}, log.tz)
    return sort_findings(findings)


CHANGED = "config-changed"
MAX_SHOWN = 20  # changed properties listed in a finding's evidence


def change_findings(stored: pl.DataFrame, times: dict[int, str], tz: str = "UTC") -> list[ConfigFinding]:
    """A `config-changed` finding for each stored log4j2.properties that differs from the one kept before it of
    the same node and file: the properties added, removed or changed; high when the audit logger's writing to
    audit.log stopped or came back (`audit-logger-missing` raised of one copy and not of the other), low when no
    property did."""
    rule = check_rule(CHANGED)
    out = []
    for (node, source), rows in stored.sort("seq").group_by("node", "source", maintain_order=True):
        kept = [r for r in rows.iter_rows(named=True) if r["error"] is None]
        for before, after in zip(kept, kept[1:], strict=False):
            old, new = parse_properties(before["text"]), parse_properties(after["text"])
            diff = [f"{source}:{new[k].line}: {new[k].text}" if k in new else f"removed: {old[k].text}"
                    for k in sorted(set(old) | set(new), key=lambda k: new[k].line if k in new else 0)
                    if (old[k].value if k in old else None) != (new[k].value if k in new else None)]
            was, now = (_audit_off(r["text"], str(node), r["product"], str(source)) for r in (before, after))
            if was == now and not diff:
                what, severity = "no property changed (only comments, blank lines or the layout of the file)", "low"
            elif was == now:
                what, severity = f"{len(diff):,} propert{'y' if len(diff) == 1 else 'ies'} changed", None
            else:
                what = "the audit logger stopped writing to audit.log" if now else (
                    "the audit logger writes to audit.log again: it did not between the two ingests")
                severity = "high"
            when = datetime.fromisoformat(times[after["seq"]]).astimezone(ZoneInfo(tz)) \
                if after["seq"] in times else None
            summary = f"{node}: {source} changed between ingest {before['seq']} and {after['seq']}: {what}"
            meaning = (f"The copy of {source} kept by ingest {after['seq']} (SHA-256 {after['sha256']}) differs from "
                       f"the one kept by ingest {before['seq']} (SHA-256 {before['sha256']}): {what}. {rule.meaning}")
            evidence = diff[:MAX_SHOWN] + ([f"… and {len(diff) - MAX_SHOWN:,} more"] if len(diff) > MAX_SHOWN else [])
            out.append(ConfigFinding(
                id=finding_id(CHANGED, node, source, before["sha256"], after["sha256"]), rule=CHANGED,
                title=rule.title, severity=severity or rule.severity, meaning=meaning, references=rule.references,
                node=str(node), first=when, last=when, count=1, subject=str(source), summary=summary,
                evidence=tuple(evidence), source=str(source)))
    return out


def _audit_off(text: str, node: str, product: str | None, source: str) -> bool:
    return any(f.rule == "audit-logger-missing" for f in check(read_config(text, source), node, product, source))
