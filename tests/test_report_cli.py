"""`python -m audit_lib report`: files written, hashes that match, and exit codes."""

import hashlib
import subprocess
import sys
from pathlib import Path

import polars as pl
from pypdf import PdfReader

from audit_lib.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = str(ROOT / "samples")


def text_of(pdf: Path) -> str:
    return " ".join(p.extract_text() for p in PdfReader(pdf).pages)


def test_report_writes_pdf_and_exports_with_matching_hash(tmp_path, capsys):
    out = {k: tmp_path / f"r.{k}" for k in ["pdf", "csv", "jsonl", "parquet"]}
    code = main(["report", SAMPLES, "--from", "2026-11-01", "--to", "Nov 7 2026", "--user", "josé", "--user", "admin",
                 "--pdf", str(out["pdf"]), "--csv", str(out["csv"]), "--jsonl", str(out["jsonl"]),
                 "--parquet", str(out["parquet"])])
    assert code == 0
    digest = hashlib.sha256(out["csv"].read_bytes()).hexdigest()
    assert digest in capsys.readouterr().out
    text = text_of(out["pdf"])
    assert digest in text.replace("\n", "")
    assert "users: josé, admin" in text
    rows = pl.read_csv(out["csv"])
    assert set(rows["user"]) == {"josé", "admin"}
    assert pl.read_parquet(out["parquet"]).height == rows.height
    assert len(out["jsonl"].read_text(encoding="utf-8").splitlines()) == rows.height


def test_capped_appendix_writes_companion_csv_next_to_pdf(tmp_path):
    pdf = tmp_path / "cap.pdf"
    assert main(["report", SAMPLES, "--pdf", str(pdf), "--max-rows", "50", "--type", "session"]) == 0
    companion = tmp_path / "cap.csv"
    assert companion.exists()
    assert hashlib.sha256(companion.read_bytes()).hexdigest() in text_of(pdf).replace("\n", "")


def test_bad_date_exits_1_with_message(tmp_path, capsys):
    assert main(["report", SAMPLES, "--from", "the day after", "--pdf", str(tmp_path / "x.pdf")]) == 1
    err = capsys.readouterr().err
    assert "Cannot read 'the day after' as a date" in err and "Traceback" not in err
    assert not (tmp_path / "x.pdf").exists()


def test_no_events_exits_1_unless_allowed(tmp_path, capsys):
    pdf = tmp_path / "empty.pdf"
    assert main(["report", SAMPLES, "--user", "nobody", "--pdf", str(pdf)]) == 1
    assert "No events in scope" in capsys.readouterr().err and not pdf.exists()
    assert main(["report", SAMPLES, "--user", "nobody", "--pdf", str(pdf), "--allow-empty"]) == 0
    assert "There are no events in this scope" in " ".join(p.extract_text() for p in PdfReader(pdf).pages)


def test_bad_path_and_zone_exit_1(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing"), "--pdf", str(tmp_path / "x.pdf")]) == 1
    assert main(["report", SAMPLES, "--tz", "Mars/Olympus", "--pdf", str(tmp_path / "x.pdf")]) == 1
    assert "Unknown time zone" in capsys.readouterr().err


def test_unknown_option_and_missing_pdf_exit_2_in_a_real_process(tmp_path):
    for args in [["report", SAMPLES, "--pdf", str(tmp_path / "x.pdf"), "--colour"], ["report", SAMPLES]]:
        proc = subprocess.run([sys.executable, "-m", "audit_lib", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "error:" in proc.stderr and "Traceback" not in proc.stderr
