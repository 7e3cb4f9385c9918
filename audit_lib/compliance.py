"""Compliance views of an events table: sensitive actions, sign-ins per user, and the evidence that
shows which files a result was built from (manifest, coverage gaps, duplicates, rejected lines).

Sensitive-action rules are data: a list of `Rule`s, each a category name, a short reason and a polars
predicate over the events columns. Add a rule by appending to RULES; no other code changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from audit_lib.metrics import coverage_gaps

_TYPE = pl.col("artifact_type").cast(pl.String)
_ACTION = pl.col("action").cast(pl.String)
_ACTION_LOW = _ACTION.str.to_lowercase()
_USER = pl.col("user").cast(pl.String)
_OUTCOME = pl.col("outcome").cast(pl.String)
_DETAILS = pl.col("details")
_LOG_LEVEL = _DETAILS.str.extract(r'"loggingLevel"\s*:\s*"([A-Za-z]+)"', 1).str.to_uppercase()
_SUCCESS = _OUTCOME.fill_null("success") != "failure"


@dataclass(frozen=True)
class Rule:
    """A sensitive-action rule: events matching `predicate` are listed under `category`."""

    category: str
    reason: str
    predicate: pl.Expr


RULES: list[Rule] = [
    Rule("Admin user created", "a user was created with administrator rights",
         (_TYPE == "user") & _ACTION_LOW.is_in(["created", "add user"])
         & (_DETAILS.str.contains(r'"isAdmin"\s*:\s*true') | _DETAILS.str.contains(r"(?i)roles\s*:[^}]*admin"))
         .fill_null(False)),
    Rule("User deleted", "a user account was removed",
         (_TYPE == "user") & _ACTION_LOW.is_in(["deleted", "delete user"])),
    Rule("Password changed", "a user's password was changed",
         _ACTION_LOW.str.contains("password").fill_null(False) | ((_TYPE == "user") & (_ACTION_LOW == "updated"))),
    Rule("Logging exposes data", "a logger was set to DEBUG, TRACE or ALL (payloads and secrets may be logged)",
         _TYPE.is_in(["log_level", "root_log_level"]) & _LOG_LEVEL.is_in(["DEBUG", "TRACE", "ALL"])),
    Rule("Logging stopped", "a logger was set to OFF (events are no longer recorded)",
         _TYPE.is_in(["log_level", "root_log_level"]) & (_LOG_LEVEL == "OFF")),
    Rule("Message tracing on", "message tracing was enabled (message contents are recorded)",
         _TYPE.str.ends_with("_trace") & (_ACTION_LOW == "enabled")),
    Rule("Carbon application deployed or removed", "a CApp was deployed or removed",
         _TYPE == "carbon_application"),
    Rule("Connector change", "a connector was added, removed or switched", _TYPE == "connector"),
    Rule("Registry change", "a registry resource or its properties changed", _TYPE.str.starts_with("registry_")),
    Rule("Action by anonymous", "an action was recorded for an unauthenticated user",
         _USER.str.to_lowercase().str.starts_with("anonymous").fill_null(False)),
    Rule("Failed sign-in", "a sign-in attempt failed",
         (_ACTION_LOW == "login_failed") | ((_TYPE == "session") & (_OUTCOME == "failure"))),
]

SENSITIVE_COLUMNS = ["timestamp", "user", "node", "category", "action", "artifact_type", "artifact", "details",
                     "source", "line"]


def sensitive_schema(tz: str = "UTC") -> dict[str, pl.DataType]:
    return {"timestamp": pl.Datetime("ms", tz), "user": pl.String(), "node": pl.String(), "category": pl.String(),
            "action": pl.String(), "artifact_type": pl.String(), "artifact": pl.String(), "details": pl.String(),
            "source": pl.String(), "line": pl.UInt32()}


def sensitive_actions(events: pl.DataFrame, rules: list[Rule] | None = None) -> pl.DataFrame:
    """Every event matching a sensitive-action rule, one row per (event, matching rule), in time order.

    Columns: timestamp, user, node, category, action, artifact_type, artifact, details, source, line.
    """
    rules = RULES if rules is None else rules
    ts = events.schema.get("timestamp")
    tz = getattr(ts, "time_zone", None) or "UTC"
    if events.is_empty() or not rules:
        return pl.DataFrame(schema=sensitive_schema(tz))
    cols = [c for c in SENSITIVE_COLUMNS if c != "category"]
    lf = events.lazy().select(*cols, "outcome")
    parts = [lf.filter(rule.predicate.fill_null(False)).with_columns(category=pl.lit(rule.category),
                                                                      _rule=pl.lit(i, pl.UInt8))
             for i, rule in enumerate(rules)]
    out = pl.concat(parts).sort("timestamp", "_rule", "source", "line").collect()
    return out.select([pl.col(c).cast(t) for c, t in sensitive_schema(tz).items()])


def sensitive_summary(sensitive: pl.DataFrame, rules: list[Rule] | None = None) -> pl.DataFrame:
    """Events per category, every rule listed (zeros included) in rule order: category, reason, events."""
    rules = RULES if rules is None else rules
    counts = dict(sensitive.group_by("category").len().iter_rows()) if sensitive.height else {}
    return pl.DataFrame({"category": [r.category for r in rules], "reason": [r.reason for r in rules],
                         "events": [int(counts.get(r.category, 0)) for r in rules]},
                        schema={"category": pl.String, "reason": pl.String, "events": pl.Int64})


def sign_ins(events: pl.DataFrame) -> pl.DataFrame:
    """Sign-ins, sign-outs and failed sign-ins per user (users with at least one), most sign-ins first.

    Columns: user, sign_ins, sign_outs, failed, first_sign_in, last_sign_in, last_sign_out, nodes.
    """
    ts = events.schema.get("timestamp", pl.Datetime("ms", "UTC"))
    schema = {"user": pl.String, "sign_ins": pl.Int64, "sign_outs": pl.Int64, "failed": pl.Int64,
              "first_sign_in": ts, "last_sign_in": ts, "last_sign_out": ts, "nodes": pl.String}
    action = _ACTION_LOW
    is_in = action.is_in(["logged_in", "login"]) & _SUCCESS
    is_out = action.is_in(["logged_out", "logout"])
    failed = (action == "login_failed") | ((_TYPE == "session") & (_OUTCOME == "failure"))
    person = pl.col("actor" if "actor" in events.columns else "user").cast(pl.String)
    sess = events.lazy().filter(is_in | is_out | failed).select(
        user=person.fill_null("(unknown)"), node=pl.col("node").cast(pl.String), ts=pl.col("timestamp"),
        i=is_in, o=is_out & ~failed, f=failed)
    out = sess.group_by("user").agg(
        sign_ins=pl.col("i").sum().cast(pl.Int64), sign_outs=pl.col("o").sum().cast(pl.Int64),
        failed=pl.col("f").sum().cast(pl.Int64),
        first_sign_in=pl.col("ts").filter("i").min(), last_sign_in=pl.col("ts").filter("i").max(),
        last_sign_out=pl.col("ts").filter("o").max(), nodes=pl.col("node").unique().sort().str.join(", "),
    ).sort(["sign_ins", "failed", "user"], descending=[True, True, False]).collect()
    return out.select([pl.col(c).cast(t) for c, t in schema.items()])


# ---------------------------------------------------------------- evidence


def manifest(files: pl.DataFrame) -> pl.DataFrame:
    """The file manifest for a report: source, node, bytes, sha256, lines, events, rejects, first, last and a
    `note` (duplicate of ..., or the read error)."""
    return files.select(
        "source", pl.col("node").cast(pl.String), "bytes", "sha256", "lines", "events", "rejects", "first", "last",
        note=pl.when(pl.col("duplicate_of").is_not_null()).then(pl.lit("duplicate of ") + pl.col("duplicate_of"))
        .otherwise(pl.col("error")),
    ).sort("node", "source")


def duplicates(files: pl.DataFrame) -> pl.DataFrame:
    """Files skipped because their content repeats another file's: source, duplicate_of, sha256."""
    return files.filter(pl.col("duplicate_of").is_not_null()).select("source", "duplicate_of", "sha256").sort(
        "source")


def gaps(events: pl.DataFrame, files: pl.DataFrame, tz: str | None = None) -> pl.DataFrame:
    """Days per node with no file or no events, between the node's first and last day (see
    `metrics.coverage_gaps`): node, day, files, events, status."""
    return coverage_gaps(events, files, tz=tz, only_gaps=True)


def reject_sample(rejects: pl.DataFrame, n: int = 10) -> pl.DataFrame:
    """Up to `n` rejected lines, at most a few per reason so that every reason shows: source, line, reason, text."""
    if rejects.is_empty():
        return rejects.select("source", "line", "reason", "text")
    per_reason = max(1, n // max(rejects["reason"].n_unique(), 1))
    return (rejects.sort("source", "line").group_by("reason", maintain_order=True).head(per_reason)
            .sort("source", "line").head(n).select("source", "line", "reason", "text"))


def files_in_scope(files: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """The manifest rows of the files that the events in scope come from, plus every duplicate of them and
    every file that failed to read (so the evidence never hides a problem)."""
    used = events.select(pl.col("source").cast(pl.String).unique()).to_series()
    keep = (pl.col("source").is_in(used.implode()) | pl.col("duplicate_of").is_in(used.implode())
            | pl.col("error").is_not_null())
    return files.filter(keep)
