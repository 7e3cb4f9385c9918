"""The evidence compared with the previous period: stores built from two months of daily rotated files, a node that
goes silent, a steady estate, a source altered or removed after ingest, the PDF pages and the command line."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader

from tests.support.wso2_lines import mi_change, mi_sign, write_node

pytest.importorskip("deltalake", reason="the event store needs requirements-store.txt (deltalake)")

import audit_lib  # noqa: E402
from audit_lib.analysis.filters import Filters, parse_when  # noqa: E402
from audit_lib.cli import main  # noqa: E402
from audit_lib.report import build_report  # noqa: E402
from audit_lib.report.evidence import Period, period_comparison  # noqa: E402
from audit_lib.store import Store, ingest, open_store_log  # noqa: E402
from audit_lib.store import tables as T  # noqa: E402
from audit_lib.store.view import StoreView  # noqa: E402

NODES = ("mi-a", "mi-b", "mi-c")
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


def write_days(root: Path, node: str, first: date, last: date) -> list[Path]:
    """One rotated file a day for `node` (its own content: a sign-in and two changes), as MI names them."""
    out = []
    day = first
    while day <= last:
        t = datetime(day.year, day.month, day.day, 9)
        lines = [mi_sign(t, "admin"),
                 mi_change(t + timedelta(minutes=5), "admin", "enabled", "proxy_service", proxyName=f"{node}-in"),
                 mi_change(t + timedelta(minutes=9), "deployer", "disabled", "proxy_service", proxyName=f"{node}-out")]
        out.append(write_node(root, node, lines, name=f"audit-{day:%m-%d-%Y}.log"))
        day += timedelta(days=1)
    return out


def two_months(root: Path, store: Path, november: dict[str, tuple[date, date] | None]) -> dict[str, list[Path]]:
    """October for every node, ingested; then November's days per node (None: no file at all), ingested."""
    written = {n: write_days(root, n, OCTOBER.first, OCTOBER.last) for n in NODES}
    assert ingest(root, store).seq == 1
    for node, days in november.items():
        if days is not None:
            written[node] += write_days(root, node, *days)
    assert ingest(root, store).seq == 2
    return written


def rel(root: Path, paths: list[Path]) -> set[str]:
    return {p.relative_to(root).as_posix() for p in paths}


def in_period(paths: list[Path], period: Period) -> list[Path]:
    """The files whose day (in their name) falls in `period`."""
    return [p for p in paths if period.first <= datetime.strptime(p.name[6:16], "%m-%d-%Y").date() <= period.last]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pdf_text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def comparison_text(pdf: bytes) -> str:
    text = pdf_text(pdf)
    start = text.index("Compared with the previous period", text.index("Evidence", text.index("Contents") + 100))
    return text[start:text.index("Review", start)]


def november_scope() -> Filters:
    return Filters(start=parse_when("2026-11-01", "UTC"), end=parse_when("2026-11-30", "UTC", end=True))


@pytest.fixture(scope="module")
def silent(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, list[Path]]]:
    """mi-c writes every day of October and nothing in November; mi-a and mi-b write every day of both."""
    base = tmp_path_factory.mktemp("silent")
    full = (NOVEMBER.first, NOVEMBER.last)
    written = two_months(base / "logs", base / "store", {"mi-a": full, "mi-b": full, "mi-c": None})
    return base / "logs", base / "store", written


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, list[Path]]]:
    """Every node writes every day of both months."""
    base = tmp_path_factory.mktemp("steady")
    written = two_months(base / "logs", base / "store", dict.fromkeys(NODES, (NOVEMBER.first, NOVEMBER.last)))
    return base / "logs", base / "store", written


