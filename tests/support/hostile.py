"""A hostile corpus: audit lines whose user, artifact and node names are markdown, HTML, formulas, control and
bidi characters, written the way the products write them (JSON in the line, `info` JSON-encoded)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

PROBE = "127.0.0.1:9"  # nothing listens there; a request to it means log text was rendered as a link or image
MARKDOWN = [
    f"![img](http://{PROBE}/user.png)",
    "[link](data:text/html,<script>alert(1)</script>)",
    f"<img src=http://{PROBE}/tag.png>",
    f"http://{PROBE}/bare",
    "www.example.com",
    "ops@example.com",
    ":red[red] :material/warning: **bold** $x^2$",
    "[js](javascript:alert(1))",
]
FORMULAS = ["=1+1", "\uff1d1+1", "\t=1+1", " =1+1", "\u200b=1+1", "\r=1+1", "+1", "-1", "@SUM(A1)", "\uff20x"]
CONTROL = ["a\u202eevil\u202cb", "bell\x07\x1b[31mred", "emoji \U0001f980 crab", "nul\x01char"]
ARTIFACTS = [f"![a](http://{PROBE}/artifact.png)", "[art](http://example.com)", "<b>bold</b>", "=HYPERLINK(1)",
             "\uff0dminus"]
# folder names cannot hold "/" (and zip readers turn "\\" into "/"): browsers read "http:host" as "http://host/"
NODE = f"![n](http:{PROBE}) <img src=http:{PROBE}>"
MEMBER_NOTE = f"[m](http:{PROBE}).txt"  # a zip member that is not a log: listed on Data quality


def line(user: str, artifact: str, minute: int, day: int = 3) -> str:
    info = json.dumps({"userId": artifact, "isAdmin": False})
    msg = json.dumps({"performedBy": user, "action": "created", "type": "user", "info": info}, ensure_ascii=False)
    return f"[2026-11-{day:02d} 10:{minute:02d}:00,000]  INFO {{AUDIT_LOG}} - {msg}"


def users() -> list[str]:
    return MARKDOWN + FORMULAS + CONTROL


def log_text() -> str:
    """One line per hostile user, each creating a hostile artifact, over two days."""
    out = []
    for i, u in enumerate(users()):
        out.append(line(u, ARTIFACTS[i % len(ARTIFACTS)], i % 60, 3 + i % 2))
    return "\n".join(out) + "\n"


def write_folder(root: Path) -> Path:
    """`root/<NODE>/repository/logs/audit.log` holding `log_text()`; returns `root`."""
    logs = root / NODE / "repository" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "audit.log").write_text(log_text(), encoding="utf-8")
    return root


def zip_bytes() -> bytes:
    """A zip of a node whose folder name is markdown, its audit.log, and a member that is not a log."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{NODE}/repository/logs/audit.log", log_text())
        z.writestr(MEMBER_NOTE, "not a log\n")
    return buf.getvalue()
