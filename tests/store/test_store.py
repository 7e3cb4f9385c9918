"""The event store: incremental ingest, the same log as loading the files, tamper evidence, interrupted ingests,
lazy scans and Ray. Every store here is built from real log files in a temporary folder."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("deltalake", reason="the event store needs requirements-store.txt (deltalake)")

import audit_lib  # noqa: E402
from audit_lib.analysis.summary import summary  # noqa: E402
from audit_lib.checks.rule import RULES_DIR  # noqa: E402
from audit_lib.cli import main  # noqa: E402
from audit_lib.store import ingest, open_store_log, scan_store, verify  # noqa: E402
from audit_lib.store import tables as T  # noqa: E402

ingest_mod = sys.modules["audit_lib.store.ingest"]  # the module (the package exports the function)
parsing_mod = sys.modules["audit_lib.store.parsing"]
USERS = ["admin", "jane.ops", "deployer"]


def mi_lines(start: datetime, n: int, seed: int = 0) -> str:
    """`n` Micro Integrator audit lines, one a minute from `start`: sign-ins and change records."""
    out = []
    for i in range(n):
        ts = start + timedelta(minutes=i)
        stamp = ts.strftime("%Y-%m-%d %H:%M:%S") + f",{(i * 7 + seed) % 1000:03d}"
        user = USERS[(i + seed) % len(USERS)]
        if i % 4 == 0:
            msg = f"{user} logged in at [{ts.strftime('%a %b %d %H:%M:%S')} UTC {ts.year}]"
        else:
            info = json.dumps(json.dumps({"proxyName": f"Proxy{(i + seed) % 11}"}))
            msg = (f'{{"performedBy":"{user}","action":"{"enabled" if i % 2 else "disabled"}",'
                   f'"type":"proxy_service","info":{info}}}')
        out.append(f"[{stamp}]  INFO {{AUDIT_LOG}} - {msg}\n")
    return "".join(out)


def as_text(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col(pl.Categorical).cast(pl.String))


def assert_same_log(store: Path, folder: Path, tz: str | None = None, skipped: bool = True) -> audit_lib.AuditLog:
    """The store reads back as exactly what `load` gives for the folder: events, rejects, manifest, skipped
    (the store lists the files left alone by every ingest, under the names each ingest gave them)."""
    got, want = open_store_log(store, tz), audit_lib.load(folder, tz or "UTC")
    assert_frame_equal(as_text(got.events), as_text(want.events))
    assert_frame_equal(got.rejects, want.rejects)
    assert_frame_equal(got.files, want.files)
    if skipped:
        assert got.skipped == want.skipped
        assert summary(got) == summary(want)
    return got


@pytest.fixture
def estate(tmp_path: Path, samples_dir: Path) -> Path:
    """A copy of the bundled samples (four nodes, plain and gzipped rotated files, a duplicate, a non-log)."""
    dest = tmp_path / "logs"
    shutil.copytree(samples_dir, dest)
    return dest


@pytest.fixture
def node(tmp_path: Path) -> Path:
    """One MI node with a rotated file and a growing audit.log."""
    logs = tmp_path / "mi" / "mi-a" / "repository" / "logs"
    logs.mkdir(parents=True)
    (logs / "audit-11-19-2026.log").write_text(mi_lines(datetime(2026, 11, 19, 8), 30, seed=1))
    (logs / "audit.log").write_text(mi_lines(datetime(2026, 11, 20, 8), 20, seed=2))
    return tmp_path / "mi"


def data_files(store: Path, table: str) -> list[Path]:
    return sorted(p for p in (store / table).rglob("*.parquet"))


# ------------------------------------------------------------------------------------------------- ingest


def test_ingest_twice_adds_nothing(estate: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = ingest(estate, store)
    want = audit_lib.load(estate)
    assert first.seq == 1 and first.events_added == want.events.height
    assert first.rejects_added == want.rejects.height
    assert first.new + first.duplicate == want.files.height and first.duplicate == 1
    assert first.skipped == len(want.skipped) == 1
    versions = {t: T.table_version(T.Location.of(store), t) for t in (*T.TABLES, T.CHAIN)}
    second = ingest(estate, store)
    assert second.seq is None and second.events_added == 0 and second.rejects_added == 0
    assert second.new == second.grown == second.rotated == 0 and second.known == want.files.height
    assert {t: T.table_version(T.Location.of(store), t) for t in versions} == versions  # no new version at all
    assert_same_log(store, estate)


def test_store_and_files_give_the_same_summary(estate: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    assert main(["ingest", str(estate), "--store", str(store), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["seq"] == 1 and out["events_added"] > 1000 and out["files_count"]["duplicate"] == 1
    for extra in ([], ["--json"], ["--tz", "Asia/Colombo"]):
        assert main(["summary", str(estate), *extra]) == 0
        from_files = capsys.readouterr().out
        assert main(["summary", "--store", str(store), *extra]) == 0
        assert capsys.readouterr().out == from_files
    assert_same_log(store, estate, "Asia/Colombo")


@pytest.fixture(scope="module")
def samples_store(tmp_path_factory: pytest.TempPathFactory, samples_dir: Path) -> Path:
    """The bundled samples ingested once (read only in the tests that use it)."""
    store = tmp_path_factory.mktemp("samples-store") / "store"
    ingest(samples_dir, store)
    return store


@pytest.mark.parametrize("command", [
    ["findings"], ["findings", "--json", "--fail-on", "medium"], ["findings", "--tz", "Asia/Colombo",
                                                                    "--from", "2026-11-05", "--events", "2"],
    ["sessions"], ["sessions", "--json", "--from", "2026-11-03", "--to", "2026-11-10", "--node", "mi-node-1"],
    ["sessions", "--tz", "Europe/Berlin", "--timeout", "20m"]])
def test_findings_and_sessions_read_the_store_as_the_files(command: list[str], samples_store: Path,
                                                           samples_dir: Path, tmp_path: Path, capsys) -> None:
    if command[0] == "findings":  # the rules that read only events (review-missing reads a store's reviews)
        rules = tmp_path / "rules"
        shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("review-missing.json"))
        command = [*command, "--rules", str(rules)]
    code = main([command[0], str(samples_dir), *command[1:]])
    from_files = capsys.readouterr().out
    assert main([command[0], "--store", str(samples_store), *command[1:]]) == code
    assert capsys.readouterr().out == from_files
    assert len(from_files.splitlines()) > 5


def test_findings_and_sessions_need_paths_or_a_store(samples_store: Path, samples_dir: Path, capsys) -> None:
    for command in ("findings", "sessions"):
        assert main([command]) == 1
        assert "give PATH..." in capsys.readouterr().err
        assert main([command, str(samples_dir), "--store", str(samples_store)]) == 1
        assert "not both" in capsys.readouterr().err
        assert main([command, "--store", str(samples_store), "--from", "someday"]) == 1
        assert "Cannot read 'someday' as a date" in capsys.readouterr().err


def test_report_reads_the_store_as_the_files(samples_store: Path, samples_dir: Path, tmp_path: Path, capsys) -> None:
    scope = ["--from", "2026-11-02", "--to", "2026-11-12", "--node", "mi-node-1", "--node", "is-node", "--no-config"]
    outputs = {}
    for name, source in [("files", [str(samples_dir)]), ("store", ["--store", str(samples_store)])]:
        folder = tmp_path / name
        folder.mkdir()
        assert main(["report", *source, *scope, "--pdf", str(folder / "r.pdf"), "--jsonl", str(folder / "r.jsonl")]) \
            == 0
        printed = capsys.readouterr().out
        outputs[name] = {f.name: f.read_bytes() for f in folder.iterdir() if not f.name.startswith("r.pdf")}
        outputs[name]["events"] = printed.split(" events,")[0].rsplit("edition, ", 1)[-1]
    assert outputs["store"] == outputs["files"]  # the CSV, the findings, the JSON Lines: byte for byte
    assert int(outputs["files"]["events"].replace(",", "")) > 100 and len(outputs["files"]) >= 3


def test_report_reads_a_store_in_its_own_zone(samples_dir: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    ingest(samples_dir, store, "Asia/Colombo")
    scope = ["--from", "2026-11-02", "--to", "2026-11-05", "--node", "mi-node-1", "--no-config", "--no-compare"]
    csv = {}
    for name, source in [("files", [str(samples_dir), "--tz", "Asia/Colombo"]), ("store", ["--store", str(store)])]:
        assert main(["report", *source, *scope, "--pdf", str(tmp_path / f"{name}.pdf")]) == 0
        csv[name] = (tmp_path / f"{name}.csv").read_bytes()
    capsys.readouterr()
    assert csv["store"] == csv["files"] and b"+05:30" in csv["store"]  # not the wall times read as UTC


def test_a_second_folder_adds_only_its_files(estate: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest(estate / "mi-node-1", store)
    r = ingest(estate, store)  # the same node's files under names relative to another folder: already stored
    whole = audit_lib.load(estate)
    part = audit_lib.load(estate / "mi-node-1")
    assert r.events_added == whole.events.height - part.events.height
    assert open_store_log(store).events.height == whole.events.height
    assert summary(open_store_log(store))["by_node"] == summary(whole)["by_node"]


def test_append_adds_only_the_new_lines(node: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    active = node / "mi-a" / "repository" / "logs" / "audit.log"
    ingest(node, store)
    before = open_store_log(store).events.height
    more = mi_lines(datetime(2026, 11, 20, 9), 15, seed=3)
    with active.open("a") as f:
        f.write(more + more[:40])  # 15 whole lines and the start of one still being written
    r = ingest(node, store)
    assert (r.grown, r.new, r.known, r.events_added) == (1, 0, 1, 15)
    log = open_store_log(store)
    assert log.events.height == before + 15
    lines = log.events.filter(pl.col("source").cast(pl.String).str.ends_with("audit.log"))["line"].sort()
    assert lines.to_list() == list(range(1, 36))  # numbered on from the stored lines
    assert log.rejects.is_empty()  # the incomplete line waits for the next ingest
    with active.open("a") as f:
        f.write(more[40:] + mi_lines(datetime(2026, 11, 20, 10), 5, seed=4))
    r = ingest(node, store)
    assert (r.grown, r.events_added) == (1, 15 + 5)  # the completed line, the rest of `more`, 5 more
    assert_same_log(store, node)
    assert ingest(node, store).seq is None


def test_crlf_split_between_ingests_counts_one_line_break(node: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    active = node / "mi-a" / "repository" / "logs" / "audit.log"
    text = mi_lines(datetime(2026, 11, 20, 9), 6, seed=5).replace("\n", "\r\n")
    active.write_bytes(text[:-1].encode())  # ends with the CR of a CRLF
    ingest(node, store)
    active.write_bytes(text.encode())
    ingest(node, store)
    assert_same_log(store, node)


def test_rotation_adds_nothing(node: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    logs = node / "mi-a" / "repository" / "logs"
    ingest(node, store)
    # log4j renames audit.log at midnight and starts a new one
    (logs / "audit.log").rename(logs / "audit-11-20-2026.log")
    (logs / "audit.log").write_text(mi_lines(datetime(2026, 11, 21, 0, 5), 7, seed=6))
    r = ingest(node, store)
    assert (r.seen, r.new, r.events_added) == (1, 1, 7)
    assert_same_log(store, node)
    # lines added before the next rotation, and the rotated file gzipped: only those lines are new
    with (logs / "audit.log").open("a") as f:
        f.write(mi_lines(datetime(2026, 11, 21, 9), 4, seed=7))
    ingest(node, store)
    with (logs / "audit.log").open("a") as f:
        f.write(mi_lines(datetime(2026, 11, 21, 23), 3, seed=8))
    (logs / "audit-11-21-2026.log.gz").write_bytes(gzip.compress((logs / "audit.log").read_bytes()))
    (logs / "audit.log").write_text(mi_lines(datetime(2026, 11, 22, 0, 1), 2, seed=9))
    r = ingest(node, store)
    assert (r.rotated, r.new, r.events_added) == (1, 1, 3 + 2)
    assert_same_log(store, node)
    assert verify(store, [node]).ok


def test_node_names_that_paths_escape_read_back_in_every_reader(tmp_path: Path) -> None:
    """The data files are written by polars and committed through the Delta log: their partition folders must
    name the node as Delta's own writer would, for polars, deltalake and other engines alike."""
    logs_dir = tmp_path / "logs"
    names = ["mi 1=a%b#é", "x?y&z+[w]", "plain"]
    for i, name in enumerate(names):
        logs = logs_dir / name / "repository" / "logs"
        logs.mkdir(parents=True)
        (logs / "audit.log").write_text(mi_lines(datetime(2026, 11, 20 + i, 8), 10, seed=i))
    store = tmp_path / "store"
    ingest(logs_dir, store)
    assert_same_log(store, logs_dir)
    from deltalake import DeltaTable

    table = pl.from_arrow(DeltaTable(str(store / "events")).to_pyarrow_table())
    assert sorted(table["node"].unique().to_list()) == sorted(names) and table.height == 30
    assert verify(store, [logs_dir]).ok


