"""Deterministic generator of realistic WSO2 audit logs: the bundled demo set and benchmark corpora.

    python -m audit_lib.demo.sampledata samples samples/        # the demo set committed under samples/
    python -m audit_lib.demo.sampledata corpus DIR --lines N    # one MI node, rotated daily, for benchmarks
    python -m audit_lib.demo.sampledata estate DIR --nodes mi1,mi2,mi3,apim1,is1 --start 2026-01-01 --days 330 \\
        --rotate daily --gzip-after 30 --events-per-day 40 --seed 1    # a fleet over months (sample_estate)
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from audit_lib.demo import estate as sample_estate
from audit_lib.demo.estate import add_arguments as add_estate_arguments
from audit_lib.demo.estate import run as run_estate
from audit_lib.demo.estate import write_estate

__all__ = ["write_demo", "write_estate", "write_mi_corpus"]

DEMO_START = datetime(2026, 10, 26, 0, 0, 0)
DEMO_DAYS = 26

MI_USERS = ["admin", "jane.ops", "raj.k", "deploy-bot", "josé"]
PROXIES = ["OrderProxy", "StockQuoteProxy", "PaymentProxy", "CustomerSyncProxy"]
ENDPOINTS = ["OrderServiceEP", "PaymentGatewayEP", "InventoryEP", "LegacyCRM_EP"]
PROCESSORS = ["OrderRetryProcessor", "InvoiceForwarder", "testMessageProcessor"]
CAPPS = ["OrderIntegration_1.0.0.car", "PaymentFlows_2.1.0.car", "CustomerSync_1.4.2.car"]
APIS = ["OrderAPI", "HealthcareAPI", "helloAPI"]
SEQUENCES = ["OrderInSequence", "FaultSequence", "helloSequence"]
INBOUNDS = ["JMSInbound", "FileInbound", "httpIEP"]
LOGGERS = ["org-apache-synapse", "org-apache-hive", "synapse-api", "org-wso2-carbon"]
REGISTRY = ["conf:/config/orders.xml", "gov:/endpoints/payment.xml", "conf:/schemas/order.xsd"]
CONNECTORS = [("salesforce", "org.wso2.carbon.connector"), ("kafkaTransport", "org.wso2.carbon.connector")]

ROTATED = "audit-{:%m-%d-%Y}.log"
# changes that switch something on or off: kind -> (type, info key, names to pick from)
TOGGLES = {
    "proxy": ("proxy_service", "proxyName", PROXIES),
    "proxy_trace": ("proxy_service_trace", "proxyName", PROXIES),
    "endpoint": ("endpoint", "endpointName", ENDPOINTS),
    "endpoint_trace": ("endpoint_trace", "endpointName", ENDPOINTS),
    "processor": ("message_processor", "messageProcessorName", PROCESSORS),
    "api_trace": ("api_trace", "apiName", APIS),
    "seq_trace": ("sequence_trace", "sequenceName", SEQUENCES),
    "inbound_trace": ("inbound_endpoint_trace", "inboundEndpointName", INBOUNDS),
}


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"


def _java_date(t: datetime, zone: str = "UTC") -> str:
    return t.strftime(f"%a %b %d %H:%M:%S {zone} %Y")


def mi_json(t: datetime, user: str, action: str, type_: str, info: dict, level: str = "INFO") -> str:
    """One management-API line exactly as MI's AuditLogger writes it (info JSON-encoded inside JSON)."""
    payload = {"performedBy": user, "action": action, "type": type_,
               "info": json.dumps(info, separators=(",", ":"), ensure_ascii=False)}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return f"[{_ts(t)}] {level:>5} {{AUDIT_LOG}} - {body}"


def mi_session(t: datetime, user: str, verb: str) -> str:
    return f"[{_ts(t)}]  INFO {{AUDIT_LOG}} - {user} logged {verb} at [{_java_date(t)}]"


