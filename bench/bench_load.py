"""Benchmark: `audit_lib.load` on corpora shaped like production, against a hand-written parser and against
polars merely reading the same lines.

    .venv/bin/python bench/bench_load.py                  # all five corpora, full size (minutes; builds them once)
    .venv/bin/python bench/bench_load.py --only a,c       # some of them
    .venv/bin/python bench/bench_load.py --quick          # small corpora, a smoke run

Corpora (bench/corpus/<name>/, bench/corpus/quick/<name>/ with --quick; rebuilt only when their recipe changes):
  a  2M MI lines in 30 daily files: 400 change records repeated, sign-in/out lines with their own time
  b  2M MI lines where most messages are distinct: scripts and dashboards sign in for each call
  c  a year of daily rotation: 5 nodes of three products (3 MI, 1 API-M, 1 IS), 330 days, 1,650 files
  d  4 MI nodes over the same 30 days (overlapping times)
  e  one ~300 MB audit.log: all rotations of an MI node (daily and at 10 MB) concatenated

For each: files, lines, bytes, the share of distinct messages (the text after the header's ` - `, over lines
that have a header), `audit_lib.load` time (best of --runs, each in a fresh process), the hand-written
`for line in file` loop with `re` + `json.loads` (once, fresh process), `pl.read_lines` of the same files
(best of --runs), and the peak RSS of `load` (ru_maxrss of its process) against the input's text bytes
(after gunzip). It ends with a table and the targets of issue 7 met or missed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = Path(os.environ.get("BENCH_CODE") or ROOT)  # the code a contender runs: the working tree, or --base's
sys.path.insert(0, str(CODE))
sys.path.insert(0, str(ROOT / "bench"))

AUDIT_FILE = re.compile(r"^audit.*\.log(?:\.\d+)?(?:\.gz)?$")
MB = 1_000_000
RSS_FLOOR = 400 * MB


@dataclass(frozen=True)
class Corpus:
    name: str
    shape: str  # stated in the printout
    kind: str  # "mi_corpus", "estate" or "concat" (an estate whose files are then joined into one)
    params: dict
    tz: str = "Asia/Kolkata"
    loop_target: float | None = None  # load must be at least this many times faster than the loop
    read_target: float | None = None  # load within this many times `pl.read_lines`


def corpora(quick: bool) -> list[Corpus]:
    """The five corpora, full size or small (--quick)."""
    q = quick
    mi4 = ["mi1", "mi2", "mi3", "mi4"]
    fleet = ["mi1", "mi2", "mi3", "apim1", "is1"]
    a_lines, b_days, b_rate = (100_000, 6, 8_000) if q else (2_000_000, 30, 31_000)
    c_days, d_days, d_rate = (40, 10, 2_500) if q else (330, 30, 16_700)
    e_days, e_rate = (2, 80_000) if q else (60, 37_000)
    f_lines = g_lines = 100_000 if q else 2_000_000
    return [
        Corpus("a", f"1 MI node, {a_lines:,} lines in 30 daily files; 400 change records repeated, sign-in/out "
               "lines carry their own time (UTC)", "mi_corpus", {"lines": a_lines, "days": 30}, "UTC", 8, 4),
        Corpus("b", f"2 MI nodes x {b_days} days, daily files, ~{b_rate:,} events/node/day: scripts and dashboards "
               "sign in for each call (0.1 changes a session), 400 artifacts, 12 users + anonymous (IST)", "estate",
               {"nodes": ["mi1", "mi2"], "days": b_days, "events_per_day": b_rate, "session_changes": 0.1,
                "seed": 11}, loop_target=8, read_target=4),
        Corpus("c", f"5 nodes (3 MI, 1 API-M, 1 IS) x {c_days} days, one file a node a day, ~36 events/node/day, "
               "archives older than 30 days gzipped (IST)", "estate",
               {"nodes": fleet, "days": c_days, "events_per_day": 36, "gzip_after": 30, "seed": 12}, loop_target=3),
        Corpus("d", f"4 MI nodes over the same {d_days} days (overlapping times), daily files, ~{d_rate:,} "
               "events/node/day, 3 changes a session (IST)", "estate",
               {"nodes": mi4, "days": d_days, "events_per_day": d_rate, "seed": 13}, loop_target=8),
        Corpus("e", f"1 MI node, {e_days} days rotated daily and at 10 MB, all rotations concatenated into one "
               "audit.log (IST)", "concat",
               {"nodes": ["mi1"], "days": e_days, "events_per_day": e_rate, "rotate": "10MB", "seed": 14}),
        Corpus("f", f"1 MI node, {f_lines:,} lines in 10 daily files; 7 users (one non-ASCII), 21 artifact types of "
               "a few dozen names, 12% sign-in/out lines with their own inner time, change records from a pool (UTC)",
               "office", {"lines": f_lines, "files": 10}, "UTC"),
        Corpus("g", f"1 MI node, {g_lines:,} change records in 10 daily files, every artifact name unique, info of "
               "1-3 keys (UTC)", "unique", {"lines": g_lines, "files": 10}, "UTC"),
    ]


# --- building -------------------------------------------------------------------------------------------------
def audit_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and AUDIT_FILE.match(p.name))


def build(c: Corpus, folder: Path) -> None:
    import shapes

    from audit_lib.demo.estate import write_estate
    from audit_lib.demo.sampledata import write_mi_corpus

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if c.kind in ("office", "unique"):
        (shapes.write_office if c.kind == "office" else shapes.write_unique)(folder, **c.params)
        return
    if c.kind == "mi_corpus":
        write_mi_corpus(folder, c.params["lines"], days=c.params["days"])
        return
    p = dict(c.params)
    nodes = p.pop("nodes")
    target = folder if c.kind == "estate" else folder / "_parts"
    written = write_estate(target, nodes, start=date(2026, 1, 5), tz=c.tz, **p)
    if c.kind == "concat":  # oldest first: day by day, a day's numbered parts in order, audit.log last
        logs = folder / nodes[0] / "repository" / "logs"
        logs.mkdir(parents=True)
        with (logs / "audit.log").open("wb") as out:
            for path, *_ in written.files:
                out.write(gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes())
        shutil.rmtree(target)


def describe(folder: Path) -> dict:
    """Files, lines, bytes on disk and as text, and the share of distinct messages."""
    import polars as pl

    files = audit_files(folder)
    text_bytes = lines = 0
    for p in files:
        data = p.read_bytes()
        data = gzip.decompress(data) if p.name.endswith(".gz") else data
        text_bytes += len(data)
        lines += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    body = pl.col("text").str.splitn(" - ", 2).struct.field("field_1").str.strip_chars()
    kind = (pl.when(~pl.col("text").str.contains(r"^(?:TID: \[[^\]]*\] )?\[\d{4}-\d\d-\d\d")).then(pl.lit("other"))
            .when(body.str.starts_with("{")).then(pl.lit("change"))
            .when(body.str.contains(r"logged (?:in|out) at |^Login failed|Login")).then(pl.lit("session"))
            .otherwise(pl.lit("message")))
    lf = pl.scan_lines([str(p) for p in files], name="text").select(m=body, kind=kind)
    msgs = (lf.filter(pl.col("kind") != "other")
            .select(pl.len().alias("headed"), pl.col("m").n_unique().alias("distinct")).collect())
    kinds = dict(lf.group_by("kind").len().collect().iter_rows())
    headed, distinct = msgs.row(0)
    return {"files": len(files), "lines": lines, "bytes": sum(p.stat().st_size for p in files),
            "text_bytes": text_bytes, "headed": headed, "distinct": distinct, "share": distinct / max(headed, 1),
            "kinds": {k: kinds.get(k, 0) for k in ("change", "session", "message", "other")}}


def kinds_text(f: dict) -> str:
    """The corpus's line kinds as shares of its lines."""
    k, n = f.get("kinds") or {}, max(f["lines"], 1)
    names = {"change": "change records", "session": "sign-in/out", "message": "other messages",
             "other": "continuation/other lines"}
    return ", ".join(f"{names[key]} {k[key] / n:.0%}" for key in names if k.get(key))


