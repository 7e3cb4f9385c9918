"""Benchmark: the event store at scale. Builds a store of generated events (not through text: the events are
made as columns and committed with `audit_lib.store.append_events`, one chain entry a month), then times, each
phase in a fresh process:

  query    the Overview and Users pages of the whole store (from its rollup tables), a filter change (one
           person, one month, from the events: figures, hourly chart, first page of events), `findings` over one
           month, the app's store source (`StoreView`: Overview, Users, Data quality), and the peak RSS of that
           process
  verify   `verify` of the whole store (every data file hashed, rows counted per file)
  ingest   `ingest` against `load` on the text corpora of bench_load.py (bench/corpus/<name>, when built), each
           in a fresh process, alternated, the best of two

    .venv/bin/python bench/bench_store.py                      # 100M events (a year, 20 nodes): ~GBs on disk
    .venv/bin/python bench/bench_store.py --events 10000000    # a smaller store
    .venv/bin/python bench/bench_store.py --reuse              # query an existing bench/out/store again

Targets (issue 10): each page query under 3 s, a filter change under 2 s, peak RSS under 4 GB, ingest at least
as fast as load.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
GB = 1 << 30

NODES = [(f"mi-{i:02d}", "mi") for i in range(1, 15)] + [(f"apim-{i:02d}", "apim") for i in range(1, 4)] + \
        [(f"is-{i:02d}", "is") for i in range(1, 4)]
# (action, artifact_type, weight) per product: sign-ins dominate, then toggles and changes
MIX = {
    "mi": [("logged_in", "session", 30), ("logged_out", "session", 26), ("enabled", "proxy_service", 8),
           ("disabled", "proxy_service", 8), ("enabled", "endpoint", 5), ("disabled", "endpoint", 5),
           ("updated", "log_level", 4), ("created", "carbon_application", 3), ("deleted", "carbon_application", 2),
           ("enabled", "api_trace", 3), ("disabled", "message_processor", 3), ("created", "user", 1),
           ("deleted", "user", 1), ("updated", "registry_resource", 1)],
    "apim": [("logged_in", "session", 30), ("logged_out", "session", 25), ("POST", "rest_call", 20),
             ("created", "API", 8), ("updated", "API", 7), ("lifecycle-changed", "API", 4), ("deployed", "API", 3),
             ("undeployed", "API", 2), ("deleted", "API", 1)],
    "is": [("Login", "session", 50), ("Add User", "user", 10), ("Delete User", "user", 5),
           ("Set-User-Claim-Values", "user", 20), ("Add Role", "role", 5), ("Change Password by Administrator",
                                                                          "user", 10)],
}
USERS = 2_000
ARTIFACTS = 3_000


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB


def month_frame(node: str, product: str, month: int, n: int, seed: int):
    """`n` events of one node in one month of 2026, in time order, in the store's events schema."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    start = datetime(2026, month, 1, tzinfo=UTC)
    end = datetime(2027, 1, 1, tzinfo=UTC) if month == 12 else datetime(2026, month + 1, 1, tzinfo=UTC)
    span_ms = int((end - start).total_seconds() * 1000)
    ms = np.sort(rng.integers(0, span_ms, n)) + int(start.timestamp() * 1000)
    mix = MIX[product]
    weights = np.array([w for *_, w in mix], dtype=float)
    pick = rng.choice(len(mix), n, p=weights / weights.sum())
    user = (rng.zipf(1.4, n) - 1) % USERS
    artifact = (rng.zipf(1.2, n) - 1) % ARTIFACTS
    failed = rng.random(n) < 0.01
    ts = pl.Series("timestamp", ms).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")
    df = pl.DataFrame({
        "timestamp": ts,
        "action": pl.Series([a for a, _, _ in mix])[pick],
        "artifact_type": pl.Series([t for _, t, _ in mix])[pick],
        "user": pl.Series(user).cast(pl.String).str.pad_start(4, "0").str.replace(r"^", "user"),
        "a": pl.Series(artifact),
        "failed": pl.Series(failed),
    })
    session = pl.col("artifact_type") == "session"
    df = df.with_columns(
        node=pl.lit(node), product=pl.lit(product), month=pl.lit(f"2026-{month:02d}"),
        artifact=pl.when(session).then(pl.col("user")).otherwise(pl.format("{}-{}", "artifact_type", "a")),
        outcome=pl.when(pl.col("failed")).then(pl.lit("failure")).otherwise(pl.lit("success")),
        level=pl.when(pl.col("failed")).then(pl.lit("WARN")).otherwise(pl.lit("INFO")),
        source=pl.format("{}/repository/logs/audit-{}.log", pl.lit(node), pl.col("timestamp").dt.strftime("%m-%d-%Y")),
        attachment=pl.lit(None, pl.String), time_ambiguous=pl.lit(False),
        wall=pl.col("timestamp").dt.replace_time_zone(None),
    )
    at = pl.col("timestamp").dt.strftime("%a %b %d %H:%M:%S UTC %Y")
    df = df.with_columns(details=pl.when(session).then(pl.concat_str([pl.lit('{"at":"'), at, pl.lit('"}')]))
                         .otherwise(pl.concat_str([pl.lit('{"name":"'), pl.col("artifact"), pl.lit('"}')])),
        line=(pl.int_range(pl.len()).over("source") + 1).cast(pl.Int32))
    return df.drop("a", "failed")


