"""Data quality through Streamlit's AppTest: an upload named as an audit log that holds no readable log makes the
page say the set is incomplete, and names it; a file not named as one is merely skipped."""

import os

from audit_lib.ui import state as S
from tests.app.test_app import ROOT, app, shown, texts

LOG = (ROOT / "samples/mi-node-2/repository/logs/audit-11-02-2026.log").read_bytes()


def test_quality_page_says_incomplete_for_an_unreadable_audit_file_and_names_it():
    at = app()
    at.radio(key=S.SOURCE_KIND).set_value("upload").run()
    at.sidebar.get("file_uploader")[0].set_value([
        ("audit-11-02-2026.log", LOG, "text/plain"),
        ("audit-10-27-2026.log.gz", os.urandom(70_000), "application/gzip"),  # random bytes under an audit name
        ("notes.txt", b"hello", "text/plain"),
    ]).run()
    at.switch_page(str(ROOT) + "/pages/quality.py").run()
    assert not at.exception
    errors = [shown(e.value) for e in at.error]
    assert any("Incomplete: 1 file(s) named as audit logs" in e and "audit-10-27-2026.log.gz" in e for e in errors)
    assert "Complete:" not in texts(at)
    assert any("notes.txt" in shown(c.value) and "audit-10-27" not in shown(c.value) for c in at.caption)