def ensure(c: Corpus, base: Path, rebuild: bool) -> dict:
    """The corpus on disk (built when missing or when its recipe changed) and its description. Building runs in
    a child process: this one must stay small, because a child's ru_maxrss starts from its parent's RSS."""
    folder, marker = base / c.name, base / f"{c.name}.json"
    recipe = {"kind": c.kind, "params": c.params, "tz": c.tz}
    if not rebuild and marker.exists() and folder.exists():
        saved = json.loads(marker.read_text())
        if saved.get("recipe") == recipe and "kinds" in saved["facts"]:
            return saved["facts"]
        if saved.get("recipe") == recipe:  # described before line kinds were counted: describe it again
            out = subprocess.run([sys.executable, __file__, "--describe", "--corpus", str(folder)],
                                 capture_output=True, text=True, check=True)
            saved["facts"].update(json.loads(out.stdout.strip().splitlines()[-1]))
            marker.write_text(json.dumps(saved, indent=1))
            return saved["facts"]
    print(f"  building corpus {c.name} in {folder} ...", flush=True)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--build", json.dumps(c.__dict__), "--corpus", str(folder)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"building corpus {c.name} failed:\n{out.stderr}")
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    facts["build_seconds"] = time.perf_counter() - t0
    marker.write_text(json.dumps({"recipe": recipe, "facts": facts}, indent=1))
    return facts