def test_a_node_without_files_in_the_second_month_is_flagged(silent) -> None:
    root, store, written = silent
    c = period_comparison(open_store_log(store), NOVEMBER, store=store)
    assert c.previous == Period(date(2026, 10, 2), date(2026, 10, 31)) and not c.explicit  # the 30 days before
    before = in_period(written["mi-c"], c.previous)
    row = c.per_node.filter(pl.col("node") == "mi-c").row(0, named=True)
    assert (row["files_now"], row["files_before"]) == (0, len(before))
    assert (row["days_now"], row["days_before"]) == (0, c.previous.days)
    assert row["events_before"] == 3 * len(before) and row["events_now"] == 0
    assert row["flag"] == "silent: no file in this period"
    assert c.per_node.filter(pl.col("node") != "mi-c")["flag"].to_list() == ["", ""]
    assert set(c.silent["source"]) == rel(root, before)  # the silent node's files of the previous period
    assert set(c.silent["sha256"]) == {sha(p) for p in before}
    assert [f for f in c.flags if "mi-c" in f] and not [f for f in c.flags if "mi-a" in f or "mi-b" in f]
    # this period's files came in with the second ingest, whose hash is the chain's second entry
    chain = T.chain_rows(T.Location.of(store))
    assert c.chain["seq"].to_list() == [2] and c.chain["hash"].to_list() == [chain["hash"][1]]
    assert c.chain["prev"].to_list() == [chain["hash"][0]] and c.chain_intact
    assert c.chain["files"].to_list() == [len(in_period(written["mi-a"] + written["mi-b"], NOVEMBER))]
    assert set(c.manifest["entries"]) == {"2"} and set(c.silent["entries"]) == {"1"}
    assert c.head == {"seq": 2, "hash": chain["hash"][1]}
    assert not c.sources_checked  # no sources given: nothing checked there


def test_the_report_prints_the_comparison_when_it_reads_a_store(silent) -> None:
    root, store, written = silent
    log = open_store_log(store, "UTC")
    report = build_report(log, november_scope(), store=store)
    text = comparison_text(report.pdf)
    flat = re.sub(r"\s+", " ", text)
    assert "FLAGGED:" in text and "- node mi-c: silent: no file in this period" in flat
    assert re.search(r"mi-c 0 30 0 90 0 30 silent", flat)  # files, events, days covered: now and before
    nospace = re.sub(r"\s+", "", text)
    for path in in_period(written["mi-c"], report.comparison.previous):
        assert path.relative_to(root).as_posix() in nospace and sha(path) in nospace
    chain = T.chain_rows(T.Location.of(store))
    assert chain["hash"][1] in nospace and "Notchecked" in nospace
    assert report.comparison_json == period_comparison(log, NOVEMBER, store=store).to_json()  # the same bytes
    assert hashlib.sha256(report.comparison_json).hexdigest() in re.sub(r"\s+", "", pdf_text(report.pdf))
    plain = build_report(log, november_scope())  # no store named: no comparison unless asked for
    assert plain.comparison is None and "Compared with the previous period" not in pdf_text(plain.pdf)


def test_nothing_changed_shows_no_flag(steady) -> None:
    root, store, written = steady
    log = open_store_log(store)
    c = period_comparison(log, NOVEMBER, store=store, sources=[root])
    assert c.flags == [] and not c.flagged and c.silent.is_empty()
    assert c.per_node["flag"].to_list() == ["", "", ""]
    assert c.per_node["files_now"].to_list() == c.per_node["files_before"].to_list() == [30, 30, 30]
    assert c.sources_checked and c.source_problems.is_empty() and c.other_source_problems == 0
    assert c.store_problems == [] and c.chain_intact
    text = comparison_text(build_report(log, november_scope(), store=store, store_sources=[root]).pdf)
    assert "No flag" in text and "FLAGGED" not in text
    assert "None: every recorded file of both periods is still at the source" in re.sub(r"\s+", " ", text)
    # a previous period of other length is compared per day: October's 31 days against November's 30 is no drop
    assert period_comparison(log, NOVEMBER, OCTOBER).flags == []
    # nor is half of October against November: half the files, days and events, the same per day
    half = Period(date(2026, 10, 1), date(2026, 10, 15))
    c = period_comparison(log, NOVEMBER, half, nodes=["mi-a"])
    assert c.explicit and c.nodes == ("mi-a",) and c.flags == []
    assert c.per_node.select("files_now", "files_before").row(0) == (30, 15)
    # while the whole of November against its first half, counted without the days, would fall by half
    assert period_comparison(log, half, NOVEMBER, nodes=["mi-a"]).flags == []


