"""A rewritten source: a growing `audit.log` whose first bytes, stored by an earlier ingest, no longer hash as
stored, and whose stored part no file given continues (no rotated archive starts with it).

Such a file is either a new `audit.log` after a rotation whose archive was not given (its lines all come after the
stored ones), or the stored file changed on disk. `examine` tells them apart by parsing the file
and setting it against the stored events of that file: when a line is still the same event, or a line is older than
the newest stored one, the file was rewritten. The stored part ends after the newest stored event where the file
still holds it (an edit that made a line longer or shorter moves no boundary), else after as many lines as were
stored; the ingest adds only what follows (the old lines are never stored twice) and records the rewrite in its
chain entry; `rewritten_sources` lists them and `rewrite_findings` makes them `source-rewritten` findings.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl

from audit_lib.checks.config_check import check_rule
from audit_lib.checks.finding import Finding, finding_id
from audit_lib.intake.entries import Limits
from audit_lib.store import tables as T
from audit_lib.store.parsing import Part, parse_group
from audit_lib.store.scan import line_offset, slice_opener

RULE = "source-rewritten"
COMPARED = ["line", "timestamp", "user", "action", "artifact_type", "artifact", "outcome", "details"]
MAX_LINES = 50  # changed line numbers kept in a record (the count is always whole)


def examine(loc: T.Location, head: T.Head, part: Part, stored: dict, tz: str, limits: Limits) -> dict | None:
    """The rewrite record of `part` (a file classed as new, whose name and node are those of the stored growing
    file `stored`, a streams row), or None when it is a new file after all. The record says where the ingest goes
    on (`start`, `line_start`) and which lines differ."""
    e, sc = part.entry, part.scan
    whole = replace(e, source=stored["stream"], size=sc.cut, path=None, opener=slice_opener(e, 0, sc.cut, limits))
    parsed = parse_group([whole], [0], tz, limits)
    now = parsed.events.select(COMPARED)
    with T.reading(loc):
        before = pl.scan_delta(loc.table(T.EVENTS), version=head.version(T.EVENTS), storage_options=loc.options) \
            .filter(pl.col("node") == e.node, pl.col("source") == stored["stream"]).select(COMPARED).collect()
    before = before.select([pl.col(c).cast(T.EVENTS_SCHEMA[c]) for c in COMPARED])
    same = before.join(now, on=COMPARED, how="semi", nulls_equal=True)
    older = bool(now.height and before.height and now["timestamp"].min() < before["timestamp"].max())
    if same.height == 0 and not older:
        return None  # only newer lines: audit.log started again after a rotation
    stored_lines = int(stored["lines"])
    boundary = _boundary(before, now, stored_lines)
    start = line_offset(e, boundary, limits)
    if start is None or start > sc.cut:
        start, boundary = sc.cut, int(parsed.files["lines"].sum()) if parsed.files.height else 0
    now = now.filter(pl.col("line") <= boundary)
    gone = before.join(now, on=COMPARED, how="anti", nulls_equal=True)["line"]
    added = now.join(before, on=COMPARED, how="anti", nulls_equal=True)["line"]
    changed = sorted(set(gone.to_list()) | set(added.to_list()))
    return {"source": e.source, "node": e.node, "stream": stored["stream"], "stored_seq": int(stored["seq"]),
            "stored_bytes": int(stored["end"]), "stored_lines": stored_lines,
            "stored_sha256": stored["prefix_sha256"], "sha256": sc.sha256, "bytes": sc.content_bytes,
            "changed": len(changed), "changed_lines": changed[:MAX_LINES], "start": start, "end": sc.cut,
            "line_start": boundary, "events_added": 0}


def _boundary(before: pl.DataFrame, now: pl.DataFrame, stored_lines: int) -> int:
    """The line of the file now where the stored part ends: after the newest stored event, where the file still
    holds it (and the lines attached to it), else after as many lines as were stored."""
    if before.is_empty():
        return stored_lines
    last = before.sort("line").tail(1)
    fields = [c for c in COMPARED if c != "line"]
    match = now.join(last.drop("line"), on=fields, how="semi", nulls_equal=True)
    if match.is_empty():
        return stored_lines
    return int(match["line"].max()) + stored_lines - int(last["line"].item())


def rewritten_part(part: Part, record: dict) -> Part:
    """The part that adds what follows the rewritten file's first part, to the stored file's events."""
    return replace(part, kind="rewritten", stream=record["stream"], start=record["start"], end=part.scan.cut,
                   line_start=record["line_start"], prefix_sha256=part.scan.cut_sha256)


def rewritten_sources(store: T.Location | str, head: T.Head | None = None) -> list[dict]:
    """Every rewrite the ingests found, oldest first: its record, with the `seq` and `time` of its entry."""
    loc = T.Location.of(store)
    if head is None:
        if T.table_version(loc, T.CHAIN) is None:
            return []
        head = T.head(loc)
    return [{**r, "seq": e["seq"], "time": e["time"]} for e in head.entries for r in e.get("rewritten", [])]


def describe(r: dict, max_lines: int = MAX_LINES) -> tuple[str, str]:
    """What differs in a rewrite record ("3 of its 32 stored lines differ (lines 1, 2, 5)") and what the ingest
    added after the stored part."""
    if r["changed"]:
        shown = r["changed_lines"][:max_lines]
        more = " …" if r["changed"] > len(shown) else ""
        what = (f"{r['changed']:,} of its {r['stored_lines']:,} stored lines differ "
                f"({'lines' if r['changed'] > 1 else 'line'} {', '.join(map(str, shown))}{more})")
    else:
        what = "no stored event differs (the bytes changed in lines that are not events)"
    n = r["events_added"]
    added = (f"only the lines after them were added ({n:,} event{'s' if n != 1 else ''}, from line "
             f"{r['line_start'] + 1:,})" if r["start"] < r["end"] else "nothing after them was added")
    return what, added


def rewrite_findings(records: list[dict], tz: str = "UTC") -> list[Finding]:
    """One `source-rewritten` finding per rewrite (see `rewritten_sources`), dated when the ingest found it."""
    rule = check_rule(RULE)
    out = []
    for r in records:
        when = datetime.fromisoformat(r["time"]).astimezone(ZoneInfo(tz))
        what, added = describe(r)
        meaning = (f"Ingest {r['seq']} ({r['time']}) found that the first {r['stored_bytes']:,} bytes of "
                   f"{r['source']} ({r['node']}), {r['stored_lines']:,} lines stored up to ingest {r['stored_seq']}, "
                   f"no longer hash as stored: {what}; {added}. The store keeps the lines as first read. "
                   f"{rule.meaning}")
        evidence = [f"chain entry {r['seq']}: {r['source']} ({r['node']}) now {r['bytes']:,} bytes, "
                    f"SHA-256 {r['sha256']}",
                    f"stored part: {r['stored_bytes']:,} bytes, {r['stored_lines']:,} lines, SHA-256 "
                    f"{r['stored_sha256']} (ingest {r['stored_seq']})"]
        if r["changed_lines"]:
            evidence.append(f"lines that differ from the stored events: {', '.join(map(str, r['changed_lines']))}")
        out.append(Finding(id=finding_id(RULE, r["node"], r["source"], r["seq"]), rule=RULE, title=rule.title,
                           severity=rule.severity, meaning=meaning, references=rule.references, node=r["node"],
                           first=when, last=when, count=1, subject=r["source"],
                           summary=f"{r['node']}: {r['source']} was rewritten on disk after it was ingested: "
                                   f"{what.split(' (')[0]}",
                           evidence=tuple(evidence)))
    return out
