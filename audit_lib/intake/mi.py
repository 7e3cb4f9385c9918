"""Fetch the audit logs of a running Micro Integrator node through its Management API (HTTPS, port 9164).

    node = MiNode("https://mi2.example:9164", node="mi2", user=..., password=..., ca_file="mi2.pem")
    got = fetch_node(node)          # NodeFetch: the audit files as uploads, what was left alone, one line per error
    ingest(got.uploads(), "store/")  # the store's own ingest: known files skipped, a grown audit.log adds its tail

The contract followed (read from WSO2's code): `GET /management/login` with Basic credentials answers
`{"AccessToken": JWT}`; every other call sends `Authorization: Bearer`; a 401 means a wrong password or an
expired, evicted or revoked token (the client signs in again once and retries); `GET /management/logs` lists the
top of the logs folder as `{"count", "list": [{"FileName", "Size"}]}` (`NO_LOG_FILES` for an empty or unreadable
folder); `GET /management/logs?file=NAME` answers the file's bytes, or 500 for a folder or an unreadable file;
`GET /management/logout` ends the token. Only audit logs by name (`audit.log`, its rotations, their `.gz`) are
downloaded; everything else is listed as left alone. TLS is verified unless `insecure` says otherwise, and then
every fetch says so. A download is all or nothing: one that breaks off, lies about its length or passes the
loader's caps gives nothing of that file. Uploads are named `<node>/<file>`, so a node's streams keep their names
from one fetch to the next.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from audit_lib.errors import SourceError
from audit_lib.intake.entries import Limits, Upload
from audit_lib.intake.names import is_audit_name, printable

CHUNK = 1 << 20
_NAME_BAD = set('/\\\x00') | {chr(c) for c in range(32)}


class MiError(SourceError):
    """A node that cannot be fetched from: the message says why, in one line, without credentials."""


@dataclass(frozen=True)
class MiNode:
    """Where a node's Management API listens, what to call the node, and how to sign in."""

    url: str
    node: str = ""
    user: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    ca_file: str | None = None
    insecure: bool = False
    timeout: float = 30.0

    @property
    def name(self) -> str:
        return self.node or (urlsplit(self.url).hostname or self.url)


@dataclass
class NodeFetch:
    """What one fetch from a node brought: audit files (name, bytes), what was left alone, and the errors."""

    node: str
    url: str
    insecure: bool = False
    files: list[tuple[str, bytes]] = field(default_factory=list)
    left: list[dict[str, str]] = field(default_factory=list)  # {"name", "reason"}
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def uploads(self) -> list[Upload]:
        """The files as the loader's uploads, named `<node>/<file>` (the node is the first folder of the name)."""
        return [(f"{self.node}/{name}", data) for name, data in self.files]

    def as_dict(self) -> dict:
        return {"node": self.node, "url": self.url, "insecure": self.insecure,
                "fetched": [{"name": n, "bytes": len(d)} for n, d in self.files], "left": self.left,
                "errors": self.errors}


def parse_size(text: str) -> int | None:
    """Bytes from the list's rounded `Size` ("812 B", "1.5 KB", "1,5 MB"); None when it does not read."""
    parts = str(text).strip().split()
    if len(parts) != 2:
        return None
    units = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}
    try:
        return int(float(parts[0].replace(",", ".")) * units[parts[1].upper()])
    except (KeyError, ValueError):
        return None


