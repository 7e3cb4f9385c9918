"""Turn the lines of one audit file into events, attached lines and rejects, with polars expressions.

Every line ends up in exactly one place: the first line of an event, a line attached to the event above it
(a stack trace, the multi-line Data of an Identity Server record), a blank line, or a reject with a reason.
The common management-API line is parsed by one regular expression over the whole column; only lines
that are not in the products' compact form (the documentation's curly quotes, API-M 4.1's invalid JSON)
take the tolerant per-line path, which recovers what it can.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import polars as pl

from audit_lib.formats import Formats, MessageFormat

MAX_REJECT_TEXT = 4000
_STR = r'"((?:[^"\\]|\\.)*)"'
# fields every message format fills in; the rest of a format's groups go to `details`
_EVENT_FIELDS = ["product", "user", "action", "artifact_type", "artifact", "outcome", "details"]


@dataclass
class Parsed:
    events: pl.DataFrame  # timestamp, level, line, product ... details, attachment
    rejects: pl.DataFrame  # line, text, reason
    attached: int
    blank: int


def parse_lines(lines: pl.DataFrame, fmts: Formats, tz: str) -> Parsed:
    """Parse one file's lines (columns `line` UInt32, `text` String, in file order)."""
    df = _split_header(lines, fmts, tz)
    headed = df.filter(pl.col("body").is_not_null())
    bad_time = headed.filter(pl.col("timestamp").is_null())
    headed = headed.filter(pl.col("timestamp").is_not_null())

    events, rejects = _parse_messages(headed, fmts)
    rejects.append(bad_time.select("line", "text", reason=pl.lit("unreadable timestamp")))
    events = pl.concat(events, how="diagonal_relaxed") if events else None

    # lines without a header: blank, attached to the event above, or rejected
    other = df.filter(pl.col("body").is_null()).select("line", "text", "grp")
    blank_mask = other["text"].str.contains(r"^\s*$")
    blank = int(blank_mask.sum())
    attached, orphans = _attach(other.filter(~blank_mask), events, fmts)
    rejects.append(orphans)

    if events is None:
        events = pl.DataFrame(schema={"line": pl.UInt32, "grp": pl.UInt32, "timestamp": pl.Datetime("ms", tz),
                                      "level": pl.String})
    events = _finish_events(events, attached, fmts)
    rejects_df = pl.concat([r.select("line", "text", "reason") for r in rejects], how="vertical_relaxed")
    rejects_df = rejects_df.with_columns(_clip_text(pl.col("text"))).sort("line")
    return Parsed(events, rejects_df, attached.height, blank)


def _split_header(lines: pl.DataFrame, fmts: Formats, tz: str) -> pl.DataFrame:
    """Add the layout's groups (tenant, ts, level, logger, body) and the parsed `timestamp`."""
    structs = {f"_h{i}": pl.col("text").str.extract_groups(lay.pattern) for i, lay in enumerate(fmts.layouts)}
    names = [set(re.compile(lay.pattern).groupindex) for lay in fmts.layouts]
    fields = {
        c: pl.coalesce([pl.col(f"_h{i}").struct.field(c) for i in range(len(names)) if c in names[i]]
                       + [pl.lit(None, pl.String)])
        for c in ["tenant", "ts", "correlation", "level", "logger", "body"]
    }
    header = lines.with_columns(**structs).select("line", "text", **fields)
    formats = [f for lay in fmts.layouts for f in lay.timestamp_formats]
    ts = pl.coalesce([pl.col("ts").str.strptime(pl.Datetime("ms"), f, strict=False) for f in formats])
    df = header.with_columns(naive=ts)
    local = pl.col("naive").dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    # a wall-clock time skipped by a daylight-saving jump is read one hour later, not dropped
    shifted = (pl.col("naive") + pl.duration(hours=1)).dt.replace_time_zone(tz, ambiguous="earliest",
                                                                         non_existent="null")
    return df.with_columns(timestamp=pl.coalesce(local, shifted), grp=pl.col("body").is_not_null().cum_sum()
                           ).drop("naive", "ts")


def _parse_messages(headed: pl.DataFrame, fmts: Formats) -> tuple[list[pl.DataFrame], list[pl.DataFrame]]:
    """Match each headed line against the message formats in order; what none matches is rejected."""
    events: list[pl.DataFrame] = []
    rejects: list[pl.DataFrame] = []
    rest = headed
    if (jf := fmts.json_format) is not None:
        fast = rest["body"].str.extract_groups(_json_fast_pattern(jf)).struct.unnest()
        hit = fast["user"].is_not_null()
        matched = pl.concat([rest.filter(hit), fast.filter(hit)], how="horizontal")
        events.append(_json_events(matched, jf))
        rest = rest.filter(~hit)
        is_json = rest["body"].str.contains(r"^\s*\{")
        tolerant, rejected = _json_tolerant(rest.filter(is_json), jf)
        if tolerant.height:
            events.append(_json_events(tolerant, jf))
        rejects.append(rejected)
        rest = rest.filter(~is_json)
    for mf in fmts.regex_formats:
        if rest.height == 0:
            break
        groups = rest["body"].str.extract_groups(mf.pattern).struct.unnest()
        hit = pl.any_horizontal(pl.all().is_not_null()) if groups.width else pl.lit(False)
        mask = groups.select(hit).to_series()
        events.append(_regex_events(pl.concat([rest.filter(mask), groups.filter(mask)], how="horizontal"), mf))
        rest = rest.filter(~mask)
    rejects.append(rest.select("line", "text", reason=pl.lit("unrecognised message")))
    return [e for e in events if e.height], rejects


