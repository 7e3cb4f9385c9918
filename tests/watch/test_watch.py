"""`watch ESTATE.toml --once` end to end, against a local MI server (HTTPS, the Management API's contract) and a
local webhook: alerts delivered on the first run, none on the second, one after a risky line is appended; a
webhook that fails is tried again next cycle; the estate file is checked before anything runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from audit_lib.errors import AuditLibError
from audit_lib.store.status import read_status
from audit_lib.watch.estate import load_estate
from audit_lib.watch.watcher import run_cycle
from tests.support.mi_server import MiServer, make_certificate
from tests.support.wso2_lines import DAY, MIN, MONDAY, mi_change, mi_sign

ROOT = Path(__file__).resolve().parents[2]


class _Hook(BaseHTTPRequestHandler):
    got: list[dict] = []
    fail = False

    def log_message(self, *a: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = 503 if type(self).fail else 200
        if status == 200:
            type(self).got.append(json.loads(body))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def hook():
    _Hook.got, _Hook.fail = [], False
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/T000/B000"
    httpd.shutdown()


def _lines(*items: str) -> str:
    return "\n".join(items) + "\n"


def _estate(tmp_path: Path, mi_url: str, cert: Path, hook: str) -> Path:
    f = tmp_path / "estate.toml"
    f.write_text(f'''store = "{tmp_path / 'store'}"
tz = "UTC"
lookback = "3650d"
[[source]]
mi = "{mi_url}"
node = "mi2"
user_env = "T_MI_USER"
password_env = "T_MI_PASSWORD"
ca_file = "{cert}"
[[alert]]
webhook = "{hook}"
min_severity = "high"
''')
    return f


def _watch(estate: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "T_MI_USER": "admin", "T_MI_PASSWORD": "admin"}
    return subprocess.run([sys.executable, "-m", "audit_lib", "watch", str(estate), "--once", "--json"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def test_watch_once_twice_then_a_risky_line(tmp_path: Path, hook: str) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    t = MONDAY + 10 * 60 * MIN
    (logs / "audit.log").write_text(_lines(
        mi_sign(t, "jane"), mi_change(t + MIN, "jane", "updated", "root_log_level", loggerName="root",
                                      loggingLevel="OFF")))
    cert, key = make_certificate(tmp_path)
    estate = _estate(tmp_path, "", cert, hook)
    with MiServer(logs, cert, key) as mi:
        estate = _estate(tmp_path, mi.url, cert, hook)
        first = _watch(estate)
        assert first.returncode == 0, first.stderr + first.stdout
        one = json.loads(first.stdout)
        assert one["ingest"]["events_added"] == 2 and len(_Hook.got) == 1
        alert = _Hook.got[0]
        assert alert["rule"]["id"] == "logging-stopped" and alert["event"]["kind"] == "alert"
        assert alert["host"]["name"] == "mi2" and alert["user"]["name"]
        second = json.loads(_watch(estate).stdout)
        assert second["ingest"]["events_added"] == 0 and sum(map(len, second["sent"].values())) == 0
        assert len(_Hook.got) == 1  # delivered once, across processes
        with open(logs / "audit.log", "a") as f:
            f.write(_lines(mi_change(t + DAY, "jane", "created", "user", userId="root2", isAdmin=True)))
        _Hook.fail = True
        failed = _watch(estate)
        assert failed.returncode == 6 and len(json.loads(failed.stdout)["failed"][f"webhook:{hook}"]) == 1
        _Hook.fail = False
        third = json.loads(_watch(estate).stdout)  # the failed delivery is tried again, never dropped
        assert sum(map(len, third["sent"].values())) == 1 and len(_Hook.got) == 2
        assert _Hook.got[1]["rule"]["id"] == "privileged-account-created"
    verify = subprocess.run([sys.executable, "-m", "audit_lib", "verify", "--store", str(tmp_path / "store")],
                            capture_output=True, text=True, cwd=ROOT)
    assert verify.returncode == 0, verify.stdout  # the deliveries are in the chain, and the chain holds


@pytest.mark.parametrize(("text", "needle"), [
    ('store = "s"\n[[source]]\npath = "x"\npasword = "y"\n', "source[1].pasword: unknown key"),
    ('store = "s"\nintervl = "5m"\n[[source]]\npath = "x"\n', "intervl: unknown key"),
    ('store = "s"\ntz = "Mars/Base"\n[[source]]\npath = "x"\n', "tz: an IANA zone"),
    ('store = "s"\ninterval = "soon"\n[[source]]\npath = "x"\n', "interval: a duration"),
    ('store = "s"\n[[source]]\nmi = "https://x:9164"\nuser_env = "NOPE_U"\npassword_env = "NOPE_P"\n',
     "NOPE_U is not set"),
    ('store = "s"\n[[source]]\npath = "x"\n[[alert]]\nsyslog = "udp://h:514"\nformat = "xml"\n', "format: cef or json"),
    ('store = "s"\n[[source]]\npath = "x"\n[[alert]]\nwebhook = "h"\nmin_severity = "urgent"\n', "min_severity"),
    ('store = "s"\n', "at least one [[source]]"),
    ('store = "s"\n[[source]\n', "not valid TOML"),
])
def test_a_bad_estate_file_names_the_key_before_anything_runs(tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "estate.toml"
    f.write_text(text)
    with pytest.raises(AuditLibError, match=None) as info:
        load_estate(f)
    assert needle in str(info.value) and "\n" not in str(info.value)
    r = subprocess.run([sys.executable, "-m", "audit_lib", "watch", str(f), "--once"], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 1 and needle in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "s").exists()  # nothing ran


def test_each_source_keeps_its_last_success_and_error(tmp_path: Path, hook: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder that is gone is an error of its own: the node's files still go in, and the status record says
    per source when it last worked and what failed last."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "audit.log").write_text(_lines(mi_sign(MONDAY + 10 * 60 * MIN, "jane")))
    cert, key = make_certificate(tmp_path)
    monkeypatch.setenv("T_MI_USER", "admin")
    monkeypatch.setenv("T_MI_PASSWORD", "admin")
    with MiServer(logs, cert, key) as mi:
        f = _estate(tmp_path, mi.url, cert, hook)
        f.write_text(f.read_text().replace('[[source]]\n', f'[[source]]\npath = "{tmp_path / "gone"}"\n[[source]]\n',
                                           1))
        result = run_cycle(load_estate(f))
        assert result.ingest and result.ingest["events_added"] == 1  # the node's line, despite the folder
        assert any("gone: no such file or folder" in e for e in result.errors) and not result.ok
        rows = {r["source"]: r for r in read_status(tmp_path / "store").sources_frame().iter_rows(named=True)}
        assert rows["mi2"]["last_ok"] and rows["mi2"]["last_error"] is None
        assert rows[str(tmp_path / "gone")]["last_ok"] is None
        assert rows[str(tmp_path / "gone")]["last_error"].endswith("gone: no such file or folder")
        mi.fail_file = "audit.log"  # the node now fails: its error is recorded, its last success kept
        run_cycle(load_estate(f))
    rows = {r["source"]: r for r in read_status(tmp_path / "store").sources_frame().iter_rows(named=True)}
    assert rows["mi2"]["last_ok"] and rows["mi2"]["last_error"] and "audit.log" in rows["mi2"]["last_error"]