class _Client:
    """One node's HTTPS connection and bearer token."""

    def __init__(self, node: MiNode) -> None:
        parts = urlsplit(node.url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise MiError(f"{printable(node.url, 120)}: give the node as https://HOST:PORT (its Management API)")
        if (parts.path or "/").rstrip("/") not in ("", "/management"):
            raise MiError(f"{printable(node.url, 120)}: give the node's address without a path")
        self.node = node
        self.host, self.port = parts.hostname, parts.port or (9164 if parts.scheme == "https" else 9201)
        self.https = parts.scheme == "https"
        self.token: str | None = None
        self.shown = f"{parts.scheme}://{parts.hostname}:{self.port}"

    def _connection(self) -> http.client.HTTPConnection:
        if not self.https:
            return http.client.HTTPConnection(self.host, self.port, timeout=self.node.timeout)
        if self.node.insecure:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            try:
                ctx = ssl.create_default_context(cafile=self.node.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise MiError(f"{self.shown}: cannot read the CA file {printable(str(self.node.ca_file), 120)} "
                              f"({getattr(exc, 'strerror', None) or exc})") from None
        return http.client.HTTPSConnection(self.host, self.port, timeout=self.node.timeout, context=ctx)

    def request(self, path: str, auth: str) -> http.client.HTTPResponse:
        conn = self._connection()
        try:
            conn.request("GET", path, headers={"Authorization": auth, "Accept": "application/json"})
            return conn.getresponse()
        except ssl.SSLCertVerificationError as exc:
            conn.close()
            raise MiError(f"{self.shown}: its certificate is not trusted ({exc.verify_message}); give --ca-file "
                          "with the node's certificate, or --insecure to skip the check") from None
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise MiError(f"{self.shown}: does not answer ({_why(exc)})") from None

    def sign_in(self) -> None:
        basic = base64.b64encode(f"{self.node.user}:{self.node.password}".encode()).decode()
        r = self.request("/management/login", f"Basic {basic}")
        body = _body(r, 1 << 16)
        if r.status == 401:
            raise MiError(f"{self.shown}: sign-in refused (wrong user or password)")
        if r.status != 200:
            raise MiError(f"{self.shown}: sign-in failed with HTTP {r.status}{_error_text(body)}")
        try:
            token = json.loads(body)["AccessToken"]
        except (ValueError, KeyError, TypeError):
            raise MiError(f"{self.shown}: sign-in answered without an AccessToken") from None
        if not isinstance(token, str) or not token or any(c in token for c in "\r\n"):
            raise MiError(f"{self.shown}: sign-in answered an unusable token")
        self.token = token

    def get(self, path: str) -> http.client.HTTPResponse:
        """GET with the bearer token; on a 401, sign in again once and retry."""
        if self.token is None:
            self.sign_in()
        r = self.request(path, f"Bearer {self.token}")
        if r.status == 401:
            r.close()
            self.sign_in()
            r = self.request(path, f"Bearer {self.token}")
        return r

    def sign_out(self) -> None:
        if self.token is None:
            return
        with contextlib.suppress(MiError):  # the token expires on its own
            self.request("/management/logout", f"Bearer {self.token}").close()
        self.token = None


def _why(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return printable(getattr(exc, "strerror", None) or str(exc) or type(exc).__name__, 160)


def _error_text(body: bytes) -> str:
    try:
        text = json.loads(body).get("Error")
    except (ValueError, AttributeError):
        return ""
    return f": {printable(str(text), 160)}" if text else ""


def _body(r: http.client.HTTPResponse, cap: int) -> bytes:
    """The whole body, at most `cap` bytes (a longer one raises MiError); a body that breaks off raises too."""
    declared = r.getheader("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        r.close()
        raise MiError(f"answer of {int(declared):,} bytes, more than the cap of {cap:,}")
    chunks, got = [], 0
    try:
        while True:
            chunk = r.read(min(CHUNK, cap + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
            if got > cap:
                raise MiError(f"answer longer than the cap of {cap:,} bytes")
    except (OSError, http.client.HTTPException) as exc:
        raise MiError(f"the download broke off after {got:,} bytes ({_why(exc)})") from None
    finally:
        r.close()
    if declared is not None and declared.isdigit() and got != int(declared):
        raise MiError(f"the download broke off after {got:,} of {int(declared):,} bytes")
    return b"".join(chunks)


def _listing(client: _Client) -> list[tuple[str, str]]:
    r = client.get("/management/logs")
    body = _body(r, 16 << 20)
    if r.status != 200:
        raise MiError(f"{client.shown}: listing the log files failed with HTTP {r.status}{_error_text(body)}")
    try:
        items = json.loads(body)["list"]
        return [(str(i["FileName"]), str(i.get("Size", ""))) for i in items]
    except (ValueError, KeyError, TypeError):
        raise MiError(f"{client.shown}: the list of log files is not the Management API's") from None


def fetch_node(node: MiNode, limits: Limits | None = None, *,
               skip: Callable[[str], bool] | None = None) -> NodeFetch:
    """Sign in, list, download the audit logs (those `skip` does not rule out: e.g. rotations already stored by
    name), sign out. Errors never raise: each becomes one line of `errors`, and the other files go on."""
    lim = limits or Limits()
    out = NodeFetch(node.name, node.url, node.insecure)
    try:
        client = _Client(node)
        out.url = client.shown
    except MiError as exc:
        out.errors.append(str(exc))
        return out
    try:
        listing = _listing(client)
        total, seen = 0, set()
        for name, size in listing:
            shown = printable(name, 120)
            if name == "NO_LOG_FILES":
                out.left.append({"name": name, "reason": "the node has no log files, or cannot read its folder"})
                continue
            if not name or set(name) & _NAME_BAD or name in (".", "..") or name in seen:
                out.left.append({"name": shown, "reason": "not a file name (refused)"})
                continue
            seen.add(name)
            if not is_audit_name(name) or name.lower().endswith(".lck"):
                out.left.append({"name": shown, "reason": "not an audit log"})
                continue
            if skip is not None and skip(name):
                out.left.append({"name": shown, "reason": "already stored"})
                continue
            listed = parse_size(size)
            cap = min(lim.max_upload_bytes, lim.max_total_bytes - total)
            if listed is not None and listed > cap * 1.06:  # the list rounds to one decimal
                out.errors.append(f"{client.shown} {shown}: listed as {size}, more than the cap of {cap:,} bytes: "
                                  "not fetched")
                continue
            try:
                r = client.get(f"/management/logs?file={quote(name, safe='')}")
                if r.status != 200:
                    body = _body(r, 1 << 16)
                    why = "a folder or an unreadable file" if r.status == 500 else f"HTTP {r.status}"
                    out.errors.append(f"{client.shown} {shown}: the node could not serve it ({why}"
                                      f"{_error_text(body)})")
                    continue
                data = _body(r, cap)
            except MiError as exc:
                out.errors.append(f"{client.shown} {shown}: {exc}")
                continue
            total += len(data)
            out.files.append((name, data))
    except MiError as exc:
        out.errors.append(str(exc))
    finally:
        client.sign_out()
    return out
