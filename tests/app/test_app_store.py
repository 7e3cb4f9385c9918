"""The app's "Event store" source through AppTest: the bundled samples ingested into a temporary store show the
same figures as the files; the Overview, Users and Data quality pages never read the store's events whole; the
Reports page compares a store's evidence with the previous period (files: on request)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app.test_app import app as run_app
from tests.app.test_app import shown, texts

pytest.importorskip("deltalake", reason="the event store needs requirements-store.txt (deltalake)")

import audit_lib  # noqa: E402
import audit_lib.report  # noqa: E402
from audit_lib.render.export import sha256_hex  # noqa: E402
from audit_lib.report.evidence import period_comparison  # noqa: E402
from audit_lib.store import ingest, open_store_log  # noqa: E402
from audit_lib.store import view as store_view  # noqa: E402
from audit_lib.store.status import record_sources, record_verify  # noqa: E402
from audit_lib.ui import roots  # noqa: E402
from audit_lib.ui import state as S  # noqa: E402
from tests.report.test_report_evidence import NOVEMBER, OCTOBER, two_months  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
FILES = audit_lib.load(SAMPLES, tz="UTC")
N = f"{FILES.events.height:,}"
JANE = f"{FILES.events.filter(pl.col('user') == 'jane.ops').height:,}"
FIGURES = ["Events", "Users", "Artifact types", "Nodes", "Time span", "Sign-ins", "Failures", "Rejected lines"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stores") / "samples-store"
    ingest(SAMPLES, folder)
    return folder


@pytest.fixture
def allowed(store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(roots.ENV_VAR, str(store.parent))
    return store


def open_store(folder: Path) -> AppTest:
    at = run_app()
    at.radio(key=S.SOURCE_KIND).set_value("store").run()
    at.text_input(key=S.STORE).set_value(str(folder)).run()
    return at


def metrics_of(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def clean(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_the_store_source_shows_what_the_files_show(allowed: Path) -> None:
    files = run_app()
    at = open_store(allowed)
    clean(at)
    assert f"{N} of {N} events" in texts(at) and "event store" in texts(at)
    assert {k: metrics_of(at)[k] for k in FIGURES} == {k: metrics_of(files)[k] for k in FIGURES}
    assert at.get("vega_lite_chart")[0].proto.spec == files.get("vega_lite_chart")[0].proto.spec  # activity chart
    for page in ("pages/users.py", "pages/quality.py", "pages/timeline.py", "pages/artifacts.py",
                 "pages/explorer.py", "pages/findings.py"):
        at.switch_page(str(ROOT / page)).run()
        files.switch_page(str(ROOT / page)).run()
        clean(at)
        assert f"{N} of {N} events" in texts(at), page
        assert len(at.get("vega_lite_chart")) == len(files.get("vega_lite_chart")), page
        if page == "pages/users.py":
            assert metrics_of(at) == metrics_of(files), page
        if page == "pages/quality.py":  # the same, and the store's own block (head, last verify)
            assert {k: metrics_of(at)[k] for k in metrics_of(files)} == metrics_of(files)
            assert metrics_of(at)["Chain entries"] == "1" and metrics_of(at)["Last verify (UTC)"] == "never"
    at.multiselect(key=S.USERS).set_value(["jane.ops"]).run()  # a filtered scope: a scan of the store
    at.switch_page(str(ROOT / "pages/overview.py")).run()
    clean(at)
    assert f"{JANE} of {N} events" in texts(at) and metrics_of(at)["Events"] == JANE


def test_overview_users_and_quality_never_read_every_event(allowed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store larger than a page may read whole: the figures come from its counts and scans, the pages that
    need every event of the scope say how to narrow it."""
    monkeypatch.setattr(store_view, "SCOPE_LIMIT", 300)
    st.cache_resource.clear()  # no scope read by an earlier test
    st.cache_data.clear()
    at = open_store(allowed)
    clean(at)
    assert metrics_of(at)["Events"] == N
    at.switch_page(str(ROOT / "pages/users.py")).run()
    clean(at)
    assert "narrow the time range" in texts(at)  # the sessions of one person need the scope's events
    assert at.get("vega_lite_chart") and at.dataframe  # the people, the person's activity and latest events
    at.switch_page(str(ROOT / "pages/quality.py")).run()
    clean(at)
    assert metrics_of(at)["Files"] == str(FILES.files.height)
    at.switch_page(str(ROOT / "pages/explorer.py")).run()
    clean(at)
    assert "narrow the time range" in texts(at)
    at.multiselect(key=S.NODES).set_value(["apim-node"]).run()  # a scope small enough to read
    clean(at)
    assert "narrow the time range" not in texts(at) and at.dataframe


