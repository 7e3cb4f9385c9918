"""The app through Streamlit's AppTest: every page on the samples, filters, empty results, sources."""

import gzip
import io
import re
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from audit_lib.ui import state as S

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = ["pages/overview.py", "pages/users.py", "pages/artifacts.py", "pages/timeline.py", "pages/explorer.py",
         "pages/quality.py", "pages/reports.py"]
import polars as pl  # noqa: E402

import audit_lib  # noqa: E402
from audit_lib.analysis import metrics  # noqa: E402

_EV = audit_lib.load(ROOT / "samples", tz="UTC").events
N = f"{_EV.height:,}"
JANE = f"{_EV.filter(pl.col('user') == 'jane.ops').height:,}"
SAMPLE_LOG = ROOT / "samples/mi-node-2/repository/logs/audit-11-02-2026.log"


def app() -> AppTest:
    # run app.py from a script outside the repository: AppTest would otherwise treat the pages/ folder next
    # to app.py as an old-style multipage app on reruns (a live server does not)
    script = f"import runpy, sys\nsys.path.insert(0, {str(ROOT)!r})\nrunpy.run_path({APP!r}, run_name='__main__')\n"
    at = AppTest.from_string(script, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def shown(markdown: str) -> str:
    """Markdown as a visitor reads it: log text is sent with backslash escapes and word joiners that keep
    URLs from turning into links (`audit_lib.render.textsafe.md`)."""
    return re.sub(r"\\(.)", r"\1", str(markdown)).replace("\u2060", "")  # and invisible word joiners


def texts(at: AppTest) -> str:
    return " ".join(shown(e.value) for kind in ["info", "warning", "error", "success", "markdown", "caption"]
                    for e in at.get(kind))


def spec_rows(at: AppTest, i: int = 0) -> int:
    """Rows of data sent with chart `i` (Streamlit ships them as Arrow next to the spec)."""
    import pyarrow as pa

    proto = at.get("vega_lite_chart")[i].proto
    return sum(pa.ipc.open_stream(ds.data.data).read_all().num_rows for ds in proto.datasets)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_samples(page):
    at = app()
    if page != PAGES[0]:
        at.switch_page(str(ROOT / page)).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert "bundled samples" in texts(at)
    assert "Scope:" in texts(at) and f"{N} of {N} events" in texts(at)
    if page not in ("pages/explorer.py", "pages/reports.py"):
        assert at.get("vega_lite_chart"), "no chart drawn"


def test_reports_page_lists_events_behind_counts_offers_csv_and_builds_the_report():
    from audit_lib.analysis import compliance
    from audit_lib.render.export import sha256_hex, to_csv_bytes

    at = app()
    at.multiselect(key=S.USERS).set_value(["jane.ops"]).run()
    at.switch_page(str(ROOT / "pages/reports.py")).run()
    assert not at.exception and f"{JANE} of {N} events" in texts(at)
    # the events before any report: CSV (the companion CSV's bytes), JSON Lines and Parquet
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download CSV", "Download JSON Lines", "Download Parquet"]
    # the events behind each count
    jane = _EV.filter(pl.col("user") == "jane.ops")
    sens = compliance.sensitive_actions(jane)
    counts = dict(compliance.sensitive_summary(sens).select("category", "events").iter_rows())
    pick = at.selectbox(key=S.REPORT_CATEGORIES + "_pick")
    assert pick.options == [f"{c} ({n:,})" for c, n in counts.items() if n]
    for category in ["Verbose logging on", "Logging stopped"]:
        pick.set_value(category).run()
        table = at.dataframe[-1].value
        assert len(table) == counts[category] > 0
        listed = set(zip(table["source"], table["line"], strict=True))
        assert listed == set(sens.filter(pl.col("category") == category).select("source", "line").iter_rows())
        assert set(table["outcome"]) == {"not recorded"}  # MI changes carry no outcome
    at.radio(key=S.REPORT_EDITION).set_value("privileged").run()
    next(b for b in at.button if b.label == "Build report").click().run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.get("download_button")]
    assert {"Download PDF report", "Its SHA-256 (.sha256)", "Companion CSV", "Findings (JSON Lines)"} <= set(labels)
    assert "Privileged activity edition" in texts(at) and "no appendix" in texts(at)
    assert sha256_hex(to_csv_bytes(jane)) in texts(at)


