"""Findings: what deserves an auditor's attention, from rules kept as data in `audit_lib/checks/rules/*.json`.

Each rule file names an id, a title, a severity (info, low, medium, high), what it means, the PCI DSS v4 and
SOC 2 references it supports, a kind and that kind's parameters:

- `match`: every event that matches `where`, one finding per distinct value of `key`;
- `threshold`: at least `count` matching events within `window` for the same `key` (one finding per burst);
- `sequence`: an event matching `where` followed, within `window`, by one matching `then` with the same `key`;
- `new_term`: a `key` value first seen after the first `baseline` of the events;
- `absence`: no matching event for `working_hours` working hours for the same `key` (working hours, days and
  holidays come from `Settings`), between events, from the scope's start and until its end; with the `nodes`
  the source knows, a node without any event in scope is silent for all of it;
- `baseline`: per actor and day (`key` ["actor", "date"]), against the actor's own history once it has
  `min_history` active days: a day's changes above `volume` (`factor` times their 95th percentile over the
  `baseline` before, and at least `min`), a first change on a node or artifact type (`novel`), or an hour more
  than `hour_margin` hours from any they acted at before; the summary's `{baseline}` states what was usual;
- `external`: metadata only, for findings other modules produce (e.g. a configuration check).

`where` and `then` are a condition or a list of conditions (any may hold); a condition maps a column to a value,
a list of values (case-insensitive), null, true/false, or an object with `in`, `not_in`, `regex`, `not_regex`,
`null` and, on `details`, `key` (a JSON key of the details whose value is tested). Besides the event columns,
rules may use `actor`, `kind` (sign-in, create, delete, ... from `audit_lib.analysis.metrics`), `change`, `sign_in`,
`sign_out`, `failed_sign_in`, `off_hours`, `in_session` and `date` (the local day).

`findings(events)` evaluates every rule with whole-column polars operations and returns `Finding`s in a
stable order with deterministic ids; `extra` joins findings made elsewhere into the same list.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from audit_lib.analysis.conditions import (  # noqa: F401  (RuleError, predicate: re-exported for rule authors)
    BASE_COLUMNS,
    BOOL_COLUMNS,
    Matcher,
    RuleError,
    check_conditions,
    conditions,
    predicate,
)
from audit_lib.analysis.sessions import (
    actor_expr,
    session_ids,
)
from audit_lib.checks.finding import Finding, finding_id, sort_findings
from audit_lib.checks.rule import EVENT_COLUMNS, MAX_EVENTS, Rule, Settings, duration_text, load_rules
from audit_lib.events.vocabulary import UNKNOWN, address_expr


class _Frame(Matcher):
    """The events with a row number `_i`, `actor`, and the derived columns the rules read (the working-time ones
    from the settings)."""

    def __init__(self, events: pl.DataFrame, settings: Settings, rules: Sequence[Rule],
                 span: tuple[datetime | None, datetime | None] | None = None,
                 nodes: Sequence[str] = ()) -> None:
        self.settings = settings
        self.nodes = tuple(nodes)
        ts = events.schema["timestamp"]
        self.tz = settings.tz or getattr(ts, "time_zone", None) or "UTC"
        used = set().union(*(r.columns() for r in rules))
        local = pl.col("timestamp").dt.convert_time_zone(self.tz)
        extra: dict[str, pl.Expr] = {"actor": actor_expr(events)}
        if "off_hours" in used:
            extra["off_hours"] = _off_hours(local, settings)
        if "date" in used:
            extra["date"] = local.dt.date()
        if "address" in used:
            extra["address"] = address_expr()
        super().__init__(events, used, extra)
        if "in_session" in used:
            self.ev = self.ev.with_columns(in_session=session_ids(events, settings.session_timeout).is_not_null())
        lo, hi = span or (None, None)
        self.start: datetime = lo if lo is not None else self.ev["timestamp"].min()
        self.end: datetime = hi if hi is not None else self.ev["timestamp"].max()


def _seconds_of_day(local: pl.Expr) -> pl.Expr:
    return local.dt.hour().cast(pl.Int64) * 3600 + local.dt.minute().cast(pl.Int64) * 60 + local.dt.second()


def _tod(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _off_hours(local: pl.Expr, s: Settings) -> pl.Expr:
    """True outside working hours, on days off and on holidays (in the settings' zone)."""
    sec = _seconds_of_day(local)
    workday = local.dt.date().dt.is_business_day(week_mask=s.week_mask, holidays=list(s.holidays))
    return ~workday | (sec < _tod(s.work_start)) | (sec >= _tod(s.work_end))


def _work_seconds(local: pl.Expr, s: Settings) -> pl.Expr:
    """Working seconds from 1970-01-01 to each time: whole working days before it plus the worked part of its day."""
    start, length = _tod(s.work_start), _tod(s.work_end) - _tod(s.work_start)
    day = local.dt.date()
    days = pl.business_day_count(pl.lit(date(1970, 1, 1)), day, week_mask=s.week_mask, holidays=list(s.holidays))
    today = pl.when(day.dt.is_business_day(week_mask=s.week_mask, holidays=list(s.holidays))).then(
        (_seconds_of_day(local) - start).clip(0, length)).otherwise(0)
    return days.cast(pl.Int64) * length + today


# each kind returns findings from `hits`: event rows (`_i`) with their group columns


def _eval_match(frame: _Frame, rule: Rule) -> list[Finding]:
    rows = frame.select(rule.where, rule.key)
    return _to_findings(frame, rule, rows.select(*rule.key, "_i"), list(rule.key))


def _eval_threshold(frame: _Frame, rule: Rule) -> list[Finding]:
    key = list(rule.key)
    rows = frame.select(rule.where, key).sort([*key, "timestamp", "_i"])
    if rows.height < (rule.count or 1):
        return []
    window = int(rule.window.total_seconds() * 1000)
    new_key = pl.any_horizontal([pl.col(k).ne_missing(pl.col(k).shift(1)) for k in key]).fill_null(True)
    ms = pl.col("timestamp").dt.epoch("ms")
    span = int(rows.select(ms.max() - ms.min()).item()) + window + 1
    # one sorted number line, keys far apart: a window never reaches into the previous key
    rows = rows.with_columns(_k=new_key.cum_sum().cast(pl.Int64)).with_columns(
        _pos=pl.col("_k") * span + (ms - ms.min()), _n=pl.int_range(pl.len(), dtype=pl.Int64))
    pos = rows["_pos"]
    first_in = pos.search_sorted(pos - window, side="right").cast(pl.Int64)  # first row inside (t - window, t]
    rows = rows.with_columns(_from=first_in)
    qualifies = (pl.col("_n") - pl.col("_from") + 1) >= rule.count
    reach = pl.when(qualifies).then(pl.col("_from")).otherwise(pl.lit(2**62, pl.Int64))
    # a row is in a burst when some qualifying window that ends at or after it starts at or before it
    rows = rows.with_columns(_in=reach.reverse().cum_min().reverse() <= pl.col("_n"))
    # a burst goes on while covered rows of one key follow each other within the window
    starts = pl.col("_in") & (~pl.col("_in").shift(1).fill_null(False) | (pl.col("_k") != pl.col("_k").shift(1))
                              | ((pl.col("_pos") - pl.col("_pos").shift(1)) > window).fill_null(True))
    hits = rows.with_columns(_part=starts.cum_sum()).filter(pl.col("_in"))
    return _to_findings(frame, rule, hits.select(*key, "_part", "_i"), [*key, "_part"])


def _eval_sequence(frame: _Frame, rule: Rule) -> list[Finding]:
    key = list(rule.key)
    cast = [pl.col(k).cast(pl.String) for k in key]
    first = frame.select(rule.where, key).select(*cast, "timestamp", _a="_i").sort("timestamp")
    then = frame.select(rule.then, key).select(*cast, "timestamp", _b="_i").sort("timestamp")
    if first.is_empty() or then.is_empty():
        return []
    if (rule.count or 1) > 1:
        return _eval_burst_then(frame, rule, key, first, then)
    pairs = (then.join_asof(first, on="timestamp", by=key, strategy="backward", tolerance=rule.window,
                             check_sortedness=False)
             .filter(pl.col("_a").is_not_null() & (pl.col("_a") != pl.col("_b"))))
    if pairs.is_empty():
        return []
    idx = pl.concat([pairs.select(_part="_a", _i="_a"), pairs.select(_part="_a", _i="_b")]).unique().sort("_i")
    hits = idx.join(frame.ev.select("_i", *key), on="_i", how="left")
    return _to_findings(frame, rule, hits.select(*key, "_part", "_i"), [*key, "_part"])


def _eval_burst_then(frame: _Frame, rule: Rule, key: list[str], first: pl.DataFrame,
                     then: pl.DataFrame) -> list[Finding]:
    """A sequence with a `count`: at least `count` events matching `where` within `window` before an event
    matching `then`, for the same key (failed sign-ins, then one that worked). One finding per burst: the burst's
    events and the `then` events it led to."""
    first = first.sort([*key, "timestamp"]).with_columns(_n=pl.int_range(pl.len(), dtype=pl.Int64).over(key))
    last = then.join_asof(first.sort("timestamp"), on="timestamp", by=key, strategy="backward",
                          tolerance=rule.window, check_sortedness=False).rename({"_n": "_last"})
    opened = (last.filter(pl.col("_last").is_not_null())
              .with_columns(_from=pl.col("timestamp") - rule.window).sort("_from")
              .join_asof(first.sort("timestamp").select(*key, pl.col("timestamp").alias("_from"), _first="_n",
                                                         _p="_a"),
                         on="_from", by=key, strategy="forward", check_sortedness=False)
              .filter(pl.col("_last") - pl.col("_first") + 1 >= rule.count))
    if opened.is_empty():
        return []
    spans = opened.group_by(*key, "_p").agg(pl.col("_first").first(), pl.col("_last").max(), pl.col("_b"))
    burst = spans.join(first.select(*key, "_n", "_a"), on=key, how="inner").filter(
        (pl.col("_n") >= pl.col("_first")) & (pl.col("_n") <= pl.col("_last")))
    idx = pl.concat([burst.select("_p", _i="_a"), spans.explode("_b").select("_p", _i="_b")]).unique()
    hits = idx.rename({"_p": "_part"}).sort("_i").join(frame.ev.select("_i", *key), on="_i", how="left")
    return _to_findings(frame, rule, hits.select(*key, "_part", "_i"), [*key, "_part"])


def _eval_new_term(frame: _Frame, rule: Rule) -> list[Finding]:
    key = list(rule.key)
    cutoff = frame.start + rule.baseline
    if frame.end < cutoff:  # the baseline is not over yet: nothing can be new
        return []
    rows = frame.select(rule.where, key)
    firsts = rows.group_by(key).agg(pl.col("timestamp").min().alias("_seen"))
    new = firsts.filter(pl.col("_seen") >= cutoff).drop("_seen")
    hits = rows.join(new, on=key, how="semi", nulls_equal=True)
    return _to_findings(frame, rule, hits.select(*key, "_i"), key)


def _eval_absence(frame: _Frame, rule: Rule) -> list[Finding]:
    key = list(rule.key)
    s = frame.settings
    limit = int(rule.working_hours * 3600)
    ts = pl.col("timestamp")
    same = pl.all_horizontal([pl.col(k).eq_missing(pl.col(k).shift(1)) for k in key]).fill_null(False)
    last = ~pl.all_horizontal([pl.col(k).eq_missing(pl.col(k).shift(-1)) for k in key]).fill_null(False)
    rows = (frame.select(rule.where, key).sort([*_sortable(key), "timestamp", "_i"])
            .with_columns(_prev=pl.when(same).then(pl.col("_i").shift(1)),
                          _since=pl.when(same).then(ts.shift(1)), _last=last, _first=~same))
    zone = frame.tz
    start_w, end_w = pl.select(_work_seconds(pl.lit(frame.start).dt.convert_time_zone(zone), s).alias("a"),
                               _work_seconds(pl.lit(frame.end).dt.convert_time_zone(zone), s).alias("b")).row(0)
    out = _silent_nodes(frame, rule, rows, end_w - start_w) if key == ["node"] else []
    # working time never exceeds wall-clock time: only wall-clock gaps of `limit` or more need the calendar
    wall = timedelta(seconds=limit)
    dtype = frame.ev.schema["timestamp"]
    lo, hi = pl.lit(frame.start).cast(dtype), pl.lit(frame.end).cast(dtype)
    gaps = rows.filter(((ts - pl.col("_since")) >= wall) | (pl.col("_last") & ((hi - ts) >= wall))
                       | (pl.col("_first") & ((ts - lo) >= wall)))
    if gaps.is_empty():
        return out
    gaps = gaps.with_columns(_w=_work_seconds(ts.dt.convert_time_zone(zone), s),
                             _w0=_work_seconds(pl.col("_since").dt.convert_time_zone(zone), s))
    none = pl.lit(None, pl.UInt32)
    inner = gaps.filter((pl.col("_w") - pl.col("_w0")) >= limit).select(
        *key, _part="_prev", _gap=pl.col("_w") - pl.col("_w0"), _from="_since", _to="timestamp", _prev="_prev",
        _next="_i")
    tail = gaps.filter(pl.col("_last") & ((end_w - pl.col("_w")) >= limit)).select(
        *key, _part="_i", _gap=end_w - pl.col("_w"), _from="timestamp", _to=hi, _prev="_i",
        _next=none)
    # silent from the start of the scope until its first event (only its first event is behind the finding)
    head = gaps.filter(pl.col("_first") & ((pl.col("_w") - start_w) >= limit)).select(
        *key, _part=pl.col("_i").cast(pl.Int64) + 2**32, _gap=pl.col("_w") - start_w, _from=lo,
        _to="timestamp", _prev="_i", _next=none)
    spans = pl.concat([inner, tail, head], how="vertical_relaxed")
    if spans.is_empty():
        return out
    hits = pl.concat([spans.select(*key, "_part", "_gap", "_from", "_to", _i="_prev"),
                      spans.filter(pl.col("_next").is_not_null()).select(*key, "_part", "_gap", "_from", "_to",
                                                                          _i="_next")],
                     how="vertical_relaxed")
    return out + _to_findings(frame, rule, hits, [*key, "_part"], span_from="_from", span_to="_to", silent="_gap")


def _silent_nodes(frame: _Frame, rule: Rule, rows: pl.DataFrame, work: int) -> list[Finding]:
    """A finding for every known node (`frame.nodes`) without any event in scope, when the scope holds at least
    the rule's working hours: silent from its start to its end (no event is behind it)."""
    if work < int(rule.working_hours * 3600) or frame.start is None or frame.end is None:
        return []
    seen = set(rows["node"].cast(pl.String).drop_nulls().to_list())
    silent = [n for n in frame.nodes if n not in seen]
    zone = ZoneInfo(frame.tz)
    first, last = frame.start.astimezone(zone), frame.end.astimezone(zone)
    empty = frame.ev.select([c for c in EVENT_COLUMNS if c in frame.ev.columns]).clear()
    values = {"count": "0", "window": "", "actors": UNKNOWN, "nodes": "", "artifacts": UNKNOWN,
              "silent": str(round(work / 3600, 1)), "first": f"{first:%Y-%m-%d %H:%M}",
              "last": f"{last:%Y-%m-%d %H:%M}"}
    out = []
    for node in silent:
        fields = {**values, "node": node, "nodes": node}
        summary = (string.Formatter().vformat(rule.summary, (), _Missing(fields)) if rule.summary
                   else f"{rule.title}: node {node}")
        out.append(Finding(
            # by the scope's first day, not its end: a watcher's moving scope repeats it at most once a day
            id=finding_id(rule.id, node, "silent", first.date().isoformat()),
            rule=rule.id, title=rule.title, severity=rule.severity, meaning=rule.meaning, references=rule.references,
            node=node, first=first, last=last, count=0, subject=f"node {node}", summary=summary,
            event_rows=empty))
    return out


class _Missing(dict):
    """Template values; a name without one reads "?"."""

    def __missing__(self, key: str) -> str:
        return "?"


def _eval_baseline(frame: _Frame, rule: Rule) -> list[Finding]:
    """One finding per actor and day that stands out against the actor's own history (the days before it): far
    more changes than usual, a node or artifact type never used before, or hours far outside theirs. Only actors
    with `min_history` active days before the day are judged; the finding states the baseline."""
    zone = frame.tz
    rows = (frame.select(rule.where, ["actor", "node", "artifact_type", "date"])
            .filter(pl.col("actor").is_not_null())
            .with_columns(pl.col("actor", "node", "artifact_type").cast(pl.String),
                          _h=pl.col("timestamp").dt.convert_time_zone(zone).dt.hour().cast(pl.Int32))
            .sort("actor", "timestamp", "_i"))
    if rows.is_empty():
        return []
    days = (rows.group_by("actor", "date").agg(_n=pl.len().cast(pl.Int64)).sort("actor", "date")
            .with_columns(_days=pl.int_range(pl.len(), dtype=pl.Int64).over("actor")))  # active days before
    window = f"{int(rule.baseline.total_seconds() // 86400) or 1}d"
    hist = (days.rolling("date", period=window, closed="left", group_by="actor")
            .agg(_in=pl.len().cast(pl.Int64), _lo=pl.col("_n").min(),
                 _hi=pl.col("_n").quantile(0.95, "higher").cast(pl.Int64)))
    days = days.join(hist, on=["actor", "date"], how="left").with_columns(
        _judged=pl.col("_days") >= rule.min_history)
    rows = rows.join(days.select("actor", "date", "_n", "_judged"), on=["actor", "date"], how="left")
    flags: list[pl.Expr] = []
    reasons: list[pl.Expr] = []
    if rule.volume_factor:
        loud = (days.filter(pl.col("_judged") & (pl.col("_in") >= rule.min_history) & (pl.col("_n") >= rule.volume_min)
                            & (pl.col("_n") > pl.col("_hi") * rule.volume_factor))
                .select("actor", "date", _loud=pl.format(
                    "usually {}-{} changes a day on the {} days they changed something in the {} before, {} this day",
                    "_lo", "_hi", "_in", pl.lit(duration_text(rule.baseline)), "_n")))
        rows = rows.join(loud, on=["actor", "date"], how="left")
        flags.append(pl.col("_loud").is_not_null())
        reasons.append(pl.col("_loud"))
    for column in rule.novel:  # first use of a node or artifact type by this actor
        firsts = rows.group_by("actor", column).agg(pl.col("_i").first())["_i"]  # rows are in time order
        rows = rows.with_columns(pl.col("_i").is_in(firsts.implode()).alias(f"_new_{column}"))
        flags.append(pl.col(f"_new_{column}") & pl.col("_judged") & pl.col(column).is_not_null())
        label = "on" if column == "node" else "a change of"
        reasons.append(pl.format(f"never before {label} {{}}", pl.col(column)))
    if rule.hour_margin is not None:  # no earlier act within `hour_margin` hours of this one's (around midnight too)
        m = rule.hour_margin
        firsts = rows.group_by("actor", "_h").agg(_t=pl.col("timestamp").min())
        # per actor and hour, the first act at any hour near it: a row at that time or before is the first there
        near = (firsts.join(pl.DataFrame({"_d": list(range(-m, m + 1))}), how="cross")
                .with_columns(_h=((pl.col("_h") + pl.col("_d")) % 24).cast(pl.Int32))
                .group_by("actor", "_h").agg(_near=pl.col("_t").min()))
        rows = rows.join(near, on=["actor", "_h"], how="left")
        flags.append((pl.col("timestamp") <= pl.col("_near")).fill_null(False) & pl.col("_judged"))
        reasons.append(pl.format(f"at {{}}:00, more than {m} hours from any hour they acted at before",
                                 pl.col("_h").cast(pl.String).str.zfill(2)))
    rows = rows.with_columns(*[f.fill_null(False).alias(f"_f{k}") for k, f in enumerate(flags)])
    hit = pl.any_horizontal([pl.col(f"_f{k}") for k in range(len(flags))])
    if rule.volume_factor:  # a loud day: all of its changes are behind the finding
        hit = hit | pl.col("_f0")
    hits = rows.filter(hit)
    if hits.is_empty():
        return []
    why = pl.concat([hits.filter(pl.col(f"_f{k}")).select("actor", "date", "_i", _why=r)
                     for k, r in enumerate(reasons)]).unique(["actor", "date", "_why"]).sort("actor", "date", "_i")
    text = why.group_by("actor", "date", maintain_order=True).agg(
        _why=pl.col("_why").head(6).str.join("; ") + pl.when(pl.len() > 6).then(
            pl.format("; and {} more", pl.len() - 6)).otherwise(pl.lit("")))
    hits = hits.join(text, on=["actor", "date"], how="left").select("actor", "date", "_i", "_why")
    return _to_findings(frame, rule, hits, ["actor", "date"], text="_why")


def _sortable(columns: Sequence[str]) -> list[pl.Expr]:
    """Sort keys that only need to bring equal values together: categoricals by their codes (no string compare)."""
    return [pl.col(c).to_physical() for c in columns]


_EVALUATE = {"match": _eval_match, "threshold": _eval_threshold, "sequence": _eval_sequence,
             "new_term": _eval_new_term, "absence": _eval_absence, "baseline": _eval_baseline}


def _to_findings(frame: _Frame, rule: Rule, hits: pl.DataFrame, group: list[str], *, span_from: str | None = None,
                 span_to: str | None = None, silent: str | None = None, text: str | None = None) -> list[Finding]:
    """One finding per group of `hits` (event rows `_i` with the `group` columns), in order of first event.

    Everything but the final loop that makes the Finding objects runs on whole columns; each finding's events
    are a zero-copy slice of one frame sorted by finding."""
    if hits.is_empty():
        return []
    columns = [c for c in EVENT_COLUMNS if c in frame.ev.columns]
    taken = [c for c in columns if c not in hits.columns]
    # rows of one group together (in event order within it): `_g` numbers the groups in this storage order
    hits = hits.sort([*_sortable(group), "_i"])
    new = pl.any_horizontal([pl.col(g).ne_missing(pl.col(g).shift(1)) for g in group]).fill_null(True)
    hits = hits.with_columns(_g=new.cum_sum().cast(pl.UInt32) - 1)
    rows = pl.concat([hits, frame.ev.select(taken).select(pl.all().gather(hits["_i"]))], how="horizontal")
    zone = frame.tz

    def stamp(expr: pl.Expr) -> pl.Expr:
        return expr.dt.convert_time_zone(zone).dt.strftime("%Y-%m-%d %H:%M")

    last = pl.col(span_to).first() if span_to else pl.col("timestamp").max()
    first = pl.col(span_from).first() if span_from else pl.col("timestamp").min()
    agg = [pl.len().alias("_count"), first.alias("_first"),
           last.alias("_last"), pl.col("_i").min().alias("_first_i"),
           pl.col("source").first().cast(pl.String).alias("_source"), pl.col("line").first().alias("_line"),
           pl.col("node").drop_nulls().n_unique().alias("_nodes"), pl.col("node").drop_nulls().first().alias("_one"),
           (pl.col(silent).first().truediv(3600).round(1).cast(pl.String) if silent else pl.lit("")).alias("silent"),
           (pl.col(text).first() if text else pl.lit("")).alias("baseline"),
           *[pl.col(g).first() for g in group],
           *[pl.col("_i").is_in(frame.select(conds, [])["_i"].implode()).any().alias(f"_sev{k}")
             for k, (_, conds) in enumerate(rule.severity_when)]]
    groups = rows.group_by("_g").agg(agg).sort("_g")
    severity = pl.lit(rule.severity)
    for k, (level, _) in reversed(list(enumerate(rule.severity_when))):  # the first that applies wins
        severity = pl.when(pl.col(f"_sev{k}")).then(pl.lit(level)).otherwise(severity)
    groups = groups.with_columns(_severity=severity)
    groups = groups.with_columns(_offset=pl.col("_count").cum_sum() - pl.col("_count"))
    used = {n for _, n, _, _ in string.Formatter().parse(rule.summary) if n}
    for name, column in (("actors", "actor"), ("nodes", "node"), ("artifacts", "artifact")):
        if name in used and column in columns:  # "a, b, c and 4 more", from the distinct values of each group
            groups = groups.join(_names(rows, column).rename({"_names": name}), on="_g", how="left").with_columns(
                pl.col(name).fill_null(UNKNOWN))
    keys = {k: pl.col(k).cast(pl.String).fill_null(UNKNOWN) for k in rule.key}
    groups = (groups.sort("_first", "_first_i")
              .with_columns(**{f"_k_{k}": e for k, e in keys.items()},
                            first=stamp(pl.col("_first")), last=stamp(pl.col("_last")), count=pl.col("_count"),
                            _node=(keys["node"] if "node" in keys else pl.when(pl.col("_nodes") == 1)
                                   .then(pl.col("_one").cast(pl.String))))
              .with_columns(_subject=pl.concat_str([pl.lit(f"{k} ") + pl.col(f"_k_{k}") for k in rule.key],
                                                   separator=" · "),
                            _id=pl.concat_str([pl.lit(rule.id), *[pl.col(f"_k_{k}") for k in rule.key], "_source",
                                               pl.col("_line").cast(pl.String),
                                               pl.col("_first").dt.epoch("ms").cast(pl.String)], separator="\x1f"))
              .with_columns(_summary=_template(rule, {"window": rule.window_text})))
    rows = rows.select(columns)
    offsets = groups["_offset"].to_list()
    lengths = groups["_count"].clip(upper_bound=MAX_EVENTS).to_list()
    out = []
    names = ("_id", "_subject", "_summary", "_node", "_first", "_last", "_count", "_severity")
    columns_out = [groups[c].to_list() for c in names]
    for fid, subject, summary, node, first, last, count, level, offset, length in zip(*columns_out, offsets,
                                                                                       lengths, strict=True):
        out.append(Finding(
            id=hashlib.sha256(fid.encode("utf-8")).hexdigest()[:12], rule=rule.id, title=rule.title,
            severity=level, meaning=rule.meaning, references=rule.references, node=node, first=first,
            last=last, count=count, subject=subject, summary=summary,
            event_rows=rows, event_span=(offset, length)))
    return out


def _names(rows: pl.DataFrame, column: str, limit: int = 5) -> pl.DataFrame:
    """Per group `_g`, its distinct values of `column` as "a, b, c, d, e and 2 more"."""
    distinct = rows.select("_g", pl.col(column).cast(pl.String)).drop_nulls(column).unique().sort("_g", column)
    more = pl.len().cast(pl.Int64) - limit
    return distinct.group_by("_g").agg(
        _names=pl.col(column).head(limit).str.join(", ")
        + pl.when(more > 0).then(pl.format(" and {} more", more)).otherwise(pl.lit("")))




_PLURAL = re.compile(r"^( (?:[a-z-]+ ){0,3}?[a-z][a-z-]{2,}?)s\b")  # the plural noun right after {count}


def _template(rule: Rule, constants: dict[str, str]) -> pl.Expr:
    """The rule's summary template as one string expression over the group columns."""
    if not rule.summary:
        return pl.lit(f"{rule.title}: ") + pl.col("_subject")
    parts: list[pl.Expr] = []
    after_count = False
    for literal, name, _spec, _conv in string.Formatter().parse(rule.summary):
        one = _PLURAL.match(literal) if after_count else None
        if one:  # "{count} changes" says "1 change" for one
            parts.append(pl.when(pl.col("count") == 1).then(pl.lit(one.group(1) + literal[one.end():]))
                         .otherwise(pl.lit(literal)))
        elif literal:
            parts.append(pl.lit(literal))
        after_count = name == "count"
        if name is None:
            continue
        if name in constants:
            parts.append(pl.lit(constants[name]))
        elif name in rule.key:
            parts.append(pl.col(f"_k_{name}"))
        else:
            parts.append(pl.col(name).cast(pl.String).fill_null("?"))
    return pl.concat_str(parts) if parts else pl.lit("")


def findings(events: pl.DataFrame, rules: Sequence[Rule] | None = None, settings: Settings | None = None,
             extra: Iterable[Finding] = (), *, nodes: Iterable[str] = (),
             span: tuple[datetime | None, datetime | None] | None = None) -> list[Finding]:
    """Every finding of `rules` (default: all shipped rules) over `events`, plus `extra` findings made
    elsewhere, in a stable order.

    `nodes` names every node the source knows (`filters.known_nodes`: its manifest, a store's nodes), so that the
    absence rules also find a node without any event in scope; `span` is the scope's (start, end), so that
    silence at its start and end counts (an open end: the first or last event)."""
    rules = load_rules() if rules is None else list(rules)
    settings = settings or Settings()
    out = list(extra)
    active = [r for r in rules if r.kind != "external"]
    nodes = sorted(set(nodes))
    if not events.height:  # nothing happened: only silence can be found, in a scope with both ends
        active = [r for r in active if r.kind == "absence"] if nodes and span and None not in span else []
    if active:
        frame = _Frame(events, settings, active, span, nodes)
        for rule in active:
            out += _EVALUATE[rule.kind](frame, rule)
    return sort_findings(out)
