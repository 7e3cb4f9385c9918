"""`intake.repeats`: a file's events whose message repeats are counted as one row where only counts are wanted,
and give exactly the figures of reading every line: rejects and zone clues are still counted line by line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import audit_lib
from audit_lib.analysis.summary import summarise, summary
from audit_lib.intake import parse, repeats
from audit_lib.intake.formats import load_formats


def _record(user: str, action: str, name: str, info_extra: str = "") -> str:
    info = json.dumps(json.dumps({"proxyName": name}, separators=(",", ":"))[:-1] + info_extra + "}")
    return f'{{"performedBy":"{user}","action":"{action}","type":"proxy_service","info":{info}}}'


def _estate(folder: Path) -> tuple[int, int, int]:
    """Two MI nodes and an API Manager, their messages repeated again and again; among them a message no format
    reads (rejects), a record whose info names a zone (`at`, the same text in many minutes) and API Manager
    records under two tenants. Returns (events, rejects, events with the clue)."""
    start = datetime(2026, 1, 12, 8, 0, 0)
    users = ["admin", "josé", "deploy-bot"]
    events = rejects = clued = 0
    for k, (node, prefix) in enumerate([("mi1", ""), ("mi2", ""), ("apim1", "TID: [{tenant}] ")]):
        lines = []
        for i in range(3000):
            t = start + timedelta(seconds=7 * i + k)  # each node's own file (an equal one is a duplicate)
            head = (prefix.format(tenant=("-1234", "7")[i % 2])
                    + f"[{t:%Y-%m-%d %H:%M:%S},{i % 1000:03d}]  INFO {{AUDIT_LOG}} - ")
            if i % 97 == 0:
                body, rejects = "a message no format reads", rejects + 1
            elif i % 41 == 0:
                body = _record("admin", "updated", "P", ',"at":"Mon Jan 12 08:00:00 PST 2026"')
                clued, events = clued + 1, events + 1
            else:
                body, events = _record(users[i % 3], ("enabled", "disabled")[i % 2], f"Proxy{i % 5}"), events + 1
            lines.append(head + body)
        logs = folder / node / "repository" / "logs"
        logs.mkdir(parents=True)
        (logs / "audit.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return events, rejects, clued


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin"])
def test_repeated_messages_counted_once_give_the_figures_of_every_line(tmp_path: Path, tz: str, monkeypatch) -> None:
    events, rejects, clued = _estate(tmp_path)
    calls = []
    real = parse.gathered
    monkeypatch.setattr(parse, "gathered", lambda timed: calls.append(timed.height) or real(timed))
    streamed = summarise(tmp_path, tz=tz)
    assert calls and sum(calls) == events + rejects  # every batch's lines were gathered
    whole = summary(audit_lib.load(tmp_path, tz=tz))
    assert json.dumps(streamed, ensure_ascii=False) == json.dumps(whole, ensure_ascii=False)
    assert streamed["events"] == events and streamed["rejects"] == rejects
    assert sorted((c["node"], c["written"]) for c in streamed["zone_clues"]) == [
        ("apim1", "PST"), ("mi1", "PST"), ("mi2", "PST")]
    assert sum(c["events"] for c in streamed["zone_clues"]) == clued  # each line of the repeated record
    assert streamed["by_user"]["josé"] > 0


def test_a_gathered_batch_holds_far_fewer_rows_standing_for_every_event(tmp_path: Path) -> None:
    _estate(tmp_path)
    text = (tmp_path / "apim1" / "repository" / "logs" / "audit.log").read_bytes()
    lines = pl.read_lines(text, name="text").with_columns(
        fid=pl.lit(0, pl.UInt32), line=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32), start=pl.lit(False),
        cut=pl.lit(False))
    fmts = load_formats()
    each = parse.parse_batch(lines, fmts)
    counted = parse.parse_batch(lines, fmts, counting=True, tz="Asia/Kolkata")
    assert counted.events.height < each.events.height // 20
    assert counted.events["n"].sum() == each.events.height
    by = ["user", "action", "product"]
    got = counted.events.group_by(by).agg(pl.col("n").sum().cast(pl.UInt32).alias("len")).sort(by)
    assert got.equals(each.events.group_by(by).len().sort(by).with_columns(pl.col(by).cast(pl.String)).cast(
        {c: got.schema[c] for c in by}))
    assert counted.rejects.equals(each.rejects)  # each line no format reads is a reject of its own
    clue = counted.events.filter(pl.col("details").str.contains("PST"))
    assert clue["n"].max() == 1 and clue.height == each.events.filter(pl.col("details").str.contains("PST")).height
    assert counted.events.select((pl.col("wall") <= pl.col("wall_last")).all()).item()


def test_a_batch_near_a_clock_change_or_of_distinct_messages_is_read_line_by_line(tmp_path: Path) -> None:
    """Across the night the clocks go back, a repeated time could be either reading: such a batch is not gathered;
    nor is one whose messages hardly repeat."""
    _estate(tmp_path)
    text = (tmp_path / "mi1" / "repository" / "logs" / "audit.log").read_bytes()
    moved = text.replace(b"[2026-01-12", b"[2026-10-25")  # Europe/London goes back an hour that night
    fmts = load_formats()

    def rows(data: bytes, tz: str) -> int:
        lines = pl.read_lines(data, name="text").with_columns(
            fid=pl.lit(0, pl.UInt32), line=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32), start=pl.lit(False),
            cut=pl.lit(False))
        return parse.parse_batch(lines, fmts, counting=True, tz=tz).events.height

    events = 3000 - len(range(0, 3000, 97))
    assert rows(text, "Europe/London") < events // 20  # January: steady
    assert rows(moved, "Europe/London") == events
    assert rows(moved, "Asia/Tokyo") < events // 20
    distinct = pl.DataFrame({"fid": [0] * 5000, "tenant": [None] * 5000, "body": [f"m{i}" for i in range(5000)]},
                            schema={"fid": pl.UInt32, "tenant": pl.String, "body": pl.String})
    assert not repeats.repeats(distinct) and repeats.repeats(distinct.with_columns(body=pl.lit("same")))


def test_gathered_rows_scatter_back_to_their_lines() -> None:
    timed = pl.DataFrame({
        "row": pl.Series(range(8), dtype=pl.UInt32), "fid": pl.Series([0, 0, 1, 0, 1, 0, 0, 1], dtype=pl.UInt32),
        "line": pl.Series(range(10, 18), dtype=pl.UInt32), "tenant": [None, None, None, "7", None, "7", None, None],
        "body": ["a", "a", "a", "a", "b", "a", "b", "a"],
        "wall": [datetime(2026, 1, 1, 0, m) for m in (5, 1, 2, 3, 4, 0, 6, 7)]})
    g, rows = repeats.gathered(timed)
    assert g.select("fid", "tenant", "body", "n").rows() == [
        (0, None, "a", 2), (1, None, "a", 2), (0, "7", "a", 2), (1, None, "b", 1), (0, None, "b", 1)]
    assert g["wall"].to_list()[0] == datetime(2026, 1, 1, 0, 1) and g["wall_last"][0] == datetime(2026, 1, 1, 0, 5)
    back = repeats.scattered(g, rows)
    assert back.select("row", "line", "wall").equals(timed.select("row", "line", "wall"))
    assert back["n"].to_list() == [1] * 8 and back["body"].to_list() == timed["body"].to_list()