def _mi_change(rng: random.Random) -> tuple[str, str, dict]:
    """A random management-API change: (action, type, info)."""
    on = rng.choice(["enabled", "disabled"])
    kind = rng.choices(
        ["proxy", "proxy_trace", "endpoint", "endpoint_trace", "processor", "capp", "connector", "log",
         "root_log", "api_trace", "seq_trace", "inbound_trace", "inbound", "template", "registry",
         "registry_props", "user"],
        weights=[10, 4, 8, 3, 6, 5, 2, 6, 1, 4, 3, 2, 1, 1, 3, 2, 3],
    )[0]
    if kind in TOGGLES:
        type_, key, names = TOGGLES[kind]
        return on, type_, {key: rng.choice(names)}
    if kind == "capp":
        return rng.choice(["created", "created", "deleted"]), "carbon_application", {
            "cAppFileName": rng.choice(CAPPS)}
    if kind == "connector":
        name, package = rng.choice(CONNECTORS)
        return "created", "connector", {"connectorName": name, "packageName": package,
                                        "status": rng.choice(["enabled", "disabled"])}
    if kind == "log":
        level = rng.choice(["DEBUG", "INFO", "WARN", "ERROR", "TRACE", "OFF"])
        if rng.random() < 0.2:
            return "created", "log_level", {"loggerName": "custom-" + rng.choice(LOGGERS),
                                            "loggingLevel": level, "loggerClass": "org.apache.synapse.rest.API"}
        return "updated", "log_level", {"loggerName": rng.choice(LOGGERS), "loggingLevel": level}
    if kind == "root_log":
        return "updated", "root_log_level", {"loggerName": "root",
                                             "loggingLevel": rng.choice(["INFO", "DEBUG", "ALL", "WARN"])}
    if kind == "inbound":
        return "disabled", "inbound_endpoint", {"inboundEndpointName": rng.choice(INBOUNDS)}
    if kind == "template":
        return on, "sequence_template_trace", {"sequenceName": "sequenceTemplate", "sequenceType": "sequence"}
    if kind == "registry":
        return rng.choice(["created", "updated", "deleted"]), "registry_resource", {
            "registryResourceName": rng.choice(REGISTRY)}
    if kind == "registry_props":
        if rng.random() < 0.5:
            return "updated", "registry_resource_properties", {
                "registryResourceName": rng.choice(REGISTRY), "list": {"owner": "ops", "ttl": "3600"}}
        return "deleted", "registry_resource_properties", {
            "registryResourceName": rng.choice(REGISTRY), "propertyName": "ttl"}
    user_id = rng.choice(["user4", "auditor1", "svc-batch", "maría", "tmp-contractor"])
    action = rng.choice(["created", "created", "deleted", "updated"])
    info: dict = {"userId": user_id}
    if action == "created":
        info = {"isAdmin": rng.random() < 0.3, "userId": user_id}
    return action, "user", info


def _session_start(rng: random.Random, day: datetime) -> datetime:
    """Mostly office hours on weekdays, sometimes at night or on the weekend."""
    if rng.random() < 0.12 or day.weekday() >= 5:
        hour = rng.choice([0, 1, 2, 3, 5, 21, 22, 23, 10, 14])
    else:
        hour = rng.choice(range(8, 19))
    return day + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60),
                           microseconds=rng.randrange(1000) * 1000)


def mi_day(rng: random.Random, day: datetime, sessions: int) -> list[tuple[datetime, str]]:
    """One node's audit lines for one day, as (time, line) pairs."""
    out: list[tuple[datetime, str]] = []
    for _ in range(sessions):
        user = rng.choices(MI_USERS, weights=[5, 4, 3, 2, 1])[0]
        t = _session_start(rng, day)
        out.append((t, mi_session(t, user, "in")))
        for _ in range(rng.randint(1, 7)):
            t += timedelta(seconds=rng.randint(5, 900), milliseconds=rng.randrange(1000))
            out.append((t, mi_json(t, user, *_mi_change(rng))))
        if rng.random() < 0.85:  # some sessions simply expire
            t += timedelta(seconds=rng.randint(5, 600))
            out.append((t, mi_session(t, user, "out")))
    if rng.random() < 0.25:  # the management API run without authentication
        t = _session_start(rng, day)
        out.append((t, mi_json(t, "anonymous", "updated", "registry_resource_properties",
                               {"registryResourceName": "a.xml", "list": {"k": "v"}})))
    out.sort(key=lambda p: p[0])
    return out


