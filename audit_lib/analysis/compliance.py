"""Compliance views of an events table: sensitive actions with what the product recorded of their outcome,
privileged actors, sign-ins per user, and the evidence that shows which files a result was built from
(manifest, the files covering a scope and its days, coverage gaps, duplicates, rejected lines).

Categories of sensitive actions are data: `audit_lib/analysis/sensitive_actions.json` (or a file of the same shape given
to `load_categories`). Each has an id, a name, a reason, the conditions of the rules (`audit_lib/checks/rules/`) that an
event must meet, whether performing it makes an actor privileged, and whether the report lists each event or
counts them per actor and node. An event belongs to the first category it matches.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from audit_lib.analysis.conditions import BASE_COLUMNS, VOCABULARY, Matcher, RuleError, check_conditions, conditions
from audit_lib.analysis.metrics import MAX_COVERAGE_DAYS, coverage_gaps
from audit_lib.events.products import OUTCOME_IN_SOURCE
from audit_lib.events.vocabulary import (
    NOT_RECORDED,
    UNKNOWN,
    actor_expr,
    change_expr,
    failed_sign_in_expr,
    sign_in_expr,
    sign_out_expr,
)

CATEGORIES_FILE = Path(__file__).parent / "sensitive_actions.json"
LISTINGS = ("events", "counts")
DONE, FAILED = "done", "failed"
OUTCOMES = (DONE, FAILED, NOT_RECORDED)
OUTCOME_NOTE = ("Outcome: done = the product recorded that it succeeded; failed = attempted and refused; not "
                "recorded = the product writes no outcome for this kind of record (Micro Integrator and API Manager "
                "changes, Micro Integrator sign-ins, Identity Server 7 audit records): the line shows the request, "
                "not that it took effect.")

_COLUMNS = {*BASE_COLUMNS, "kind", *VOCABULARY}
_FIELDS = {"id", "category", "reason", "references", "privileged", "listing", "enabled", "where", "description"}


@dataclass(frozen=True)
class Category:
    """A category of sensitive actions, as read from the categories file."""

    id: str
    name: str
    reason: str
    where: tuple[dict, ...]
    references: tuple[str, ...] = ()
    privileged: bool = False
    listing: str = "events"
    enabled: bool = True

    @classmethod
    def from_dict(cls, spec: Any, where: str = "categories") -> Category:
        if not isinstance(spec, dict):
            raise RuleError(f"{where}: a category must be a JSON object")
        missing = [k for k in ("id", "category", "reason", "where") if not spec.get(k)]
        if missing:
            raise RuleError(f"{where}: missing {', '.join(missing)}")
        unknown = set(spec) - _FIELDS
        if unknown:
            raise RuleError(f"{where} {spec['id']}: unknown field {', '.join(sorted(unknown))}")
        listing = spec.get("listing", "events")
        if listing not in LISTINGS:
            raise RuleError(f"{where} {spec['id']}: listing must be one of {', '.join(LISTINGS)}, not {listing!r}")
        prefix = f"{where} {spec['id']}: "
        try:  # the conditions are those of the rules: checked the same way, with the same messages
            conds = conditions(spec["where"])
        except ValueError as exc:
            raise RuleError(prefix + str(exc)) from None
        check_conditions(prefix, conds, _COLUMNS)
        refs = spec.get("references") or []
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise RuleError(f"{where} {spec['id']}: references must be a list of strings")
        for flag in ("privileged", "enabled"):
            if not isinstance(spec.get(flag, False), bool):
                raise RuleError(f"{where} {spec['id']}: {flag} is true or false")
        return cls(id=str(spec["id"]), name=str(spec["category"]), reason=str(spec["reason"]), where=conds,
                   references=tuple(refs), privileged=bool(spec.get("privileged", False)), listing=listing,
                   enabled=bool(spec.get("enabled", True)))


def load_categories(path: str | Path | None = None, *, enable: Sequence[str] = (),
                    include_disabled: bool = False) -> list[Category]:
    """The categories of `path` (default: the shipped `sensitive_actions.json`) in file order: the enabled ones,
    those whose id is in `enable`, or all with `include_disabled`."""
    source = Path(path) if path is not None else CATEGORIES_FILE
    try:
        spec = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RuleError(f"Cannot read the categories file {source}: {exc}") from None
    items = spec.get("categories") if isinstance(spec, dict) else spec
    if not isinstance(items, list) or not items:
        raise RuleError(f"{source.name}: expected a list of categories (under \"categories\")")
    out: list[Category] = []
    for i, item in enumerate(items):
        cat = Category.from_dict(item, f"{source.name} #{i + 1}")
        if any(c.id == cat.id for c in out):
            raise RuleError(f"{source.name}: category id {cat.id!r} is used twice")
        out.append(cat)
    unknown = sorted(set(enable) - {c.id for c in out})
    if unknown:
        raise RuleError(f"Unknown category {', '.join(unknown)}; the categories are {', '.join(c.id for c in out)}")
    return [c for c in out if c.enabled or include_disabled or c.id in enable]


# ---------------------------------------------------------------- matching


def outcome_recorded(events: pl.DataFrame) -> pl.Expr:
    """True where the product writes an outcome for this kind of record, False where it writes none (the
    loader then reads "success"), null where that is unknown: `events.products.OUTCOME_IN_SOURCE` by product and
    kind of record (change, sign-in/out, REST call), and Identity Server 7's audit records (JSON with
    recordedAt and initiatorType), which carry no outcome either."""
    atype = pl.col("artifact_type").cast(pl.String)
    kind = (pl.when(atype == "session").then(pl.lit("sign-in/out")).when(atype == "rest_call")
            .then(pl.lit("REST call")).otherwise(pl.lit("change")))
    key = pl.concat_str([pl.col("product").cast(pl.String).fill_null(""), kind], separator="|")
    mapping = {f"{p}|{k}": v for (p, k), v in OUTCOME_IN_SOURCE.items()}
    recorded = key.replace_strict(list(mapping), list(mapping.values()), default=None, return_dtype=pl.Boolean)
    is7 = ((pl.col("product").cast(pl.String) == "is") & pl.col("details").str.contains('"recordedAt"')
           & pl.col("details").str.contains('"initiatorType"')).fill_null(False)
    return pl.when(is7).then(pl.lit(False)).otherwise(recorded)


def outcome_label(events: pl.DataFrame) -> pl.Expr:
    """"failed" (attempted and refused), "done" (the product recorded success) or "not recorded" (the product
    writes no outcome for this record: never "success" where it does not say so)."""
    failed = pl.col("outcome").cast(pl.String) == "failure"
    return (pl.when(failed.fill_null(False)).then(pl.lit(FAILED))
            .when(outcome_recorded(events).fill_null(False)).then(pl.lit(DONE))
            .otherwise(pl.lit(NOT_RECORDED))).alias("outcome")


SENSITIVE_COLUMNS = ["timestamp", "actor", "user", "node", "product", "category", "action", "artifact_type",
                     "artifact", "outcome", "details", "source", "line"]


def sensitive_schema(tz: str = "UTC") -> dict[str, pl.DataType]:
    return {"timestamp": pl.Datetime("ms", tz), "actor": pl.String(), "user": pl.String(), "node": pl.String(),
            "product": pl.String(), "category": pl.String(), "action": pl.String(), "artifact_type": pl.String(),
            "artifact": pl.String(), "outcome": pl.String(), "details": pl.String(), "source": pl.String(),
            "line": pl.UInt32()}


def sensitive_actions(events: pl.DataFrame, categories: Sequence[Category] | None = None) -> pl.DataFrame:
    """Every event of a category (the first it matches), in time order, with its `outcome` as "done", "failed" or
    "not recorded" (see `outcome_label`).

    Columns: timestamp, actor, user, node, product, category, action, artifact_type, artifact, outcome, details,
    source, line.
    """
    categories = load_categories() if categories is None else list(categories)
    ts = events.schema.get("timestamp")
    tz = getattr(ts, "time_zone", None) or "UTC"
    if events.is_empty() or not categories:
        return pl.DataFrame(schema=sensitive_schema(tz))
    used = {c for cat in categories for cond in cat.where for c in cond}
    m = Matcher(events, used, {} if "actor" in events.columns else {"actor": actor_expr(events)})
    hits = pl.concat([m.rows(cat.where).to_frame("_i").with_columns(_c=pl.lit(n, pl.UInt16))
                      for n, cat in enumerate(categories)])
    first = hits.sort("_c").unique("_i", keep="first")
    if first.is_empty():
        return pl.DataFrame(schema=sensitive_schema(tz))
    names = pl.Series([c.name for c in categories], dtype=pl.String)
    rows = m.ev.select(pl.all().gather(first.sort("_i")["_i"]))
    out = (rows.with_columns(category=names.gather(first.sort("_i")["_c"]), _c=first.sort("_i")["_c"])
           .with_columns(outcome_label(rows))
           .sort("timestamp", "_c", "source", "line"))
    return out.select([pl.col(c).cast(t) for c, t in sensitive_schema(tz).items()])


def sensitive_summary(sensitive: pl.DataFrame, categories: Sequence[Category] | None = None) -> pl.DataFrame:
    """Events per category, every category listed (zeros included) in order: category, reason, events, done,
    failed, not_recorded, actors, privileged, listing, id."""
    categories = load_categories() if categories is None else list(categories)
    counts = sensitive.group_by("category").agg(
        events=pl.len(), done=(pl.col("outcome") == DONE).sum(), failed=(pl.col("outcome") == FAILED).sum(),
        not_recorded=(pl.col("outcome") == NOT_RECORDED).sum(), actors=pl.col("actor").n_unique())
    base = pl.DataFrame({"category": [c.name for c in categories], "reason": [c.reason for c in categories],
                         "privileged": [c.privileged for c in categories],
                         "listing": [c.listing for c in categories], "id": [c.id for c in categories]})
    out = base.join(counts, on="category", how="left", maintain_order="left")
    return out.select("category", "reason", *[pl.col(c).fill_null(0).cast(pl.Int64) for c in
                                              ("events", "done", "failed", "not_recorded", "actors")],
                      "privileged", "listing", "id")


def counts_by_actor(sensitive: pl.DataFrame) -> pl.DataFrame:
    """Sensitive actions per actor and node (how a "counts" category is listed): actor, node, events, failed,
    first, last, most recent first."""
    return (sensitive.group_by("actor", "node").agg(
        events=pl.len().cast(pl.Int64), failed=(pl.col("outcome") == FAILED).sum().cast(pl.Int64),
        first=pl.col("timestamp").min(), last=pl.col("timestamp").max())
        .with_columns(pl.col("actor").fill_null(UNKNOWN))
        .sort(["events", "actor", "node"], descending=[True, False, False], nulls_last=True))


NOBODY = r"(?i)^(anonymous|null|n/a|none|unknown|\(unknown\))\b"  # names that hold no one to account


def privileged_actors(sensitive: pl.DataFrame, categories: Sequence[Category] | None = None) -> list[str]:
    """Actors who performed an action of a privileged category (creating users, changing roles, permissions or
    log levels ...) that was not refused, sorted; not `anonymous` and the like (no one to follow)."""
    categories = load_categories() if categories is None else list(categories)
    names = [c.name for c in categories if c.privileged]
    who = sensitive.filter(pl.col("category").is_in(names) & (pl.col("outcome") != FAILED)
                           & pl.col("actor").is_not_null() & ~pl.col("actor").str.contains(NOBODY))
    return sorted(who["actor"].unique().to_list())


def busiest(actors: Sequence[str], events: pl.DataFrame, limit: int = 10) -> list[str]:
    """The `limit` of `actors` with the most changes in `events` (then by name): what a form pre-fills when the
    privileged actors are many (a scope of a year holds hundreds of accounts that created a user once)."""
    if len(actors) <= limit or "actor" not in events.columns:
        return list(actors)[:limit]
    counts = (events.lazy().filter(change_expr(events).fill_null(False)
                                   & pl.col("actor").cast(pl.String).is_in(list(actors)))
              .group_by(pl.col("actor").cast(pl.String)).agg(n=pl.len()).collect())
    n = dict(counts.iter_rows())
    return sorted(actors, key=lambda a: (-n.get(a, 0), a))[:limit]


def sign_ins(events: pl.DataFrame) -> pl.DataFrame:
    """Sign-ins, sign-outs and failed sign-ins per user (users with at least one), most sign-ins first.

    Columns: user, sign_ins, sign_outs, failed, first_sign_in, last_sign_in, last_sign_out, nodes.
    """
    ts = events.schema.get("timestamp", pl.Datetime("ms", "UTC"))
    schema = {"user": pl.String, "sign_ins": pl.Int64, "sign_outs": pl.Int64, "failed": pl.Int64,
              "first_sign_in": ts, "last_sign_in": ts, "last_sign_out": ts, "nodes": pl.String}
    if events.is_empty():
        return pl.DataFrame(schema=schema)
    is_in, is_out, failed = sign_in_expr(events), sign_out_expr(events), failed_sign_in_expr(events)
    person = pl.col("actor" if "actor" in events.columns else "user").cast(pl.String)
    sess = events.lazy().filter(is_in | is_out | failed).select(
        user=person.fill_null(UNKNOWN), node=pl.col("node").cast(pl.String), ts=pl.col("timestamp"),
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
    `note` (duplicate of ..., the read error, or read only in part)."""
    cut = ~pl.col("complete") if "complete" in files.columns else pl.lit(False)
    return files.select(
        "source", pl.col("node").cast(pl.String), "bytes", "sha256", "lines", "events", "rejects", "first", "last",
        note=pl.when(pl.col("duplicate_of").is_not_null()).then(pl.lit("duplicate of ") + pl.col("duplicate_of"))
        .when(pl.col("error").is_not_null()).then(pl.col("error"))
        .when(cut).then(pl.lit("read only in part")),
    ).sort("node", "source")


