"""Conditions on events, as the rules (`checks/rules/*.json`) and the categories of sensitive actions
(`analysis/sensitive_actions.json`) write them, and the one matcher that tests them.

A condition maps a column to a value, a list of values (case-insensitive), null, true/false, or an object with
`in`, `not_in`, `regex`, `not_regex`, `null` and, on `details`, `key` (a JSON key of the details whose value is
tested). Besides the event columns, conditions may use `actor`, `kind` (sign-in, create, delete, ... from
`events.vocabulary`) and the true/false columns `change`, `sign_in`, `sign_out`, `failed_sign_in` (and, for rules,
`off_hours`, `in_session` and `date`, which need the working time: the caller derives them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import polars as pl

from audit_lib.errors import AuditLibError
from audit_lib.events.vocabulary import action_kind, change_expr, failed_sign_in_expr, sign_in_expr, sign_out_expr

BASE_COLUMNS = {"timestamp", "node", "product", "user", "actor", "action", "artifact_type", "artifact", "outcome",
                "details", "level", "source", "line", "attachment"}
VOCABULARY: dict[str, Callable[[pl.DataFrame], pl.Expr]] = {
    "change": change_expr, "sign_in": sign_in_expr, "sign_out": sign_out_expr, "failed_sign_in": failed_sign_in_expr}
BOOL_COLUMNS = {*VOCABULARY, "off_hours", "in_session"}
TEXT_COLUMNS = {"details", "attachment"}  # long free text: tested last, on the rows left
OPS = {"in", "not_in", "regex", "not_regex", "null", "key"}
_KEY_NAME = re.compile(r"^[^'\\]+$")


class RuleError(AuditLibError, ValueError):
    """A rule, category or settings file that cannot be used; the message names the file and the problem."""


def conditions(value: Any) -> tuple[dict, ...]:
    """`where` / `then` as a tuple of conditions (one object or a list of them; none for null)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list | tuple) or not all(isinstance(c, dict) for c in items):
        raise ValueError("'where' and 'then' must be an object or a list of objects")
    return tuple(dict(c) for c in items)


def check_conditions(where: str, conds: Iterable[dict], known: set[str]) -> None:
    """RuleError (its message starting with `where`) for a column outside `known` or a test that cannot work."""
    conds = list(conds)
    bad = sorted({c for cond in conds for c in cond} - known)
    if bad:
        raise RuleError(where + f"unknown column {', '.join(bad)}; use one of {', '.join(sorted(known))}")
    for cond in conds:
        for column, test in cond.items():
            check_test(where, column, test)


def check_test(where: str, column: str, test: Any) -> None:
    if column in BOOL_COLUMNS:
        if not isinstance(test, bool):
            raise RuleError(where + f"{column} is true or false, not {test!r}")
        return
    if isinstance(test, dict):
        bad = set(test) - OPS
        if bad:
            raise RuleError(where + f"{column}: unknown test {', '.join(sorted(bad))}; use {', '.join(sorted(OPS))}")
        if "key" in test and (column != "details" or not _KEY_NAME.match(str(test["key"]))):
            raise RuleError(where + f"{column}: 'key' applies to details and names a JSON key")
        for op in ("regex", "not_regex"):
            if op in test:
                try:
                    re.compile(test[op])
                except (re.error, TypeError) as exc:
                    raise RuleError(where + f"{column}: bad {op} {test[op]!r} ({exc})") from None
    elif not (test is None or isinstance(test, str | list)):
        raise RuleError(where + f"{column}: use a value, a list, null or a test object, not {test!r}")


