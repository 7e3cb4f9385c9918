"""load() on the bundled demo set: nothing is lost, provenance holds, the manifest is right."""

from __future__ import annotations

import gzip
import hashlib

import polars as pl
import pytest

import audit_lib
from audit_lib.events.schema import events_schema


def test_every_line_is_accounted_for(samples_log, samples_dir):
    files = samples_log.files
    assert files.height == len(list(samples_dir.rglob("audit*")))
    for row in files.iter_rows(named=True):
        raw = (samples_dir / row["source"]).read_bytes()
        text = gzip.decompress(raw) if row["compressed"] else raw
        assert row["lines"] == len(text.splitlines()), row["source"]
        if row["duplicate_of"] is None:
            assert row["lines"] == row["events"] + row["attached"] + row["rejects"] + row["blank"], row
    unique = files.filter(pl.col("duplicate_of").is_null())
    assert samples_log.events.height == unique["events"].sum()
    assert samples_log.rejects.height == unique["rejects"].sum()
    per_file = samples_log.events.group_by(pl.col("source").cast(pl.String)).len()
    assert dict(per_file.iter_rows()) == {s: n for s, n in unique.select("source", "events").iter_rows() if n}


def test_events_have_the_canonical_columns_and_are_in_time_order(samples_log):
    ev = samples_log.events
    assert ev.columns == list(events_schema())
    assert ev.schema["timestamp"] == pl.Datetime("ms", "UTC")
    assert ev["timestamp"].is_sorted()
    assert ev.null_count().select("timestamp", "action", "artifact_type", "source", "line").row(0) == (0, 0, 0, 0, 0)
    # no user only where Identity Server names none (a failed sign-in of an unknown account)
    assert set(ev.filter(pl.col("user").is_null()).select(pl.col("product", "action").cast(pl.String)).rows()) == {
        ("is", "login_failed")}
    assert set(ev["product"].cast(pl.String).unique()) == {"mi", "apim", "is"}
    assert set(ev["outcome"].cast(pl.String).unique()) == {"success", "failure", None}
    # only what the line says: MI's change records and sign-ins carry no outcome, IS's do, API-M's failures do
    recorded = ev.filter(pl.col("outcome").is_not_null()).group_by("product").len()
    assert set(recorded["product"].cast(pl.String)) == {"is", "apim"}
    assert ev.filter(pl.col("product") == "mi")["outcome"].null_count() == ev.filter(pl.col("product") == "mi").height


def test_provenance_points_at_the_original_line(samples_log, samples_dir):
    for row in samples_log.events.sample(25, seed=1).iter_rows(named=True):
        raw = samples_log.raw_line(row["source"], row["line"])
        assert raw is not None and raw.startswith(("[", "TID:"))
        assert str(row["user"]).split("@")[0][:3].lower() in raw.lower()
    assert samples_log.raw_line("no/such/file", 1) is None


def test_manifest_hashes_the_stored_bytes_and_marks_duplicates(samples_log, samples_dir):
    for src, sha in samples_log.files.select("source", "sha256").iter_rows():
        assert sha == hashlib.sha256((samples_dir / src).read_bytes()).hexdigest()
    dups = samples_log.files.filter(pl.col("duplicate_of").is_not_null())
    assert dups.select("source", "duplicate_of").rows() == [
        ("mi-node-2/repository/logs/audit-11-03-2026.log.gz", "mi-node-2/repository/logs/audit-11-03-2026.log")]
    assert [(s.name, s.reason) for s in samples_log.skipped] == [
        ("mi-node-1/repository/logs/wso2carbon.log", "not an audit log name")]


def test_the_documentation_lines_and_broken_lines_in_the_samples(samples_log):
    ev = samples_log.events.with_columns(pl.col(pl.Categorical).cast(pl.String))
    assert ev.filter(pl.col("artifact") == "abc.car").height == 1
    assert ev.filter(pl.col("attachment").str.contains("IOException")).height == 1
    assert sorted(samples_log.rejects["reason"].to_list()) == ["no timestamp", "truncated JSON"]
    assert ev.filter(pl.col("user") == "José").height == 1


def test_uploads_and_time_zone(samples_dir):
    data = (samples_dir / "mi-node-2/repository/logs/audit.log").read_bytes()
    utc = audit_lib.load([("audit.log", data)])
    colombo = audit_lib.load([("audit.log", data)], tz="Asia/Colombo")
    assert utc.events.height == colombo.events.height > 0
    shift = (utc.events["timestamp"][0] - colombo.events["timestamp"][0]).total_seconds()
    assert shift == 5.5 * 3600
    with pytest.raises(audit_lib.SourceError, match="Unknown time zone"):
        audit_lib.load(samples_dir, tz="Mars/Olympus")