def duplicates(files: pl.DataFrame) -> pl.DataFrame:
    """Files skipped because their content repeats another file's: source, duplicate_of, sha256."""
    return files.filter(pl.col("duplicate_of").is_not_null()).select("source", "duplicate_of", "sha256").sort(
        "source")


def gaps(events: pl.DataFrame, files: pl.DataFrame, tz: str | None = None, **working: Any) -> pl.DataFrame:
    """Days per node with no file or no events (see `metrics.coverage_gaps`; `working` takes its work_days,
    holidays, days and nodes): node, day, files, events, status."""
    return coverage_gaps(events, files, tz=tz, only_gaps=True, **working)


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


_NAMED_DAY = [(r"audit-(\d{2}-\d{2}-\d{4})", "%m-%d-%Y"), (r"audit-(\d{4}-\d{2}-\d{2})", "%Y-%m-%d"),
              (r"audit\.log-(\d{8})", "%Y%m%d")]


def file_days(files: pl.DataFrame, tz: str | None = None) -> pl.DataFrame:
    """(source, node, day) for every day a file covers: the days from its first to its last event (in `tz`), plus
    the day in a rotated file's name (audit-MM-dd-yyyy, audit-yyyy-MM-dd, audit.log-yyyyMMdd), so that a rotated
    file without events covers its day. A file whose events lie centuries apart covers its first and last day."""
    if tz:
        files = files.with_columns(pl.col("first", "last").dt.convert_time_zone(tz))
    name = pl.col("source").str.split("/").list.last()
    named = files.select(
        "source", pl.col("node").cast(pl.String),
        day=pl.coalesce([name.str.extract(rx, 1).str.strptime(pl.Date, fmt, strict=False) for rx, fmt in _NAMED_DAY]))
    dated = files.filter(pl.col("first").is_not_null()).select(
        "source", pl.col("node").cast(pl.String), lo=pl.col("first").dt.date(), hi=pl.col("last").dt.date())
    long = (pl.col("hi") - pl.col("lo")).dt.total_days() > MAX_COVERAGE_DAYS
    spans = dated.select("source", "node", day=pl.date_ranges("lo", pl.when(long).then("lo").otherwise("hi")))
    ends = dated.filter(long).select("source", "node", day="hi")
    return (pl.concat([named.drop_nulls("day"), spans.explode("day"), ends]).unique()
            .sort("node", "source", "day"))


