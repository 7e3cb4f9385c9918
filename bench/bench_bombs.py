"""Benchmark: peak memory of `audit_lib.load` on hostile inputs, each in a fresh process.

    .venv/bin/python bench/bench_bombs.py            # all cases (writes about 1.1 GB to bench/out/bombs)
    .venv/bin/python bench/bench_bombs.py --only gzip,line
    .venv/bin/python bench/bench_bombs.py --only members   # 520 members of 8 MB in a zip of about 17 MB

Targets (issue 11): any upload or folder under 10 MB keeps the process under 1 GB RSS; a 1 GB line under 2 GB.
Each case prints its size on disk, what `load` made of it (events, rejects, the file's error) and peak RSS.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out" / "bombs"
LINE = b'[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - {"performedBy":"admin","action":"enabled",' \
       b'"type":"proxy_service","info":"{\\"proxyName\\":\\"P\\"}"}\n'
GIB = 1 << 30


def _gzip_stream(path: Path, chunk: bytes, total: int) -> None:
    """A gzip file of `chunk` repeated up to `total` bytes, compressed as it goes (small on disk)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as f:
        for _ in range(total // len(chunk)):
            f.write(c.compress(chunk))
        f.write(c.flush())


def build(name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    if path.exists():
        return path
    if name == "gzip":  # 4 GiB of log lines in a few MB
        folder = path
        folder.mkdir()
        _gzip_stream(folder / "audit-11-02-2026.log.gz", LINE * 8192, 4 * GIB)
    elif name == "zip":  # a zip whose member expands to 4 GiB
        folder = path
        folder.mkdir()
        member = OUT / "member.gz"
        _gzip_stream(member, LINE * 8192, 4 * GIB)
        with zipfile.ZipFile(folder / "logs.zip", "w", zipfile.ZIP_DEFLATED) as z, \
                z.open("node1/repository/logs/audit.log", "w", force_zip64=True) as w, gzip.open(member) as r:
            while block := r.read(1 << 24):
                w.write(block)
        member.unlink()
    elif name == "line":  # one 1 GiB line with no line break, after a good line
        path.mkdir()
        with (path / "audit.log").open("wb") as f:
            f.write(LINE + b"[2026-11-02 10:00:01,000]  INFO {AUDIT_LOG} - ")
            block = b"x" * (1 << 24)
            for _ in range(GIB // len(block)):
                f.write(block)
    elif name == "nested":  # 10 MB of lines whose info is nested 1,000 deep, keys out of order
        path.mkdir()
        deep = '{"a":' * 1000 + "1" + "}" * 1000
        one = ('[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - {"info":' + deep +
               ',"type":"x","action":"created","performedBy":"admin"}\n').encode()
        (path / "audit.log").write_bytes(one * (10_000_000 // len(one)))
    elif name == "members":  # 520 members of 8 MB each, every one within the per-member ratio cap
        path.mkdir()
        block = LINE * ((8 << 20) // len(LINE))
        with zipfile.ZipFile(path / "members.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for i in range(520):
                own = LINE.replace(b'\\"P\\"', b'\\"M%d\\"' % i)
                z.writestr(f"node{i % 4}/repository/logs/audit-{i}.log", own + block[: (8 << 20) - len(own)])
    elif name == "many":  # 10 MB spread over 20,000 tiny files
        path.mkdir()
        for i in range(20_000):
            own = LINE.replace(b'\\"P\\"', b'\\"P%d\\"' % i)
            (path / f"audit.log.{i}").write_bytes(own * 3)
    return path


def run_one(path: Path) -> None:
    import audit_lib

    t0 = time.perf_counter()
    try:
        log = audit_lib.load(path)
        errors = [e for e in log.files["error"].to_list() if e]
        result = {"events": log.events.height, "rejects": log.rejects.height, "files": log.files.height,
                  "complete": log.complete, "error": errors[0] if errors else None,
                  "unread": sum(getattr(k, "unread", False) for k in log.skipped),
                  "reasons": sorted(set(log.rejects["reason"].to_list()))[:3]}
    except audit_lib.SourceError as exc:
        result = {"refused": str(exc)[:200]}
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(result))


def _disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="gzip,zip,line,nested,many,members")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one)
        return
    rows = []
    for name in args.only.split(","):
        path = build(name)
        out = subprocess.run([sys.executable, __file__, "--one", str(path)], capture_output=True, text=True)
        if out.returncode:
            print(f"{name}: the load process failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        res = json.loads(out.stdout.strip().splitlines()[-1])
        limit = 2048 if name == "line" else 1024
        rows.append((name, _disk(path), res, limit))
        what = json.dumps({k: v for k, v in res.items() if k not in ("peak_rss_mb", "seconds")})
        print(f"{name:7s} {_disk(path) / 1e6:9.1f} MB on disk  peak RSS {res['peak_rss_mb']:5d} MB "
              f"(target < {limit} MB)  {res['seconds']:6.2f} s  {what}")
    met = sum(r["peak_rss_mb"] < limit for _, _, r, limit in rows)
    print(f"{met} of {len(rows)} within their memory target.")


if __name__ == "__main__":
    main()
