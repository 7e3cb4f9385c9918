"""Each distinct message is read once: within a batch, and across a load's batches through the memo."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

import audit_lib
from audit_lib.intake import loader
from audit_lib.intake.formats import load_formats
from audit_lib.intake.messages import Memo, once
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
