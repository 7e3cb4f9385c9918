"""The logging configuration check, on copies of the log4j2.properties WSO2 ships (tests/data/log4j2)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import audit_lib
from audit_lib.checks import config_check as cc
from audit_lib.checks.finding import Finding
from audit_lib.checks.findings import findings as all_findings
from audit_lib.checks.rule import load_rules
from audit_lib.events.schema import files_schema
from tests.support.wso2_lines import MIN, MONDAY, is_kv, is_record, load_nodes, stamp

DATA = Path(__file__).resolve().parents[1] / "support" / "data" / "log4j2"
MI = (DATA / "mi-4.4.properties").read_text()
APIM = (DATA / "apim-4.x.properties").read_text()
IS = (DATA / "is-7.properties").read_text()
MI_DELETE = (DATA / "mi-4.4-delete-400d.properties").read_text()
AUDIT_REF = "logger.AUDIT_LOG.appenderRef.AUDIT_LOGFILE.ref = AUDIT_LOGFILE"


def ids(findings: list[cc.ConfigFinding]) -> list[str]:
    return [f.rule for f in findings]


def one(findings: list[cc.ConfigFinding], check_id: str) -> cc.ConfigFinding:
    hits = [f for f in findings if f.rule == check_id]
    assert len(hits) == 1, ids(findings)
    return hits[0]


def edited(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# ------------------------------------------------------------------------------------ properties syntax

def test_properties_syntax_as_java_reads_it():
    text = ("# comment \\\n"
            "! also a comment\n"
            "a = 1\n"
            "b:2\n"
            "c 3\n"
            "  d\t=  four  \\\n"
            "      continued \\\n"
            "#not a comment here\n"
            "e = tab\\tand\\u0041\n"
            "f = odd\\\\\n"
            "g = next\n"
            "a = last wins\n")
    props = cc.parse_properties(text)
    assert {k: p.value for k, p in props.items()} == {
        "a": "last wins", "b": "2", "c": "3", "d": "four  continued #not a comment here", "e": "tab\tandA",
        "f": "odd\\", "g": "next"}
    assert (props["d"].line, props["d"].end) == (6, 8)
    assert props["a"].line == 12 and props["g"].line == 11
    assert props["d"].evidence().startswith("lines 6-8: d\t=  four continued #not a comment here")


def test_shipped_mi_loggers_list_spans_continuation_lines():
    cfg = cc.read_config(MI)
    listed = cfg.props["loggers"]
    assert listed.line == line_of(MI, "loggers = AUDIT_LOG") and listed.end == listed.line + 4
    assert "opentelemetry-trace" in listed.value and "\\" not in listed.value
    assert cfg.audit_logger() is not None and cfg.audit_logger().id == "AUDIT_LOG"
    # `osgi` is the id, `PaxOsgi` the name references use; CARBON_SYS_LOG (API-M) is defined but not listed
    assert cfg.by_name["PaxOsgi"].id == "osgi"
    apim = cc.read_config(APIM)
    assert "CARBON_SYS_LOG" in apim.defined_appenders and "CARBON_SYS_LOG" not in apim.appenders


def test_sizes_and_durations_as_log4j2_reads_them():
    assert cc.parse_size("10MB") == 10_485_760
    assert cc.parse_size("10000 KB") == 10_240_000
    assert cc.parse_size("1.5 GB") == 1_610_612_736
    assert cc.parse_size("garbage") == cc.DEFAULT_SIZE_TRIGGER
    assert cc.parse_duration_days("P400D") == 400
    assert cc.parse_duration_days("30d") == 30
    assert cc.parse_duration_days("PT36H") == 1.5
    assert cc.parse_duration_days("soon") is None


# ------------------------------------------------------------------------------------ shipped configs

@pytest.mark.parametrize(("text", "product"), [(MI, "mi"), (APIM, "apim")])
def test_shipped_mi_and_apim_overwrite_archives_of_a_busy_day(text, product):
    findings = cc.check_config(text, "node-a", source="node-a/conf/log4j2.properties")
    assert cc.guess_product(text) == product
    assert "audit-logger-missing" not in ids(findings)
    f = one(findings, "rollover-overwrites-archives")
    assert f.node == "node-a" and f.source == "node-a/conf/log4j2.properties"
    assert f.severity == "medium" and "PCI DSS 10.5.1" in f.references
    pattern_line = line_of(text, "appender.AUDIT_LOGFILE.filePattern")
    assert f.evidence[0].startswith(f"node-a/conf/log4j2.properties:{pattern_line}: appender.AUDIT_LOGFILE.filePattern")
    assert f.subject == f.source and f.summary.startswith("node-a: audit-%d{MM-dd-yyyy}.log has no %i")
    assert f.evidence[0].endswith("audit-%d{MM-dd-yyyy}.log")
    assert any("SizeBasedTriggeringPolicy" in e for e in f.evidence)
    assert "audit-%d{MM-dd-yyyy}-%i.log" in f.meaning and "as WSO2 ships it" in f.meaning
    retention = one(findings, "retention-below-12-months")
    assert "not enforced by configuration" in retention.meaning and retention.severity == "low"
    assert any(e.endswith("strategy.max = 20") for e in retention.evidence)


def test_shipped_is_keeps_every_roll_with_its_index():
    findings = cc.check_config(IS, "is-node")
    assert cc.guess_product(IS) == "is"
    assert "rollover-overwrites-archives" not in ids(findings)
    assert "audit-logger-missing" not in ids(findings)
    retention = one(findings, "retention-below-12-months")
    assert "not enforced by configuration" in retention.meaning and "max=20 caps the archives of one day" in (
        retention.meaning)


def test_delete_action_keeping_400_days_leaves_no_retention_finding():
    findings = cc.check_config(MI_DELETE, "mi-node-1")
    assert findings == []
    roll = cc.read_config(MI_DELETE).rollover()
    assert roll.has_index and roll.has_date and len(roll.delete) == 1


@pytest.mark.parametrize(("condition", "days"), [
    ("appender.AUDIT_LOGFILE.strategy.delete.ifFileName.ifLastModified.age = 90d", "90"),
    ("appender.AUDIT_LOGFILE.strategy.delete.ifFileName.ifLastModified.age = P30D", "30"),
])
def test_delete_action_keeping_less_than_a_year(condition, days):
    text = edited(MI_DELETE, "appender.AUDIT_LOGFILE.strategy.delete.ifFileName.ifLastModified.age = P400D",
                  condition)
    f = one(cc.check_config(text, "mi-node-1"), "retention-below-12-months")
    assert f.severity == "high" and f"about {days} days" in f.meaning
    assert any(condition.split(" = ")[0] in e for e in f.evidence)


def test_delete_action_of_other_files_does_not_count():
    text = edited(MI_DELETE, "ifFileName.glob = audit-*.log", "ifFileName.glob = wso2carbon-*.log")
    f = one(cc.check_config(text, "mi-node-1"), "retention-below-12-months")
    assert "not enforced by configuration" in f.meaning


def test_delete_by_file_count_counts_days_of_daily_archives():
    text = edited(MI_DELETE, "ifFileName.ifLastModified.type = IfLastModified",
                  "ifFileName.ifLastModified.type = IfAccumulatedFileCount")
    text = edited(text, "ifFileName.ifLastModified.age = P400D", "ifFileName.ifLastModified.exceeds = 60")
    f = one(cc.check_config(text, "mi-node-1"), "retention-below-12-months")
    assert f.severity == "high" and "beyond 60 archives" in f.meaning


def test_counter_only_pattern_keeps_max_days():
    text = edited(MI, "/audit-%d{MM-dd-yyyy}.log", "/audit.%i.log")
    findings = cc.check_config(text, "mi-node-1")
    f = one(findings, "retention-below-12-months")
    assert f.severity == "high" and "at most 20 archives" in f.meaning
    assert "rollover-overwrites-archives" not in ids(findings)


# ------------------------------------------------------------------------------------ audit logger routing

def test_audit_logger_removed():
    text = "\n".join(line for line in MI.splitlines() if not line.startswith("logger.AUDIT_LOG."))
    f = one(cc.check_config(text, "mi-node-1"), "audit-logger-missing")
    assert f.severity == "high" and "no logger is named AUDIT_LOG" in f.meaning
    assert "CARBON_LOGFILE" in f.meaning and "not to audit.log" in f.meaning
    assert any(e.startswith(f"line {line_of(text, 'rootLogger.level')}: rootLogger.level = INFO") for e in f.evidence)


def test_audit_logger_removed_on_apim_drops_records_at_the_root_level():
    text = "\n".join(line for line in APIM.splitlines() if not line.startswith("logger.AUDIT_LOG."))
    f = one(cc.check_config(text, "apim-node"), "audit-logger-missing")
    assert "level ERROR drops them" in f.meaning


def test_audit_logger_left_out_of_the_loggers_list():
    text = edited(MI, "\nloggers = AUDIT_LOG, SERVICE_LOGGER", "\nloggers = SERVICE_LOGGER")
    f = one(cc.check_config(text, "mi-node-1"), "audit-logger-missing")
    assert "not in the `loggers` list" in f.meaning
    assert any(e.startswith(f"lines {line_of(text, 'loggers = SERVICE_LOGGER')}-") for e in f.evidence)


def test_audit_logger_off():
    text = edited(MI, "logger.AUDIT_LOG.level = INFO", "logger.AUDIT_LOG.level = OFF")
    f = one(cc.check_config(text, "mi-node-1"), "audit-logger-missing")
    assert "set to OFF" in f.meaning
    assert f"line {line_of(text, 'logger.AUDIT_LOG.level')}: logger.AUDIT_LOG.level = OFF" in f.evidence


def test_audit_logger_above_info():
    text = edited(MI, "logger.AUDIT_LOG.level = INFO", "logger.AUDIT_LOG.level = ERROR")
    assert "written at INFO, are dropped" in one(cc.check_config(text, "n"), "audit-logger-missing").meaning


def test_audit_logger_routed_to_carbon_logfile_only():
    text = edited(MI, AUDIT_REF, "logger.AUDIT_LOG.appenderRef.CARBON_LOGFILE.ref = CARBON_LOGFILE")
    f = one(cc.check_config(text, "mi-node-1"), "audit-logger-missing")
    assert "go to CARBON_LOGFILE only (additivity is false)" in f.meaning
    assert f.summary.startswith("mi-node-1: AUDIT_LOG is not routed to the audit file appender")  # not "aUDIT_LOG"
    # the audit appender itself is still there: its rollover is still judged
    assert "rollover-overwrites-archives" in ids(cc.check_config(text, "mi-node-1"))


def test_audit_logger_without_appender_sends_records_to_the_root_by_additivity():
    text = edited(MI, AUDIT_REF + "\n", "")
    text = edited(text, "logger.AUDIT_LOG.additivity = false", "logger.AUDIT_LOG.additivity = true")
    f = one(cc.check_config(text, "mi-node-1"), "audit-logger-missing")
    assert "only to the root logger's appenders (CARBON_CONSOLE, CARBON_LOGFILE, ERROR_LOGFILE, PaxOsgi)" in f.meaning


def test_audit_appender_not_listed_or_filtered():
    text = edited(MI, "CARBON_LOGFILE, AUDIT_LOGFILE, ATOMIKOS", "CARBON_LOGFILE, ATOMIKOS")
    f = one(cc.check_config(text, "mi-node-1"), "audit-logger-missing")
    assert "defined but not in the `appenders` list" in f.meaning
    assert any(e.startswith(f"line {line_of(text, 'appenders = ')}: appenders =") for e in f.evidence)
    text = edited(MI, "appender.AUDIT_LOGFILE.filter.threshold.level = INFO",
                  "appender.AUDIT_LOGFILE.filter.threshold.level = WARN")
    assert "threshold filter is WARN" in one(cc.check_config(text, "n"), "audit-logger-missing").meaning


def test_audit_routing_follows_names_and_works_without_lists():
    # appender id differs from its name, no `appenders`/`loggers` lists, `key:value` syntax, shorthand logger
    text = ("appender.a1.type = RollingFile\n"
            "appender.a1.name:AUDIT_FILE\n"
            "appender.a1.fileName = /logs/audit.log\n"
            "appender.a1.filePattern = /logs/audit-%d{yyyy-MM-dd}-%i.log.gz\n"
            "appender.a1.policies.type = Policies\n"
            "appender.a1.policies.time.type = TimeBasedTriggeringPolicy\n"
            "appender.a1.strategy.type = DefaultRolloverStrategy\n"
            "appender.a1.strategy.del.type = Delete\n"
            "appender.a1.strategy.del.basePath = /logs\n"
            "appender.a1.strategy.del.when.type = IfLastModified\n"
            "appender.a1.strategy.del.when.age = 400d\n"
            "logger.audit = INFO, AUDIT_FILE\n"
            "logger.audit.name = AUDIT_LOG\n"
            "logger.audit.additivity = false\n"
            "rootLogger.level = INFO\n")
    assert cc.check_config(text, "n") == []
    broken = edited(text, "logger.audit = INFO, AUDIT_FILE", "logger.audit = INFO, a1")
    assert "refers to appender a1, which is not defined here" in one(
        cc.check_config(broken, "n"), "audit-logger-missing").meaning


def test_text_that_is_no_properties_file_gives_a_finding_not_an_error():
    findings = cc.check_config('<Configuration status="WARN"><Loggers/></Configuration>\n\x00\\', "n")
    assert ids(findings) == ["audit-logger-missing"]


# ------------------------------------------------------------------------------------ find_configs

def make_homes(root: Path) -> None:
    homes = {"mi-node-1/conf": MI, "apim-node/repository/conf": APIM, "is-node/repository/conf": IS}
    for folder, text in homes.items():
        (root / folder).mkdir(parents=True)
        (root / folder / "log4j2.properties").write_text(text)
    decoy = root / "is-node/repository/resources/conf/templates/repository/conf"
    decoy.mkdir(parents=True)
    (decoy / "log4j2.properties.j2").write_text(IS)
    (root / "mi-node-1/conf/deployment").mkdir()
    (root / "mi-node-1/conf/deployment/log4j2.properties").write_text(MI)  # not the node's config


def test_find_configs_in_a_folder_names_nodes_like_the_loader(tmp_path, samples_dir):
    make_homes(tmp_path)
    found = cc.find_configs(tmp_path)
    assert [(c.source, c.node, c.product) for c in found] == [
        ("apim-node/repository/conf/log4j2.properties", "apim-node", "apim"),
        ("is-node/repository/conf/log4j2.properties", "is-node", "is"),
        ("mi-node-1/conf/log4j2.properties", "mi-node-1", "mi")]
    # the loader names the nodes of <node>/repository/logs/audit*.log the same way
    for node in ("apim-node", "is-node", "mi-node-1"):
        shutil.copytree(samples_dir / node / "repository" / "logs", tmp_path / node / "repository" / "logs")
    log = audit_lib.load(tmp_path)
    assert {c.node for c in found} == set(log.files["node"].unique().to_list())


def test_find_configs_in_a_zip_an_upload_and_a_single_file(tmp_path):
    make_homes(tmp_path / "export")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in sorted((tmp_path / "export").rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(tmp_path / "export").as_posix())
    (tmp_path / "export.zip").write_bytes(buf.getvalue())
    from_zip = cc.find_configs(tmp_path / "export.zip")
    assert [(c.source, c.node) for c in from_zip] == [
        ("export.zip/apim-node/repository/conf/log4j2.properties", "apim-node"),
        ("export.zip/is-node/repository/conf/log4j2.properties", "is-node"),
        ("export.zip/mi-node-1/conf/log4j2.properties", "mi-node-1")]
    assert [c.text for c in from_zip] == [APIM, IS, MI]
    uploaded = cc.find_configs([("export.zip", buf.getvalue()), ("log4j2.properties", MI.encode())])
    assert [c.node for c in uploaded] == ["apim-node", "is-node", "mi-node-1", "upload"]
    single = cc.find_configs(DATA / "is-7.properties")
    assert len(single) == 1 and single[0].product == "is" and single[0].text == IS


def test_find_configs_bad_input_says_why(tmp_path):
    with pytest.raises(audit_lib.SourceError, match="No such file or folder"):
        cc.find_configs(tmp_path / "missing")
    with pytest.raises(audit_lib.SourceError, match="not a readable zip"):
        cc.find_configs([("broken.zip", b"PK\x03\x04 not really")])
    make_homes(tmp_path / "homes")
    (tmp_path / "homes" / "old.zip").write_bytes(b"PK\x03\x04 damaged")
    found = cc.find_configs((tmp_path / "homes", str(tmp_path / "homes" / "mi-node-1")))
    assert [c.source for c in found if c.error] == ["old.zip"] and len([c for c in found if not c.error]) == 3
    big = tmp_path / "big" / "conf"
    big.mkdir(parents=True)
    (big / "log4j2.properties").write_bytes(b"#" * (cc.MAX_CONFIG_BYTES + 1))
    (found,) = cc.find_configs(tmp_path / "big")
    assert found.error and "not read" in found.error and found.text == ""


# ------------------------------------------------------------------------------------ manifest findings

START = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)


def manifest(rows: list[tuple[str, str, int, datetime, datetime]], compressed: bool = False) -> pl.DataFrame:
    return pl.DataFrame([{"source": s, "node": n, "bytes": b, "sha256": f"{i:064x}", "compressed": compressed,
                          "lines": 10, "events": 10, "attached": 0, "rejects": 0, "blank": 0, "first": first,
                          "last": last, "duplicate_of": None, "error": None}
                         for i, (s, n, b, first, last) in enumerate(rows)], schema=files_schema("UTC"), orient="row")


def daily(node: str, days: int, size: int = 40_000) -> list[tuple[str, str, int, datetime, datetime]]:
    out = []
    for d in range(days):
        day = START + timedelta(days=d)
        out.append((f"{node}/repository/logs/audit-{day:%m-%d-%Y}.log", node, size, day, day + timedelta(hours=9)))
    return out


def test_two_months_of_files_fall_short_of_12_months():
    files = manifest(daily("mi-node-1", 61))
    (f,) = cc.coverage_findings(files)
    assert f.rule == "retention-below-12-months" and f.node == "mi-node-1" and f.count == 61
    assert f.first == START and f.last == START + timedelta(days=60, hours=9)
    end = f.last.date()
    year_before = end.replace(year=end.year - 1)
    assert f"12 months kept ({year_before} to {end}): the files reach back to {START.date()} only" in f.meaning
    assert f"the most recent 3 months at hand ({end.replace(month=end.month - 3)} to {end})" in f.meaning


def test_thirteen_months_of_files_keep_12_months():
    assert cc.coverage_findings(manifest(daily("mi-node-1", 396))) == []


def test_files_that_stop_before_as_of_leave_the_last_months_missing():
    files = manifest(daily("mi-node-1", 396))
    as_of = START + timedelta(days=396 + 120)
    last = files["last"].max()
    (f,) = cc.coverage_findings(files, as_of=as_of)
    assert (f"records up to {as_of.date()}: the files end on {last.date()}, {(as_of.date() - last.date()).days} "
            "days before") in f.meaning
    assert "12 months kept" not in f.meaning  # the files do reach back more than 12 months


def test_duplicates_do_not_count_as_coverage():
    rows = daily("n", 61)
    files = manifest(rows + [("n/old/audit-01-01-2024.log", "n", 10, START - timedelta(days=600), START)])
    files = files.with_columns(duplicate_of=pl.when(pl.col("source").str.contains("old")).then(pl.lit(rows[0][0])))
    assert len(cc.coverage_findings(files)) == 1


def test_archive_ending_at_the_shipped_10mb_trigger():
    rows = daily("mi-node-1", 396)
    busy = START + timedelta(days=100, hours=5)
    rows[100] = (rows[100][0], "mi-node-1", 10_485_760 + 318, busy, busy + timedelta(hours=10))
    rows[101] = (rows[101][0], "mi-node-1", 10_240_000, rows[101][3], rows[101][4])  # 240 KB short: not rolled by size
    findings = cc.coverage_findings(manifest(rows))
    f = one(findings, "archive-at-size-limit")
    assert f.count == 1 and f.node == "mi-node-1" and f.severity == "high"
    assert f.evidence[0].startswith(f"{rows[100][0]}: 10,486,078 bytes (+318 from the trigger)")
    assert "no loaded file holds that day's records before it" in f.evidence[0]
    assert "10MB" in f.meaning and "10,485,760" in f.meaning
    # the same files gzipped: their stored size says nothing about the size of the log
    assert cc.coverage_findings(manifest(rows, compressed=True)) == []


def test_archive_at_the_trigger_read_from_the_node_config():
    rows = daily("mi-node-1", 396, size=10_240_000)  # every day ends at 10,000 KB
    config = edited(MI, "appender.AUDIT_LOGFILE.policies.size.size=10MB",
                    "appender.AUDIT_LOGFILE.policies.size.size = 10000 KB")
    roll = cc.read_config(config, "mi-node-1/conf/log4j2.properties").rollover()
    assert roll.size_trigger == 10_240_000
    f = one(cc.coverage_findings(manifest(rows), configs={"mi-node-1": roll}), "archive-at-size-limit")
    assert f.count == 396 and f.source == "mi-node-1/conf/log4j2.properties"
    assert "size trigger of mi-node-1/conf/log4j2.properties (10,240,000 bytes)" in f.meaning
    assert cc.coverage_findings(manifest(rows)) == []  # against the shipped 10MB they are 240 KB short


def test_indexed_archives_at_the_trigger_are_expected():
    rows = [(f"is-node/repository/logs/audit-09-01-2025.{i}.log", "is-node", 10_485_900, START, START)
            for i in (1, 2)]
    assert "archive-at-size-limit" not in ids(cc.coverage_findings(manifest(rows)))
    roll = cc.read_config(IS).rollover()
    renamed = [(s.replace(".1.log", ".log").replace(".2.log", "-b.log"), n, b, f, la) for s, n, b, f, la in rows]
    assert "archive-at-size-limit" not in ids(cc.coverage_findings(manifest(renamed), configs={"is-node": roll}))
    assert "archive-at-size-limit" in ids(cc.coverage_findings(manifest(renamed)))


def test_manifest_without_its_columns_is_refused_clearly():
    with pytest.raises(ValueError, match="lacks the columns .*first"):
        cc.coverage_findings(pl.DataFrame({"source": ["a"], "node": ["n"]}))


# ------------------------------------------------------------------------------------ PCI DSS 10.2.2 fields

def test_missing_fields_per_product_from_the_samples(samples_log):
    findings = {f.node: f for f in cc.missing_pci_fields(samples_log.events)}
    assert set(findings) == {"apim-node", "is-node", "mi-node-1, mi-node-2"}
    mi = findings["mi-node-1, mi-node-2"]
    assert mi.rule == "missing-pci-fields" and mi.severity == "medium"
    assert mi.summary == "Micro Integrator records lack user, date/time, success/failure, origin"
    assert mi.meaning.startswith("Micro Integrator audit lines lack")
    assert "change (" in mi.meaning and "success/failure: the lines have no outcome field" in mi.meaning
    assert "origin: no record carries a network origin" in mi.meaning
    assert "failed sign-ins are not logged at all" in mi.meaning
    assert mi.count == samples_log.events.filter(pl.col("product") == "mi").height
    (no_user,) = [e for e in mi.evidence if "without a user" in e]
    source, line = no_user.split("e.g. ")[1].rsplit(":", 1)
    assert '"performedBy":"anonymous"' in samples_log.raw_line(source, int(line))
    is_ = findings["is-node"]
    assert "success/failure:" not in is_.meaning  # IS lines carry Result : Success / Failed
    assert "no time zone" in is_.meaning
    apim = findings["apim-node"]
    signins = samples_log.events.filter((pl.col("product") == "apim") & (pl.col("artifact_type") == "session"))
    with_ip = signins.filter(pl.col("details").str.contains('"ip"')).height
    assert 0 < with_ip < signins.height
    assert f"origin: only {with_ip} of {signins.height} records carry one" in apim.meaning
    for f in findings.values():  # gaps only, every finding points at a real line
        assert "pass" not in f.meaning.lower()
        for e in f.evidence:
            source, line = e.split(", e.g. ")[1].split(": lacks")[0].rsplit(":", 1)
            assert samples_log.raw_line(source, int(line)) is not None


def test_missing_fields_follow_what_the_events_carry(samples_log):
    mi = samples_log.events.filter(pl.col("product") == "mi")
    with_origin = mi.with_columns(details=pl.lit('{"ip":"10.1.2.3"}'),
                                  outcome=pl.lit("failure").cast(mi.schema["outcome"]))
    (f,) = cc.missing_pci_fields(with_origin)
    assert "origin:" not in f.meaning and "success/failure:" not in f.meaning  # those gaps are gone
    assert "date/time: the record time carries no time zone" in f.meaning
    assert cc.missing_pci_fields(mi.clear()) == []
    with pytest.raises(ValueError, match="events table"):
        cc.missing_pci_fields(pl.DataFrame({"x": [1]}))



def is7_record(t: datetime, initiator: str, action: str, target_type: str, target: str, **data: object) -> str:
    """An Identity Server 7 audit record (disableLegacyAuditLogs): one JSON object, no outcome."""
    record = {"id": f"0f1e-{t:%H%M%S}", "recordedAt": f"{t:%Y-%m-%dT%H:%M:%S}.000Z", "requestId": "r1",
              "initiatorId": initiator, "initiatorType": "User", "targetId": target, "targetType": target_type,
              "action": action, "data": data}
    return f"TID: [-1234] [{stamp(t)}] [r1]  INFO {{AUDIT_LOG}} - {json.dumps(record, separators=(',', ':'))}"


def pci_finding(events: pl.DataFrame) -> cc.ConfigFinding:
    (f,) = cc.missing_pci_fields(events)
    assert f.rule == "missing-pci-fields"
    return f


def kind_part(f: cc.ConfigFinding, kind: str) -> str:
    """The gaps the finding's meaning states for one kind of record."""
    (part,) = [p for p in f.meaning.split(": ", 1)[1].split(" | ") if p.startswith(f"{kind} (")]
    return part


