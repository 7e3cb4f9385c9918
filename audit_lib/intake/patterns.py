"""Messages read by the formats' line patterns (every product's messages that are not JSON records), in the formats'
order: each line goes to the first format whose pattern matches it. A pattern is matched with a plain `contains`
unless its format read most lines of the last batch (then its groups are captured at once); a format's `split`
cuts the groups where that reads them as the pattern would.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

from audit_lib.intake.formats import Formats, MessageFormat

_LIKELY: dict[str, float] = {}  # per format, the share of the remaining lines it read in the last batch
_SHARE: dict[str, float] = {}  # per format, the share of all the lines with no record that it read in the last batch


def read_patterns(rest: pl.DataFrame, fmts: Formats) -> list[pl.DataFrame]:
    """The events of the messages (`msg`, and the columns to keep) the formats' patterns read, one frame per format
    that read any, and last the messages none of them read."""
    parts: list[pl.DataFrame] = []
    order, total = fmts.regex_formats, rest.height
    lead = max(order, key=lambda mf: _SHARE.get(mf.name, 0.0), default=None)
    read = dict.fromkeys((m.name for m in order), 0)  # lines each format read in this batch
    rest = rest.with_columns(_tried=pl.lit(False))
    if total and lead is not None and _SHARE.get(lead.name, 0.0) > 0.5 and lead is not order[0]:
        # most lines were of a later format (MI's sign-ins come last): it reads first the lines that no earlier
        # format matches, found in one pass for all of them, instead of each earlier one failing on every line
        earlier = rest["msg"].str.contains(_any_of(tuple(m.pattern for m in order[:order.index(lead)])))
        hit, left = _read_format(rest.filter(~earlier), lead)
        parts += hit
        read[lead.name] = sum(h.height for h in hit)
        rest = pl.concat([rest.filter(earlier), left.with_columns(_tried=pl.lit(True))])
    for mf in order:
        if rest.height == 0:
            break
        tried = mf is lead and bool(rest["_tried"].any())  # then only the lines it has not seen yet
        hit, left = _read_format(rest.filter(~pl.col("_tried")) if tried else rest, mf)
        parts += hit
        read[mf.name] += sum(h.height for h in hit)
        rest = pl.concat([left, rest.filter("_tried")]) if tried else left
    if total:
        _SHARE.update({name: n / total for name, n in read.items()})
    return [*parts, rest.drop("_tried")]


def _read_format(rest: pl.DataFrame, mf: MessageFormat) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    """The events of the lines `mf` reads (none, or one frame), and the lines it does not."""
    if rest.height == 0:
        return [], rest
    if _LIKELY.get(mf.name, 0.0) > 0.5 and mf.split is None:  # most were of this format: capture at once
        groups = rest["msg"].str.extract_groups(mf.pattern).struct.unnest()
        mask = groups.select(pl.any_horizontal(pl.all().is_not_null())).to_series()
        hit, groups = rest.filter(mask), groups.filter(mask)
    else:  # a plain match is much cheaper than capturing groups
        mask = rest["msg"].str.contains(mf.pattern)
        hit = rest.filter(mask)
        groups = _groups(hit["msg"], mf) if hit.height else None
    _LIKELY[mf.name] = hit.height / rest.height
    if hit.height == 0:
        return [], rest
    return [_regex_events(pl.concat([hit, groups], how="horizontal"), mf)], rest.filter(~mask)


@lru_cache(maxsize=64)
def _any_of(patterns: tuple[str, ...]) -> str:
    """One pattern that matches where any of `patterns` does (their groups made plain: names may repeat)."""
    return "|".join("(?:" + re.sub(r"\(\?P<\w+>", "(?:", p) + ")" for p in patterns)


def _groups(msg: pl.Series, mf: MessageFormat) -> pl.DataFrame:
    """The pattern's groups of messages it matches: cut by the format's `split` where that reads them as the
    pattern would, captured by the pattern for the rest."""
    if mf.split is None:
        return msg.str.extract_groups(mf.pattern).struct.unnest()
    groups = split_groups(msg, mf)
    todo = (~groups["_split"]).arg_true()
    groups = groups.drop("_split")
    if todo.len():
        captured = msg.gather(todo).str.extract_groups(mf.pattern).struct.unnest()
        groups = groups.with_columns([groups[c].scatter(todo, captured[c]) for c in groups.columns])
    return groups


def split_groups(msg: pl.Series, mf: MessageFormat) -> pl.DataFrame:
    """The pattern's groups of messages it matched (`str.contains`), read by the format's `split`: the message is
    parts between `separator`s, one per group in order (trailing ones may be missing: their groups are null),
    each `label`, then `after`, then the value, which is the group, its surrounding whitespace left out.
    `_split` is false where this is not certain to be the pattern's reading: more parts than groups (the
    separator inside a value), a part that does not start with its label, a value that does not match its
    pattern in `values`; those messages are captured by the pattern instead."""
    sp = mf.split or {}
    names = sorted(re.compile(mf.pattern).groupindex, key=re.compile(mf.pattern).groupindex.get)
    sep, after = sp["separator"], sp["after"]
    df = pl.DataFrame({"_parts": msg.str.split(sep, inclusive=False)})
    ok = [pl.col("_parts").list.len() <= len(names)]
    cols = []
    for i, (name, label) in enumerate(zip(names, sp["labels"], strict=True)):
        part = pl.col("_parts").list.get(i, null_on_oob=True)
        head = rf"^\s*{re.escape(label)}\s*{re.escape(after)}"
        value = cut_text(part, part.str.find(after, literal=True) + len(after.encode()),
                     part.str.len_bytes()).str.strip_chars()
        cols.append(value.alias(name))
        ok.append(part.is_null() | part.str.contains(head))
        if name in sp.get("values", {}):
            ok.append(pl.col(name).is_null() | pl.col(name).str.contains(sp["values"][name]))
    df = df.with_columns(cols)
    return df.select(*names, _split=pl.all_horizontal(ok).fill_null(False))


def cut_text(text: pl.Expr, offset: pl.Expr | int, length: pl.Expr | int) -> pl.Expr:
    """`length` bytes of `text` from byte `offset` (polars' `str.slice` counts characters, `str.find` bytes)."""
    if not isinstance(length, int):
        length = length.clip(lower_bound=0)
    return text.cast(pl.Binary).bin.slice(offset, length).cast(pl.String, strict=False)


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
        present = [d for d in mf.details if m[d].null_count() < m.height]  # parts some line of the batch had
        details = pl.struct([pl.col(d) for d in present]).struct.json_encode() if present else pl.lit(None)
        partial = [d for d in present if m[d].null_count()]
        for d in partial:  # keep only the parts each line had
            details = details.str.replace_all(f'"{d}":null,?', "", literal=False)
        if partial:
            details = details.str.replace(r",\}$", "}")
        exprs["details"] = pl.when(details != "{}").then(details) if len(partial) == len(present) else details
    if mf.continues_until:
        exprs["_open"] = pl.col("outcome").is_null()
    m = m.with_columns(**exprs).with_columns(**{k: pl.lit(v) for k, v in mf.fields.items()})
    if mf.action_when_failed:
        m = m.with_columns(action=pl.when(pl.col("outcome") == "failure").then(pl.lit(mf.action_when_failed))
                           .otherwise(pl.col("action")))
    if mf.null_users:
        m = m.with_columns(user=pl.when(pl.col("user").is_in(list(mf.null_users))).then(None)
                           .otherwise(pl.col("user")))
    return m.with_columns(_format=pl.lit(mf.name))
