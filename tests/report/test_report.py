"""The PDF report, read back with pypdf: editions and sections, findings with their events, sensitive actions with
their outcome, privileged actors and their sessions, evidence restricted to the scope, hashes, and the layout rules
(no word broken, no source cut, charts with headings in the report's font)."""

import io
import json
import os
import re
import subprocess
import sys
from datetime import timedelta

import polars as pl
import pytest
from pypdf import PdfReader

import audit_lib
from audit_lib.analysis import compliance
from audit_lib.analysis.filters import Filters, apply_filters, parse_when
from audit_lib.checks.findings import findings
from audit_lib.render.export import sha256_hex, to_csv_bytes
from audit_lib.report import ReportLimits, build_report
from audit_lib.report.pdf import CHART_FONT, CUT, ReportPDF, Span, chart_font_dir
from tests.support.wso2_lines import MIN, MONDAY, is_kv, is_record, mi_change, mi_sign, write_node


def pages(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str | list[str]) -> str:
    return re.sub(r"\s+", " ", " ".join(text) if isinstance(text, list) else text)


def section(text: list[str], title: str, until: str | None = None) -> str:
    joined = "\n".join(text)
    start = joined.index(title, joined.index("Contents") + 200 if "Contents" in joined else 0)
    end = joined.index(until, start) if until else len(joined)
    return joined[start:end]


@pytest.fixture(scope="module")
def samples():
    return audit_lib.load("samples", tz="UTC")


@pytest.fixture(scope="module")
def privileged(samples):
    report = build_report(samples, sources=["samples"], config_source="samples")
    return report, pages(report.pdf)


@pytest.fixture(scope="module")
def full(samples):
    report = build_report(samples, sources=["samples"], edition="full", limits=ReportLimits(max_rows=200))
    return report, pages(report.pdf)


def test_privileged_edition_sections_page_numbers_and_cover(privileged, samples):
    report, text = privileged
    assert report.edition == "privileged" and report.appendix_rows == 0
    cover = flat(text[0])
    for title in ["1. Findings summary", "2. Findings and their events", "3. Sensitive actions",
                  "4. Privileged actors and their sessions", "5. Evidence", "6. Review"]:
        assert title in cover, title
        assert sum(title in t for t in text[1:]) >= 1, title
    assert "Appendix" not in flat(text) and "Activity" not in cover
    assert all(f"Page {i} of {len(text)}" in t for i, t in enumerate(text, 1))
    assert "the first event to the last event (UTC)" in cover and f"{samples.events.height:,}" in cover
    nospace = re.sub(r"\s+", "", " ".join(text))
    assert report.csv_sha256 in nospace and report.findings_sha256 in nospace
    assert report.csv == to_csv_bytes(samples.events) and report.csv_sha256 == sha256_hex(report.csv)
    assert report.pdf_sha256 == sha256_hex(report.pdf)
    assert report.sha256_line("r.pdf") == f"{sha256_hex(report.pdf)}  r.pdf\n"


def test_findings_summary_and_each_finding_with_its_events(privileged, samples):
    report, text = privileged
    found = findings(samples.events)
    summary = flat(section(text, "1. Findings summary", "2. Findings and their events"))
    by_rule: dict[str, int] = {}
    for f in found:
        by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
    for rule, n in by_rule.items():
        assert re.search(rf"{re.escape(rule)} .*? {n} ", summary), rule
    assert "missing-pci-fields" in summary  # the configuration check's findings too
    detail = section(text, "2. Findings and their events", "3. Sensitive actions")
    stopped = [f for f in found if f.rule == "logging-stopped"]
    assert stopped
    for f in stopped[:3]:
        assert f.id in detail
        for row in f.events.head(5).iter_rows(named=True):  # time, actor, node, outcome, source:line
            assert row["timestamp"].strftime("%Y-%m-%d %H:%M:%S") in detail
            where = f"{row['source']}:{row['line']}"
            assert where in detail.replace("\n", "")
    assert "not recorded" in detail  # MI changes carry no outcome
    lines = report.findings_jsonl.decode().splitlines()
    assert len(lines) == report.findings == len(found) + len([x for x in lines if '"missing-pci-fields"' in x]) + len(
        [x for x in lines if '"retention-below-12-months"' in x])
    assert sha256_hex(report.findings_jsonl) == report.findings_sha256
    assert all(json.loads(x)["id"] for x in lines)