def test_identity_server_7_json_records_lack_the_outcome(tmp_path):
    json_lines = [is7_record(MONDAY, "6a5b", "update-application", "Application", "9e8d", Name="billing"),
                  is7_record(MONDAY + MIN, "6a5b", "add-role", "Role", "7c6b", Name="auditors")]
    kv_lines = [is_kv(MONDAY + 2 * MIN, "alice@carbon.super", "Delete-User", "bob", {"ServiceProviderName": "x"}),
                is_kv(MONDAY + 3 * MIN, "alice@carbon.super", "Add-Role", "Internal/ops", {"Users": ["dave"]})]
    events = load_nodes(tmp_path, {"is7-node": json_lines, "is-node": kv_lines})
    outcome = dict(zip(events["node"].cast(pl.String), events["outcome"].cast(pl.String), strict=True))
    assert outcome == {"is7-node": None, "is-node": "success"}  # the JSON records say none: none is read
    f = pci_finding(events)
    assert f.node == "is-node, is7-node" and f.count == len(json_lines) + len(kv_lines)
    assert "success/failure" in f.summary
    json_part = kind_part(f, "JSON change")
    assert json_part.startswith(f"JSON change ({len(json_lines)} records)")
    assert "success/failure: the lines have no outcome field" in json_part
    (evidence,) = [e for e in f.evidence if e.startswith("JSON change, e.g. ")]
    assert evidence.startswith("JSON change, e.g. is7-node/repository/logs/audit.log:1: lacks")
    assert "success/failure" in evidence
    # the key/value records beside them write Outcome=: still credited with it
    kv_part = kind_part(f, "change")
    assert kv_part.startswith(f"change ({len(kv_lines)} records)") and "success/failure" not in kv_part
    assert not [e for e in f.evidence if e.startswith("change, e.g. ") and "success/failure" in e]


