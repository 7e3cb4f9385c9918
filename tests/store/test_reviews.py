"""Reviews of findings kept in the store's chain: recorded from the command line, carried by `findings --json`,
left out by `--unreviewed`, superseded never erased, and `verify` fails when a review is altered in the chain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from audit_lib.cli import main
from audit_lib.store import ingest
from audit_lib.store import tables as T
from audit_lib.store.reviews import ReviewError, latest_reviews, record_review, reviews

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
