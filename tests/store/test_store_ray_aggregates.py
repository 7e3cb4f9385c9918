"""The store's aggregates on Ray: the summary, key figures, counts, activity over time and people computed as Ray
tasks over the events' data files equal the local computation. One local Ray instance serves the whole module;
the store is built once from generated logs of several nodes over three months (a clock change included) and
the bundled samples (rejects, a duplicate, a file left alone)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("deltalake", reason="the event store needs requirements-store.txt (deltalake)")
ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -r requirements-store.txt)")

from audit_lib.analysis.summary import summary  # noqa: E402
from audit_lib.cli import main  # noqa: E402
from audit_lib.demo.estate import write_estate  # noqa: E402
from audit_lib.store import Store, StoreError, append_events, ingest, open_store_log  # noqa: E402
from audit_lib.store import aggregates as agg  # noqa: E402
from audit_lib.store import distributed as D  # noqa: E402
from audit_lib.store import tables as T  # noqa: E402

TZ = "Europe/Berlin"  # the clocks go back on 25 October: some wall-clock times are ambiguous


@pytest.fixture(scope="module")
def cluster():
    """A local Ray instance for the module: the calls with ray="local" join it instead of starting their own."""
    started = D.connect("local")
    yield "local"
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, samples_dir: Path) -> Path:
    """Two ingests: four generated nodes (20 Sep to 18 Nov, three months), then the bundled samples."""
    root = tmp_path_factory.mktemp("ray-aggregates")
    logs = root / "logs"
    write_estate(logs / "estate", ["mi1", "mi2", "apim1", "is1"], start=date(2026, 9, 20), days=60,
                 events_per_day=15, tz=TZ, seed=3)
    shutil.copytree(samples_dir, logs / "samples")
    ingest(logs / "estate", root / "store", TZ)
    ingest(logs / "samples", root / "store")
    return root / "store"


@pytest.fixture
def per_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """One Ray task per data file (the default groups a store this small into one task)."""
    monkeypatch.setattr(D, "TASK_BYTES", 1)


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_store_spans_nodes_months_and_data_files(store: Path) -> None:
    st = Store(store)
    files = D.event_files(D.Scope(st))
    assert len({f.partition["node"] for f in files}) >= 8 and len({f.partition["month"] for f in files}) >= 3
    assert len(D.file_groups(files, 1)) == len(files) > 10 and len(D.file_groups(files)) == 1
    figures = agg.key_figures(st)
    assert 5_000 < figures["events"] < 10_000
    assert st.scan().select(pl.col("time_ambiguous").sum()).collect().item() > 0


@pytest.mark.usefixtures("per_file")
def test_ray_summary_equals_the_summary_of_the_store_read_whole(store: Path, cluster: str) -> None:
    want = summary(open_store_log(store))
    got = agg.summary_counts(Store(store), ray=cluster)
    first, last = got.pop("first"), got.pop("last")
    assert (first.isoformat(), last.isoformat()) == (want["first"], want["last"])
    assert got == {k: want[k] for k in got}
    for key in ("by_user", "by_actor", "by_type", "by_action", "by_node"):
        assert list(got[key].items()) == list(want[key].items())  # the same order, most first
    assert got["ambiguous_times"] > 0 and "(unknown)" in got["by_user"]
    assert agg.summary_counts(Store(store)) == {**got, "first": first, "last": last}  # computed here: the same


@pytest.mark.usefixtures("per_file")
def test_ray_aggregates_equal_those_of_the_rollups_and_of_a_scan(store: Path, cluster: str) -> None:
    st = Store(store)
    figures = agg.key_figures(st, ray=cluster)
    assert figures == agg.key_figures(st) == agg.key_figures(st.scan())
    assert_frame_equal(agg.per_user(st, ray=cluster), agg.per_user(st))
    assert_frame_equal(agg.per_user(st, ray=cluster), agg.per_user(st.scan()))
    for column in ("action", "node", "user", "artifact_type", "outcome"):
        assert_frame_equal(agg.counts_by(st, column, ray=cluster), agg.counts_by(st.scan(), column))
    assert_frame_equal(agg.counts_by(st, "action", 3, ray=cluster), agg.counts_by(st, "action", 3))
    for every, by in (("1d", "artifact_type"), ("1h", None), ("1w", "node")):
        assert_frame_equal(agg.over_time(st, every, by, ray=cluster), agg.over_time(st, every, by))
    assert_frame_equal(agg.over_time(st, "15m", "action", ray=cluster), agg.over_time(st.scan(), "15m", "action"))


@pytest.mark.usefixtures("per_file")
def test_a_scope_on_ray_reads_only_its_partitions_and_equals_the_scope_read_here(store: Path, cluster: str) -> None:
    st = Store(store)
    scope = D.Scope(st, start=datetime(2026, 10, 1, tzinfo=UTC), end=datetime(2026, 11, 10, tzinfo=UTC),
                    nodes=["mi1", "apim1", "mi-node-1"], where=pl.col("outcome").ne_missing("failure"))
    files = D.event_files(scope)
    assert 0 < len(files) < len(D.event_files(D.Scope(st)))
    assert {f.partition["node"] for f in files} == {"mi1", "apim1", "mi-node-1"}
    assert {f.partition["month"] for f in files} == {"2026-10", "2026-11"}
    figures = agg.key_figures(scope, ray=cluster)
    assert figures == agg.key_figures(scope) and 0 < figures["events"] < agg.key_figures(st)["events"]
    assert figures["failures"] == 0 and figures["nodes"] == 3
    assert_frame_equal(agg.per_user(scope, ray=cluster), agg.per_user(scope))
    assert_frame_equal(agg.per_user(scope), agg.per_user(scope.scan(), st.names_table()))
    assert_frame_equal(agg.counts_by(scope, "user", ray=cluster), agg.counts_by(scope, "user"))
    assert_frame_equal(agg.over_time(scope, "1d", "node", ray=cluster), agg.over_time(scope, "1d", "node"))
    assert agg.summary_counts(scope, ray=cluster) == agg.summary_counts(scope)
    nothing = D.Scope(st, nodes=["no-such-node"])
    assert agg.key_figures(nothing, ray=cluster) == agg.key_figures(nothing)
    assert agg.key_figures(nothing, ray=cluster)["events"] == 0
    assert agg.per_user(nothing, ray=cluster).is_empty() and agg.over_time(nothing, ray=cluster).is_empty()


def test_the_files_read_as_the_delta_reader_reads_them(tmp_path: Path) -> None:
    """Partition values with characters that Delta escapes, a null partition, and the read through the table's
    storage (what an object store uses) equal to the direct scan."""
    t = datetime(2026, 3, 1, 12, tzinfo=UTC)
    nodes = ["mi a%b/c", "x[1]*", None, "x[1]*"]
    ev = pl.DataFrame({"timestamp": [t] * 4, "node": nodes, "month": ["2026-03"] * 4, "user": ["u", "v", "w", "u"],
                       "source": ["s"] * 4, "line": [1, 2, 3, 4], "wall": [t.replace(tzinfo=None)] * 4})
    ev = ev.with_columns([pl.lit(None, dt).alias(c) for c, dt in T.EVENTS_SCHEMA.items() if c not in ev.columns])
    append_events(tmp_path / "s", [ev.head(2), ev.tail(2)], [], "UTC")
    st = Store(tmp_path / "s")
    files = D.event_files(D.Scope(st))
    assert len(files) == 4 and {f.partition["node"] for f in files} == set(nodes)  # x[1]* in each frame
    want = pl.read_delta(str(tmp_path / "s" / "events")).select(list(T.EVENTS_SCHEMA)).sort("line")
    for through in (False, True):
        assert_frame_equal(D.read_files(st.loc, files, through_storage=through).collect().sort("line"), want)


def test_the_cli_summary_on_ray_prints_what_it_prints_without(store: Path, cluster: str,
                                                                capsys: pytest.CaptureFixture) -> None:
    code, local, _ = run(capsys, "summary", "--store", str(store), "--json")
    assert code == 0
    code, remote, err = run(capsys, "summary", "--store", str(store), "--ray", cluster, "--json")
    assert code == 0 and not err and remote == local
    assert json.loads(remote)["rejects"] > 0 and json.loads(remote)["duplicate_files"] > 0
    assert run(capsys, "summary", "--store", str(store), "--ray", cluster)[1] == \
        run(capsys, "summary", "--store", str(store))[1]
    assert run(capsys, "summary", "--store", str(store), "--ray", cluster, "--tz", TZ)[1] == \
        run(capsys, "summary", "--store", str(store))[1]


def test_ray_refuses_what_it_cannot_do_with_a_message(store: Path, cluster: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture, samples_dir: Path) -> None:
    code, _, err = run(capsys, "summary", str(samples_dir), "--ray", cluster)
    assert code == 1 and "--ray reads an event store" in err
    code, _, err = run(capsys, "summary", "--store", str(store), "--ray", cluster, "--tz", "UTC")
    assert code == 1 and "own zone (Europe/Berlin)" in err
    code, _, err = run(capsys, "summary", "--store", str(tmp_path / "none"), "--ray", cluster)
    assert code == 1 and "No event store" in err
    with pytest.raises(StoreError, match="LazyFrame"):
        agg.key_figures(Store(store).scan(), ray=cluster)
    damaged = tmp_path / "damaged"
    shutil.copytree(store, damaged)
    victim = sorted((damaged / "events").rglob("*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    code, out, err = run(capsys, "summary", "--store", str(damaged), "--ray", cluster)
    assert code == 1 and not out and "cannot be read on Ray" in err and "verify" in err
    assert "Traceback" not in err
