"""Turn a batch of lines (from many files at once) into events, attached lines and rejects, with polars
expressions over whole columns.

Every line ends up in exactly one place: the first line of an event, a line attached to the event above it
(a stack trace, the multi-line Data of an Identity Server record), a blank line, or a reject with a reason.
The line's start (time, level) is cut by position when it has MI's fixed-width shape, else by the layouts'
patterns. Change records in the products' compact JSON are cut with `str.find`/`slice` at their fixed keys,
whatever their values, so the speed does not depend on how often messages repeat; only records that are not
in that form (key order changed, the documentation's curly quotes, API-M 4.1's invalid JSON, escapes other
than \\") take the tolerant record-by-record path. Other messages are read by the formats' patterns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from audit_lib.events.zones import CLUE_KEYS, has_clue
from audit_lib.intake.formats import Formats, MessageFormat
from audit_lib.intake.messages import MessageMemo, once
from audit_lib.intake.patterns import cut_text as _cut
from audit_lib.intake.patterns import read_patterns
from audit_lib.intake.reading import TOO_LONG, clip_text
from audit_lib.intake.repeats import gathered, repeats, scattered
from audit_lib.intake.times import steady_offset

MAX_REJECT_TEXT = 4000
# wall-clock times outside these years are rejected: they are damage, and would overflow zone arithmetic
TIME_RANGE = (datetime(1900, 1, 1), datetime(2200, 1, 1))
_STR = r'"((?:[^"\\]|\\.)*)"'
# fields every message format fills in
_EVENT_FIELDS = ["product", "user", "action", "artifact_type", "artifact", "outcome", "details"]
_HEADER_FIELDS = ["tenant", "ts", "correlation", "level", "body"]
_REJECTS = {"fid": pl.UInt32, "line": pl.UInt32, "text": pl.String, "reason": pl.String}
_COUNTS = {"fid": pl.UInt32, "attached": pl.UInt32, "blank": pl.UInt32}
MESSAGE_SCHEMA = {"row": pl.UInt32, "product": pl.String, "user": pl.String, "action": pl.String,
                  "artifact_type": pl.String, "artifact": pl.String, "outcome": pl.String, "details": pl.String,
                  "_format": pl.String, "_open": pl.Boolean, "reason": pl.String}


@dataclass
class Parsed:
    events: pl.DataFrame  # fid, line, wall (naive local time), level, product ... details, attachment
    rejects: pl.DataFrame  # fid, line, text, reason
    counts: pl.DataFrame  # fid, attached, blank


def parse_batch(lines: pl.DataFrame, fmts: Formats, memo: MessageMemo | None = None, *,
                counting: bool = False, tz: str = "UTC") -> Parsed:
    """Parse a batch of lines: columns `fid` (file), `line` (UInt32), `text`, `start` (first line of a run of
    whole events: nothing above it continues into it) and `cut` (a last line that ends without a line break).
    `memo` carries the messages read in the load's earlier batches (see `message_memo`). `counting=True` reads
    what counts need: change records' artifacts are left unread (null), and their details are kept only where
    they may hold a clue to the servers' zone (`events.zones.CLUE_KEYS`); each event row stands for `n` events
    from `wall` to `wall_last`: a file's events whose message repeats are counted as one where that is safe with
    the times read in `tz` (see `intake.repeats`)."""
    df = _split_header(lines.with_row_index("row"), fmts)
    headed, other = _split(df, pl.col("body").is_not_null())
    other = other.select("row", "fid", "line", "text", "grp", "cut")
    del df
    lo, hi = TIME_RANGE
    timed, out_of_range = _split(headed, pl.col("wall").is_between(lo, hi, closed="left"))
    rejects = [out_of_range.select(
        "row", reason=pl.when(pl.col("wall").is_null()).then(pl.lit("unreadable timestamp"))
        .otherwise(pl.format("timestamp out of range (year {}; kept are {} to {})", pl.col("wall").dt.year(),
                             pl.lit(lo.year), pl.lit(hi.year - 1))))]
    rows = None  # the lines of gathered events
    if counting and other.height == 0 and repeats(timed) and steady_offset(timed["wall"], tz) is not None:
        timed, rows = gathered(timed.drop("text"))
    elif counting:
        timed = timed.with_columns(wall_last=pl.col("wall"), n=pl.lit(1, pl.UInt32))

    messages = read_messages(timed.select("row", "body", "tenant"), fmts, memo, counting=counting)
    # the formats' parts hold each row once: back in row order, they line up with `timed`
    if not messages["row"].is_sorted():
        messages = messages.sort("row")
    events = pl.concat([timed.drop("body", "text", strict=False), messages.drop("row")], how="horizontal")
    del timed
    events, failed = _split(events, pl.col("reason").is_null())
    if rows is not None:  # a reject is a line, and a clue is counted by its event's minute: back to the lines
        failed = scattered(failed, rows) if failed.height else failed
        spread, events = _split(events, (pl.col("n") > 1) & has_clue(pl.col("details")))
        if spread.height:
            events = pl.concat([events, scattered(spread, rows)]).sort("row")
        del rows
    rejects.append(failed.select("row", "reason"))

    if other.height == 0 and not any(r.height for r in rejects):  # the usual batch: every line an event
        return Parsed(_finish_events(events, other, fmts), pl.DataFrame(schema=_REJECTS),
                      pl.DataFrame(schema=_COUNTS))
    # lines without a header: blank, attached to the event above, or rejected
    blank_mask = other["text"].str.contains(r"^\s*$")
    attached, orphans = _attach(other.filter(~blank_mask), events, fmts)
    events = _finish_events(events, attached, fmts)
    rejected = pl.concat(rejects)
    rejected = lines.select("fid", "line", "text", "cut").with_row_index("row").join(rejected, on="row") \
        if rejected.height else rejected.select("row", "reason", fid=pl.lit(0, pl.UInt32), line=pl.lit(0, pl.UInt32),
                                                text=pl.lit(None, pl.String), cut=pl.lit(False))
    rejects_df = pl.concat([rejected.select("fid", "line", "text", "reason", "cut"),
                            orphans.select("fid", "line", "text", "reason", "cut")])
    rejects_df = rejects_df.with_columns(
        reason=pl.when(pl.col("text").str.starts_with(TOO_LONG)).then(_too_long_reason())
        .when(pl.col("cut")).then(pl.lit("truncated line (the file ends in the middle of it)"))
        .otherwise(pl.col("reason")),
        text=clip_text(pl.col("text"), MAX_REJECT_TEXT),
    ).drop("cut").sort("fid", "line")
    counts = pl.concat([
        attached.group_by("fid").agg(attached=pl.len(), blank=pl.lit(0, pl.UInt32)),
        other.filter(blank_mask).group_by("fid").agg(attached=pl.lit(0, pl.UInt32), blank=pl.len()),
    ]).group_by("fid").agg(pl.col("attached", "blank").sum())
    return Parsed(events, rejects_df, counts)


def _split(df: pl.DataFrame, keep: pl.Expr) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows where `keep` holds, the others), without copying the frame when all rows go one way."""
    mask = df.select(keep.fill_null(False)).to_series()
    if mask.all():
        return df, df.clear()
    if not mask.any():
        return df.clear(), df
    return df.filter(mask), df.filter(~mask)


