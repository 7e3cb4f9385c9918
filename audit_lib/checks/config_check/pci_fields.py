"""Per product, the PCI DSS 10.2.2 fields its loaded lines do not carry."""

from __future__ import annotations

from typing import Any

import polars as pl

from audit_lib.checks.config_check.finding import ConfigFinding, finding
from audit_lib.events.products import OUTCOME_IN_SOURCE, PRODUCT_NAMES, RECORD_FORMS, SOURCE_NOTES

# a network origin is a named field (an address inside a changed artifact, such as an endpoint URL, is not one)
_ORIGIN = r'(?i)"(?:ip|ip[_-]?address|client[_-]?ip|remote[_-]?(?:address|addr|ip|host)|x-forwarded-for)"\s*:\s*"[^"]+"'
_ZONED_TIME = r'"at"\s*:\s*"[^"]*(?:[+-]\d{2}:?\d{2}|Z)"'
_NO_USER = ["", "anonymous", "null", "n/a", "none", "-"]
FIELDS = ("user", "event type", "date/time", "success/failure", "origin", "affected resource")


def _kind(a_type: pl.Expr) -> pl.Expr:
    """The kind of record of an artifact type: sign-in/out, REST call or change."""
    return (pl.when(a_type == "session").then(pl.lit("sign-in/out"))
            .when(a_type == "rest_call").then(pl.lit("REST call")).otherwise(pl.lit("change")))


def _record_form(details: pl.Expr) -> pl.Expr:
    """The RECORD_FORMS kind of each event, null for the events of no such form."""
    form = pl.lit(None, pl.String)
    for (product, kind), (label, keys) in RECORD_FORMS.items():
        hit = ((pl.col("product").cast(pl.String) == product) & (_kind(pl.col("artifact_type").cast(pl.String)) == kind)
               & pl.all_horizontal([details.str.contains(k, literal=True) for k in keys]))
        form = pl.when(hit.fill_null(False)).then(pl.lit(label)).otherwise(form)
    return form


