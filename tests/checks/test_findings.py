"""Findings: each shipped rule on lines written the way the products write them (must and must not fire), the
rule and settings files, stability, and findings made elsewhere joining the list."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, time, timedelta

import polars as pl
import pytest

import audit_lib
from audit_lib.analysis.conditions import RuleError
from audit_lib.analysis.filters import Filters, apply_filters, known_nodes, scope_span
from audit_lib.checks.finding import Finding, at_least, finding_id, findings_table
from audit_lib.checks.findings import findings
from audit_lib.checks.rule import RULES_DIR, SEVERITIES, Rule, Settings, load_rules, load_settings, rule_by_id
from tests.support.wso2_lines import (
    DAY,
    HOUR,
    MIN,
    MONDAY,
    apim_change,
    apim_failed,
    apim_sign,
    is_kv,
    is_login,
    is_record,
    load_nodes,
    mi_change,
    mi_sign,
    stamp,
)

T = MONDAY  # Monday 2026-11-02 09:00
REQUIRED_IDS = {"failed-sign-in-burst", "privileged-account-created", "short-lived-account", "logging-stopped",
                "verbose-logging", "tracing-enabled", "role-or-permission-change", "anonymous-action",
                "off-hours-change", "mass-deletion", "first-seen-actor", "change-without-session", "audit-gap"}


def fired(ev: pl.DataFrame, rule_id: str, settings: Settings | None = None) -> list[Finding]:
    return findings(ev, [rule_by_id(rule_id)], settings)


def lines_of(f: Finding) -> list[int]:
    return f.events["line"].to_list()


def logged_in(t=T, user="jane"):
    """A sign-in just before `t`, so the changes after it are made inside a session."""
    return mi_sign(t - MIN, user)


# --- the rule files ----------------------------------------------------------------------------------------------

def test_every_required_rule_ships_with_metadata():
    rules = {r.id: r for r in load_rules()}
    assert set(rules) >= REQUIRED_IDS
    for rule_id in REQUIRED_IDS:
        r = rules[rule_id]
        assert r.severity in SEVERITIES and r.title and len(r.meaning) > 60
        assert any(ref.startswith("PCI DSS ") for ref in r.references), rule_id
        assert any(ref.startswith("SOC 2 ") for ref in r.references), rule_id
        assert r.kind in ("match", "threshold", "sequence", "new_term", "absence") and r.key
        assert (RULES_DIR / f"{rule_id}.json").is_file()
    assert {r.kind for r in rules.values()} >= {"match", "threshold", "sequence", "new_term", "absence"}


@pytest.mark.parametrize(("change", "message"), [
    ({"severity": "urgent"}, "severity must be one of"),
    ({"kind": "magic"}, "kind must be one of"),
    ({"key": ["colour"]}, "unknown column colour"),
    ({"where": {"details": {"regex": "("}}}, "bad regex"),
    ({"where": {"details": {"contains": "x"}}}, "unknown test contains"),
    ({"where": {"change": "yes"}}, "change is true or false"),
    ({"summary": "{nobody} did it"}, "the summary names nobody"),
    ({"count": None}, "needs 'count'"),
    ({"window": "soon"}, "Cannot read 'soon' as a duration"),
    ({"title": ""}, "missing title"),
    ({"surprise": 1}, "unknown field surprise"),
])
def test_bad_rule_files_are_refused_with_the_file_name(tmp_path, change, message):
    spec = json.loads((RULES_DIR / "failed-sign-in-burst.json").read_text())
    spec.update(change)
    (tmp_path / "broken.json").write_text(json.dumps(spec))
    with pytest.raises(RuleError, match=message) as err:
        load_rules(tmp_path)
    assert "broken.json" in str(err.value)


def test_rules_folder_problems(tmp_path):
    with pytest.raises(RuleError, match="No rule file"):
        load_rules(tmp_path)
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(RuleError, match="a.json: cannot be read as JSON"):
        load_rules(tmp_path)
    with pytest.raises(RuleError, match="No rules folder"):
        load_rules(tmp_path / "missing")
    spec = (RULES_DIR / "audit-gap.json").read_text()
    (tmp_path / "a.json").write_text(spec)
    (tmp_path / "b.json").write_text(spec)
    with pytest.raises(RuleError, match="also used by a.json"):
        load_rules(tmp_path)


def test_settings_file(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"work_hours": ["07:30", "16:00"], "work_days": ["Sun", "Mon", "Tue", "Wed", "Thu"],
                                "holidays": ["2026-12-25"], "tz": "Asia/Dubai", "session_timeout": "15m"}))
    s = load_settings(path)
    assert (s.work_start, s.work_end, s.work_days) == (time(7, 30), time(16), (1, 2, 3, 4, 7))
    assert s.holidays == (date(2026, 12, 25),) and s.tz == "Asia/Dubai" and s.session_timeout == timedelta(minutes=15)
    for bad, message in [({"work_hours": ["18:00", "08:00"]}, "end after they start"),
                         ({"work_days": ["Funday"]}, "not a weekday"), ({"tz": "Mars/Base"}, "Unknown time zone"),
                         ({"holidays": ["soon"]}, "Bad setting"), ({"lunch": "12:00"}, "Unknown setting lunch")]:
        path.write_text(json.dumps(bad))
        with pytest.raises(RuleError, match=message):
            load_settings(path)
    with pytest.raises(RuleError, match="Cannot read the settings file"):
        load_settings(tmp_path / "none.json")


# --- each rule: must and must not ------------------------------------------------------------------------------

def test_failed_sign_in_burst(tmp_path):
    burst = [apim_failed(T + k * MIN, "bob") for k in range(10)]  # 10 in 9 minutes: the lockout did not stop it
    slow = [apim_failed(T + 2 * HOUR + k * 5 * MIN, "eve") for k in range(10)]  # 10 in 45 minutes: no burst
    few = [apim_failed(T + 4 * HOUR + k * MIN, "carl") for k in range(9)]  # only 9
    again = [apim_failed(T + 6 * HOUR + k * 30 * 1000 * timedelta(milliseconds=1), "bob") for k in range(11)]
    ev = load_nodes(tmp_path, {"apim": [*burst, *slow, *few, *again, apim_sign(T + 7 * HOUR, "bob")]})
    found = fired(ev, "failed-sign-in-burst")
    assert [(f.node, f.count) for f in found] == [("apim", 10), ("apim", 11)]
    assert all("actor bob" in f.subject for f in found) and found[0].severity == "high"
    assert lines_of(found[0]) == list(range(1, 11)) and set(found[0].events["outcome"]) == {"failure"}


def test_failed_sign_in_burst_of_unknown_users_on_identity_server(tmp_path):
    """Identity Server names no account on a failed login: a burst of them mixes everybody's, so it is MEDIUM."""
    ev = load_nodes(tmp_path, {"is": [is_login(T + k * MIN, "null", "Failed") for k in range(6)]
                               + [is_login(T + 6 * MIN + k * timedelta(seconds=20), "N/A", "Failed")
                                  for k in range(12)]
                               + [is_login(T + 40 * MIN, "alice@carbon.super")]})
    found = fired(ev, "failed-sign-in-burst")
    assert len(found) == 1 and found[0].count == 18 and "(unknown)" in found[0].subject
    assert found[0].severity == "medium"