def _write(path: Path, lines: list[str], gz: bool = False, newline: str = "\n", raw_tail: bytes = b"") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(line + newline for line in lines).encode("utf-8") + raw_tail
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)


def write_mi_node(root: Path, node: str, seed: int, start: datetime, days: int, *, gz_before: int = 0,
                  skip_days: tuple[int, ...] = (), extras: dict[int, list[str]] | None = None,
                  crlf: bool = False) -> None:
    """A node's rotated set: one file per day, the last day as audit.log, older days .gz."""
    rng = random.Random(seed)
    logs = root / node / "repository" / "logs"
    for i in range(days):
        day = start + timedelta(days=i)
        lines = [line for _, line in mi_day(rng, day, rng.randint(2, 6))]
        if i in skip_days:
            continue
        lines += (extras or {}).get(i, [])
        name = "audit.log" if i == days - 1 else ROTATED.format(day)
        _write(logs / name, lines, gz=i < gz_before, newline="\r\n" if crlf else "\n")


def doc_lines(t: datetime) -> list[str]:
    """Lines as the product documentation prints them (curly quotes, spaces, no logger)."""
    ts = _ts(t)
    return [
        f"[{ts}]  INFO -  admin logged in at [{_ts(t)}+0530]",
        f"[{ts}]  INFO {{AUDIT_LOG}} - {{ “performedBy”: “admin”, “action”: “created”,  “type”: “user”, "
        f"“info” : “{{\\“userId\\” : \\“user4\\”,\\“isAdmin\\”: \\“true\\”}}”}}",
        f"[{ts}]  INFO {{AUDIT_LOG}} - {{ “performedBy”: “admin”, “action”: \"created\",  “type”: "
        f"\"carbon_application\", “info” : “{{\\“cAppfileName\\”: \\“abc.car\\”}}”}}",
        f"[{ts}]  INFO {{AUDIT_LOG}} - {{ “performedBy”: “admin”, “action”: \"updated\",  “type”: \"log_level\", "
        f"“info” : “{{\\“loggerName\\”: \\“org-apache-hive\\”,\\“loggingLevel\\”: “WARN}}”}}",
        f"[{ts}]  INFO -  admin logged out at [{_ts(t)}+0530]",
    ]


def broken_lines(t: datetime) -> list[str]:
    ts = _ts(t)
    return [
        f"[{ts}]  INFO {{AUDIT_LOG}} - {{\"performedBy\":\"admin\",\"action\":\"upd",
        "operator note: restarted node after patch",
        f"[{ts}] ERROR {{AUDIT_LOG}} - {{\"performedBy\":\"admin\",\"action\":\"deleted\","
        f"\"type\":\"carbon_application\",\"info\":\"{{\\\"cAppFileName\\\":\\\"PaymentFlows_2.1.0.car\\\"}}\"}}",
        "java.io.IOException: Could not remove artifact PaymentFlows_2.1.0.car",
        "\tat org.wso2.micro.integrator.management.apis.CarbonAppResource.handleDelete(CarbonAppResource.java:187)",
        "\tat org.wso2.micro.integrator.management.apis.CarbonAppResource.invoke(CarbonAppResource.java:92)",
        "Caused by: java.nio.file.AccessDeniedException: /home/wso2/carbonapps/PaymentFlows_2.1.0.car",
        "\t... 12 more",
        "",
        f"[{ts}]  INFO {{AUDIT_LOG}} - {{\"performedBy\":\"admin\",\"action\":\"enabled\",\"type\":\"endpoint\","
        f"\"info\":\"{{\\\"endpointName\\\":\\\"InventoryEP\\\"}}\"}}\x00\x00",
    ]


