"""Each distinct message is read once: within a batch, and across a load's batches through the memo."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

import audit_lib
from audit_lib.intake import loader
from audit_lib.intake.formats import load_formats
from audit_lib.intake.messages import Memo, message_memo, once
from audit_lib.intake.parse import read_messages

A = '{"performedBy":"admin","action":"enabled","type":"proxy_service","info":"{\\"proxyName\\":\\"OrderProxy\\"}"}'
B = "jane logged in at [Mon Jan 05 00:03:38 IST 2026]"
C = '{"performedBy":"raj","action":"deleted","type":"endpoint","info":"{\\"endpointName\\":\\"EP1\\"}"}'


def _rows(bodies: list[str], tenant: str | None = None) -> pl.DataFrame:
    return pl.DataFrame({"row": pl.Series(range(len(bodies)), dtype=pl.UInt32), "body": bodies,
                         "tenant": pl.Series([tenant] * len(bodies), dtype=pl.String)})


def test_a_later_batch_reads_only_what_the_memo_does_not_hold() -> None:
    fmts = load_formats()
    read: list[list[str]] = []

    def reader(df: pl.DataFrame) -> pl.DataFrame:
        read.append(sorted(df["body"].to_list()))
        return read_messages(df, fmts)

    memo = Memo()
    first = once(_rows([A, A, B, A]), reader, memo)
    assert read == [sorted([A, B])]  # each distinct message once
    second = once(_rows([C, A, A]), reader, memo)
    assert read[1] == [C]  # A was read in the first batch: taken from the memo
    assert memo.known is not None and set(memo.known["_body"]) == {A, B, C}
    for got, bodies in ((first, [A, A, B, A]), (second, [C, A, A])):
        assert_frame_equal(got.sort("row"), read_messages(_rows(bodies), fmts).sort("row"), check_column_order=False)


def test_a_full_memo_takes_no_more() -> None:
    fmts = load_formats()
    memo = Memo(limit=1)
    once(_rows([A, A]), lambda df: read_messages(df, fmts), memo)
    once(_rows([C, C]), lambda df: read_messages(df, fmts), memo)
    assert memo.known["_body"].to_list() == [A]


def test_the_tenant_is_part_of_a_message() -> None:
    """The same text under a tenant (API Manager's TID:) is another message: the product differs."""
    fmts = load_formats()
    memo = Memo()
    once(_rows([A, A]), lambda df: read_messages(df, fmts), memo)
    got = once(_rows([A, A], tenant="-1234"), lambda df: read_messages(df, fmts), memo)
    assert got["product"].to_list() == ["apim", "apim"]


def test_a_load_in_small_batches_equals_one_in_large_ones(samples_dir, monkeypatch) -> None:
    """Batches of 16 KB: the samples' files span many batches, the memo lends messages across them."""
    whole = audit_lib.load(samples_dir)
    monkeypatch.setattr(loader, "BATCH", 16 << 10)
    small = audit_lib.load(samples_dir)
    assert_frame_equal(small.events, whole.events)
    assert_frame_equal(small.rejects, whole.rejects)
    assert_frame_equal(small.files, whole.files)


def test_messages_that_never_repeat_are_not_kept() -> None:
    """A sign-in's message carries its own time (mi_session says `repeats: false`): it is read, its fields are
    right, and the memo keeps only the change record, which later batches will meet again."""
    fmts = load_formats()
    memo = message_memo(fmts).others
    assert memo.forget is not None
    got = once(_rows([A, A, B, A]), lambda df: read_messages(df, fmts), memo)
    assert set(memo.known["_body"]) == {A}
    assert_frame_equal(got.sort("row"), read_messages(_rows([A, A, B, A]), fmts).sort("row"),
                       check_column_order=False)


def test_records_and_other_messages_are_matched_apart() -> None:
    """With a load's memo, change records go to one memo and the other messages to the other; the fields are
    those read without any memo, in row order once sorted."""
    fmts = load_formats()
    memo = message_memo(fmts)
    bodies = [A, B, C, A, "  " + A, C]  # the record after white space is read like any other
    got = read_messages(_rows(bodies), fmts, memo)
    assert set(memo.records.known["_body"]) == {A, C}
    # a sign-in and one record, each once: read at once; the record is kept, the sign-in (never repeated) is not
    assert memo.others.known["_body"].to_list() == ["  " + A]
    assert_frame_equal(got.sort("row"), read_messages(_rows(bodies), fmts).sort("row"), check_column_order=False)
    assert got.sort("row")["user"].cast(pl.String).to_list() == ["admin", "jane", "raj", "admin", "admin", "raj"]


def test_a_batch_of_new_messages_is_read_at_once() -> None:
    """When the batch's first messages are distinct and unknown to the memo, nothing is matched: every row is
    read, and the memo learns nothing it would not use."""
    fmts = load_formats()
    bodies = [A.replace("OrderProxy", f"P{i}") for i in range(600)]
    calls: list[int] = []

    def reader(df: pl.DataFrame) -> pl.DataFrame:
        calls.append(df.height)
        return read_messages(df, fmts)

    memo = Memo()
    once(_rows([A, A, A]), reader, memo)  # the memo knows A only
    got = once(_rows(bodies + [A]), reader, memo)
    assert calls == [1, 601]  # A was read once the first time; the new batch all at once
    assert got.sort("row")["artifact"].cast(pl.String).to_list() == [f"P{i}" for i in range(600)] + ["OrderProxy"]


def test_a_first_batch_with_few_repeats_still_fills_the_memo() -> None:
    """A node's records drawn from a pool larger than half a batch: the first batch repeats too little to match
    within it, so it is read at once, but its messages are kept; the next batch, the same pool again, reads
    only what it adds."""
    fmts = load_formats()
    pool = [A.replace("OrderProxy", f"P{i}") for i in range(400)]
    calls: list[int] = []

    def reader(df: pl.DataFrame) -> pl.DataFrame:
        calls.append(df.height)
        return read_messages(df, fmts)

    memo = Memo()
    first = pool[:300] + pool[:100]  # 300 distinct of 400 rows
    once(_rows(first), reader, memo)
    assert calls == [400] and memo.known.height == 300
    second = pool[200:] + pool[:200]  # 100 new messages
    got = once(_rows(second), reader, memo)
    assert calls == [400, 100] and memo.known.height == 400
    assert_frame_equal(got.sort("row"), read_messages(_rows(second), fmts).sort("row"), check_column_order=False)