def _too_long_reason() -> pl.Expr:
    n = pl.col("text").str.split_exact("\x00", 3).struct.field("field_2").cast(pl.Int64, strict=False)
    return pl.format("line too long ({} characters; the cap is Limits.max_line)", n)


def _split_header(lines: pl.DataFrame, fmts: Formats) -> pl.DataFrame:
    """Add the layout fields (tenant, correlation, level, body), the wall-clock time `wall` and `grp`, the
    number of headed lines so far (an event and the lines that continue it share one `grp`)."""
    df = lines
    if fast := fmts.fast_header:
        # the products' own fixed-width start: cut it with slices instead of a regular expression
        df = _fixed_start(df.with_columns(tenant=pl.lit(None, pl.String), correlation=pl.lit(None, pl.String)),
                          "text", fast)
        if prefix := fast.get("tenant_prefix"):
            df = _after_tenant(df, prefix, fast)
    else:
        df = df.with_columns([pl.lit(None, pl.String).alias(c) for c in _HEADER_FIELDS])
    # the other lines (API-M's and IS's "TID: [..]" starts, the documentation's): the layouts' patterns
    todo = df["body"].is_null().arg_true()
    for lay in fmts.layouts:
        if todo.len() == 0:
            break
        # the pattern matches the start; the message is the rest (capturing it too would cost 3x as much)
        sub = df["text"].gather(todo)
        groups = sub.str.extract_groups(f"(?P<_head>{lay.pattern})").struct.unnest()
        found = groups["_head"].is_not_null()
        groups = groups.with_columns(body=pl.DataFrame({"t": sub, "h": groups["_head"]}).select(
            _cut(pl.col("t"), pl.col("h").str.len_bytes(), pl.col("t").str.len_bytes())).to_series())
        at = todo.filter(found)
        df = df.with_columns([df[c].scatter(at, groups[c].filter(found)) for c in _HEADER_FIELDS
                              if c in groups.columns])
        todo = todo.filter(~found)
    formats = list(dict.fromkeys(f for lay in fmts.layouts for f in lay.timestamp_formats))
    headed = pl.col("body").is_not_null()
    return df.with_columns(wall=read_wall_times(df["ts"], formats),
                           grp=(headed | pl.col("start")).cum_sum()).drop("ts")