def apim_lines(rng: random.Random, start: datetime, days: int) -> list[str]:
    out: list[tuple[datetime, str]] = []
    users = ["admin@carbon.super", "publisher1@carbon.super", "ana.lópez@carbon.super"]
    for i in range(days):
        day = start + timedelta(days=i)
        for _ in range(rng.randint(1, 3)):
            t = _session_start(rng, day)
            user = rng.choice(users)
            pre = "TID: [-1234] [{}]  INFO {{AUDIT_LOG}} - "
            if rng.random() < 0.2:
                name = rng.choice(["bob", "mallory", "admin"])
                ip = f"10.0.4.{rng.randint(2, 250)}"
                out.append((t, f"TID: [-1234] [{_ts(t)}]  WARN {{AUDIT_LOG}} - Login failed. Unauthorized login "
                               f"attempt '{name}[-1234]' at [{_ts(t)}+0000] from IP address {ip}"))
                continue
            out.append((t, pre.format(_ts(t)) + f"'{user} [-1234]' logged in at [{_ts(t)}+0000] "
                           f"from IP address 10.0.3.{rng.randint(2, 250)}"))
            for _ in range(rng.randint(1, 4)):
                t += timedelta(seconds=rng.randint(10, 600))
                api = rng.choice(["PhoneVerification", "OrderAPI", "PizzaShack"])
                action = rng.choice(["created", "updated", "deleted", "lifecycle-changed", "deployed", "undeployed"])
                info = {"provider": user.split("@")[0], "name": api, "context": f"/{api.lower()}/1.0.0",
                        "version": "1.0.0"}
                body = json.dumps({"performedBy": user.split("@")[0], "action": action, "typ": "API",
                                   "info": info}, separators=(",", ":"), ensure_ascii=False)
                out.append((t, pre.format(_ts(t)) + body))
                if rng.random() < 0.5:
                    t += timedelta(seconds=1)
                    out.append((t, pre.format(_ts(t)) + f"POST /api/am/publisher/v4/apis/{api.lower()}/revisions "
                                   f"user: {user.split('@')[0]} app: Xa8fGh2kLpQ0zT"))
            t += timedelta(seconds=rng.randint(10, 600))
            out.append((t, pre.format(_ts(t)) + f"'{user} [-1234]' logged out at [{t:%Y-%m-%d %H:%M:%S},0123]"))
    out.sort(key=lambda p: p[0])
    lines = [line for _, line in out]
    t = start + timedelta(days=3, hours=11)
    lines.insert(len(lines) // 3, f"[{_ts(t)}]  INFO -  {{\"performedBy\":\"admin\",\"action\":\"created\","
                 "\"typ\":\"API\",\"info\":\"{\\\"provider\\\":\\\"admin\\\",\\\"name\\\":\\\"PhoneVerification\\\","
                 "\\\"version\\\":\\\"1.0.0\\\"}\"}")
    t = start + timedelta(days=5, hours=15)
    lines.insert(len(lines) // 2, f"TID: [-1234] [{_ts(t)}]  INFO {{AUDIT_LOG}} - {{\"performedBy\":\"admin\","
                 "\"action\":\"updated\",\"typ\":\"API\",\"info\":\"{\"provider\":\"admin\",\"name\":\"OrderAPI\","
                 "\"version\":\"1.0.0\"}\"}")
    return lines


