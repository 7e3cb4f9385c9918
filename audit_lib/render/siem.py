"""Events and findings in the shapes SIEMs read: Elastic Common Schema (ECS) and OCSF as JSON Lines, and ArcSight
CEF lines. Built with whole-column polars expressions and written by polars (no loop per event).

How our columns map (the README has the table):
- ECS: `@timestamp`, `event.kind` ("event" / "alert"), `event.category`, `event.action`, `event.outcome`,
  `user.name`, `host.name` (the node), `service.type` (the product), `log.file.path` and `log.file.line`,
  `message`; findings add `event.id`, `event.severity`, `rule.id`, `rule.name`, `event.start`/`event.end`,
  `event.reference` (the rule's references).
- OCSF 1.3: Authentication 3002 (sign-in, sign-out, failed sign-in), Account Change 3001 (users), API Activity
  6003 (API Manager's REST calls), Entity Management 3004 (every other artifact change), each with
  `metadata.product`, `class_uid`, `category_uid`, `activity_id`, `type_uid`, `status_id`, `severity_id`, `time`.
- CEF: `CEF:0|WSO2|audit_lib|VERSION|signature|name|severity|extension`, escaped as CEF says (`\\|` and `\\\\`
  in the header, `\\=`, `\\\\` and `\\n` in the extension), so log text never adds a field or a line.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence

import polars as pl

from audit_lib.checks.finding import Finding
from audit_lib.events.vocabulary import action_kind
from audit_lib.version import __version__

FORMATS = ("ecs", "ocsf", "cef")
OCSF_VERSION = "1.3.0"
PRODUCTS = {"mi": "Micro Integrator", "apim": "API Manager", "is": "Identity Server"}
CEF_SEVERITY = {"info": 1, "low": 3, "medium": 6, "high": 8}
ECS_SEVERITY = {"info": 1, "low": 21, "medium": 47, "high": 73}  # Elastic's risk-score bands

_TEXT = ["node", "product", "user", "actor", "action", "artifact_type", "artifact", "outcome", "source"]


def _prepared(events: pl.DataFrame) -> pl.DataFrame:
    """Text columns as String, the kind of each action, and the outcome as success / failure / unknown."""
    ev = events.with_columns([pl.col(c).cast(pl.String) for c in _TEXT if c in events.columns])
    if "actor" not in ev.columns:
        ev = ev.with_columns(actor=pl.col("user"))
    kinds = ev.select(pl.col("action").unique()).with_columns(kind=action_kind(pl.col("action")))
    ev = ev.join(kinds, on="action", how="left", maintain_order="left")
    return ev.with_columns(result=pl.when(pl.col("outcome") == "failure").then(pl.lit("failure"))
                           .when(pl.col("outcome") == "success").then(pl.lit("success"))
                           .otherwise(pl.lit("unknown")))


def _ndjson(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_ndjson(buf)
    return buf.getvalue()


def _session_kind() -> pl.Expr:
    return pl.col("kind").is_in(["sign-in", "sign-out", "failed sign-in"])


def events_ecs(events: pl.DataFrame) -> bytes:
    """One ECS document per event."""
    ev = _prepared(events)
    category = (pl.when(_session_kind()).then(pl.lit("authentication"))
                .when(pl.col("artifact_type").is_in(["user", "role", "permission"])).then(pl.lit("iam"))
                .otherwise(pl.lit("configuration")))
    out = ev.select(
        pl.col("timestamp").dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%S%.3fZ").alias("@timestamp"),
        pl.struct(kind=pl.lit("event"), category=pl.concat_list(category), action=pl.col("action"),
                  outcome=pl.col("result"), dataset=pl.lit("wso2.audit")).alias("event"),
        pl.struct(name=pl.col("actor")).alias("user"),
        pl.struct(name=pl.col("node")).alias("host"),
        pl.struct(type=pl.col("product")).alias("service"),
        pl.struct(file=pl.struct(path=pl.col("source"), line=pl.col("line"))).alias("log"),
        pl.concat_str([pl.col("actor").fill_null("(unknown)"), pl.col("action").fill_null(""),
                       pl.col("artifact_type").fill_null(""), pl.col("artifact").fill_null("")],
                      separator=" ").str.strip_chars().alias("message"),
    )
    return _ndjson(out)


# OCSF classes: (class_uid, category_uid) and activity ids by our kind of action
_AUTH = {"sign-in": 1, "failed sign-in": 1, "sign-out": 2}
_ACCOUNT = {"create": 1, "enable": 2, "disable": 5, "delete": 6, "update": 99}
_ENTITY = {"create": 1, "update": 3, "delete": 4, "enable": 3, "disable": 3, "deploy": 1, "undeploy": 4}
_API = {"post": 1, "get": 2, "put": 3, "patch": 3, "delete": 4}


def _activity(mapping: dict[str, int], column: str = "kind") -> pl.Expr:
    return pl.col(column).replace_strict(list(mapping), list(mapping.values()), default=99, return_dtype=pl.Int32)


def events_ocsf(events: pl.DataFrame) -> bytes:
    """One OCSF event per event (classes as the module docstring says)."""
    ev = _prepared(events)
    rest = pl.col("artifact_type") == "rest_call"
    account = pl.col("artifact_type").is_in(["user"])
    class_uid = (pl.when(_session_kind()).then(3002).when(rest).then(6003).when(account).then(3001)
                 .otherwise(3004)).cast(pl.Int32)
    activity = (pl.when(_session_kind()).then(_activity(_AUTH))
                .when(rest).then(_activity(_API, "low_action"))
                .when(account).then(_activity(_ACCOUNT))
                .otherwise(_activity(_ENTITY))).cast(pl.Int32)
    status = pl.when(pl.col("result") == "success").then(1).when(pl.col("result") == "failure").then(2) \
        .otherwise(0).cast(pl.Int32)
    ev = ev.with_columns(low_action=pl.col("action").str.to_lowercase(), class_uid=class_uid)
    ev = ev.with_columns(activity_id=activity, status_id=status)
    user = pl.struct(name=pl.col("actor"))
    out = ev.select(
        "class_uid",
        category_uid=pl.when(pl.col("class_uid") == 6003).then(6).otherwise(3).cast(pl.Int32),
        activity_id="activity_id",
        type_uid=(pl.col("class_uid") * 100 + pl.col("activity_id")).cast(pl.Int32),
        severity_id=pl.lit(1, pl.Int32),
        status_id="status_id",
        time=pl.col("timestamp").dt.epoch("ms"),
        metadata=pl.struct(version=pl.lit(OCSF_VERSION), product=pl.struct(
            name=pl.col("product").replace_strict(PRODUCTS, default=pl.col("product")),
            vendor_name=pl.lit("WSO2")), log_name=pl.col("source"), log_provider=pl.col("node")),
        actor=pl.struct(user=user),
        user=user,
        device=pl.struct(hostname=pl.col("node"), type_id=pl.lit(0, pl.Int32)),
        api=pl.struct(operation=pl.col("action")),
        src_endpoint=pl.struct(hostname=pl.col("node")),
        entity=pl.struct(name=pl.col("artifact"), type=pl.col("artifact_type")),
        message=pl.concat_str([pl.col("action").fill_null(""), pl.col("artifact_type").fill_null(""),
                               pl.col("artifact").fill_null("")], separator=" ").str.strip_chars(),
        unmapped=pl.struct(line=pl.col("line"), details=pl.col("details")),
    )
    return _ndjson(out)


def cef_header(text: pl.Expr) -> pl.Expr:
    """A CEF header field: backslash and pipe escaped, line breaks as spaces."""
    return (text.cast(pl.String).fill_null("").str.replace_all("\\", "\\\\", literal=True)
            .str.replace_all("|", "\\|", literal=True).str.replace_all(r"[\r\n]+", " "))


def cef_value(text: pl.Expr) -> pl.Expr:
    """A CEF extension value: backslash and equals escaped, line breaks as \\n and \\r."""
    return (text.cast(pl.String).fill_null("").str.replace_all("\\", "\\\\", literal=True)
            .str.replace_all("=", "\\=", literal=True).str.replace_all("\n", "\\n", literal=True)
            .str.replace_all("\r", "\\r", literal=True))


def cef_header_text(text: str) -> str:
    """`cef_header` for one text."""
    return re.sub(r"[\r\n]+", " ", text.replace("\\", "\\\\").replace("|", "\\|"))


def cef_value_text(text: str) -> str:
    """`cef_value` for one text."""
    return text.replace("\\", "\\\\").replace("=", "\\=").replace("\n", "\\n").replace("\r", "\\r")


def _cef(signature: pl.Expr, name: pl.Expr, severity: pl.Expr, fields: dict[str, pl.Expr]) -> pl.Expr:
    ext = [pl.concat_str([pl.lit(f"{k}="), cef_value(v)]) for k, v in fields.items()]
    return pl.concat_str([pl.lit(f"CEF:0|WSO2|audit_lib|{__version__}|"), cef_header(signature), pl.lit("|"),
                          cef_header(name), pl.lit("|"), severity.cast(pl.String), pl.lit("|"),
                          pl.concat_str(ext, separator=" ")])


def events_cef(events: pl.DataFrame) -> bytes:
    ev = _prepared(events)
    line = _cef(pl.concat_str([pl.col("product").fill_null(""), pl.col("kind")], separator=":"),
                pl.concat_str([pl.col("action").fill_null(""), pl.col("artifact_type").fill_null("")],
                              separator=" ").str.strip_chars(),
                pl.when(pl.col("result") == "failure").then(5).otherwise(3),
                {"rt": pl.col("timestamp").dt.epoch("ms"), "suser": pl.col("actor"), "dvchost": pl.col("node"),
                 "act": pl.col("action"), "cs1Label": pl.lit("artifact_type"), "cs1": pl.col("artifact_type"),
                 "cs2Label": pl.lit("artifact"), "cs2": pl.col("artifact"), "outcome": pl.col("result"),
                 "fname": pl.col("source"), "cn1Label": pl.lit("line"), "cn1": pl.col("line")})
    return "".join(f"{s}\n" for s in ev.select(line.alias("l"))["l"].to_list()).encode("utf-8")


def _actor(f: Finding) -> str | None:
    ev = f.events
    if ev is None or ev.is_empty() or "actor" not in ev.columns:
        return None
    names = ev["actor"].cast(pl.String).drop_nulls().unique(maintain_order=True).to_list()
    return names[0] if len(names) == 1 else None


def finding_ecs(f: Finding) -> dict:
    """A finding as an ECS alert document (what the webhook channel posts, too)."""
    return {"@timestamp": (f.last or f.first).isoformat() if (f.last or f.first) else None,
            "event": {"kind": "alert", "id": f.id, "severity": ECS_SEVERITY.get(f.severity, 1),
                      "start": f.first.isoformat() if f.first else None,
                      "end": f.last.isoformat() if f.last else None, "reference": "; ".join(f.references),
                      "dataset": "wso2.audit"},
            "rule": {"id": f.rule, "name": f.title}, "message": f.summary,
            "user": {"name": _actor(f)},
            "host": {"name": f.node}, "labels": {"severity": f.severity, "count": f.count}}


def findings_export(found: Sequence[Finding], fmt: str) -> bytes:
    """Findings as ECS or OCSF (Detection Finding 2004) JSON Lines, or CEF lines."""
    if fmt == "ecs":
        rows = [finding_ecs(f) for f in found]
    elif fmt == "ocsf":
        sev = {"info": 1, "low": 2, "medium": 3, "high": 4}
        rows = [{"class_uid": 2004, "category_uid": 2, "activity_id": 1, "type_uid": 200401,
                 "severity_id": sev.get(f.severity, 1), "status_id": 1,
                 "time": int((f.last or f.first).timestamp() * 1000) if (f.last or f.first) else 0,
                 "metadata": {"version": OCSF_VERSION, "product": {"name": "audit_lib", "vendor_name": "WSO2"}},
                 "finding_info": {"uid": f.id, "title": f.title, "desc": f.summary, "analytic": {"uid": f.rule}},
                 "device": {"hostname": f.node}, "message": f.summary} for f in found]
    else:
        df = pl.DataFrame({"rule": [f.rule for f in found], "title": [f.title for f in found],
                           "sev": [CEF_SEVERITY.get(f.severity, 1) for f in found],
                           "id": [f.id for f in found], "node": [f.node for f in found],
                           "msg": [f.summary for f in found], "count": [f.count for f in found]},
                          schema={"rule": pl.String, "title": pl.String, "sev": pl.Int32, "id": pl.String,
                                  "node": pl.String, "msg": pl.String, "count": pl.Int64})
        line = _cef(pl.col("rule"), pl.col("title"), pl.col("sev"),
                    {"externalId": pl.col("id"), "dvchost": pl.col("node"), "msg": pl.col("msg"),
                     "cnt": pl.col("count")})
        return "".join(f"{s}\n" for s in df.select(line.alias("l"))["l"].to_list()).encode("utf-8")
    return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows).encode("utf-8")


def events_export(events: pl.DataFrame, fmt: str) -> bytes:
    return {"ecs": events_ecs, "ocsf": events_ocsf, "cef": events_cef}[fmt](events)
