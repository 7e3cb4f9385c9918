"""What the words of an event mean, whatever product wrote it: the kinds of action, who did it, sign-ins,
sign-outs and changes, and the labels shown for what a record does not state. No I/O; every stage reads these.
"""

from __future__ import annotations

import polars as pl

UNKNOWN = "(unknown)"  # an event with no known user (IS writes null or N/A for a failed sign-in)
NOT_RECORDED = "not recorded"  # the outcome of a record whose line states none, as offered and shown

# Kinds of action, in display order. `action_kind` maps the raw action texts of MI, API-M and IS onto them.
KINDS = ["sign-in", "sign-out", "failed sign-in", "create", "update", "delete", "enable", "disable", "deploy",
         "undeploy", "other"]

_EXACT_KIND = {
    "logged_in": "sign-in", "login": "sign-in", "logged_out": "sign-out", "logout": "sign-out",
    "login_failed": "failed sign-in", "created": "create", "added": "create", "updated": "update",
    "lifecycle-changed": "update", "deleted": "delete", "removed": "delete", "enabled": "enable",
    "disabled": "disable", "deployed": "deploy", "undeployed": "undeploy",
}
# IS writes sentences such as "Add User", "Delete Role", "Change Password by Administrator"
_PREFIX_KIND = [("add", "create"), ("create", "create"), ("delete", "delete"), ("remove", "delete"),
                ("update", "update"), ("change", "update"), ("set", "update"), ("enable", "enable"),
                ("disable", "disable"), ("unlock", "enable"), ("lock", "disable")]

# actions that set the state of an artifact, and the state they leave it in
STATE_OF_KIND = {"create": "created", "enable": "enabled", "disable": "disabled", "delete": "deleted",
                 "deploy": "deployed", "undeploy": "undeployed"}

SIGN_IN_ACTIONS = ("logged_in", "login")
SIGN_OUT_ACTIONS = ("logged_out", "logout")
FAILED_SIGN_IN_ACTIONS = ("login_failed",)
READ_ACTIONS = ("get", "head", "options")  # API-M REST calls that change nothing
# IS authentication-framework records (token issue, sign-in steps) are not changes to the server
FRAMEWORK_TARGETS = ("ApplicationAuthenticationFramework",)


def who(events: pl.DataFrame) -> pl.Expr:
    """The person behind each event, as a column named `user`: the actor (tenant suffix folded, product named
    where one name lives in several products' user stores) when the log has it, else the raw user."""
    person = pl.col("actor") if "actor" in events.columns else pl.col("user")
    unknown = pl.lit(UNKNOWN, pl.Categorical) if events.schema.get(person.meta.output_name()) == pl.Categorical \
        else pl.lit(UNKNOWN)
    return person.fill_null(unknown).alias("user")


def action_kind(action: pl.Expr) -> pl.Expr:
    """The kind (one of KINDS) of each raw action text; meant for small, aggregated frames."""
    low = action.cast(pl.String).str.to_lowercase().str.strip_chars()
    expr = pl.when(low.is_in(list(_EXACT_KIND))).then(low.replace_strict(_EXACT_KIND, default=None))
    for prefix, kind in _PREFIX_KIND:
        expr = expr.when(low.str.starts_with(prefix)).then(pl.lit(kind))
    return expr.otherwise(pl.lit("other"))


def actor_expr(events: pl.DataFrame) -> pl.Expr:
    """Who did it, as a column named `actor`: `metrics.who` (the loader's actor when present, else the user)."""
    return who(events).alias("actor")


def _actions(events: pl.DataFrame, low: tuple[str, ...]) -> list[str]:
    """The distinct action texts of `events` whose lower-case form is one of `low`."""
    distinct = events.select(pl.col("action").cast(pl.String).unique().drop_nulls()).to_series()
    return distinct.filter(distinct.str.to_lowercase().str.strip_chars().is_in(list(low))).to_list()


def _failed() -> pl.Expr:
    """True where the outcome says failure (categorical or text, without turning the column into text)."""
    return pl.col("outcome").is_in(["failure"]).fill_null(False)


def sign_in_expr(events: pl.DataFrame) -> pl.Expr:
    """True for a successful sign-in."""
    return pl.col("action").is_in(_actions(events, SIGN_IN_ACTIONS)) & ~_failed()


def sign_out_expr(events: pl.DataFrame) -> pl.Expr:
    return pl.col("action").is_in(_actions(events, SIGN_OUT_ACTIONS))


def failed_sign_in_expr(events: pl.DataFrame) -> pl.Expr:
    """True for a refused sign-in (API-M `login_failed`, an IS `Login` that failed)."""
    tried = _actions(events, SIGN_IN_ACTIONS)
    return (pl.col("action").is_in(_actions(events, FAILED_SIGN_IN_ACTIONS))
            | (pl.col("action").is_in(tried) & _failed()))


def change_expr(events: pl.DataFrame) -> pl.Expr:
    """True for an event that changes something: anything but a sign-in, sign-out, read or framework record."""
    distinct = events.select(pl.col("action").cast(pl.String).unique().drop_nulls())
    kinds = distinct.with_columns(kind=action_kind(pl.col("action")),
                                  low=pl.col("action").str.to_lowercase().str.strip_chars())
    session = (pl.col("kind").is_in(["sign-in", "sign-out", "failed sign-in"])
               | pl.col("low").is_in([*SIGN_IN_ACTIONS, *SIGN_OUT_ACTIONS, *FAILED_SIGN_IN_ACTIONS, *READ_ACTIONS]))
    changing = kinds.filter(~session)["action"].to_list()
    return (pl.col("action").is_in(changing)
            & ~pl.col("artifact_type").is_in(["session"]).fill_null(False)
            & ~pl.col("artifact").is_in(list(FRAMEWORK_TARGETS)).fill_null(False))


ADDRESS_KEYS = ("ip", "ipAddress", "ip_address", "clientIp", "client_ip", "remoteAddress", "remote_address")


def address_expr() -> pl.Expr:
    """The client address a record names in its details (API-M's `ip`, and the usual spellings), else null."""
    return pl.coalesce([pl.col("details").str.json_path_match(f"$.{k}") for k in ADDRESS_KEYS]).alias("address")