def is_lines(rng: random.Random, day: datetime, upgraded: bool = False) -> list[str]:
    """A day of Identity Server audit lines; `upgraded` (5.11 and later): user-core changes as key=value records
    and the authentication framework's sign-ins, some failed with no known user."""
    out: list[str] = []
    for k in range(rng.randint(3, 8)):
        t = day + timedelta(hours=8 + k, minutes=rng.randrange(60), milliseconds=rng.randrange(60000))
        corr = f"{rng.getrandbits(32):08x}-5c3a-4f55-a1a1-{rng.getrandbits(48):012x}"
        pre = f"TID: [-1234] [{_ts(t)}] [{corr}]  INFO {{AUDIT_LOG}} - "
        kind = rng.random()
        if upgraded and kind < 0.4:
            user, ok = rng.choice(["dave", "erin", "zoë"]), rng.random() < 0.75
            data = (f'{{ "ContextIdentifier" : "{corr}","AuthenticatedUser" : "{user}","ServiceProviderName" : '
                    '"my-account","RequestType" : "oidc","StepNo" : "1" }' if ok else
                    f'{{ "ContextIdentifier" : "{corr}","ServiceProviderName" : "my-account","RequestType" : "oidc",'
                    '"StepNo" : "1" }')
            out.append(pre + f"Initiator : {user + '@carbon.super' if ok else 'null'} | Action : Login | Target : "
                             f"ApplicationAuthenticationFramework | Data : {data} | Result : "
                             f"{'Success' if ok else 'Failed'} ")
        elif upgraded and kind < 0.75:
            action = rng.choice(["Add-User", "Delete-User", "Set-User-Claim-Values", "Update-Roles-Of-User"])
            target = rng.choice(["dave", "erin", "frank", "zoë"])
            data = ('{"Claims":{"http://wso2.org/claims/mobile":"0*******9"}}' if action == "Set-User-Claim-Values"
                    else '{"ServiceProviderName":"Console"}')
            outcome = "Failed" if rng.random() < 0.1 else "Success"
            out.append(pre + f"Initiator=admin@carbon.super Action={action} Target={target} Data={data} "
                             f"Outcome={outcome}")
        elif kind < 0.15:
            out.append(pre + "Initiator : admin@carbon.super | Action : Add Role | Target : Internal/devops "
                             "| Data : { Users : [dave, erin]")
            out.append("Permissions : [/permission/admin/manage/identity/usermgt/view,")
            out.append("/permission/admin/login] } | Result : Success ")
        else:
            action = rng.choice(["Add User", "Delete User", "Change Password by Administrator",
                                 "Update Roles of User"])
            target = rng.choice(["dave", "erin", "frank", "zoë"])
            result = "Failed" if rng.random() < 0.15 else "Success"
            out.append(pre + f"Initiator : admin@carbon.super | Action : {action} | Target : {target} "
                             f"| Data : {{ Roles : }} | Result : {result} ")
    return out