# --- the contenders (each in its own process) -----------------------------------------------------------------
HEAD = re.compile(r"^(?:TID: \[[^\]]*\] )?\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\](?: \[[^\]]*\])? +([A-Z]+) +"
                  r"(?:\{[^}]*\} )?- +(.*)$")
MI_SESSION = re.compile(r"^(\S+) logged (in|out) at \[")
APIM_SESSION = re.compile(r"^'([^'\[]*?) ?\[-?\d+\]' logged (in|out) at \[")
APIM_FAILED = re.compile(r"^Login failed\. Unauthorized login attempt '([^'\[]*)")
REST_CALL = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+) user: (\S+)")
IS_PIPE = re.compile(r"^Initiator : (.*?) \| Action : (.*?) \| Target : (.*?) \| Data : ")
IS_KEYS = re.compile(r"^Initiator=(\S+) Action=(\S+) Target=(\S+) ")


def loop(folder: Path):
    """The obvious hand-written parser: `for line in file` with re and json.loads, one row per event with its
    time, user, action, type and artifact (plus source and line number); continuation lines are skipped."""
    import polars as pl

    rows = []
    for path in audit_files(folder):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                m = HEAD.match(line.rstrip("\r\n"))
                if not m:
                    continue
                ts, _level, body = m.groups()
                if body.startswith("{"):
                    try:
                        rec = json.loads(body)
                        info = rec.get("info")
                        info = json.loads(info) if isinstance(info, str) else info
                    except ValueError:
                        continue
                    artifact = next(iter(info.values()), None) if isinstance(info, dict) else None
                    rows.append((ts, rec.get("performedBy"), rec.get("action"), rec.get("type") or rec.get("typ"),
                                 str(artifact), str(path), n))
                elif s := MI_SESSION.match(body) or APIM_SESSION.match(body):
                    rows.append((ts, s.group(1), "logged_" + s.group(2), "session", s.group(1), str(path), n))
                elif s := APIM_FAILED.match(body):
                    rows.append((ts, s.group(1), "login_failed", "session", s.group(1), str(path), n))
                elif s := REST_CALL.match(body):
                    rows.append((ts, s.group(3), s.group(1), "rest_call", s.group(2), str(path), n))
                elif s := IS_PIPE.match(body) or IS_KEYS.match(body):
                    rows.append((ts, s.group(1), s.group(2), "identity", s.group(3), str(path), n))
    df = pl.DataFrame(rows, schema=["ts", "user", "action", "artifact_type", "artifact", "source", "line"],
                      orient="row")
    return df.with_columns(pl.col("ts").str.strptime(pl.Datetime("ms"), "%Y-%m-%d %H:%M:%S,%3f"))


