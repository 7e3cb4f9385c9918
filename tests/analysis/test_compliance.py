"""Compliance views: categories of sensitive actions as data, outcomes as the products record them, privileged
actors, sign-ins per user, and the evidence of the files covering a scope."""

import json
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

import audit_lib
from audit_lib.analysis import compliance, metrics
from audit_lib.analysis.compliance import (
    DONE,
    FAILED,
    NOT_RECORDED,
    SENSITIVE_COLUMNS,
    Category,
    counts_by_actor,
    covering_files,
    day_ranges,
    duplicates,
    file_days,
    files_in_scope,
    gaps,
    load_categories,
    manifest,
    node_coverage,
    privileged_actors,
    reject_sample,
    scope_days,
    sensitive_actions,
    sensitive_summary,
    sign_ins,
)
from audit_lib.analysis.conditions import RuleError
from audit_lib.events.products import OUTCOME_IN_SOURCE
from tests.support.wso2_lines import MIN, MONDAY, is_kv, is_record, mi_change, mi_sign, write_node


@pytest.fixture(scope="module")
def samples():
    return audit_lib.load("samples", tz="UTC")


@pytest.fixture()
def estate(tmp_path):
    """An MI node and an IS node with one event of each kind the categories look for, and some they must not flag."""
    t = [MONDAY + i * MIN for i in range(40)]
    mi = [
        mi_sign(t[0], "admin"),
        mi_change(t[1], "admin", "created", "user", isAdmin=True, userId="boss"),
        mi_change(t[2], "admin", "created", "user", isAdmin=False, userId="plain"),
        mi_change(t[3], "admin", "deleted", "user", userId="old"),
        mi_change(t[4], "admin", "updated", "user", userId="plain"),  # MI 4.3+: a password set by an admin
        mi_change(t[5], "ops", "updated", "log_level", loggerName="org-apache-hive", loggingLevel="DEBUG"),
        mi_change(t[6], "ops", "updated", "root_log_level", loggerName="root", loggingLevel="OFF"),
        mi_change(t[7], "ops", "updated", "log_level", loggerName="synapse-api", loggingLevel="WARN"),
        mi_change(t[8], "dev", "enabled", "proxy_service_trace", proxyName="OrderProxy"),
        mi_change(t[9], "dev", "disabled", "proxy_service_trace", proxyName="OrderProxy"),
        mi_change(t[10], "ci-bot", "created", "carbon_application", cAppFileName="Orders_1.0.0.car"),
        mi_change(t[11], "ci-bot", "created", "connector", connectorName="salesforce", status="enabled"),
        mi_change(t[12], "ci-bot", "updated", "registry_resource", registryResourceName="conf:/a.xml"),
        mi_change(t[13], "anonymous", "enabled", "endpoint", endpointName="EP"),
        mi_change(t[14], "dev", "enabled", "endpoint", endpointName="EP"),
        mi_sign(t[15], "admin", "out"),
    ]
    is_ = [
        is_record(t[20], "admin@carbon.super", "Add Role", "Internal/auditors", "{ Users : [ana] }"),
        is_record(t[21], "admin@carbon.super", "Update Permissions Of Role", "Internal/auditors",
                  "{ Permissions : [/permission/admin/login] }"),
        is_kv(t[22], "iam-admin@carbon.super", "Add-Role", "Internal/devops", {"Permissions": []}),
        is_kv(t[23], "iam-admin@carbon.super", "Set-User-Claim-Values", "ana",
              {"Claims": {"http://wso2.org/claims/role": "Internal/devops"}}),
        is_kv(t[24], "helpdesk@carbon.super", "Set-User-Claim-Values", "ana",
              {"Claims": {"http://wso2.org/claims/mobile": "0*******9"}}),
        is_record(t[25], "admin@carbon.super", "Delete User", "dave", result="Failed"),
        is_record(t[26], "admin@carbon.super", "Change Password by Administrator", "ana", result="Failed"),
        is_record(t[27], "admin@carbon.super", "Add User", "erin", "{ Roles : [admin] }"),
        is_record(t[28], "null", "Login", "ApplicationAuthenticationFramework", '{ "StepNo" : "1" }', "Failed"),
    ]
    write_node(tmp_path, "mi1", mi)
    write_node(tmp_path, "is1", is_)
    return audit_lib.load(str(tmp_path), tz="UTC")


