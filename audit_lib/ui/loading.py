"""Cached loading: one AuditLog per (source fingerprint, time zone), kept with st.cache_resource.

cache_resource hands back the same object on every rerun (free), where cache_data would copy a large
frame each time; the log is treated as read-only everywhere. Filtered frames and page metrics are
cached too, keyed by the log's key and the filters.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from audit_lib.analysis import metrics
from audit_lib.analysis.filters import Filters, apply_filters
from audit_lib.intake.loader import AuditLog, load
from audit_lib.render.export import export_bytes
from audit_lib.report import Report, ReportLimits, build_report
from audit_lib.store.view import StoreView
from audit_lib.ui.roots import SAMPLES

# Files are read and parsed once per source; another time zone re-reads the parsed wall-clock times only.


@st.cache_resource(max_entries=2, show_spinner=False)
def _parsed_path(path: str, fingerprint: tuple, allowed: tuple[str, ...]) -> AuditLog:
    del fingerprint
    return load(path, tz="UTC", roots=[Path(r) for r in allowed])


@st.cache_resource(max_entries=4, show_spinner=False)
def load_path(path: str, tz: str, fingerprint: tuple, allowed: tuple[str, ...] = ()) -> AuditLog:
    """The log of a server folder or file inside the `allowed` folders (symlinks may not lead out of them);
    `fingerprint` (names, sizes, mtimes) invalidates the cache."""
    return _parsed_path(path, fingerprint, allowed or (path,)).with_tz(tz)


@st.cache_resource(max_entries=2, show_spinner=False)
def _parsed_uploads(key: str, label: str, _uploads: tuple[tuple[str, bytes], ...]) -> AuditLog:
    del key
    return load(list(_uploads), tz="UTC", label=label or None)


@st.cache_resource(max_entries=4, show_spinner=False)
def load_uploads(key: str, tz: str, _uploads: tuple[tuple[str, bytes], ...], label: str = "") -> AuditLog:
    """The log of uploaded files; `key` names the uploads (their file ids); `label` names their node."""
    return _parsed_uploads(key, label, _uploads).with_tz(tz)


@st.cache_data(max_entries=256, show_spinner=False)
def checked_upload(file_id: str, name: str, _data: bytes) -> str | None:
    """`check_upload` once per upload (`file_id`), not on every rerun."""
    del file_id
    return check_upload(name, _data)


def check_upload(name: str, data: bytes) -> str | None:
    """Why an upload cannot be used at all (empty, unreadable zip), or None."""
    if not data:
        return f"{name} is empty."
    if name.lower().endswith(".zip"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                bad = z.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            return f"{name} is not a readable zip archive ({exc})."
        except Exception as exc:  # damaged member data: zlib/CRC errors of any kind
            return f"{name} is a damaged zip archive ({exc})."
        if bad:
            return f"{name} is a damaged zip archive (member {bad} fails its checksum)."
    return None


@st.cache_resource(max_entries=8, show_spinner=False)
def filtered(key: str, filters: Filters, _events: pl.DataFrame) -> pl.DataFrame:
    """The events of the log with key `key` within `filters` (shared, read-only)."""
    del key
    return apply_filters(_events, filters)


@st.cache_data(max_entries=64, show_spinner=False)
def _metric(name: str, key: str, args: tuple, kwargs: tuple, _events: pl.DataFrame, _extra: tuple) -> Any:
    del key
    fn: Callable = getattr(metrics, name)
    return fn(_events, *_extra, *args, **dict(kwargs))


def metric(name: str, key: str, events: pl.DataFrame, *args: Any, extra: tuple = (), **kwargs: Any) -> Any:
    """`metrics.<name>(events, *extra, *args, **kwargs)`, cached by `key` (the scope) and the arguments.
    `extra` holds unhashable inputs (frames) that the key already identifies."""
    return _metric(name, key, args, tuple(sorted(kwargs.items())), events, extra)


@st.cache_resource(max_entries=4, show_spinner=False)
def report(key: str, _log: AuditLog, filters: Filters, source_label: str, max_rows: int) -> Report:
    """The compliance report of a scope (`key` names the log, the filters and `max_rows`)."""
    del key
    return build_report(_log, filters, sources=[source_label], limits=ReportLimits(max_rows=max_rows))


@st.cache_resource(max_entries=8, show_spinner=False)
def export(key: str, fmt: str, _events: pl.DataFrame) -> bytes:
    """The events of a scope as `fmt` (csv, jsonl, parquet); `key` names the scope."""
    del key
    return export_bytes(_events, fmt)


# An event store is opened once per published version, never read whole: the pages ask it for figures (cached
# here by the store's version and the filters) and, where they need them, for the events of the scope.


@st.cache_resource(max_entries=2, show_spinner=False)
def open_store(path: str, fingerprint: tuple) -> Any:
    """The event store in `path` (inside the allowed folders), as an `audit_lib.store.view.StoreView`;
    `fingerprint` (the files of its manifest chain) changes with every ingest."""
    del fingerprint
    return StoreView(path)


@st.cache_data(max_entries=256, show_spinner=False)
def _store_call(name: str, key: str, args: tuple, _view: Any) -> Any:
    del key
    return getattr(_view, name)(*args)


def store(name: str, view: Any, *args: Any) -> Any:
    """`view.<name>(*args)` (a figure of the whole store or of a scope), cached by the store's version and the
    arguments (the filters among them)."""
    return _store_call(name, view.key, args, view)


@st.cache_resource(max_entries=4, show_spinner=False)
def store_events(key: str, filters: Filters, _view: Any) -> pl.DataFrame:
    """The events of a scope of an event store (at most `audit_lib.store.view.SCOPE_LIMIT`), shared, read-only."""
    del key
    return _view.events(filters, count=store("count", _view, filters))


def sample_path() -> Path:
    return SAMPLES
