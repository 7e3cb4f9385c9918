"""The sidebar shown on every page: where the logs come from, the time zone and the global filters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import streamlit as st

from audit_lib.analysis import metrics
from audit_lib.analysis.filters import FilterError, Filters, day_range
from audit_lib.errors import SourceError
from audit_lib.events.zones import is_zone, offered_zones
from audit_lib.intake.loader import AuditLog, check_tz
from audit_lib.render.textsafe import md, visible
from audit_lib.ui import gate, loading, roots
from audit_lib.ui import state as S
from audit_lib.ui.errors import failure_line

SOURCES = {"samples": "Bundled samples", "upload": "Upload files", "folder": "Folder on the server",
           "store": "Event store"}
RELATIVE = {"Last 24 h": timedelta(hours=24), "Last 7 days": timedelta(days=7), "Last 30 days": timedelta(days=30)}


@dataclass
class Context:
    """What a page needs: the loaded log, the scope and the events in it."""

    log: AuditLog | None
    source_label: str
    tz: str
    filters: Filters = field(default_factory=Filters)
    scope: pl.DataFrame | Callable[[], pl.DataFrame] | None = None  # the filtered events, or what reads them
    key: str = ""  # identifies the log and the filters: a cache key for page metrics
    messages: list[tuple[str, str]] = field(default_factory=list)  # (level, text) shown by the pages

    @property
    def events(self) -> pl.DataFrame | None:
        """The events in scope; from an event store they are read when a page first asks for them."""
        if callable(self.scope):
            self.scope = self.scope()
        return self.scope

    @property
    def store(self) -> Any:
        """The `audit_lib.store.view.StoreView` when the source is an event store, else None."""
        return getattr(self.log, "view", None)

    @property
    def total(self) -> int:
        if self.store is not None:
            return self.store.total
        return self.log.events.height if self.log is not None else 0

    @property
    def count(self) -> int:
        """The number of events in scope (for an event store, without reading them)."""
        if self.store is not None:
            return loading.store("count", self.store, self.filters)
        return self.events.height if self.events is not None else 0


def source_picker() -> tuple[AuditLog | None, str, list[tuple[str, str]]]:
    """Source and time-zone widgets; returns the loaded log (or None), a label and messages for the user."""
    st.sidebar.header("Logs")
    kind = st.sidebar.radio("Source", list(SOURCES), format_func=SOURCES.get, key=S.SOURCE_KIND,
                            horizontal=False, label_visibility="collapsed")
    zone_slot = st.sidebar.empty()  # the zone picker's place: a store's zone is known once it is open
    if kind == "store":
        if S.TZ in st.session_state:  # kept for when another source is picked again
            st.session_state[S.TZ] = st.session_state[S.TZ]
        tz = ""
    else:
        tz = zone_slot.selectbox("Time zone of the log times", offered_zones(), key=S.TZ,
                                 help="Wall-clock times in the files are read in this zone; charts show it too. An "
                                      "event store keeps the zone of its first ingest.")
    messages: list[tuple[str, str]] = []
    try:
        if kind != "store" and not is_zone(tz):
            raise SourceError(f"Unknown time zone {str(tz)[:60]!r}: pick one from the list.")
        if kind != "store":
            check_tz(tz)
    except SourceError as exc:
        return None, "", [("error", str(exc))]
    log: AuditLog | None = None
    label = ""
    try:
        if kind == "store":
            log, label = _store(zone_slot)
        elif kind == "upload":
            log, label, messages = _uploads(tz)
        elif kind == "folder":
            log, label = _folder(tz)
        else:
            path = loading.sample_path()
            with st.spinner("Reading the bundled samples...", show_time=True):
                log = loading.load_path(str(path), tz, roots.path_fingerprint(path))
            label = "bundled samples (samples/)"
            st.sidebar.caption("Showing the bundled demo logs of 4 nodes. Upload files or pick a server folder "
                               "to analyse your own.")
    except SourceError as exc:
        messages.append(("error", str(exc)))
        log = None
    if kind == "store" and log is None:
        _store_zone(zone_slot, None)
    if log is not None:
        messages += _file_messages(log)
    return log, label, messages


def _store_zone(slot: Any, zone: str | None) -> None:
    """The zone picker of an event store: its own zone, fixed (the zone of its first ingest)."""
    slot.selectbox("Time zone of the log times", [zone or "the store's own zone"], index=0, disabled=True,
                   key=f"{S.TZ}_store_{zone}",
                   help="An event store keeps the zone of its first ingest; read it in another zone with the command "
                        "line's --tz.")


def _uploads(tz: str) -> tuple[AuditLog | None, str, list[tuple[str, str]]]:
    files = st.sidebar.file_uploader("audit.log files (.log, .gz, .zip)", accept_multiple_files=True, key=S.UPLOADS,
                                     help="Several files at once; rotated names such as audit.log.1 are fine.")
    refused: dict[str, str] = {}
    good: list[tuple[str, bytes]] = []
    ids: list[str] = []
    for f in files or []:  # each upload has its own file_id: checks and loads are cached by it, not by its bytes
        data = f.getvalue()
        problem = loading.checked_upload(f.file_id, f.name, data)
        if problem:
            refused[f.file_id] = f"Not loaded: {problem}"
        else:
            good.append((f.name, data))
            ids.append(f.file_id)
    messages = [("error", line) for line in _refused(refused, ids)]
    if not good:
        return None, "", messages or [("info", "Upload one or more audit.log files (.log, .gz or a .zip of them) "
                                               "in the sidebar.")]
    label = st.sidebar.text_input(
        "Node of these files", key=S.UPLOAD_LABEL, placeholder="e.g. mi-node-2 (optional)",
        help="Rotated files of different nodes share names (audit-10-08-2026.log.gz): upload one .zip per node "
             "(its folders name the nodes), or give the node of a batch of plain files here. Without either, "
             "same-named files are kept apart as upload, upload (2), ...").strip()
    size = sum(len(d) for _, d in good)
    with st.spinner(f"Reading {len(good)} uploaded file(s), {size / 1e6:.1f} MB...", show_time=True):
        log = loading.load_uploads("|".join(ids), tz, tuple(good), label)
    return log, f"{len(good)} uploaded file(s)", messages


def _refused(refused: dict[str, str], kept: list[str]) -> tuple[str, ...]:
    """The lines of refused uploads. A refused upload is dropped from the session's uploads: its bytes are freed
    once the uploader's value next comes from the browser (any click). Its line stays while the kept uploads do."""
    for file_id in refused:
        gate.drop_upload(file_id)
    earlier: tuple[tuple[str, ...], tuple[str, ...], frozenset[str]] | None = st.session_state.get(S.UPLOAD_REFUSED)
    if refused and (earlier is None or not set(refused) <= earlier[2]):
        st.session_state[S.UPLOAD_REFUSED] = earlier = (tuple(kept), tuple(refused.values()), frozenset(refused))
    return earlier[1] if earlier and earlier[0] == tuple(kept) else tuple(refused.values())


