"""audit_lib: load, analyse and report the audit.log files of WSO2 Micro Integrator, API Manager and
Identity Server.

    import audit_lib
    log = audit_lib.load("samples/", tz="UTC")
    log.events, log.rejects, log.files
"""

from audit_lib.loader import AuditLog, check_tz, load
from audit_lib.sources import SourceError

__version__ = "0.1.0"
__all__ = ["AuditLog", "SourceError", "check_tz", "load", "__version__"]
