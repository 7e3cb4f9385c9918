"""audit_lib: load, analyse and report the audit.log files of WSO2 Micro Integrator, API Manager and
Identity Server.

    import audit_lib
    log = audit_lib.load("samples/", tz="UTC")
    log.events, log.rejects, log.files
    audit_lib.findings(log.events)                      # what deserves attention
    audit_lib.build_report(log).pdf                     # the compliance report

The package reads in stages, each importing only those before it: `events` (what an event is and means),
`intake` (paths, uploads -> AuditLog), `analysis` (figures), `checks` (findings), `store` (the event store),
`report` (the PDF), `render` (charts, exports, safe text), then `cli` and `ui` on top. Everyday names are here;
the heavier ones (charts, metrics, the report) are imported on first use, so `import audit_lib` stays quick.
"""

from audit_lib.memory import configure

configure()  # before polars is imported

from importlib import import_module  # noqa: E402
from typing import Any  # noqa: E402

from audit_lib.analysis.conditions import RuleError  # noqa: E402
from audit_lib.analysis.filters import FilterError, Filters, apply_filters, parse_when  # noqa: E402
from audit_lib.analysis.sessions import sessions, with_sessions  # noqa: E402
from audit_lib.analysis.summary import summary  # noqa: E402
from audit_lib.checks.finding import Finding  # noqa: E402
from audit_lib.checks.findings import findings  # noqa: E402
from audit_lib.checks.rule import Settings, load_rules  # noqa: E402
from audit_lib.errors import AuditLibError, SourceError  # noqa: E402
from audit_lib.intake.loader import AuditLog, check_tz, load, load_entries  # noqa: E402
from audit_lib.version import __version__  # noqa: E402

_LAZY = {  # name -> (module, attribute or None for the module itself)
    "metrics": ("audit_lib.analysis.metrics", None),
    "compliance": ("audit_lib.analysis.compliance", None),
    "charts": ("audit_lib.render.charts", None),
    "export": ("audit_lib.render.export", None),
    "build_report": ("audit_lib.report", "build_report"),
    "Report": ("audit_lib.report", "Report"),
    "ReportLimits": ("audit_lib.report", "ReportLimits"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'audit_lib' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = import_module(module) if attribute is None else getattr(import_module(module), attribute)
    globals()[name] = value
    return value


__all__ = ["AuditLibError", "AuditLog", "FilterError", "Filters", "Finding", "RuleError", "Settings", "SourceError",
           "apply_filters", "check_tz", "findings", "load", "load_entries", "load_rules", "parse_when", "sessions",
           "summary", "with_sessions", "__version__", *_LAZY]