def test_overview_figures_follow_user_filter():
    at = app()
    people = metrics.per_user(_EV).height  # actors, "(unknown)" for the sign-ins IS logs without a user
    assert metric(at, "Events") == N and metric(at, "Users") == str(people) and people > 10
    all_rows = spec_rows(at)
    at.multiselect(key=S.USERS).set_value(["jane.ops"]).run()
    assert metric(at, "Events") == JANE and metric(at, "Users") == "1"
    assert "users: jane.ops" in texts(at) and f"{JANE} of {N} events" in texts(at)
    assert spec_rows(at) < all_rows
    # the filter is kept when moving to another page
    at.switch_page(str(ROOT) + "/pages/users.py").run()
    assert at.multiselect(key=S.USERS).value == ["jane.ops"]
    assert at.selectbox(key=S.USER).value == "jane.ops" and metric(at, "Events") == JANE


def test_quick_range_is_relative_to_newest_event():
    at = app()
    at.sidebar.get("button_group")[0].set_value("Last 7 days").run()
    assert "newest event (2026-11-20 23:17)" in texts(at)
    events = int(metric(at, "Events").replace(",", ""))
    assert 0 < events < _EV.height
    assert "2026-11-13 23:17 to the last event" in texts(at)


def test_empty_filter_result_says_so():
    at = app()
    at.text_input(key=S.TEXT).set_value("no-such-artifact-anywhere").run()
    assert "No event matches the filters" in texts(at)
    assert not at.get("vega_lite_chart") and not at.exception
    for page in PAGES[1:5]:
        at.switch_page(str(ROOT / page)).run()
        assert "No event matches the filters" in texts(at) and not at.exception


def test_actions_and_outcome_filters_change_users_table():
    at = app()
    at.switch_page(str(ROOT) + "/pages/users.py").run()
    at.multiselect(key=S.OUTCOMES).set_value(["failure"]).run()
    assert "outcome: failure" in texts(at)
    assert int(metric(at, "Events").replace(",", "")) <= 16


def test_server_path_outside_roots_is_refused():
    at = app()
    at.radio(key=S.SOURCE_KIND).set_value("folder").run()
    at.text_input(key=S.FOLDER).set_value(str(ROOT / "samples" / ".." / ".." / "..")).run()
    assert any("Refused" in shown(e.value) for e in at.error), [e.value for e in at.error]
    assert not at.exception and not at.get("vega_lite_chart")


def test_server_path_inside_roots_loads():
    at = app()
    at.radio(key=S.SOURCE_KIND).set_value("folder").run()
    at.text_input(key=S.FOLDER).set_value(str(ROOT / "samples" / "mi-node-1")).run()
    assert not at.error and metric(at, "Nodes") == "1"
    assert "588 of 588 events" in texts(at)


def test_uploads_good_bad_and_corrupt():
    data = SAMPLE_LOG.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("node-a/repository/logs/audit.log", data)
    at = app()
    at.radio(key=S.SOURCE_KIND).set_value("upload").run()
    assert "Upload one or more" in texts(at)
    at.sidebar.get("file_uploader")[0].set_value([
        ("audit-11-02-2026.log.gz", gzip.compress(data), "application/gzip"),
        ("notes.txt", b"hello\nthis is not a log\n", "text/plain"),
        ("broken.zip", b"PK\x03\x04garbage", "application/zip"),
        ("logs.zip", buf.getvalue(), "application/zip"),
    ]).run()
    assert not at.exception
    assert any("broken.zip is not a readable zip archive" in shown(e.value) for e in at.error)
    assert any("notes.txt: left alone, content does not look like an audit log" in shown(w.value)
               for w in at.warning)
    # the gz and the zipped copy hold the same lines: one of them is a duplicate
    assert metric(at, "Events") == f"{len(data.splitlines())}"


def test_explorer_shows_newest_first_with_raw_line_and_pages():
    at = app()
    at.switch_page(str(ROOT) + "/pages/explorer.py").run()
    assert f"Rows 1-500 of {N}" in texts(at)
    assert "Raw line" in texts(at) and at.toggle(key=S.SORT_DESC).value
    newest = _EV.sort("timestamp", descending=True, maintain_order=True).row(0, named=True)
    assert at.code[0].value == audit_lib.load(ROOT / "samples").raw_line(newest["source"], newest["line"])
    shown = at.dataframe[0].value["timestamp"]
    assert shown.is_monotonic_decreasing and shown.iloc[0] == newest["timestamp"]
    # an outcome the product did not write reads "not recorded", beside the ones it wrote
    outcomes = dict(zip(at.dataframe[0].value["product"], at.dataframe[0].value["outcome"], strict=True))
    assert outcomes["mi"] == "not recorded" and "not recorded" not in set(
        at.dataframe[0].value.query("product == 'is'")["outcome"])
    at.number_input(key=S.PAGE).set_value(4).run()
    assert f"Rows 1,501-{N} of {N}" in texts(at)
    at.toggle(key=S.SORT_DESC).set_value(False).run()  # oldest first on request
    first = _EV.row(0, named=True)
    at.number_input(key=S.PAGE).set_value(1).run()
    assert at.code[0].value == audit_lib.load(ROOT / "samples").raw_line(first["source"], first["line"])