def test_fewer_days_files_and_events_are_flagged(tmp_path: Path) -> None:
    store = tmp_path / "store"
    full = (NOVEMBER.first, NOVEMBER.last)
    two_months(tmp_path / "logs", store, {"mi-a": full, "mi-b": (date(2026, 11, 1), date(2026, 11, 10)), "mi-c": full})
    c = period_comparison(open_store_log(store), NOVEMBER, store=store)
    row = c.per_node.filter(pl.col("node") == "mi-b").row(0, named=True)
    assert (row["files_now"], row["days_now"], row["events_now"]) == (10, 10, 30)
    assert row["flag"] == "files 30 → 10; days covered 30 → 10; events 90 → 30"
    assert c.flags == [f"node mi-b: {row['flag']}"] and c.silent.is_empty()
    # events are flagged only when they fell by half or more: 10 days of 30 is a third
    assert period_comparison(open_store_log(store), NOVEMBER, drop=0.8).per_node.filter(
        pl.col("node") == "mi-b")["flag"].item() == "files 30 → 10; days covered 30 → 10"


def test_a_source_altered_or_removed_after_ingest_shows_up(tmp_path: Path, capsys) -> None:
    root, store = tmp_path / "logs", tmp_path / "store"
    written = two_months(root, store, dict.fromkeys(NODES, (NOVEMBER.first, NOVEMBER.last)))
    altered, removed, now = written["mi-a"][10], written["mi-b"][20], written["mi-c"][-1]
    old = in_period([altered, removed], Period(date(2026, 10, 2), date(2026, 10, 31)))
    assert old == [altered, removed]  # both of the previous period
    recorded = {p: sha(p) for p in (altered, removed, now)}
    altered.write_text(altered.read_text().replace("deployer", "deplorer"))
    removed.unlink()
    with now.open("a") as f:  # and one of this period
        f.write(mi_sign(datetime(2026, 11, 30, 23), "mallory") + "\n")
    c = period_comparison(open_store_log(store), NOVEMBER, store=store, sources=[root])
    got = {(r["source"], r["period"], r["sha256"]): r["detail"] for r in c.source_problems.iter_rows(named=True)}
    key = {p: (p.relative_to(root).as_posix(), "previous" if p != now else "this", recorded[p])
           for p in recorded}
    assert set(got) == set(key.values())
    assert got[key[altered]].startswith("altered") and got[key[removed]].startswith("missing")
    assert got[key[now]].startswith("altered")
    assert "3 recorded file(s) of these periods missing or altered at the source" in c.flags
    assert c.per_node["flag"].to_list() == ["", "", ""]  # the store still holds every file: no node fell
    # the command line: the PDF, its flags printed, and the comparison as JSON
    out = tmp_path / "out"
    out.mkdir()
    args = ["report", "--store", str(store), "--from", "2026-11-01", "--to", "2026-11-30", "--no-config",
            "--pdf", str(out / "r.pdf"), "--sources", str(root), "--comparison", str(out / "c.json")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "! 3 recorded file(s) of these periods missing or altered at the source" in printed
    data = json.loads((out / "c.json").read_text())
    assert {(r["source"], r["period"]) for r in data["store"]["source_problems"]} == {k[:2] for k in key.values()}
    assert data["previous"] == {"first": "2026-10-02", "last": "2026-10-31", "days": 30, "explicit": False}
    digest = hashlib.sha256((out / "c.json").read_bytes()).hexdigest()
    text = pdf_text((out / "r.pdf").read_bytes())
    assert digest in re.sub(r"\s+", "", text) and digest in printed
    flat = re.sub(r"\s+", " ", comparison_text((out / "r.pdf").read_bytes()))
    assert "3 recorded files of these periods are missing or altered at the source" in flat


def test_files_read_directly_compare_on_request(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    for node in NODES:
        write_days(root, node, OCTOBER.first, OCTOBER.last)
        if node != "mi-b":
            write_days(root, node, NOVEMBER.first, NOVEMBER.last)
    log = audit_lib.load(root, tz="UTC")
    assert build_report(log, november_scope()).comparison is None  # files: only when asked
    report = build_report(log, november_scope(), compare=True)
    c = report.comparison
    assert c.store is None and c.chain.is_empty() and not c.sources_checked
    before = in_period(sorted(root.glob("mi-b/**/*.log")), c.previous)
    assert set(c.silent["node"]) == {"mi-b"} and c.silent.height == len(before) == 30
    assert set(c.silent["sha256"]) == {sha(p) for p in before}
    text = re.sub(r"\s+", " ", comparison_text(report.pdf))
    assert "node mi-b: silent" in text and "Not applicable: the files were read directly" in text
    assert "Chain entries" not in text
    # an explicit previous period: the same report against the whole of October
    report = build_report(log, november_scope(), compare_with=OCTOBER)
    assert report.comparison.previous == OCTOBER and report.comparison.explicit
    assert "Previous period: 2026-10-01 to 2026-10-31 (as given)" in re.sub(r"\s+", " ", pdf_text(report.pdf))


def test_node_scope_compares_only_those_nodes(silent) -> None:
    _, store, _ = silent
    report = build_report(open_store_log(store, "UTC"), Filters(start=november_scope().start, end=november_scope().end,
                                                                nodes=("mi-a",)), store=store)
    c = report.comparison
    assert c.nodes == ("mi-a",) and c.per_node["node"].to_list() == ["mi-a"] and c.flags == []


def test_long_names_wrap_and_nothing_is_cut(tmp_path: Path) -> None:
    root, store = tmp_path / "logs", tmp_path / "store"
    node = "mi-node-eu-west-1a-payments-gateway-production-cluster-member-07.internal.example.com"
    deep = root / "datacentre-frankfurt-rack-17" / "wso2-micro-integrator-4.4.0-with-a-long-install-folder"
    write_days(deep, node, OCTOBER.first, OCTOBER.last)
    write_days(root, "mi-a", OCTOBER.first, NOVEMBER.last)
    ingest(root, store)
    report = build_report(open_store_log(store, "UTC"), november_scope(), store=store)
    text = comparison_text(report.pdf)
    assert "…" not in text and "↩" not in text  # no cell ended early, no word cut
    nospace = re.sub(r"\s+", "", text)
    assert f"node{node}:silent" in nospace
    files = sorted((deep / node).rglob("*.log"))
    before = in_period(files, report.comparison.previous)
    assert len(before) == 30
    for path in before:
        assert path.relative_to(root).as_posix() in nospace


def test_command_line_errors_are_one_line(silent, tmp_path: Path, capsys) -> None:
    root, store, _ = silent
    pdf = str(tmp_path / "r.pdf")
    cases = [
        (["report", str(root), "--sources", str(root), "--pdf", pdf], "use it with --store DIR"),
        (["report", "--store", str(store), "--compare-with", "October", "--pdf", pdf], "START..END"),
        (["report", "--store", str(store), "--compare-with", "2026-10-31..2026-10-01", "--pdf", pdf],
         "ends (2026-10-01) before it starts"),
        (["report", "--store", str(store), "--no-compare", "--comparison", str(tmp_path / "c.json"), "--pdf", pdf],
         "choose one"),
        (["report", "--store", str(store), "--sources", str(tmp_path), "--pdf", str(tmp_path / "x" / "r.pdf")],
         "does not exist"),
    ]
    for args, message in cases:
        assert main(args) == 1, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.pdf"))
    inside = tmp_path / "logs-copy"
    shutil.copytree(root, inside)
    assert main(["report", "--store", str(store), "--sources", str(inside), "--pdf", str(inside / "r.pdf")]) == 1
    assert "inside the scanned folder" in capsys.readouterr().err


def test_an_ingest_between_the_load_and_the_report_is_not_in_the_evidence(tmp_path: Path) -> None:
    """The evidence describes the version the report's events were read from: an ingest landing in between (here
    mi-c's November, which would end its silence) shows neither in the chain nor in the counts."""
    root, store = tmp_path / "logs", tmp_path / "store"
    full = (NOVEMBER.first, NOVEMBER.last)
    two_months(root, store, {"mi-a": full, "mi-b": full, "mi-c": None})
    opened = Store(store)
    log = open_store_log(opened, "UTC")  # what `report --store` reads
    view = StoreView(store)  # what the app reads: a scope's events only
    scoped = view.scoped_log(view.events(november_scope()))
    loaded = period_comparison(log, NOVEMBER, store=store).to_json()  # opened by path before the ingest
    write_days(root, "mi-c", NOVEMBER.first, NOVEMBER.last)
    assert ingest(root, store).seq == 3
    chain = T.chain_rows(T.Location.of(store))
    assert chain.height == 3
    for report in (build_report(log, november_scope(), store=opened),
                   build_report(scoped, november_scope(), store=view)):
        c = report.comparison
        assert c.head == {"seq": 2, "hash": chain["hash"][1]} and c.chain["seq"].to_list() == [2]
        assert "3" not in set(c.manifest["entries"]) | set(c.previous_manifest["entries"])
        assert c.flags == ["node mi-c: silent: no file in this period"]
        assert report.comparison_json == loaded  # the store's events: the same bytes as before the ingest
        text = re.sub(r"\s+", "", comparison_text(report.pdf))
        assert chain["hash"][1] in text and chain["hash"][2] not in text
    # the view's scope holds November's events alone: October's were read from the store for the comparison
    row = build_report(scoped, november_scope(), store=view).comparison.per_node.row(0, named=True)
    assert row["events_before"] == 90 and scoped.events["timestamp"].min() >= november_scope().start
    # the store named by its folder is opened now: its newest entry, with mi-c's files, against the old events
    moved = period_comparison(log, NOVEMBER, store=store)
    assert moved.head["seq"] == 3
    # checking the sources reads the newest version: refused, with what happened and what to do
    with pytest.raises(T.StoreError, match=r"changed while the report was built: its events were read at entry 2, "
                                           r"and it now stands at entry 3 .* Build the report again"):
        build_report(log, november_scope(), store=opened, store_sources=[root])
    again = Store(store)  # read again: mi-c wrote in November, and its files are where they were ingested from
    assert build_report(open_store_log(again), november_scope(), store=again, store_sources=[root]).comparison.flags \
        == []


def test_the_view_reads_both_periods_within_its_limit(silent, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's view reads the events of both periods for the comparison: past its limit, a message that says how
    to go on, as for a page's scope."""
    from audit_lib.store import view as V

    _, store, _ = silent
    view = StoreView(store)
    scoped = view.scoped_log(view.events(november_scope()))
    assert scoped.events.height == 180  # November: mi-a and mi-b, 3 events a day
    monkeypatch.setattr(V, "SCOPE_LIMIT", 300)  # October's 30 days before it add 270
    with pytest.raises(V.ScopeTooLarge, match=r"both periods, 450 events of the store, more than the 300 .* "
                                              r"without the comparison"):
        build_report(scoped, november_scope(), store=view)
    assert build_report(scoped, november_scope(), store=view, compare=False).comparison is None
    c = build_report(scoped, Filters(start=november_scope().start, end=november_scope().end, nodes=("mi-c",)),
                     store=view).comparison  # one node: 90 events in all
    assert c.per_node.to_dicts() == [{"node": "mi-c", "files_now": 0, "files_before": 30, "events_now": 0,
                                      "events_before": 90, "days_now": 0, "days_before": 30,
                                      "flag": "silent: no file in this period"}]


def test_the_first_period_of_a_record_says_there_is_nothing_to_compare_with(tmp_path: Path) -> None:
    root, store = tmp_path / "logs", tmp_path / "store"
    for node in NODES:
        write_days(root, node, OCTOBER.first, OCTOBER.last)
    ingest(root, store)
    log = open_store_log(store)
    first = period_comparison(log, OCTOBER, store=store)
    assert first.before_records and not first.flags and first.recorded_from == OCTOBER.first
    assert first.verdict() == ("nothing to compare with: the records begin on 2026-10-01, after the previous "
                               "period") and first.as_dict()["previous_before_records"] is True
    # a previous period that holds records is compared as usual
    later = period_comparison(log, Period(date(2026, 10, 16), date(2026, 10, 31)))
    assert not later.before_records and later.verdict() == "no flag"
    report = build_report(log, Filters(start=parse_when("2026-10-01", log.tz),
                                       end=parse_when("2026-10-31", log.tz, end=True)), store=store)
    assert "this is the first period of the record" in comparison_text(report.pdf)