def categories_of(sens: pl.DataFrame) -> dict[tuple[str, str], str]:
    return {(r["category"], r["artifact"]): r["outcome"] for r in sens.iter_rows(named=True)}


def test_each_category_flags_its_events_once_with_the_outcome_the_product_recorded(estate):
    sens = sensitive_actions(estate.events)
    assert sens.columns == SENSITIVE_COLUMNS and sens["timestamp"].is_sorted()
    got = categories_of(sens)
    assert got == {
        ("Administrator account created", "boss"): NOT_RECORDED,  # MI writes no outcome
        ("Account created", "plain"): NOT_RECORDED,
        ("Account deleted", "old"): NOT_RECORDED,
        ("Password reset by an administrator", "plain"): NOT_RECORDED,
        ("Verbose logging on", "org-apache-hive"): NOT_RECORDED,
        ("Logging stopped", "root"): NOT_RECORDED,
        ("Log level changed", "synapse-api"): NOT_RECORDED,
        ("Message tracing on", "OrderProxy"): NOT_RECORDED,
        ("Change without an identified user", "EP"): NOT_RECORDED,
        # Identity Server role and permission changes, in every form the product writes
        ("Role or permission change", "Internal/auditors"): DONE,
        ("Role or permission change", "Internal/devops"): DONE,
        ("Role or permission change", "ana"): DONE,  # Set-User-Claim-Values of the role claim
        ("Account attributes changed", "ana"): DONE,  # ... of another claim
        ("Account deleted", "dave"): FAILED,  # a refused deletion is printed as attempted, not done
        ("Password reset by an administrator", "ana"): FAILED,
        ("Administrator account created", "erin"): DONE,
        ("Failed sign-in", "null"): FAILED,  # IS names no user on a failure
    }
    assert len(sens) == len(got) + 1  # the two role changes of Internal/auditors: one row each
    assert DONE not in set(sens.filter(pl.col("product") == "mi")["outcome"])  # never "done" where MI says nothing


def test_routine_changes_are_not_sensitive_unless_enabled(estate):
    default = sensitive_actions(estate.events)
    routine = {"carbon_application", "connector", "registry_resource"}
    assert not routine & set(default["artifact_type"])
    enabled = load_categories(enable=["capp-deployment", "connector-change", "registry-change"])
    sens = sensitive_actions(estate.events, enabled)
    assert routine <= set(sens["artifact_type"])
    assert {"capp-deployment", "connector-change", "registry-change", "api-lifecycle"} <= {
        c.id for c in load_categories(include_disabled=True)} - {c.id for c in load_categories()}


def test_outcome_follows_config_check_for_every_product_and_record_kind(estate):
    sens = sensitive_actions(estate.events)
    for product, kind in [("mi", "change"), ("is", "change")]:
        rows = sens.filter((pl.col("product") == product) & (pl.col("artifact_type") != "session"))
        expected = {DONE, FAILED} if OUTCOME_IN_SOURCE[(product, kind)] else {NOT_RECORDED}
        assert set(rows["outcome"]) <= expected, (product, set(rows["outcome"]))


def test_identity_server_7_records_carry_no_outcome(tmp_path):
    record = {"id": "0f1e", "recordedAt": "2026-11-02T09:00:00.000Z", "requestId": "r1", "initiatorId": "6a5b",
              "initiatorType": "User", "targetId": "9e8d", "targetType": "Role", "action": "update-role",
              "data": {"Name": "auditors"}}
    line = f"TID: [-1234] [2026-11-02 09:00:00,001] [r1]  INFO {{AUDIT_LOG}} - {json.dumps(record)}"
    write_node(tmp_path, "is7", [line])
    sens = sensitive_actions(audit_lib.load(str(tmp_path), tz="UTC").events)
    assert sens["category"].to_list() == ["Role or permission change"]
    assert sens["outcome"].to_list() == [NOT_RECORDED]


def test_summary_counts_outcomes_and_lists_every_category(estate):
    sens = sensitive_actions(estate.events)
    summary = sensitive_summary(sens)
    assert summary["category"].to_list() == [c.name for c in load_categories()]
    deleted = summary.filter(pl.col("category") == "Account deleted").row(0, named=True)
    assert (deleted["events"], deleted["done"], deleted["failed"], deleted["not_recorded"]) == (2, 0, 1, 1)
    assert summary["events"].sum() == sens.height
    failed = counts_by_actor(sens.filter(pl.col("category") == "Failed sign-in"))
    assert failed.select("actor", "node", "events", "failed").rows() == [("(unknown)", "is1", 1, 1)]