def test_privileged_account_created(tmp_path):
    ev = load_nodes(tmp_path, {
        "mi": [logged_in(), mi_change(T, "jane", "created", "user", isAdmin=True, userId="root2"),
               mi_change(T + MIN, "jane", "created", "user", isAdmin=False, userId="clerk"),
               mi_change(T + 2 * MIN, "jane", "updated", "user", isAdmin=True, userId="clerk"),
               # the documentation's form: curly quotes and "true" as a string
               f"[{T + 3 * MIN:%Y-%m-%d %H:%M:%S},000]  INFO {{AUDIT_LOG}} - {{ “performedBy”: “admin”, “action”: "
               "“created”,  “type”: “user”, “info” : “{\\“userId\\” : \\“ops2\\”,\\“isAdmin\\”: \\“true\\”}”}"],
        "is": [is_record(T, "admin@carbon.super", "Add User", "dave", "{ Roles : admin,Internal/everyone }"),
               is_record(T + MIN, "admin@carbon.super", "Add User", "erin", "{ Roles : Internal/everyone }")]})
    found = fired(ev, "privileged-account-created")
    assert sorted(f.subject for f in found) == ["node is · artifact dave", "node mi · artifact ops2",
                                                "node mi · artifact root2"]
    assert all(f.count == 1 and f.severity == "high" for f in found)


def test_short_lived_account(tmp_path):
    ev = load_nodes(tmp_path, {
        "mi": [logged_in(), mi_change(T, "jane", "created", "user", isAdmin=True, userId="tmp1"),
               mi_change(T + 2 * DAY, "raj", "deleted", "user", userId="tmp1"),  # 2 days later: fires
               mi_change(T, "jane", "created", "user", isAdmin=False, userId="keep"),
               mi_change(T + 10 * DAY, "jane", "deleted", "user", userId="keep"),  # 10 days: no
               mi_change(T + HOUR, "jane", "deleted", "user", userId="never-created")],
        "is": [is_record(T, "admin@carbon.super", "Add User", "erin"),
               is_record(T + DAY, "admin@carbon.super", "Delete User", "erin", result="Failed"),  # refused: no
               is_kv(T, "alice@carbon.super", "Add-User", "zed", {"Roles": []}),
               is_kv(T + 3 * DAY, "alice@carbon.super", "Delete-User", "zed", {"ServiceProviderName": "Console"})]})
    found = fired(ev, "short-lived-account")
    assert sorted((f.subject, f.count) for f in found) == [("product is · artifact zed", 2),
                                                           ("product mi · artifact tmp1", 2)]
    tmp1 = next(f for f in found if "tmp1" in f.subject)
    assert tmp1.events["action"].to_list() == ["created", "deleted"]
    assert tmp1.last - tmp1.first == 2 * DAY