def test_sensitive_actions_have_an_outcome_column(privileged, samples):
    _, text = privileged
    part = section(text, "3. Sensitive actions", "4. Privileged actors")
    sens = compliance.sensitive_actions(samples.events)
    assert f"{sens.height:,} sensitive actions in scope" in flat(part)
    # Identity Server role changes are listed; routine deployments, connectors and registry changes are not
    assert "Role or permission change" in part and "Add Role" in part and "Update Roles of User" in part
    for routine in ["carbon_application", "registry_resource", "connector"]:
        assert f"{routine} " not in part.split("Not counted as sensitive")[1].split("\n", 1)[1], routine
    # a refused IS deletion is printed as failed, an MI one as not recorded, never as a plain success
    failed = sens.filter((pl.col("category") == "Account deleted") & (pl.col("outcome") == "failed"))
    assert failed.height > 0
    for row in failed.iter_rows(named=True):
        line = next(x for x in part.splitlines() if row["timestamp"].strftime("%Y-%m-%d %H:%M:%S") in x
                    and "Delete User" in x)
        assert "failed" in line
    mi = sens.filter((pl.col("product") == "mi") & (pl.col("category") == "Account deleted")).row(0, named=True)
    line = next(x for x in part.splitlines() if mi["timestamp"].strftime("%Y-%m-%d %H:%M:%S") in x)
    assert "not recorded" in line and "success" not in line
    # each action names the session it was made in (the Users page's and the sessions table's number), or none
    ids = audit_lib.with_sessions(samples.events).select(pl.col("source").cast(pl.String), "line", "session")
    marked = sens.join(ids, on=["source", "line"])
    for category in ["Logging stopped", "Change without an identified user"]:
        rows = marked.filter(pl.col("category") == category)
        listed = part[part.index(f"{category} ("):]
        for row in rows.head(8).iter_rows(named=True):  # a row's text runs from its time to the next row's
            at = listed.index(row["timestamp"].strftime("%Y-%m-%d %H:%M:%S"))
            block = re.split(r"\n20\d\d-\d\d-\d\d \d\d:", listed[at:], maxsplit=1)[0]
            assert (f"#{row['session']}" if row["session"] is not None else "none") in block.split()
    assert marked["session"].is_not_null().any() and marked["session"].is_null().any()


def test_privileged_actors_and_their_sessions(privileged, samples):
    report, text = privileged
    part = flat(section(text, "4. Privileged actors and their sessions", "5. Evidence"))
    sens = compliance.sensitive_actions(samples.events)
    expected = compliance.privileged_actors(sens)
    assert list(report.privileged) == expected and f"{len(expected)} people privileged" in part
    sessions = audit_lib.sessions(samples.events)
    mine = sessions.filter(pl.col("actor").is_in(expected))
    assert f"{mine.height:,} sessions of privileged actors in scope" in part
    assert "anonymous" not in part.split("Sessions with sensitive actions")[0]
    # given actors replace the default
    chosen = build_report(samples, privileged=["raj.k"])
    part = flat(section(pages(chosen.pdf), "4. Privileged actors", "5. Evidence"))
    assert chosen.privileged == ("raj.k",) and "1 person privileged." in part and "The list was given" in part
    assert "jane.ops" not in part


