"""A realistic estate of WSO2 nodes: months of Micro Integrator, API Manager and Identity Server audit logs,
written and rotated as the products write them (benchmarks, demos, trying the app on a fleet). It is one piece:
a single generator whose products, calendar, rotation and incidents share one random stream (the same seed must
give the same bytes), so its parts are sections here rather than modules.

    python -m audit_lib.demo.sampledata estate OUT --nodes mi1,mi2,mi3,apim1,is1 --start 2026-01-01 --days 330 \\
        --rotate daily --gzip-after 30 --events-per-day 40 --seed 1

Every node gets `OUT/<node>/repository/logs/` (where MI 4.0/4.1, API-M and IS keep audit.log; MI 4.2+ may
use `<node>/logs`, which this generator does not write). Rotation as shipped: one `audit-MM-dd-yyyy.log` per
day (IS: `audit-MM-dd-yyyy.1.log`), the last day as `audit.log`. With `--rotate 10MB` a day is also cut every
10 MB and its archives are numbered `audit-MM-dd-yyyy.N.log` for every product (the `%i` pattern operators
add: the shipped MI/API-M pattern has no `%i` and would overwrite earlier archives of the same day, which
this generator does not imitate so that no line is lost). `--gzip-after N` gzips the archives of days more
than N days before the last one. A node's day with no event gets no file, as with log4j2; the generator
gives every day at least one event.

What the lines hold (see the products' formats): MI change records in compact JSON with `info` as a
JSON-encoded string, sign-in/out lines whose inner time is the line's own time as `java.util.Date.toString()`
in the node's zone, hundreds of artifacts, a dozen users plus `anonymous`, a few ERROR lines followed by a
stack trace; API-M lines with `TID: [-1234] `, `typ` and `info` as an object, sign-ins from IP addresses,
failed logins, REST calls with resource ids; IS pipe records (users, roles, applications; "Add Role" data
over several lines), `Initiator=... Outcome=...` records with masked values, and the authentication
framework's `Action : Login` records (`Initiator : null` on a failure). Work hours and weekdays are busier
than nights and weekends, some days carry a deployment burst, a few are quiet. The same seed gives the same
bytes.

Ordinary work creates no administrator and runs no management API without authentication. `incidents=N`
(`--incidents N`) plants N incidents, each of a different rule of INCIDENTS, at most one a week after the first
month, drawn from their own random stream so that the ordinary work stays the same; `Written.incidents` lists
them and `incident_findings` tells which findings are about each.
"""

from __future__ import annotations

import bisect
import gzip
import json
import os
import random
import shutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

PRODUCTS = ("mi", "apim", "is")
# how a node's name tells its product (first match wins)
NAME_PREFIXES = (("apim", "apim"), ("apimgt", "apim"), ("am", "apim"), ("identity", "is"), ("iam", "is"),
                 ("is", "is"), ("mi", "mi"), ("esb", "mi"), ("ei", "mi"), ("integrator", "mi"))
TEN_MB = 10 * 1024 * 1024
DAY_MS = 86_400_000
HOUR_MS = 3_600_000

# sessions started per hour of the local day (weekdays, weekends)
WORK_HOURS = [1, 1, 1, 1, 1, 2, 4, 9, 20, 30, 32, 30, 22, 28, 32, 30, 26, 16, 9, 6, 4, 3, 2, 1]
WEEKEND_HOURS = [2, 1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 5, 5, 5, 5, 4, 4, 3, 3, 3, 3, 2, 2]
WEEKDAY_LOAD = [1.0, 1.05, 1.0, 1.0, 0.9, 0.3, 0.2]  # Monday .. Sunday
QUIET_DAYS, BURST_DAYS = 0.03, 0.08  # shares of days

DOMAINS = ["Order", "Payment", "Customer", "Inventory", "Invoice", "Shipment", "Claim", "Patient", "Policy",
           "Account", "Loyalty", "Pricing", "Refund", "Notification", "Partner", "Supplier", "Employee", "Payroll",
           "Ledger", "Catalog", "Booking", "Quote", "Return", "Warehouse", "Fleet", "Billing", "Subscription",
           "Lead", "Ticket", "Appointment", "Prescription", "Card", "Loan", "Transfer", "Statement", "Fraud", "Kyc",
           "Product", "Promotion", "Tax"]
FIRST = ["nimal", "sarah", "raj", "li", "ana", "tom", "priya", "kamal", "maria", "john", "chen", "fatima", "omar",
         "elena", "kasun", "dilani", "ahmed", "sofia", "lucas", "mei", "ravi", "nuwan", "grace", "ivan", "zoë",
         "josé", "amara", "yuki", "noah", "leila"]
LAST = ["perera", "jones", "kumar", "wei", "lopez", "hill", "shah", "silva", "garcia", "smith", "zhang", "khan",
        "haddad", "petrova", "fernando", "jayasuriya", "ali", "rossi", "martin", "tan", "iyer", "bandara", "obi",
        "novak", "müller", "santos", "okafor", "sato", "brown", "nasser"]

MI_USERS = {"admin": 8, "deploy-bot": 6, "ci-pipeline": 5, "jane.ops": 5, "raj.k": 4, "monitor-svc": 4,
            "priya.s": 3, "ops-oncall": 3, "tom.h": 2, "li.wei": 2, "ana.lopez": 2, "josé": 1}
MI_DEPLOYERS = ["deploy-bot", "ci-pipeline", "admin"]
MI_LOGGERS = ["org-apache-synapse", "org-apache-synapse-transport-http-headers",
              "org-apache-synapse-transport-http-wire", "synapse-api", "org-wso2-carbon", "org-apache-hive",
              "correlation", "org-apache-axis2",
              "org-wso2-micro-integrator-security", "org-apache-kafka", "com-atomikos", "org-wso2-carbon-mediation",
              "org-apache-synapse-mediators-builtin-LogMediator", "org-wso2-micro-integrator-initializer"]
LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR", "TRACE", "OFF", "INFO", "DEBUG", "INFO"]
CONNECTORS = ["salesforce", "kafkaTransport", "email", "file", "googlespreadsheet", "amazons3", "ldap", "db",
              "rabbitmq", "servicenow", "jira", "twilio"]
# MI change kinds and how often operators make them
MI_KINDS = {"proxy_service": 12, "proxy_service_trace": 4, "endpoint": 10, "endpoint_trace": 3,
            "message_processor": 8, "carbon_application": 6, "connector": 1, "log_level": 8, "root_log_level": 1,
            "api_trace": 4, "sequence_trace": 3, "inbound_endpoint_trace": 2, "inbound_endpoint": 1,
            "sequence_template_trace": 1, "registry_resource": 4, "registry_resource_properties": 3, "user": 3}
