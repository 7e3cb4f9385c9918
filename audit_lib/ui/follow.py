"""The app follows its event store: a fragment rerun every `POLL_SECONDS` (not the page) reads the store's chain
head (`audit_lib.store.status.published_since`: the chain table's Delta log, then only the new entries) and,
when an ingest has published since the version on screen, says how many events it added and offers a refresh,
which drops the cached store and reruns the app on the new version."""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from audit_lib.errors import AuditLibError
from audit_lib.render.textsafe import md
from audit_lib.store.status import published_since
from audit_lib.ui import loading


def _seconds() -> float:
    try:
        return max(1.0, float(os.environ.get("AUDIT_STORE_POLL_SECONDS", "30")))
    except ValueError:
        return 30.0


POLL_SECONDS = _seconds()  # how often an open store's head is checked (AUDIT_STORE_POLL_SECONDS)


def follow_store(view: Any | None) -> None:
    """With an event store open (`view`: its StoreView), the fragment that notices new published versions."""
    if view is not None:
        head = view.store.head
        _news(view.store.loc.uri, head.seq, head.chain_version)


@st.fragment(run_every=POLL_SECONDS)
def _news(uri: str, seq: int, chain_version: int) -> None:
    try:
        pub = published_since(uri, seq, chain_version)
    except AuditLibError as exc:
        st.warning(md(f"The store's head cannot be read: {exc}"))
        return
    if not pub.entries:
        return
    ingests = sum(k == "ingest" for k in pub.kinds)
    others = pub.entries - ingests
    text = f"**{pub.events:,} new events** since you opened the store ({ingests} ingest{'s' * (ingests != 1)}"
    text += f", {others} other record(s): deliveries, reviews)" if others else ")"
    cols = st.columns([5, 1], vertical_alignment="center")
    cols[0].info(text + ". The pages still show the version you opened.", icon=":material/update:")
    if cols[1].button("Refresh", key="store_refresh", type="primary"):
        loading.open_store.clear()  # the old version's figures and events are no longer needed
        loading.store_events.clear()
        st.rerun()