def test_logging_stopped_and_verbose_logging(tmp_path):
    ev = load_nodes(tmp_path, {"mi": [
        logged_in(),
        mi_change(T, "jane", "updated", "log_level", loggerName="org-apache-synapse", loggingLevel="OFF"),
        mi_change(T + MIN, "jane", "updated", "root_log_level", loggerName="root", loggingLevel="OFF"),
        mi_change(T + 2 * MIN, "jane", "created", "log_level", loggerName="custom", loggingLevel="OFF",
                  loggerClass="org.apache.synapse.rest.API"),
        mi_change(T + 3 * MIN, "jane", "updated", "log_level", loggerName="synapse-api", loggingLevel="DEBUG"),
        mi_change(T + 4 * MIN, "jane", "updated", "root_log_level", loggerName="root", loggingLevel="trace"),
        mi_change(T + 5 * MIN, "jane", "updated", "log_level", loggerName="hive", loggingLevel="ALL"),
        mi_change(T + 6 * MIN, "jane", "updated", "log_level", loggerName="quiet", loggingLevel="WARN"),
        mi_change(T + 7 * MIN, "jane", "updated", "log_level", loggerName="quiet", loggingLevel="INFO"),
        mi_change(T + 8 * MIN, "jane", "updated", "proxy_service", proxyName="OFF")]})
    stopped = fired(ev, "logging-stopped")
    assert sorted(f.subject for f in stopped) == ["node mi · artifact custom", "node mi · artifact org-apache-synapse",
                                                  "node mi · artifact root"]
    # the severity follows what was hit: the root logger is the audit trail, a component's logger is not
    assert {f.subject.rsplit(" ", 1)[1]: f.severity for f in stopped} == {"custom": "low", "org-apache-synapse": "low",
                                                                         "root": "high"}
    verbose = fired(ev, "verbose-logging")
    assert sorted(f.subject for f in verbose) == ["node mi · artifact hive", "node mi · artifact root",
                                                  "node mi · artifact synapse-api"]
    assert sum(f.count for f in verbose) == 3


def test_the_audit_logger_turned_off_or_down_is_high(tmp_path):
    ev = load_nodes(tmp_path, {"mi3": [
        logged_in(),
        mi_change(T, "jane", "updated", "log_level", loggerName="AUDIT_LOG", loggingLevel="OFF"),
        mi_change(T + MIN, "jane", "updated", "log_level", loggerName="correlation", loggingLevel="OFF"),
        mi_change(T + 2 * MIN, "jane", "updated", "log_level", loggerName="AUDIT_LOG", loggingLevel="ERROR"),
        mi_change(T + 3 * MIN, "jane", "updated", "log_level", loggerName="AUDIT_LOG", loggingLevel="INFO"),
        mi_change(T + 4 * MIN, "jane", "updated", "log_level", loggerName="org-apache-axis2", loggingLevel="ERROR")]})
    stopped = {f.subject.rsplit(" ", 1)[1]: f.severity for f in fired(ev, "logging-stopped")}
    assert stopped == {"AUDIT_LOG": "high", "correlation": "low"}
    reduced = fired(ev, "audit-logging-reduced")
    assert [(f.subject, f.severity, f.count) for f in reduced] == [("node mi3 · artifact AUDIT_LOG", "high", 1)]


def _apim(t, user: str, ip: str, ok: bool) -> str:
    if ok:
        return (f"TID: [-1234] [{stamp(t)}]  INFO {{AUDIT_LOG}} - '{user}@carbon.super [-1234]' logged in at "
                f"[{stamp(t)}+0000] from IP address {ip}")
    return (f"TID: [-1234] [{stamp(t)}]  WARN {{AUDIT_LOG}} - Login failed. Unauthorized login attempt "
            f"'{user}[-1234]' at [{stamp(t)}+0000] from IP address {ip}")


