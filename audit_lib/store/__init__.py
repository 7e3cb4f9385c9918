"""The event store: a folder of Delta Lake tables that keeps every event ingested, adds only what is new, and
proves with a chain of manifest entries that nothing was changed since.

    from audit_lib.store import ingest, verify, open_store_log, scan_store
    ingest(["/var/log/mi"], "store/")            # IngestResult: files new / known / grown ..., events added
    verify("store/", ["/var/log/mi"]).ok          # chain, data files and sources checked
    open_store_log("store/", "UTC")               # the AuditLog `load` would give for the ingested files
    scan_store("store/").filter(...).collect()    # lazy: only the columns and rows a query needs are read

Needs the packages of requirements-store.txt (deltalake; ray for `ray=`); importing this module does not.
"""

from audit_lib.store.ingest import IngestResult, append_events, ingest
from audit_lib.store.read import Store, open_store_log, scan_store, store_info
from audit_lib.store.tables import Location, StoreError
from audit_lib.store.verify import VerifyReport, verify

__all__ = ["IngestResult", "Location", "Store", "StoreError", "VerifyReport", "append_events", "ingest",
           "open_store_log", "scan_store", "store_info", "verify"]