def write_demo(out: Path) -> None:
    """The demo set bundled in samples/: two MI nodes, an API Manager node and an Identity Server node."""
    if out.exists():
        shutil.rmtree(out)
    start, days = DEMO_START, DEMO_DAYS
    write_mi_node(out, "mi-node-1", 1, start, days, gz_before=12, skip_days=(15,),
                  extras={4: doc_lines(start + timedelta(days=4, hours=9)),
                          9: broken_lines(start + timedelta(days=9, hours=16, minutes=20))})
    write_mi_node(out, "mi-node-2", 2, start, days, gz_before=5, crlf=True)
    # an operator's gzipped copy of a rotated file beside the original: identical content
    logs2 = out / "mi-node-2" / "repository" / "logs"
    original = logs2 / ROTATED.format(start + timedelta(days=8))
    (logs2 / (original.name + ".gz")).write_bytes(gzip.compress(original.read_bytes(), mtime=0))
    # a Latin-1 byte in a line written by a misconfigured appender
    with (logs2 / ROTATED.format(start + timedelta(days=10))).open("ab") as f:
        f.write(b"[2026-11-05 23:41:07,311]  INFO {AUDIT_LOG} - Jos\xe9 logged in at "
                b"[Thu Nov 05 23:41:07 UTC 2026]\r\n")
    rng = random.Random(3)
    apim = out / "apim-node" / "repository" / "logs"
    lines = apim_lines(rng, start, days)
    # rotated by the operator's logrotate (dateext, compress) two weeks in: audit.log-YYYYMMDD.gz, then audit.log
    cut = start + timedelta(days=14)
    # the first record written on the day of the rotation (a record's continuation lines stay with it)
    end = next((i for i, ln in enumerate(lines) if ln.startswith("TID") and ln[14:33] >= _ts(cut)[:19]), len(lines))
    _write(apim / f"audit.log-{cut:%Y%m%d}", lines[:end], gz=True)
    _write(apim / "audit.log", lines[end:])
    ids = out / "is-node" / "repository" / "logs"
    for i in range(0, days, 3):
        day = start + timedelta(days=i)
        _write(ids / f"audit-{day:%m-%d-%Y}.1.log", is_lines(rng, day, upgraded=i >= days // 2))
    # another product's log in the same folder: not an audit log, left alone
    _write(out / "mi-node-1" / "repository" / "logs" / "wso2carbon.log",
           [f"[{_ts(start)}]  INFO {{org.wso2.micro.integrator.initializer.deployment}} - Server started"])


def write_mi_corpus(out: Path, lines: int, days: int = 30, seed: int = 7, node: str = "mi-bench") -> int:
    """A large single-node MI set rotated daily (benchmarks): 400 change records repeated over and over, and
    sign-in/out lines whose inner time is their own line's time; returns the bytes written."""
    rng = random.Random(seed)
    logs = out / node / "repository" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    rests = [mi_json(DEMO_START, rng.choice(MI_USERS), *_mi_change(rng))[24:] for _ in range(400)]
    rests += [f"]  INFO {{AUDIT_LOG}} - {u} logged {v} at [" for u in MI_USERS for v in ("in", "out")]
    per_day = lines // days
    counts = [per_day] * (days - 1) + [lines - per_day * (days - 1)]
    day_ms = [int((DEMO_START + timedelta(days=i) - datetime(1970, 1, 1)).total_seconds() * 1000) for i in range(days)]
    frame = pl.DataFrame({
        "day": pl.Series([i for i, n in enumerate(counts) for _ in range(n)], dtype=pl.UInt16),
        "idx": pl.Series(rng.choices(range(len(rests)), k=lines), dtype=pl.UInt32)})
    t = pl.from_epoch(pl.col("day").cast(pl.Int64).replace_strict(range(days), day_ms)
                      + pl.int_range(pl.len()).over("day") * (86_400_000 // pl.len().over("day")), "ms")
    rest = pl.col("idx").replace_strict(range(len(rests)), rests, return_dtype=pl.String)
    inner = pl.when(pl.col("idx") >= 400).then(t.dt.strftime("%a %b %d %H:%M:%S UTC %Y") + "]").otherwise(pl.lit(""))
    frame = frame.select("day", pl.concat_str([pl.lit("["), t.dt.strftime("%Y-%m-%d %H:%M:%S,%3f"), rest, inner])
                         .alias("text"))
    total = 0
    for part in frame.partition_by("day", maintain_order=True):
        i = part["day"][0]
        data = ("\n".join(part["text"].to_list()) + "\n").encode()
        name = "audit.log" if i == days - 1 else ROTATED.format(DEMO_START + timedelta(days=i))
        (logs / name).write_bytes(data)
        total += len(data)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m audit_lib.demo.sampledata", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("samples").add_argument("out", type=Path)
    corpus = sub.add_parser("corpus")
    corpus.add_argument("out", type=Path)
    corpus.add_argument("--lines", type=int, default=2_000_000)
    corpus.add_argument("--days", type=int, default=30)
    add_estate_arguments(sub.add_parser("estate", help="a fleet of MI, API-M and IS nodes over months",
                                        description=sample_estate.__doc__,
                                        formatter_class=argparse.RawDescriptionHelpFormatter))
    args = parser.parse_args()
    if args.cmd == "samples":
        write_demo(args.out)
    elif args.cmd == "estate":
        run_estate(args, parser.error)
    else:
        if args.lines < 1 or args.days < 1 or args.lines < args.days:
            parser.error("--lines and --days must be positive, with at least one line a day")
        print(f"{write_mi_corpus(args.out, args.lines, args.days):,} bytes written to {args.out}")


if __name__ == "__main__":
    main()
