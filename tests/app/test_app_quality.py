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


def test_quality_page_lists_the_last_days_of_a_node_that_stopped(tmp_path, monkeypatch):
    """mi3 writes nothing after Friday 11-27 while mi1 goes on to Monday 11-30: Monday is a gap of mi3 on the page
    (the grid runs over the days of the logs for every node, not a node's own first to last day)."""
    from datetime import datetime

    from audit_lib.ui import roots
    from tests.support.wso2_lines import mi_change, write_node

    for node, last in (("mi1", 30), ("mi3", 27)):
        for day in range(23, last + 1):
            write_node(tmp_path, node, [mi_change(datetime(2026, 11, day, 10), "jane", "enabled", "endpoint",
                                                  endpointName=f"EP-{node}")], name=f"audit-11-{day}-2026.log")
    monkeypatch.setenv(roots.ENV_VAR, str(tmp_path))
    at = app()
    at.radio(key=S.SOURCE_KIND).set_value("folder").run()
    at.text_input(key=S.FOLDER).set_value(str(tmp_path)).run()
    at.switch_page(str(ROOT) + "/pages/quality.py").run()
    assert not at.exception
    assert any("1 working node-day(s)" in w.value for w in at.warning), [w.value for w in at.warning]
    gaps = at.dataframe[-1].value
    assert list(zip(gaps["node"], gaps["status"], strict=True)) == [("mi3", "no file")]
    assert str(gaps["day"].iloc[0])[:10] == "2026-11-30"