def test_privileged_actors_are_those_who_administer(estate):
    sens = sensitive_actions(estate.events)
    actors = privileged_actors(sens)
    # user, role and log-level changes; not tracing (dev), not routine deployments (ci-bot), not a claim change
    # (helpdesk), not a failed attempt alone
    assert "admin (mi)" in actors or "admin" in actors
    assert "ops" in actors and "iam-admin" in actors
    assert not {"dev", "ci-bot", "helpdesk"} & set(actors)


def test_categories_are_data_and_bad_files_say_why(tmp_path, estate):
    path = tmp_path / "cats.json"
    path.write_text(json.dumps({"categories": [
        {"id": "endpoints", "category": "Endpoint touched", "reason": "any endpoint change", "privileged": True,
         "where": {"artifact_type": "endpoint", "change": True}}]}))
    only = load_categories(path)
    assert only == [Category("endpoints", "Endpoint touched", "any endpoint change",
                             ({"artifact_type": "endpoint", "change": True},), privileged=True)]
    sens = sensitive_actions(estate.events, only)
    assert sens["category"].to_list() == ["Endpoint touched"] * 2
    assert sensitive_summary(sens, only)["events"].to_list() == [2]
    assert privileged_actors(sens, only) == ["dev"]  # anonymous is no one to follow
    bad = [({"categories": []}, "expected a list of categories"),
           ({"categories": [{"id": "x", "category": "X", "reason": "r"}]}, "missing where"),
           ({"categories": [{"id": "x", "category": "X", "reason": "r", "where": {"colour": "red"}}]},
            "unknown column colour"),
           ({"categories": [{"id": "x", "category": "X", "reason": "r", "where": {"action": {"regex": "("}}}]},
            "bad regex"),
           ({"categories": [{"id": "x", "category": "X", "reason": "r", "where": {"action": "a"}, "listing": "all"}]},
            "listing must be one of"),
           ({"categories": [{"id": "x", "category": "X", "reason": "r", "where": {"action": "a"}, "extra": 1}]},
            "unknown field extra")]
    for spec, message in bad:
        path.write_text(json.dumps(spec))
        with pytest.raises(RuleError, match=message):
            load_categories(path)
    path.write_text("{not json")
    with pytest.raises(RuleError, match="Cannot read the categories file"):
        load_categories(path)
    with pytest.raises(RuleError, match="Unknown category nope"):
        load_categories(enable=["nope"])


def test_samples_cover_is_and_apim_categories(samples):
    sens = sensitive_actions(samples.events)
    summary = dict(sensitive_summary(sens).select("category", "events").iter_rows())
    failed = samples.events.filter(pl.col("action") == "login_failed").height
    assert summary["Failed sign-in"] == failed > 0
    is_roles = samples.events.filter(pl.col("action").is_in(["Add Role", "Update Roles of User",
                                                             "Update-Roles-Of-User"])).height  # both IS forms
    assert summary["Role or permission change"] == is_roles > 0
    resets = samples.events.filter(pl.col("action") == "Change Password by Administrator").height
    mi_updates = samples.events.filter((pl.col("artifact_type") == "user") & (pl.col("action") == "updated")).height
    assert summary["Password reset by an administrator"] == resets + mi_updates


def test_empty_events_give_empty_frames(samples):
    empty = samples.events.clear()
    assert sensitive_actions(empty).height == 0
    assert sensitive_summary(sensitive_actions(empty))["events"].sum() == 0
    assert sign_ins(empty).height == 0
    assert privileged_actors(sensitive_actions(empty)) == []


def test_sign_ins_per_user(estate, samples):
    table = {r["user"]: r for r in sign_ins(estate.events).iter_rows(named=True)}
    admin = next(v for k, v in table.items() if k.startswith("admin"))
    assert admin["sign_ins"] == 1 and admin["sign_outs"] == 1
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


