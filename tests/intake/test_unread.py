"""Files whose name says audit log but whose content cannot be read make the set incomplete (`Skipped.unread`),
and one archive's members together may expand only so far beyond its size: real files, FIFOs, device nodes,
broken symlinks and zips made in tmp_path."""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

import audit_lib
from audit_lib.cli import main
from audit_lib.intake.discover import discover
from audit_lib.intake.entries import Limits
from audit_lib.store import open_store_log

LINE = b"[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - admin logged in at [Mon Nov 02 10:00:00 UTC 2026]\n"


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def hostile_folder(root: Path) -> Path:
    """One good log beside rotation-named files that hold no readable log, and files that are not audit logs."""
    logs = root / "mi1" / "repository" / "logs"
    logs.mkdir(parents=True)
    (logs / "audit.log").write_bytes(LINE * 3)
    (logs / "audit-10-27-2026.log").write_bytes(b"\x00" * 70_000)  # zeros
    (logs / "audit-10-28-2026.log.gz").write_bytes(os.urandom(70_000))  # random bytes
    damaged = bytearray(gzip.compress(LINE * 50))
    damaged[0] = 0x1E  # a damaged magic byte: not read as gzip, and not text either
    (logs / "audit-10-29-2026.log.gz").write_bytes(bytes(damaged))
    os.mkfifo(logs / "audit.log.1")
    os.mknod(logs / "audit.log.2", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    (logs / "audit.log.3").symlink_to(logs / "gone")
    nested = zip_bytes({"inner.zip": zip_bytes({"audit.log": LINE})})
    (logs / "old.zip").write_bytes(zip_bytes({"deep.zip": nested}))  # a zip in a zip in a zip: refused
    (logs / "wso2carbon.log").write_bytes(b"plain carbon log\n")
    (logs / "README").write_bytes(b"read me\n")
    return root


UNREAD = {"mi1/repository/logs/" + n for n in ("audit-10-27-2026.log", "audit-10-28-2026.log.gz",
                                               "audit-10-29-2026.log.gz", "audit.log.1", "audit.log.2",
                                               "audit.log.3", "old.zip/deep.zip/inner.zip")}
MERELY = {"mi1/repository/logs/wso2carbon.log", "mi1/repository/logs/README"}


def test_audit_named_files_that_cannot_be_read_make_the_set_incomplete(tmp_path):
    log = audit_lib.load(hostile_folder(tmp_path))
    assert log.files["complete"].all() and log.events.height == 3  # the good file is read whole ...
    assert log.complete is False  # ... but the set is not
    unread = {s.name for s in log.skipped if s.unread}
    merely = {s.name for s in log.skipped if not s.unread}
    assert unread == UNREAD and merely == MERELY


def test_summary_json_and_text_list_each_unread_file_with_its_reason(tmp_path, capsys):
    folder = str(hostile_folder(tmp_path))
    assert main(["summary", folder, "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["complete"] is False
    problems = {p["source"]: p for p in s["problems"]}
    assert set(problems) == UNREAD
    assert all(p["complete"] is False and p["lines_read"] == 0 for p in problems.values())
    reasons = {Path(k).name: v["error"] for k, v in problems.items()}
    assert "does not look like an audit log" in reasons["audit-10-27-2026.log"]
    assert "does not look like an audit log" in reasons["audit-10-29-2026.log.gz"]
    assert "FIFO" in reasons["audit.log.1"] and "character device" in reasons["audit.log.2"]
    assert "broken symlink" in reasons["audit.log.3"] and "more than 1 level" in reasons["inner.zip"]
    assert {k["name"] for k in s["skipped"] if not k["unread"]} == MERELY
    assert main(["summary", folder]) == 0
    out = capsys.readouterr().out
    assert "INCOMPLETE 7 file(s)" in out and "Complete every file" not in out


def test_only_files_that_are_not_named_as_audit_logs_leave_the_set_complete(tmp_path):
    logs = tmp_path / "mi1"
    logs.mkdir()
    (logs / "audit.log").write_bytes(LINE)
    (logs / "wso2carbon.log").write_bytes(os.urandom(1000))
    os.mkfifo(logs / "http_access.log")
    log = audit_lib.load(tmp_path)
    assert log.complete is True and len(log.skipped) == 2 and not any(s.unread for s in log.skipped)


def test_an_upload_named_audit_log_that_is_not_a_log_makes_the_set_incomplete():
    log = audit_lib.load([("audit.log", LINE), ("audit.log.1", b"\x00" * 1000), ("notes.txt", b"hello")])
    assert log.complete is False
    assert {s.name: s.unread for s in log.skipped} == {"audit.log.1": True, "notes.txt": False}


def test_the_pdf_says_incomplete_and_names_the_unread_files(tmp_path, capsys):
    from pypdf import PdfReader

    folder = hostile_folder(tmp_path / "in")
    pdf = tmp_path / "r.pdf"
    assert main(["report", str(folder), "--pdf", str(pdf)]) == 0
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages).replace("\n", " ")
    assert "every file was read to its end" not in text
    assert "could not be read at all" in text and "audit-10-27-2026.log" in text


def test_a_store_whose_ingest_skipped_an_unread_audit_file_reports_incomplete(tmp_path, capsys):
    pytest.importorskip("deltalake")
    folder, store = hostile_folder(tmp_path / "in"), tmp_path / "store"
    assert main(["ingest", str(folder), "--store", str(store)]) == 0
    capsys.readouterr()
    assert main(["summary", "--store", str(store), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["complete"] is False and {p["source"] for p in s["problems"]} == UNREAD
    assert {k["name"] for k in s["skipped"] if not k["unread"]} == MERELY
    assert open_store_log(str(store)).complete is False  # the store read whole says so too


def test_many_members_of_one_archive_cannot_expand_past_its_allowance(tmp_path):
    """520 members, each well within the per-member ratio cap, declare far more than the archive's size allows:
    the members past the allowance are refused (unread), the ones before kept."""
    block = LINE * (200_000 // len(LINE))  # ~200 KB of lines per member, compressing ~100 times
    data = zip_bytes({f"n{i:03d}/audit.log": block.replace(b"admin", b"a%04d" % i) for i in range(520)})
    (tmp_path / "many.zip").write_bytes(data)
    lim = Limits(archive_ratio=25, archive_grace=1 << 20)
    entries, skipped = discover(tmp_path, limits=lim)
    allowed = max(lim.archive_grace, lim.archive_ratio * len(data))
    assert sum(e.size for e in entries) <= allowed < sum(e.size for e in entries) + len(block)
    assert [e.source for e in entries] == [f"many.zip/n{i:03d}/audit.log" for i in range(len(entries))]
    assert len(entries) + len(skipped) == 520 and all(s.unread for s in skipped)
    assert "expand to more than 25 times its size" in skipped[0].reason
    log = audit_lib.load(tmp_path, limits=lim)
    assert log.complete is False and log.events.height == len(entries) * (len(block) // len(LINE))


def test_the_default_allowance_keeps_a_17_mb_archive_to_a_few_hundred_mb():
    lim = Limits()
    assert lim.archive_ratio * (17 << 20) < 500 << 20
    assert lim.archive_grace <= 64 << 20