def _json_fast_pattern(jf: MessageFormat) -> str:
    """The compact form the products write: keys in their usual order, info a string or an object."""
    k = jf.keys
    types = "|".join(re.escape(t) for t in k["artifact_type"])
    plain = r'"([^"\\]*)"'
    return (
        rf'^\{{"{k["user"]}":{plain.replace("(", "(?P<user>", 1)},"{k["action"]}":'
        rf'{plain.replace("(", "(?P<action>", 1)},"(?P<typkey>{types})":{plain.replace("(", "(?P<artifact_type>", 1)},'
        rf'"{k["info"]}":(?:"(?P<info_str>(?:[^"\\]|\\["\\/])*)"|(?P<info_obj>\{{.*\}}))\}}\s*$'
    )


def _json_events(m: pl.DataFrame, jf: MessageFormat) -> pl.DataFrame:
    """Events from change records whose info is split into `info_str` (JSON-encoded) or `info_obj`."""
    unescaped = (
        pl.col("info_str").str.replace_all(r"\\", "\x00", literal=True)
        .str.replace_all(r"\"", '"', literal=True).str.replace_all(r"\/", "/", literal=True)
        .str.replace_all("\x00", "\\", literal=True)
    )
    product = pl.lit(jf.product)
    for key, value in jf.product_when.items():
        cond = pl.col("tenant").is_not_null() if key == "tenant" else pl.col("typkey") == key
        product = pl.when(cond).then(pl.lit(value)).otherwise(product)
    out = m.with_columns(details=pl.coalesce(unescaped, pl.col("info_obj")), product=product)
    primary = "|".join(re.escape(k) for k in jf.artifact_keys)
    artifact = pl.coalesce(
        pl.col("details").str.extract(rf'"(?:{primary})"\s*:\s*{_STR}', 1),
        pl.col("details").str.extract(rf'"\w*(?:Name|Id|name|id)"\s*:\s*{_STR}', 1),
    )
    return out.with_columns(artifact=artifact, **{k: pl.lit(v) for k, v in jf.fields.items()})


_CURLY = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"'})


