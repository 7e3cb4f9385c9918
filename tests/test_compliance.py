"""Compliance views: sensitive-action rules, sign-ins per user, evidence helpers."""

from datetime import datetime, timedelta

import polars as pl
import pytest

import audit_lib
from audit_lib.compliance import (
    RULES,
    SENSITIVE_COLUMNS,
    Rule,
    duplicates,
    files_in_scope,
    gaps,
    manifest,
    reject_sample,
    sensitive_actions,
    sensitive_summary,
    sign_ins,
)
from audit_lib.sampledata import mi_json, mi_session

T0 = datetime(2026, 11, 3, 9, 0, 0)


@pytest.fixture(scope="module")
def samples():
    return audit_lib.load("samples", tz="UTC")


@pytest.fixture()
def small(tmp_path):
    """One MI node with one event of each kind the rules look for, and some that they must not flag."""
    t = [T0 + timedelta(minutes=i) for i in range(20)]
    lines = [
        mi_session(t[0], "admin", "in"),
        mi_json(t[1], "admin", "created", "user", {"isAdmin": True, "userId": "josé"}),
        mi_json(t[2], "admin", "created", "user", {"isAdmin": False, "userId": "plain"}),
        mi_json(t[3], "admin", "deleted", "user", {"userId": "old"}),
        mi_json(t[4], "admin", "updated", "log_level", {"loggerName": "org-apache-hive", "loggingLevel": "DEBUG"}),
        mi_json(t[5], "admin", "updated", "root_log_level", {"loggerName": "root", "loggingLevel": "OFF"}),
        mi_json(t[6], "admin", "updated", "log_level", {"loggerName": "synapse-api", "loggingLevel": "WARN"}),
        mi_json(t[7], "admin", "enabled", "proxy_service_trace", {"proxyName": "OrderProxy"}),
        mi_json(t[8], "admin", "disabled", "proxy_service_trace", {"proxyName": "OrderProxy"}),
        mi_json(t[9], "admin", "created", "carbon_application", {"cAppFileName": "Orders_1.0.0.car"}),
        mi_json(t[10], "admin", "created", "connector", {"connectorName": "salesforce", "status": "enabled"}),
        mi_json(t[11], "admin", "updated", "registry_resource", {"registryResourceName": "conf:/a.xml"}),
        mi_json(t[12], "anonymous", "enabled", "endpoint", {"endpointName": "EP"}),
        mi_json(t[13], "admin", "enabled", "endpoint", {"endpointName": "EP"}),
        mi_session(t[14], "admin", "out"),
        mi_session(t[15], "josé", "in"),
    ]
    folder = tmp_path / "mi" / "repository" / "logs"
    folder.mkdir(parents=True)
    (folder / "audit.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return audit_lib.load(str(tmp_path), tz="UTC")


def test_each_rule_flags_its_event_and_nothing_else(small):
    sens = sensitive_actions(small.events)
    assert sens.columns == SENSITIVE_COLUMNS
    got = {(r["category"], r["artifact"]) for r in sens.iter_rows(named=True)}
    assert got == {
        ("Admin user created", "josé"), ("User deleted", "old"), ("Logging exposes data", "org-apache-hive"),
        ("Logging stopped", "root"), ("Message tracing on", "OrderProxy"),
        ("Carbon application deployed or removed", "Orders_1.0.0.car"), ("Connector change", "salesforce"),
        ("Registry change", "conf:/a.xml"), ("Action by anonymous", "EP"),
    }
    assert sens["timestamp"].is_sorted()
    admin = sens.filter(pl.col("category") == "Admin user created").row(0, named=True)
    assert admin["user"] == "admin" and admin["line"] == 2 and '"isAdmin":true' in admin["details"]


def test_samples_cover_is_and_apim_rules(samples):
    sens = sensitive_actions(samples.events)
    summary = dict(sensitive_summary(sens).select("category", "events").iter_rows())
    assert list(summary) == [r.category for r in RULES]
    failed = samples.events.filter(pl.col("action") == "login_failed").height
    assert summary["Failed sign-in"] == failed > 0
    is_deletes = samples.events.filter(pl.col("action") == "Delete User").height
    mi_deletes = samples.events.filter((pl.col("artifact_type") == "user") & (pl.col("action") == "deleted")).height
    assert summary["User deleted"] == is_deletes + mi_deletes
    assert summary["Password changed"] >= samples.events.filter(
        pl.col("action") == "Change Password by Administrator").height > 0
    assert all(n > 0 for n in summary.values())


def test_rules_are_data(small):
    only = [Rule("Endpoint touched", "any endpoint change", pl.col("artifact_type").cast(pl.String) == "endpoint")]
    sens = sensitive_actions(small.events, only)
    assert sens["category"].to_list() == ["Endpoint touched"] * 2
    assert sensitive_summary(sens, only)["events"].to_list() == [2]


def test_empty_events_give_empty_frames(samples):
    empty = samples.events.clear()
    assert sensitive_actions(empty).height == 0
    assert sensitive_summary(sensitive_actions(empty))["events"].sum() == 0
    assert sign_ins(empty).height == 0


def test_sign_ins_per_user(small, samples):
    table = {r["user"]: r for r in sign_ins(small.events).iter_rows(named=True)}
    assert table["admin"]["sign_ins"] == 1 and table["admin"]["sign_outs"] == 1
    assert table["josé"]["sign_ins"] == 1 and table["josé"]["last_sign_out"] is None
    bob = sign_ins(samples.events).filter(pl.col("user") == "bob").row(0, named=True)
    assert bob["failed"] == samples.events.filter((pl.col("user") == "bob")
                                                  & (pl.col("action") == "login_failed")).height > 0


def test_evidence_helpers(samples):
    man = manifest(samples.files)
    assert man.height == samples.files.height
    dup = duplicates(samples.files)
    assert dup.height == 1 and dup["source"][0].endswith("audit-11-03-2026.log.gz")
    assert man.filter(pl.col("source") == dup["source"][0])["note"][0].startswith("duplicate of ")
    g = gaps(samples.events, samples.files)
    assert g.height > 0 and set(g["status"]) <= {"no file", "no events"}
    sample = reject_sample(samples.rejects)
    assert sample.height == samples.rejects.height and set(sample["reason"]) == set(samples.rejects["reason"])
    josé = samples.events.filter(pl.col("user") == "josé")
    scoped = files_in_scope(samples.files, josé)
    assert set(josé["source"].cast(pl.String)) <= set(scoped["source"])
    assert scoped.height < samples.files.height