def test_changes_only_quick_filter_leaves_out_sign_ins():
    from audit_lib.analysis.sessions import change_expr

    at = app()
    at.sidebar.toggle(key=S.CHANGES_ONLY).set_value(True).run()
    changes = _EV.filter(change_expr(_EV)).height
    assert 0 < changes < _EV.height
    assert metric(at, "Events") == f"{changes:,}" and "changes only (no sign-ins)" in texts(at)
    assert metric(at, "Sign-ins") == "0"
    next(b for b in at.sidebar.button if b.label == "Clear filters").click().run()
    assert not at.sidebar.toggle(key=S.CHANGES_ONLY).value and metric(at, "Events") == N


def _time_axes(spec: dict) -> list[dict]:
    """Every x encoding of a temporal field in a Vega-Lite spec (layers and concatenations included)."""
    found = []
    for key, value in spec.items():
        if key == "encoding" and isinstance(value, dict):
            x = value.get("x", {})
            if x.get("type") == "temporal" or x.get("timeUnit"):
                found.append(x)
        elif isinstance(value, dict):
            found += _time_axes(value)
        elif isinstance(value, list):
            found += [a for v in value if isinstance(v, dict) for a in _time_axes(v)]
    return found


def test_time_axes_are_24_hour_and_dot_charts_have_legends():
    import json

    at = app()
    seen = 0
    for page in ["pages/overview.py", "pages/users.py", "pages/artifacts.py", "pages/timeline.py",
                 "pages/quality.py"]:
        at.switch_page(str(ROOT / page)).run()
        for chart in at.get("vega_lite_chart"):
            spec = json.loads(chart.proto.spec)
            for x in _time_axes(spec):
                seen += 1
                axis = x.get("axis") or {}
                label = axis.get("labelExpr", "")
                assert "utcFormat" in label and "%I" not in label and "%p" not in label, (page, axis)
                assert axis.get("formatType") != "utc"  # Vega-Lite drops such a format: labels fall back to 12 h
            mark = spec.get("mark", {})
            if (mark.get("type") if isinstance(mark, dict) else mark) == "point":  # the dot charts
                color, shape = spec["encoding"]["color"], spec["encoding"]["shape"]
                assert shape.get("legend") is not None and shape["title"] == color["title"]
                assert color["legend"]["values"] and set(color["legend"]["values"]) <= set(metrics.KINDS)
    assert seen >= 5


def test_timeline_granularity_and_heatmap():
    at = app()
    at.switch_page(str(ROOT) + "/pages/timeline.py").run()
    daily = spec_rows(at, 0)
    next(b for b in at.get("button_group") if b.label == "Granularity").set_value("hour").run()
    assert spec_rows(at, 0) > daily
    assert metric(at, "Off-hours events") and not at.exception


def test_artifact_history_and_state():
    at = app()
    at.switch_page(str(ROOT) + "/pages/artifacts.py").run()
    at.selectbox(key=S.ARTIFACT_TYPE).set_value("proxy_service").run()
    at.selectbox(key=S.ARTIFACT).set_value("OrderProxy").run()
    per_node = metrics.artifact_state_of(_EV, "proxy_service", "OrderProxy")
    states = set(per_node["state"])
    assert len(per_node) == 2 and len(states) == 2  # the demo's two MI nodes left it in different states
    assert metric(at, "Last known state") == "mixed"
    assert any("The nodes disagree about proxy" in w.value for w in at.warning)
    assert "proxy_service OrderProxy: who did what" in at.get("vega_lite_chart")[-1].proto.spec
    assert 0 < spec_rows(at, len(at.get("vega_lite_chart")) - 1) <= 2000


def test_quality_page_lists_gaps_and_rejects():
    at = app()
    at.switch_page(str(ROOT) + "/pages/quality.py").run()
    files = audit_lib.load(ROOT / "samples").files.height
    assert metric(at, "Rejected lines") == "2" and metric(at, "Files") == f"{files:,}" and files > 60
    assert "Complete: every file was read to its end and every line is accounted for" in texts(at)
    assert "working node-day(s) read only in part, without a log file" in texts(at)