def run_one(which: str, folder: Path, tz: str) -> None:
    import audit_lib  # noqa: I001  (first, as the CLI and app do: it sets polars' allocator options)
    import polars as pl

    start_rss = _peak_rss()
    t0 = time.perf_counter()
    if which == "load":
        log = audit_lib.load(str(folder), tz=tz)
        rows, extra = log.events.height, {"rejects": log.rejects.height}
    elif which == "loop":
        rows, extra = loop(folder).height, {}
    else:
        rows, extra = pl.read_lines([str(p) for p in audit_files(folder)], name="text", glob=False).height, {}
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "rows": rows, "max_rss": _peak_rss(), "start_rss": start_rss,
                      "hwm": _vm_hwm(), **extra}))


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _vm_hwm() -> int | None:
    """The kernel's high-water mark of this process's own memory (Linux), to cross-check ru_maxrss."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    m = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
    return int(m[1]) * 1024 if m else None


def measure(which: str, c: Corpus, folder: Path, runs: int, code: Path = ROOT) -> dict | None:
    """Best of `runs` fresh processes running `code` (the working tree or a base worktree); None (and the error
    printed) if the contender failed."""
    return alternate(which, c, folder, runs, [code])[code]


def alternate(which: str, c: Corpus, folder: Path, runs: int, codes: list[Path]) -> dict[Path, dict | None]:
    """`which` run by each of `codes` in turn, `runs` rounds, each a fresh process: the best of each (None if it
    failed). Alternating spreads the machine's other work over all of them alike."""
    best: dict[Path, dict | None] = dict.fromkeys(codes)
    failed: set[Path] = set()
    for _ in range(runs):
        for code in codes:
            if code in failed:
                continue
            r = _summary_run(code, folder, c.tz) if which == "summary" else _one_run(which, code, folder, c.tz)
            if "error" in r:
                print(f"    {which} ({_label(code)}) failed: {r['error']}")
                failed.add(code)
                best[code] = None
                continue
            if best[code] is None or r["seconds"] < best[code]["seconds"]:
                best[code] = r
    return best


def _child(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> tuple[float, object, bytes, str]:
    """Run `cmd`: its wall seconds, its own resource usage (wait4: peak RSS, CPU), stdout, and the last line of
    stderr when it failed (else "")."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        failed = (err.read().decode(errors="replace").strip().splitlines() or ["?"])[-1] if proc.returncode else ""
    return seconds, usage, out, failed


def _one_run(which: str, code: Path, folder: Path, tz: str) -> dict:
    _, usage, out, failed = _child([sys.executable, __file__, "--one", which, "--corpus", str(folder), "--tz", tz],
                                   env={**os.environ, "BENCH_CODE": str(code)})
    if failed:
        return {"error": failed}
    return {**json.loads(out.decode().strip().splitlines()[-1]), "cpu": usage.ru_utime + usage.ru_stime}


def _summary_run(code: Path, folder: Path, tz: str) -> dict:
    """`python -m audit_lib summary --json FOLDER --tz TZ` of `code`, the whole process: its wall time (start-up
    included), CPU time, peak RSS (the child's own) and what it printed."""
    seconds, usage, out, failed = _child(
        [sys.executable, "-m", "audit_lib", "summary", "--json", str(folder), "--tz", tz], cwd=code)
    if failed:
        return {"error": failed}
    s = json.loads(out)
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "max_rss": usage.ru_maxrss * 1024,
            "events": s["events"], "by_user": s["by_user"]}


def base_worktree(ref: str) -> Path:
    """A git worktree of `ref` under bench/out/base-REF (made once; detached, so no branch is touched)."""
    rev = subprocess.run(["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=ROOT, capture_output=True,
                         text=True)
    if rev.returncode != 0:
        sys.exit(f"--base {ref}: not a commit of this repository")
    path = ROOT / "bench" / "out" / f"base-{re.sub(r'[^A-Za-z0-9._-]', '_', ref)}"
    if (path / "audit_lib").is_dir():
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True).stdout.strip()
        if head == rev.stdout.strip():
            return path
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "worktree", "add", "--detach", str(path), rev.stdout.strip()], cwd=ROOT, check=True,
                   capture_output=True)
    return path


def _label(code: Path) -> str:
    return "work" if code == ROOT else code.name.removeprefix("base-")


