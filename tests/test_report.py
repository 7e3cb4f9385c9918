"""The PDF report, read back with pypdf: sections, counts, Unicode names, file hashes, page numbers."""

import io
import re

import polars as pl
import pytest
from pypdf import PdfReader

import audit_lib
from audit_lib.compliance import sensitive_actions
from audit_lib.export import sha256_hex, to_csv_bytes
from audit_lib.filters import Filters, apply_filters, parse_when
from audit_lib.report import build_report
from audit_lib.report.build import SECTIONS


def pages(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def samples():
    return audit_lib.load("samples", tz="UTC")


@pytest.fixture(scope="module")
def full(samples):
    report = build_report(samples, sources=["samples"], max_rows=200)
    return report, pages(report.pdf)


def test_sections_page_numbers_and_scope(full, samples):
    _, text = full
    joined = "\n".join(text)
    for title in SECTIONS[1:]:
        assert title in joined, title
    assert "Page 1 of" in text[0]
    assert all(f"Page {i} of {len(text)}" in t for i, t in enumerate(text, 1))
    assert "the first event to the last event (UTC)" in text[0]
    assert f"{samples.events.height:,}" in text[0]


def test_unicode_names_print(full):
    joined = "\n".join(full[1])
    assert "josé" in joined and "ana.lópez@carbon.super" in joined


def test_every_source_sha256_is_printed(full, samples):
    flat = re.sub(r"\s+", "", "\n".join(full[1]))
    for sha in samples.files["sha256"].drop_nulls():
        assert sha in flat


def test_appendix_cap_states_companion_csv_hash(full, samples):
    report, text = full
    assert report.truncated and report.appendix_rows == 200
    assert report.csv == to_csv_bytes(samples.events)
    assert report.csv_sha256 == sha256_hex(report.csv)
    flat = re.sub(r"\s+", " ", " ".join(text))
    assert "more than 200, so the first 200 are printed" in flat
    assert report.csv_sha256 in re.sub(r"\s+", "", flat)


def test_counts_of_sensitive_actions_and_evidence(full, samples):
    flat = re.sub(r"\s+", " ", " ".join(full[1]))
    sens = sensitive_actions(samples.events)
    assert f"{sens.height:,} sensitive actions in scope" in flat
    n_failed = sens.filter(pl.col("category") == "Failed sign-in").height
    assert f"Failed sign-in ({n_failed:,})" in flat
    assert f"{samples.rejects.height:,} line(s) could not be read as events" in flat
    assert "1 file(s) repeat the content of another file" in flat
    assert "8. Review" in flat and "Reviewed by" in flat and "Signature" in flat


def test_filtered_scope_and_full_appendix(samples):
    f = Filters(start=parse_when("2026-11-01", "UTC"), end=parse_when("2026-11-07", "UTC", end=True),
                users=("josé",))
    report = build_report(samples, f, sources=["samples"])
    scoped = apply_filters(samples.events, f)
    text = pages(report.pdf)
    flat = re.sub(r"\s+", " ", " ".join(text))
    assert report.events == scoped.height > 0 and not report.truncated
    assert "2026-11-01 00:00 to 2026-11-08 00:00 (UTC); users: josé" in text[0]
    assert f"All {scoped.height:,} events in scope" in flat
    assert report.name == "audit_2026-11-01_2026-11-07_user-josé"


def test_empty_scope_says_no_events(samples):
    report = build_report(samples, Filters(users=("nobody",)))
    flat = re.sub(r"\s+", " ", " ".join(pages(report.pdf)))
    assert report.events == 0
    assert "There are no events in this scope" in flat
    assert "No events in scope" in flat and "Page 1 of" in flat
    assert report.csv.decode().count("\n") == 1  # header only


def test_pdf_never_drops_a_character_silently(tmp_path):
    import hostile

    hostile.write_folder(tmp_path)
    log = audit_lib.load(str(tmp_path), tz="UTC")
    report = build_report(log, sources=[str(tmp_path)])
    text = "\n".join(pages(report.pdf))
    appendix = text[text.index("7. Appendix"):]
    # three different users print as three different texts
    assert "\\u{FF1D}1+1" in appendix  # fullwidth equals: no glyph in the font, printed as its code point
    assert "\\t=1+1" in appendix and "\\r=1+1" in appendix and "\\u200b=1+1" in appendix
    assert re.search(r"(?<![\\}bt])=1\+1", appendix)  # the plain one is there too
    # emoji the font lacks become a visible code point; bidi overrides and other controls print as escapes
    assert "\\u{1F980}" in appendix and "\U0001f980" not in text
    assert "a\\u202eevil\\u202cb" in appendix and "\u202e" not in text
    assert "bell\\u0007\\u001b[31mred" in appendix and "\x1b" not in text
    # the node folder (markdown) is printed as written, in the manifest
    assert "![n](http:" in text


def test_completeness_is_stated_and_never_claimed_for_a_cut_file(full):
    import gzip
    from pathlib import Path

    _, text = full
    assert "Complete: every file was read to its end." in "\n".join(text)
    data = Path("samples/mi-node-1/repository/logs/audit.log").read_bytes() * 30
    packed = gzip.compress(data)
    log = audit_lib.load([("audit-11-02-2026.log.gz", packed[: len(packed) // 2])])
    joined = "\n".join(pages(build_report(log, sources=["upload"], max_rows=50).pdf))
    assert "INCOMPLETE: 1 file(s) were read only in part" in joined
    assert "Complete: every file" not in joined
