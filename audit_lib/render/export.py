"""Exports of an events table: CSV (spreadsheet-safe), JSON Lines and Parquet, as bytes or files.

Every canonical column is kept, in order. In CSV and JSON Lines times are ISO 8601 with their offset
(``2026-11-03T14:05:09.123+05:30``); Parquet keeps the native time-zone-aware timestamp. The CSV is
deterministic: the same events give the same bytes, so its SHA-256 can be quoted in a report.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from audit_lib.analysis.filters import Filters
from audit_lib.events.schema import EVENT_COLUMNS
from audit_lib.events.zones import extreme

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.3f%:z"
# A cell a spreadsheet program may run as a formula (OWASP "CSV injection"): one starting with = + - @ (or
# their fullwidth and small forms, which some programs fold to ASCII), also after leading whitespace or
# invisible format characters (zero-width space, BOM, ...), and any cell starting with a tab, CR or LF.
FORMULA_CHARS = "=+\\-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b\u2212"
FORMULA_START = rf"^(?:[\s\p{{Cf}}\u3164\u115f\u1160\uffa0]*[{FORMULA_CHARS}]|[\t\r\n])"
FORMATS = ("csv", "jsonl", "parquet")


def _text_columns(events: pl.DataFrame) -> pl.DataFrame:
    """Canonical columns in order; categoricals as plain text and the timestamp as ISO 8601 text."""
    exprs = []
    for name in EVENT_COLUMNS:
        col = pl.col(name)
        if name == "timestamp":
            exprs.append(col.dt.to_string(ISO_FORMAT))
        elif name == "line":
            exprs.append(col)
        else:
            exprs.append(col.cast(pl.String))
    return events.select(exprs)


def neutralise(column: str) -> pl.Expr:
    """`column` with a leading apostrophe added to every value a spreadsheet would run as a formula."""
    col = pl.col(column)
    return pl.when(col.str.contains(FORMULA_START)).then(pl.lit("'") + col).otherwise(col).alias(column)


def csv_frame(events: pl.DataFrame) -> pl.DataFrame:
    """The table exactly as written to CSV: ISO times, text columns neutralised against formula injection.
    A categorical column is checked on its distinct values and rewritten only when one of them is risky."""
    exprs = []
    for name in EVENT_COLUMNS:
        if name == "timestamp":
            exprs.append(pl.col(name).dt.to_string(ISO_FORMAT))
        elif events.schema[name] not in (pl.String, pl.Categorical):  # numbers and flags carry no formula
            exprs.append(pl.col(name))
        elif events.schema[name] == pl.Categorical:
            values = events[name].unique().cast(pl.String).drop_nulls()
            risky = values.filter(values.str.contains(FORMULA_START))
            exprs.append(pl.col(name).cast(pl.String).replace(risky, "'" + risky) if risky.len() else pl.col(name))
        else:
            exprs.append(neutralise(name))
    return events.select(exprs)


def to_csv_bytes(events: pl.DataFrame) -> bytes:
    """UTF-8 CSV of `events`: header, every canonical column, "\\n" line ends, same input -> same bytes."""
    buf = io.BytesIO()
    csv_frame(events).write_csv(buf, line_terminator="\n", quote_style="necessary")
    return buf.getvalue()


def to_jsonl_bytes(events: pl.DataFrame) -> bytes:
    """JSON Lines of `events`, one object per event with every canonical column (null kept)."""
    buf = io.BytesIO()
    _text_columns(events).write_ndjson(buf)
    return buf.getvalue()


def to_parquet_bytes(events: pl.DataFrame) -> bytes:
    """Parquet of `events` with native types (aware timestamp, UInt32 line); categoricals stored as text."""
    buf = io.BytesIO()
    frame = events.select(EVENT_COLUMNS).with_columns(
        [pl.col(c).cast(pl.String) for c in EVENT_COLUMNS if events.schema[c] == pl.Categorical])
    frame.write_parquet(buf, compression="zstd", statistics=False)
    return buf.getvalue()


EXPORTERS = {"csv": to_csv_bytes, "jsonl": to_jsonl_bytes, "parquet": to_parquet_bytes}
MIME = {"csv": "text/csv", "jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet",
        "pdf": "application/pdf"}


def export_bytes(events: pl.DataFrame, fmt: str) -> bytes:
    """`events` in one of FORMATS ("csv", "jsonl", "parquet")."""
    try:
        return EXPORTERS[fmt](events)
    except KeyError:
        raise ValueError(f"Unknown export format {fmt!r}; use one of {', '.join(FORMATS)}") from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_export(events: pl.DataFrame, fmt: str, path: str | Path) -> str:
    """Write `events` as `fmt` to `path`; return the SHA-256 of the bytes written."""
    data = export_bytes(events, fmt)
    Path(path).write_bytes(data)
    return sha256_hex(data)


def _slug(text: str) -> str:
    return re.sub(r"[^\w.@-]+", "-", text, flags=re.UNICODE).strip("-")[:40]


def scope_name(filters: Filters, tz: str, events: pl.DataFrame | None = None, prefix: str = "audit") -> str:
    """A file name stem naming the scope, e.g. "audit_2026-11-01_2026-11-07_user-admin".

    Without a start or end in `filters`, the first/last event of `events` (when given) names the range.
    """
    zone = ZoneInfo(tz)

    def day(value: datetime | None) -> str | None:
        if not value:
            return None
        with contextlib.suppress(OverflowError):  # past the year 9999 in `tz`: its own date
            value = value.astimezone(zone)
        return f"{value.year:04d}-{value:%m-%d}"

    first = last = None
    if events is not None and events.height:
        first, last = extreme(events["timestamp"], "min"), extreme(events["timestamp"], "max")
    start = day(filters.start) or day(first) or "start"
    if filters.end is not None:  # the end is exclusive: midnight ends the previous day
        try:
            end = day(filters.end - timedelta(microseconds=1))
        except OverflowError:
            end = day(filters.end)
    else:
        end = day(last) or "end"
    parts = [prefix, start if start == end else f"{start}_{end}"]
    for label, values in [("user", filters.users), ("action", filters.actions), ("type", filters.artifact_types),
                          ("node", filters.nodes), ("product", filters.products), ("outcome", filters.outcomes)]:
        if values:
            parts.append(_slug(f"{label}-{'-'.join(values[:2])}" + ("-etc" if len(values) > 2 else "")))
    if filters.text.strip():
        parts.append(_slug(f"text-{filters.text.strip()}"))
    return "_".join(p for p in parts if p)
