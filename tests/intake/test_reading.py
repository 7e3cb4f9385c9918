"""Reading files as streams: line breaks, encodings, over-long lines, damaged gzip, pieces cut at events."""

from __future__ import annotations

import gzip
import hashlib

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import audit_lib
from audit_lib.intake.content import sniff
from audit_lib.intake.entries import Entry, Limits
from audit_lib.intake.reading import FileFacts, event_cut, read_pieces

MI = '[2026-11-02 10:00:{s:02d},000]  INFO {{AUDIT_LOG}} - {{"performedBy":"admin","action":"enabled",' \
     '"type":"proxy_service","info":"{{\\"proxyName\\":\\"P{s}\\"}}"}}'


def mi(s: int) -> str:
    return MI.format(s=s)


def entry(data: bytes, name: str = "audit.log") -> Entry:
    return Entry(name, "upload", lambda: data, len(data))


def pieces(data: bytes, limits: Limits | None = None, size: int = 1 << 20) -> tuple[list, FileFacts]:
    facts = FileFacts()
    return list(read_pieces(0, entry(data), facts, limits or Limits(), piece_size=size)), facts


def test_a_lone_cr_ends_a_line_and_no_record_is_lost():
    data = (mi(1) + "\r" + mi(2) + "\r\n" + mi(3) + "\n").encode()
    log = audit_lib.load([("audit.log", data)])
    assert log.events["line"].to_list() == [1, 2, 3]
    assert log.files["lines"].to_list() == [3]
    assert log.raw_line("audit.log", 2) == mi(2)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_files_are_decoded(encoding):
    text = mi(1) + "\n" + "[2026-11-02 10:00:05,000]  INFO {AUDIT_LOG} - José logged in at [x]\n"
    log = audit_lib.load([("audit.log", text.encode(encoding))])
    assert log.rejects.height == 0
    assert log.events["user"].cast(pl.String).to_list() == ["admin", "José"]


def test_json_escapes_in_info_are_decoded():
    line = ('[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - {"performedBy":"admin","action":"created","type":"user",'
            '"info":"{\\"userId\\":\\"\\u0645\\u062d\\u0645\\u062f\\",\\"isAdmin\\":false}"}')
    event = audit_lib.load([("audit.log", line.encode())]).events.row(0, named=True)
    assert event["artifact"] == "محمد"
    assert event["details"] == '{"userId":"محمد","isAdmin":false}'


def test_deeply_nested_info_is_a_reject_not_a_crash():
    deep = '{"a":' * 1000 + "1" + "}" * 1000
    line = ('[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - {"info":' + deep + ',"type":"x","action":"created",'
            '"performedBy":"admin"}')
    log = audit_lib.load([("audit.log", (line + "\n" + mi(1) + "\n").encode())])
    assert log.events.height == 1
    assert log.rejects["reason"].to_list() == ["invalid JSON (nested too deeply)"]


def test_an_over_long_line_is_rejected_clipped_and_the_next_line_kept():
    data = (mi(1) + "\n" + "y" * 5000 + "\n" + mi(2) + "\n").encode()
    log = audit_lib.load([("audit.log", data)], limits=Limits(max_line=1000))
    assert log.events["line"].to_list() == [1, 3]
    reject = log.rejects.row(0, named=True)
    assert reject["line"] == 2 and reject["reason"].startswith("line too long (5000 characters")
    assert reject["text"].startswith("yyyy") and len(reject["text"]) < 5000
    assert log.files.row(0, named=True)["lines"] == 3


def test_an_over_long_line_across_reads_is_clipped_in_bounded_memory():
    huge = b"z" * (3 << 20)  # longer than one read: the line is counted, not kept
    data = mi(1).encode() + b"\n" + huge + b"\n" + mi(2).encode() + b"\n"
    got, facts = pieces(data, Limits(max_line=1 << 16))
    text = b"".join(p.text for p in got)
    assert len(text) < 100_000 and facts.lines == 3
    assert text.split(b"\n")[1].startswith(b"\x00too long\x00" + str(len(huge)).encode())


def test_a_cut_off_last_line_is_a_truncated_line():
    data = (mi(1) + "\n" + mi(2)[:60]).encode()
    log = audit_lib.load([("audit.log", data)])
    assert log.rejects["reason"].to_list() == ["truncated line (the file ends in the middle of it)"]
    assert log.complete  # the file itself was read to its end


