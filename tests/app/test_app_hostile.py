"""The app on hostile input: log text never renders as markdown, odd times and sizes never crash a page,
unexpected errors show one line (the traceback goes to the log), exposure and sign-in."""

import io
import json
import logging
import re
import tomllib
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from audit_lib.events.zones import offered_zones
from audit_lib.render.textsafe import visible
from audit_lib.ui import state as S
from audit_lib.ui.passwords import make_hash
from tests.support import hostile

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["pages/overview.py", "pages/users.py", "pages/artifacts.py", "pages/timeline.py", "pages/explorer.py",
         "pages/quality.py", "pages/reports.py"]
MARKDOWN_KINDS = ["markdown", "caption", "info", "warning", "error", "success", "title", "subheader"]


def app(secrets: dict | None = None) -> AppTest:
    script = (f"import runpy, sys\nsys.path.insert(0, {str(ROOT)!r})\n"
              f"runpy.run_path({str(ROOT / 'app.py')!r}, run_name='__main__')\n")
    at = AppTest.from_string(script, default_timeout=120)
    for k, v in (secrets or {}).items():
        at.secrets[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, data: bytes, tz: str = "UTC") -> AppTest:
    at.radio(key=S.SOURCE_KIND).set_value("upload").run()
    at.selectbox(key=S.TZ).set_value(tz).run()
    at.sidebar.get("file_uploader")[0].set_value([(name, data, "application/zip")]).run()
    assert not at.exception, at.exception
    return at