def _folder(tz: str) -> tuple[AuditLog | None, str]:
    allowed = roots.allowed_roots(st.secrets)
    text = st.sidebar.text_input("Folder or file on the server", key=S.FOLDER, placeholder=str(allowed[0]),
                                 help=md("Searched recursively. Allowed below: " + ", ".join(map(str, allowed))))
    if not text.strip():
        raise SourceError("Type the path of a folder on the server (allowed: "
                          + ", ".join(map(str, allowed)) + ").")
    path = roots.check_path(text, allowed)
    fp = roots.path_fingerprint(path)
    size = sum(s for _, s, _ in fp)
    with st.spinner(md(f"Reading {len(fp)} files, {size / 1e6:.0f} MB, from {path}..."), show_time=True):
        log = loading.load_path(str(path), tz, fp, tuple(map(str, allowed)))
    return log, str(path)


def _store(zone_slot: Any) -> tuple[AuditLog | None, str]:
    """An event store inside the allowed folders, opened without reading its events (see `loading.open_store`)."""
    allowed = roots.allowed_roots(st.secrets)
    text = st.sidebar.text_input("Event store folder on the server", key=S.STORE, placeholder=str(allowed[0]),
                                 help=md("A folder written by `python -m audit_lib ingest PATH... --store DIR`. "
                                         "Allowed below: " + ", ".join(map(str, allowed))))
    if not text.strip():
        raise SourceError("Type the path of an event store folder on the server (allowed: "
                          + ", ".join(map(str, allowed)) + ").")
    path = roots.check_store(text, allowed)
    with st.spinner(md(f"Opening the event store {path}..."), show_time=True):
        view = loading.open_store(str(path), roots.path_fingerprint(path / "chain" / "_delta_log"))
    _store_zone(zone_slot, view.tz)
    st.sidebar.caption(md(f"{view.total:,} events, times in {view.tz} (the zone of the store's first ingest)."))
    return view.log, f"event store {path}"