def test_password_guessing_that_worked_is_high_with_the_address(tmp_path):
    guess = [_apim(T + timedelta(seconds=20 * i), "admin", "203.0.113.77", False) for i in range(20)]
    spray = [_apim(T + HOUR + timedelta(seconds=10 * i), f"user{i}", "198.51.100.5", False) for i in range(6)]
    ev = load_nodes(tmp_path, {"apim1": [
        *guess, _apim(T + 8 * MIN, "admin", "203.0.113.77", True),           # the guess that worked
        _apim(T + 3 * HOUR, "bob", "10.0.0.1", False), _apim(T + 3 * HOUR + MIN, "bob", "10.0.0.1", True),  # a typo
        *spray, _apim(T + HOUR + 2 * MIN, "carol", "198.51.100.5", True)]})
    by_account = fired(ev, "sign-in-after-failures")
    assert len(by_account) == 1 and by_account[0].severity == "high" and by_account[0].count == 21
    assert "admin" in by_account[0].subject
    by_address = fired(ev, "sign-in-after-failures-from-address")
    assert sorted(f.subject.rsplit(" ", 1)[1] for f in by_address) == ["198.51.100.5", "203.0.113.77"]
    assert all("10.0.0.1" not in f.subject for f in by_address + by_account)  # one slip is no burst
    spray_f = next(f for f in by_address if "198.51.100.5" in f.subject)
    assert spray_f.count == 7 and "198.51.100.5" in spray_f.summary and "carol" in spray_f.summary


def test_a_bad_severity_when_is_refused(tmp_path):
    spec = json.loads((RULES_DIR / "logging-stopped.json").read_text())
    spec["severity_when"] = [{"severity": "urgent", "where": {"artifact": "root"}}]
    with pytest.raises(RuleError, match="severity_when: severity must be one of"):
        Rule.from_dict(spec, "x.json")
    spec["severity_when"] = [{"severity": "high", "where": {"nonsense": "root"}}]
    with pytest.raises(RuleError, match="unknown column nonsense"):
        Rule.from_dict(spec, "x.json")


def test_tracing_enabled(tmp_path):
    ev = load_nodes(tmp_path, {"mi": [
        logged_in(),
        mi_change(T, "jane", "enabled", "proxy_service_trace", proxyName="PaymentProxy"),
        mi_change(T + MIN, "jane", "disabled", "proxy_service_trace", proxyName="PaymentProxy"),
        mi_change(T + 2 * MIN, "jane", "enabled", "api_trace", apiName="OrderAPI"),
        mi_change(T + 3 * MIN, "jane", "enabled", "proxy_service", proxyName="PaymentProxy"),
        mi_change(T + 4 * MIN, "jane", "disabled", "endpoint_trace", endpointName="EP")]})
    found = fired(ev, "tracing-enabled")
    assert sorted(f.subject for f in found) == ["node mi · artifact_type api_trace · artifact OrderAPI",
                                                "node mi · artifact_type proxy_service_trace · artifact PaymentProxy"]
    assert all(f.count == 1 for f in found)


def test_role_or_permission_change(tmp_path):
    ev = load_nodes(tmp_path, {"is": [
        is_record(T, "admin@carbon.super", "Add Role", "Internal/devops",
                  "{ Users : [dave]\nPermissions : [/permission/admin/login] }"),
        is_record(T + MIN, "admin@carbon.super", "Update Permissions Of Role", "Internal/devops", "{ }"),
        is_record(T + 2 * MIN, "admin@carbon.super", "Update Roles of User", "dave", "{ Roles : admin }"),
        is_kv(T + 3 * MIN, "alice@carbon.super", "Delete-Role", "Internal/old", {}),
        is_kv(T + 4 * MIN, "alice@carbon.super", "Set-User-Claim-Values", "dave",
              {"Claims": {"http://wso2.org/claims/role": "admin"}}),
        # must not fire: a phone number, a new user, a password
        is_kv(T + 5 * MIN, "alice@carbon.super", "Set-User-Claim-Values", "erin",
              {"Claims": {"http://wso2.org/claims/mobile": "0*******9"}}),
        is_record(T + 6 * MIN, "admin@carbon.super", "Add User", "erin"),
        is_record(T + 7 * MIN, "admin@carbon.super", "Change Password by Administrator", "erin")]})
    found = fired(ev, "role-or-permission-change")
    assert sum(f.count for f in found) == 5
    assert {f.events["artifact"][0] for f in found} == {"Internal/devops", "dave", "Internal/old"}
    devops = next(f for f in found if "Internal/devops" in f.subject)
    assert devops.count == 2 and devops.events["action"].to_list() == ["Add Role", "Update Permissions Of Role"]


