"""Reviews of findings kept in the store's chain: recorded from the command line, carried by `findings --json`,
left out by `--unreviewed`, superseded never erased, and `verify` fails when a review is altered in the chain;
suppressions (scope, fail-on, lifted by a later review); the review-missing rule on reviews at controlled times."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from audit_lib.checks.findings import findings
from audit_lib.checks.rule import Settings
from audit_lib.cli import main
from audit_lib.store import Store, ingest, open_store_log
from audit_lib.store import tables as T
from audit_lib.store.reviews import (
    ReviewError,
    Scope,
    latest_reviews,
    record_review,
    review_missing,
    reviews,
    suppressed_by,
    suppressions,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    ingest(ROOT / "samples", tmp_path / "store")
    return tmp_path / "store"


def _findings(store: Path, *extra: str) -> list[dict]:
    r = subprocess.run([sys.executable, "-m", "audit_lib", "findings", "--store", str(store), "--json", *extra],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode in (0, 3), r.stderr
    return [json.loads(x) for x in r.stdout.splitlines()]


def test_a_review_in_the_cli_and_in_findings(store: Path, capsys) -> None:
    found = _findings(store)
    assert found and all(f["review"] is None for f in found)
    first, second = found[0]["id"], found[1]["id"]
    assert main(["review", "--store", str(store), first, second, "--by", "Priya (QSA)", "--disposition", "expected",
                 "--comment", "planned change CHG-1042"]) == 0
    assert "Reviewed 2 finding(s) as expected" in capsys.readouterr().out
    again = {f["id"]: f for f in _findings(store)}
    assert again[first]["review"]["reviewer"] == "Priya (QSA)" and again[first]["review"]["disposition"] == "expected"
    assert again[first]["review"]["authenticated"] is False  # the command line proves no identity
    left = [f["id"] for f in _findings(store, "--unreviewed")]
    assert first not in left and second not in left and len(left) == len(found) - 2
    record_review(store, [first], "Sam", "incident", "escalated: INC-7")  # supersedes, erases nothing
    assert latest_reviews(store)[first]["disposition"] == "incident"
    assert reviews(store).filter(pl.col("finding") == first).height == 2
    assert subprocess.run([sys.executable, "-m", "audit_lib", "verify", "--store", str(store)], cwd=ROOT,
                          capture_output=True).returncode == 0


def test_verify_fails_after_a_review_is_altered(store: Path) -> None:
    fid = _findings(store)[0]["id"]
    record_review(store, [fid], "Priya", "false-positive", "test account")
    loc = T.Location.of(store)
    rows = T.chain_rows(loc).sort("seq")
    forged = rows.with_columns(pl.col("entry").str.replace("false-positive", "expected"))
    T.deltalake().write_deltalake(str(store / "chain"), forged.to_arrow(), mode="overwrite")
    r = subprocess.run([sys.executable, "-m", "audit_lib", "verify", "--store", str(store)], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 4 and "NOT INTACT" in r.stdout, r.stdout


def test_reviews_need_a_store_and_sane_values(store: Path, capsys) -> None:
    assert main(["review", "abc123", "--by", "x", "--disposition", "expected"]) == 1
    assert "reviews are kept in an event store" in capsys.readouterr().err
    assert main(["findings", "samples", "--unreviewed"]) == 1
    assert "--unreviewed needs --store" in capsys.readouterr().err
    with pytest.raises(ReviewError, match="disposition"):
        record_review(store, ["abc123"], "x", "fine")
    with pytest.raises(ReviewError, match="not a finding id"):
        record_review(store, ["../../etc"], "x", "expected")
    with pytest.raises(ReviewError, match="reviewer"):
        record_review(store, ["abc123"], " ", "expected")


def test_the_report_shows_each_review_and_a_review_log(store: Path, tmp_path: Path) -> None:
    import io

    from pypdf import PdfReader

    from audit_lib.report import build_report
    from audit_lib.store import Store, open_store_log

    found = _findings(store)
    fid = found[0]["id"]
    record_review(store, [fid], "Priya Nair", "needs-follow-up", "ask the MI team")
    st = Store(store)
    report = build_report(open_store_log(st), store=st, compare=False)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(report.pdf)).pages)
    flat = " ".join(text.split())
    assert "Review log" in text and "Priya Nair" in flat and "needs-follow-up" in flat
    assert f"finding {fid} · reviewed" in flat or fid in flat
    assert "not reviewed" in flat  # the others say so


def _high(store: Path) -> list[dict]:
    return [f for f in _findings(store) if f["severity"] == "high"]


def test_a_suppression_marks_later_findings_in_its_scope_and_fail_on_passes_them(store: Path, capsys) -> None:
    high = _high(store)
    anon = [f for f in high if f["rule"] == "anonymous-action"]
    assert {f["node"] for f in anon} == {"mi-node-1", "mi-node-2"}
    one = next(f for f in anon if f["node"] == "mi-node-2")
    other = next(f for f in anon if f["node"] == "mi-node-1")
    # for one node only: the other node's finding of the same rule stays unsuppressed
    assert main(["review", "--store", str(store), one["id"], "--by", "Priya", "--disposition", "expected",
                 "--comment", "test node", "--suppress", "--for-node", "mi-node-2", "--until", "2099-01-01"]) == 1
    assert "at most 366 days" in capsys.readouterr().err
    until = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    assert main(["review", "--store", str(store), one["id"], "--by", "Priya", "--disposition", "expected",
                 "--comment", "test node", "--suppress", "--for-node", "mi-node-2", "--until", until]) == 0
    assert "Suppressed: later findings of rule anonymous-action, node mi-node-2" in capsys.readouterr().out
    now = {f["id"]: f for f in _findings(store)}
    assert now[one["id"]]["suppressed"]["reviewer"] == "Priya"
    assert now[one["id"]]["suppressed"]["scope"] == {"rule": "anonymous-action", "until": until, "actor": None,
                                                     "node": "mi-node-2", "artifact": None}
    assert now[other["id"]]["suppressed"] is None and len(now) == len(_findings(store))
    # every high finding suppressed: --fail-on high passes, the count still shows them
    rest = [f["id"] for f in high if f["id"] != one["id"]]
    assert main(["review", "--store", str(store), *rest, "--by", "Sam", "--disposition", "expected",
                 "--suppress", "--until", until]) == 0
    capsys.readouterr()
    r = subprocess.run([sys.executable, "-m", "audit_lib", "findings", "--store", str(store), "--events", "0"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-500:]
    assert f"{len(high)} at or above high, {len(high)} of them suppressed" in r.stdout
    assert r.stdout.count("suppressed until") >= len(high)
    # a later review without a suppression lifts it
    record_review(store, [other["id"]], "Sam", "incident", "not planned after all")
    r = subprocess.run([sys.executable, "-m", "audit_lib", "findings", "--store", str(store), "--events", "0"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 3 and f"{len(high) - 1} of them suppressed" in r.stdout
    assert subprocess.run([sys.executable, "-m", "audit_lib", "verify", "--store", str(store)], cwd=ROOT,
                          capture_output=True).returncode == 0


def test_a_suppression_by_actor_artifact_and_date(store: Path) -> None:
    log = open_store_log(Store(store))
    found = findings(log.events)
    created = [f for f in found if f.rule == "privileged-account-created"]
    f = next(g for g in created if g.events["actor"].n_unique() == 1)
    actor = f.events["actor"][0]
    assert any(actor in set(g.events["actor"]) and g.events["actor"].n_unique() > 1 for g in created)
    scope = Scope(f.rule, date(2027, 1, 1), actor=actor)
    record_review(store, [f.id], "Priya", "expected", suppress=scope, at=datetime(2026, 12, 1, tzinfo=UTC))
    held = suppressed_by(found, suppressions(store), date(2026, 12, 1))
    assert f.id in held
    assert {g.id for g in created if set(g.events["actor"]) == {actor}} == {i for i in held}
    # an artifact none of them touched, or a date before they happened: nothing covered
    assert not suppressed_by(found, [replace(held[f.id], scope=replace(scope, artifact="nothing-by-that-name"))])
    assert not suppressed_by(found, [replace(held[f.id], scope=replace(scope, until=date(2026, 10, 1)))])
    with pytest.raises(ReviewError, match="only an 'expected' review"):
        record_review(store, [f.id], "x", "incident", suppress=scope)
    with pytest.raises(ReviewError, match="before today"):
        record_review(store, [f.id], "x", "expected", suppress=replace(scope, until=date(2020, 1, 1)))


def test_verify_fails_after_a_suppression_is_widened(store: Path) -> None:
    fid = _findings(store)[0]["id"]
    until = datetime.now(UTC).date() + timedelta(days=7)
    record_review(store, [fid], "Priya", "expected", suppress=Scope("anonymous-action", until, node="mi-node-2"))
    rows = T.chain_rows(T.Location.of(store)).sort("seq")
    forged = rows.with_columns(pl.col("entry").str.replace('"node":"mi-node-2"', '"node":null'))
    assert not forged["entry"].equals(rows["entry"])
    T.deltalake().write_deltalake(str(store / "chain"), forged.to_arrow(), mode="overwrite")
    r = subprocess.run([sys.executable, "-m", "audit_lib", "verify", "--store", str(store)], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 4 and "NOT INTACT" in r.stdout, r.stdout


def _day(found: list, day: str) -> list:
    return [f for f in found if f.first.date().isoformat() == day and f.rule != "review-missing"]


def test_review_missing_counts_the_next_working_day(store: Path) -> None:
    found = findings(open_store_log(Store(store)).events)
    tue, wed, fri = _day(found, "2026-11-03"), _day(found, "2026-11-04"), _day(found, "2026-11-06")
    assert tue and wed and fri
    at = lambda text: datetime.fromisoformat(text)  # noqa: E731
    # Tuesday's findings reviewed on Wednesday 17:00 (in time), Wednesday's on Friday (late), Friday's on Monday
    record_review(store, [f.id for f in tue], "Priya", "expected", at=at("2026-11-04T17:00:00+00:00"))
    record_review(store, [f.id for f in wed[:-1]], "Priya", "expected", at=at("2026-11-05T17:59:00+00:00"))
    record_review(store, [wed[-1].id], "Priya", "expected", at=at("2026-11-06T09:00:00+00:00"))
    record_review(store, [f.id for f in fri], "Sam", "false-positive", at=at("2026-11-09T10:00:00+00:00"))
    now = at("2026-12-01T00:00:00+00:00")
    missing = {f.subject: f for f in review_missing(found, store, now=now)}
    assert "day 2026-11-03" not in missing and "day 2026-11-06" not in missing
    late = missing["day 2026-11-04"]
    assert late.rule == "review-missing" and late.count == 1 and late.evidence == (
        f"finding {wed[-1].id} not reviewed in time",)
    assert f"1 of {len(wed)} findings of 2026-11-04 not reviewed by the end of Thu 2026-11-05" in late.summary
    assert "day 2026-11-05" in missing  # nobody reviewed Thursday's
    # Monday a holiday: Friday's deadline moves to Tuesday; a four-day week Mon-Thu moves Wednesday's to Thursday
    assert "day 2026-11-06" not in {f.subject for f in review_missing(found, store, Settings(
        holidays=(date(2026, 11, 9),)), now=now)}
    short = {f.subject: f for f in review_missing(found, store, Settings(work_days=(1, 2, 3, 4)), now=now)}
    assert "end of Mon 2026-11-09" in short["day 2026-11-05"].summary
    # a deadline still ahead raises nothing yet
    assert "day 2026-11-05" not in {f.subject for f in review_missing(found, store, now=at(
        "2026-11-06T17:00:00+00:00"))}
    # the command line adds them to a store's findings
    assert {f["subject"] for f in _findings(store) if f["rule"] == "review-missing"} >= {"day 2026-11-04",
                                                                                        "day 2026-11-05"}


def test_the_report_fills_the_reviewer_block_and_lists_suppressions(store: Path) -> None:
    import io

    from pypdf import PdfReader

    from audit_lib.report import build_report

    found = _findings(store)
    high = [f["id"] for f in found if f["severity"] == "high"]
    until = datetime.now(UTC).date() + timedelta(days=20)
    record_review(store, high[:2], "Priya Nair", "expected", "CHG-1042", authenticated=True,
                  suppress=Scope("anonymous-action", until, node="mi-node-2"))
    record_review(store, [high[2]], "Sam Okafor", "false-positive", "test account")
    st = Store(store)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(build_report(open_store_log(st), store=st,
                                                                          compare=False).pdf)).pages]
    last = " ".join(" ".join(pages[-2:]).split())
    assert "Suppressions 2 suppressions in force" in last
    assert f"rule anonymous-action, node mi-node-2, until {until.isoformat()}" in last
    assert "Reviewed by Priya Nair (2 findings); Sam Okafor (1 finding, name given)" in last
    assert re.search(r"Date \d{4}-\d\d-\d\d \(3 findings of [\d,]+ reviewed\)", last), last[-400:]
    flat = " ".join(" ".join(pages).split())
    assert f"suppressed until {until.isoformat()} by Priya Nair" in flat


def test_the_report_without_reviews_leaves_the_block_blank(store: Path) -> None:
    import io

    from pypdf import PdfReader

    from audit_lib.report import build_report

    st = Store(store)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(build_report(open_store_log(st), store=st,
                                                                          compare=False).pdf)).pages]
    last = " ".join(" ".join(pages[-2:]).split())
    assert "No suppression is in force" in last and "Completed by the reviewer of this report." in last
    assert "Reviewed by Role Date Signature" in last


@pytest.mark.parametrize(("extra", "message"), [
    (["--suppress"], "--suppress needs --until DATE"),
    (["--suppress", "--until", "2026-13-01"], "is not a date (YYYY-MM-DD)"),
    (["--for-node", "mi-node-1"], "go with --suppress"),
    (["--suppress", "--until", "2000-01-01", "--rule", "anonymous-action"], "before today"),
    (["--suppress", "--until", "{soon}", "--for-actor", " "], "actor must be a name"),
    (["--suppress", "--until", "{soon}", "--rule", "../x"], "not a rule id"),
])
def test_review_suppress_refuses_bad_options_in_one_line(store: Path, capsys, extra: list[str],
                                                         message: str) -> None:
    fid = _findings(store)[0]["id"]
    soon = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    args = ["review", "--store", str(store), fid, "--by", "x", "--disposition", "expected",
            *[a.replace("{soon}", soon) for a in extra]]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert latest_reviews(store) == {}  # nothing recorded
    assert main(["review", "--store", str(store), "nosuchfinding1", "--by", "x", "--disposition", "expected",
                 "--suppress", "--until", soon]) == 1
    assert "not among the store's findings: name its rule with --rule RULE" in capsys.readouterr().err


def test_a_hostile_reviewer_name_and_comment_stay_inside_their_field(store: Path) -> None:
    fid = _findings(store)[0]["id"]
    until = datetime.now(UTC).date() + timedelta(days=3)
    record_review(store, [fid], "Eve\u202e\nHIGH forged", "expected", "ok\u200b\nreviewed by nobody",
                  suppress=Scope("anonymous-action", until, actor="x\u202ey"))
    r = subprocess.run([sys.executable, "-m", "audit_lib", "findings", "--store", str(store), "--events", "0"],
                       capture_output=True, text=True, cwd=ROOT)
    assert "\u202e" not in r.stdout and "\u200b" not in r.stdout
    assert "Eve\\u202e\\nHIGH forged" in r.stdout and not any(x.startswith("HIGH forged") for x in
                                                             r.stdout.splitlines())
    assert _findings(store)[0]["review"]["reviewer"] == "Eve\u202e\nHIGH forged"  # kept as given, in JSON