# --- report ---------------------------------------------------------------------------------------------------
READ_FLOOR = 8  # load within this many times `pl.read_lines` of the same lines, on every corpus


def verdicts(c: Corpus, f: dict, r: dict) -> list[tuple[str, bool]]:
    """The targets that apply to this corpus (issue 7's and issue 16's floors), each with whether it is met."""
    load, loop_r, read, base = r["load"], r.get("loop"), r["read"], r.get("base")
    out = []
    if c.loop_target and load and loop_r:
        out.append((f"{c.name}: load >= {c.loop_target:g}x the loop", loop_r["seconds"] / load["seconds"]
                    >= c.loop_target))
    if load and read:
        floor = min(c.read_target or READ_FLOOR, READ_FLOOR)
        out.append((f"{c.name}: load within {floor:g}x read_lines", load["seconds"] / read["seconds"] <= floor))
    if load and base:
        out.append((f"{c.name}: load no slower than {r['base_name']}", load["seconds"] <= base["seconds"]))
    if load:
        limit = max(1.5 * f["text_bytes"], RSS_FLOOR)
        out.append((f"{c.name}: load's peak RSS <= max(1.5x input, 400 MB) = {limit / MB:,.0f} MB",
                    load["max_rss"] <= limit))
    if r.get("summary"):
        out.append((f"{c.name}: summary's peak RSS < {SUMMARY_RSS / MB:,.0f} MB",
                    r["summary"]["max_rss"] < SUMMARY_RSS))
    return out


SUMMARY_RSS = 300 * MB


def _s(r: dict | None) -> str:
    return f"{r['seconds']:.2f}" if r else "-"


def _mb(r: dict | None) -> str:
    return f"{r['max_rss'] / MB:,.0f}" if r else "-"


def _cpu_ratio(a: dict | None, b: dict | None) -> str:
    return f"{a['cpu'] / b['cpu']:.2f}x" if a and b else "-"