def test_anonymous_action(tmp_path):
    ev = load_nodes(tmp_path, {
        "mi": [mi_change(T, "anonymous", "updated", "registry_resource_properties", registryResourceName="a.xml",
                         list={"k": "v"}),
               mi_change(T + MIN, "anonymous", "enabled", "proxy_service", proxyName="P"),
               logged_in(T + 2 * MIN), mi_change(T + 2 * MIN, "jane", "enabled", "proxy_service", proxyName="P")],
        "is": [is_login(T, "null", "Failed")]})  # an unknown user failing to sign in is not an anonymous change
    found = fired(ev, "anonymous-action")
    assert len(found) == 1 and found[0].node == "mi" and found[0].count == 2
    assert set(found[0].events["actor"].cast(pl.String)) == {"anonymous"}


def test_off_hours_change_with_configurable_hours_days_and_holidays(tmp_path):
    sat = T + 5 * DAY + HOUR  # Saturday 10:00
    ev = load_nodes(tmp_path, {"mi": [
        logged_in(T - 2 * HOUR + MIN), mi_change(T - MIN, "jane", "enabled", "endpoint", endpointName="A"),  # 08:59
        mi_change(T, "jane", "enabled", "endpoint", endpointName="B"),  # 09:00
        mi_change(T + 9 * HOUR - MIN, "jane", "enabled", "endpoint", endpointName="C"),  # 17:59
        mi_change(T + 9 * HOUR, "jane", "enabled", "endpoint", endpointName="D"),  # 18:00
        mi_sign(T + DAY - 7 * HOUR, "jane"),  # a sign-in at 02:00 is not a change
        logged_in(sat), mi_change(sat, "jane", "disabled", "endpoint", endpointName="E")]})
    default = fired(ev, "off-hours-change")
    assert sorted(line for f in default for line in lines_of(f)) == [5, 8]  # 18:00 and Saturday (08:00-18:00)
    nine_to_five = Settings(work_start=time(9), work_end=time(17))
    assert sorted(line for f in fired(ev, "off-hours-change", nine_to_five) for line in lines_of(f)) == [2, 4, 5, 8]
    weekend_work = Settings(work_days=(1, 2, 3, 4, 5, 6))
    assert sorted(line for f in fired(ev, "off-hours-change", weekend_work) for line in lines_of(f)) == [5]
    holiday = Settings(holidays=(T.date(),))
    assert sorted(line for f in fired(ev, "off-hours-change", holiday) for line in lines_of(f)) == [2, 3, 4, 5, 8]
    # working hours in another zone: 09:00 UTC is 13:00 in Dubai, 18:00 UTC is 22:00
    assert sorted(line for f in fired(ev, "off-hours-change", Settings(tz="Asia/Dubai"))
                  for line in lines_of(f)) == [4, 5, 8]
    assert all(f.severity == "low" and "date" in f.subject for f in default)


def test_mass_deletion(tmp_path):
    dels = [mi_change(T + k * 3 * MIN, "raj", "deleted", "carbon_application", cAppFileName=f"app{k}.car")
            for k in range(10)]  # 10 in 27 minutes
    slow = [mi_change(T + 2 * HOUR + k * 20 * MIN, "ana", "deleted", "registry_resource",
                      registryResourceName=f"conf:/r{k}") for k in range(10)]  # 10 over 3 hours
    split = [mi_change(T + 6 * HOUR + k * MIN, "jo" if k % 2 else "al", "deleted", "user", userId=f"u{k}")
             for k in range(10)]  # 5 each
    ev = load_nodes(tmp_path, {"mi": [logged_in(), *dels, *slow, *split]})
    found = fired(ev, "mass-deletion")
    assert len(found) == 1 and found[0].count == 10 and "actor raj" in found[0].subject
    assert found[0].severity == "high" and found[0].events["artifact"].n_unique() == 10


def test_first_seen_actor_after_the_baseline(tmp_path):
    daily = [mi_change(T + k * DAY, "jane", "enabled", "endpoint", endpointName="EP") for k in range(10)]
    ev = load_nodes(tmp_path, {"mi": [*daily, mi_change(T + 2 * DAY, "raj", "enabled", "endpoint", endpointName="EP"),
                                      mi_change(T + 9 * DAY, "raj", "enabled", "endpoint", endpointName="EP"),
                                      mi_change(T + 8 * DAY, "newbie", "enabled", "endpoint", endpointName="EP"),
                                      mi_change(T + 9 * DAY, "newbie", "disabled", "endpoint", endpointName="EP")],
                               "apim": [apim_failed(T + 9 * DAY, "mallory")]})
    found = fired(ev, "first-seen-actor")
    assert len(found) == 1 and found[0].subject == "actor newbie" and found[0].count == 2
    # the same events cut to the first 6 days: the baseline of 7 days is not over, nothing is new yet
    early = ev.filter(pl.col("timestamp") < ev["timestamp"].min() + 6 * DAY)
    assert fired(early, "first-seen-actor") == []