def _filter_facts(log: AuditLog) -> tuple[tuple[date, date] | None, datetime | None, dict[str, list[str]]]:
    """First and last day, the newest event, and the values each filter offers (people, action, artifact_type,
    node, outcome): of the events, or from an event store's counts."""
    view = getattr(log, "view", None)
    if view is not None:
        span = loading.store("bounds", view)
        options = loading.store("options", view)
        return ((span[0].date(), span[1].date()) if span else None), (span[1] if span else None), {
            "people": options["actor"], **options}
    ev = log.events
    people = "actor" if "actor" in ev.columns else "user"
    return metrics.date_bounds(ev), metrics.newest_event(ev), {
        c: metrics.options(ev, people if c == "people" else c)
        for c in ("people", "action", "artifact_type", "node", "outcome")}


def ambiguous_count(log: AuditLog) -> int:
    """Events whose time a clock change made ambiguous (time_ambiguous), of the events or of a store."""
    view = getattr(log, "view", None)
    if view is not None:
        return int(loading.store("ambiguous", view))
    ev = log.events
    return int(ev["time_ambiguous"].sum()) if "time_ambiguous" in ev.columns else 0


def _file_messages(log: AuditLog) -> list[tuple[str, str]]:
    """Per-file problems the loader reported, and uploads that held no event."""
    out = []
    bad = log.files.filter(pl.col("error").is_not_null())
    for source, error in bad.select("source", "error").iter_rows():
        out.append(("warning", f"{source}: {error}"))
    empty = log.files.filter((pl.col("events") == 0) & pl.col("error").is_null() & pl.col("duplicate_of").is_null()
                             & (pl.col("lines") > 0))
    for source, lines, rejects in empty.select("source", "lines", "rejects").iter_rows():
        out.append(("warning", f"{source}: no audit event in {lines} line(s) ({rejects} rejected); "
                               "is it an audit.log file?"))
    for skipped in log.skipped:  # left alone, with the reason (other logs beside them are listed on Data quality)
        if skipped.reason != "not an audit log name":
            out.append(("warning", f"{skipped.name}: left alone, {skipped.reason}"))
    return out


def _sanitize(key: str, options: list[str]) -> None:
    """Drop picks that the newly loaded log does not have (a multiselect refuses unknown values)."""
    if key in st.session_state:
        allowed = set(options)
        st.session_state[key] = [v for v in st.session_state[key] if v in allowed]