def test_evidence_lists_only_the_files_covering_the_scope_and_their_days(samples):
    f = Filters(start=parse_when("2026-11-02", "UTC"), end=parse_when("2026-11-03", "UTC", end=True))
    report = build_report(samples, f)
    text = pages(report.pdf)
    evidence = section(text, "5. Evidence", "6. Review")
    nospace = re.sub(r"\s+", "", evidence)
    scoped = apply_filters(samples.events, f)
    days = (parse_when("2026-11-02", "UTC").date(), parse_when("2026-11-03", "UTC").date())
    cover = compliance.covering_files(samples.files, scoped, days, "UTC")
    for sha in cover["sha256"].drop_nulls():
        assert sha in nospace
    for sha in samples.files.filter(~pl.col("source").is_in(cover["source"].implode()))["sha256"].drop_nulls():
        assert sha not in nospace  # June's and November's other files stay out of this scope's evidence
    assert f"{cover.height} of the {samples.files.height} files read cover them" in flat(evidence)
    assert "The scope's days: 2026-11-02 to 2026-11-03 (UTC)" in flat(evidence)
    assert "Complete: every file was read to its end." in evidence
    assert re.search(r"is-node 2 0 2026-11-02 to 2026-11-03", flat(evidence))  # no IS file covers those days


def test_appendix_only_on_request_and_source_never_cut(samples):
    plain = build_report(samples, Filters(users=("josé",)))
    assert "Appendix" not in flat(pages(plain.pdf)) and plain.appendix_rows == 0
    report = build_report(samples, Filters(users=("josé",)), appendix=True)
    text = pages(report.pdf)
    appendix = section(text, "Appendix: events in scope", "Review")
    scoped = apply_filters(samples.events, Filters(users=("josé",)))
    assert report.appendix_rows == scoped.height and f"All {scoped.height:,} events in scope" in flat(appendix)
    joined = appendix.replace("\n", "")
    for row in scoped.iter_rows(named=True):  # every source whole, wrapped at its slashes, never cut from the left
        assert f"{row['source']}:{row['line']}" in joined
    assert "…/" not in appendix and "…" + "repository" not in joined
    capped = build_report(samples, appendix=True, limits=ReportLimits(max_rows=50))
    assert capped.truncated and capped.appendix_rows == 50
    assert "more than 50, so the first 50 are printed" in flat(pages(capped.pdf))


def test_full_edition_has_activity_charts_with_headings_sign_ins_and_appendix(full):
    report, text = full
    assert report.edition == "full" and report.appendix_rows == 200
    cover = flat(text[0])
    for title in ["1. Activity", "2. Who and what", "6. Sign-ins and sign-outs", "9. Appendix: events in scope",
                  "10. Review"]:
        assert title in cover, title
    reader = PdfReader(io.BytesIO(report.pdf))
    charted = [i for i, p in enumerate(reader.pages) if p.images]
    assert len(charted) == 2
    for i in charted:  # every page with charts says what they show
        assert re.search(r"\d+\. (Activity|Who and what)", text[i])
    who = flat(text[charted[1]])
    assert "Actions per user, by kind" in who and "Events per artifact type" in who
    assert "more than 200, so the first 200 are printed" in flat(text)


def test_chart_font_folder_is_removed_when_the_process_ends():
    code = "from audit_lib.report.pdf import chart_font_dir as f; import os; d = f(); print(d, os.path.isdir(d))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == "True" and not os.path.exists(out[0])