def test_identity_server_records_with_an_outcome_are_credited(tmp_path):
    # key/value and pipe-separated records, all successful; the key/value Data even names the IS 7 keys (escaped
    # inside its string, so they are no JSON record's keys)
    lines = [is_kv(MONDAY, "alice", "Set-User-Claim-Values", "bob", {"recordedAt": "x", "initiatorType": "User"}),
             is_kv(MONDAY + MIN, "alice", "Delete-User", "carol", {"ServiceProviderName": "Console"}),
             is_record(MONDAY + 2 * MIN, "admin@carbon.super", "Add User", "dave")]
    events = load_nodes(tmp_path, {"is-node": lines})
    assert '"recordedAt"' not in events["details"][0] and "recordedAt" in events["details"][0]
    f = pci_finding(events)
    part = kind_part(f, "change")
    assert part.startswith(f"change ({len(lines)} records)") and "success/failure" not in part
    assert "success/failure" not in f.summary and "JSON change" not in f.meaning


def test_records_without_an_outcome_of_their_own_are_counted(tmp_path):
    # a pipe-separated record without its `| Result :` part leaves the outcome unset
    no_result = (f"TID: [-1234] [{stamp(MONDAY)}] [c1]  INFO {{AUDIT_LOG}} - Initiator : admin | Action : Add User "
                 "| Target : dave | Data : { Roles : }")
    lines = [no_result, is_record(MONDAY + MIN, "admin", "Add User", "eve", result="Failed")]
    events = load_nodes(tmp_path, {"is-node": lines})
    assert events["outcome"].null_count() == 1
    f = pci_finding(events)
    assert f"success/failure: no outcome on 1 of {len(lines)}" in kind_part(f, "change")
    only = pci_finding(events.filter(pl.col("outcome").is_null()))
    assert "success/failure: no record carries an outcome" in kind_part(only, "change")


