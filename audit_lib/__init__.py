"""audit_lib: load, analyse and report the audit.log files of WSO2 Micro Integrator, API Manager and
Identity Server.

    import audit_lib
    log = audit_lib.load("samples/", tz="UTC")
    log.events, log.rejects, log.files
    audit_lib.findings(log.events)                      # what deserves attention
    audit_lib.build_report(log).pdf                     # the compliance report

The package reads in stages, each importing only those before it: `events` (what an event is and means),
`intake` (paths, uploads -> AuditLog), `analysis` (figures), `checks` (findings), `store` (the event store),
`report` (the PDF), `render` (charts, exports, safe text), then `cli` and `ui` on top. Everyday names are here,
each imported on first use, so `import audit_lib` stays quick and a command pulls in only what it uses.
"""

from audit_lib.memory import configure

configure()  # before polars is imported

from importlib import import_module  # noqa: E402
from typing import Any  # noqa: E402

from audit_lib.version import __version__  # noqa: E402

_LAZY = {  # name -> (module, attribute or None for the module itself); each imported on first use
    "RuleError": ("audit_lib.analysis.conditions", "RuleError"),
    "FilterError": ("audit_lib.analysis.filters", "FilterError"),
    "Filters": ("audit_lib.analysis.filters", "Filters"),
    "apply_filters": ("audit_lib.analysis.filters", "apply_filters"),
    "parse_when": ("audit_lib.analysis.filters", "parse_when"),
    "sessions": ("audit_lib.analysis.sessions", "sessions"),
    "with_sessions": ("audit_lib.analysis.sessions", "with_sessions"),
    "summary": ("audit_lib.analysis.summary", "summary"),
    "Finding": ("audit_lib.checks.finding", "Finding"),
    "findings": ("audit_lib.checks.findings", "findings"),
    "Settings": ("audit_lib.checks.rule", "Settings"),
    "load_rules": ("audit_lib.checks.rule", "load_rules"),
    "AuditLibError": ("audit_lib.errors", "AuditLibError"),
    "SourceError": ("audit_lib.errors", "SourceError"),
    "AuditLog": ("audit_lib.intake.loader", "AuditLog"),
    "check_tz": ("audit_lib.intake.loader", "check_tz"),
    "load": ("audit_lib.intake.loader", "load"),
    "load_entries": ("audit_lib.intake.loader", "load_entries"),
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


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = ["__version__", *_LAZY]
