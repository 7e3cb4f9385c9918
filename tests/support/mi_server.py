"""A local HTTPS server that speaks Micro Integrator's Management API as WSO2's code defines it (sign-in, list,
download, sign-out, 401 for an unknown or revoked token, 500 for a folder), over a self-signed certificate made
for the test with openssl, serving a real logs folder. Faults can be switched on: a file that answers 500, a
download that breaks off, a listing that lies."""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


def make_certificate(folder: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A self-signed certificate for `host` and 127.0.0.1 (cert.pem, key.pem)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    f"/CN={host}", "-addext", f"subjectAltName=DNS:{host},IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def size_text(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1024
        if n < 1024 or unit == "TB":
            return f"{n:.1f} {unit}"
    return ""


class MiServer:
    """`with MiServer(logs, cert, key) as mi: mi.url` ... `mi.revoke_all()`, `mi.calls`, `mi.fail_file = "x"`."""

    def __init__(self, logs: Path, cert: Path, key: Path, user: str = "admin", password: str = "admin") -> None:
        self.logs, self.user, self.password = logs, user, password
        self.tokens: set[str] = set()
        self.calls: list[tuple[str, str]] = []  # (path with query, authorization kind)
        self.fail_file: str | None = None  # answers 500
        self.break_file: str | None = None  # sends half the bytes of a longer Content-Length, then closes
        self.extra_list: list[dict] = []  # entries the listing adds (a lying server)
        self.revoke_after_list = False  # every token is revoked once the listing is sent (a restart, an eviction)
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes = b"", ctype: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                auth = self.headers.get("Authorization", "")
                parts = urlsplit(self.path)
                with server.lock:
                    server.calls.append((self.path, auth.split(" ")[0]))
                if parts.path == "/management/login":
                    return self._login(auth)
                if not auth:
                    return self._send(401, headers={"WWW_Authenticate": 'Basic realm="WSO2 EI"'})
                token = auth[7:] if auth.startswith("Bearer ") else None
                if token not in server.tokens:
                    return self._send(401)
                if parts.path == "/management/logout":
                    server.tokens.discard(token)
                    return self._send(200)
                if parts.path == "/management/logs":
                    query = parse_qs(parts.query)
                    if "file" in query:
                        return self._file(unquote(query["file"][0]))
                    return self._list()
                return self._send(404, json.dumps({"Error": "No such resource"}).encode())

            def _login(self, auth: str) -> None:
                try:
                    user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    return self._send(401)
                if not auth.startswith("Basic ") or (user, password) != (server.user, server.password):
                    return self._send(401)
                token = secrets.token_urlsafe(24)
                server.tokens.add(token)
                self._send(200, json.dumps({"AccessToken": token}).encode())

            def _list(self) -> None:
                items = [{"FileName": p.name, "Size": size_text(p.stat().st_size) if p.is_file() else "4.0 KB"}
                         for p in sorted(server.logs.iterdir()) if not p.name.endswith(".lck")]
                items += server.extra_list
                if not items:
                    items = [{"FileName": "NO_LOG_FILES", "Size": "---"}]
                self._send(200, json.dumps({"count": len(items), "list": items}).encode())
                if server.revoke_after_list:
                    server.revoke_all()

            def _file(self, name: str) -> None:
                path = server.logs / name
                if name == server.fail_file or "/" in name or not path.is_file():
                    return self._send(500)
                data = path.read_bytes()
                if name == server.break_file:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._send(200, data, "application/octet-stream")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://localhost:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def revoke_all(self) -> None:
        with self.lock:
            self.tokens.clear()

    def __enter__(self) -> MiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