def test_truncated_gzip_is_incomplete_and_says_so():
    body = "".join(mi(s % 60) + "\n" for s in range(3000)).encode()
    whole = gzip.compress(body)
    log = audit_lib.load([("audit-11-02-2026.log.gz", whole[: len(whole) // 2])])
    row = log.files.row(0, named=True)
    assert not row["complete"] and not log.complete
    assert "truncated gzip" in row["error"] and "unknown" in row["error"]
    assert 0 < log.events.height < 3000
    assert row["sha256"] == hashlib.sha256(whole[: len(whole) // 2]).hexdigest()
    assert row["lines"] == row["events"] + row["attached"] + row["rejects"] + row["blank"]


def test_a_gzip_bomb_is_refused_in_bounded_memory():
    bomb = gzip.compress(b"\n" * (64 << 20), 9)  # 64 MB of line breaks in ~64 KB
    log = audit_lib.load([("audit-11-02-2026.log.gz", bomb)], limits=Limits(max_file_bytes=8 << 20, max_ratio=10_000))
    row = log.files.row(0, named=True)
    assert not row["complete"] and row["error"].startswith("stopped at the cap")
    assert row["lines"] <= 9 << 20


def test_big_file_in_pieces_cut_at_event_boundaries():
    lines = []
    for s in range(4000):
        lines.append(mi(s % 60).replace(" INFO", "ERROR") if s % 7 == 0 else mi(s % 60))
        if s % 7 == 0:
            lines += ["java.io.IOException: boom", "\tat a.b.C.d(C.java:1)"]
    data = ("\n".join(lines) + "\n").encode()
    got, facts = pieces(data, size=20_000)
    assert len(got) > 10
    for p in got[1:]:
        assert p.text.startswith(b"[2026-")  # each piece starts at an event
    assert sum(p.lines for p in got) == facts.lines == len(lines)


def test_one_big_file_gives_the_same_events_as_its_rotations(tmp_path, monkeypatch):
    from audit_lib.intake import loader

    days = []
    for d in range(1, 6):
        days.append("".join(mi(s % 60).replace("2026-11-02", f"2026-11-0{d}") + "\n" for s in range(700)))
    for d, text in enumerate(days, start=1):
        (tmp_path / "split").mkdir(exist_ok=True)
        (tmp_path / "split" / f"audit-11-0{d}-2026.log").write_text(text)
    (tmp_path / "whole").mkdir()
    (tmp_path / "whole" / "audit.log").write_text("".join(days))
    monkeypatch.setattr(loader, "BATCH", 30_000)  # many batches, each cut at an event
    split, whole = audit_lib.load(tmp_path / "split"), audit_lib.load(tmp_path / "whole")
    cols = ["timestamp", "user", "action", "artifact_type", "artifact", "details"]
    assert split.events.select(cols).equals(whole.events.select(cols))


def test_many_small_files_in_one_batch_keep_their_own_lines(tmp_path):
    for i in range(60):
        head = "" if i % 3 else "\tat orphan.Trace(T.java:1)\n"  # a file starting with a continuation line
        (tmp_path / f"audit-10-{i % 28 + 1:02d}-20{10 + i // 28}.log").write_text(head + mi(i % 60) + "\n" + mi(1))
    log = audit_lib.load(tmp_path)
    assert log.files.height == 60 and log.events.height == 120
    per_file = log.events.group_by("source").agg(pl.col("line").sort()).sort("source")
    offsets = {r["source"]: 0 if r["rejects"] == 0 else 1 for r in log.files.iter_rows(named=True)}
    for src, lines in per_file.iter_rows():
        assert lines == [1 + offsets[src], 2 + offsets[src]]
    assert set(log.rejects["reason"]) == {"continuation without an event"}  # never attached across files
    assert log.rejects.height == 20


def test_batches_cut_between_and_inside_files_give_what_one_batch_gives(tmp_path, monkeypatch):
    from audit_lib.intake import loader

    trace = "\tat a.b.C.d(C.java:1)\n"
    for i in range(40):  # files of 0 to ~80 lines: some fit many to a batch, some span several batches
        body = "".join(mi(s % 60) + "\n" + (trace * (s % 3)) for s in range(i * 2 % 80))
        if i % 7 == 3:
            body = trace + body  # a file that starts with a continuation line
        data = body.encode()
        if i % 5 == 1:
            data += "[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - Jos\u00e9 logged in at [x]\n".encode("cp1252")
        if i % 9 == 2:
            data += mi(3).encode()[:40]  # cut off in the middle of its last line
        (tmp_path / f"audit-10-{i % 28 + 1:02d}-20{10 + i // 28}.log").write_bytes(data)
    whole = audit_lib.load(tmp_path)
    monkeypatch.setattr(loader, "BATCH", 1_500)
    cut = audit_lib.load(tmp_path)
    assert cut.events.height > 1000 and cut.rejects.height > 5
    assert cut.events.drop("node").equals(whole.events.drop("node"))
    assert cut.rejects.equals(whole.rejects)
    assert cut.files.equals(whole.files)
    assert "José" in cut.events["user"].to_list()  # a Windows-1252 line read as such in a small batch


def _line_strategy():
    good = [mi(1), mi(2).replace(" INFO", "ERROR"), "\tat a.b.C.d(C.java:1)", "Caused by: x.Y: z", "", "   ",
            "TID: [-1234] [2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - 'admin@carbon.super [-1234]' logged in at [x]",
            '[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - {"performedBy":"a","act', "[2026-99-99 10:00:00,000] X",
            "Initiator : null | Action : Login | Target : AuthenticationFramework | Data : {} | Result : Failed"]
    return st.one_of(st.sampled_from(good), st.text(max_size=200))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_line_strategy(), st.sampled_from(["\n", "\r\n", "\r"])), max_size=40),
       st.binary(max_size=30))
def test_random_mixes_never_raise_and_account_for_every_line(parts, garbage):
    data = b"".join(text.encode("utf-8", "surrogatepass") + end.encode() for text, end in parts) + garbage
    try:
        log = audit_lib.load([("audit.log", data)])
    except audit_lib.SourceError as exc:  # no line looks like a log line: refused with the reason
        assert sniff(data) is not None and "does not look like an audit log" in str(exc)
        return
    row = log.files.row(0, named=True)
    assert row["lines"] == row["events"] + row["attached"] + row["rejects"] + row["blank"]
    assert log.events.height == row["events"] and log.rejects.height == row["rejects"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"[2026-11-02 10:00:00,000] x\n", b"\tat a.b\n", b"TID: [1] y\n", b"\n",
                                 b"[20x\n", b"plain text line\n"]), min_size=1, max_size=60),
       st.lists(st.integers(1, 40), min_size=1, max_size=8), st.integers(0, 200), st.integers(1, 400))