def build(store: Path, events: int) -> dict:
    import polars as pl

    from audit_lib.store import append_events

    shutil.rmtree(store, ignore_errors=True)
    per = events // (len(NODES) * 12)
    began = time.monotonic()
    for month in range(1, 13):
        files: list[dict] = []  # filled as the frames are made; append_events reads it after the last frame

        def gen(month: int = month, files: list[dict] = files):
            for k, (node, product) in enumerate(NODES):
                df = month_frame(node, product, month, per, seed=month * 1000 + k)
                per_file = df.group_by("source", "node").agg(events=pl.len()).sort("source")
                for source, node_, n in per_file.iter_rows():
                    files.append({"source": source, "node": node_, "sha256": hashlib.sha256(source.encode())
                                  .hexdigest(), "bytes": n * 160, "lines": n, "events": n})
                yield df

        append_events(store, gen(), files, "UTC")
        print(f"  built month {month:2d}: {per * len(NODES) * month:>12,} events, {time.monotonic() - began:6.1f} s",
              flush=True)
    seconds = time.monotonic() - began
    return {"events": per * len(NODES) * 12, "build_s": round(seconds, 1), "build_rss_gb": round(rss_gb(), 2),
            "events_per_s": round(per * len(NODES) * 12 / seconds)}


def timed(fn):
    began = time.monotonic()
    out = fn()
    return out, round(time.monotonic() - began, 2)


def query(store: Path) -> dict:
    import polars as pl

    from audit_lib.checks.findings import findings
    from audit_lib.store import Store
    from audit_lib.store import aggregates as agg

    out: dict = {}
    st, out["open_s"] = timed(lambda: Store(store))

    def overview():  # the whole store: from the rollups
        return (agg.key_figures(st), agg.over_time(st, "1d", "artifact_type"), agg.counts_by(st, "action", 10),
                agg.counts_by(st, "node"))

    (figures, chart, _, _), out["overview_s"] = timed(overview)
    out["events"] = figures["events"]
    out["chart_rows"] = chart.height
    users, out["users_s"] = timed(lambda: agg.per_user(st))
    out["users"] = users.height
    who = users["user"][3]
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)

    def filter_change():  # a scope: one month's partitions scanned, the person picked by actor or raw name
        f = st.scan(start=start, end=end).filter(st.person_filter([who]))  # as the app's store view picks one
        return agg.key_figures(f), agg.over_time(f, "1h", None), agg.page(f, 100)

    (fig, _, page), out["filter_s"] = timed(filter_change)
    out["filter_events"] = fig["events"]
    out["page_rows"] = page.height

    def month_findings():
        ev = st.scan(start=start, end=end).collect()
        ev = ev.with_columns(pl.col("node", "product", "user", "actor", "action", "artifact_type", "artifact",
                                    "outcome", "level", "source").cast(pl.Categorical))
        return ev.height, findings(ev)

    (n_month, found), out["findings_month_s"] = timed(month_findings)
    out.update(app_pages(store))
    out["month_events"], out["findings"] = n_month, len(found)
    out["peak_rss_gb"] = round(rss_gb(), 2)
    return out