def _after_tenant(df: pl.DataFrame, prefix: str, fast: dict) -> pl.DataFrame:
    """The fixed-width start after a tenant (API Manager's "TID: [-1234] "), for lines no field was cut of yet:
    the tenant runs from `prefix` to the first "]", which a space and the start follow."""
    todo = (df["body"].is_null() & df["text"].str.starts_with(prefix)).arg_true()
    if todo.len() == 0:
        return df
    t = pl.col("t")
    end = t.str.find("]", literal=True)
    sub = pl.DataFrame({"t": df["text"].gather(todo)}).select(
        tenant=_cut(t, len(prefix), end - len(prefix)),
        rest=pl.when(_cut(t, end, 2) == "] ").then(_cut(t, end + 2, t.str.len_bytes())))
    sub = _fixed_start(sub, "rest", fast)
    found = sub["body"].is_not_null()
    at = todo.filter(found)
    return df.with_columns([df[c].scatter(at, sub[c].filter(found)) for c in ("tenant", "ts", "level", "body")])


def _fixed_start(df: pl.DataFrame, column: str, fast: dict) -> pl.DataFrame:
    """ts, level and body of lines of `column` that start in the products' fixed-width form (null for the others):
    the message begins where the start's pattern ends. Most lines have the usual start, whose end is found by a
    match without a capture and the first "}"; only the others run the pattern with its capture (several times
    the cost), and its match's length is kept."""
    text = pl.col(column)
    if "usual" not in fast:
        return _sliced(df.with_columns(_head=_head_length(text, fast)), text, fast)
    usual = df.select(text.str.contains(fast["usual"]).fill_null(False)).to_series()
    df = df.with_columns(_head=pl.when(usual).then(text.str.find("}", literal=True).cast(pl.Int64) + 4))
    if not usual.all():
        todo = (~usual).arg_true()
        other = pl.DataFrame({column: df[column].gather(todo)}).select(_head_length(text, fast)).to_series()
        df = df.with_columns(df["_head"].scatter(todo, other))
    return _sliced(df, text, fast)


def _head_length(text: pl.Expr, fast: dict) -> pl.Expr:
    return text.str.extract(fast["match"], 0).str.len_chars().cast(pl.Int64)  # polars slices faster by Int64


