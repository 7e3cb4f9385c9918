"""The Data quality page's block for an event store: the chain's head, when `verify` last ran and its verdict,
and per source its last successful fetch or ingest and its last error (the watcher's status record), with per
node the last ingest that added to it (from the chain and the files table)."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from audit_lib.render.textsafe import md
from audit_lib.store.status import node_ingests, read_status
from audit_lib.ui import page


def _when(iso: object, seconds: bool = True) -> str:
    """An ISO time of the record (UTC) as the page shows it: `2026-12-02 07:21:19`."""
    return str(iso).replace("T", " ").removesuffix("+00:00")[: 19 if seconds else 16]


def show_store_status(view: Any) -> None:
    """The block for the store of `view` (a StoreView); reads the status record and the chain, no events."""
    store = view.store
    head = store.head
    st.subheader("Store")
    status = read_status(store.loc)
    cols = st.columns(3)
    cols[0].metric("Chain entries", f"{head.seq:,}")
    last = head.entries[-1]["time"] if head.entries else None
    cols[1].metric("Last published (UTC)", _when(last, False) if last else "-", help=f"{last or '-'}")
    ver = status.verify
    ran = str(ver.get("time", "?")) if ver else "never"
    cols[2].metric("Last verify (UTC)", _when(ran, False) if ver else ran, help=ran)
    st.markdown(md(f"Head hash: {head.hash}"))
    if status.problem:
        st.warning(md(status.problem))
    if ver is None:
        st.info("`verify` has not been run on this store: run `python -m audit_lib verify --store DIR` (for "
                "PCI DSS 10.3.4, daily from cron, say).")
    elif not ver.get("ok"):
        st.error(md(f"The last verify ({_when(ran)} UTC) found {ver.get('problems', '?')} problem(s): the store is "
                    "NOT INTACT. Run verify again to see them."))
    else:
        moved = ver.get("head") != head.hash
        st.success(md(f"The last verify ({_when(ran)} UTC) found the store intact up to chain entry "
                      f"{ver.get('entries', '?')}" + (" (entries published since are not verified yet)."
                                                      if moved else ", the head.")))
    st.markdown("**Sources** (the watcher's last fetch or ingest of each, and its last error; times in UTC)")
    sources = status.sources_frame()
    if sources.is_empty():
        st.caption("No watcher has run on this store (`python -m audit_lib watch ESTATE.toml`): per node, its "
                   "last ingest is below.")
    else:
        failing = sources.filter(pl.col("last_error").is_not_null()
                                 & (pl.col("last_ok").is_null() | (pl.col("last_error_at") > pl.col("last_ok"))))
        if failing.height:
            st.error(md(f"{failing.height} source(s) failed in their latest attempt: " + "; ".join(
                f"{name} ({_when(when)} UTC): {error}" for name, when, error
                in failing.select("source", "last_error_at", "last_error").head(10).iter_rows())))
        times = ["last_ok", "last_error_at"]
        page.show_table(sources.with_columns(pl.col(times).str.replace("T", " ").str.replace(r"\+00:00$", "")),
                        what="sources")
    st.markdown("**Nodes** (the last ingest that added to each; times in UTC)")
    nodes = node_ingests(store)
    page.show_table(nodes.with_columns(pl.col("last_ingest").str.replace("T", " ").str.replace(r"\+00:00$", "")),
                    what="nodes")
