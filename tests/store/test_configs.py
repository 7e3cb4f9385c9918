"""The store keeps each node's log4j2.properties: `findings --store` and `report --store` raise the configuration
findings `findings FOLDER` raises, a row is recorded only when a file changed, and `verify` catches an altered row."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("deltalake", reason="the event store needs requirements-store.txt (deltalake)")

from audit_lib.cli import main  # noqa: E402
from audit_lib.store import ingest, verify  # noqa: E402
from audit_lib.store import tables as T  # noqa: E402
from tests.store.test_store import mi_lines  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "support" / "data" / "log4j2"
SHIPPED = (DATA / "mi-4.4.properties").read_text()
OFF = SHIPPED.replace("logger.AUDIT_LOG.level = INFO", "logger.AUDIT_LOG.level = OFF")


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    """Three MI nodes, each with its conf/log4j2.properties; mi3's sets AUDIT_LOG OFF."""
    root = tmp_path / "wso2"
    for k, node in enumerate(("mi1", "mi2", "mi3")):
        logs = root / node / "repository" / "logs"
        logs.mkdir(parents=True)
        (logs / "audit.log").write_text(mi_lines(datetime(2026, 11, 20, 8), 12, seed=k))
        (root / node / "conf").mkdir()
        (root / node / "conf" / "log4j2.properties").write_text(OFF if node == "mi3" else SHIPPED)
    return root


def findings_json(*args: str, capsys) -> list[dict]:
    main(["findings", *args, "--json"])
    out = capsys.readouterr().out
    # review-missing reads the store's reviews, which folders do not have: not part of these comparisons
    return [f for f in (json.loads(line) for line in out.splitlines()) if f["rule"] != "review-missing"]


def config_rows(store: Path) -> pl.DataFrame:
    loc = T.Location.of(store)
    return T.read(loc, T.CONFIGS, T.head(loc).version(T.CONFIGS))