def test_a_folder_that_is_not_a_store_or_outside_the_roots(allowed: Path, tmp_path: Path) -> None:
    at = open_store(allowed.parent / "nothing")
    assert not at.exception and "No such file or folder" in texts(at)
    at.text_input(key=S.STORE).set_value(str(SAMPLES)).run()
    assert not at.exception and "No event store at" in texts(at)
    at.text_input(key=S.STORE).set_value(str(tmp_path)).run()
    assert not at.exception and "Refused" in texts(at)


@pytest.fixture(scope="module")
def silent_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """October for mi-a, mi-b and mi-c; November for mi-a and mi-b only (see test_report_evidence)."""
    base = tmp_path_factory.mktemp("silent-app")
    full = (NOVEMBER.first, NOVEMBER.last)
    two_months(base / "logs", base / "store", {"mi-a": full, "mi-b": full, "mi-c": None})
    return base / "store"


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list:
    """The reports the Reports page builds (a download button's bytes are not readable through AppTest)."""
    st.cache_resource.clear()  # no report built by an earlier test
    st.cache_data.clear()
    out: list = []
    real = audit_lib.report.build_report

    def spy(*args, **kwargs):
        out.append(real(*args, **kwargs))
        return out[-1]

    monkeypatch.setattr(audit_lib.report, "build_report", spy)
    return out


def downloads(at: AppTest) -> list[str]:
    return [b.label for b in at.get("download_button")]


def build(at: AppTest) -> None:
    next(b for b in at.button if b.label == "Build report").click().run()
    clean(at)


