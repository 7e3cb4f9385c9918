"""Compliance reports: a PDF for a scope plus the companion CSV it quotes.

    from audit_lib.report import build_report
    report = build_report(log, filters, sources=["samples"])
    Path(f"{report.name}.pdf").write_bytes(report.pdf)
    Path(f"{report.name}.csv").write_bytes(report.csv)   # report.csv_sha256 is printed in the PDF
"""

from audit_lib.report.build import MAX_ROWS, Report, build_report

__all__ = ["MAX_ROWS", "Report", "build_report"]