def app_pages(store: Path) -> dict:
    """What the app's pages read of the whole store through `audit_lib.store.view.StoreView` (the app's "Event
    store" source): opening it, then the Overview, Users (the most active person's section included) and Data
    quality pages' figures."""
    from audit_lib.analysis import metrics
    from audit_lib.analysis.filters import Filters
    from audit_lib.store.view import StoreView

    out: dict = {}
    view, out["app_open_s"] = timed(lambda: StoreView(store))
    whole = Filters()

    def overview():
        hourly = view.hourly(whole, ("artifact_type",))
        return (view.key_figures(whole), metrics.over_time(hourly, metrics.bucket_every(hourly, "1w"),
                                                            by="artifact_type", top=10, weight="events"),
                view.top_values(whole, "user"), view.top_values(whole, "action"))

    def users():
        people = view.per_user(whole)
        who = people["user"][0]
        hourly = view.person_hourly(whole, who)
        activity = metrics.over_time(hourly, metrics.bucket_every(hourly, "1d"), by="kind",
                                     top=len(metrics.KINDS), weight="events")
        return people, activity, view.person_latest(whole, who, 2000), int(people["events"][0])

    _, out["app_overview_s"] = timed(overview)
    (_, _, _, out["app_person_events"]), out["app_users_s"] = timed(users)
    _, out["app_quality_s"] = timed(lambda: (view.coverage(), view.ambiguous()))
    return out


def verify_phase(store: Path) -> dict:
    from audit_lib.store import verify

    rep, seconds = timed(lambda: verify(store))
    return {"verify_s": seconds, "verify_ok": rep.ok, "verify_rss_gb": round(rss_gb(), 2),
            "data_files": sum(v for k, v in rep.checked.items() if k.endswith("data files"))}


def ingest_phase(corpus: Path, what: str) -> dict:
    import audit_lib
    from audit_lib.store import ingest

    if what == "load":
        log, seconds = timed(lambda: audit_lib.load(corpus, "UTC"))
        lines = int(log.files["lines"].sum())
    else:
        from audit_lib.store import open_store_log

        target = OUT / f"ingest-{corpus.name}"
        shutil.rmtree(target, ignore_errors=True)
        _, seconds = timed(lambda: ingest(corpus, target, "UTC"))
        rss = rss_gb()
        lines = int(open_store_log(target).files["lines"].sum())  # the lines read, counted as load counts them
        shutil.rmtree(target, ignore_errors=True)
        return {"seconds": seconds, "lines": lines, "rss_gb": round(rss, 2)}
    return {"seconds": seconds, "lines": lines, "rss_gb": round(rss_gb(), 2)}


