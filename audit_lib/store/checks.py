"""What a store itself tells, for `findings --store` and a report from a store: the stored files its ingests found
rewritten on disk (`rewrites`), and the configuration check of the stored log4j2.properties (`configs`)."""

from __future__ import annotations

import os

from audit_lib.checks.finding import Finding
from audit_lib.intake.loader import AuditLog
from audit_lib.store import tables as T
from audit_lib.store.configs import config_findings
from audit_lib.store.read import Store
from audit_lib.store.rewrites import rewrite_findings, rewritten_sources
from audit_lib.store.view import StoreView

StoreRef = str | os.PathLike | T.Location | Store | StoreView


def opened(store: StoreRef) -> Store:
    """The store at the version it was opened at (a `Store`, a `StoreView`'s), or opened now."""
    if isinstance(store, StoreView):
        return store.store
    return store if isinstance(store, Store) else Store(store)


def store_findings(store: StoreRef, log: AuditLog, *, config: bool = True) -> list[Finding]:
    """The findings of the store itself (times in `log`'s zone): each stored file found rewritten on disk, and with
    `config` the configuration check as from the folders (`config_check.check_source`: each node's stored
    log4j2.properties, and the coverage and PCI fields of `log`, the store read as an AuditLog)."""
    st = opened(store)
    found: list[Finding] = list(rewrite_findings(rewritten_sources(st.loc, st.head), log.tz))
    if config:
        found += config_findings(st.loc, st.head, log)
    return found
