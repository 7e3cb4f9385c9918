"""Corpus shapes the estate generator does not make, written fast with polars (bench corpora f and g).

    write_office(folder, lines, files)    # f: one MI node, daily files; 7 users (one non-ASCII), 21 artifact types
                                           #    of a few dozen names each, 12% sign-in/out lines with their own inner
                                           #    time, the change records drawn from a small pool (~12% distinct)
    write_unique(folder, lines, files)    # g: MI change records only, every artifact name unique, info of 1-3 keys
                                           #    (~95% distinct messages)
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

START = datetime(2026, 3, 2)
USERS = ["admin", "jane.ops", "raj.k", "deploy-bot", "josé", "svc-ci", "ops.lead"]
# 21 artifact types, each with the info key naming its artifact
TYPES = [("proxy_service", "proxyName"), ("proxy_service_trace", "proxyName"), ("endpoint", "endpointName"),
         ("endpoint_trace", "endpointName"), ("message_processor", "messageProcessorName"),
         ("carbon_application", "cAppFileName"), ("connector", "connectorName"), ("log_level", "loggerName"),
         ("root_log_level", "loggerName"), ("api_trace", "apiName"), ("sequence_trace", "sequenceName"),
         ("inbound_endpoint_trace", "inboundEndpointName"), ("inbound_endpoint", "inboundEndpointName"),
         ("sequence_template_trace", "sequenceName"), ("registry_resource", "registryResourceName"),
         ("registry_resource_properties", "registryResourceName"), ("user", "userId"), ("api", "apiName"),
         ("sequence", "sequenceName"), ("message_store", "name"), ("data_service", "name")]
ACTIONS = ["enabled", "disabled", "created", "updated", "deleted"]
EXTRA_KEYS = [("status", ["enabled", "disabled"]), ("loggingLevel", ["DEBUG", "INFO", "WARN", "ERROR"]),
              ("isAdmin", [True, False]), ("packageName", ["org.wso2.carbon.connector"]), ("ttl", ["60", "3600"])]


def _record(user: str, action: str, typ: str, info: dict) -> str:
    payload = {"performedBy": user, "action": action, "type": typ,
               "info": json.dumps(info, separators=(",", ":"), ensure_ascii=False)}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _times(lines: int, files: int) -> pl.DataFrame:
    """`file` and wall-clock `t` of each line: the files are consecutive days, their lines spread over the day."""
    per = lines // files
    counts = [per] * (files - 1) + [lines - per * (files - 1)]
    day0 = int((START - datetime(1970, 1, 1)).total_seconds() * 1000)
    df = pl.DataFrame({"file": pl.Series([i for i, n in enumerate(counts) for _ in range(n)], dtype=pl.UInt16)})
    step = 86_400_000 // pl.len().over("file")
    ms = day0 + pl.col("file").cast(pl.Int64) * 86_400_000 + pl.int_range(pl.len()).over("file") * step
    return df.with_columns(t=pl.from_epoch(ms, "ms"))


def _write(folder: Path, df: pl.DataFrame, files: int) -> None:
    """Each file's `text` lines as a daily rotation of one node (the last day is audit.log)."""
    logs = folder / "mi1" / "repository" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for part in df.partition_by("file", maintain_order=True):
        i = part["file"][0]
        name = "audit.log" if i == files - 1 else f"audit-{START + timedelta(days=int(i)):%m-%d-%Y}.log"
        (logs / name).write_bytes(("\n".join(part["text"].to_list()) + "\n").encode())


def _head(t: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit("["), t.dt.strftime("%Y-%m-%d %H:%M:%S,%3f"), pl.lit("]  INFO {AUDIT_LOG} - ")])


def write_office(folder: Path, lines: int, files: int = 10, seed: int = 21, pool: int | None = None) -> None:
    """Shape f (see the module docstring): a pool of change records drawn again and again (`pool` of them,
    0.5% of the lines by default), and sign-ins."""
    rng = random.Random(seed)
    names = {typ: [f"{key.removesuffix('Name').removesuffix('Id')}-{rng.choice('ABCDEFGH')}{i:02d}"
                   for i in range(rng.randint(24, 48))] for typ, key in TYPES}
    pool_size = pool or max(200, lines // 200)  # distinct change records: ~0.5% of the lines by default
    pool = []
    for _ in range(pool_size):
        typ, key = rng.choice(TYPES)
        info = {key: rng.choice(names[typ])}
        for k, values in rng.sample(EXTRA_KEYS, rng.randint(0, 1)):
            info[k] = rng.choice(values)
        pool.append(_record(rng.choice(USERS), rng.choice(ACTIONS), typ, info))
    df = _times(lines, files)
    n = df.height
    kind = [rng.random() for _ in range(n)]
    df = df.with_columns(
        session=pl.Series([k < 0.12 for k in kind]),
        idx=pl.Series([rng.randrange(pool_size) for _ in range(n)], dtype=pl.UInt32),
        user=pl.Series([rng.choice(USERS) for _ in range(n)]),
        verb=pl.Series([rng.choice(["in", "out"]) for _ in range(n)]))
    record = pl.col("idx").replace_strict(range(pool_size), pool, return_dtype=pl.String)
    session = pl.concat_str([pl.col("user"), pl.lit(" logged "), pl.col("verb"), pl.lit(" at ["),
                             pl.col("t").dt.strftime("%a %b %d %H:%M:%S UTC %Y"), pl.lit("]")])
    df = df.select("file", text=pl.concat_str([_head(pl.col("t")),
                                               pl.when("session").then(session).otherwise(record)]))
    _write(folder, df, files)


def write_unique(folder: Path, lines: int, files: int = 10, seed: int = 22) -> None:
    """Shape g (see the module docstring): change records whose artifacts are all different."""
    rng = random.Random(seed)
    df = _times(lines, files)
    out = []
    for i in range(df.height):
        typ, key = TYPES[rng.randrange(len(TYPES))]
        info = {key: f"{typ[:4]}-{i:07d}"}
        for k, values in rng.sample(EXTRA_KEYS, rng.randint(0, 2)):
            info[k] = rng.choice(values)
        out.append(_record(USERS[rng.randrange(len(USERS))], ACTIONS[rng.randrange(5)], typ, info))
    df = df.select("file", text=pl.concat_str([_head(pl.col("t")), pl.Series(out)]))
    _write(folder, df, files)
