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


def actor_names(events: pl.DataFrame, rule: dict | None = None) -> dict[str, str]:
    """Names the records give to ids: an account record (artifact type in the rule's account_types) whose
    artifact is an id (id_pattern) and whose details name it under one of name_keys. The first name given wins."""
    rule = rule or identity_rule()
    keys = rule.get("name_keys") or []
    if events.is_empty() or not keys or not {"artifact_type", "artifact", "details"} <= set(events.columns):
        return {}
    pattern = rule.get("id_pattern", r"^[0-9a-fA-F-]{36}$")
    kinds = [k.lower() for k in rule.get("account_types", ["user"])]
    name = pl.coalesce([pl.col("details").str.extract(rf'"{k}"\s*:\s*"([^"]+)"', 1) for k in keys])
    found = (events.lazy().filter(pl.col("artifact_type").cast(pl.String).str.to_lowercase().is_in(kinds)
                                  & pl.col("artifact").cast(pl.String).str.contains(pattern))
             .select(id=pl.col("artifact").cast(pl.String), name=name).drop_nulls()
             .unique("id", keep="first", maintain_order=True).collect())
    return dict(found.iter_rows())


def person(actor: str | None, names: dict[str, str]) -> str | None:
    """The person an actor is: the name the records give an id, else the actor itself."""
    return names.get(actor, actor) if actor is not None else None


def shown(actor: str | None, names: dict[str, str]) -> str:
    """An actor as a report or page shows it: "alice (id 9e8d7c6b…)" for an id the records name, else as is."""
    if actor is None:
        return ""
    name = names.get(actor)
    return f"{name} (id {actor[:8]}…)" if name else actor


def people(actors: list[str], names: dict[str, str]) -> list[str]:
    """The distinct people behind `actors` (an id and the name the records give it are one person), sorted."""
    return sorted({person(a, names) for a in actors if a is not None})