# artifact families: type of change -> (info key, name forms, share of the catalogue)
MI_FAMILIES = {
    "proxy": ("proxyName", ["{d}Proxy", "{d}SyncProxy", "{d}StatusProxy", "{d}BatchProxy", "Legacy{d}Proxy",
                            "{d}SoapProxy"], 0.20),
    "endpoint": ("endpointName", ["{d}ServiceEP", "{d}DB_EP", "{d}BackendEP", "{d}SandboxEP", "Legacy{d}EP"], 0.18),
    "processor": ("messageProcessorName", ["{d}RetryProcessor", "{d}Forwarder", "{d}DLCProcessor",
                                           "{d}SamplingProcessor"], 0.08),
    "capp": ("cAppFileName", ["{d}Integration", "{d}Flows", "{d}CompositeExporter"], 0.08),
    "api": ("apiName", ["{d}API", "{d}API_v2", "{d}MgmtAPI"], 0.10),
    "sequence": ("sequenceName", ["{d}InSequence", "{d}OutSequence", "{d}FaultSequence", "{d}ErrorHandler"], 0.12),
    "inbound": ("inboundEndpointName", ["{d}JMSInbound", "{d}FileInbound", "{d}KafkaInbound", "{d}RabbitMQInbound",
                                        "{d}HttpInbound"], 0.08),
    "template": ("sequenceName", ["{d}CallTemplate", "{d}LogTemplate"], 0.03),
    "registry": ("registryResourceName", ["conf:/{l}/config.xml", "gov:/endpoints/{l}.xml", "conf:/schemas/{l}.xsd",
                                          "gov:/xslt/{l}-transform.xslt", "conf:/{l}/mapping.json"], 0.10),
    "logger": ("loggerName", ["com-acme-{l}-mediator"], 0.03),
}
MI_TOGGLES = {"proxy_service": "proxy", "proxy_service_trace": "proxy", "endpoint": "endpoint",
              "endpoint_trace": "endpoint", "message_processor": "processor", "api_trace": "api",
              "sequence_trace": "sequence", "inbound_endpoint_trace": "inbound"}
MI_ERRORS = [
    ["org.wso2.micro.integrator.management.apis.ManagementApiUndefinedException: Error while processing {n}",
     "\tat org.wso2.micro.integrator.management.apis.CarbonAppResource.handleDelete(CarbonAppResource.java:187)",
     "\tat org.wso2.micro.integrator.management.apis.CarbonAppResource.invoke(CarbonAppResource.java:92)",
     "\tat org.wso2.micro.integrator.management.apis.ManagementResource.dispatch(ManagementResource.java:71)",
     "Caused by: java.nio.file.AccessDeniedException: /home/wso2/wso2mi/repository/deployment/server/{n}",
     "\tat sun.nio.fs.UnixException.translateToIOException(UnixException.java:90)",
     "\t... 12 more"],
    ["org.apache.synapse.SynapseException: Unable to update the state of {n}",
     "\tat org.wso2.micro.integrator.management.apis.ProxyServiceResource.changeProxyState("
     "ProxyServiceResource.java:250)",
     "\tat org.wso2.micro.integrator.management.apis.ProxyServiceResource.handlePost(ProxyServiceResource.java:118)",
     "\tat org.wso2.micro.integrator.management.apis.ProxyServiceResource.invoke(ProxyServiceResource.java:84)",
     "\t... 9 more"],
    ["java.lang.IllegalStateException: Registry resource {n} is locked by another operation",
     "\tat org.wso2.micro.integrator.registry.MicroIntegratorRegistry.put(MicroIntegratorRegistry.java:612)",
     "\tat org.wso2.micro.integrator.management.apis.RegistryResource.handlePut(RegistryResource.java:301)",
     "Caused by: java.io.IOException: Resource busy",
     "\tat java.base/sun.nio.ch.FileDispatcherImpl.lock0(Native Method)",
     "\t... 7 more",
     "\tSuppressed: java.io.IOException: Stream closed",
     "\t\tat java.base/java.io.BufferedOutputStream.flush(BufferedOutputStream.java:142)"],
]

APIM_USERS = {"admin": 6, "publisher1": 5, "creator1": 4, "api-owner": 3, "apictl-ci": 5, "devops-apim": 2,
              "nimal.p": 2, "sarah.j": 2, "subscriber1": 4, "dev.portal.user": 3, "mobile-team": 3, "partner-dev": 2}
APIM_TENANT_USERS = {"dev3@acme.com": 2, "finance-admin@acme.com": 1}
APIM_ROLES = {"admin": "admin", "publisher1": "pub", "creator1": "pub", "api-owner": "pub", "apictl-ci": "pub",
              "devops-apim": "admin", "nimal.p": "pub", "sarah.j": "dev", "subscriber1": "dev",
              "dev.portal.user": "dev", "mobile-team": "dev", "partner-dev": "dev", "dev3@acme.com": "dev",
              "finance-admin@acme.com": "admin"}
APIM_BAD_NAMES = ["root", "test", "administrator", "guest", "mallory", "bob", "admin1"]
IS_ADMINS = {"admin@carbon.super": 5, "iam-admin@carbon.super": 4, "helpdesk1@carbon.super": 3,
             "scim-provisioner@carbon.super": 2}
IS_APPS = ["Console", "MyAccount", "hr-portal", "billing-web", "mobile-banking", "partner-portal", "crm",
           "pickup-dispatch", "pickup-manager", "grafana", "jenkins", "servicenow"]
IS_ROLES = ["Internal/everyone", "Internal/devops", "Internal/helpdesk", "Internal/subscriber", "Internal/creator",
            "Internal/publisher", "admin", "Application/hr-portal", "Application/billing-web", "finance",
            "auditors", "contractors"]
IS_GRANTS = [r for r in IS_ROLES if r != "admin"]  # roles given in ordinary work: admin is granted by an incident
IS_PERMISSIONS = ["/permission/admin/login", "/permission/admin/manage/identity/usermgt/view",
                  "/permission/admin/manage/identity/usermgt/update", "/permission/admin/manage/identity/rolemgt",
                  "/permission/admin/manage/identity/applicationmgt/view", "/permission/admin/monitor/logs"]
IS_CLAIMS = ["http://wso2.org/claims/mobile", "http://wso2.org/claims/emailaddress",
             "http://wso2.org/claims/telephone", "http://wso2.org/claims/lastname", "http://wso2.org/claims/country"]


def product_of(node: str) -> str:
    """The product a node's name tells (mi1 -> mi, apim1 -> apim, is1 -> is)."""
    low = node.lower()
    for prefix, product in NAME_PREFIXES:
        if low.startswith(prefix):
            return product
    raise ValueError(f"Cannot tell the product of node {node!r} from its name: start it with mi, apim or is, "
                     "or give the products")


def _seed(*parts: object) -> int:
    return zlib.crc32("\0".join(map(str, parts)).encode())


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _key(rng: random.Random, n: int = 28) -> str:
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choices(chars, k=n))


def _enc(info: dict) -> str:
    """`info` as MI writes it: compact JSON, then encoded again as a JSON string."""
    return json.dumps(json.dumps(info, separators=(",", ":"), ensure_ascii=False), ensure_ascii=False)


def _count(rng: random.Random, mean: float) -> int:
    """A count with the given mean: mostly small, now and then large (exponential, rounded)."""
    return int(rng.expovariate(1.0 / mean) + 0.5) if mean > 0 else 0