def day_ranges(days: Sequence[date] | pl.Series, limit: int = 12) -> str:
    """Sorted days as ranges: "2026-07-01 to 2026-07-03, 2026-07-05"; after `limit` ranges, "and N more"."""
    values = sorted(set(days.to_list() if isinstance(days, pl.Series) else days))
    if not values:
        return "none"
    runs: list[tuple[date, date]] = []
    for d in values:
        if runs and d - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    text = [f"{a:%Y-%m-%d}" if a == b else f"{a:%Y-%m-%d} to {b:%Y-%m-%d}" for a, b in runs[:limit]]
    if len(runs) > limit:
        text.append(f"and {len(runs) - limit} more")
    return ", ".join(text)


def scope_days(events: pl.DataFrame, start: datetime | None, end: datetime | None, tz: str) -> tuple[date, date] | None:
    """First and last calendar day (in `tz`) of a scope: its time range, or the days of its events where the range
    is open; None when neither says."""
    zone = ZoneInfo(tz)
    lo = start.astimezone(zone).date() if start is not None else None
    hi = (end - timedelta(microseconds=1)).astimezone(zone).date() if end is not None else None
    if (lo is None or hi is None) and events.height:
        ts = events["timestamp"].dt.convert_time_zone(tz)
        lo = lo if lo is not None else ts.min().date()
        hi = hi if hi is not None else ts.max().date()
    if lo is None or hi is None:
        return None
    return lo, hi