def test_quality_page_never_claims_completeness_for_a_cut_file():
    data = SAMPLE_LOG.read_bytes() * 50
    cut = gzip.compress(data)[: len(gzip.compress(data)) // 2]
    at = app()
    at.radio(key=S.SOURCE_KIND).set_value("upload").run()
    at.sidebar.get("file_uploader")[0].set_value([("audit-11-02-2026.log.gz", cut, "application/gzip")]).run()
    at.switch_page(str(ROOT) + "/pages/quality.py").run()
    assert not at.exception
    assert any("Incomplete: 1 file(s) were read only in part" in shown(e.value) for e in at.error)
    assert "Complete:" not in texts(at)


def test_ambiguous_times_filter_is_offered_only_when_a_clock_change_left_some():
    def line(wall: str, proxy: str) -> str:
        return (f'[{wall},000]  INFO {{AUDIT_LOG}} - {{"performedBy":"admin","action":"enabled",'
                f'"type":"proxy_service","info":"{{\\"proxyName\\":\\"{proxy}\\"}}"}}\n')

    # Europe/Berlin repeats 02:00-03:00 on 2026-10-25; one line in that hour, nothing telling which reading
    text = line("2026-10-25 01:50:00", "a") + line("2026-10-25 02:30:00", "x") + line("2026-10-25 03:30:00", "b")
    at = app()
    at.radio(key=S.SOURCE_KIND).set_value("upload").run()
    at.sidebar.get("file_uploader")[0].set_value([("audit.log", text.encode(), "text/plain")]).run()
    assert metric(at, "Events") == "3"
    assert not [t for t in at.sidebar.toggle if t.key == S.AMBIGUOUS_ONLY]  # UTC: no time is ambiguous
    at.selectbox(key=S.TZ).set_value("Europe/Berlin").run()
    at.sidebar.toggle(key=S.AMBIGUOUS_ONLY).set_value(True).run()
    assert metric(at, "Events") == "1" and "only times a clock change made ambiguous" in texts(at)
    at.switch_page(str(ROOT) + "/pages/quality.py").run()
    assert "1 event(s) fall in an hour that the clock change repeated" in texts(at)


def test_outcome_filter_offers_not_recorded():
    at = app()
    assert at.sidebar.multiselect(key=S.OUTCOMES).options[-1] == "not recorded"
    at.sidebar.multiselect(key=S.OUTCOMES).set_value(["not recorded"]).run()
    unrecorded = _EV["outcome"].null_count()
    assert 0 < unrecorded < _EV.height and metric(at, "Events") == f"{unrecorded:,}"
    assert "outcome: not recorded" in texts(at)


def test_quality_page_says_when_the_lines_name_another_zone():
    at = app()
    at.selectbox(key=S.TZ).set_value("Asia/Kolkata").run()
    at.switch_page(str(ROOT) + "/pages/quality.py").run()
    shown = texts(at)
    assert "clues disagree with reading their times in Asia/Kolkata" in shown
    assert "mi-node-2: the zone named in MI sign-in lines is UTC, Asia/Kolkata gives IST" in shown


def test_reports_page_prefills_the_ten_busiest_privileged_actors(tmp_path, monkeypatch):
    """A month of a fleet holds dozens of accounts that did something privileged once: the form pre-fills the ten
    with the most changes and says how many there are."""
    from datetime import date

    from audit_lib.analysis import compliance
    from audit_lib.demo.estate import write_estate
    from audit_lib.ui import roots

    write_estate(tmp_path / "fleet", ["mi1", "apim1", "is1"], start=date(2026, 10, 1), days=30, events_per_day=60,
                 seed=3, tz="UTC")
    monkeypatch.setenv(roots.ENV_VAR, str(tmp_path))
    everyone = compliance.privileged_actors(compliance.sensitive_actions(audit_lib.load(tmp_path / "fleet").events))
    assert len(everyone) > 10
    at = app()
    at.radio(key=S.SOURCE_KIND).set_value("folder").run()
    at.text_input(key=S.FOLDER).set_value(str(tmp_path / "fleet")).run()
    at.switch_page(str(ROOT / "pages/reports.py")).run()
    assert not at.exception, at.exception
    picked = at.multiselect(key=S.REPORT_PRIVILEGED).value
    assert len(picked) == 10 and set(picked) <= set(everyone)
    assert any(f"{len(everyone):,} accounts performed a privileged action" in c.value and "pre-filled" in c.value
               for c in at.caption)
