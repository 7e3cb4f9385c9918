"""The demo set is made by the generator, byte for byte; the corpus and estate generators are deterministic and
write what the products write, rotated as they rotate it."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from audit_lib.demo.estate import product_of, write_estate
from audit_lib.demo.sampledata import write_demo, write_mi_corpus

START = date(2026, 3, 2)  # a Monday
MI_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})\] ([ A-Z]{5}) \{AUDIT_LOG\} - (.*)$")
APIM_LINE = re.compile(r"^TID: \[(-?\d+)\] \[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\] ([ A-Z]{5}) "
                       r"\{AUDIT_LOG\} - (.*)$")
IS_LINE = re.compile(r"^TID: \[-1234\] \[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\] \[([0-9a-f-]{36})\] ([ A-Z]{5}) "
                     r"\{AUDIT_LOG\} - (.*)$")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def digests(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def text_of(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8")


def node_lines(root: Path, node: str) -> list[str]:
    return [line for p in sorted((root / node / "repository" / "logs").iterdir())
            for line in text_of(p).splitlines()]


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> Path:
    """Three products over three weeks, archives older than a week gzipped."""
    out = tmp_path_factory.mktemp("estate")
    write_estate(out, ["mi1", "mi2", "apim1", "is1"], start=START, days=21, gzip_after=7, events_per_day=120, seed=5)
    return out


def test_committed_samples_are_what_the_generator_writes(tmp_path, samples_dir):
    write_demo(tmp_path / "demo")
    assert digests(tmp_path / "demo") == digests(samples_dir)


def test_corpus_has_the_requested_lines(tmp_path):
    write_mi_corpus(tmp_path, 1000, days=4)
    files = sorted(tmp_path.rglob("audit*.log"))
    assert len(files) == 4
    assert sum(len(f.read_bytes().splitlines()) for f in files) == 1000


def test_corpus_sign_ins_carry_their_own_time(tmp_path):
    write_mi_corpus(tmp_path, 3000, days=3)
    sessions = [line for f in tmp_path.rglob("audit*.log") for line in f.read_text().splitlines() if " logged " in line]
    assert len(sessions) > 20
    for line in sessions:
        m = re.match(r"^\[(.{19}),\d{3}\].* logged (?:in|out) at \[(.*)\]$", line)
        assert datetime.strptime(m[2], "%a %b %d %H:%M:%S UTC %Y") == datetime.fromisoformat(m[1])
    assert len({line.split(" - ", 1)[1] for line in sessions}) > len(sessions) * 0.9


def test_estate_is_deterministic_for_a_seed(tmp_path):
    kw = dict(start=START, days=4, events_per_day=30, gzip_after=1)
    write_estate(tmp_path / "a", ["mi1", "apim1", "is1"], seed=3, **kw)
    write_estate(tmp_path / "b", ["mi1", "apim1", "is1"], seed=3, **kw)
    write_estate(tmp_path / "c", ["mi1", "apim1", "is1"], seed=4, **kw)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    assert digests(tmp_path / "a") != digests(tmp_path / "c")


def test_daily_rotation_names_and_folders(estate):
    days = [START + timedelta(days=i) for i in range(21)]
    for node in ("mi1", "mi2", "apim1"):
        names = sorted(p.name for p in (estate / node / "repository" / "logs").iterdir())
        expect = [f"audit-{d:%m-%d-%Y}.log" + (".gz" if (days[-1] - d).days > 7 else "") for d in days[:-1]]
        assert names == sorted([*expect, "audit.log"])
    names = sorted(p.name for p in (estate / "is1" / "repository" / "logs").iterdir())
    assert names == sorted([f"audit-{d:%m-%d-%Y}.1.log" + (".gz" if (days[-1] - d).days > 7 else "")
                            for d in days[:-1]] + ["audit.log"])
    assert sorted(p.name for p in estate.iterdir()) == ["apim1", "is1", "mi1", "mi2"]


def test_each_file_holds_its_own_day(estate):
    for path in (estate / "mi1" / "repository" / "logs").iterdir():
        stamps = {m[1][:10] for line in text_of(path).splitlines() if (m := MI_LINE.match(line))}
        if path.name == "audit.log":
            assert stamps == {str(START + timedelta(days=20))}
        else:
            assert stamps == {datetime.strptime(path.name[6:16], "%m-%d-%Y").date().isoformat()}


def test_gzip_after_compresses_only_older_archives(estate):
    logs = estate / "apim1" / "repository" / "logs"
    zipped = sorted(p for p in logs.iterdir() if p.name.endswith(".gz"))
    assert len(zipped) == 21 - 1 - 7
    for p in zipped:
        assert p.read_bytes()[:2] == b"\x1f\x8b"
        assert APIM_LINE.match(text_of(p).splitlines()[0])
    plain = [p for p in logs.iterdir() if not p.name.endswith(".gz")]
    assert all(p.read_bytes()[:4] == b"TID:" for p in plain)


def test_size_rotation_numbers_the_parts_of_a_day(tmp_path):
    kw = dict(start=START, days=3, events_per_day=400, seed=9)
    write_estate(tmp_path / "daily", ["mi1"], **kw)
    write_estate(tmp_path / "sized", ["mi1"], rotate="10MB", size_limit=20_000, **kw)
    daily, sized = (tmp_path / name / "mi1" / "repository" / "logs" for name in ("daily", "sized"))
    for i in range(2):
        day = f"{START + timedelta(days=i):%m-%d-%Y}"
        parts = sorted(sized.glob(f"audit-{day}.*.log"), key=lambda p: int(p.name.split(".")[1]))
        assert len(parts) >= 2
        assert [p.name for p in parts] == [f"audit-{day}.{k}.log" for k in range(1, len(parts) + 1)]
        assert b"".join(p.read_bytes() for p in parts) == (daily / f"audit-{day}.log").read_bytes()
        longest = max(len(line) + 1 for p in parts for line in p.read_bytes().splitlines())
        assert all(20_000 < p.stat().st_size <= 20_000 + longest for p in parts[:-1])
    last = f"{START + timedelta(days=2):%m-%d-%Y}"
    tail = sorted(sized.glob(f"audit-{last}.*.log"), key=lambda p: int(p.name.split(".")[1]))
    assert b"".join(p.read_bytes() for p in tail) + (sized / "audit.log").read_bytes() == (
        daily / "audit.log").read_bytes()


def test_mi_sign_ins_carry_the_line_time_in_the_node_zone(estate):
    sessions = 0
    for line in node_lines(estate, "mi1"):
        m = MI_LINE.match(line)
        if m and " logged " in m[4]:
            inner = re.fullmatch(r"\S+ logged (?:in|out) at \[(.*)\]", m[4])[1]
            assert datetime.strptime(inner, "%a %b %d %H:%M:%S IST %Y") == datetime.fromisoformat(m[1])
            sessions += 1
    assert sessions > 100


def test_apim_sign_ins_carry_the_line_time(estate):
    seen = Counter()
    for line in node_lines(estate, "apim1"):
        m = APIM_LINE.match(line)
        if not m:
            continue
        at = datetime.strptime(m[2], "%Y-%m-%d %H:%M:%S,%f")
        if s := re.fullmatch(r"'\S+ \[(-?\d+)\]' logged in at \[(.*)\] from IP address [\d.]+", m[4]):
            inner = datetime.strptime(s[2], "%Y-%m-%d %H:%M:%S,%f%z")
            assert inner.utcoffset() == timedelta(hours=5, minutes=30) and s[1] == m[1]
            assert timedelta(0) <= at - inner.replace(tzinfo=None) <= timedelta(milliseconds=2)
            seen["in"] += 1
        elif s := re.fullmatch(r"'\S+ \[-?\d+\]' logged out at \[(.*),(\d{4})\]", m[4]):
            inner = datetime.strptime(f"{s[1]},{s[2][1:]}", "%Y-%m-%d %H:%M:%S,%f")
            assert timedelta(0) <= at - inner <= timedelta(milliseconds=2)
            seen["out"] += 1
        elif re.fullmatch(r"Login failed\. Unauthorized login attempt '[^'\[]+\[-?\d+\]' at \[.*\+0530\] "
                          r"from IP address [\d.]+", m[4]):
            assert m[3] == " WARN"
            seen["failed"] += 1
    assert seen["in"] > 50 and seen["out"] > 20 and seen["failed"] > 0


def test_mi_change_records_as_the_product_writes_them(estate):
    types, artifacts, users, errors = Counter(), set(), set(), 0
    lines = node_lines(estate, "mi1") + node_lines(estate, "mi2")
    for i, line in enumerate(lines):
        m = MI_LINE.match(line)
        if not m or not m[4].startswith("{"):
            continue
        assert ": " not in m[4] and '", "' not in m[4]  # compact JSON
        rec = json.loads(m[4])
        assert list(rec) == ["performedBy", "action", "type", "info"]
        assert isinstance(rec["info"], str)
        info = json.loads(rec["info"])
        types[rec["type"]] += 1
        users.add(rec["performedBy"])
        artifacts.add(next(iter(info.values())))
        if m[3] == "ERROR":
            errors += 1
            assert not MI_LINE.match(lines[i + 1]) and lines[i + 2].startswith("\tat ")
    assert {"proxy_service", "endpoint", "message_processor", "carbon_application", "log_level", "user",
            "registry_resource"} <= set(types)
    assert len(artifacts) >= 200
    assert len(users - {"anonymous"}) >= 10
    assert errors > 0


def test_apim_records_rest_calls_and_failed_logins(estate):
    records, calls = [], []
    for line in node_lines(estate, "apim1"):
        m = APIM_LINE.match(line)
        assert m, line
        if m[4].startswith("{"):
            records.append(json.loads(m[4]))
        elif c := re.fullmatch(r"(GET|POST|PUT|DELETE) (/api/am/\S+) user: \S+ app: [A-Za-z0-9]{28}", m[4]):
            calls.append(c[2])
    assert all("typ" in r and "type" not in r and isinstance(r["info"], dict) for r in records)
    assert {"API", "Application", "Subscription"} <= {r["typ"] for r in records}
    assert {"created", "updated", "deployed", "lifecycle-changed"} <= {r["action"] for r in records}
    with_ids = [c for c in calls if re.search(UUID, c)]
    assert len(with_ids) > len(calls) / 3
    assert len({re.search(UUID, c)[0] for c in with_ids}) >= 20


def test_is_records_in_its_three_forms(estate):
    forms = Counter()
    targets = set()
    for line in node_lines(estate, "is1"):
        m = IS_LINE.match(line)
        if not m:
            continue
        msg = m[4]
        if p := re.match(r"Initiator : (\S+) \| Action : ([^|]+?) \| Target : ([^|]+?) \| Data : ", msg):
            if p[2] == "Login":
                assert p[3] == "ApplicationAuthenticationFramework"
                result = re.search(r"\| Result : (Success|Failed) $", msg)[1]
                forms["login " + result] += 1
                if result == "Failed":
                    assert p[1] in ("null", "N/A")
            else:
                forms["pipe"] += 1
                targets.add(p[3])
        elif k := re.fullmatch(r"Initiator=\S+ Action=[\w-]+ Target=\S+ Data=(\{.*\}) Outcome=(Success|Failed)", msg):
            json.loads(k[1])
            forms["key=value"] += 1
    assert forms["login Success"] > forms["login Failed"] > 0
    assert forms["pipe"] > 10 and forms["key=value"] > 10
    assert any(t.startswith("Internal/") for t in targets)  # roles
    assert targets & {"hr-portal", "crm", "billing-web", "partner-portal"}  # applications
    assert sum(bool(re.fullmatch(r"[^/@ ]+\.[^/@ ]+", t)) for t in targets) > 5  # users


def test_work_hours_and_weekdays_are_busier(tmp_path):
    write_estate(tmp_path, ["mi1"], start=START, days=28, events_per_day=150, seed=2)
    by_hour, by_weekday = Counter(), Counter()
    for line in node_lines(tmp_path, "mi1"):
        if m := MI_LINE.match(line):
            t = datetime.fromisoformat(m[1])
            by_hour[t.hour] += 1
            by_weekday[t.weekday()] += 1
    assert sum(by_hour[h] for h in range(9, 17)) > 4 * sum(by_hour[h] for h in range(0, 8))
    assert sum(by_weekday[d] for d in range(5)) / 5 > 2.5 * (by_weekday[5] + by_weekday[6]) / 2


def test_node_names_tell_the_product():
    assert [product_of(n) for n in ("mi1", "MI-node-2", "apim1", "am-gw", "is1", "iam-east")] == [
        "mi", "mi", "apim", "apim", "is", "is"]
    with pytest.raises(ValueError, match="Cannot tell the product"):
        product_of("gateway")


@pytest.mark.parametrize("args, message", [
    (["--start", "2026-13-01"], "--start must be a date"),
    (["--nodes", "mi1,gateway"], "Cannot tell the product of node 'gateway'"),
    (["--tz", "Mars/Base"], "Unknown time zone 'Mars/Base'"),
    (["--days", "0"], "must be positive"),
])
def test_estate_command_rejects_bad_input_with_a_message(tmp_path, args, message):
    run = subprocess.run([sys.executable, "-m", "audit_lib.demo.sampledata", "estate", str(tmp_path / "out"), *args],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_estate_command_writes_the_nodes_it_names(tmp_path):
    run = subprocess.run([sys.executable, "-m", "audit_lib.demo.sampledata", "estate", str(tmp_path), "--nodes",
                          "mi1,edge", "--products", "mi,apim", "--days", "3", "--events-per-day", "10"],
                         capture_output=True, text=True, check=True)
    assert "6 files" in run.stdout
    assert sorted(p.name for p in (tmp_path / "edge" / "repository" / "logs").iterdir())[-1] == "audit.log"
    assert text_of(tmp_path / "edge" / "repository" / "logs" / "audit.log").startswith("TID: [")
