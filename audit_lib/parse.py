"""Turn the lines of one audit file into events, attached lines and rejects, with polars expressions.

Every line ends up in exactly one place: the first line of an event, a line attached to the event above it
(a stack trace, the multi-line Data of an Identity Server record), a blank line, or a reject with a reason.
The line's start (time, level) is cut by position when it has MI's fixed-width shape, else by the layouts'
patterns. Messages repeat heavily, so each distinct message is read once (per load, see MessageMemo) by the
formats' patterns over the whole column of distinct messages; only change records that are not in the
products' compact form (the documentation's curly quotes, API-M 4.1's invalid JSON) take the tolerant
message-by-message path, which recovers what it can.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import timedelta

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


class MessageMemo:
    """The distinct messages read so far in one load, shared by the threads that parse its files:
    rotated files of one server repeat each other's messages, so most are read once for all files."""

    def __init__(self, fmts: Formats, limit: int = 200_000) -> None:
        self.fmts, self.limit = fmts, limit
        self.known = pl.DataFrame(schema=MESSAGE_SCHEMA)
        self._lock = threading.Lock()

    def read(self, bodies: pl.DataFrame) -> pl.DataFrame:
        """A table of read messages that holds every body of `bodies` (a column of distinct bodies)."""
        known = self.known
        new = bodies.join(known.select("body"), on="body", how="anti") if known.height else bodies
        parsed = read_messages(new, self.fmts)
        if known.height + parsed.height > self.limit:  # mostly distinct messages: nothing to gain
            return parsed if not known.height else pl.concat([known.join(bodies, on="body", how="semi"), parsed])
        with self._lock:
            fresh = parsed.join(self.known.select("body"), on="body", how="anti") if self.known.height else parsed
            self.known = pl.concat([self.known, fresh]) if self.known.height else fresh
            return self.known


def parse_lines(lines: pl.DataFrame, fmts: Formats, tz: str, memo: MessageMemo | None = None) -> Parsed:
    """Parse one file's lines (columns `line` UInt32, `text` String, in file order)."""
    df = _split_header(lines, fmts, tz)
    headed, other = _split(df, pl.col("body").is_not_null())
    headed, other = headed.drop("text"), other.select("line", "text", "grp")
    del df
    headed, bad_time = _split(headed, pl.col("timestamp").is_not_null())
    rejects = [bad_time.select("line", reason=pl.lit("unreadable timestamp"))]

    # messages repeat (the same proxies toggled again and again): read each distinct one once
    bodies = headed.select(pl.col("body").unique())
    messages = memo.read(bodies) if memo else read_messages(bodies, fmts)
    joined = headed.join(messages, on="body", how="left", maintain_order="left").drop("body")
    del headed
    events, failed = _split(joined, pl.col("reason").is_null())
    rejects.append(failed.select("line", "reason"))
    events = events.with_columns(
        product=pl.when(pl.col("tenant").is_not_null() & pl.col("_tenant_product").is_not_null())
        .then(pl.col("_tenant_product")).otherwise(pl.col("product")))

    # lines without a header: blank, attached to the event above, or rejected
    blank_mask = other["text"].str.contains(r"^\s*$")
    attached, orphans = _attach(other.filter(~blank_mask), events, fmts)

    events = _finish_events(events, attached, fmts)
    rejected = pl.concat(rejects).join(lines, on="line").select("line", "text", "reason")
    rejects_df = pl.concat([rejected, orphans]).with_columns(_clip_text(pl.col("text"))).sort("line")
    return Parsed(events, rejects_df, attached.height, int(blank_mask.sum()))