def covering_files(files: pl.DataFrame, events: pl.DataFrame, days: tuple[date, date] | None,
                   tz: str | None = None) -> pl.DataFrame:
    """The files that cover a scope: a day of theirs (`file_days`) falls within `days`, or events in scope come from
    them; with the duplicates of those files and the files that could not be read at all (their days are
    unknown). Adds `in_scope` (events in scope read from the file) and `scope_days` (which of the scope's days
    the file covers, as ranges)."""
    used = events.group_by(pl.col("source").cast(pl.String)).agg(in_scope=pl.len().cast(pl.Int64))
    fdays = file_days(files, tz)
    if days is not None:
        fdays = fdays.filter(pl.col("day").is_between(*days))
    keep = (pl.col("source").is_in(fdays["source"].unique().implode())
            | pl.col("source").is_in(used["source"].implode())
            | (pl.col("error").is_not_null() & pl.col("first").is_null()))
    covering = files.filter(keep)
    dups = files.filter(pl.col("duplicate_of").is_in(covering["source"].implode()))
    out = pl.concat([covering, dups.filter(~pl.col("source").is_in(covering["source"].implode()))])
    return (out.join(used, on="source", how="left").join(_ranges_per_source(fdays), on="source", how="left")
            .with_columns(pl.col("in_scope").fill_null(0), pl.col("scope_days").fill_null("none"))
            .sort("node", "source"))


