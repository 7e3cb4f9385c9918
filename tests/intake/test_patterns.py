"""The messages read by the formats' line patterns (`intake.patterns`): the first format whose pattern matches a
line reads it, and a format's `split` reads the groups its pattern captures."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

import audit_lib
from audit_lib.intake.formats import load_formats
from audit_lib.intake.patterns import _groups, split_groups
from tests.support.wso2_lines import MIN, MONDAY, is_login, is_record


def load_text(text: str) -> audit_lib.AuditLog:
    return audit_lib.load([("audit.log", text.encode())])


_PIECES = ["a", "b", "Z", "0", " ", "  ", "\u00a0", "\t", "|", ":", " | ", "Result", "Result : ", "Data", "{", "}", "é",
           "Login", "Success", "Failed", "x y"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=5).map("".join), min_size=5, max_size=5),
       st.lists(st.sampled_from(["", " ", "  ", "\u2003"]), min_size=10, max_size=10), st.booleans())
def test_split_reads_the_groups_the_pattern_captures(values, spaces, with_result):
    fmts = load_formats()
    labels = ["Initiator", "Action", "Target", "Data", "Result"]
    parts = [f"{spaces[2 * i]}{label}{spaces[2 * i + 1]}:{' ' if i % 2 else ''}{v}"
             for i, (label, v) in enumerate(zip(labels, values, strict=True))]
    lines = ["|".join(parts[:5] if with_result else parts[:4]), " | ".join(parts), "|".join(parts[:4]) + " | "]
    for mf in (m for m in fmts.regex_formats if m.split):
        msg = pl.Series(lines).str.strip_chars()
        hit = msg.filter(msg.str.contains(mf.pattern))
        if hit.len() == 0:
            continue
        captured = hit.str.extract_groups(mf.pattern).struct.unnest()
        assert _groups(hit, mf).equals(captured), (mf.name, hit.to_list())
        split = split_groups(hit, mf)
        taken = split.filter("_split").drop("_split")
        assert taken.equals(captured.filter(split["_split"])), (mf.name, hit.to_list())


def test_a_format_that_read_most_lines_before_does_not_take_the_lines_of_an_earlier_format():
    records = [is_record(MONDAY + i * MIN, "admin", "add-user", f"u{i}") for i in range(300)]
    first = load_text("\n".join(records) + "\n")  # the generic Identity Server record read nearly every line
    assert set(first.events["action"].cast(pl.String)) == {"add-user"}
    mixed = load_text("\n".join(records[:200] + [is_login(MONDAY, "alice@carbon.super")]) + "\n")
    signed = mixed.events.filter(pl.col("artifact_type") == "session")
    assert signed.height == 1 and signed["action"].cast(pl.String).to_list() == ["logged_in"]
    assert mixed.events.height == 201 and mixed.rejects.height == 0
