"""Retention actually at hand per node and archives that end at the size trigger, from the loader's
manifest."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import polars as pl

from audit_lib.checks.config_check.finding import ConfigFinding, finding
from audit_lib.checks.config_check.log4j import DEFAULT_SIZE_TRIGGER, Rollover
from audit_lib.checks.config_check.rules import AT_HAND_MONTHS

MANIFEST_COLUMNS = ("source", "node", "bytes", "compressed", "first", "last", "duplicate_of")
SIZE_SLACK_BELOW = 4 << 10  # an archive rolled by size ends just past the trigger; allow a little below it
SIZE_SLACK_ABOVE = 64 << 10  # and up to one long record (a stack trace) above it
_DAY_IN_NAME = r"(\d{2})-(\d{2})-(\d{4})"
_INDEXED_NAME = r"^audit-\d{2}-\d{2}-\d{4}[.-]\d+\.log"


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _check_manifest(files: pl.DataFrame) -> None:
    if not isinstance(files, pl.DataFrame):
        raise ValueError("coverage_findings needs the loader's manifest (AuditLog.files), a polars DataFrame")
    lacking = [c for c in MANIFEST_COLUMNS if c not in files.columns]
    if lacking:
        raise ValueError(f"The file manifest lacks the columns {', '.join(lacking)} (use AuditLog.files)")


def coverage_findings(files: pl.DataFrame, *, configs: Mapping[str, Rollover] | None = None,
                      as_of: date | datetime | None = None) -> list[ConfigFinding]:
    """Findings from the loader's manifest (`AuditLog.files`): `retention-below-12-months` per node whose
    loaded files do not reach back 12 months (or do not hold the last 3 months) before `as_of` (default: the
    node's last record), and `archive-at-size-limit` for archives that end at the size trigger (read from the
    node's config in `configs` when given, else the shipped 10MB; skipped for patterns with %i, where such
    archives are expected)."""
    _check_manifest(files)
    live = files.filter(pl.col("duplicate_of").is_null() & pl.col("first").is_not_null()).with_columns(
        pl.col("node").cast(pl.String), pl.col("source").cast(pl.String))
    if live.is_empty():
        return []
    return _retention_from_files(live, as_of) + _size_limit_findings(live, configs or {})


def _months_before(day: date, months: int) -> date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    last_day = [31, 29 if y % 4 == 0 and (y % 100 or y % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                31][m - 1]
    return date(y, m, min(day.day, last_day))


def _retention_from_files(live: pl.DataFrame, as_of: date | datetime | None) -> list[ConfigFinding]:
    per_node = (live.group_by("node").agg(
        first=pl.col("first").min(), last=pl.col("last").max(), files=pl.len(),
        days=pl.date_ranges(pl.col("first").dt.date(), pl.col("last").dt.date()).explode().n_unique())
        .sort("node"))
    fixed = as_of.date() if isinstance(as_of, datetime) else as_of
    findings = []
    for node, first, last, n_files, n_days in per_node.iter_rows():  # one row per node
        end = fixed or last.date()
        keep_from, hand_from = _months_before(end, 12), _months_before(end, AT_HAND_MONTHS)
        short: list[str] = []
        if first.date() > keep_from:
            short.append(f"12 months kept ({keep_from} to {end}): the files reach back to {first.date()} only, "
                         f"{_n((end - first.date()).days + 1, 'day')}")
        if first.date() > hand_from:
            short.append(f"the most recent {AT_HAND_MONTHS} months at hand ({hand_from} to {end}): the files "
                         f"cover {first.date()} to {last.date()}")
        if last.date() < end:
            short.append(f"records up to {end}: the files end on {last.date()}, "
                         f"{_n((end - last.date()).days, 'day')} before")
        if not short:
            continue
        meaning = ("PCI DSS 10.5.1 asks for 12 months of audit history kept and the most recent 3 months immediately "
                   "available. Short of it here: " + "; ".join(short) + ". This judges what was loaded: archives "
                   "kept elsewhere (a backup, a log server) count as well, load them to show it.")
        evidence = [f"{node}: {_n(n_files, 'file')}, records from {first:%Y-%m-%d %H:%M:%S} to "
                    f"{last:%Y-%m-%d %H:%M:%S}, {_n(n_days, 'calendar day')} inside the files' spans"]
        summary = (f"{node}: loaded audit files cover {first.date()} to {last.date()} "
                   f"({_n((last.date() - first.date()).days + 1, 'day')})")
        findings.append(finding("retention-below-12-months", node, node, summary, meaning, first=first, last=last,
                                 count=n_files, evidence=evidence))
    return findings


def _size_limit_findings(live: pl.DataFrame, configs: Mapping[str, Rollover]) -> list[ConfigFinding]:
    triggers = pl.DataFrame({"node": list(configs), "trigger": [c.size_trigger for c in configs.values()],
                             "indexed": [c.has_index for c in configs.values()],
                             "config": [c.source for c in configs.values()]},
                            schema={"node": pl.String, "trigger": pl.Int64, "indexed": pl.Boolean,
                                    "config": pl.String})
    name = pl.col("source").str.split("/").list.last()
    day_in_name = name.str.extract_groups(_DAY_IN_NAME)
    rows = (live.join(triggers, on="node", how="left")
            .with_columns(from_config=pl.col("config").is_not_null(),
                          trigger=pl.col("trigger").fill_null(DEFAULT_SIZE_TRIGGER),
                          indexed=pl.col("indexed").fill_null(name.str.contains(_INDEXED_NAME)),
                          day=pl.coalesce(pl.date(day_in_name.struct[2].cast(pl.Int32, strict=False),
                                                  day_in_name.struct[0].cast(pl.Int8, strict=False),
                                                  day_in_name.struct[1].cast(pl.Int8, strict=False)),
                                          pl.col("last").dt.date()))
            .with_columns(earliest_of_day=pl.col("first").min().over("node", pl.col("first").dt.date())))
    hits = rows.filter(~pl.col("compressed") & ~pl.col("indexed")
                       & pl.col("bytes").is_between(pl.col("trigger") - SIZE_SLACK_BELOW,
                                                    pl.col("trigger") + SIZE_SLACK_ABOVE)).sort("node", "day", "source")
    findings = []
    for node in hits["node"].unique(maintain_order=True).to_list():
        part = hits.filter(pl.col("node") == node)
        trigger = part["trigger"][0]
        origin = (f"the size trigger of {part['config'][0]}" if part["from_config"][0]
                  else "the shipped size trigger, 10MB,")
        evidence = []
        for row in part.iter_rows(named=True):  # only the flagged archives: a handful of rows
            earlier = ("; no loaded file holds that day's records before it"
                       if row["first"] == row["earliest_of_day"] and row["first"].time() > datetime.min.time() else "")
            evidence.append(f"{row['source']}: {row['bytes']:,} bytes ({row['bytes'] - trigger:+,} from the trigger), "
                            f"records {row['first']:%Y-%m-%d %H:%M:%S} to {row['last']:%H:%M:%S}{earlier}")
        days = part["day"].n_unique()
        meaning = (f"{_n(days, 'day')} of {node} ended in an archive within a few KB of "
                   f"{origin} ({trigger:,} bytes): that day rolled by size. With a file pattern without %i (the MI "
                   "and API-M default) every roll of the same day writes the same archive name, so the day's other "
                   "parts were likely overwritten and are missing from the audit trail.")
        summary = f"{node}: {_n(days, 'day')} ended in an archive at the {trigger:,}-byte size trigger"
        findings.append(finding("archive-at-size-limit", node, node, summary, meaning, first=part["first"].min(),
                                 last=part["last"].max(), count=part.height, evidence=evidence,
                                 source=part["config"][0] or ""))
    return findings