def test_findings_from_the_store_are_those_of_the_folders(estate: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    ingest(estate, store)
    from_folder = findings_json(str(estate), capsys=capsys)
    from_store = findings_json("--store", str(store), capsys=capsys)
    off = [f for f in from_store if f["rule"] == "audit-logger-missing"]
    assert [(f["node"], f["source"]) for f in off] == [("mi3", "mi3/conf/log4j2.properties")]
    assert "set to OFF" in off[0]["meaning"]
    config_rules = {"audit-logger-missing", "rollover-overwrites-archives", "retention-below-12-months",
                    "archive-at-size-limit", "missing-pci-fields"}
    assert {f["rule"] for f in from_folder} & config_rules == {f["rule"] for f in from_store} & config_rules
    key = ("id", "rule", "severity", "summary", "meaning", "evidence", "source")
    assert [{k: f.get(k) for k in key} for f in from_store] == [{k: f.get(k) for k in key} for f in from_folder]
    assert findings_json("--store", str(store), "--no-config", capsys=capsys) == findings_json(
        str(estate), "--no-config", capsys=capsys)


def test_the_report_of_a_store_raises_the_configuration_findings(estate: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest(estate, store)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["report", "--store", str(store), "--pdf", str(out / "s.pdf")]) == 0
    assert main(["report", str(estate), "--pdf", str(out / "f.pdf")]) == 0
    rules = {name: [json.loads(line) for line in (out / f"{name}.findings.jsonl").read_text().splitlines()]
             for name in ("s", "f")}
    assert [(f["id"], f["rule"]) for f in rules["s"]] == [(f["id"], f["rule"]) for f in rules["f"]]
    assert any(f["rule"] == "audit-logger-missing" and f["node"] == "mi3" for f in rules["s"])


def test_a_row_is_recorded_only_when_a_file_changed(estate: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    assert ingest(estate, store).configs == 3
    rows = config_rows(store)
    assert rows.select("node", "source").rows() == [(n, f"{n}/conf/log4j2.properties") for n in ("mi1", "mi2", "mi3")]
    assert rows.filter(pl.col("node") == "mi3")["text"].item() == OFF
    r = ingest(estate, store)
    assert (r.seq, r.configs) == (None, 0)  # nothing changed: nothing recorded, no entry
    (estate / "mi3" / "conf" / "log4j2.properties").write_text(SHIPPED)  # mi3 fixed, no new log line
    r = ingest(estate, store)
    assert (r.seq, r.configs, r.events_added) == (2, 1, 0)
    assert config_rows(store).height == 4
    assert not [f for f in findings_json("--store", str(store), capsys=capsys) if f["rule"] == "audit-logger-missing"]
    assert verify(store).ok


@pytest.mark.parametrize("edit", ["text", "drop"])
def test_an_altered_stored_configuration_fails_verify(estate: Path, tmp_path: Path, edit: str, capsys) -> None:
    store = tmp_path / "store"
    ingest(estate, store)
    assert verify(store).ok
    [data] = sorted((store / T.CONFIGS).glob("*.parquet"))
    rows = pl.read_parquet(data)
    if edit == "text":  # mi3's AUDIT_LOG OFF turned back to INFO in the stored copy
        rows = rows.with_columns(pl.col("text").str.replace("logger.AUDIT_LOG.level = OFF",
                                                            "logger.AUDIT_LOG.level = INFO", literal=True))
    else:
        rows = rows.filter(pl.col("node") != "mi3")
    rows.write_parquet(data)
    assert main(["verify", "--store", str(store), "--json"]) == 4
    problems = {p["what"] for p in json.loads(capsys.readouterr().out)["problems"]}
    assert {"configs table", f"configs/{data.name}"} <= problems


def test_a_store_made_before_the_configs_table_verifies_and_gains_it(estate: Path, tmp_path: Path, monkeypatch,
                                                                      capsys) -> None:
    store = tmp_path / "store"
    logs_only = tmp_path / "logs-only"
    for node in ("mi1", "mi2", "mi3"):  # the logs without their conf/
        (logs_only / node).mkdir(parents=True)
        (estate / node / "repository").rename(logs_only / node / "repository")
    with monkeypatch.context() as m:
        m.setattr(T, "TABLES", tuple(t for t in T.TABLES if t != T.CONFIGS))
        ingest(logs_only, store)
    assert not (store / T.CONFIGS).exists()
    rep = verify(store)
    assert rep.ok and any("no configs table" in n for n in rep.notes)
    assert not [f for f in findings_json("--store", str(store), capsys=capsys) if f["rule"] == "audit-logger-missing"]
    for node in ("mi1", "mi2", "mi3"):  # the confs given to the next ingest
        (logs_only / node / "conf").mkdir()
        (logs_only / node / "conf" / "log4j2.properties").write_text(
            (estate / node / "conf" / "log4j2.properties").read_text())
    assert ingest(logs_only, store).configs == 3
    rep = verify(store)
    assert rep.ok and not any("no configs table" in n for n in rep.notes)
    assert [f["node"] for f in findings_json("--store", str(store), capsys=capsys)
            if f["rule"] == "audit-logger-missing"] == ["mi3"]


def test_a_configuration_changed_between_ingests_is_a_finding(estate: Path, tmp_path: Path, capsys) -> None:
    """The history of the configuration is evidence: AUDIT_LOG switched off and on again between two daily
    reviews leaves no trace in the last copy, but the store kept every one."""
    store = tmp_path / "store"
    conf = {node: estate / node / "conf" / "log4j2.properties" for node in ("mi1", "mi2", "mi3")}
    ingest(estate, store)
    conf["mi3"].write_text(SHIPPED)  # AUDIT_LOG back to INFO
    conf["mi1"].write_text(SHIPPED.replace("audit-%d{MM-dd-yyyy}.log", "audit-%d{MM-dd-yyyy}-%i.log"))
    ingest(estate, store)
    conf["mi2"].write_text("# reviewed\n" + SHIPPED)  # a comment: the file changed, no property did
    ingest(estate, store)
    found = findings_json("--store", str(store), capsys=capsys)
    changed = {f["node"]: f for f in found if f["rule"] == "config-changed"}
    assert changed.keys() == {"mi1", "mi2", "mi3"}
    assert changed["mi3"]["severity"] == "high"
    assert "writes to audit.log again" in changed["mi3"]["summary"]
    assert changed["mi3"]["evidence"] == [f"mi3/conf/log4j2.properties:{line_of('logger.AUDIT_LOG.level')}: "
                                          "logger.AUDIT_LOG.level = INFO"]
    assert changed["mi1"]["severity"] == "medium" and "1 property changed" in changed["mi1"]["summary"]
    assert changed["mi1"]["evidence"][0].endswith("audit-%d{MM-dd-yyyy}-%i.log")
    assert (changed["mi2"]["severity"], changed["mi2"]["evidence"]) == ("low", [])
    assert "no property changed" in changed["mi2"]["summary"]
    assert not [f for f in findings_json("--store", str(store), "--no-config", capsys=capsys)
                if f["rule"] == "config-changed"]
    assert verify(store).ok


def line_of(key: str) -> int:
    return next(i for i, line in enumerate(SHIPPED.splitlines(), 1) if line.startswith(key))


def test_a_configuration_too_large_to_read_is_kept_as_such(estate: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    big = estate / "mi2" / "conf" / "log4j2.properties"
    big.write_text(SHIPPED + "# padding\n" * 120_000)  # over 1 MB: the check does not read it, from folders either
    assert ingest(estate, store).configs == 3
    row = config_rows(store).filter(pl.col("node") == "mi2").row(0, named=True)
    assert (row["text"], row["sha256"], row["error"]) == (None, None, "larger than 1,048,576 bytes: not read")
    key = ("id", "rule", "summary", "evidence")
    assert [{k: f.get(k) for k in key} for f in findings_json("--store", str(store), capsys=capsys)] == [
        {k: f.get(k) for k in key} for f in findings_json(str(estate), capsys=capsys)]
    assert ingest(estate, store).seq is None  # the same error again: nothing recorded
    assert verify(store).ok