def test_charts_use_the_report_font():
    from fontTools.ttLib import TTFont
    from PIL import Image

    folder = chart_font_dir()
    names = {TTFont(str(p))["name"].getDebugName(1) for p in __import__("pathlib").Path(folder).glob("*.ttf")}
    assert names == {CHART_FONT}
    import altair as alt
    import vl_convert as vlc

    from audit_lib.render import charts

    vlc.register_font_directory(folder)
    chart = alt.Chart(pl.DataFrame({"t": ["undeployed admin@carbon.super"]})).mark_text(fontSize=40).encode(
        text="t:N")

    def ink(config: dict | None) -> int:
        img = Image.open(io.BytesIO(charts.chart_png(chart, scale=1, config=config))).convert("L")
        box = img.point(lambda v: 255 if v < 128 else 0).getbbox()
        assert box is not None, "no text drawn"
        return box[2] - box[0]

    # drawn (not silently blank), as wide as the report's own face says, and not the regular DejaVu Sans
    pdf = ReportPDF()
    expected = pdf.unit_width("undeployed admin@carbon.super") * 40
    assert abs(ink({"font": CHART_FONT}) - expected) < 0.04 * expected
    assert ink({"font": "DejaVu Sans"}) > 1.06 * expected


def test_unicode_names_print(privileged):
    joined = "\n".join(privileged[1])
    assert "josé" in joined


def test_no_word_is_broken_inside_a_table_cell():
    words = ["admin@carbon.super", "undeployed", "registry_resource_properties", "lifecycle-changed",
             "org-apache-synapse-transport-http-wire", "Internal/everyone"]
    pdf = ReportPDF()
    pdf.add_page()
    rows = [(w, w.upper(), f"{w} and {w}", "x") for w in words]
    pdf.table(["Name", "Upper", "Twice", "Tiny"], [Span("a group of rows"), *rows], [3, 3, 3, 90], max_lines=3)
    text = PdfReader(io.BytesIO(bytes(pdf.output()))).pages[0].extract_text()
    for w in words:
        assert w in text and w.upper() in text, w
    assert CUT not in text
    # a single word wider than the whole page at the smallest type is the only one ever cut, and says so
    pdf = ReportPDF()
    pdf.add_page()
    pdf.table(["Blob"], [("A" * 600,)], [1], max_lines=20)
    text = PdfReader(io.BytesIO(bytes(pdf.output()))).pages[0].extract_text()
    assert CUT in text and text.count("A") == 600


def test_report_words_are_whole(privileged, samples):
    joined = "\n".join(privileged[1])
    for value in ["lifecycle-changed", "registry_resource_properties", "Update Roles of User"]:
        assert value in joined or value.split()[0] in joined
    assert CUT not in joined
    for actor in samples.events["actor"].cast(pl.String).drop_nulls().unique():
        if " " not in actor and actor in joined.replace("\n", " "):
            assert not re.search(re.escape(actor[:-2]) + r"\n" + re.escape(actor[-2:]), joined), actor


def test_empty_scope_says_no_events(samples):
    report = build_report(samples, Filters(users=("nobody",)))
    text = flat(pages(report.pdf))
    assert report.events == 0 and report.findings >= 0
    assert "There are no events in this scope" in text and "Page 1 of" in text
    assert report.csv.decode().count("\n") == 1  # header only


def test_pdf_never_drops_a_character_silently(tmp_path):
    from tests.support import hostile

    hostile.write_folder(tmp_path)
    log = audit_lib.load(str(tmp_path), tz="UTC")
    report = build_report(log, sources=[str(tmp_path)], appendix=True)
    text = "\n".join(pages(report.pdf))
    appendix = text[text.index("Appendix: events in scope", 2000):]
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