@dataclass
class Catalogue:
    """What an estate is made of, shared by its nodes (a cluster runs the same artifacts)."""

    mi: dict[str, list[str]]
    mi_user_ids: list[str]
    apis: list[tuple[str, str, str, str]]  # uuid, name, context, version
    apps: list[tuple[str, str, str]]  # uuid, name, owner
    keys: dict[str, str]  # portal -> consumer key
    policies: list[tuple[str, str]]  # uuid, name
    end_users: list[str]
    is_apps: dict[str, str]  # service provider -> client id

    @classmethod
    def build(cls, seed: int, artifacts: int) -> Catalogue:
        rng = random.Random(_seed("catalogue", seed))
        mi: dict[str, list[str]] = {}
        for family, (_key_name, forms, share) in MI_FAMILIES.items():
            names = [f.format(d=d, l=d.lower()) for d in DOMAINS for f in forms]
            rng.shuffle(names)
            mi[family] = sorted(names[:max(3, round(artifacts * share))])
        people = [f"{f}.{last}" for f in FIRST for last in LAST]
        rng.shuffle(people)
        user_ids = people[:30] + [f"svc-{d.lower()}" for d in rng.sample(DOMAINS, 8)] + ["user4", "auditor1",
                                                                                            "tmp-contractor"]
        apis = []
        for d in rng.sample(DOMAINS, min(len(DOMAINS), max(5, artifacts // 10))):
            for v in ("1.0.0", "2.0.0")[: rng.randint(1, 2)]:
                apis.append((_uuid(rng), f"{d}API", f"/{d.lower()}/{v}", v))
        owners = [u for u, role in APIM_ROLES.items() if role == "dev"]
        apps = [(_uuid(rng), f"{rng.choice(DOMAINS)}{rng.choice(['App', 'Portal', 'Mobile', 'Sync', 'Web'])}",
                 rng.choice(owners)) for _ in range(max(5, artifacts // 8))]
        keys = {p: _key(rng) for p in ("publisher", "devportal", "admin", "apictl")}
        policies = [(_uuid(rng), n) for n in ("Gold", "Silver", "Bronze", "Unlimited", "10PerMin", "PartnerTier")]
        end_users = people[30:630]
        is_apps = {a: _key(rng) for a in IS_APPS}
        return cls(mi, user_ids, apis, apps, keys, policies, end_users, is_apps)


@dataclass
class Lines:
    """Audit events of one node before they are rendered as text (columns, one entry per event)."""

    t: list[int] = field(default_factory=list)  # epoch ms of the line
    inner: list[int] = field(default_factory=list)  # epoch ms of the time written inside the message
    kind: list[int] = field(default_factory=list)  # inner time form: 0 none, 1 Date.toString, 2 API-M in, 3 out
    level: list[str] = field(default_factory=list)
    pre: list[str] = field(default_factory=list)  # API-M tenant id, IS correlation id
    msg: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)  # after the inner time, and any following lines

    def add(self, t: int, msg: str, level: str = " INFO", pre: str = "", kind: int = 0, tail: str = "",
            inner: int = 0) -> None:
        self.t.append(t)
        self.inner.append(inner or t)
        self.kind.append(kind)
        self.level.append(level)
        self.pre.append(pre)
        self.msg.append(msg)
        self.tail.append(tail)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame({"t": self.t, "inner": self.inner, "kind": self.kind, "level": self.level,
                             "pre": self.pre, "msg": self.msg, "tail": self.tail},
                            schema={"t": pl.Int64, "inner": pl.Int64, "kind": pl.Int8, "level": pl.String,
                                    "pre": pl.String, "msg": pl.String, "tail": pl.String})


class NodeWriter:
    """Makes one node's events day by day; `session` and `burst` are per product."""

    def __init__(self, product: str, cat: Catalogue, rng: random.Random, session_changes: float) -> None:
        self.product, self.cat, self.rng, self.mean = product, cat, rng, session_changes
        self.out = Lines()
        users = {"mi": MI_USERS, "apim": APIM_USERS | APIM_TENANT_USERS, "is": IS_ADMINS}[product]
        self.users, self.user_weights = list(users), list(users.values())
        self.ips = {u: f"10.{rng.randint(10, 40)}.{rng.randint(0, 9)}.{rng.randint(2, 250)}" for u in users}
        self.anonymous = False  # the management API runs without authentication only as a planted incident
        self.masked = rng.random() < 0.5  # IS: user names masked in the key=value records
        self.session: Callable[[int], int] = getattr(self, f"_{product}_session")
        self.burst: Callable[[int, int, int], None] = getattr(self, f"_{product}_burst")

    def day(self, start_ms: int, day_index: int, weekday: int, events: int) -> None:
        """About `events` events on the day starting at `start_ms` (local midnight, epoch ms)."""
        rng = self.rng
        weights = WORK_HOURS if weekday < 5 else WEEKEND_HOURS
        done = 0
        while done < events:
            hours = rng.choices(range(24), weights=weights, k=max(8, (events - done) // 3))
            for h in hours:
                done += self.session(start_ms + h * HOUR_MS + rng.randrange(HOUR_MS))
                if done >= events:
                    break

    # --- Micro Integrator -------------------------------------------------------------------------------------
    def _mi_change(self, t: int, user: str, kind: str | None = None, deploy: bool = False) -> int:
        rng, cat = self.rng, self.cat
        kind = kind or rng.choices(list(MI_KINDS), weights=list(MI_KINDS.values()))[0]
        if kind in MI_TOGGLES:
            family = MI_TOGGLES[kind]
            name = rng.choice(cat.mi[family])
            action = rng.choice(("enabled", "disabled"))
            info = _enc({MI_FAMILIES[family][0]: name})
        elif kind == "carbon_application":
            name = rng.choice(cat.mi["capp"])
            day = t // DAY_MS
            version = f"{1 + day // 120}.{(day // 9) % 10}.{(day + len(name)) % 7}"
            action = rng.choice(("created", "created", "deleted")) if not deploy else "created"
            name = f"{name}_{version}.car"
            info = _enc({"cAppFileName": name})
        elif kind == "connector":
            name = rng.choice(CONNECTORS)
            action, info = "created", _enc({"connectorName": name, "packageName": "org.wso2.carbon.connector",
                                            "status": rng.choice(("enabled", "disabled"))})
        elif kind == "log_level":
            level = rng.choice(LOG_LEVELS)
            if rng.random() < 0.15:
                name = rng.choice(cat.mi["logger"])
                cls = "com.acme." + name.split("-")[2] + ".mediator." + name.split("-")[2].title() + "Mediator"
                action, info = "created", _enc({"loggerName": name, "loggingLevel": level, "loggerClass": cls})
            else:
                name = rng.choice(MI_LOGGERS)
                action, info = "updated", _enc({"loggerName": name, "loggingLevel": level})
        elif kind == "root_log_level":
            name, action = "root", "updated"
            info = _enc({"loggerName": "root", "loggingLevel": rng.choice(("INFO", "DEBUG", "WARN", "ERROR"))})
        elif kind == "inbound_endpoint":
            name, action = rng.choice(cat.mi["inbound"]), "disabled"
            info = _enc({"inboundEndpointName": name})
        elif kind == "sequence_template_trace":
            name, action = rng.choice(cat.mi["template"]), rng.choice(("enabled", "disabled"))
            info = _enc({"sequenceName": name, "sequenceType": "sequence"})
        elif kind == "registry_resource":
            name, action = rng.choice(cat.mi["registry"]), rng.choice(("created", "updated", "updated", "deleted"))
            info = _enc({"registryResourceName": name})
        elif kind == "registry_resource_properties":
            name = rng.choice(cat.mi["registry"])
            if rng.random() < 0.6:
                props = {"owner": rng.choice(("ops", "integration-team", "payments")),
                         "ttl": str(rng.choice((60, 300, 900, 3600, 86400)))}
                action, info = rng.choice(("created", "updated")), _enc({"registryResourceName": name,
                                                                          "list": props})
            else:
                action, info = "deleted", _enc({"registryResourceName": name, "propertyName": rng.choice(
                    ("ttl", "owner", "cacheable"))})
        else:  # user
            name = rng.choice(cat.mi_user_ids)
            action = rng.choice(("created", "created", "deleted", "updated"))
            # ordinary accounts: an administrator created is an incident (see INCIDENTS)
            info = _enc({"isAdmin": False, "userId": name} if action == "created" else {"userId": name})
        msg = f'{{"performedBy":"{user}","action":"{action}","type":"{kind}","info":{info}}}'
        if rng.random() < 0.002:  # the change failed: ERROR and the stack trace on the lines below
            trace = rng.choice(MI_ERRORS)
            self.out.add(t, msg, level="ERROR", tail="\n" + "\n".join(trace).replace("{n}", name))
            return len(trace) + 1
        self.out.add(t, msg)
        return 1

    def _mi_session(self, t: int) -> int:
        rng, out = self.rng, self.out
        if self.anonymous and rng.random() < 0.04:  # no sign-in when the management API runs without security
            return self._mi_change(t, "anonymous")
        user = rng.choices(self.users, weights=self.user_weights)[0]
        out.add(t, f"{user} logged in at [", kind=1, tail="]")
        lines = 1
        for _ in range(_count(rng, self.mean)):
            t += rng.randint(2_000, 600_000)
            lines += self._mi_change(t, user)
        if rng.random() < 0.85:  # other sessions simply expire
            t += rng.randint(1_000, 300_000)
            out.add(t, f"{user} logged out at [", kind=1, tail="]")
            lines += 1
        return lines

    def _mi_burst(self, t: int, events: int, day_index: int) -> None:
        """A release: CApps redeployed, proxies switched off and on, log levels raised and lowered."""
        rng, out, done = self.rng, self.out, 0
        while done < events:
            user = rng.choice(MI_DEPLOYERS)
            out.add(t, f"{user} logged in at [", kind=1, tail="]")
            done += 1
            for _ in range(rng.randint(5, 40)):
                t += rng.randint(300, 20_000)
                kind = rng.choices(("carbon_application", "proxy_service", "endpoint", "log_level",
                                    "message_processor", "inbound_endpoint_trace"), weights=(5, 3, 2, 2, 1, 1))[0]
                done += self._mi_change(t, user, kind, deploy=True)
            t += rng.randint(1_000, 60_000)
            out.add(t, f"{user} logged out at [", kind=1, tail="]")
            done += 1
            t += rng.randint(10_000, 900_000)

    # --- API Manager ------------------------------------------------------------------------------------------
    def _apim_pre(self, user: str) -> tuple[str, str]:
        """(TID, the user as the sign-in line names it)."""
        if "@" in user:
            return "1", f"{user} [1]"
        return "-1234", f"{user}@carbon.super [-1234]"

    def _apim_call(self, t: int, user: str, tid: str, verb: str, path: str, portal: str) -> None:
        self.out.add(t, f"{verb} {path} user: {user} app: {self.cat.keys[portal]}", pre=tid)

    def _apim_record(self, t: int, user: str, tid: str, action: str, typ: str, info: dict) -> None:
        body = json.dumps({"performedBy": user, "action": action, "typ": typ, "info": info},
                          separators=(",", ":"), ensure_ascii=False)
        self.out.add(t, body, pre=tid)

    def _apim_op(self, t: int, user: str, tid: str, role: str) -> tuple[int, int]:
        """One thing a portal user does: REST calls and, for a change, its audit record. Returns (t, lines)."""
        rng, cat = self.rng, self.cat
        pub, dev, adm = "/api/am/publisher/v4", "/api/am/devportal/v3", "/api/am/admin/v4"
        api_id, name, context, version = rng.choice(cat.apis)
        provider = user.split("@")[0] if role == "pub" else "admin"
        api_info = {"provider": provider, "name": name, "context": context, "version": version}
        portal = "apictl" if user == "apictl-ci" else {"pub": "publisher", "dev": "devportal", "admin": "admin"}[role]
        r = rng.random()
        if role == "dev":
            app_id, app_name, owner = rng.choice(cat.apps)
            if r < 0.55:
                path = rng.choice((f"{dev}/apis", f"{dev}/apis/{api_id}", f"{dev}/apis/{api_id}/swagger",
                                   f"{dev}/applications", f"{dev}/applications/{app_id}",
                                   f"{dev}/applications/{app_id}/keys/PRODUCTION", f"{dev}/subscriptions"))
                self._apim_call(t, user, tid, "GET", path, portal)
                return t, 1
            if r < 0.75:
                self._apim_call(t, user, tid, "POST", f"{dev}/subscriptions", portal)
                policy = rng.choice(cat.policies)[1]
                self._apim_record(t + 3, user, tid, rng.choice(("created", "created", "deleted")), "Subscription",
                                  {"application_name": app_name, "api_name": name, "version": version,
                                   "provider": provider, "tier": policy})
                return t + 3, 2
            if r < 0.9:
                self._apim_call(t, user, tid, "POST", f"{dev}/applications/{app_id}/generate-keys", portal)
                return t, 1
            action = rng.choice(("created", "updated", "deleted"))
            verb = {"created": "POST", "updated": "PUT", "deleted": "DELETE"}[action]
            self._apim_call(t, user, tid, verb, f"{dev}/applications" + ("" if verb == "POST" else f"/{app_id}"),
                            portal)
            self._apim_record(t + 4, user, tid, action, "Application",
                              {"name": app_name, "tier": "Unlimited", "owner": owner, "callbackURL": ""})
            return t + 4, 2
        if role == "admin" and r < 0.3:
            policy_id, policy = rng.choice(cat.policies)
            self._apim_call(t, user, tid, rng.choice(("GET", "PUT")),
                            f"{adm}/throttling/policies/subscription/{policy_id}", portal)
            return t, 1
        if r < 0.5:
            path = rng.choice((f"{pub}/apis", f"{pub}/apis/{api_id}", f"{pub}/apis/{api_id}/swagger",
                               f"{pub}/apis/{api_id}/revisions", f"{pub}/apis/{api_id}/documents",
                               f"{pub}/apis/{api_id}/deployments", f"{pub}/apis/{api_id}/lifecycle-state"))
            self._apim_call(t, user, tid, "GET", path, portal)
            return t, 1
        if r < 0.62:
            self._apim_call(t, user, tid, "PUT", f"{pub}/apis/{api_id}", portal)
            self._apim_record(t + 2, user, tid, "updated", "API", api_info)
            return t + 2, 2
        if r < 0.8:
            rev = _uuid(rng)
            self._apim_call(t, user, tid, "POST", f"{pub}/apis/{api_id}/revisions", portal)
            t += rng.randint(500, 5_000)
            self._apim_call(t, user, tid, "POST", f"{pub}/apis/{api_id}/deploy-revision?revisionId={rev}", portal)
            self._apim_record(t + 5, user, tid, rng.choice(("deployed", "deployed", "undeployed")), "API",
                              {**api_info, "revisionId": rev, "gatewayEnvironment": "Default"})
            return t + 5, 3
        if r < 0.9:
            state = rng.choice(("Publish", "Deploy as a Prototype", "Block", "Deprecate", "Demote to Created"))
            self._apim_call(t, user, tid, "POST", f"{pub}/apis/change-lifecycle?apiId={api_id}&action="
                            + state.replace(" ", "%20"), portal)
            self._apim_record(t + 3, user, tid, "lifecycle-changed", "API", {**api_info, "lifecycleAction": state})
            return t + 3, 2
        action = rng.choice(("created", "created", "deleted"))
        verb = "POST" if action == "created" else "DELETE"
        self._apim_call(t, user, tid, verb, f"{pub}/apis" + ("" if verb == "POST" else f"/{api_id}"), portal)
        typ = "APIProduct" if rng.random() < 0.1 else "API"
        self._apim_record(t + 6, user, tid, action, typ, api_info)
        return t + 6, 2

    def _apim_session(self, t: int) -> int:
        rng, out = self.rng, self.out
        user = rng.choices(self.users, weights=self.user_weights)[0]
        tid, signed = self._apim_pre(user)
        ip = self.ips[user] if rng.random() < 0.9 else f"192.168.{rng.randint(0, 9)}.{rng.randint(2, 250)}"
        if rng.random() < 0.06:  # a wrong password, or someone trying names
            for _ in range(rng.choice((1, 1, 1, 2, 5))):
                who = rng.choice(APIM_BAD_NAMES) if rng.random() < 0.4 else user.split("@")[0]
                out.add(t, f"Login failed. Unauthorized login attempt '{who}[{tid}]' at [", level=" WARN", pre=tid,
                        kind=2, tail=f"] from IP address {ip}", inner=t - rng.randint(0, 2))
                t += rng.randint(1_000, 20_000)
            return 1
        out.add(t, f"'{signed}' logged in at [", pre=tid, kind=2, tail=f"] from IP address {ip}",
                inner=t - rng.randint(0, 2))
        lines = 1
        for _ in range(_count(rng, self.mean * 2)):
            t += rng.randint(1_000, 240_000)
            t, n = self._apim_op(t, user, tid, APIM_ROLES[user])
            lines += n
        if rng.random() < 0.7:
            t += rng.randint(1_000, 300_000)
            out.add(t, f"'{signed}' logged out at [", pre=tid, kind=3, tail="]", inner=t - rng.randint(0, 2))
            lines += 1
        return lines

    def _apim_burst(self, t: int, events: int, day_index: int) -> None:
        """A release pipeline: apictl deploys revisions of many APIs."""
        done = 0
        while done < events:
            tid, signed = self._apim_pre("apictl-ci")
            self.out.add(t, f"'{signed}' logged in at [", pre=tid, kind=2,
                         tail=f"] from IP address {self.ips['apictl-ci']}")
            done += 1
            for _ in range(self.rng.randint(3, 20)):
                t += self.rng.randint(1_000, 30_000)
                t, n = self._apim_op(t, "apictl-ci", tid, "pub")
                done += n
            t += self.rng.randint(60_000, 600_000)

    # --- Identity Server --------------------------------------------------------------------------------------
    def _is_admin_op(self, t: int, user: str) -> int:
        rng, cat, out = self.rng, self.cat, self.out
        corr = _uuid(rng)
        target = rng.choice(cat.end_users)
        r = rng.random()
        result = "Failed" if rng.random() < 0.06 else "Success"
        if r < 0.35:  # IS 5.10+ user-core records: key=value, values masked when masking is on
            shown = f"{target[0]}****{target[-1]}" if self.masked else target
            initiator = _uuid(rng) if rng.random() < 0.3 else user
            action = rng.choice(("Add-User", "Delete-User", "Set-User-Claim-Values", "Set-User-Claim-Values",
                                 "Update-Password-By-Admin", "Update-Roles-Of-User"))
            if action == "Set-User-Claim-Values":
                claim = rng.choice(IS_CLAIMS)
                value = f"{rng.randint(0, 9)}*******{rng.randint(0, 9)}" if self.masked else str(rng.randint(
                    10**8, 10**9))
                data = json.dumps({"Claims": {claim: value}}, separators=(",", ":"))
            else:
                data = json.dumps({"ServiceProviderName": rng.choice(("Console", "MyAccount", "SCIM2"))},
                                  separators=(",", ":"))
            out.add(t, f"Initiator={initiator} Action={action} Target={shown} Data={data} Outcome={result}",
                    pre=corr)
            return 1
        if r < 0.5:  # Add Role: its data runs over several lines
            role = f"Internal/{rng.choice(DOMAINS).lower()}-{rng.choice(('ops', 'viewers', 'admins'))}"
            members = ", ".join(rng.sample(cat.end_users, rng.randint(1, 4)))
            perms = rng.sample(IS_PERMISSIONS, rng.randint(1, 3))
            out.add(t, f"Initiator : {user} | Action : Add Role | Target : {role} | Data : {{ Users : [{members}]",
                    pre=corr, tail="\nPermissions : [" + ",\n".join(perms) + f"] }} | Result : {result} ")
            return 2 + len(perms) - 1
        if r < 0.8:
            action = rng.choice(("Add User", "Delete User", "Change Password by Administrator",
                                 "Update Roles of User", "Delete Role", "Update Users of Role"))
            if action.endswith("Role"):
                target = rng.choice(IS_ROLES)
                data = f"{{ Users : [{', '.join(rng.sample(cat.end_users, rng.randint(1, 3)))}] }}"
            elif action in ("Add User", "Update Roles of User"):
                data = f"{{ Roles : [{', '.join(rng.sample(IS_GRANTS, rng.randint(0, 3)))}] }}"
            else:
                data = "{ }"
        else:
            action = rng.choice(("Create Application", "Update Application", "Update Application",
                                 "Delete Application"))
            target = rng.choice(IS_APPS)
            data = f'{{ "ClientId" : "{cat.is_apps[target]}" }}'
        out.add(t, f"Initiator : {user} | Action : {action} | Target : {target} | Data : {data} | Result : {result} ",
                pre=corr)
        return 1

    def _is_login(self, t: int, fail: bool, who: str = "", app: str = "") -> None:
        rng = self.rng
        app = app or rng.choice(IS_APPS[2:])
        ctx = _uuid(rng)
        if fail:
            data = (f'{{ "ContextIdentifier" : "{ctx}","ServiceProviderName" : "{app}","RequestType" : "oidc",'
                    f'"RelyingParty" : "{self.cat.is_apps[app]}","StepNo" : "1" }}')
            initiator, result = who or "null", "Failed"
        else:
            user = who or rng.choice(self.cat.end_users)
            data = (f'{{ "ContextIdentifier" : "{ctx}","AuthenticatedUser" : "{user}",'
                    f'"AuthenticatedUserTenantDomain" : "carbon.super","ServiceProviderName" : "{app}",'
                    f'"RequestType" : "oidc","RelyingParty" : "{self.cat.is_apps[app]}",'
                    f'"AuthenticatedIdPs" : "LOCAL","StepNo" : "1" }}')
            initiator, result = f"{user}@carbon.super", "Success"
        self.out.add(t, f"Initiator : {initiator} | Action : Login | Target : ApplicationAuthenticationFramework "
                        f"| Data : {data} | Result : {result} ", pre=_uuid(rng))

    def _is_session(self, t: int) -> int:
        rng = self.rng
        r = rng.random()
        if r < 0.72:
            self._is_login(t, False)
            return 1
        if r < 0.8:  # failures come in small runs: a mistyped password, a script guessing
            n, who, app = rng.choice((1, 1, 2, 3, 8)), rng.choice(("null", "null", "null", "N/A")), rng.choice(
                IS_APPS[2:])
            for _ in range(n):
                self._is_login(t, True, who, app)
                t += rng.randint(500, 30_000)
            return n
        user = rng.choices(self.users, weights=self.user_weights)[0]
        lines = 0
        for _ in range(max(1, _count(rng, self.mean))):
            lines += self._is_admin_op(t, user)
            t += rng.randint(2_000, 300_000)
        return lines

    def _is_burst(self, t: int, events: int, day_index: int) -> None:
        """A bulk provisioning run: users added with their roles, one after the other."""
        for _ in range(events):
            t += self.rng.randint(50, 3_000)
            roles = ", ".join(self.rng.sample(IS_GRANTS, 2))
            self.out.add(t, f"Initiator : scim-provisioner@carbon.super | Action : Add User | Target : "
                            f"{self.rng.choice(self.cat.end_users)} | Data : {{ Roles : [{roles}] }} | Result : "
                            "Success ", pre=_uuid(self.rng))


# --- incidents -------------------------------------------------------------------------------------------------
# Each planted incident is what one named rule exists to find. They come from their own random stream, so an
# estate with incidents holds the same ordinary work as the one without, plus the incidents (and, for a gap, minus
# the days a node lost).

@dataclass(frozen=True)
class Incident:
    """One planted incident: the rule that should find it, the node, its local day, when it starts (epoch ms) and
    what happened; a gap covers `days` days from `day`."""

    rule: str
    node: str
    day: date
    t: int
    what: str
    days: int = 1

    def __str__(self) -> str:
        return f"{self.day} {self.node:<6} {self.rule:<36} {self.what}"


def _plant_admin(gen: NodeWriter, rng: random.Random, t: int) -> str:
    user, name = rng.choice(("admin", "ops-oncall", "raj.k")), f"svc-maint{rng.randint(2, 9)}"
    gen.out.add(t, f"{user} logged in at [", kind=1, tail="]")
    gen.out.add(t + 40_000, f'{{"performedBy":"{user}","action":"created","type":"user","info":'
                f'{_enc({"isAdmin": True, "userId": name})}}}')
    gen.out.add(t + 90_000, f"{user} logged out at [", kind=1, tail="]")
    return f"{user} created administrator {name}"


def _plant_guessing(gen: NodeWriter, rng: random.Random, t: int, then_in: bool, spray: bool = False) -> str:
    ip = f"185.{rng.randint(20, 200)}.{rng.randint(0, 255)}.{rng.randint(2, 250)}"
    victim = rng.choice(("admin", "publisher1", "devops-apim"))
    tid, signed = gen._apim_pre(victim)
    tries = rng.randint(6, 9) if then_in else rng.randint(14, 25)
    for _ in range(tries):
        who = rng.choice(APIM_BAD_NAMES + [victim]) if spray else victim
        gen.out.add(t, f"Login failed. Unauthorized login attempt '{who}[{tid}]' at [", level=" WARN", pre=tid,
                    kind=2, tail=f"] from IP address {ip}", inner=t)
        t += rng.randint(3_000, 25_000)
    if not then_in:
        return f"{tries} wrong passwords for {victim} from {ip}"
    gen.out.add(t, f"'{signed}' logged in at [", pre=tid, kind=2, tail=f"] from IP address {ip}", inner=t)
    for _ in range(3):
        t += rng.randint(5_000, 60_000)
        t, _n = gen._apim_op(t, victim, tid, APIM_ROLES[victim])
    how = "names tried" if spray else "wrong passwords"
    return f"{tries} {how} from {ip}, then signed in as {victim}"


def _plant_audit_level(gen: NodeWriter, rng: random.Random, t: int, level: str) -> str:
    user = rng.choice(("admin", "jane.ops", "tom.h"))
    gen.out.add(t, f"{user} logged in at [", kind=1, tail="]")
    gen.out.add(t + 30_000, f'{{"performedBy":"{user}","action":"updated","type":"log_level","info":'
                f'{_enc({"loggerName": "AUDIT_LOG", "loggingLevel": level})}}}')
    gen.out.add(t + 60_000, f"{user} logged out at [", kind=1, tail="]")
    return f"{user} set AUDIT_LOG to {level}"


def _plant_deletions(gen: NodeWriter, rng: random.Random, t: int) -> str:
    user, n = rng.choice(("ops-oncall", "li.wei", "admin")), rng.randint(14, 30)
    gen.out.add(t, f"{user} logged in at [", kind=1, tail="]")
    for name in rng.sample(gen.cat.mi["capp"], min(n, len(gen.cat.mi["capp"]))):
        t += rng.randint(5_000, 90_000)
        gen.out.add(t, f'{{"performedBy":"{user}","action":"deleted","type":"carbon_application","info":'
                    f'{_enc({"cAppFileName": name + "_1.0.0.car"})}}}')
    return f"{user} deleted {min(n, len(gen.cat.mi['capp']))} carbon applications"


def _plant_volume(gen: NodeWriter, rng: random.Random, t: int) -> str:
    user, n = rng.choice(("tom.h", "li.wei", "ana.lopez")), rng.randint(80, 120)
    gen.out.add(t, f"{user} logged in at [", kind=1, tail="]")
    for _ in range(n):
        t += rng.randint(5_000, 120_000)
        gen._mi_change(t, user, rng.choice(("proxy_service", "endpoint", "message_processor")))
    gen.out.add(t + 30_000, f"{user} logged out at [", kind=1, tail="]")
    return f"{user} made {n} changes in a few hours"


def _plant_anonymous(gen: NodeWriter, rng: random.Random, t: int) -> str:
    n = rng.randint(4, 12)
    for _ in range(n):
        t += rng.randint(60_000, 1_800_000)
        gen._mi_change(t, "anonymous", rng.choice(("proxy_service", "endpoint", "carbon_application")))
    return f"{n} changes through the management API with authentication off"


# rule -> (products it can happen on, how it is planted); planted in this order, one of each, as many as asked
INCIDENTS: dict[str, tuple[tuple[str, ...], Callable[[NodeWriter, random.Random, int], str]]] = {
    "privileged-account-created": (("mi",), _plant_admin),
    "failed-sign-in-burst": (("apim",), lambda g, r, t: _plant_guessing(g, r, t, then_in=False)),
    "sign-in-after-failures": (("apim",), lambda g, r, t: _plant_guessing(g, r, t, then_in=True)),
    "logging-stopped": (("mi",), lambda g, r, t: _plant_audit_level(g, r, t, "OFF")),
    "audit-logging-reduced": (("mi",), lambda g, r, t: _plant_audit_level(g, r, t, "ERROR")),
    "mass-deletion": (("mi",), _plant_deletions),
    "unusual-for-actor": (("mi",), _plant_volume),
    "audit-gap": (PRODUCTS, lambda g, r, t: "no audit file for three working days"),
    "anonymous-action": (("mi",), _plant_anonymous),
    "sign-in-after-failures-from-address": (("apim",), lambda g, r, t: _plant_guessing(g, r, t, True, True)),
}
GAP_DAYS = 3  # a planted gap: Monday to Wednesday without a file


def plan_incidents(count: int, nodes: list[str], products: list[str], start: date, days: int,
                   seed: int) -> list[Incident]:
    """`count` incidents of different rules (INCIDENTS, in order, skipping those no node's product can have),
    on working days spread over the period after its first month (a baseline needs history), one a week at most."""
    kinds = [(rule, [n for n, p in zip(nodes, products, strict=True) if p in prods])
             for rule, (prods, _plant) in INCIDENTS.items()]
    kinds = [(rule, hosts) for rule, hosts in kinds if hosts][:count]
    if count > len(kinds):
        raise ValueError(f"at most {len(kinds)} incidents of different rules can be planted on these nodes")
    first = min(30, days // 3)
    weeks = (days - first - 7) // 7
    if count > weeks:
        raise ValueError(f"{count} incidents need at least {first + 7 * (count + 1)} days (one a week at most)")
    rng = random.Random(_seed("incidents", seed))
    picked = sorted(rng.sample(range(weeks), count))
    order = list(range(count))
    rng.shuffle(order)
    out = []
    for k, week in zip(order, picked, strict=True):
        rule, hosts = kinds[k]
        monday = start + timedelta(days=first + 7 * week)
        monday -= timedelta(days=monday.weekday())
        monday = monday if monday >= start + timedelta(days=first) else monday + timedelta(days=7)
        day = monday if rule == "audit-gap" else monday + timedelta(days=rng.randint(0, 4))
        node = rng.choice(hosts)
        out.append(Incident(rule, node, day, 0, "", GAP_DAYS if rule == "audit-gap" else 1))
    return sorted(out, key=lambda i: (i.day, i.node))


@dataclass
class Written:
    """What was written: every file with its node, lines, text bytes and whether it is gzipped."""

    files: list[tuple[Path, str, int, int, bool]] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return sum(f[2] for f in self.files)

    @property
    def text_bytes(self) -> int:
        return sum(f[3] for f in self.files)


def render(df: pl.DataFrame, product: str, zone: str) -> pl.DataFrame:
    """The text of each event as the product writes it, with its local day."""
    local = pl.from_epoch("t", "ms").dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
    inner = pl.from_epoch("inner", "ms").dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
    inner_text = (pl.when(pl.col("kind") == 1).then(inner.dt.strftime("%a %b %d %H:%M:%S %Z %Y"))
                  .when(pl.col("kind") == 2).then(inner.dt.strftime("%Y-%m-%d %H:%M:%S,%3f%z"))
                  .when(pl.col("kind") == 3).then(inner.dt.strftime("%Y-%m-%d %H:%M:%S,0%3f"))
                  .otherwise(pl.lit("")))
    ts = local.dt.strftime("%Y-%m-%d %H:%M:%S,%3f")
    head = {"mi": [pl.lit("["), ts, pl.lit("] ")],
            "apim": [pl.lit("TID: ["), pl.col("pre"), pl.lit("] ["), ts, pl.lit("] ")],
            "is": [pl.lit("TID: [-1234] ["), ts, pl.lit("] ["), pl.col("pre"), pl.lit("] ")]}[product]
    text = pl.concat_str([*head, pl.col("level"), pl.lit(" {AUDIT_LOG} - "), pl.col("msg"), inner_text,
                          pl.col("tail")])
    return df.select(pl.col("t"), local.dt.date().alias("day"), text.alias("text"))


def _names(product: str, day: date, parts: int, rotate: str, last: bool) -> list[str]:
    """File names of one day's parts, oldest first (daily rotation gives one part)."""
    stamp = f"{day:%m-%d-%Y}"
    if rotate == "daily" and product != "is":
        names = [f"audit-{stamp}.log"]
    else:
        names = [f"audit-{stamp}.{i}.log" for i in range(1, parts + 1)]
    if last:
        names[-1] = "audit.log"
    return names


def _split(sizes: list[int], limit: int) -> list[int]:
    """Where log4j2's size trigger cuts a day: a file rolls once it holds more than `limit` bytes."""
    cum, total = [], 0
    for s in sizes:
        total += s
        cum.append(total)
    cuts, base = [], 0
    while True:
        i = bisect.bisect_right(cum, base + limit)  # the first line after which the file is over the limit
        if i >= len(cum) - 1:
            return cuts
        cuts.append(i + 1)
        base = cum[i]


def write_day_files(rendered: pl.DataFrame, logs: Path, node: str, product: str, rotate: str, last_day: date,
                    gzip_after: int | None, written: Written, size_limit: int = TEN_MB) -> None:
    """Write rendered events to the node's rotated files, one day (and size part) at a time."""
    limit = size_limit if rotate != "daily" else None
    for part in rendered.partition_by("day", maintain_order=True):
        day = part["day"][0]
        texts, times = part["text"].to_list(), part["t"].to_list()
        bounds = [0, len(texts)]
        if limit is not None:
            bounds = [0, *_split([s + 1 for s in part["text"].str.len_bytes().to_list()], limit), len(texts)]
        names = _names(product, day, len(bounds) - 1, rotate, day == last_day)
        gz = gzip_after is not None and (last_day - day).days > gzip_after
        for name, a, b in zip(names, bounds[:-1], bounds[1:], strict=True):
            data = ("\n".join(texts[a:b]) + "\n").encode("utf-8")
            path = logs / name
            zipped = gz and name != "audit.log"
            if zipped:
                path = path.with_name(name + ".gz")
                path.write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
            else:
                path.write_bytes(data)
            os.utime(path, (times[b - 1] / 1000, times[b - 1] / 1000))  # a file's time is that of its last line
            written.files.append((path, node, data.count(b"\n"), len(data), zipped))


def _day_events(rng: random.Random, mean: float, weekday: int) -> tuple[int, int]:
    """(ordinary events, burst events) of one node's day."""
    scale = 7 / sum(WEEKDAY_LOAD)
    n = mean * scale * WEEKDAY_LOAD[weekday] * rng.lognormvariate(-0.06, 0.35)
    if rng.random() < QUIET_DAYS:
        n *= 0.05
    burst = 0
    if weekday < 5 and rng.random() < BURST_DAYS:
        burst = round(mean * rng.uniform(0.3, 1.5))
    return max(1, round(n)), burst


def write_estate(out: Path, nodes: list[str], *, start: date, days: int, products: list[str] | None = None,
                 rotate: str = "daily", gzip_after: int | None = None, events_per_day: float = 40,
                 seed: int = 1, tz: str = "Asia/Kolkata", zones: dict[str, str] | None = None,
                 artifacts: int = 400, session_changes: float = 3.0, size_limit: int = TEN_MB,
                 incidents: int = 0) -> Written:
    """Write the estate under `out` (each node's folder is replaced); returns what was written. `size_limit` is
    where `rotate="10MB"` cuts a file (10 MB, as shipped). `incidents` plants that many incidents of different
    rules (see INCIDENTS and `plan_incidents`), listed in `Written.incidents`."""
    if rotate not in ("daily", "10MB"):
        raise ValueError(f"rotate must be 'daily' or '10MB', not {rotate!r}")
    if days < 1 or events_per_day <= 0:
        raise ValueError("days and events per day must be positive")
    if len(set(nodes)) != len(nodes) or not nodes:
        raise ValueError("give one or more distinct node names")
    products = products or [product_of(n) for n in nodes]
    if len(products) != len(nodes) or any(p not in PRODUCTS for p in products):
        raise ValueError(f"give one product ({', '.join(PRODUCTS)}) per node")
    zones = {n: (zones or {}).get(n, tz) for n in nodes}
    for z in zones.values():  # an unknown zone is reported before anything is written
        try:
            ZoneInfo(z)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"Unknown time zone {z!r}: use an IANA name such as UTC or Asia/Kolkata") from None
    if incidents < 0:
        raise ValueError("incidents must be 0 or more")
    plan = plan_incidents(incidents, nodes, products, start, days, seed) if incidents else []
    cat = Catalogue.build(seed, artifacts)
    written = Written()
    last_day = start + timedelta(days=days - 1)
    per_chunk = max(1, int(300_000 // events_per_day))  # days generated at once: bounds memory
    for node, product in zip(nodes, products, strict=True):
        zone = ZoneInfo(zones[node])
        logs = out / node / "repository" / "logs"
        shutil.rmtree(out / node, ignore_errors=True)
        logs.mkdir(parents=True)
        rng = random.Random(_seed("node", seed, node))
        gen = NodeWriter(product, cat, rng, session_changes)
        mine = {(inc.day - start).days: inc for inc in plan if inc.node == node}
        lost: list[tuple[int, int]] = []  # epoch ms ranges a planted gap removes
        carry = None
        for first in range(0, days, per_chunk):
            for i in range(first, min(days, first + per_chunk)):
                day = start + timedelta(days=i)
                midnight = int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp() * 1000)
                events, burst = _day_events(rng, events_per_day, day.weekday())
                gen.day(midnight, i, day.weekday(), events)
                if burst:
                    gen.burst(midnight + rng.choice((10, 14, 20, 21, 22, 23)) * HOUR_MS + rng.randrange(HOUR_MS),
                              burst, i)
                if i in mine:
                    inc = mine[i]
                    own = random.Random(_seed("incident", seed, inc.rule, node))
                    t = midnight + own.randint(10, 15) * HOUR_MS + own.randrange(HOUR_MS)
                    gen.rng, ordinary = own, gen.rng  # the incident draws from its own stream
                    what = INCIDENTS[inc.rule][1](gen, own, t)
                    gen.rng = ordinary
                    if inc.rule == "audit-gap":
                        t = midnight
                        lost.append((midnight, midnight + inc.days * DAY_MS))
                    written.incidents.append(replace(inc, t=t, what=what))
            frame = gen.out.frame()
            gen.out = Lines()
            for a, b in lost:
                frame = frame.filter((pl.col("t") < a) | (pl.col("t") >= b))
            if carry is not None:
                frame = pl.concat([carry, frame])
            frame = frame.sort("t", maintain_order=True)
            chunk_end = start + timedelta(days=min(days, first + per_chunk))
            rendered = render(frame, product, zones[node])
            later = rendered["day"] >= chunk_end
            carry = frame.filter(later) if chunk_end <= last_day else None
            write_day_files(rendered.filter(~later), logs, node, product, rotate, last_day, gzip_after, written,
                            size_limit)
    written.incidents.sort(key=lambda inc: (inc.day, inc.node))
    return written


def incident_findings(incidents: list[Incident], found: list[Any], tz: str) -> dict[Incident, list[Any]]:
    """For each planted incident, the findings of its rule on its node whose time overlaps its days (in `tz`):
    empty when it was missed."""
    zone = ZoneInfo(tz)
    out: dict[Incident, list[Any]] = {}
    for inc in incidents:
        last = inc.day + timedelta(days=inc.days - 1)
        out[inc] = [f for f in found if f.rule == inc.rule and _on_node(f, inc.node) and f.first is not None
                    and f.first.astimezone(zone).date() <= last
                    and (f.last or f.first).astimezone(zone).date() >= inc.day]
    return out


def _on_node(f: Any, node: str) -> bool:
    """The finding is about `node`: its node, or one of its events' when it spans several."""
    if f.node is not None:
        return f.node == node
    events = f.events
    return events is not None and "node" in events.columns and node in events["node"].cast(pl.String).to_list()


def other_days(incidents: list[Incident], found: list[Any], tz: str, severity: str = "high") -> list[date]:
    """The days with a finding of `severity` that is not about a planted incident (another node, or a day outside
    every incident's days): what ordinary work raises."""
    zone = ZoneInfo(tz)
    days = set()
    for f in found:
        if f.severity != severity or f.first is None:
            continue
        lo, hi = f.first.astimezone(zone).date(), (f.last or f.first).astimezone(zone).date()
        if not any(_on_node(f, inc.node) and lo <= inc.day + timedelta(days=inc.days - 1) and hi >= inc.day
                   for inc in incidents):
            days.add(lo)
    return sorted(days)


def add_arguments(parser) -> None:  # argparse.ArgumentParser
    parser.add_argument("out", type=Path, help="folder to write the node folders into")
    parser.add_argument("--nodes", default="mi1,mi2,mi3,apim1,is1",
                        help="comma-separated node names; mi*, apim*/am*, is*/iam* tell the product")
    parser.add_argument("--products", help="comma-separated products (mi, apim, is), one per node")
    parser.add_argument("--start", default="2026-01-01", help="first day, YYYY-MM-DD")
    parser.add_argument("--days", type=int, default=330)
    parser.add_argument("--rotate", default="daily", choices=["daily", "10MB"])
    parser.add_argument("--gzip-after", type=int, metavar="DAYS", help="gzip archives older than DAYS days")
    parser.add_argument("--events-per-day", type=float, default=40, help="mean audit events per node per day")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tz", default="Asia/Kolkata", help="the nodes' time zone (IANA name)")
    parser.add_argument("--zones", default="", help="per-node zones, e.g. apim1=Europe/Berlin,is1=UTC")
    parser.add_argument("--artifacts", type=int, default=400, help="MI artifacts in the catalogue")
    parser.add_argument("--session-changes", type=float, default=3.0,
                        help="mean changes per signed-in session (scripts that sign in per call: below 1)")
    parser.add_argument("--incidents", type=int, default=0, metavar="N",
                        help="plant N incidents, each of a different rule, at most one a week (listed at the end)")


def run(args, error: Callable[[str], None]) -> None:
    """The `estate` subcommand: check the arguments, write, print a summary."""
    try:
        start = date.fromisoformat(args.start)
    except ValueError:
        error(f"--start must be a date as YYYY-MM-DD, not {args.start!r}")
        return
    nodes = [n.strip() for n in args.nodes.split(",") if n.strip()]
    products = [p.strip() for p in args.products.split(",")] if args.products else None
    try:
        zones = dict(z.split("=", 1) for z in args.zones.split(",") if z.strip())
    except ValueError:
        error(f"--zones must read node=Zone,node=Zone, not {args.zones!r}")
        return
    try:
        written = write_estate(args.out, nodes, start=start, days=args.days, products=products, rotate=args.rotate,
                               gzip_after=args.gzip_after, events_per_day=args.events_per_day, seed=args.seed,
                               tz=args.tz, zones=zones, artifacts=args.artifacts,
                               session_changes=args.session_changes, incidents=args.incidents)
    except ValueError as exc:
        error(str(exc))
        return
    for node in nodes:
        mine = [f for f in written.files if f[1] == node]
        print(f"{node:>12}: {len(mine):,} files, {sum(f[2] for f in mine):,} lines, "
              f"{sum(f[3] for f in mine) / 1e6:,.1f} MB of text, {sum(f[4] for f in mine):,} gzipped")
    print(f"{len(written.files):,} files, {written.lines:,} lines written to {args.out}")
    if written.incidents:
        print(f"{len(written.incidents)} incidents planted (day, node, the rule that should find it, what):")
        for inc in written.incidents:
            print(f"  {inc}")