# ------------------------------------------------------------------------------------ all together

def test_check_source_joins_configs_coverage_and_fields(tmp_path, samples_dir):
    make_homes(tmp_path)
    for node in ("apim-node", "is-node", "mi-node-1"):
        shutil.copytree(samples_dir / node / "repository" / "logs", tmp_path / node / "repository" / "logs")
    log = audit_lib.load(tmp_path)
    findings = cc.check_source(tmp_path, log)
    got = {(f.rule, f.node) for f in findings}
    assert ("rollover-overwrites-archives", "mi-node-1") in got and ("rollover-overwrites-archives", "apim-node") in got
    assert ("rollover-overwrites-archives", "is-node") not in got
    assert {("retention-below-12-months", n) for n in ("apim-node", "is-node", "mi-node-1")} <= got
    assert "missing-pci-fields" in {f.rule for f in findings}
    ranks = [f.rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)
    again = cc.check_source(tmp_path, log)
    assert [f.id for f in again] == [f.id for f in findings] and len({f.id for f in findings}) == len(findings)
    # they are Findings of the rules engine, described by its `external` rule files, and join its list
    assert all(isinstance(f, Finding) for f in findings)
    assert {r.id for r in load_rules() if r.kind == "external"} >= set(cc.CHECK_IDS)
    joined = all_findings(log.events, extra=findings)
    assert {f.id for f in findings} <= {f.id for f in joined}
    d = findings[0].to_dict()
    assert d["source"] == findings[0].source and d["rule"] == findings[0].rule and isinstance(d["evidence"], list)
    assert json.loads(json.dumps(d)) == d


def test_delete_action_that_cannot_be_read_says_so():
    text = edited(MI_DELETE, "ifFileName.ifLastModified.type = IfLastModified",
                  "ifFileName.ifLastModified.type = ScriptCondition")
    f = one(cc.check_config(text, "mi-node-1"), "retention-below-12-months")
    assert f.severity == "low" and "cannot be read from the configuration" in f.meaning
