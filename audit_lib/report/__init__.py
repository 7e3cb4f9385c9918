"""Compliance reports: a PDF for a scope plus the companion files it quotes.

    from audit_lib.report import build_report
    report = build_report(log, filters, sources=["samples"])          # the privileged activity edition
    Path(f"{report.name}.pdf").write_bytes(report.pdf)
    Path(f"{report.name}.pdf.sha256").write_text(report.sha256_line(f"{report.name}.pdf"))
    Path(f"{report.name}.csv").write_bytes(report.csv)          # report.csv_sha256 is printed in the PDF
    Path(f"{report.name}.findings.jsonl").write_bytes(report.findings_jsonl)   # so is report.findings_sha256
"""

from audit_lib.report.build import EDITIONS, MAX_ROWS, Report, build_report
from audit_lib.report.context import ReportLimits

__all__ = ["EDITIONS", "MAX_ROWS", "Report", "ReportLimits", "build_report"]