# ------------------------------------------------------------------------------------------ tamper evidence


def test_verify_passes_on_an_intact_store(estate: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    r1 = ingest(estate / "mi-node-2", store)
    ingest(estate, store)
    rep = verify(store, [estate], anchor=r1.head)
    assert rep.ok, rep.problems
    assert rep.entries == 2 and rep.checked["events rows"] == audit_lib.load(estate).events.height
    assert main(["verify", "--store", str(store)]) == 0


def test_editing_a_stored_data_file_is_detected(estate: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    ingest(estate, store)
    target = data_files(store, "events")[0]
    df = pl.read_parquet(target)
    df.with_columns(user=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("nobody")).otherwise("user")) \
        .write_parquet(target)  # same rows, one name changed
    rep = verify(store)
    assert not rep.ok
    assert any(p["check"] == "data" and "SHA-256 differs" in p["detail"] and target.name in p["what"]
               for p in rep.problems)
    assert main(["verify", "--store", str(store), "--json"]) == 4
    assert json.loads(capsys.readouterr().out)["ok"] is False


def test_deleted_data_files_and_foreign_versions(estate: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest(estate, store)
    from deltalake import DeltaTable

    DeltaTable(str(store / "events")).delete("node = 'is-node'")  # a Delta version no chain entry names
    rep = verify(store)  # not read, but no stopped ingest explains it: a failure
    assert not rep.ok and any(p["what"] == "events table" and "no stopped ingest explains them" in p["detail"]
                              for p in rep.problems)
    assert open_store_log(store).events.filter(pl.col("node") == "is-node").height > 0
    data_files(store, "rejects")[0].unlink()
    rep = verify(store)
    assert not rep.ok and any(p["what"].startswith("rejects/") and "cannot be read" in p["detail"]
                              for p in rep.problems)


def test_editing_the_manifest_chain_is_detected(estate: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest(estate / "mi-node-1", store)
    ingest(estate, store)

    def rewrite(edit) -> None:
        for path in data_files(store, "chain"):
            df = pl.read_parquet(path)
            if 1 in df["seq"].to_list():
                edit(df).write_parquet(path)

    def fewer_events(df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(entry=pl.col("entry").str.replace(r'"events_added":\d+', '"events_added":1'))

    rewrite(fewer_events)
    rep = verify(store)
    assert not rep.ok and any(p["what"] == "chain entry 1" and "edited" in p["detail"] for p in rep.problems)

    # the entry's own hash recomputed as well: the next entry no longer carries it
    rewrite(lambda df: df.with_columns(hash=pl.col("entry").map_elements(T.entry_hash, return_dtype=pl.String)))
    rep = verify(store)
    assert not rep.ok
    assert any(p["what"] == "chain entry 2" and "chain is broken" in p["detail"] for p in rep.problems)


def test_altered_and_missing_sources_are_detected(node: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    logs = node / "mi-a" / "repository" / "logs"
    ingest(node, store)
    with (logs / "audit.log").open("a") as f:  # growth is not tampering
        f.write(mi_lines(datetime(2026, 11, 20, 11), 2))
    rep = verify(store, [node])
    assert rep.ok and any("has grown" in n for n in rep.notes)
    rotated = logs / "audit-11-19-2026.log"
    rotated.write_text(rotated.read_text().replace("jane.ops", "jane.opz", 1))
    (logs / "audit.log").unlink()
    assert main(["verify", "--store", str(store), "--sources", str(node), "--json"]) == 4
    problems = {p["what"].split(" ")[0].rsplit("/", 1)[-1]: p["detail"]
                for p in json.loads(capsys.readouterr().out)["problems"]}
    assert problems.keys() == {"audit-11-19-2026.log", "audit.log"}
    assert problems["audit-11-19-2026.log"].startswith("altered") and problems["audit.log"].startswith("missing")


def test_a_rotated_file_that_no_longer_matches_audit_log_is_detected(node: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    logs = node / "mi-a" / "repository" / "logs"
    ingest(node, store)
    text = (logs / "audit.log").read_text()
    (logs / "audit-11-20-2026.log").write_text(text.replace("admin", "admln", 1))  # rotated, then edited
    (logs / "audit.log").write_text(mi_lines(datetime(2026, 11, 21, 0, 5), 3))
    rep = verify(store, [node])
    assert [p["what"].split(" ")[0].rsplit("/", 1)[-1] for p in rep.problems] == ["audit.log"]
    assert "no file given starts with the 20 lines" in rep.problems[0]["detail"]
    (logs / "audit-11-20-2026.log").write_text(text)
    assert verify(store, [node]).ok


# --------------------------------------------------------------------------------------------- interruption


def test_an_ingest_stopped_before_its_commit_leaves_the_previous_version(estate: Path, tmp_path: Path,
                                                                          monkeypatch) -> None:
    store = tmp_path / "store"
    ingest(estate / "mi-node-1", store)
    before = open_store_log(store)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(T, "commit_entry", crash)  # events, rejects and files written; the chain entry not
        with pytest.raises(KeyboardInterrupt):
            ingest(estate, store)
    assert T.table_version(T.Location.of(store), "events") == 2  # the stray version is there, unread
    after = open_store_log(store)
    assert_frame_equal(as_text(after.events), as_text(before.events))
    assert_frame_equal(after.files, before.files)
    rep = verify(store)
    assert rep.ok and any("no chain entry names" in n for n in rep.notes)
    r = ingest(estate, store)
    assert r.rolled_back and r.seq == 2
    assert_same_log(store, estate, skipped=False)
    assert verify(store, [estate]).ok


def test_an_ingest_stopped_while_parsing_leaves_the_previous_version(estate: Path, tmp_path: Path,
                                                                     monkeypatch) -> None:
    store = tmp_path / "store"
    ingest(estate / "is-node", store)
    files_before = data_files(store, "events")
    calls = []
    real = parsing_mod.parse_group

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(parsing_mod, "GROUP_FILES", 5)
        m.setattr(parsing_mod, "parse_group", flaky)
        with pytest.raises(Exception, match="disk full"):
            ingest(estate, store)
    assert open_store_log(store).events.height == audit_lib.load(estate / "is-node").events.height
    assert T.table_version(T.Location.of(store), "events") == 1
    assert data_files(store, "events") == files_before  # the files of the groups written before are removed
    r = ingest(estate, store)
    assert not r.rolled_back
    assert_same_log(store, estate, skipped=False)


# ------------------------------------------------------------------------------------------------- reading


def test_scan_store_is_lazy_and_pushes_filters_down(estate: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest(estate, store)
    whole = audit_lib.load(estate).events
    lf = scan_store(store)
    assert isinstance(lf, pl.LazyFrame)
    plan = lf.filter(pl.col("node") == "is-node").select("user").explain()
    assert plan.count("node=is-node") >= 1 and "node=mi-node-1" not in plan  # other nodes' files are not read
    got = lf.filter(pl.col("node") == "is-node").group_by("actor").len().sort("actor").collect()
    want = whole.filter(pl.col("node") == "is-node").group_by(pl.col("actor").cast(pl.String)).len().sort("actor")
    assert_frame_equal(got, want, check_dtypes=False)
    from zoneinfo import ZoneInfo

    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=ZoneInfo("Asia/Colombo"))
    window = scan_store(store, start=start, end=end, nodes=["mi-node-1", "mi-node-2"]).collect()
    expected = whole.filter(pl.col("timestamp") >= start, pl.col("timestamp") < end.astimezone(UTC),
                            pl.col("node").cast(pl.String).is_in(["mi-node-1", "mi-node-2"]))
    assert window.height == expected.height > 0
    assert sorted(window["line"].to_list()) == sorted(expected["line"].to_list())


@pytest.mark.parametrize("scope", [
    {}, {"users": ("jane.ops",)}, {"users": ("admin (apim)", "publisher1")}, {"users": ("admin",)},
    {"start": datetime(2026, 11, 3, tzinfo=UTC), "nodes": ("mi-node-1", "is-node")},
    {"text": "proxy"}, {"outcomes": ("failure",), "end": datetime(2026, 11, 15, tzinfo=UTC)},
    {"outcomes": ("not recorded", "failure")}])
def test_the_apps_store_view_gives_the_figures_of_the_files(scope: dict, samples_store: Path, samples_log) -> None:
    """What the app's pages show of a store (`StoreView`: from the rollups for the whole store, from a scan for a
    scope) equals `audit_lib.analysis.metrics` over the loaded files."""
    from audit_lib.analysis import metrics
    from audit_lib.analysis.filters import Filters, apply_filters
    from audit_lib.store.view import ScopeTooLarge, StoreView

    view, filters = StoreView(samples_store), Filters(**scope)
    events = apply_filters(samples_log.events, filters)
    assert view.count(filters) == events.height > 0
    figures, want = view.key_figures(filters), metrics.key_figures(events)
    assert {k: figures[k] for k in want} == want
    assert_frame_equal(view.per_user(filters), metrics.per_user(events))
    for column in ("user", "action"):
        assert_frame_equal(view.top_values(filters, column), metrics.top_values(events, column))
    hourly = view.hourly(filters, ("artifact_type",))
    for wanted in ("1h", "1d", "1w"):
        every = metrics.bucket_every(hourly, wanted)
        assert every == metrics.bucket_every(events, wanted)
        assert_frame_equal(metrics.over_time(hourly, every, by="artifact_type", top=10, weight="events"),
                           metrics.over_time(events, every, by="artifact_type", top=10))
    who = metrics.per_user(events)["user"][0]
    assert_frame_equal(metrics.over_time(view.person_hourly(filters, who), "1d", by="kind", top=len(metrics.KINDS),
                                         weight="events"), metrics.user_activity(events, who, "1d"))
    mine = events.filter(metrics.who(events).cast(pl.String) == who)
    latest = view.person_latest(filters, who, 20)
    assert latest.select("timestamp", "line").rows() == mine.tail(20).select("timestamp", "line").rows()
    assert_frame_equal(as_text(view.events(filters)), as_text(events))
    with pytest.raises(ScopeTooLarge, match="narrow the time range"):
        view.events(filters, limit=events.height - 1)
    if not scope:
        assert view.options()["actor"] == metrics.options(samples_log.events, "actor")
        assert view.bounds() == (events["timestamp"].min(), events["timestamp"].max())
        assert_frame_equal(view.coverage(), metrics.coverage_gaps(events, samples_log.files, samples_log.tz))
        assert view.ambiguous() == int(events["time_ambiguous"].sum())
        assert_frame_equal(view.log.files, samples_log.files)


def test_actor_follows_products_added_later(tmp_path: Path, samples_dir: Path) -> None:
    """`actor` is derived when read: a name that a later ingest shows in a second product gets qualified."""
    store = tmp_path / "store"
    ingest(samples_dir / "mi-node-1", store)
    ingest(samples_dir / "apim-node", store)
    want = audit_lib.load([samples_dir / "mi-node-1", samples_dir / "apim-node"])
    got = open_store_log(store)
    assert sorted(got.events["actor"].cast(pl.String).unique().drop_nulls().to_list()) == \
        sorted(want.events["actor"].cast(pl.String).unique().drop_nulls().to_list())


# ------------------------------------------------------------------------------------------------ messages


def test_errors_are_one_line(tmp_path: Path, samples_dir: Path) -> None:
    store = tmp_path / "store"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "audit_lib", *args], capture_output=True, text=True)

    r = run("summary", "--store", str(tmp_path / "none"))
    assert r.returncode == 1 and "No event store" in r.stderr and "Traceback" not in r.stderr
    r = run("ingest", str(samples_dir / "is-node"), "--store", str(store), "--tz", "Asia/Colombo")
    assert r.returncode == 0 and "new" in r.stdout and r.stderr == ""  # no progress bar when not a terminal
    r = run("ingest", str(samples_dir / "is-node"), "--store", str(store), "--tz", "UTC")
    assert r.returncode == 1 and "holds times read in Asia/Colombo" in r.stderr
    r = run("summary", str(samples_dir), "--store", str(store))
    assert r.returncode == 1 and "not both" in r.stderr
    r = run("verify", "--store", str(tmp_path / "none"))
    assert r.returncode == 1 and "No event store" in r.stderr
    r = run("ingest", str(tmp_path / "nothing-here"), "--store", str(tmp_path / "new"))
    assert r.returncode == 1 and "No such file" in r.stderr and not (tmp_path / "new").exists()


# ----------------------------------------------------------------------------------------------------- Ray


def test_ray_ingest_yields_the_table_of_a_local_ingest(estate: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install -r requirements-store.txt)")
    local, distributed = tmp_path / "local", tmp_path / "ray"
    a = ingest(estate, local)
    b = ingest(estate, distributed, ray="local")
    assert (a.events_added, a.rejects_added, a.new) == (b.events_added, b.rejects_added, b.new)
    rollup = [(t, list(T.ROLLUP_KEYS[t])) for t in T.ROLLUPS]
    for table, key in [("events", ["source", "line"]), ("rejects", ["source", "line"]), ("files", ["kind", "order"]),
                       *rollup]:
        x = pl.read_delta(str(local / table)).sort(key, nulls_last=True)
        y = pl.read_delta(str(distributed / table)).sort(key, nulls_last=True)
        assert_frame_equal(x, y)
    assert verify(distributed, [estate]).ok


def test_aggregates_of_the_rollups_and_of_scans_match_the_metrics(estate: Path, tmp_path: Path) -> None:
    from audit_lib.analysis import metrics
    from audit_lib.store import Store
    from audit_lib.store import aggregates as agg

    store = tmp_path / "store"
    ingest(estate / "mi-node-1", store, "Asia/Colombo")  # +05:30: local hours are not UTC hours
    ingest(estate, store)  # rollup rows of two ingests, added up when read
    events = audit_lib.load(estate, "Asia/Colombo").events
    st = Store(store)
    want = metrics.key_figures(events)
    for source in (st, st.scan()):
        got = agg.key_figures(source)
        assert {k: got[k] for k in want} == want
        assert_frame_equal(agg.per_user(source), metrics.per_user(events))
        assert agg.counts_by(source, "action")["events"].sum() == events.height
    assert_frame_equal(agg.over_time(st, "1d", "artifact_type"), agg.over_time(st.scan(), "1d", "artifact_type"))
    assert agg.over_time(st, "1h", None)["events"].sum() == events.height
    page = agg.page(st.scan(), n=10)
    assert page.height == 10 and page["timestamp"].to_list() == sorted(events["timestamp"].to_list())[-10:][::-1]