def test_completeness_is_stated_and_never_claimed_for_a_cut_file(privileged):
    import gzip
    from pathlib import Path

    _, text = privileged
    assert "Complete: every file was read to its end." in "\n".join(text)
    data = Path("samples/mi-node-1/repository/logs/audit.log").read_bytes() * 30
    packed = gzip.compress(data)
    log = audit_lib.load([("audit-11-02-2026.log.gz", packed[: len(packed) // 2])])
    joined = "\n".join(pages(build_report(log, sources=["upload"]).pdf))
    assert "INCOMPLETE: 1 file(s) were read only in part" in joined
    assert "Complete: every file" not in joined


def test_identity_server_role_changes_and_failed_attempts_in_a_report(tmp_path):
    t = [MONDAY + i * MIN for i in range(12)]
    write_node(tmp_path, "is1", [
        is_record(t[0], "admin@carbon.super", "Add Role", "Internal/auditors", "{ Users : [ana] }"),
        is_record(t[1], "admin@carbon.super", "Update Permissions Of Role", "Internal/auditors",
                  "{ Permissions : [/permission/admin/login] }"),
        is_kv(t[2], "iam-admin@carbon.super", "Add-Role", "Internal/devops", {"Permissions": []}),
        is_kv(t[3], "iam-admin@carbon.super", "Set-User-Claim-Values", "ana",
              {"Claims": {"http://wso2.org/claims/role": "Internal/devops"}}),
        is_record(t[4], "admin@carbon.super", "Delete User", "dave", result="Failed")])
    write_node(tmp_path, "mi1", [mi_sign(t[5], "admin"), mi_change(t[6], "admin", "undeployed", "carbon_application",
                                                                   cAppFileName="a.car"),
                                 mi_change(t[7], "admin", "deleted", "user", userId="old"),
                                 mi_sign(t[8] + timedelta(seconds=1), "admin", "out")])
    log = audit_lib.load(str(tmp_path), tz="UTC")
    report = build_report(log, appendix=True)
    text = pages(report.pdf)
    sens = section(text, "3. Sensitive actions", "4. Privileged actors")
    for action in ["Add Role", "Update Permissions Of Role", "Add-Role", "Set-User-Claim-Values"]:
        assert action in sens, action
    assert "Role or permission change (4)" in flat(sens)
    assert re.search(r"Delete User user dave\s+failed", sens)
    assert "a.car" not in sens  # a routine undeploy is not a sensitive action
    privileged = flat(section(text, "4. Privileged actors", "5. Evidence"))
    assert "admin (mi)" in privileged or "admin" in privileged
    assert "undeployed" in "\n".join(text)  # whole in the appendix


def test_coverage_gaps_and_the_per_node_table_agree_on_a_node_silent_at_the_end(tmp_path):
    """mi3 writes nothing after Friday 11-27 while mi1 goes on to Monday 11-30: both tables of the evidence
    report mi3's last days."""
    for node, last in (("mi1", 30), ("mi3", 27)):
        for day in range(23, last + 1):
            t = MONDAY.replace(day=day, hour=10)
            write_node(tmp_path, node, [mi_change(t, "jane", "enabled", "endpoint", endpointName=f"EP-{node}")],
                       name=f"audit-11-{day:02d}-2026.log")
    log = audit_lib.load(tmp_path, tz="UTC")
    scope = Filters(start=parse_when("2026-11-23", "UTC"), end=parse_when("2026-11-30", "UTC", end=True))
    text = pages(build_report(log, scope, sources=[str(tmp_path)]).pdf)
    per_node = flat(section(text, "Days of the scope covered, per node", "Files covering the scope"))
    assert re.search(r"mi3 8 5 2026-11-28 to 2026-11-30", per_node), per_node
    gaps = flat(section(text, "Coverage gaps", "Duplicate files"))
    assert "or a file read in part: 1 (days off" in gaps
    assert gaps.split("Status", 1)[-1].strip() == "mi3 2026-11-30 (Mon) 0 0 no file"


def test_configuration_evidence_prints_one_reference_a_line(privileged, samples):
    """The evidence of a configuration finding (file:line of each property) breaks its cell's lines: no literal
    \\n between the references."""
    report, text = privileged
    found = [json.loads(line) for line in report.findings_jsonl.decode().splitlines()]
    plain = [f for f in found if not f.get("events") and len(f["evidence"]) > 1]
    assert plain
    joined = "\n".join(text)
    assert "\\n" not in joined
    lines = [e.rsplit("/", 1)[-1][:25] for e in plain[0]["evidence"][:2]]
    assert all(line in joined for line in lines), lines