def test_empty_file_and_fingerprint(tmp_path):
    (tmp_path / "audit.log").write_bytes(b"")
    (tmp_path / "audit-11-01-2026.log").write_bytes(b"")
    log = audit_lib.load(tmp_path)
    assert log.events.height == 0 and log.files["lines"].to_list() == [0, 0]
    assert log.files["duplicate_of"].null_count() == 2
    again, tokyo = audit_lib.load(tmp_path), audit_lib.load(tmp_path, tz="Asia/Tokyo")
    assert log.fingerprint == again.fingerprint != tokyo.fingerprint


def test_raw_line_numbers_lines_as_the_loader_does():
    data = b"note\x0bwith a vertical tab\n[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - admin logged in at [x]\r\n"
    log = audit_lib.load([("audit.log", data)])
    assert log.events["line"].to_list() == [2]
    assert log.raw_line("audit.log", 2) == "[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - admin logged in at [x]"
    assert log.raw_line("audit.log", 3) is None and log.raw_line("audit.log", 0) is None


def _mi_at(wall: str, proxy: str) -> str:
    return (f'[{wall},000]  INFO {{AUDIT_LOG}} - {{"performedBy":"admin","action":"enabled",'
            f'"type":"proxy_service","info":"{{\\"proxyName\\":\\"{proxy}\\"}}"}}\n')


def test_a_repeated_hour_is_placed_by_the_order_of_the_files_lines():
    # Europe/Berlin, 2026-10-25: 02:00-03:00 happens twice (CEST, then CET)
    text = "".join([_mi_at("2026-10-25 01:50:00", "a"), _mi_at("2026-10-25 02:30:00", "first"),
                    _mi_at("2026-10-25 02:10:00", "second"), _mi_at("2026-10-25 02:40:00", "third"),
                    _mi_at("2026-10-25 03:05:00", "b")])
    log = audit_lib.load([("audit.log", text.encode())], tz="Europe/Berlin")
    ev = log.events.with_columns(pl.col("artifact").cast(pl.String))
    utc = dict(zip(ev["artifact"], ev["timestamp"].dt.convert_time_zone("UTC").dt.strftime("%H:%M"), strict=True))
    assert utc == {"a": "23:50", "first": "00:30", "second": "01:10", "third": "01:40", "b": "02:05"}
    assert not ev["time_ambiguous"].any()
    assert ev["artifact"].to_list() == ["a", "first", "second", "third", "b"]  # in true time order


def test_a_repeated_hour_that_nothing_decides_is_flagged():
    text = _mi_at("2026-10-25 01:50:00", "a") + _mi_at("2026-10-25 02:30:00", "x") + _mi_at("2026-10-25 03:30:00", "b")
    ev = audit_lib.load([("audit.log", text.encode())], tz="Europe/Berlin").events
    assert ev["time_ambiguous"].to_list() == [False, True, False]


def test_changing_the_zone_reuses_the_parsed_log(samples_dir, monkeypatch):
    log = audit_lib.load(samples_dir)
    direct = audit_lib.load(samples_dir, tz="America/New_York")
    from audit_lib.intake import loader

    monkeypatch.setattr(loader, "parse_batch", lambda *a, **k: pytest.fail("parsed again"))
    moved = log.with_tz("America/New_York")
    assert moved.tz == "America/New_York"
    assert moved.events.equals(direct.events)
    assert moved.files.equals(direct.files)


def test_actor_folds_the_tenant_and_tells_products_apart():
    mi_line = _mi_at("2026-11-02 10:00:00", "p")
    apim = ("TID: [-1234] [2026-11-02 10:01:00,000]  INFO {AUDIT_LOG} - 'admin@carbon.super [-1234]' logged in at "
            "[2026-11-02 10:01:00,000+0000] from IP address 10.0.0.1\n"
            "TID: [-1234] [2026-11-02 10:02:00,000]  INFO {AUDIT_LOG} - {\"performedBy\":\"admin\",\"action\":"
            "\"created\",\"typ\":\"API\",\"info\":{\"name\":\"Orders\"}}\n")
    log = audit_lib.load([("mi/audit.log", mi_line.encode()), ("apim/audit.log", apim.encode())])
    pairs = log.events.select(pl.col("user", "actor", "product").cast(pl.String)).rows()
    assert pairs == [("admin", "admin (mi)", "mi"), ("admin@carbon.super", "admin (apim)", "apim"),
                     ("admin", "admin (apim)", "apim")]


def test_same_named_uploads_from_several_nodes_lose_nothing(samples_dir):
    uploads, expected = [], 0
    for node in ("mi-node-1", "mi-node-2"):
        for f in sorted((samples_dir / node / "repository/logs").glob("audit-11-1[2-6]-2026.log")):
            uploads.append((f.name, f.read_bytes()))
    names = [n for n, _ in uploads]
    assert len(names) > len(set(names))  # the nodes' rotated files share names
    for name, data in uploads:
        expected += audit_lib.load([(name, data)]).events.height
    log = audit_lib.load(uploads)
    assert log.files.height == len(uploads) and log.events.height == expected
    assert log.files["source"].n_unique() == len(uploads)
    labelled = audit_lib.load(uploads[:3], label="mi-node-1")
    assert set(labelled.events["node"].cast(pl.String)) == {"mi-node-1"}