def _ranges_per_source(fdays: pl.DataFrame) -> pl.DataFrame:
    """source, scope_days: each file's days as "2026-07-01 to 2026-07-03, 2026-07-05" (runs of consecutive days)."""
    runs = (fdays.select("source", "day").unique().sort("source", "day")
            .with_columns(_run=((pl.col("day") - pl.col("day").shift(1)).dt.total_days().ne_missing(1)
                                | (pl.col("source") != pl.col("source").shift(1)).fill_null(True)).cum_sum())
            .group_by("source", "_run").agg(lo=pl.col("day").min(), hi=pl.col("day").max())
            .with_columns(text=pl.when(pl.col("lo") == pl.col("hi")).then(pl.col("lo").dt.to_string("%Y-%m-%d"))
                          .otherwise(pl.format("{} to {}", pl.col("lo").dt.to_string("%Y-%m-%d"),
                                               pl.col("hi").dt.to_string("%Y-%m-%d")))))
    return runs.sort("source", "_run").group_by("source", maintain_order=True).agg(
        scope_days=pl.col("text").str.join(", "))


def node_coverage(files: pl.DataFrame, days: tuple[date, date] | None, tz: str | None = None,
                  nodes: Sequence[str] | None = None) -> pl.DataFrame:
    """Per node (of `files`, or every one of `nodes`: a node without any file in the scope is listed too), the
    scope's days with a (non-duplicate) file and those without: node, days, covered, missing (ranges), partial
    (days of files read only in part, as ranges). Read from `metrics.coverage_gaps`, the same grid as the gaps."""
    schema = {"node": pl.String, "days": pl.Int64, "covered": pl.Int64, "missing": pl.String, "partial": pl.String}
    if days is None or (files.is_empty() and not nodes):
        return pl.DataFrame(schema=schema)
    none = pl.DataFrame(schema={"node": pl.String, "timestamp": files.schema.get("first", pl.Datetime("ms", "UTC"))})
    grid = coverage_gaps(none, files, tz, days=days, nodes=list(nodes or ()))
    rows = []
    for node, part in grid.group_by("node", maintain_order=True):
        have = part.filter(pl.col("files") > 0)
        cut = part.filter(pl.col("status") == "partial")["day"]
        rows.append({"node": node[0], "days": part.height, "covered": have.height,
                     "missing": day_ranges(part.filter(pl.col("files") == 0)["day"]),
                     "partial": day_ranges(cut) if cut.len() else ""})
    return pl.DataFrame(rows, schema=schema).sort("node") if rows else pl.DataFrame(schema=schema)


def coverage(events: pl.DataFrame, files: pl.DataFrame, days: tuple[date, date] | None, tz: str | None = None,
             nodes: Sequence[str] = (), **working: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The scope's coverage as the report shows it, from one grid: (`node_coverage`, the working days with a gap:
    node, day, files, events, status)."""
    gaps = coverage_gaps(events, files, tz, only_gaps=True, days=days, nodes=list(nodes), **working)
    return node_coverage(files, days, tz, nodes), gaps


def names_text(values: Sequence[str], limit: int = 40) -> str:
    """Names as "a, b, c and 12 more"."""
    values = list(values)
    text = ", ".join(values[:limit])
    return text + (f" and {len(values) - limit} more" if len(values) > limit else "")