def _ratio(a: dict | None, b: dict | None) -> str:
    return f"{a['seconds'] / b['seconds']:.2f}x" if a and b else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    names = ",".join(c.name for c in corpora(False))
    parser.add_argument("--only", default="", help=f"comma-separated corpora to run ({names})")
    parser.add_argument("--quick", action="store_true", help="small corpora: a smoke run")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes for each contender (best kept)")
    parser.add_argument("--base", metavar="REF", help="also run this commit (a git worktree under bench/out/), "
                                                      "alternating with the working tree")
    parser.add_argument("--no-loop", action="store_true", help="leave out the hand-written loop (slow)")
    parser.add_argument("--no-summary", action="store_true", help="leave out `summary --json` (whole process)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the corpora even if present")
    parser.add_argument("--corpus-dir", type=Path, default=ROOT / "bench" / "corpus")
    parser.add_argument("--one", choices=["load", "loop", "read"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tz", default="UTC", help=argparse.SUPPRESS)
    parser.add_argument("--build", help=argparse.SUPPRESS)
    parser.add_argument("--describe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.corpus, args.tz)
        return
    if args.build:
        build(Corpus(**json.loads(args.build)), args.corpus)
        print(json.dumps(describe(args.corpus)))
        return
    if args.describe:
        print(json.dumps(describe(args.corpus)))
        return
    chosen = [c for c in corpora(args.quick) if not args.only or c.name in args.only.split(",")]
    unknown = set(filter(None, args.only.split(","))) - {c.name for c in corpora(args.quick)}
    if unknown or not chosen:
        parser.error(f"--only takes names among {names}, not {','.join(sorted(unknown)) or args.only!r}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    base_code = base_worktree(args.base) if args.base else None
    codes = [ROOT, base_code] if base_code else [ROOT]
    base = args.corpus_dir / "quick" if args.quick else args.corpus_dir
    base.mkdir(parents=True, exist_ok=True)
    if base_code:
        print(f"base: {args.base} ({base_code.relative_to(ROOT)}), run alternately with the working tree")

    results = []
    for c in chosen:
        print(f"\n({c.name}) {c.shape}", flush=True)
        f = ensure(c, base, args.rebuild)
        folder = base / c.name
        print(f"  {f['files']:,} files, {f['lines']:,} lines, {f['bytes'] / MB:,.1f} MB on disk "
              f"({f['text_bytes'] / MB:,.1f} MB of text), distinct messages {f['distinct']:,} of {f['headed']:,} "
              f"({f['share']:.1%}); {kinds_text(f)}", flush=True)
        r: dict = {"base_name": args.base}
        loads = alternate("load", c, folder, args.runs, codes)
        r["load"], r["base"] = loads[ROOT], loads.get(base_code)
        for code, res in loads.items():
            if res:
                print(f"  load {_label(code):>9} {res['seconds']:7.2f} s (CPU {res['cpu']:.2f} s)  "
                      f"{f['lines'] / res['seconds'] / 1e6:5.2f} M lines/s, {res['rows']:,} events, "
                      f"{res['rejects']:,} rejects, peak RSS {res['max_rss'] / MB:,.0f} MB "
                      f"({res['start_rss'] / MB:,.0f} MB after imports)", flush=True)
        if r["base"] and r["load"]:
            print(f"  load work/{args.base}: {_ratio(r['load'], r['base'])} (CPU {_cpu_ratio(r['load'], r['base'])})")
        if not args.no_summary:
            sums = alternate("summary", c, folder, args.runs, codes)
            r["summary"], r["base_summary"] = sums[ROOT], sums.get(base_code)
            for code, res in sums.items():
                if res:
                    print(f"  summary {_label(code):>6} {res['seconds']:7.2f} s (CPU {res['cpu']:.2f} s)  whole "
                          "process, peak RSS "
                          f"{res['max_rss'] / MB:,.0f} MB, {res['events']:,} events", flush=True)
        if not args.no_loop:
            r["loop"] = measure("loop", c, folder, 1)
            if r["loop"]:
                print(f"  loop        {r['loop']['seconds']:7.2f} s  {r['loop']['rows']:,} rows", flush=True)
        r["read"] = measure("read", c, folder, args.runs)
        if r["read"]:
            print(f"  read_lines  {r['read']['seconds']:7.2f} s  {r['read']['rows']:,} lines; load/read_lines "
                  f"{_ratio(r['load'], r['read'])}", flush=True)
        results.append((c, f, r))

    b = args.base or "base"
    print(f"\n| corpus | files | lines | MB (text) | distinct | load s | {b} load s | load/{b} | CPU load/{b} | "
          "read_lines s | "
          f"load/read_lines | loop/load | summary s | {b} summary s | load RSS MB | {b} load RSS MB | "
          "summary RSS MB |")
    print("|---|" + "---:|" * 16)
    for c, f, r in results:
        loop_r = r.get("loop")
        speed = f"{loop_r['seconds'] / r['load']['seconds']:.1f}x" if r["load"] and loop_r else "-"
        print(f"| {c.name} | {f['files']:,} | {f['lines']:,} | {f['text_bytes'] / MB:,.1f} | {f['share']:.1%} | "
              f"{_s(r['load'])} | {_s(r['base'])} | {_ratio(r['load'], r['base'])} | "
              f"{_cpu_ratio(r['load'], r['base'])} | "
              f"{_s(r['read'])} | "
              f"{_ratio(r['load'], r['read'])} | {speed} | {_s(r.get('summary'))} | {_s(r.get('base_summary'))} | "
              f"{_mb(r['load'])} | {_mb(r['base'])} | {_mb(r.get('summary'))} |")
    print("\nShapes:")
    for c, f, _ in results:
        print(f"  {c.name}: {c.shape}; {kinds_text(f)}")
    print(f"\nTargets{' (quick corpora: indicative only)' if args.quick else ''}:")
    checks = [v for c, f, r in results for v in verdicts(c, f, r)]
    for label, ok in checks:
        print(f"  {'met    ' if ok else 'MISSED '} {label}")
    missing = [c.name for c, _, r in results if r["load"] is None]
    if missing:
        print(f"  not measured (load failed): {', '.join(missing)}")
    print(f"{sum(ok for _, ok in checks)} of {len(checks)} targets met.")


if __name__ == "__main__":
    main()