def missing_pci_fields(events: pl.DataFrame) -> list[ConfigFinding]:
    """Per product, which of PCI DSS 10.2.2's six fields its loaded records lack, stated as gaps of the
    source (never as passes), per kind of record (changes, sign-ins and sign-outs, REST calls, and the forms of
    RECORD_FORMS such as IS 7's JSON changes)."""
    needed = {"timestamp", "node", "product", "user", "action", "artifact_type", "artifact", "outcome", "details",
              "source", "line"}
    if not isinstance(events, pl.DataFrame) or not needed <= set(events.columns):
        raise ValueError("missing_pci_fields needs the loader's events table (AuditLog.events)")
    if events.is_empty():
        return []
    details = pl.col("details").fill_null("")
    # counted per product, artifact type and user over the whole table (categorical keys: a few hundred groups),
    # then the small result is labelled and summed per product and kind of record
    groups = (events.lazy().group_by("product", "artifact_type", "user", _record_form(details).alias("form")).agg(
        n=pl.len(),
        no_action=pl.col("action").is_null().sum(),
        no_outcome=pl.col("outcome").is_null().sum(),
        no_artifact=pl.col("artifact").is_null().sum(),
        failures=(pl.col("outcome") == "failure").sum(),
        origins=details.str.contains(_ORIGIN).sum(),
        zoned=details.str.contains(_ZONED_TIME).sum(),
        nodes=pl.col("node").unique(),
        first=pl.col("timestamp").min(), last=pl.col("timestamp").max(),
        example_source=pl.col("source").first(), example_line=pl.col("line").first()).collect())
    a_type = pl.col("artifact_type").cast(pl.String)
    user = pl.col("user").cast(pl.String).str.strip_chars().str.to_lowercase()
    kinds = (groups.with_columns(
        product=pl.col("product").cast(pl.String).fill_null("unknown"),
        kind=pl.coalesce(pl.col("form"), _kind(a_type)),
        no_user=pl.when(user.is_null() | user.is_in(_NO_USER) | user.str.starts_with("anonymous"))
        .then(pl.col("n")).otherwise(0),
        example=pl.format("{}:{}", pl.col("example_source").cast(pl.String), pl.col("example_line")))
        .sort("first", "example")
        .group_by("product", "kind").agg(
            pl.col("n", "no_user", "no_action", "no_outcome", "no_artifact", "failures", "origins", "zoned").sum(),
            nodes=pl.col("nodes").explode().cast(pl.String).unique().sort(),
            first=pl.col("first").min(), last=pl.col("last").max(), example=pl.col("example").first(),
            example_no_user=pl.col("example").filter(pl.col("no_user") > 0).first())
        .sort("product", "kind"))
    tz = getattr(events.schema["timestamp"], "time_zone", None) or "UTC"
    findings = []
    for product in kinds["product"].unique(maintain_order=True).to_list():
        part = kinds.filter(pl.col("product") == product)
        lines, evidence, serious = [], [], False
        for row in part.iter_rows(named=True):  # one row per kind of record: at most three
            gaps = _gaps(product, row, tz)
            serious |= any(g.startswith(("success/failure", "origin", "user")) for g in gaps)
            lines.append(f"{row['kind']} ({row['n']:,} records): " + "; ".join(gaps))
            lacks = [g.split(":")[0] for g in gaps if not g.startswith("note:")]
            evidence.append(f"{row['kind']}, e.g. {row['example']}: lacks " + ", ".join(dict.fromkeys(lacks)))
            if row["no_user"]:
                evidence.append(f"{row['kind']} without a user, e.g. {row['example_no_user']}")
        name = PRODUCT_NAMES.get(product, product)
        meaning = (f"{name} audit lines lack fields PCI DSS 10.2.2 asks for (user, event type, date/time, "
                   "success/failure, origin, affected resource) — gaps of the source, not of this tool: "
                   + " | ".join(lines) + ". Compensate elsewhere (time zone of the servers documented, sign-in "
                   "origin from access logs) or configure the product to add them where it can.")
        nodes = sorted({n for ns in part["nodes"].to_list() for n in ns})
        lacking = sorted({g.split(":")[0] for row in part.iter_rows(named=True) for g in _gaps(product, row, tz)
                          if not g.startswith("note:")}, key=FIELDS.index)
        summary = f"{name} records lack {', '.join(lacking)}"
        findings.append(finding("missing-pci-fields", ", ".join(nodes), name, summary, meaning,
                                 severity="medium" if serious else "low", first=part["first"].min(),
                                 last=part["last"].max(), count=int(part["n"].sum()), evidence=evidence))
    return findings


def _gaps(product: str, row: dict[str, Any], tz: str) -> list[str]:
    n, kind = row["n"], row["kind"]
    gaps = []
    if row["no_user"]:
        gaps.append(f"user: none or anonymous on {row['no_user']:,} of {n:,}")
    if row["no_action"]:
        gaps.append(f"event type: missing on {row['no_action']:,} of {n:,}")
    zone = (f"date/time: the record time carries no time zone (read as {tz})" if not row["zoned"] else
            f"date/time: the record time carries no time zone (read as {tz}); only {row['zoned']:,} of {n:,} "
            "carry an offset in their inner time")
    gaps.append(zone)
    in_source = OUTCOME_IN_SOURCE.get((product, kind))
    if row["no_outcome"] == n:
        gaps.append("success/failure: the lines have no outcome field" if in_source is False
                    else "success/failure: no record carries an outcome")
    elif row["no_outcome"]:
        gaps.append(f"success/failure: no outcome on {row['no_outcome']:,} of {n:,}")
    elif not row["failures"] and in_source is None:
        gaps.append(f"success/failure: no failure appears in {n:,} records, the lines may not record outcomes")
    if row["origins"] == 0:
        gaps.append("origin: no record carries a network origin")
    elif row["origins"] < n:
        gaps.append(f"origin: only {row['origins']:,} of {n:,} records carry one")
    if row["no_artifact"]:
        gaps.append(f"affected resource: missing on {row['no_artifact']:,} of {n:,}")
    note = SOURCE_NOTES.get((product, kind))
    if note:
        gaps.append(f"note: {note}")
    return gaps