def test_change_without_session(tmp_path):
    ev = load_nodes(tmp_path, {
        "mi-1": [mi_sign(T, "jane"), mi_change(T + MIN, "jane", "enabled", "endpoint", endpointName="A"),
                 mi_sign(T + 2 * MIN, "jane", "out"),
                 mi_change(T + 3 * MIN, "jane", "enabled", "endpoint", endpointName="B"),  # after signing out
                 mi_change(T + HOUR, "raj", "enabled", "endpoint", endpointName="C"),  # never signed in
                 mi_sign(T + 5 * HOUR, "ana"),
                 mi_change(T + 7 * HOUR, "ana", "enabled", "endpoint", endpointName="D")],  # 2 h after signing in
        "apim": [apim_change(T, "admin", "created", name="OrderAPI")]})  # publisher changes have no console sign-in
    found = fired(ev, "change-without-session")
    assert sorted((f.subject, lines_of(f)) for f in found) == [
        ("node mi-1 · actor ana · date 2026-11-02", [7]), ("node mi-1 · actor jane · date 2026-11-02", [4]),
        ("node mi-1 · actor raj · date 2026-11-02", [5])]
    patient = Settings(session_timeout=timedelta(hours=3))
    assert sorted(f.subject for f in fired(ev, "change-without-session", patient)) == [
        "node mi-1 · actor jane · date 2026-11-02", "node mi-1 · actor raj · date 2026-11-02"]


def test_audit_gap_counts_working_hours_only(tmp_path):
    fri = T + 4 * DAY
    ev = load_nodes(tmp_path, {
        "busy": [mi_change(T + k * DAY, "jane", "enabled", "endpoint", endpointName="EP") for k in range(8)],
        # Monday 09:00 -> Wednesday 17:00: 9 + 10 + 9 = 28 working hours of silence
        "gappy": [mi_change(T, "jane", "enabled", "endpoint", endpointName="EP"),
                  mi_change(T + 2 * DAY + 8 * HOUR, "jane", "enabled", "endpoint", endpointName="EP"),
                  # Wednesday 17:00 -> Thursday 17:00: 10 working hours, under the 20 of the rule
                  mi_change(T + 3 * DAY + 8 * HOUR, "jane", "enabled", "endpoint", endpointName="EP"),
                  # Friday 17:00 -> Monday 10:00: 1 + 2 working hours, the weekend does not count
                  mi_change(fri + 8 * HOUR, "jane", "enabled", "endpoint", endpointName="EP"),
                  mi_change(fri + 3 * DAY + HOUR, "jane", "enabled", "endpoint", endpointName="EP")],
        # writes on Monday and then nothing while the others go on for days: silent until the end
        "stopped": [mi_change(T + HOUR, "jane", "enabled", "endpoint", endpointName="EP")]})
    found = fired(ev, "audit-gap")
    assert sorted((f.node, f.count) for f in found) == [("gappy", 2), ("stopped", 1)]
    gappy = next(f for f in found if f.node == "gappy")
    assert "28.0 working hours" in gappy.summary and lines_of(gappy) == [1, 2]
    stopped = next(f for f in found if f.node == "stopped")
    assert stopped.last == ev["timestamp"].max() and stopped.first.replace(tzinfo=None) == T + HOUR
    # Tuesday and Wednesday as holidays: the long gap is no longer a gap
    holidays = Settings(holidays=((T + DAY).date(), (T + 2 * DAY).date()))
    assert sorted(f.node for f in fired(ev, "audit-gap", holidays)) == ["stopped"]


def test_audit_gap_knows_every_node_of_the_manifest(tmp_path):
    """A node whose files lie outside the scope is silent for the whole of it; silence from the scope's start
    until a node's first event counts too; a scope without any event at all still shows the silence."""
    write = {"busy": [mi_change(T + k * DAY, "jane", "enabled", "endpoint", endpointName="EP") for k in range(8)],
             "old": [mi_change(T - 7 * DAY, "jane", "enabled", "endpoint", endpointName="EP")],
             "late": [mi_change(T + 3 * DAY + 4 * HOUR, "jane", "enabled", "endpoint", endpointName="EP")]}
    load_nodes(tmp_path, write)
    log = audit_lib.load(tmp_path, tz="UTC")
    scope = Filters(start=T.replace(tzinfo=UTC) - 9 * HOUR, end=T.replace(tzinfo=UTC) + 8 * DAY)
    events = apply_filters(log.events, scope)
    rule = [rule_by_id("audit-gap")]
    nodes, span = known_nodes(log.files, scope), scope_span(scope, log.files)
    assert nodes == ["busy", "late", "old"]
    assert not any(f.node == "old" for f in findings(events, rule))  # without the manifest: not considered
    every = findings(events, rule, nodes=nodes, span=span)
    assert sorted(f.node for f in every) == ["late", "late", "old"]  # busy: 10 working hours at the end, under 20
    old = next(f for f in every if f.node == "old")
    assert old.count == 0 and old.events.is_empty() and old.first == scope.start and old.last == scope.end
    assert "No audit event from old for 61.0 working hours" in old.summary  # 6 days of 10 hours and 1 hour
    head, tail = sorted((f for f in every if f.node == "late"), key=lambda f: f.first)
    # Monday 00:00 -> Thursday 13:00: 3 x 10 + 5 working hours; then until Tuesday 09:00: 5 + 10 + 10 + 1
    assert lines_of(head) == [1] and "35.0 working hours" in head.summary and head.first == scope.start
    assert lines_of(tail) == [1] and "26.0 working hours" in tail.summary and tail.last == scope.end
    # a scope with no event anywhere: every known node is silent
    empty = Filters(start=T.replace(tzinfo=UTC) + 20 * DAY, end=T.replace(tzinfo=UTC) + 27 * DAY)
    quiet = findings(apply_filters(log.events, empty), rule, nodes=known_nodes(log.files, empty),
                     span=scope_span(empty, log.files))
    assert sorted(f.node for f in quiet) == ["busy", "late", "old"]
    # a scope narrowed to one person says nothing of a node's logging
    assert known_nodes(log.files, Filters(users=("jane",))) == []
    assert known_nodes(log.files, Filters(nodes=("old",))) == ["old"]