def in_process(phase: str, *args: str) -> dict:
    r = subprocess.run([sys.executable, __file__, "--phase", phase, *args], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"phase {phase} failed:\n{r.stderr[-3000:]}")
    lines = r.stdout.strip().splitlines()
    if lines[:-1]:
        print("\n".join(lines[:-1]), flush=True)
    return json.loads(lines[-1])


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000_000)
    ap.add_argument("--store", type=Path, default=OUT / "store")
    ap.add_argument("--reuse", action="store_true", help="query the store already built")
    ap.add_argument("--corpus", default="c,a", help="bench_load corpora to ingest (those built)")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--what", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        fn = {"build": lambda: build(args.store, args.events), "query": lambda: query(args.store),
              "verify": lambda: verify_phase(args.store),
              "ingest": lambda: ingest_phase(Path(args.what.split("|")[0]), args.what.split("|")[1])}[args.phase]
        print(json.dumps(fn(), default=str))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    res: dict = {}
    if not args.reuse:
        print(f"building a store of {args.events:,} events in {args.store} ...", flush=True)
        res.update(in_process("build", "--events", str(args.events), "--store", str(args.store)))
    res["store_gb"] = round(du(args.store) / GB, 2)
    res.update(in_process("query", "--store", str(args.store)))
    res.update(in_process("verify", "--store", str(args.store)))
    rows = []
    for name in [c for c in args.corpus.split(",") if c]:
        corpus = ROOT / "bench" / "corpus" / name
        if not corpus.is_dir():
            print(f"(corpus {name} not built: run bench/bench_load.py --only {name} first)")
            continue
        runs = [(in_process("ingest", "--what", f"{corpus}|load"), in_process("ingest", "--what", f"{corpus}|ingest"))
                for _ in range(2)]  # alternated, the best of two each: the machine may be shared
        ld, ig = (min((r[k] for r in runs), key=lambda r: r["seconds"]) for k in (0, 1))
        rows.append((name, ld, ig))

    ev = res["events"]
    print(f"\nStore: {ev:,} events, {res['store_gb']:.2f} GB on disk ({res['store_gb'] * GB / max(ev, 1):.0f} "
          "bytes an event)")
    if "build_s" in res:
        print(f"  built in {res['build_s']} s ({res['events_per_s']:,} events/s, peak RSS {res['build_rss_gb']} GB)")
    checks = [("open the store (chain head)", res["open_s"], None),
              (f"Overview page: figures, daily chart ({res['chart_rows']:,} rows), actions, nodes",
               res["overview_s"], 3.0),
              (f"Users page: {res['users']:,} people", res["users_s"], 3.0),
              (f"filter change: one user, one month ({res['filter_events']:,} events): figures, hourly chart, "
               "first page", res["filter_s"], 2.0),
              (f"findings over one month ({res['month_events']:,} events, {res['findings']} findings)",
               res["findings_month_s"], None),
              (f"verify the whole store ({res['data_files']} data files hashed)", res["verify_s"], None),
              ("app: open the store as a source (manifest, rejects, counts)", res["app_open_s"], None),
              ("app: Overview page of the whole store", res["app_overview_s"], 3.0),
              (f"app: Users page, the most active person's section included ({res['app_person_events']:,} "
               "events)", res["app_users_s"], 3.0),
              ("app: Data quality page (coverage, clock changes)", res["app_quality_s"], 3.0)]
    for what, seconds, target in checks:
        verdict = "" if target is None else ("  met" if seconds < target else "  MISSED") + f" (< {target} s)"
        print(f"  {seconds:7.2f} s  {what}{verdict}")
    print(f"  peak RSS of the query process: {res['peak_rss_gb']} GB "
          f"({'met' if res['peak_rss_gb'] < 4 else 'MISSED'} (< 4 GB))")
    for name, ld, ig in rows:
        rate_l, rate_i = ld["lines"] / ld["seconds"], ig["lines"] / ig["seconds"]
        print(f"  corpus {name}: load {ld['seconds']} s ({rate_l:,.0f} lines/s, RSS {ld['rss_gb']} GB), ingest "
              f"{ig['seconds']} s ({rate_i:,.0f} lines/s, RSS {ig['rss_gb']} GB): "
              f"{'met' if rate_i >= 0.95 * rate_l else 'MISSED'} (ingest at least as fast as load)")
    (OUT / "bench_store.json").write_text(json.dumps({**res, "ingest": rows}, indent=1, default=str))


if __name__ == "__main__":
    main()
