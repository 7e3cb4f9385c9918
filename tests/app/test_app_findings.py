"""The Findings page and the sessions on the Users page, through Streamlit's AppTest on the samples."""

import json
from collections import Counter
from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

import audit_lib
from audit_lib.ui import state as S

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
LOG = audit_lib.load(ROOT / "samples", tz="UTC")


def app() -> AppTest:
    script = f"import runpy, sys\nsys.path.insert(0, {str(ROOT)!r})\nrunpy.run_path({APP!r}, run_name='__main__')\n"
    at = AppTest.from_string(script, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def findings_page() -> AppTest:
    at = app()
    at.switch_page(str(ROOT / "pages/findings.py")).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_findings_page_counts_and_first_finding():
    at = findings_page()
    expected = audit_lib.findings(LOG.events)
    by = Counter(f.severity for f in expected)
    # the event findings are all there; the configuration check may add its own on top
    assert int(metric(at, "High").replace(",", "")) >= by["high"] > 0
    assert int(metric(at, "Low").replace(",", "")) == by["low"]
    table = at.dataframe[0].value
    assert len(table) >= len(expected) and table["severity"].iloc[0] == "high"
    # the first finding is shown with its events and the first event's raw line from the file
    first = next(f for f in audit_lib.findings(LOG.events) if f.severity == "high")
    headers = [h.value for h in at.subheader]
    assert any(h.startswith("HIGH: ") for h in headers)
    events = at.dataframe[1].value
    assert {"timestamp", "actor", "outcome", "source", "line"} <= set(events.columns)
    shown = events.iloc[0]
    raw = LOG.raw_line(str(shown["source"]), int(shown["line"]))
    assert raw and any(c.value == raw for c in at.code)
    assert first.rule in {f.rule for f in expected}


def test_severity_and_rule_filters():
    at = findings_page()
    at.multiselect(key=S.FINDING_SEVERITIES).set_value(["low"]).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["severity"]) == {"low"}
    assert len(table) == sum(f.severity == "low" for f in audit_lib.findings(LOG.events))
    at.multiselect(key=S.FINDING_SEVERITIES).set_value(["high", "medium", "low", "info"]).run()
    at.multiselect(key=S.FINDING_RULES).set_value(["logging-stopped"]).run()
    table = at.dataframe[0].value
    assert set(table["rule"]) == {"logging-stopped"}
    assert len(table) == sum(f.rule == "logging-stopped" for f in audit_lib.findings(LOG.events))


def test_working_days_setting_changes_off_hours_findings():
    at = findings_page()
    before = int(metric(at, "Low").replace(",", ""))
    at.multiselect(key=S.WORK_DAYS).set_value(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]).run()
    after = int(metric(at, "Low").replace(",", ""))
    settings = audit_lib.Settings(work_days=(1, 2, 3, 4, 5, 6, 7))
    expected = sum(f.severity == "low" for f in audit_lib.findings(LOG.events, settings=settings))
    assert after == expected < before
    at.text_input(key=S.HOLIDAYS).set_value("2026-11-02, someday").run()
    assert any("someday" in w.value for w in at.warning)


def test_users_page_lists_the_sessions_of_the_user():
    at = app()
    at.switch_page(str(ROOT / "pages/users.py")).run()
    assert not at.exception, at.exception
    who = at.selectbox(key=S.USER).value
    table = next(d.value for d in at.dataframe if "ended" in d.value.columns)
    sessions = audit_lib.sessions(LOG.events).filter(pl.col("actor") == who)
    assert len(table) == sessions.height > 0
    assert set(table["ended"]) <= {"signed_out", "next_sign_in", "timeout", "open"}
    assert int(table["changes"].sum()) == sessions["changes"].sum()


def test_raw_line_of_a_finding_shows_bidi_controls_as_escapes():
    info = json.dumps({"registryResourceName": "a\u202eb.xml"}, ensure_ascii=False)  # the character itself
    msg = json.dumps({"performedBy": "anonymous", "action": "updated", "type": "registry_resource_properties",
                      "info": info}, ensure_ascii=False)
    data = f"[2026-10-27 09:13:01,533]  INFO {{AUDIT_LOG}} - {msg}\n".encode()
    at = app()
    at.radio(key=S.SOURCE_KIND).set_value("upload").run()
    at.sidebar.get("file_uploader")[0].set_value([("audit.log", data, "text/plain")]).run()
    at.switch_page(str(ROOT / "pages/findings.py")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(h.value.startswith("HIGH: ") for h in at.subheader)
    [raw] = [c.value for c in at.code if "anonymous" in c.value]
    assert "\u202e" not in raw and "a\\u202eb.xml" in raw