def test_unusual_for_actor_against_their_own_history(tmp_path):
    """jane changes 2-3 things on 20 working days, on mi-1, between 09:00 and 15:00; then one day 40 changes, a
    first change on mi-2 and one at 03:00. Each stands out against her history, with the history stated; raj, with
    only 5 days of history, has no baseline yet and is never judged."""
    lines, other = [], []
    day = T
    for k in range(20):
        while day.weekday() > 4:
            day += DAY
        for j in range(2 + k % 2):
            lines.append(mi_change(day + j * 2 * HOUR, "jane", "enabled", "endpoint", endpointName=f"EP{j}"))
        if k < 5:
            lines.append(mi_change(day + HOUR, "raj", "enabled", "endpoint", endpointName="EP"))
        day += DAY
    while day.weekday() > 4:
        day += DAY
    loud = day
    lines += [mi_change(loud + k * MIN, "jane", "disabled", "proxy_service", proxyName=f"P{k}") for k in range(40)]
    lines += [mi_change(loud + k * MIN, "raj", "disabled", "proxy_service", proxyName=f"P{k}") for k in range(40)]
    other.append(mi_change(loud + DAY + HOUR, "jane", "enabled", "endpoint", endpointName="EP"))
    lines.append(mi_change(loud + 2 * DAY - 6 * HOUR, "jane", "enabled", "endpoint", endpointName="EP"))  # 03:00
    ev = load_nodes(tmp_path, {"mi-1": lines, "mi-2": other})
    found = fired(ev, "unusual-for-actor")
    by_day = {f.subject: f for f in found}
    assert all("actor jane" in s for s in by_day) and len(found) == 3, [f.summary for f in found]
    volume, node, hour = sorted(found, key=lambda f: f.first)
    assert volume.count == 40 and "usually 2-3 changes a day on the 20 days" in volume.summary
    assert "40 this day" in volume.summary and volume.severity == "medium" and volume.node == "mi-1"
    assert node.count == 1 and "never before on mi-2" in node.summary and node.node == "mi-2"
    assert hour.count == 1 and "at 03:00, more than 3 hours from any hour they acted at before" in hour.summary
    # with an administrator created the same day, the loud day is HIGH
    admin = mi_change(loud + 2 * HOUR, "jane", "created", "user", isAdmin=True, userId="root2")
    ev = load_nodes(tmp_path, {"mi-1": [*lines, admin], "mi-2": other})
    loud_day = next(f for f in fired(ev, "unusual-for-actor") if f.count > 30)
    assert loud_day.severity == "high"


def test_baseline_rule_parameters_are_checked():
    spec = {"id": "x", "title": "t", "severity": "medium", "meaning": "m", "references": ["PCI DSS 10.4.1"],
            "kind": "baseline", "key": ["actor", "date"], "baseline": "90d", "min_history": 14}
    with pytest.raises(RuleError, match="needs 'volume', 'novel' or 'hour_margin'"):
        Rule.from_dict(spec)
    with pytest.raises(RuleError, match="volume factor must be more than 1"):
        Rule.from_dict({**spec, "volume": {"factor": 1, "min": 3}})
    with pytest.raises(RuleError, match="novel lists node and/or artifact_type"):
        Rule.from_dict({**spec, "novel": ["user"]})
    with pytest.raises(RuleError, match="key is"):
        Rule.from_dict({**spec, "key": ["actor"], "novel": ["node"]})
    rule = Rule.from_dict({**spec, "volume": {"factor": 3, "min": 25}, "novel": ["node"], "hour_margin": 3})
    assert (rule.volume_factor, rule.volume_min, rule.novel, rule.hour_margin) == (3.0, 25, ("node",), 3)


