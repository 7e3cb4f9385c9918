"""Who an event's user is as a person: tenant suffixes folded, qualified by product where one name lives in
several products' user stores (the rule is data: identity.json)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import polars as pl

IDENTITY = Path(__file__).parent / "identity.json"


@cache
def identity_rule(path: Path = IDENTITY) -> dict:
    """How raw user names become actors (data, see identity.json)."""
    return json.loads(path.read_text(encoding="utf-8"))


def actors(pairs: pl.DataFrame, rule: dict | None = None) -> pl.DataFrame:
    """For distinct (user, product) pairs, the actor: the user with the tenant suffixes in the rule folded,
    qualified by product where the same folded name appears in more than one product."""
    rule = rule or identity_rule()
    folded = pl.col("user").cast(pl.String)
    for suffix in rule.get("fold_suffixes", []):
        folded = folded.str.strip_suffix(suffix)
    df = pairs.with_columns(_folded=folded)
    spread = pl.col("product").n_unique().over("_folded") > 1
    qualify = rule.get("qualify_when_in_several_products", True)
    label = pl.format(rule.get("qualified", "{} ({})"), pl.col("_folded"), pl.col("product").cast(pl.String))
    return df.with_columns(actor=pl.when(pl.lit(qualify) & spread & pl.col("_folded").is_not_null()).then(label)
                           .otherwise(pl.col("_folded"))).drop("_folded")