def _sliced(df: pl.DataFrame, text: pl.Expr, fast: dict) -> pl.DataFrame:
    head = pl.col("_head")
    return df.with_columns(ts=pl.when(head.is_not_null()).then(text.str.slice(*fast["ts"])),
                           level=pl.when(head.is_not_null()).then(text.str.slice(*fast["level"]).str.strip_chars()),
                           body=text.str.slice(head)).drop("_head")


def read_wall_times(ts: pl.Series, formats: list[str]) -> pl.Series:
    """Wall-clock time stamps (naive) read with the first format that fits."""
    # no cache: a log's time stamps are nearly all distinct (the cache costs as much again as the reading)
    naive = ts.str.strptime(pl.Datetime("ms"), formats[0], strict=False, cache=False)
    for fmt in formats[1:]:  # the other formats only for what the first did not read
        todo = (naive.is_null() & ts.is_not_null()).arg_true()
        if todo.len() == 0:
            break
        naive = naive.scatter(todo, ts.gather(todo).str.strptime(pl.Datetime("ms"), fmt, strict=False, cache=False))
    return naive


def read_messages(bodies: pl.DataFrame, fmts: Formats, memo: MessageMemo | None = None, *,
                  counting: bool = False) -> pl.DataFrame:
    """Read each message (columns `row`, `body`, `tenant`) with the formats in order: its event fields, or a
    `reason` for a message that no format reads. Each distinct message is read once (see `intake.messages`)."""
    def read(df: pl.DataFrame) -> pl.DataFrame:
        return _read_messages(df, fmts, counting).with_columns(pl.col(_REPEATED).cast(pl.Categorical))

    record = bodies["body"].str.starts_with("{")  # the others may still be records, after white space
    if record.all() or not record.any():
        return once(bodies, read, memo and (memo.records if record.any() else memo.others))
    return pl.concat([once(bodies.filter(record), read, memo and memo.records),
                      once(bodies.filter(~record), read, memo and memo.others)])


# read fields with few distinct values: categoricals where they are read (once a message), not per event
_REPEATED = ["product", "user", "action", "artifact_type", "artifact", "outcome", "_format"]


def _read_messages(bodies: pl.DataFrame, fmts: Formats, counting: bool = False) -> pl.DataFrame:
    parts: list[pl.DataFrame] = []
    rest = bodies.with_columns(msg=pl.col("body").str.strip_chars())
    is_json = rest["msg"].str.starts_with("{")
    if is_json.any():
        parts.append(_json_records(rest.filter(is_json), fmts, counting))
        rest = rest.filter(~is_json)
    *read, rest = read_patterns(rest, fmts)  # the last: what no format read
    parts += [*read, rest.with_columns(reason=pl.lit("unrecognised message"))]
    return pl.concat([p.select([pl.col(c).cast(t) if c in p.columns else pl.lit(None, t).alias(c)
                                for c, t in MESSAGE_SCHEMA.items()]) for p in parts])


def _json_records(records: pl.DataFrame, fmts: Formats, counting: bool = False) -> pl.DataFrame:
    parts = []
    if (jf := fmts.json_format) is not None:
        compact, records = _compact_records(records, jf, counting)
        parts.append(compact)
    parts.append(_tolerant_records(records, fmts))
    return pl.concat([p.select([pl.col(c).cast(t) if c in p.columns else pl.lit(None, t).alias(c)
                                for c, t in MESSAGE_SCHEMA.items()]) for p in parts])


