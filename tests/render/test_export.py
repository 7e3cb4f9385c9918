"""Exports: every canonical column, ISO 8601 times with offset, formula-safe CSV, deterministic bytes."""

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl
import pytest

import audit_lib
from audit_lib.analysis.filters import Filters
from audit_lib.events.schema import EVENT_COLUMNS
from audit_lib.render.export import (
    export_bytes,
    scope_name,
    sha256_hex,
    to_csv_bytes,
    to_jsonl_bytes,
    to_parquet_bytes,
    write_export,
)

LINE = '[2026-11-03 10:15:00,123]  INFO {{AUDIT_LOG}} - {{"performedBy":"{user}","action":"created","type":"user",' \
       '"info":"{{\\"userId\\":\\"{target}\\"}}"}}'


@pytest.fixture(scope="module")
def samples():
    return audit_lib.load("samples", tz="UTC")


def _log(tmp_path, users_targets, tz="UTC"):
    text = "\n".join(LINE.format(user=u, target=t) for u, t in users_targets) + "\n"
    (tmp_path / "audit.log").write_text(text, encoding="utf-8")
    return audit_lib.load(str(tmp_path), tz=tz)


def test_csv_has_every_column_iso_times_and_unicode(samples):
    data = to_csv_bytes(samples.events)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert list(rows[0]) == EVENT_COLUMNS
    assert len(rows) == samples.events.height
    assert rows[0]["timestamp"] == samples.events["timestamp"][0].isoformat(timespec="milliseconds")
    assert rows[0]["timestamp"].endswith("+00:00")
    assert any(r["user"] == "josé" for r in rows)
    assert datetime.fromisoformat(rows[-1]["timestamp"]) == samples.events["timestamp"].max()


def test_csv_times_carry_the_zone_offset(tmp_path):
    log = _log(tmp_path, [("admin", "bob")], tz="Asia/Colombo")
    row = next(csv.DictReader(io.StringIO(to_csv_bytes(log.events).decode())))
    assert row["timestamp"] == "2026-11-03T10:15:00.123+05:30"
    assert datetime.fromisoformat(row["timestamp"]) == datetime(2026, 11, 3, 10, 15, 0, 123000,
                                                                ZoneInfo("Asia/Colombo"))


@pytest.mark.parametrize("value", ["=HYPERLINK(\\\\\"http://x\\\\\")", "+1+2", "-2+3", "@SUM(A1)"])
def test_csv_neutralises_formula_cells(tmp_path, value):
    log = _log(tmp_path, [(value, value), ("plain", "bob")])
    rows = list(csv.DictReader(io.StringIO(to_csv_bytes(log.events).decode())))
    user = log.events["user"].cast(pl.String)[0]
    assert user[0] in "=+-@"  # the loader keeps the raw value
    assert rows[0]["user"] == "'" + user
    assert rows[0]["artifact"] == "'" + log.events["artifact"][0]
    assert rows[1]["user"] == "plain"


def test_csv_neutralises_tab_and_carriage_return():
    events = audit_lib.load("samples").events.head(2).with_columns(
        pl.Series("artifact", ["\tcmd", "\r=1+1"]), pl.Series("details", ["=x", "ok-=x"]))
    rows = list(csv.DictReader(io.StringIO(to_csv_bytes(events).decode(), newline="")))
    assert rows[0]["artifact"] == "'\tcmd"
    assert rows[1]["artifact"] == "'\r=1+1"
    assert rows[0]["details"] == "'=x"
    assert rows[1]["details"] == "ok-=x"


def test_csv_is_deterministic_and_write_export_returns_its_hash(samples, tmp_path):
    a, b = to_csv_bytes(samples.events), to_csv_bytes(samples.events.clone())
    assert a == b
    digest = write_export(samples.events, "csv", tmp_path / "e.csv")
    assert digest == sha256_hex(a) == sha256_hex((tmp_path / "e.csv").read_bytes())


def test_jsonl_and_parquet_hold_the_same_rows(samples):
    lines = to_jsonl_bytes(samples.events).decode("utf-8").splitlines()
    assert len(lines) == samples.events.height
    first = json.loads(lines[0])
    assert list(first) == EVENT_COLUMNS and first["timestamp"].endswith("+00:00")
    back = pl.read_parquet(io.BytesIO(to_parquet_bytes(samples.events)))
    assert back.columns == EVENT_COLUMNS and back.height == samples.events.height
    assert back["timestamp"].dtype == pl.Datetime("ms", "UTC")
    assert back["user"].to_list() == samples.events["user"].cast(pl.String).to_list()


def test_empty_scope_exports_header_only(samples):
    empty = samples.events.clear()
    assert to_csv_bytes(empty).decode().strip() == ",".join(EVENT_COLUMNS)
    assert to_jsonl_bytes(empty) == b""
    assert pl.read_parquet(io.BytesIO(export_bytes(empty, "parquet"))).height == 0
    with pytest.raises(ValueError, match="Unknown export format"):
        export_bytes(empty, "xlsx")


def test_scope_name_names_range_and_filters(samples):
    from audit_lib.analysis.filters import parse_when

    f = Filters(start=parse_when("2026-11-01", "UTC"), end=parse_when("2026-11-07", "UTC", end=True),
                users=("josé",))
    assert scope_name(f, "UTC") == "audit_2026-11-01_2026-11-07_user-josé"
    first, last = samples.events["timestamp"].min(), samples.events["timestamp"].max()
    assert scope_name(Filters(), "UTC", samples.events) == f"audit_{first:%Y-%m-%d}_{last:%Y-%m-%d}"


def test_csv_neutralises_every_formula_disguise_in_a_hostile_log(tmp_path):
    from tests.support import hostile

    log = audit_lib.load(str(hostile.write_folder(tmp_path)), tz="UTC")
    rows = list(csv.DictReader(io.StringIO(to_csv_bytes(log.events).decode("utf-8"), newline="")))
    by_user = {r["user"].removeprefix("'"): r for r in rows}
    for value in hostile.FORMULAS:  # = + - @, fullwidth forms, after a space or a zero-width space, tab, CR
        assert value in by_user, value
        assert by_user[value]["user"] == "'" + value, value
    for r in rows:
        if r["artifact"].removeprefix("'") in ("=HYPERLINK(1)", "\uff0dminus"):
            assert r["artifact"].startswith("'"), r["artifact"]
    # text that merely contains such characters later on is left alone
    assert by_user["www.example.com"]["user"] == "www.example.com"
    assert by_user["a\u202eevil\u202cb"]["user"] == "a\u202eevil\u202cb"