def _split(df: pl.DataFrame, keep: pl.Expr) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows where `keep` holds, the others), without copying when all rows go one way."""
    mask = df.select(keep.fill_null(False)).to_series()
    if mask.all():
        return df, df.clear()
    return df.filter(mask), df.filter(~mask)


_HEADER_FIELDS = ["tenant", "ts", "correlation", "level", "body"]


def _split_header(lines: pl.DataFrame, fmts: Formats, tz: str) -> pl.DataFrame:
    """Add the layout fields (tenant, correlation, level, body), the parsed `timestamp` and `grp`, the
    number of headed lines so far (an event and the lines that continue it share one `grp`)."""
    parts = []
    rest = lines
    if fast := fmts.fast_header:
        # the products' own fixed-width start: cut it with slices instead of a regular expression
        hit = rest["text"].str.contains(fast["match"])
        sep = fast["body_after"]
        cut = rest if hit.all() else rest.filter(hit)
        parts.append(cut.with_columns(
            tenant=pl.lit(None, pl.String), ts=pl.col("text").str.slice(*fast["ts"]),
            correlation=pl.lit(None, pl.String), level=pl.col("text").str.slice(*fast["level"]).str.strip_chars(),
            body=pl.col("text").str.slice(pl.col("text").str.find(sep, literal=True) + len(sep)),
        ))
        rest = rest.filter(~hit)
    for lay in fmts.layouts:
        if rest.height == 0:
            break
        groups = rest["text"].str.extract_groups(lay.pattern).struct.unnest()
        found = groups["body"].is_not_null()
        have = [c for c in _HEADER_FIELDS if c in groups.columns]
        parts.append(pl.concat([rest.filter(found), groups.filter(found).select(have)], how="horizontal"))
        rest = rest.filter(~found)
    if rest.height or not parts:
        parts.append(rest)
    df = pl.concat(parts, how="diagonal_relaxed").sort("line") if len(parts) > 1 else parts[0]
    for c in _HEADER_FIELDS:
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, pl.String).alias(c))
    formats = list(dict.fromkeys(f for lay in fmts.layouts for f in lay.timestamp_formats))
    return df.with_columns(timestamp=read_times(df["ts"], formats, tz),
                           grp=pl.col("body").is_not_null().cum_sum()).drop("ts")


def read_times(ts: pl.Series, formats: list[str], tz: str) -> pl.Series:
    """Wall-clock time stamps read with the first format that fits, as aware times in `tz`."""
    naive = ts.str.strptime(pl.Datetime("ms"), formats[0], strict=False)
    for fmt in formats[1:]:  # the other formats only for what the first did not read
        todo = (naive.is_null() & ts.is_not_null()).arg_true()
        if todo.len() == 0:
            break
        naive = naive.scatter(todo, ts.gather(todo).str.strptime(pl.Datetime("ms"), fmt, strict=False))
    local = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    skipped = (local.is_null() & naive.is_not_null()).arg_true()
    if skipped.len():  # a wall-clock time skipped by a daylight-saving jump is read one hour later
        later = (naive.gather(skipped) + timedelta(hours=1)).dt.replace_time_zone(tz, ambiguous="earliest")
        local = local.scatter(skipped, later)
    return local


MESSAGE_SCHEMA = {"body": pl.String, "product": pl.String, "user": pl.String, "action": pl.String,
                  "artifact_type": pl.String, "artifact": pl.String, "outcome": pl.String, "details": pl.String,
                  "_tenant_product": pl.String, "_format": pl.String, "_open": pl.Boolean, "reason": pl.String}


def read_messages(bodies: pl.DataFrame, fmts: Formats) -> pl.DataFrame:
    """Read each message (column `body`) with the formats in order: its event fields, or a `reason`
    for a message that no format reads."""
    parts: list[pl.DataFrame] = []
    rest = bodies.with_columns(msg=pl.col("body").str.strip_chars())
    if (jf := fmts.json_format) is not None:
        fast = rest["msg"].str.extract_groups(_json_fast_pattern(jf)).struct.unnest()
        hit = fast["user"].is_not_null()
        parts.append(_json_events(pl.concat([rest.filter(hit), fast.filter(hit)], how="horizontal"), jf))
        rest = rest.filter(~hit)
        is_json = rest["msg"].str.contains(r"^\s*\{")
        parts += _json_tolerant(rest.filter(is_json), jf)
        rest = rest.filter(~is_json)
    for mf in fmts.regex_formats:
        if rest.height == 0:
            break
        groups = rest["msg"].str.extract_groups(mf.pattern).struct.unnest()
        mask = groups.select(pl.any_horizontal(pl.all().is_not_null())).to_series()
        parts.append(_regex_events(pl.concat([rest.filter(mask), groups.filter(mask)], how="horizontal"), mf))
        rest = rest.filter(~mask)
    parts.append(rest.with_columns(reason=pl.lit("unrecognised message")))
    out = pl.concat([p.select([pl.col(c).cast(t) if c in p.columns else pl.lit(None, t).alias(c)
                               for c, t in MESSAGE_SCHEMA.items()]) for p in parts])
    # few distinct values, repeated on every line: categoricals before the join, not after
    return out.with_columns(pl.col("product", "user", "action", "artifact_type", "artifact", "outcome")
                            .cast(pl.Categorical))


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
        if key != "tenant":
            product = pl.when(pl.col("typkey") == key).then(pl.lit(value)).otherwise(product)
    primary = "|".join(re.escape(k) for k in jf.artifact_keys)
    artifact = pl.coalesce(
        pl.col("details").str.extract(rf'"(?:{primary})"\s*:\s*{_STR}', 1),
        pl.col("details").str.extract(rf'"\w*(?:Name|Id|name|id)"\s*:\s*{_STR}', 1),
    )
    return m.with_columns(details=pl.coalesce(unescaped, pl.col("info_obj")), product=product,
                          _tenant_product=pl.lit(jf.product_when.get("tenant")), _format=pl.lit(jf.name)
                          ).with_columns(artifact=artifact, **{k: pl.lit(v) for k, v in jf.fields.items()})


_CURLY = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"'})


def _json_tolerant(rows: pl.DataFrame, jf: MessageFormat) -> list[pl.DataFrame]:
    """Message by message reading of change records not in the compact form (few in practice):
    [the events, the rejects with their reason]."""
    good: list[dict] = []
    bad: list[dict] = []
    for body in rows["body"]:
        rec = read_change_record(body, jf)
        if isinstance(rec, str):
            bad.append({"body": body, "reason": rec})
        else:
            good.append({"body": body, "info_str": None, **rec})
    schema = {"body": pl.String, "user": pl.String, "action": pl.String, "typkey": pl.String,
              "artifact_type": pl.String, "info_str": pl.String, "info_obj": pl.String}
    return [_json_events(pl.DataFrame(good, schema=schema), jf),
            pl.DataFrame(bad, schema={"body": pl.String, "reason": pl.String})]


def read_change_record(body: str, jf: MessageFormat) -> dict | str:
    """Read one change record tolerantly; return its fields, or the reason it cannot be read."""
    k = jf.keys
    text = body.translate(_CURLY).strip()
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    valid = isinstance(obj, dict)
    if not valid:
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
        return "not a change record" if valid else "invalid JSON"
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
        lower = pl.col("outcome").str.to_lowercase()
        exprs["outcome"] = pl.col("outcome").replace_strict(mf.outcome_map, default=lower)
    if mf.artifact_type_from_action:
        kind = pl.lit(mf.artifact_type_default)
        for pattern, value in reversed(mf.artifact_type_from_action):
            kind = pl.when(pl.col("action").str.contains(pattern)).then(pl.lit(value)).otherwise(kind)
        exprs["artifact_type"] = kind
    if mf.details:
        details = pl.struct([pl.col(d) for d in mf.details]).struct.json_encode()
        for d in mf.details:  # keep only the parts the line had
            details = details.str.replace_all(f'"{d}":null,?', "", literal=False)
        details = details.str.replace(r",\}$", "}")
        exprs["details"] = pl.when(details != "{}").then(details)
    if mf.continues_until:
        exprs["_open"] = pl.col("outcome").is_null()
    m = m.with_columns(**exprs).with_columns(**{k: pl.lit(v) for k, v in mf.fields.items()})
    return m.with_columns(_format=pl.lit(mf.name), _tenant_product=pl.lit(None, pl.String))


def _attach(other: pl.DataFrame, events: pl.DataFrame, fmts: Formats) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split header-less lines into those that continue the event above them and rejects."""
    if other.height == 0:
        return other.select("grp", "line", "text"), other.select("line", "text", reason=pl.lit(None, pl.String))
    owners = events.select("grp", _open=pl.col("_open").fill_null(False), _until=_until_expr(fmts))
    cont = pl.any_horizontal([pl.col("text").str.contains(p) for p in fmts.continuations])
    df = other.join(owners, on="grp", how="left").with_columns(
        closer=pl.col("text").str.contains(pl.col("_until")).fill_null(False).cast(pl.Int32))
    closed_before = (pl.col("closer").cum_sum().over("grp") - pl.col("closer")) > 0
    attach = pl.col("_open").is_not_null() & (cont | (pl.col("_open").fill_null(False) & ~closed_before))
    df = df.with_columns(attach=attach)
    reason = pl.when(cont).then(pl.lit("continuation without an event")).otherwise(pl.lit("no timestamp"))
    return df.filter("attach").select("grp", "line", "text"), df.filter(~pl.col("attach")).select(
        "line", "text", reason=reason)


