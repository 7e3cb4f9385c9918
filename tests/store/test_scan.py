"""`line_offset`: where a line starts, counting breaks as the loader does (LF, CR, CRLF as one), across chunks."""

from __future__ import annotations

import io
import random
import re

import pytest

from audit_lib.intake.entries import Entry
from audit_lib.store.scan import line_offset

HEAD = b"[2026-11-20 08:00:00,000]  INFO {AUDIT_LOG} - admin logged in at [Fri Nov 20 08:00:00 UTC 2026]\n"


def entry(data: bytes) -> Entry:
    return Entry(source="audit.log", node="n", read=lambda: data, size=len(data), opener=lambda: io.BytesIO(data))


def starts(data: bytes) -> list[int]:
    return [m.end() for m in re.finditer(rb"\r\n|\r|\n", data)]


@pytest.mark.parametrize("seed", range(20))
def test_line_offset_counts_breaks_as_the_loader_does(seed: int) -> None:
    rng = random.Random(seed)
    data = HEAD + b"".join(b"x" * rng.randint(0, 5) + rng.choice([b"\n", b"\r", b"\r\n"])
                           for _ in range(rng.randint(0, 40))) + b"y" * rng.randint(0, 3)
    want = starts(data)
    for n in range(len(want) + 3):
        assert line_offset(entry(data), n) == ([0, *want][n] if n <= len(want) else None)


def test_a_crlf_cut_by_a_chunk_is_one_break() -> None:
    data = HEAD + b"a" * ((1 << 20) - len(HEAD) - 1) + b"\r\n" + b"b\n" * 3
    want = starts(data)
    assert [line_offset(entry(data), n) for n in range(1, 6)] == want[:5]
