"""Finding audit files: names, nodes, folders, globs, uploads, zips, gzip damage."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest

import audit_lib
from audit_lib.sources import SourceError, discover, gunzip, is_audit_name, node_of

LINE = b"[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - admin logged in at [Mon Nov 02 10:00:00 UTC 2026]\n"


@pytest.mark.parametrize("name", ["audit.log", "audit-11-02-2026.log", "audit-11-02-2026.3.log",
                                  "audit-11-02-2026.log.gz", "AUDIT.LOG", "audit.log.1"])
def test_audit_names(name):
    assert is_audit_name(name)


@pytest.mark.parametrize("name", ["wso2carbon.log", "audit.txt", "http_access.log", "audit-2026.log", "xaudit.log"])
def test_other_names(name):
    assert not is_audit_name(name)


def test_node_rules():
    assert node_of(["mi-1", "repository", "logs", "audit.log"], "root") == "mi-1"
    assert node_of(["a", "mi-2", "repository", "logs", "audit.log"], "root") == "mi-2"
    assert node_of(["nodeA", "audit.log"], "root") == "nodeA"
    assert node_of(["audit.log"], "root") == "root"
    assert node_of(["repository", "logs", "audit.log"], "mi-3") == "mi-3"


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_folder_search_is_recursive_and_only_takes_audit_files(tmp_path):
    write(tmp_path / "n1" / "repository" / "logs" / "audit.log", LINE)
    write(tmp_path / "n1" / "repository" / "logs" / "audit-11-01-2026.log.gz", gzip.compress(LINE))
    write(tmp_path / "n1" / "repository" / "logs" / "wso2carbon.log", LINE)
    write(tmp_path / "n2" / "audit.log", LINE)
    entries, skipped = discover(tmp_path)
    assert [(e.source, e.node) for e in entries] == [
        ("n1/repository/logs/audit-11-01-2026.log.gz", "n1"), ("n1/repository/logs/audit.log", "n1"),
        ("n2/audit.log", "n2")]
    assert skipped == ["n1/repository/logs/wso2carbon.log"]


def test_a_named_file_is_read_whatever_its_name_and_globs_work(tmp_path):
    f = write(tmp_path / "copy-from-prod.txt", LINE)
    assert [e.source for e in discover(f)[0]] == ["copy-from-prod.txt"]
    write(tmp_path / "a" / "audit.log", LINE)
    write(tmp_path / "b" / "audit.log", LINE)
    entries, _ = discover(str(tmp_path / "*" / "audit.log"))
    assert [(e.source, e.node) for e in entries] == [("a/audit.log", "a"), ("b/audit.log", "b")]


def test_several_folders_are_named_from_their_common_parent(tmp_path):
    write(tmp_path / "x" / "audit.log", LINE)
    write(tmp_path / "y" / "audit.log", LINE)
    entries, _ = discover([tmp_path / "x", tmp_path / "y"])
    assert [e.source for e in entries] == ["x/audit.log", "y/audit.log"]


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(SourceError, match="No such file or folder"):
        discover(tmp_path / "missing")
    write(tmp_path / "logs" / "wso2carbon.log", LINE)
    with pytest.raises(SourceError, match="found instead: logs/wso2carbon.log"):
        discover(tmp_path)
    with pytest.raises(SourceError, match="Nothing matches"):
        discover(str(tmp_path / "*.nothing"))
    with pytest.raises(SourceError, match="not a readable zip"):
        discover([("logs.zip", b"PK\x03\x04 broken")])
    with pytest.raises(SourceError, match="Nothing to load"):
        discover([])


def test_zip_upload_is_read_in_memory_with_its_folders_as_nodes():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("prod/mi-a/repository/logs/audit.log", LINE)
        z.writestr("prod/mi-b/repository/logs/audit-11-01-2026.log.gz", gzip.compress(LINE))
        z.writestr("prod/readme.txt", b"hello")
    entries, skipped = discover([("export.zip", buf.getvalue()), ("audit.log", LINE)])
    assert [(e.source, e.node) for e in entries] == [
        ("audit.log", "upload"),
        ("export.zip/prod/mi-a/repository/logs/audit.log", "mi-a"),
        ("export.zip/prod/mi-b/repository/logs/audit-11-01-2026.log.gz", "mi-b")]
    assert skipped == ["export.zip/prod/readme.txt"]


def test_gunzip_keeps_what_precedes_damage():
    whole = gzip.compress(LINE * 1000)
    assert gunzip(whole) == (LINE * 1000, None)
    data, error = gunzip(whole[: len(whole) // 2])
    assert "truncated" in error and LINE * 10 in data and len(data) < len(LINE * 1000)
    data, error = gunzip(whole[:20] + b"\xff" * 50 + whole[70:])
    assert "corrupt" in error
    assert gunzip(gzip.compress(LINE) + gzip.compress(LINE)) == (LINE * 2, None)


def test_a_broken_gzip_never_stops_the_other_files(tmp_path):
    write(tmp_path / "audit.log", LINE)
    whole = gzip.compress(LINE * 500)
    write(tmp_path / "audit-11-01-2026.log.gz", whole[: len(whole) // 2])
    write(tmp_path / "audit-10-31-2026.log.gz", b"\x1f\x8b" + b"garbage" * 10)
    log = audit_lib.load(tmp_path)
    errors = dict(log.files.select("source", "error").iter_rows())
    assert errors["audit.log"] is None
    assert "truncated" in errors["audit-11-01-2026.log.gz"]
    assert errors["audit-10-31-2026.log.gz"]
    assert log.events.height > 1