def filter_widgets(log: AuditLog) -> Filters:
    """The global filter widgets; returns the Filters they describe (errors are shown, then ignored)."""
    st.sidebar.header("Filters")
    bounds, newest, values = _filter_facts(log)
    choice = st.sidebar.segmented_control("Time range", S.RANGES, key=S.RANGE, default="All", required=True)
    start = end = None
    if choice in RELATIVE and newest is not None:
        try:
            start = newest - RELATIVE[choice]
        except OverflowError:  # the newest event is in the first days of the year 1: the range is everything
            start = None
        st.sidebar.caption(f"Counted back from the newest event ({newest:%Y-%m-%d %H:%M}), not from today: "
                           "logs are usually read after the fact.")
    elif choice == "Dates" and bounds is not None:
        lo, hi = bounds
        current = st.session_state.get(S.DATES)
        if not (isinstance(current, tuple | list) and current and all(isinstance(d, date) and lo <= d <= hi
                                                                      for d in current)):
            st.session_state[S.DATES] = (lo, hi)
        picked = st.sidebar.date_input("From - to (whole days)", min_value=lo, max_value=hi, key=S.DATES)
        if isinstance(picked, tuple | list) and len(picked) == 2:
            start, end = day_range(picked[0], picked[1], log.tz)
        elif isinstance(picked, tuple | list) and len(picked) == 1:
            start, end = day_range(picked[0], picked[0], log.tz)
    changes = st.sidebar.toggle("Changes only", key=S.CHANGES_ONLY,
                                help="Only events that change something: no sign-ins, sign-outs, failed sign-ins "
                                     "or read-only REST calls.")
    opts = {k: values[c] for k, c in [(S.USERS, "people"), (S.ACTIONS, "action"),
                                                   (S.ARTIFACT_TYPES, "artifact_type"), (S.NODES, "node"),
                                                   (S.OUTCOMES, "outcome")]}
    for k, o in opts.items():
        _sanitize(k, o)
    # names from the logs are listed as `visible` shows them (a tab or zero-width space as an escape)
    users = st.sidebar.multiselect("Users", opts[S.USERS], key=S.USERS, placeholder="all users",
                                   format_func=visible)
    actions = st.sidebar.multiselect("Actions", opts[S.ACTIONS], key=S.ACTIONS, placeholder="all actions",
                                     format_func=visible)
    types = st.sidebar.multiselect("Artifact types", opts[S.ARTIFACT_TYPES], key=S.ARTIFACT_TYPES,
                                   placeholder="all artifact types", format_func=visible)
    nodes = st.sidebar.multiselect("Nodes", opts[S.NODES], key=S.NODES, placeholder="all nodes",
                                   format_func=visible)
    outcomes = st.sidebar.multiselect("Outcome", opts[S.OUTCOMES], key=S.OUTCOMES, placeholder="any outcome",
                                      format_func=visible)
    ambiguous = False
    if ambiguous_count(log):  # offered only where a clock change left times that could be read two ways
        ambiguous = st.sidebar.toggle("Ambiguous times only", key=S.AMBIGUOUS_ONLY,
                                      help="Events in the hour the clocks went back, where nothing in their file "
                                           "tells which of the two readings they are (shown as the first).")
    text = st.sidebar.text_input("Search", key=S.TEXT, placeholder="artifact, details, raw text...",
                                 help="Case-insensitive; looks in user, action, artifact type, artifact, details "
                                      "and attached lines.")
    st.sidebar.button("Clear filters", on_click=clear_filters, width="stretch")
    try:
        return Filters(start=start, end=end, users=tuple(users), actions=tuple(actions),
                       artifact_types=tuple(types), nodes=tuple(nodes), outcomes=tuple(outcomes), text=text or "",
                       changes_only=bool(changes), ambiguous_only=bool(ambiguous))
    except FilterError as exc:
        st.sidebar.error(md(str(exc)))
        return Filters()


def clear_filters() -> None:
    for k in S.FILTER_KEYS:
        st.session_state[k] = []
    st.session_state[S.TEXT] = ""
    st.session_state[S.RANGE] = "All"
    st.session_state[S.CHANGES_ONLY] = False
    st.session_state[S.AMBIGUOUS_ONLY] = False


def build_context() -> Context:
    """Render the sidebar and return the Context of this run (also stored in session state for the pages).
    An unexpected error while loading or filtering becomes one message line for the pages (and a traceback
    in the server log), never a stale context from an earlier run."""
    tz = st.session_state.get(S.TZ, "UTC")
    try:
        log, label, messages = source_picker()
    except Exception as exc:
        log, label, messages = None, "", [("error", failure_line(exc, "Loading the logs"))]
    if log is None:
        ctx = Context(None, label, tz, messages=messages)
    else:
        try:
            filters = filter_widgets(log)
            view = getattr(log, "view", None)  # an event store: the scope's events are read when first used
            key = f"{view.key if view is not None else log.fingerprint}|{hash(filters)}"
            if view is not None:
                events: Any = lambda: loading.store_events(key, filters, view)  # noqa: E731
            else:
                events = loading.filtered(key, filters, log.events) if not filters.is_empty() else log.events
            ctx = Context(log, label, log.tz, filters, events, key, messages)
        except Exception as exc:
            ctx = Context(None, label, tz, messages=[*messages, ("error", failure_line(exc, "Filtering the logs"))])
    st.session_state[S.CONTEXT] = ctx
    return ctx


def now_label(t: datetime | None) -> str:
    return f"{t:%Y-%m-%d %H:%M}" if t else "-"
