"""The Management API client against a real local HTTPS server that speaks the contract (tests/support/mi_server):
sign-in, list, download, 401 on a revoked token, 500 on a folder or a failing file, a self-signed certificate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audit_lib.intake.entries import Limits
from audit_lib.intake.mi import MiNode, fetch_node, parse_size
from tests.support.mi_server import MiServer, make_certificate

ROOT = Path(__file__).resolve().parents[2]
LINE = "[2026-11-20 10:{m:02d}:00,000]  INFO {{AUDIT_LOG}} - admin logged in at [Fri Nov 20 10:{m:02d}:00 IST 2026]\n"


def lines(n: int, start: int = 0) -> str:
    return "".join(LINE.format(m=(start + i) % 60) for i in range(n))


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    return make_certificate(tmp_path)


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "audit.log").write_text(lines(5))
    (folder / "audit-11-19-2026.log").write_text(lines(7, 10))
    (folder / "wso2carbon.log").write_text("[2026-11-20] INFO carbon\n")
    (folder / "audit.lck").write_text("")
    (folder / "tmp").mkdir()
    return folder


def node(mi: MiServer, cert: Path, **kw: object) -> MiNode:
    return MiNode(mi.url, **{"node": "mi2", "user": "admin", "password": "admin", "ca_file": str(cert), **kw})


def test_fetches_only_audit_logs_and_says_what_it_left(logs, cert) -> None:
    with MiServer(logs, *cert) as mi:
        got = fetch_node(node(mi, cert[0]))
    assert got.ok, got.errors
    assert {n for n, _ in got.files} == {"audit.log", "audit-11-19-2026.log"}
    assert dict(got.files)["audit.log"] == (logs / "audit.log").read_bytes()
    assert {x["name"]: x["reason"] for x in got.left} == {"wso2carbon.log": "not an audit log",
                                                          "tmp": "not an audit log"}
    assert sorted(u[0] for u in got.uploads()) == ["mi2/audit-11-19-2026.log", "mi2/audit.log"]
    paths = [p for p, _ in mi.calls]
    assert paths[0] == "/management/login" and paths[-1] == "/management/logout"
    assert mi.tokens == set()  # signed out
    assert all(kind == "Bearer" for p, kind in mi.calls if p != "/management/login")


def test_a_revoked_token_signs_in_again_once(logs, cert) -> None:
    with MiServer(logs, *cert) as mi:
        mi.revoke_after_list = True
        got = fetch_node(node(mi, cert[0]))
    assert got.ok, got.errors
    logins = [p for p, _ in mi.calls if p == "/management/login"]
    assert len(logins) == 2 and len(got.files) == 2  # one sign-in again, then every download served


def test_folder_and_failing_file_give_one_line_each_and_the_rest_goes_on(logs, cert) -> None:
    with MiServer(logs, *cert) as mi:
        mi.extra_list = [{"FileName": "audit-archive", "Size": "4.0 KB"}]  # a folder named like an audit log
        (logs / "audit-archive").mkdir()
        mi.fail_file = "audit-11-19-2026.log"
        got = fetch_node(node(mi, cert[0]))
    assert [n for n, _ in got.files] == ["audit.log"]
    assert len(got.errors) == 2 and all("\n" not in e for e in got.errors)
    assert any("audit-11-19-2026.log" in e and "could not serve" in e for e in got.errors)


def test_a_download_that_breaks_off_gives_nothing_of_that_file(logs, cert) -> None:
    (logs / "audit.log").write_text(lines(2000))
    with MiServer(logs, *cert) as mi:
        mi.break_file = "audit.log"
        got = fetch_node(node(mi, cert[0]))
    assert "audit.log" not in dict(got.files) and "audit-11-19-2026.log" in dict(got.files)
    assert any("broke off" in e for e in got.errors)


def test_caps_and_a_lying_listing(logs, cert) -> None:
    (logs / "audit.log").write_text(lines(3000))
    with MiServer(logs, *cert) as mi:
        mi.extra_list = [{"FileName": "../../etc/passwd", "Size": "1 B"}, {"FileName": "audit\nforged", "Size": "1 B"},
                         {"FileName": "audit-10-01-2026.log", "Size": "90.0 GB"}]
        got = fetch_node(node(mi, cert[0]), Limits(max_upload_bytes=50_000))
    names = dict(got.files)
    assert "audit.log" not in names and "audit-11-19-2026.log" in names  # over the cap: nothing of it kept
    assert any("cap" in e and "audit.log" in e for e in got.errors)
    assert any("audit-10-01-2026.log" in e and "not fetched" in e for e in got.errors)
    refused = [x["name"] for x in got.left if x["reason"].startswith("not a file name")]
    assert len(refused) == 2 and all("\n" not in r for r in refused)


def test_tls_is_verified_unless_asked_and_credentials_are_checked(logs, cert, tmp_path) -> None:
    with MiServer(logs, *cert) as mi:
        untrusted = fetch_node(node(mi, cert[0], ca_file=None))
        insecure = fetch_node(node(mi, cert[0], ca_file=None, insecure=True))
        wrong = fetch_node(node(mi, cert[0], password="guess"))
    assert untrusted.files == [] and "not trusted" in untrusted.errors[0] and "--ca-file" in untrusted.errors[0]
    assert insecure.ok and insecure.insecure and len(insecure.files) == 2
    assert wrong.files == [] and wrong.errors == [f"{wrong.url}: sign-in refused (wrong user or password)"]
    assert "guess" not in json.dumps(wrong.as_dict()) and "guess" not in repr(node(mi, cert[0], password="guess"))
    silent = fetch_node(MiNode("https://127.0.0.1:9", node="x", timeout=2))  # nothing listens there
    assert silent.files == [] and "does not answer" in silent.errors[0]


def test_sizes_as_the_node_writes_them() -> None:
    assert parse_size("812 B") == 812 and parse_size("1.5 KB") == 1536 and parse_size("1,5 KB") == 1536
    assert parse_size("10.0 MB") == 10 << 20 and parse_size("---") is None


def _ingest(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audit_lib", "ingest", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)


def test_ingest_from_a_node_adds_only_what_is_new(logs, cert, tmp_path) -> None:
    store = tmp_path / "store"
    env = {**os.environ, "AUDIT_MI_USER": "admin", "AUDIT_MI_PASSWORD": "admin"}
    with MiServer(logs, *cert) as mi:
        args = ["--mi", mi.url, "--node", "mi2", "--ca-file", str(cert[0]), "--store", str(store), "--json"]
        first = _ingest(args, env)
        assert first.returncode == 0, first.stderr
        one = json.loads(first.stdout)
        assert one["events_added"] == 12 and one["remote"][0]["node"] == "mi2"
        again = json.loads(_ingest(args, env).stdout)
        assert again["events_added"] == 0
        with open(logs / "audit.log", "a") as f:
            f.write(lines(3, 30))
        grown = json.loads(_ingest(args, env).stdout)
        assert grown["events_added"] == 3 and grown["files_count"]["grown"] == 1
        mi.fail_file = "audit.log"
        partial = _ingest(args[:-1], env)
        assert partial.returncode == 5 and "audit.log" in partial.stderr and "Traceback" not in partial.stderr
        insecure = _ingest(["--mi", mi.url, "--node", "mi2", "--insecure", "--store", str(store)],
                           {**env, "AUDIT_MI_PASSWORD": "admin"})
        assert "TLS verification is off" in insecure.stderr
    nocreds = _ingest(["--mi", "https://localhost:1", "--store", str(store)],
                      {k: v for k, v in os.environ.items() if not k.startswith("AUDIT_MI_")})
    assert nocreds.returncode == 1 and "AUDIT_MI_USER" in nocreds.stderr
    verify = subprocess.run([sys.executable, "-m", "audit_lib", "verify", "--store", str(store)],
                            capture_output=True, text=True, cwd=ROOT)
    assert verify.returncode == 0, verify.stdout