def test_text_held_in_pieces_is_cut_where_the_joined_text_would_be(lines, splits, lo, size):
    from audit_lib.intake.loader import _Text, _text_cut

    data = b"".join(lines)
    pieces, at = [], 0
    for n in splits:  # pieces of whole lines, as the reader hands them over
        end = data.find(b"\n", at + n)
        if end < 0:
            break
        pieces.append(data[at : end + 1])
        at = end + 1
    pieces.append(data[at:])
    text = _Text()
    for p in filter(None, pieces):
        text.add(memoryview(p))
    lo, size = min(lo, len(data)), min(size, len(data))
    cut = _text_cut(text, lo, size)
    assert cut == event_cut(data, lo, size)
    assert b"".join(text.take(cut)) == data[:cut] and b"".join(text.parts) == data[cut:]
    assert text.size == len(data) - cut


def test_a_batch_that_fails_fails_the_load_and_the_batches_after_it_do_not_wait(tmp_path, monkeypatch):
    """A file's line numbers go on from the batch before it: when that batch cannot be read, the error is raised
    and the batches waiting for its count stop too."""
    import threading

    from audit_lib.intake import loader

    (tmp_path / "audit.log").write_text("".join(mi(s % 60) + "\n" for s in range(3000)))
    monkeypatch.setattr(loader, "BATCH", 20_000)
    real, calls = pl.read_lines, []

    def failing(source, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("no room for this batch")
        return real(source, **kw)

    monkeypatch.setattr(pl, "read_lines", failing)
    result: list = []
    run = threading.Thread(target=lambda: result.append(_raised(lambda: audit_lib.load(tmp_path))), daemon=True)
    run.start()
    run.join(60)
    assert not run.is_alive(), "the load hung"
    assert isinstance(result[0], MemoryError) and len(calls) >= 3


def _raised(f):
    try:
        f()
    except BaseException as exc:  # the test looks at what was raised
        return exc
    return None
