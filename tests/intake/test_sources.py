"""Finding and reading audit files: names, content, nodes, folders, globs, uploads, zips, damage, bombs, FIFOs,
symlinks, unreadable folders and bad paths, all on real files made in tmp_path."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import signal
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

import audit_lib
from audit_lib.errors import SourceError
from audit_lib.intake.content import gunzip, read_content
from audit_lib.intake.discover import discover
from audit_lib.intake.entries import Budget, Entry, Limits, Skipped
from audit_lib.intake.names import is_audit_name, node_of

LINE = b"[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - admin logged in at [Mon Nov 02 10:00:00 UTC 2026]\n"
TID = b"TID: [-1234] [2021-06-01 10:00:00,123]  INFO {AUDIT_LOG} - 'admin@carbon.super [-1234]' logged in\n"
SECRETS = b'[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\ncookie_secret = "s3cr3t"\n'


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def reasons(skipped: list[Skipped]) -> dict[str, str]:
    return {s.name: s.reason for s in skipped}


# ------------------------------------------------------------------------------------------------ names


ROTATIONS = ["audit.log", "audit.log.1", "audit-10-07-2026.log", "audit-10-07-2026.1.log", "audit-10-07-2026-1.log",
             "audit-2026-10-06.log", "audit.log-20261005", "AUDIT.LOG"]


@pytest.mark.parametrize("name", ROTATIONS + [n + ".gz" for n in ROTATIONS])
def test_every_rotation_name_is_found_and_read(tmp_path, name):
    data = LINE * 3
    write(tmp_path / "mi-1" / "repository" / "logs" / name, gzip.compress(data) if name.endswith(".gz") else data)
    (entry,), skipped = discover(tmp_path)
    assert (entry.source, entry.node, skipped) == (f"mi-1/repository/logs/{name}", "mi-1", [])
    content = read_content(entry)
    assert (content.data, content.skip, content.error, content.complete) == (data, None, None, True)
    assert content.compressed == name.endswith(".gz")


@pytest.mark.parametrize("name", ["wso2carbon.log", "http_access.log", "xaudit.log", "wso2carbon-10-07-2026.log.gz"])
def test_other_names_are_skipped_with_the_reason(tmp_path, name):
    write(tmp_path / name, LINE)
    write(tmp_path / "audit.log", LINE)
    entries, skipped = discover(tmp_path)
    assert [e.source for e in entries] == ["audit.log"]
    assert skipped == [Skipped(name, "not an audit log name")]
    assert str(skipped[0]) == f"{name}: not an audit log name"
    assert not is_audit_name(name)


def test_node_rules():
    assert node_of(["mi-1", "repository", "logs", "audit.log"], "root") == "mi-1"
    assert node_of(["a", "mi-2", "repository", "logs", "audit.log"], "root") == "mi-2"
    assert node_of(["nodeA", "audit.log"], "root") == "nodeA"
    assert node_of(["audit.log"], "root") == "root"
    assert node_of(["repository", "logs", "audit.log"], "mi-3") == "mi-3"


# ------------------------------------------------------------------------------------------------ content


@pytest.mark.parametrize("data", [SECRETS, os.urandom(5000), b"hello\nthis is not a log\n" * 100,
                                  gzip.compress(SECRETS)])
def test_content_that_is_not_an_audit_log_is_skipped_and_not_returned(tmp_path, data):
    write(tmp_path / "audit.log", data)
    (entry,), _ = discover(tmp_path)
    content = read_content(entry)
    assert content.skip and "does not look like an audit log" in content.skip
    assert content.data == b""
    assert content.sha256 == hashlib.sha256(data).hexdigest() and content.size == len(data)


@pytest.mark.parametrize("data", [
    TID * 2,
    b"\tat org.example.Foo.bar(Foo.java:1)\n\t... 12 more\n" + LINE,  # a rotated file starting mid-trace
    b"\xef\xbb\xbf" + LINE,
    LINE.decode().encode("utf-16"),
    b"[2017-06-07 22:28:06,027]  INFO -  {\"performedBy\":\"admin\"}\r\n",
    b"",  # a quiet node's fresh audit.log
    LINE[:30],  # a half-written first line
])
def test_audit_content_is_accepted(tmp_path, data):
    write(tmp_path / "audit.log", data)
    (entry,), _ = discover(tmp_path)
    content = read_content(entry)
    assert (content.skip, content.data, content.complete) == (None, data, True)


def test_a_file_named_explicitly_is_a_candidate_whatever_its_name_and_content_decides(tmp_path):
    good = write(tmp_path / "copy-from-prod.txt", LINE)
    bad = write(tmp_path / "notes.txt", SECRETS)
    assert [e.source for e in discover(good)[0]] == ["copy-from-prod.txt"]
    (entry,), _ = discover(bad)
    assert read_content(entry).skip


def test_content_is_read_once_and_describes_the_bytes_read_even_if_the_file_grew(tmp_path):
    f = write(tmp_path / "audit.log", LINE)
    (entry,), _ = discover(tmp_path)
    with f.open("ab") as out:
        out.write(LINE * 2)
    content = read_content(entry)
    assert content.data == LINE * 3 and content.size == len(LINE * 3) == f.stat().st_size
    assert content.sha256 == hashlib.sha256(LINE * 3).hexdigest()


# ------------------------------------------------------------------------------------------------ folders, paths


def test_folder_search_is_recursive_and_reports_what_it_leaves(tmp_path):
    write(tmp_path / "n1" / "repository" / "logs" / "audit.log", LINE)
    write(tmp_path / "n1" / "repository" / "logs" / "audit-11-01-2026.log.gz", gzip.compress(LINE))
    write(tmp_path / "n1" / "repository" / "logs" / "wso2carbon.log", LINE)
    write(tmp_path / "n2" / "audit.log", LINE)
    entries, skipped = discover(tmp_path)
    assert [(e.source, e.node) for e in entries] == [
        ("n1/repository/logs/audit-11-01-2026.log.gz", "n1"), ("n1/repository/logs/audit.log", "n1"),
        ("n2/audit.log", "n2")]
    assert skipped == [Skipped("n1/repository/logs/wso2carbon.log", "not an audit log name")]
    assert all(e.path is not None and e.path.is_absolute() for e in entries)


def test_globs_and_several_folders(tmp_path):
    write(tmp_path / "a" / "audit.log", LINE)
    write(tmp_path / "b" / "audit.log", LINE)
    entries, _ = discover(str(tmp_path / "*" / "audit.log"))
    assert [(e.source, e.node) for e in entries] == [("a/audit.log", "a"), ("b/audit.log", "b")]
    entries, _ = discover([tmp_path / "a", tmp_path / "b"])
    assert [e.source for e in entries] == ["a/audit.log", "b/audit.log"]
    entries, _ = discover([tmp_path / "a", tmp_path / "a" / "audit.log"])  # one file reached twice: once
    assert len(entries) == 1


def test_a_folder_with_glob_characters_is_a_path_and_a_missing_one_is_a_glob(tmp_path):
    write(tmp_path / "mi[prod]" / "audit.log", LINE)
    write(tmp_path / "miprod" / "audit-11-01-2026.log", LINE)
    entries, _ = discover(tmp_path / "mi[prod]")
    assert [(e.source, e.node) for e in entries] == [("audit.log", "mi[prod]")]
    assert read_content(entries[0]).data == LINE
    entries, _ = discover(str(tmp_path / "mi[p]rod"))  # does not exist as a path: a glob matching miprod
    assert [(e.source, e.node) for e in entries] == [("miprod/audit-11-01-2026.log", "miprod")]


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(SourceError, match="No such file or folder"):
        discover(tmp_path / "missing")
    write(tmp_path / "logs" / "wso2carbon.log", LINE)
    with pytest.raises(SourceError, match="found instead: logs/wso2carbon.log: not an audit log name"):
        discover(tmp_path)
    with pytest.raises(SourceError, match="Nothing matches"):
        discover(str(tmp_path / "*.nothing"))
    with pytest.raises(SourceError, match="broken.zip: not a readable zip archive"):
        discover([("broken.zip", b"PK\x03\x04 broken")])
    with pytest.raises(SourceError, match="Nothing to load"):
        discover([])


@pytest.mark.parametrize("bad, message", [("logs\x00/audit.log", "NUL"), ("x" * 300, "too long"),
                                          ("/".join(["abcdefgh"] * 600), "too long")])
def test_nul_and_over_long_paths_give_a_clear_error(bad, message):
    with pytest.raises(SourceError, match=message) as err:
        discover(bad)
    assert "\x00" not in str(err.value) and len(str(err.value)) < 300


# ------------------------------------------------------------------------------------------------ zips


def test_an_explicit_zip_path_is_an_archive_whose_folders_give_nodes(tmp_path):
    z = write(tmp_path / "export.zip", zip_bytes({
        "nodeA/audit.log": LINE, "nodeB/repository/logs/audit-11-01-2026.log.gz": gzip.compress(LINE * 2),
        "nodeB/repository/logs/wso2carbon.log": LINE, "top/": b""}))
    entries, skipped = discover(z)
    assert [(e.source, e.node, e.upload) for e in entries] == [
        ("export.zip/nodeA/audit.log", "nodeA", "export.zip"),
        ("export.zip/nodeB/repository/logs/audit-11-01-2026.log.gz", "nodeB", "export.zip")]
    assert skipped == [Skipped("export.zip/nodeB/repository/logs/wso2carbon.log", "not an audit log name")]
    assert read_content(entries[1]).data == LINE * 2
    with entries[0].open() as f:
        assert f.read() == LINE
    single = write(tmp_path / "mi-7.zip", zip_bytes({"audit.log": LINE}))
    assert [(e.source, e.node) for e in discover(single)[0]] == [("mi-7.zip/audit.log", "mi-7")]


def test_a_zip_in_a_folder_is_searched_like_a_folder(tmp_path):
    write(tmp_path / "mi-2" / "repository" / "logs" / "old.zip", zip_bytes({"audit-10-01-2026.log": LINE}))
    write(tmp_path / "mi-2" / "repository" / "logs" / "audit.log", LINE)
    entries, _ = discover(tmp_path)
    assert [(e.source, e.node) for e in entries] == [
        ("mi-2/repository/logs/audit.log", "mi-2"), ("mi-2/repository/logs/old.zip/audit-10-01-2026.log", "mi-2")]


def test_zip_upload_is_read_in_memory_with_its_folders_as_nodes():
    data = zip_bytes({"prod/mi-a/repository/logs/audit.log": LINE,
                      "prod/mi-b/repository/logs/audit-11-01-2026.log.gz": gzip.compress(LINE),
                      "prod/readme.txt": b"hello"})
    entries, skipped = discover([("export.zip", data), ("audit.log", LINE)])
    assert [(e.source, e.node) for e in entries] == [
        ("audit.log", "upload"),
        ("export.zip/prod/mi-a/repository/logs/audit.log", "mi-a"),
        ("export.zip/prod/mi-b/repository/logs/audit-11-01-2026.log.gz", "mi-b")]
    assert [str(s) for s in skipped] == ["export.zip/prod/readme.txt: not an audit log name"]
    assert [read_content(e).data for e in entries] == [LINE, LINE, LINE]


def test_zips_inside_zips_are_read_one_level_deep():
    inner = zip_bytes({"audit.log": LINE})
    deeper = zip_bytes({"mi-9.zip": zip_bytes({"deep.zip": inner})})
    entries, skipped = discover([("all.zip", zip_bytes({"mi-4.zip": inner})), ("more.zip", deeper)])
    assert [(e.source, e.node) for e in entries] == [("all.zip/mi-4.zip/audit.log", "mi-4")]
    assert read_content(entries[0]).data == LINE
    assert [s.name for s in skipped] == ["more.zip/mi-9.zip/deep.zip"] and "deep" in skipped[0].reason


def test_a_zip_with_too_many_members_is_refused(tmp_path):
    many = write(tmp_path / "many.zip", zip_bytes({f"n{i}/audit.log": LINE for i in range(11)}))
    write(tmp_path / "audit.log", LINE)
    entries, skipped = discover(tmp_path, limits=Limits(max_members=10))
    assert [e.source for e in entries] == ["audit.log"]
    assert skipped == [Skipped("many.zip", "refused: a zip archive with more than 10 members")]
    with pytest.raises(SourceError, match="more than 10 members"):
        discover(many, limits=Limits(max_members=10))
    assert len(discover(many, limits=Limits(max_members=11))[0]) == 11


# ------------------------------------------------------------------------------------------------ uploads


def test_same_named_uploads_are_all_kept_apart_and_traceable():
    name = "audit-10-08-2026.log.gz"
    a, b = gzip.compress(LINE), gzip.compress(LINE.replace(b"admin", b"alice"))
    entries, _ = discover([(name, a), (name, b), (name, a), ("audit.log", LINE)])
    assert [(e.source, e.node, e.upload) for e in entries] == [
        ("audit-10-08-2026.log.gz", "upload", name), ("audit-10-08-2026.log.gz (2)", "upload (2)", f"{name} (2)"),
        ("audit-10-08-2026.log.gz (3)", "upload (3)", f"{name} (3)"), ("audit.log", "upload", "audit.log")]
    assert [read_content(e).data for e in entries[:3]] == [LINE, LINE.replace(b"admin", b"alice"), LINE]


def test_a_label_names_the_node_of_an_upload_batch_and_same_named_zips_stay_apart():
    entries, _ = discover([("audit.log", LINE), ("audit-11-01-2026.log", LINE)], label="mi-3")
    assert [(e.source, e.node) for e in entries] == [("mi-3/audit-11-01-2026.log", "mi-3"), ("mi-3/audit.log", "mi-3")]
    z1, z2 = zip_bytes({"audit.log": LINE}), zip_bytes({"audit.log": TID})
    entries, _ = discover([("logs.zip", z1), ("logs.zip", z2)])
    assert [(e.source, e.node) for e in entries] == [("logs.zip (2)/audit.log", "logs (2)"),
                                                     ("logs.zip/audit.log", "logs")]


def test_an_upload_over_the_cap_is_refused():
    entries, skipped = discover([("audit.log", LINE * 10), ("audit-11-01-2026.log", LINE)],
                                limits=Limits(max_upload_bytes=len(LINE) * 5))
    assert [e.source for e in entries] == ["audit-11-01-2026.log"]
    assert skipped[0].name == "audit.log" and "cap" in skipped[0].reason


# ------------------------------------------------------------------------------------------------ damage and bombs


def test_gunzip_keeps_what_precedes_damage():
    whole = gzip.compress(LINE * 1000)
    assert gunzip(whole) == (LINE * 1000, None)
    data, error = gunzip(whole[: len(whole) // 2])
    assert "truncated" in error and LINE * 10 in data and len(data) < len(LINE * 1000)
    data, error = gunzip(whole[:20] + b"\xff" * 50 + whole[70:])
    assert "corrupt" in error
    assert gunzip(gzip.compress(LINE) + gzip.compress(LINE)) == (LINE * 2, None)
    assert gunzip(whole, max_bytes=len(LINE) * 10) == (LINE * 10, gunzip(whole, len(LINE) * 10)[1])


def test_damaged_gzip_is_incomplete_and_keeps_the_lines_before(tmp_path):
    whole = gzip.compress(LINE * 1000)
    write(tmp_path / "audit-11-01-2026.log.gz", whole[: len(whole) // 2])
    write(tmp_path / "audit-11-02-2026.log.gz", whole[:40] + b"\xff" * 64 + whole[104:])
    write(tmp_path / "audit-11-03-2026.log.gz", gzip.compress(LINE) + gzip.compress(LINE))
    cut, corrupt, joined = (read_content(e) for e in discover(tmp_path)[0])
    assert not cut.complete and "truncated" in cut.error and cut.data.startswith(LINE * 10)
    assert not corrupt.complete and "corrupt" in corrupt.error
    assert (joined.complete, joined.error, joined.data) == (True, None, LINE * 2)
    assert cut.size == len(whole) // 2 and cut.sha256 == hashlib.sha256(whole[: len(whole) // 2]).hexdigest()


def _gzip_stream(path: Path, chunk: bytes, times: int) -> None:
    """A big gzip file written a chunk at a time (small on disk, never whole in memory)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as f:
        for _ in range(times):
            f.write(c.compress(chunk))
        f.write(c.flush())