def _json_tolerant(rows: pl.DataFrame, jf: MessageFormat) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-line reading of change records not in the compact form; few lines in practice."""
    good: list[dict] = []
    bad: list[dict] = []
    for line, text, body in rows.select("line", "text", "body").iter_rows():
        rec = read_change_record(body, jf)
        if isinstance(rec, str):
            bad.append({"line": line, "text": text, "reason": rec})
        else:
            good.append({"line": line, "info_str": None, **rec})
    schema = {"line": pl.UInt32, "user": pl.String, "action": pl.String, "typkey": pl.String,
              "artifact_type": pl.String, "info_str": pl.String, "info_obj": pl.String}
    good_df = pl.DataFrame(good, schema=schema)
    good_df = rows.drop("body").join(good_df, on="line", how="inner")
    bad_df = pl.DataFrame(bad, schema={"line": pl.UInt32, "text": pl.String, "reason": pl.String})
    return good_df, bad_df


def read_change_record(body: str, jf: MessageFormat) -> dict | str:
    """Read one change record tolerantly; return its fields, or the reason it cannot be read."""
    k = jf.keys
    text = body.translate(_CURLY).strip()
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        if not text.endswith("}"):
            return "truncated JSON"
        obj = {}
        for key in [k["user"], k["action"], *k["artifact_type"]]:
            if found := re.search(rf'"{re.escape(key)}"\s*:\s*{_STR}', text):
                obj[key] = found.group(1)
        if found := re.search(rf'"{re.escape(k["info"])}"\s*:\s*"?(\{{.*\}})"?\s*\}}$', text):
            obj[k["info"]] = found.group(1)
    typkey = next((t for t in k["artifact_type"] if t in obj), None)
    if k["user"] not in obj or k["action"] not in obj or typkey is None:
        return "invalid JSON" if obj else "not a change record"
    info = obj.get(k["info"])
    return {"user": str(obj[k["user"]]), "action": str(obj[k["action"]]), "typkey": typkey,
            "artifact_type": str(obj[typkey]), "info_obj": _compact_info(info)}


def _compact_info(info: object) -> str | None:
    """The info payload as compact JSON, decoding it once more when it is a JSON-encoded string."""
    if info is None:
        return None
    if isinstance(info, str):
        for candidate in (info, info.replace('\\"', '"')):
            try:
                info = json.loads(candidate)
                break
            except ValueError:
                continue
        else:  # the documentation's samples carry unbalanced quotes: keep the key/value pairs
            pairs = re.findall(r'"(\w+)"\s*:\s*(?:"([^"]*)"?|([\w.+-]+))', info.replace('\\"', '"'))
            if not pairs:
                return json.dumps(info, ensure_ascii=False)
            info = {key: (s or bare).rstrip("}") for key, s, bare in pairs}
    return json.dumps(info, separators=(",", ":"), ensure_ascii=False)


def _regex_events(m: pl.DataFrame, mf: MessageFormat) -> pl.DataFrame:
    exprs: dict[str, pl.Expr] = {"product": pl.lit(mf.product)}
    for name, mapping in mf.action_from.items():
        exprs["action"] = pl.col(name).replace_strict(mapping, default=pl.col(name))
    if mf.artifact_from:
        exprs["artifact"] = pl.col(mf.artifact_from)
    if mf.outcome_map:
        exprs["outcome"] = pl.col("outcome").replace_strict(mf.outcome_map, default=pl.col("outcome").str.to_lowercase())
    if mf.artifact_type_from_action:
        kind = pl.lit(mf.artifact_type_default)
        for pattern, value in reversed(mf.artifact_type_from_action):
            kind = pl.when(pl.col("action").str.contains(pattern)).then(pl.lit(value)).otherwise(kind)
        exprs["artifact_type"] = kind
    if mf.details:
        exprs["details"] = pl.struct([pl.col(d) for d in mf.details]).struct.json_encode()
    if mf.continues_until:
        exprs["_open"] = pl.col("outcome").is_null()
    m = m.with_columns(**exprs).with_columns(**{k: pl.lit(v) for k, v in mf.fields.items()})
    return m.with_columns(_format=pl.lit(mf.name))


def _attach(other: pl.DataFrame, events: pl.DataFrame | None, fmts: Formats) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split header-less lines into those that continue the event above them and rejects."""
    if events is None or other.height == 0:
        return other.clear().select("grp", "line", "text"), other.select(
            "line", "text", reason=pl.lit("no timestamp"))
    opened = pl.col("_open").fill_null(False) if "_open" in events.columns else pl.lit(False)
    owners = events.select("grp", _open=opened, _until=_until_expr(fmts, events))
    cont = pl.any_horizontal([pl.col("text").str.contains(p) for p in fmts.continuations])
    df = other.join(owners, on="grp", how="left").with_columns(
        closer=pl.col("text").str.contains(pl.col("_until")).fill_null(False).cast(pl.Int32))
    closed_before = (pl.col("closer").cum_sum().over("grp") - pl.col("closer")) > 0
    attach = pl.col("_open").is_not_null() & (cont | (pl.col("_open").fill_null(False) & ~closed_before))
    df = df.with_columns(attach=attach)
    reason = pl.when(cont).then(pl.lit("continuation without an event")).otherwise(pl.lit("no timestamp"))
    return df.filter("attach").select("grp", "line", "text"), df.filter(~pl.col("attach")).select(
        "line", "text", reason=reason)


def _until_expr(fmts: Formats, events: pl.DataFrame) -> pl.Expr:
    """Per event, the pattern of the line that closes its multi-line record (null when none)."""
    expr = pl.lit(None, pl.String)
    if "_format" not in events.columns:
        return expr
    for mf in fmts.regex_formats:
        if mf.continues_until:
            expr = pl.when(pl.col("_format") == mf.name).then(pl.lit(mf.continues_until)).otherwise(expr)
    return expr


def _finish_events(events: pl.DataFrame, attached: pl.DataFrame, fmts: Formats) -> pl.DataFrame:
    """Join the attached lines to their events, take late results from them, keep the event columns."""
    for col in [*_EVENT_FIELDS, "_format"]:
        if col not in events.columns:
            events = events.with_columns(pl.lit(None, pl.String).alias(col))
    ends = attached.group_by("grp").agg(attachment=pl.col("text").sort_by("line").str.join("\n"))
    events = events.join(ends, on="grp", how="left")
    for mf in fmts.regex_formats:
        if mf.continues_until and mf.outcome_map:
            late = pl.col("attachment").str.extract(mf.continues_until, 1)
            mapped = late.replace_strict(mf.outcome_map, default=late.str.to_lowercase())
            events = events.with_columns(outcome=pl.when(pl.col("_format") == mf.name).then(
                pl.coalesce("outcome", mapped)).otherwise(pl.col("outcome")))
    return events.select("timestamp", "line", "level", *_EVENT_FIELDS, "attachment").sort("line")


def _clip_text(text: pl.Expr) -> pl.Expr:
    n = text.str.len_chars()
    return pl.when(n > MAX_REJECT_TEXT).then(
        pl.format("{}… [{} more characters]", text.str.slice(0, MAX_REJECT_TEXT), n - MAX_REJECT_TEXT)
    ).otherwise(text)