# --- the whole list ------------------------------------------------------------------------------------------------

def test_samples_findings_are_stable_and_point_at_their_lines(samples_log):
    ev = samples_log.events
    found = findings(ev)
    again = findings(ev.sample(fraction=1.0, shuffle=True, seed=5).sort("timestamp", "source", "line"))
    assert [f.id for f in found] == [f.id for f in again] and found == again
    assert len({f.id for f in found}) == len(found) > 20
    ranks = [f.rank for f in found]
    assert ranks == sorted(ranks, reverse=True)
    assert REQUIRED_IDS - {"failed-sign-in-burst", "mass-deletion"} <= {f.rule for f in found}
    for f in found:
        e = f.events
        assert e.height == f.count and e["timestamp"].min() == f.first, f.rule
        assert {"timestamp", "actor", "node", "outcome", "source", "line"} <= set(e.columns)
        if f.node is not None:
            assert set(e["node"].cast(pl.String)) == {f.node}
    # every event behind a finding is the line the loader read
    f = next(f for f in found if f.rule == "logging-stopped")
    row = f.events.row(0, named=True)
    raw = samples_log.raw_line(row["source"], row["line"])
    assert '"loggingLevel\\":\\"OFF\\"' in raw or '"loggingLevel":"OFF"' in raw.replace("\\", "")


def test_findings_made_elsewhere_join_the_list(samples_log):
    extra = Finding(id=finding_id("rollover-overwrites-archives", "mi-node-1"), rule="rollover-overwrites-archives",
                    title="Rollover overwrites archives", severity="high", meaning="m",
                    references=("PCI DSS 10.5.1",), node="mi-node-1", first=None, last=None, count=1,
                    subject="mi-node-1 conf/log4j2.properties", evidence=("conf/log4j2.properties:42: x",))
    found = findings(samples_log.events, extra=[extra])
    assert extra in found and found.index(extra) < len(at_least(found, "high"))
    d = extra.to_dict()
    assert d["events"] == [] and d["evidence"] == ["conf/log4j2.properties:42: x"] and d["first"] is None
    table = findings_table(found)
    assert table.height == len(found) and table["id"].to_list() == [f.id for f in found]
    assert json.loads(json.dumps(found[0].to_dict(), default=str))["events"][0]["line"] >= 1


def test_external_rules_are_metadata_only(samples_log, tmp_path):
    spec = {"id": "x-check", "title": "X", "severity": "low", "meaning": "made by another module",
            "references": {"pci_dss_v4": ["10.5.1"], "soc2": ["CC7.2"]}, "kind": "external"}
    rule = Rule.from_dict(spec, "x-check.json")
    assert rule.references == ("PCI DSS 10.5.1", "SOC 2 CC7.2")
    assert findings(samples_log.events, [rule]) == []


def test_a_rule_of_ones_own(samples_log, tmp_path):
    spec = {"id": "connector-change", "title": "Connector change", "severity": "info", "meaning": "a connector",
            "references": ["SOC 2 CC8.1"], "kind": "match", "where": {"artifact_type": "connector"},
            "key": ["node"], "summary": "{count} connector changes on {node} by {actors}"}
    (tmp_path / "connector-change.json").write_text(json.dumps(spec))
    found = findings(samples_log.events, load_rules(tmp_path))
    expected = samples_log.events.filter(pl.col("artifact_type").cast(pl.String) == "connector")
    assert sum(f.count for f in found) == expected.height > 0
    assert {f.node for f in found} == set(expected["node"].cast(pl.String))
    assert all(f.summary.startswith(f"{f.count} connector changes on {f.node} by ") for f in found)


def test_empty_events_give_no_findings(samples_log):
    assert findings(samples_log.events.head(0)) == []


def test_severity_floor():
    make = [Finding(id=s, rule="r", title="t", severity=s, meaning="", references=(), node=None, first=None,
                    last=None, count=1) for s in SEVERITIES]
    assert [f.severity for f in at_least(make, "medium")] == ["medium", "high"]
    assert audit_lib.findings is findings


def test_one_is_said_in_the_singular(samples_log):
    summaries = [f.summary for f in findings(samples_log.events)]
    assert any(s.startswith("1 change by ") for s in summaries)
    assert not any(s.startswith("1 changes") or "(1 times" in s or "1 role or permission changes" in s
                   for s in summaries)
    assert any(re.match(r"^\d{2,} changes by ", s) or re.match(r"^[2-9] changes by ", s) for s in summaries)