def test_files_covering_a_scope_and_the_days_they_cover(samples):
    start = datetime(2026, 11, 2, tzinfo=UTC)
    events = samples.events.filter(pl.col("timestamp").dt.date().is_between(date(2026, 11, 2), date(2026, 11, 3)))
    days = scope_days(events, start, start + timedelta(days=2), "UTC")
    assert days == (date(2026, 11, 2), date(2026, 11, 3))
    cover = covering_files(samples.files, events, days, "UTC")
    fdays = file_days(samples.files.filter(pl.col("duplicate_of").is_null()), "UTC")
    inside = set(fdays.filter(pl.col("day").is_between(*days))["source"])
    own = set(cover.filter(pl.col("duplicate_of").is_null())["source"])
    assert own == inside | set(events["source"].cast(pl.String))
    assert cover.height < samples.files.height  # the files of other days are left out of the evidence
    rotated = cover.filter(pl.col("source").str.ends_with("mi-node-1/repository/logs/audit-11-02-2026.log.gz"))
    assert rotated["scope_days"].to_list() == ["2026-11-02"]
    # the duplicate of a covering file comes with it
    dup = duplicates(samples.files).row(0, named=True)
    assert (dup["source"] in set(cover["source"])) == (dup["duplicate_of"] in own)
    assert cover["in_scope"].sum() == events.height
    nodes = samples.files["node"].cast(pl.String).unique().to_list()
    cov = node_coverage(cover, days, "UTC", nodes)
    assert set(cov["days"]) == {2} and set(cov["node"]) == set(nodes)
    is_node = cov.filter(pl.col("node") == "is-node").row(0, named=True)  # no file of its covers those days
    assert is_node["covered"] == 0 and is_node["missing"] == "2026-11-02 to 2026-11-03"
    assert cov.filter(pl.col("node") == "mi-node-1")["missing"].to_list() == ["none"]


def test_day_ranges():
    d = date(2026, 7, 1)
    assert day_ranges([]) == "none"
    assert day_ranges([d]) == "2026-07-01"
    assert day_ranges([d, d + timedelta(1), d + timedelta(2), d + timedelta(5)]) == \
        "2026-07-01 to 2026-07-03, 2026-07-06"
    many = [d + timedelta(2 * i) for i in range(20)]
    assert day_ranges(many, limit=3).endswith("and 17 more")


def write_days(root, node: str, first: date, last: date) -> None:
    """One daily file with one change per day from `first` to `last`, named as MI rotates them."""
    day = first
    while day <= last:
        t = datetime.combine(day, datetime.min.time()) + timedelta(hours=10)
        write_node(root, node, [mi_change(t, "jane", "enabled", "endpoint", endpointName=f"EP-{node}")],
                   name=f"audit-{day:%m-%d-%Y}.log")
        day += timedelta(days=1)


def test_coverage_of_a_node_silent_at_the_end_agrees_everywhere(tmp_path):
    """mi3 stops writing on Friday 11-27 while mi1 goes on: the gaps (Data quality, the report's Coverage gaps)
    and the per-node table both report its last days, from the same grid."""
    write_days(tmp_path, "mi1", date(2026, 11, 23), date(2026, 11, 30))
    write_days(tmp_path, "mi3", date(2026, 11, 23), date(2026, 11, 27))
    log = audit_lib.load(tmp_path, tz="UTC")
    whole = metrics.coverage_gaps(log.events, log.files, "UTC", only_gaps=True)
    assert whole.select("node", "day", "status").rows() == [("mi3", date(2026, 11, 30), "no file")]
    days = (date(2026, 11, 23), date(2026, 12, 1))
    table, gaps = compliance.coverage(log.events, log.files, days, "UTC", ["mi1", "mi3", "mi9"])
    assert gaps.select("node", "day").rows() == [("mi1", date(2026, 12, 1)), ("mi3", date(2026, 11, 30)),
                                                 ("mi3", date(2026, 12, 1))] + [
        ("mi9", d) for d in (date(2026, 11, 23) + timedelta(days=k) for k in range(9)) if d.weekday() < 5]
    rows = {r["node"]: r for r in table.iter_rows(named=True)}
    assert rows["mi3"]["missing"] == "2026-11-28 to 2026-12-01" and rows["mi3"]["covered"] == 5
    assert rows["mi9"]["covered"] == 0 and rows["mi1"]["missing"] == "2026-12-01"


def test_busiest_privileged_actors_by_changes():
    ev = pl.DataFrame({"actor": ["a", "b", "b", "c", "c", "c", "d"],
                       "action": ["created", "created", "deleted", "updated", "created", "deleted", "logged in"],
                       "artifact_type": ["user", "user", "user", "role", "role", "role", "session"],
                       "artifact": ["x"] * 7, "product": ["mi"] * 7})
    assert compliance.busiest(["a", "b", "c", "d"], ev, 2) == ["c", "b"]
    assert compliance.busiest(["d", "a"], ev, 5) == ["d", "a"]  # few enough: all, as given
