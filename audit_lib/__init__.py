"""audit_lib: load, analyse and report the audit.log files of WSO2 Micro Integrator, API Manager and
Identity Server.

    import audit_lib
    log = audit_lib.load("samples/", tz="UTC")
    log.events, log.rejects, log.files
"""

from audit_lib.memory import configure

configure()  # before polars is imported

from audit_lib.analysis.sessions import sessions, with_sessions  # noqa: E402
from audit_lib.checks.findings import Finding, Settings, findings, load_rules  # noqa: E402
from audit_lib.intake.loader import AuditLog, check_tz, load, load_entries  # noqa: E402
from audit_lib.intake.sources import SourceError  # noqa: E402

__version__ = "0.2.0"
__all__ = ["AuditLog", "Finding", "Settings", "SourceError", "check_tz", "findings", "load", "load_entries",
           "load_rules", "sessions", "with_sessions", "__version__"]