BOMB_LIMITS = Limits(ratio_grace=1 << 20, max_ratio=20)


def test_a_gzip_bomb_is_refused_in_bounded_memory(tmp_path):
    path = tmp_path / "audit-11-01-2026.log.gz"
    _gzip_stream(path, LINE * 10_000, 50)  # 50 MB of audit lines
    assert path.stat().st_size < 1 << 20
    (entry,), _ = discover(tmp_path)
    tracemalloc.start()
    content = read_content(entry, BOMB_LIMITS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert not content.complete and "refused" in content.error and "gzip bomb" in content.error
    kept = BOMB_LIMITS.max_ratio * content.size  # ~3 MB of the 50 MB
    assert content.skip is None and kept - len(LINE) <= len(content.data) <= kept and content.data.startswith(LINE)
    assert peak < 3 * kept + (4 << 20) < 16 << 20, peak


def test_a_gzip_of_zeros_is_skipped_as_not_a_log_after_a_small_look(tmp_path):
    _gzip_stream(tmp_path / "audit.log.gz", b"\x00" * (1 << 20), 50)
    (entry,), _ = discover(tmp_path)
    content = read_content(entry, BOMB_LIMITS)
    assert content.skip and content.data == b""


def test_a_zip_bomb_is_refused_before_anything_is_decompressed(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z, z.open("audit.log", "w") as f:
        for _ in range(50):
            f.write(LINE * 10_000)
    assert path.stat().st_size < 1 << 20
    write(tmp_path / "audit.log", LINE)
    entries, skipped = discover(tmp_path, limits=BOMB_LIMITS)
    assert [e.source for e in entries] == ["audit.log"]
    ((name, reason),) = reasons(skipped).items()
    assert name == "bomb.zip/audit.log" and "refused" in reason and "zip bomb" in reason
    with pytest.raises(SourceError, match="zip bomb"):
        discover(path, limits=BOMB_LIMITS)


def test_a_zip_member_lying_about_its_size_is_read_no_further_than_it_says(tmp_path):
    data = bytearray(zip_bytes({"audit.log": LINE * 200_000}))  # 20 MB of lines
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 1000)  # the central directory now says 1,000 bytes
    (entry,), _ = discover([("liar.zip", bytes(data))], limits=BOMB_LIMITS)
    assert entry.size == 1000
    tracemalloc.start()
    content = read_content(entry, BOMB_LIMITS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert not content.complete and "damaged zip member" in content.error
    assert len(content.data) <= 1000 and peak < 8 << 20


def test_a_zip_member_over_the_file_cap_is_refused_by_its_declared_size():
    data = zip_bytes({"audit.log": LINE * 1000}, zipfile.ZIP_STORED)
    with pytest.raises(SourceError, match="more than the cap"):
        discover([("big.zip", data)], limits=Limits(max_file_bytes=len(LINE) * 100))


def test_file_and_total_caps_keep_what_came_before(tmp_path):
    write(tmp_path / "audit-11-01-2026.log", LINE * 100)
    write(tmp_path / "audit-11-02-2026.log", LINE * 100)
    first, second = discover(tmp_path)[0]
    content = read_content(first, Limits(max_file_bytes=len(LINE) * 10))
    assert content.data == LINE * 10 and not content.complete and "cap" in content.error
    budget = Budget(len(LINE) * 150)
    a, b = read_content(first, budget=budget), read_content(second, budget=budget)
    assert (a.complete, len(a.data)) == (True, len(LINE) * 100)
    assert (b.complete, len(b.data)) == (False, len(LINE) * 50) and "total" in b.error


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


# ------------------------------------------------------------------------------------------------ unsafe files


@pytest.fixture
def alarm():
    """Fail instead of hanging forever if something blocks (a FIFO opened for reading)."""
    def hang(*_):
        raise TimeoutError("blocked")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_a_fifo_is_never_opened(tmp_path, alarm):
    os.mkfifo(tmp_path / "audit.log")
    write(tmp_path / "audit-11-01-2026.log", LINE)
    entries, skipped = discover(tmp_path)
    assert [e.source for e in entries] == ["audit-11-01-2026.log"]
    assert skipped == [Skipped("audit.log", "not a regular file (FIFO)")]
    with pytest.raises(SourceError, match="FIFO"):
        discover(tmp_path / "audit.log")
    # a FIFO swapped in after the listing: refused when opened, without blocking
    content = read_content(Entry("audit.log", "x", lambda: b"", 0, path=tmp_path / "audit.log"))
    assert not content.complete and "FIFO" in content.error and content.data == b""


def test_symlinks_must_stay_inside_the_roots(tmp_path):
    root, outside = tmp_path / "logs", tmp_path / "private"
    secret = write(outside / "secrets.toml", SECRETS)
    write(outside / "audit.log", LINE)
    write(root / "mi-1" / "audit.log", LINE)
    (root / "mi-1" / "audit-01-01-2026.log").symlink_to(secret)
    (root / "mi-1" / "audit-01-02-2026.log").symlink_to(root / "mi-1" / "audit.log")  # stays inside: read
    (root / "elsewhere").symlink_to(outside, target_is_directory=True)
    (root / "mi-1" / "loop").symlink_to(root, target_is_directory=True)
    entries, skipped = discover(root, roots=[root])
    assert [e.source for e in entries] == ["mi-1/audit-01-02-2026.log", "mi-1/audit.log"]
    assert reasons(skipped) == {"elsewhere": "symlink leaves the allowed folders",
                                "mi-1/audit-01-01-2026.log": "symlink leaves the allowed folders",
                                "mi-1/loop/": "a link to a folder already searched"}
    assert str(outside) not in " ".join(map(str, skipped))
    with pytest.raises(SourceError, match="Refused") as err:
        discover(root / "elsewhere" / "audit.log", roots=[root])
    assert str(outside) not in str(err.value)
    with pytest.raises(SourceError, match="Refused"):
        discover(outside / "nothing-here", roots=[root])  # no hint whether it exists
    # without roots (the command line), links are followed
    assert "mi-1/audit-01-01-2026.log" in [e.source for e in discover(root)[0]]


def test_an_unreadable_sub_folder_is_reported(tmp_path):
    write(tmp_path / "nodeA" / "repository" / "logs" / "audit.log", LINE)
    write(tmp_path / "nodeB" / "repository" / "logs" / "audit.log", LINE)
    locked = tmp_path / "nodeB" / "repository"
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running with privileges that read any folder")
        entries, skipped = discover(tmp_path)
        assert [e.node for e in entries] == ["nodeA"]
        assert skipped == [Skipped("nodeB/repository/", "cannot read: permission denied")]
    finally:
        locked.chmod(0o755)


def test_an_unreadable_file_is_reported(tmp_path):
    f = write(tmp_path / "audit.log", LINE)
    write(tmp_path / "audit-11-01-2026.log", LINE)
    f.chmod(0)
    try:
        if os.access(f, os.R_OK):
            pytest.skip("running with privileges that read any file")
        entries, skipped = discover(tmp_path)
        assert skipped == [Skipped("audit.log", "cannot read: permission denied")]
    finally:
        f.chmod(0o644)


def test_names_of_uploads_and_zip_members_are_never_paths():
    data = zip_bytes({"../../mi-5/audit.log": LINE, "/abs/audit-11-01-2026.log": LINE})
    entries, _ = discover([("../../etc/audit.log", LINE), ("..\\x.zip", data)])
    assert [(e.source, e.node) for e in entries] == [
        ("etc/audit.log", "etc"), ("x.zip/abs/audit-11-01-2026.log", "abs"), ("x.zip/mi-5/audit.log", "mi-5")]
