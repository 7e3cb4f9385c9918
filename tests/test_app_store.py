"""The app's "Event store" source through AppTest: the bundled samples ingested into a temporary store show the
same figures as the files; the Overview, Users and Data quality pages never read the store's events whole."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from test_app import app as run_app
from test_app import texts

pytest.importorskip("deltalake", reason="the event store needs requirements-store.txt (deltalake)")

import audit_lib  # noqa: E402
from audit_lib.store import ingest  # noqa: E402
from audit_lib.store import view as store_view  # noqa: E402
from audit_lib.ui import roots  # noqa: E402
from audit_lib.ui import state as S  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
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
        if page in ("pages/users.py", "pages/quality.py"):
            assert metrics_of(at) == metrics_of(files), page
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