def _compact_records(rec: pl.DataFrame, jf: MessageFormat,
                     counting: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Change records in the compact form the products write (`{"performedBy":"u","action":"a","type":"t",
    "info":...}`), cut at their keys; returns (events, the records left for the tolerant path)."""
    k = jf.keys
    msg = pl.col("msg")
    head = f'{{"{k["user"]}":"'
    a_key, i_key = f'","{k["action"]}":"', f'","{k["info"]}":'
    t_keys = [f'","{t}":"' for t in k["artifact_type"]]
    finds = {f"_t{i}": msg.str.find(t, literal=True) for i, t in enumerate(t_keys)}
    df = rec.with_columns(p_a=msg.str.find(a_key, literal=True), p_i=msg.str.find(i_key, literal=True), **finds)
    found = list(zip([pl.col(c) for c in finds], t_keys, strict=True))
    df = df.with_columns(
        p_t=pl.coalesce([c for c, _ in found]),
        t_len=pl.coalesce([pl.when(c.is_not_null()).then(pl.lit(len(t), pl.Int64)) for c, t in found]),
        typkey=pl.coalesce([pl.when(c.is_not_null()).then(pl.lit(t[3:-3])) for c, t in found]),
    ).drop(*finds)
    n = msg.str.len_bytes()
    df = df.with_columns(  # `find` gives byte offsets: cut bytes (always at ASCII quotes, so valid UTF-8)
        user=_cut(msg, len(head), pl.col("p_a") - len(head)),
        action=_cut(msg, pl.col("p_a") + len(a_key), pl.col("p_t") - pl.col("p_a") - len(a_key)),
        artifact_type=_cut(msg, pl.col("p_t") + pl.col("t_len"), pl.col("p_i") - pl.col("p_t") - pl.col("t_len")),
        info=_cut(msg, pl.col("p_i") + len(i_key), n - pl.col("p_i") - len(i_key) - 1),
    )
    plain = pl.all_horizontal([~pl.col(c).str.contains(q, literal=True) for c in ("user", "action", "artifact_type")
                               for q in ('"', "\\")])
    info = pl.col("info")
    as_string = info.str.starts_with('"')
    # inside a JSON-encoded string the only escape the fast path decodes is \" (no other backslash, no bare ")
    simple_string = info.str.contains(r'^"(?:[^"\\]|\\")*"$')
    simple_object = info.str.starts_with("{") & ~info.str.contains("\\", literal=True)
    fast = (msg.str.starts_with(head) & msg.str.ends_with("}") & pl.col("p_a").is_not_null()
            & pl.col("p_t").is_not_null() & pl.col("p_i").is_not_null()
            & (pl.col("p_a") < pl.col("p_t")) & (pl.col("p_t") < pl.col("p_i")) & plain
            & (simple_string | simple_object | (info == "null")))
    good, slow = _split(df.with_columns(_as_string=as_string.fill_null(False)), fast)
    slow = slow.select(rec.columns)
    if counting:  # no details but those that may hold a zone clue (decoding the others costs 4x this test)
        good = good.with_columns(info=pl.when(info.str.contains(_CLUE_KEY)).then(info))
    inner = info.str.strip_prefix('"').str.strip_suffix('"')
    details = (pl.when(pl.col("_as_string")).then(inner.str.replace_all('\\"', '"', literal=True))
               .when(info == "null").then(pl.lit(None, pl.String)).otherwise(info))
    good = good.with_columns(details=details).with_columns(
        product=_product_expr(jf), _format=pl.lit(jf.name), **{f: pl.lit(v) for f, v in jf.fields.items()})
    return (good.with_columns(artifact=pl.lit(None, pl.String)) if counting else _with_artifact(good, jf)), slow


# a clue's key in a record's info, encoded or not ("at":, \"at\":)
_CLUE_KEY = "(?:" + "|".join(re.escape(k) for k in CLUE_KEYS) + r')\\?":'



def _with_artifact(df: pl.DataFrame, jf: MessageFormat) -> pl.DataFrame:
    """The artifact named by a record's details: its type's key (`proxyName`, ...), else any `...Name`/`...Id`
    key (the broad pattern runs only where the first found nothing)."""
    primary = "|".join(re.escape(k) for k in jf.artifact_keys)
    # most records name it first: a match anchored there is the leftmost one, found at twice the speed
    df = df.with_columns(artifact=pl.col("details").str.extract(rf'^\{{\s*"(?:{primary})"\s*:\s*"([^"\\]*)"', 1))
    for pattern in (rf'"(?:{primary})"\s*:\s*"([^"\\]*)"', r'"\w*(?:Name|Id|name|id)"\s*:\s*"([^"\\]*)"'):
        todo = (df["artifact"].is_null() & df["details"].is_not_null()).arg_true()
        if todo.len():
            df = df.with_columns(df["artifact"].scatter(todo, df["details"].gather(todo).str.extract(pattern, 1)))
    return df


def _product_expr(jf: MessageFormat) -> pl.Expr:
    """The product a change record comes from: by its type key (API-M's `typ`) or its line's `TID:` prefix."""
    product = pl.lit(jf.product)
    for key, value in jf.product_when.items():
        if key == "tenant":
            product = pl.when(pl.col("tenant").is_not_null()).then(pl.lit(value)).otherwise(product)
    for key, value in jf.product_when.items():
        if key != "tenant":
            product = pl.when(pl.col("typkey") == key).then(pl.lit(value)).otherwise(product)
    return product


def _tolerant_records(rec: pl.DataFrame, fmts: Formats) -> pl.DataFrame:
    """Record by record reading of JSON messages not in the compact form (few in practice)."""
    rows = []
    for row, body, tenant in rec.select("row", "body", "tenant").iter_rows():
        out = read_json_record(body, fmts.json_formats, tenant)
        rows.append({"row": row, "reason": out} if isinstance(out, str) else {"row": row, **out})
    return pl.DataFrame(rows, schema={c: MESSAGE_SCHEMA[c] for c in MESSAGE_SCHEMA}, orient="row") if rows else \
        pl.DataFrame(schema=MESSAGE_SCHEMA)


_CURLY = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"'})


def read_json_record(body: str, formats: tuple[MessageFormat, ...], tenant: str | None = None) -> dict | str:
    """Read one JSON message tolerantly with the first JSON format whose keys it has; return the event
    fields, or the reason it cannot be read."""
    text = body.translate(_CURLY).strip()
    try:
        obj = json.loads(text)
    except RecursionError:
        return "invalid JSON (nested too deeply)"
    except ValueError:
        obj = None
    valid = isinstance(obj, dict)
    if not valid and not text.endswith("}"):
        return "truncated JSON"
    try:
        for jf in formats:
            rec = _record_fields(obj if valid else _salvage(text, jf), jf, tenant)
            if rec is not None:
                return rec
    except RecursionError:
        return "invalid JSON (nested too deeply)"
    return "not a change record" if valid else "invalid JSON"


def _salvage(text: str, jf: MessageFormat) -> dict:
    """The key/value pairs that can be recovered from a record that is not valid JSON."""
    k = jf.keys
    obj: dict = {}
    for key in [k["user"], k["action"], *k["artifact_type"], *([k["artifact"]] if "artifact" in k else [])]:
        if found := re.search(rf'"{re.escape(key)}"\s*:\s*{_STR}', text):
            obj[key] = found.group(1)
    if "info" in k and (found := re.search(rf'"{re.escape(k["info"])}"\s*:\s*"?(\{{.*\}})"?\s*\}}$', text)):
        obj[k["info"]] = found.group(1)
    return obj


def _record_fields(obj: dict, jf: MessageFormat, tenant: str | None) -> dict | None:
    k = jf.keys
    typkey = next((t for t in k["artifact_type"] if t in obj), None)
    if k["user"] not in obj or k["action"] not in obj or typkey is None:
        return None
    if "info" in k:
        info = _decoded_info(obj.get(k["info"]))
        details = _compact(info)
    else:  # the record's other keys are its details
        info = None
        rest = {key: v for key, v in obj.items() if key not in {k["user"], k["action"], typkey, k.get("artifact")}}
        details = _compact(rest) if rest else None
    artifact = obj.get(k["artifact"]) if "artifact" in k else _artifact_of(info, jf)
    product = jf.product
    if tenant is not None and "tenant" in jf.product_when:
        product = jf.product_when["tenant"]
    product = jf.product_when.get(typkey, product)
    user = _text(obj[k["user"]])
    return {"product": product, "user": None if user in jf.null_users else user, "action": _text(obj[k["action"]]),
            "artifact_type": _text(obj[typkey]), "artifact": _text(artifact), "details": details,
            "_format": jf.name, **jf.fields}


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _artifact_of(info: object, jf: MessageFormat) -> str | None:
    if not isinstance(info, dict):
        return None
    for key in jf.artifact_keys:
        if key in info and not isinstance(info[key], dict | list):
            return str(info[key])
    for key, value in info.items():
        if re.search(r"(?:Name|Id|name|id)$", key) and isinstance(value, str):
            return value
    return None


def _decoded_info(info: object) -> object:
    """The info payload, decoding it once more when it is a JSON-encoded string."""
    if not isinstance(info, str):
        return info
    for candidate in (info, info.replace('\\"', '"')):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    # the documentation's samples carry unbalanced quotes: keep the key/value pairs
    pairs = re.findall(r'"(\w+)"\s*:\s*(?:"([^"]*)"?|([\w.+-]+))', info.replace('\\"', '"'))
    return {key: (s or bare).rstrip("}") for key, s, bare in pairs} if pairs else info


def _compact(value: object) -> str | None:
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _attach(other: pl.DataFrame, events: pl.DataFrame, fmts: Formats) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split header-less lines into those that continue the event above them and rejects."""
    if other.height == 0:
        return (other.select("grp", "fid", "line", "text"),
                other.select("fid", "line", "text", "cut", reason=pl.lit(None, pl.String)))
    owners = events.select("grp", _open=pl.col("_open").fill_null(False), _until=_until_expr(fmts))
    cont = pl.any_horizontal([pl.col("text").str.contains(p) for p in fmts.continuations])
    df = other.join(owners, on="grp", how="left").with_columns(
        closer=pl.col("text").str.contains(pl.col("_until")).fill_null(False).cast(pl.Int32))
    closed_before = (pl.col("closer").cum_sum().over("grp") - pl.col("closer")) > 0
    attach = pl.col("_open").is_not_null() & (cont | (pl.col("_open").fill_null(False) & ~closed_before))
    df = df.with_columns(attach=attach & ~pl.col("text").str.starts_with(TOO_LONG))
    reason = pl.when(cont).then(pl.lit("continuation without an event")).otherwise(pl.lit("no timestamp"))
    return df.filter("attach").select("grp", "fid", "line", "text"), df.filter(~pl.col("attach")).select(
        "fid", "line", "text", "cut", reason=reason)


def _until_expr(fmts: Formats) -> pl.Expr:
    """Per event, the pattern of the line that closes its multi-line record (null when none)."""
    expr = pl.lit(None, pl.String)
    for mf in fmts.regex_formats:
        if mf.continues_until:
            expr = pl.when(pl.col("_format") == mf.name).then(pl.lit(mf.continues_until)).otherwise(expr)
    return expr


_OUT = ["fid", "line", "wall", "level", *_EVENT_FIELDS]


def _finish_events(events: pl.DataFrame, attached: pl.DataFrame, fmts: Formats) -> pl.DataFrame:
    """Join the attached lines to their events, take late results from them, keep the event columns."""
    counted = [c for c in ("n", "wall_last") if c in events.columns]  # of counting
    if attached.height == 0:
        return events.select(*_OUT, *counted, attachment=pl.lit(None, pl.String))
    ends = attached.group_by("grp").agg(attachment=pl.col("text").sort_by("line").str.join("\n"))
    events = events.join(ends, on="grp", how="left", maintain_order="left")
    for mf in fmts.regex_formats:
        if mf.continues_until and mf.outcome_map:
            late = pl.col("attachment").str.extract(mf.continues_until, 1)
            mapped = late.replace_strict(mf.outcome_map, default=late.str.to_lowercase())
            events = events.with_columns(outcome=pl.when(pl.col("_format") == mf.name).then(
                pl.coalesce(pl.col("outcome").cast(pl.String), mapped)).otherwise(pl.col("outcome"))
                .cast(pl.Categorical))
    return events.select(*_OUT, *counted, "attachment")