def _until_expr(fmts: Formats) -> pl.Expr:
    """Per event, the pattern of the line that closes its multi-line record (null when none)."""
    expr = pl.lit(None, pl.String)
    for mf in fmts.regex_formats:
        if mf.continues_until:
            expr = pl.when(pl.col("_format") == mf.name).then(pl.lit(mf.continues_until)).otherwise(expr)
    return expr


def _finish_events(events: pl.DataFrame, attached: pl.DataFrame, fmts: Formats) -> pl.DataFrame:
    """Join the attached lines to their events, take late results from them, keep the event columns."""
    if attached.height == 0:
        return events.select("timestamp", "line", "level", *_EVENT_FIELDS, attachment=pl.lit(None, pl.String))
    ends = attached.group_by("grp").agg(attachment=pl.col("text").sort_by("line").str.join("\n"))
    events = events.join(ends, on="grp", how="left", maintain_order="left")
    for mf in fmts.regex_formats:
        if mf.continues_until and mf.outcome_map:
            late = pl.col("attachment").str.extract(mf.continues_until, 1)
            mapped = late.replace_strict(mf.outcome_map, default=late.str.to_lowercase())
            events = events.with_columns(outcome=pl.when(pl.col("_format") == mf.name).then(
                pl.coalesce("outcome", mapped)).otherwise(pl.col("outcome")))
    return events.select("timestamp", "line", "level", *_EVENT_FIELDS, "attachment")


def _clip_text(text: pl.Expr) -> pl.Expr:
    n = text.str.len_chars()
    return pl.when(n > MAX_REJECT_TEXT).then(
        pl.format("{}… [{} more characters]", text.str.slice(0, MAX_REJECT_TEXT), n - MAX_REJECT_TEXT)
    ).otherwise(text)