def test_reports_page_compares_a_store_with_the_previous_period(silent_store: Path, built: list,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(roots.ENV_VAR, str(silent_store.parent))
    at = open_store(silent_store)
    at.sidebar.get("button_group")[0].set_value("Dates").run()
    at.date_input(key=S.DATES).set_value((NOVEMBER.first, NOVEMBER.last)).run()
    at.switch_page(str(ROOT / "pages/reports.py")).run()
    clean(at)
    assert at.checkbox(key=f"{S.REPORT_COMPARE}_store").value  # a store: compared by default, as the CLI does
    build(at)
    report = built[-1]
    # the flags above the downloads, and the comparison as JSON beside the PDF and the CSV
    flags = [shown(w.value) for w in at.warning if "Compared" in w.value]
    assert flags == ["Compared 2026-11-01 to 2026-11-30 with the previous period, 2026-10-02 to 2026-10-31 (the 30 "
                     "days right before): **1 flag**\n\n- node mi-c: silent: no file in this period"]
    assert downloads(at)[-5:] == ["Download PDF report", "Its SHA-256 (.sha256)", "Companion CSV",
                                  "Findings (JSON Lines)", "Comparison (JSON)"]
    order = [(n.type, n.value if n.type == "warning" else n.label) for n in at.main
             if n.type in ("warning", "download_button")]
    flagged = next(i for i, (kind, text) in enumerate(order) if kind == "warning" and "Compared" in text)
    assert flagged < order.index(("download_button", "Download PDF report"))  # the flags come first
    # the JSON the command line writes for the store read whole (the page read November's events only)
    assert report.comparison_json == period_comparison(open_store_log(silent_store, "UTC"), NOVEMBER,
                                                       store=silent_store).to_json()
    assert sha256_hex(report.comparison_json) in texts(at) and "entry 2 of its chain" in texts(at)
    data = json.loads(report.comparison_json)
    assert data["store"]["head"]["seq"] == 2 and [r["events_before"] for r in data["per_node"]] == [90, 90, 90]
    # a previous period given: the whole of October
    at.date_input(key=S.REPORT_COMPARE_WITH).set_value((OCTOBER.first, OCTOBER.last)).run()
    build(at)
    assert built[-1].comparison.previous == OCTOBER and built[-1].comparison.explicit
    assert "with the previous period, 2026-10-01 to 2026-10-31 (as given): 1 flag" in texts(at).replace("*", "")
    # turned off: no comparison, no flag, no JSON
    at.checkbox(key=f"{S.REPORT_COMPARE}_store").set_value(False).run()
    build(at)
    assert built[-1].comparison is None and not built[-1].comparison_json
    assert "Comparison (JSON)" not in downloads(at) and "Compared" not in texts(at)
    assert "Download PDF report" in downloads(at)


def test_reports_page_compares_files_only_on_request(built: list) -> None:
    at = run_app()
    at.switch_page(str(ROOT / "pages/reports.py")).run()
    clean(at)
    box = at.checkbox(key=f"{S.REPORT_COMPARE}_files")
    assert not box.value and at.date_input(key=S.REPORT_COMPARE_WITH).disabled
    build(at)
    assert built[-1].comparison is None and "Comparison (JSON)" not in downloads(at)
    box.set_value(True).run()
    build(at)
    c = built[-1].comparison
    assert c is not None and c.store is None and "Comparison (JSON)" in downloads(at)
    assert f"Compared {c.period.text()} with the previous period, {c.previous.text()}" in texts(at)
    assert built[-1].comparison_json == period_comparison(FILES, c.period).to_json()


def test_data_quality_says_when_the_last_verify_found_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "store"
    ingest(SAMPLES / "is-node", folder)
    record_verify(folder, False, "ab" * 32, 1, 3)
    record_sources(folder, [("is-node-logs", "path", None), ("[mi](http://x) *9*", "mi", "refused <b>x</b>")])
    monkeypatch.setenv(roots.ENV_VAR, str(tmp_path))
    at = open_store(folder)
    at.switch_page(str(ROOT / "pages/quality.py")).run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("found 3 problem" in e and "the store is NOT INTACT" in e for e in errors)
    failing = next(e for e in errors if "failed in their latest attempt" in e)
    assert "](" not in failing and "\\[mi\\]" in failing and "\\<b\\>" in failing  # log text shown literally


def test_the_zone_picker_shows_the_zone_of_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store ingested in Asia/Colombo: the disabled zone picker says Asia/Colombo, not the session's UTC; picking
    the samples again gives the picker back with the zone chosen before."""
    folder = tmp_path / "colombo"
    ingest(SAMPLES, folder, tz="Asia/Colombo")
    monkeypatch.setenv(roots.ENV_VAR, str(tmp_path))
    at = run_app()
    at.selectbox(key=S.TZ).set_value("Europe/Paris").run()
    at.radio(key=S.SOURCE_KIND).set_value("store").run()
    at.text_input(key=S.STORE).set_value(str(folder)).run()
    clean(at)
    zone = [b for b in at.sidebar.selectbox if b.label == "Time zone of the log times"]
    assert len(zone) == 1 and zone[0].value == "Asia/Colombo" and zone[0].disabled
    at.radio(key=S.SOURCE_KIND).set_value("samples").run()
    clean(at)
    assert at.selectbox(key=S.TZ).value == "Europe/Paris" and not at.selectbox(key=S.TZ).disabled