def predicate(x: pl.Expr, test: Any) -> pl.Expr:
    """`test` (see the module docstring) applied to the string expression `x`."""
    if test is None:
        return x.is_null()
    if isinstance(test, str | list):
        test = {"in": [test] if isinstance(test, str) else test}
    if "key" in test:
        x = x.str.json_path_match(f"$['{test['key']}']")
    conds: list[pl.Expr] = []
    low = x.str.to_lowercase()
    if "in" in test:
        conds.append(low.is_in([str(v).lower() for v in _as_list(test["in"])]).fill_null(False))
    if "not_in" in test:
        conds.append(~low.is_in([str(v).lower() for v in _as_list(test["not_in"])]).fill_null(False))
    if "regex" in test:
        conds.append(x.str.contains(test["regex"]).fill_null(False))
    if "not_regex" in test:
        conds.append(~x.str.contains(test["not_regex"]).fill_null(False))
    if "null" in test:
        conds.append(x.is_null() if test["null"] else x.is_not_null())
    return pl.all_horizontal(conds) if conds else pl.lit(True)


def _as_list(value: Any) -> list:
    return value if isinstance(value, list | tuple) else [value]


class Matcher:
    """The events with a row number `_i` and the derived columns the conditions read, and the tests of
    conditions on them. `used` names the columns the conditions use (the true/false vocabulary columns among them
    are derived); `extra` adds columns the caller derives (the actor, working-time columns)."""

    def __init__(self, events: pl.DataFrame, used: set[str], extra: dict[str, pl.Expr] | None = None) -> None:
        derived = {name: make(events).fill_null(False) for name, make in VOCABULARY.items() if name in used}
        self.ev = events.with_columns(_i=pl.int_range(pl.len(), dtype=pl.UInt32), **derived, **(extra or {}))
        self._kinds: pl.DataFrame | None = None

    def kinds(self) -> pl.DataFrame:
        """action -> kind for the distinct actions."""
        if self._kinds is None:
            actions = self.ev.select(pl.col("action").cast(pl.String).unique())
            self._kinds = actions.with_columns(kind=action_kind(pl.col("action")))
        return self._kinds

    def test(self, column: str, test: Any) -> pl.Expr:
        """The expression true on the rows where `column` passes `test`."""
        if column in BOOL_COLUMNS:
            return pl.col(column) == test
        if column == "kind":  # a property of the action: tested on the distinct actions
            ok = self.kinds().filter(predicate(pl.col("kind"), test).fill_null(False))["action"].drop_nulls()
            return pl.col("action").is_in(ok.to_list()).fill_null(False)
        dtype = self.ev.schema[column]
        if isinstance(dtype, pl.Categorical | pl.Enum):  # test the distinct values, then look rows up
            values = self.ev.select(pl.col(column).unique().cast(pl.String))
            hits = values.filter(predicate(pl.col(column), test).fill_null(False))[column]
            expr = pl.col(column).is_in(hits.drop_nulls().to_list()).fill_null(False)
            return expr | pl.col(column).is_null() if hits.null_count() else expr
        x = pl.col(column) if dtype == pl.String else pl.col(column).cast(pl.String)
        return predicate(x, test).fill_null(False)

    def select(self, conds: tuple[dict, ...], columns: Sequence[str]) -> pl.DataFrame:
        """`_i`, "timestamp" and `columns` of the rows matching any of `conds` (all rows when there is none), in
        event order. Only the columns needed are filtered; free-text tests run last, on the rows left."""
        keep = list(dict.fromkeys(["_i", "timestamp", *columns]))
        if not conds:
            return self.ev.select(keep)
        parts = []
        for cond in conds:
            cheap = [self.test(c, t) for c, t in cond.items() if c not in TEXT_COLUMNS]
            text = [self.test(c, t) for c, t in cond.items() if c in TEXT_COLUMNS]
            texts = [c for c in cond if c in TEXT_COLUMNS and c not in keep]
            part = self.ev.lazy().filter(*cheap) if cheap else self.ev.lazy()
            part = part.select(*keep, *texts).collect()  # collected first: the text tests see only these rows
            parts.append(part.filter(*text).select(keep) if text else part)
        if len(parts) == 1:
            return parts[0]
        return pl.concat(parts).unique("_i", keep="first").sort("_i")

    def rows(self, conds: tuple[dict, ...]) -> pl.Series:
        """Row numbers of the events matching any of `conds` (none when there is no condition)."""
        if not conds:
            return pl.Series("_i", [], pl.UInt32)
        return self.select(conds, [])["_i"]
