"""`python -m audit_lib report`: files written, hashes that match, and exit codes."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
from pypdf import PdfReader

from audit_lib.cli import main

ROOT = Path(__file__).resolve().parents[2]
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


def _log_folder(tmp_path: Path) -> Path:
    from tests.support import hostile

    return hostile.write_folder(tmp_path / "logs")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_report_refuses_to_overwrite_an_input_log(tmp_path, capsys):
    folder = _log_folder(tmp_path)
    log = next(folder.rglob("audit.log"))
    before = _digest(log)
    link = tmp_path / "link.pdf"
    link.symlink_to(log)  # a symlink to an input
    hard = tmp_path / "hard.csv"
    os.link(log, hard)  # a hard link to an input
    cases = [["--pdf", str(log)],  # the input file itself, given as a folder's member
             ["--pdf", str(tmp_path / "r.pdf"), "--csv", str(log.parent / "out.csv")],  # inside the scanned folder
             ["--pdf", str(tmp_path / "r.pdf"), "--jsonl", str(log)],
             ["--pdf", str(link)],
             ["--pdf", str(tmp_path / "r.pdf"), "--csv", str(hard)]]
    for extra in cases:
        assert main(["report", str(folder), *extra]) == 1, extra
        err = capsys.readouterr().err
        assert "input logs" in err or "inside the scanned folder" in err, err
    # a log named as a file input is protected too, and so are logs named through a glob
    assert main(["report", str(log), "--pdf", str(tmp_path / "r.pdf"), "--csv", str(hard)]) == 1
    assert main(["report", str(log.parent / "*.log"), "--pdf", str(log)]) == 1
    assert _digest(log) == before and not (tmp_path / "r.pdf").exists()
    assert list(folder.rglob("*.part")) == [] and not (log.parent / "out.csv").exists()


def test_report_writes_all_outputs_or_none_and_quotes_only_what_it_wrote(tmp_path, capsys, monkeypatch):
    import tempfile

    folder = _log_folder(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.pdf").write_bytes(b"an older report")
    real = tempfile.mkstemp
    calls = []

    def failing(*args, **kwargs):  # the third output cannot be written (a full disk, say)
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", failing)
    args = ["report", str(folder), "--pdf", str(out / "r.pdf"), "--csv", str(out / "r.csv"), "--jsonl",
            str(out / "r.jsonl")]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "No space left on device" in captured.err and "sha256" not in captured.out
    assert sorted(p.name for p in out.iterdir()) == ["r.pdf"]  # no temporary file left, nothing replaced
    assert (out / "r.pdf").read_bytes() == b"an older report"
    monkeypatch.setattr(tempfile, "mkstemp", real)
    assert main(args) == 0
    printed = capsys.readouterr().out
    for name in ["r.csv", "r.jsonl"]:
        assert f"sha256 {_digest(out / name)}" in printed
    assert _digest(out / "r.csv") in text_of(out / "r.pdf").replace("\n", "")


def test_companion_csv_is_always_written_next_to_the_pdf(tmp_path):
    pdf = tmp_path / "week.pdf"
    assert main(["report", SAMPLES, "--pdf", str(pdf), "--type", "session", "--max-rows", "100000"]) == 0
    companion = tmp_path / "week.csv"
    assert _digest(companion) in text_of(pdf).replace("\n", "")


def test_dates_at_the_end_of_time_and_odd_zones(tmp_path, capsys):
    folder = _log_folder(tmp_path)
    pdf = tmp_path / "r.pdf"
    assert main(["report", str(folder), "--to", "9999-12-31", "--tz", "America/New_York", "--pdf", str(pdf)]) == 0
    assert "to 9999-12-31 23:59 (America/New_York)" in text_of(pdf)
    assert main(["report", str(folder), "--to", "9999-12-31T23:00-05:00", "--pdf", str(pdf)]) == 1
    assert "too close to the year 1 or 9999" in capsys.readouterr().err
    for zone in ["Factory", "localtime", "posixrules", "right/UTC"]:
        assert main(["report", str(folder), "--tz", zone, "--pdf", str(pdf)]) == 1
        assert "Unknown time zone" in capsys.readouterr().err


def test_terminal_output_escapes_control_characters(tmp_path, capsys):
    folder = _log_folder(tmp_path)
    assert main(["summary", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "bell\\u0007\\u001b[31mred" in out and "a\\u202eevil\\u202cb" in out
    assert main(["summary", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)  # still valid JSON, with the names intact
    assert data["by_user"]["bell\x07\x1b[31mred"] == 1


def test_pdf_sha256_findings_and_csv_are_written_beside_the_pdf(tmp_path, capsys):
    pdf = tmp_path / "q3.pdf"
    assert main(["report", SAMPLES, "--pdf", str(pdf)]) == 0
    out = capsys.readouterr().out
    checksum = tmp_path / "q3.pdf.sha256"
    assert checksum.read_text() == f"{_digest(pdf)}  q3.pdf\n"  # sha256sum format
    proc = subprocess.run(["sha256sum", "-c", checksum.name], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0 and "q3.pdf: OK" in proc.stdout
    findings = tmp_path / "q3.findings.jsonl"
    rows = [json.loads(x) for x in findings.read_text(encoding="utf-8").splitlines()]
    assert rows and all(r["rule"] and "events" in r for r in rows)
    text = text_of(pdf).replace("\n", "")
    assert _digest(findings) in text and _digest(tmp_path / "q3.csv") in text
    assert f"sha256 {_digest(pdf)}" in out and "privileged edition" in out and "no appendix" in out
    assert "Privileged activity report" in text and "Appendix" not in text


def test_edition_appendix_privileged_and_categories(tmp_path, capsys):
    pdf = tmp_path / "full.pdf"
    assert main(["report", SAMPLES, "--pdf", str(pdf), "--edition", "full", "--max-rows", "30"]) == 0
    text = text_of(pdf)
    assert "Audit log compliance report" in text and "1. Activity" in text and "Appendix: events in scope" in text
    assert "appendix 30 rows" in capsys.readouterr().out
    pdf = tmp_path / "priv.pdf"
    assert main(["report", SAMPLES, "--pdf", str(pdf), "--appendix", "--max-rows", "10", "--privileged", "raj.k",
                 "jane.ops", "--category", "capp-deployment", "--no-config"]) == 0
    text = " ".join(text_of(pdf).split())
    assert "Appendix: events in scope" in text and "2 people privileged. The list was given" in text
    assert "Carbon application deployed or removed (" in text  # enabled on request
    assert "missing-pci-fields" not in text  # --no-config: no configuration check


def test_bad_categories_rules_and_numbers_exit_1(tmp_path, capsys):
    pdf = tmp_path / "x.pdf"
    assert main(["report", SAMPLES, "--pdf", str(pdf), "--category", "nope"]) == 1
    assert "Unknown category nope" in capsys.readouterr().err
    bad = tmp_path / "cats.json"
    bad.write_text('{"categories": [{"id": "x", "category": "X", "reason": "r", "where": {"colour": "red"}}]}')
    assert main(["report", SAMPLES, "--pdf", str(pdf), "--categories", str(bad)]) == 1
    assert "unknown column colour" in capsys.readouterr().err
    assert main(["report", SAMPLES, "--pdf", str(pdf), "--events-per-finding", "-1"]) == 1
    assert "--events-per-finding must be 0 or more" in capsys.readouterr().err
    assert not pdf.exists() and not (tmp_path / "x.pdf.sha256").exists()


def test_changes_only_leaves_out_sign_ins(tmp_path):
    pdf, csv = tmp_path / "c.pdf", tmp_path / "c.csv"
    assert main(["report", SAMPLES, "--pdf", str(pdf), "--changes-only"]) == 0
    rows = pl.read_csv(csv)
    assert rows.height > 0 and not set(rows["action"]) & {"logged_in", "logged_out", "login_failed"}
    assert "changes only (no sign-ins)" in text_of(pdf)


def _special_outputs(tmp_path: Path) -> dict[str, Path]:
    """A real character device (like /dev/null), a FIFO, a socket and a folder, each also behind a symlink."""
    import socket
    import stat

    nodes = tmp_path / "nodes"
    nodes.mkdir()
    made = {"device": nodes / "null", "fifo": nodes / "fifo", "socket": nodes / "sock", "folder": nodes / "dir"}
    os.mknod(made["device"], stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.mkfifo(made["fifo"])
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(made["socket"]))
    sock.close()
    made["folder"].mkdir()
    for kind, target in list(made.items()):
        link = nodes / f"link-to-{kind}"
        link.symlink_to(target)
        made[f"link-{kind}"] = link
    return made


def test_report_refuses_devices_fifos_sockets_and_folders_as_outputs(tmp_path, capsys):
    made = _special_outputs(tmp_path)
    before = sorted(p.name for p in made["device"].parent.iterdir())
    expect = {"device": "character device", "fifo": "FIFO", "socket": "socket", "folder": "folder"}
    for kind, path in made.items():
        for option in ("--pdf", "--csv", "--findings", "--jsonl", "--parquet"):
            args = ["report", SAMPLES, "--pdf", str(path) if option == "--pdf" else str(tmp_path / "r.pdf")]
            if option != "--pdf":
                args += [option, str(path)]
            assert main(args) == 1, (kind, option)
            err = capsys.readouterr().err
            assert expect[kind.removeprefix("link-")] in err and "Traceback" not in err, (kind, option, err)
            assert len(err.strip().splitlines()) == 1
    # nothing replaced, nothing written beside the nodes, nothing written beside the would-be PDF
    assert sorted(p.name for p in made["device"].parent.iterdir()) == before
    assert stat_kind(made["device"]) == "chr" and stat_kind(made["fifo"]) == "fifo"
    assert not list(tmp_path.glob("r.*"))


def stat_kind(path: Path) -> str:
    import stat

    mode = os.lstat(path).st_mode
    return "chr" if stat.S_ISCHR(mode) else "fifo" if stat.S_ISFIFO(mode) else "other"


def test_report_refuses_a_device_put_in_place_while_it_ran(tmp_path, monkeypatch):
    """The check is made again just before the files are moved into place: no device is ever replaced."""
    import stat

    from audit_lib.cli import report as report_cli

    pdf = tmp_path / "late.pdf"
    real_write_all = report_cli.write_all

    def device_first(items):
        os.mknod(pdf, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        return real_write_all(items)

    monkeypatch.setattr(report_cli, "write_all", device_first)
    assert main(["report", SAMPLES, "--pdf", str(pdf)]) == 1
    assert stat_kind(pdf) == "chr"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late.pdf"]


def test_report_to_dev_null_in_a_real_process_writes_nothing_into_dev(tmp_path):
    """Row 7 of the attack report, as given: `report --pdf /dev/null` run as root."""
    dev_before = set(os.listdir("/dev"))
    run = subprocess.run([sys.executable, "-m", "audit_lib", "report", SAMPLES, "--pdf", "/dev/null"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "character device, not a regular file" in run.stderr
    assert stat_kind(Path("/dev/null")) == "chr"
    assert not {n for n in set(os.listdir("/dev")) - dev_before if n.startswith("null")}