def zipped(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def stamp(line: str, when: datetime) -> str:
    return line.replace("2026-11-03 10:00:00", f"{when.year:04d}-{when:%m-%d %H:%M:%S}")


def markdown_sources(at: AppTest) -> list[str]:
    out = [str(e.value) for kind in MARKDOWN_KINDS for e in at.get(kind)]
    out += [str(m.proto.help) for m in at.metric]  # metric help texts are markdown too
    return out


def assert_inert(sources: list[str]) -> None:
    """No markdown link, image, autolink or HTML tag can form: every bracket, parenthesis, angle bracket and
    colon that came from the logs is backslash-escaped, and a word joiner breaks every bare URL, www. name and
    e-mail address (GitHub markdown links those whatever their escapes)."""
    for text in sources:
        assert not re.search(r"(?<!\\)\]\(", text), text  # [x](...) / ![x](...)
        assert not re.search(r"(?<!\\)<[a-zA-Z/!]", text), text  # <img ...>, <b>, <http://...>
        plain = re.sub(r"\\(.)", r"\1", text)
        assert not re.search(r"://|www\.|\w@\w", plain, re.IGNORECASE), text  # bare URLs, e-mail addresses
        assert "\u202e" not in text and "\x1b" not in text, text


def unescape(markdown: str) -> str:
    """What a visitor reads."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


@pytest.fixture(scope="module")
def hostile_zip() -> bytes:
    return hostile.zip_bytes()


@pytest.mark.parametrize("page", PAGES)
def test_hostile_names_never_render_as_markdown(page, hostile_zip):
    at = upload(app(), "[z](http:\\\\127.0.0.1:9\\upload.png).zip", hostile_zip)
    if page != PAGES[0]:
        at.switch_page(str(ROOT / page)).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    sources = markdown_sources(at)
    assert_inert(sources)
    joined = " ".join(unescape(s) for s in sources)
    if page == "pages/quality.py":  # the zip member that is not a log is named, literally
        assert hostile.MEMBER_NOTE in joined


def test_users_page_shows_each_hostile_user_literally(hostile_zip):
    at = upload(app(), "hostile.zip", hostile_zip)
    at.switch_page(str(ROOT / "pages/users.py")).run()
    for name in ["![img](http://127.0.0.1:9/user.png)", "<img src=http://127.0.0.1:9/tag.png>", "bell\x07\x1b[31mred"]:
        at.selectbox(key=S.USER).set_value(name).run()
        assert not at.exception and not at.error
        assert_inert(markdown_sources(at))
        caption = next(unescape(c.value) for c in at.caption if str(c.value).startswith("First seen"))
        assert caption.endswith(f"on {hostile.NODE}.")
        titles = [json.loads(c.proto.spec).get("title") for c in at.get("vega_lite_chart")]
        titles = [t.get("text") if isinstance(t, dict) else t for t in titles]
        assert f"{visible(name)}: events per day" in titles  # charts get the name with its escapes


def test_times_centuries_apart_in_new_york_on_every_page():
    line = hostile.line("admin", "bob", 0)
    when = [datetime(1, 1, 1), datetime(1900, 1, 1), datetime(2026, 5, 1, 9), datetime(2199, 12, 31, 23),
            datetime(9999, 12, 31, 23)]  # the loader rejects the first and the last, keeps 1900 to 2199
    text = "\n".join(stamp(line, w) for w in when) + "\n"
    at = upload(app(), "far.zip", zipped({"n1/repository/logs/audit.log": text}), tz="America/New_York")
    for page in PAGES:
        at.switch_page(str(ROOT / page)).run()
        assert not at.exception and not at.error, (page, [e.value for e in at.error])
    for choice, scope in [("Last 24 h", "2199-12-30 23:00 to the last event"),
                          ("Dates", "1900-01-01 00:00 to 2200-01-01 00:00 (America/New_York) · 3 of 3 events")]:
        at.sidebar.get("button_group")[0].set_value(choice).run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert scope in unescape(at.markdown[0].value)
    at.switch_page(str(ROOT / "pages/timeline.py")).run()
    next(b for b in at.get("button_group") if b.label == "Granularity").set_value("hour").run()
    assert not at.exception and not at.error and at.get("vega_lite_chart")


def test_a_year_per_hour_and_fourteen_nodes_over_a_year():
    start = datetime(2025, 1, 1)
    files = {"hourly/repository/logs/audit.log": "\n".join(stamp(hostile.line("admin", "bob", 0),
                                                                start + timedelta(hours=h)) for h in range(8761))}
    for n in range(14):  # each node its own user: identical files would be read once, as duplicates
        files[f"node-{n:02d}/repository/logs/audit.log"] = "\n".join(
            stamp(hostile.line(f"ops{n}", "bob", 0), start + timedelta(days=d, hours=12)) for d in range(365))
    at = upload(app(), "year.zip", zipped(files))
    at.switch_page(str(ROOT / "pages/timeline.py")).run()
    next(b for b in at.get("button_group") if b.label == "Granularity").set_value("hour").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Shown per day: per hour would be more bars than a chart can draw." in [c.value for c in at.caption]
    at.switch_page(str(ROOT / "pages/quality.py")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("one cell per week" in c.proto.spec for c in at.get("vega_lite_chart"))


def test_unexpected_error_is_one_line_and_the_traceback_goes_to_the_log(monkeypatch, caplog):
    from audit_lib.analysis import metrics

    def broken(*args, **kwargs):
        raise RuntimeError("cannot open /srv/secret/server/path.log")

    st.cache_data.clear()
    monkeypatch.setattr(metrics, "per_user", broken)
    at = app()
    with caplog.at_level(logging.ERROR, logger="audit_lib.app"):
        at.switch_page(str(ROOT / "pages/users.py")).run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert error.startswith("The Users page could not be completed: an unexpected error (RuntimeError).")
    assert "/srv/secret" not in error and "Traceback" not in error and "\n" not in error
    ref = re.search(r"reference ([0-9a-f]{8})", error).group(1)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert ref in logged
    assert any(r.exc_info and "/srv/secret/server/path.log" in str(r.exc_info[1]) for r in caplog.records)
    # the title is drawn and the other pages still work
    assert [t.value for t in at.title] == ["Users"]
    at.switch_page(str(ROOT / "pages/overview.py")).run()
    assert not at.error and not at.exception
    st.cache_data.clear()


def test_an_error_while_loading_is_one_line_on_every_page(monkeypatch):
    from audit_lib.ui import loading

    def broken(*args, **kwargs):
        raise MemoryError("/srv/logs/huge.log")

    monkeypatch.setattr(loading, "load_path", broken)
    at = app()
    for page in PAGES:
        at.switch_page(str(ROOT / page)).run()
        assert not at.exception
        errors = [e.value for e in at.error]
        assert errors and errors[0].startswith("Loading the logs could not be completed"), errors
        assert all("/srv" not in e for e in errors)


@pytest.mark.parametrize("address, warned", [("0.0.0.0", True), ("192.168.1.20", True), ("", True),
                                             ("127.0.0.1", False), ("::1", False), ("localhost", False)])
def test_a_warning_on_every_page_when_served_beyond_this_machine_without_sign_in(address, warned):
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", address or None)
    try:
        at = app()
        for page in PAGES[:3]:
            at.switch_page(str(ROOT / page)).run()
            shown = [w.value for w in at.warning if "with no sign-in" in w.value]
            assert bool(shown) == warned, (address, shown)
        secured = app({"password_hash": make_hash("correct horse battery")})
        assert not [w for w in secured.warning if "with no sign-in" in w.value]
    finally:
        st_config.set_option("server.address", before)


def test_password_sign_in():
    at = app({"password_hash": make_hash("correct horse battery")})
    assert [t.value for t in at.title] == ["WSO2 audit logs"] and not at.metric  # nothing of the logs yet
    at.text_input[0].set_value("wrong")  # a form: the value is sent with the click
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Wrong password."] and not at.metric
    at.text_input[0].set_value("correct horse battery")
    at.button[0].click().run()
    assert not at.exception and "Overview" in [t.value for t in at.title] and at.metric
    assert any(b.label == "Sign out" for b in at.sidebar.button)


def test_only_real_zones_are_offered():
    at = app()
    options = at.selectbox(key=S.TZ).options
    assert options == offered_zones() and options[0] == "UTC"
    assert not {"Factory", "localtime", "posixrules"} & set(options)
    assert not [z for z in options if z.startswith(("posix/", "right/"))]


def test_config_hides_errors_and_table_downloads_and_make_run_binds_locally():
    conf = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())
    assert conf["client"]["showErrorDetails"] == "none" and conf["client"]["disableDataExport"] is True
    assert conf["server"]["address"] == "127.0.0.1"
    make = (ROOT / "Makefile").read_text()
    run = make[make.index("\nrun:"):].split("\n\n")[0]
    assert "--server.address $(ADDRESS)" in run and "ADDRESS ?= 127.0.0.1" in make
