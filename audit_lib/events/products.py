"""What each WSO2 product records in its audit lines, as data: which kinds of record carry an outcome, which
record forms are told apart by their keys, and what the product never writes at all."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

# What each product's lines carry: record kinds whose lines have no outcome of their own (their events have a
# null outcome; a failure is never written either, so a null cannot be read as "done"). Identity
# Server's key/value (Outcome=) and pipe-separated (Result :) records carry one; its IS 7 JSON records do not
# and are a kind of their own (RECORD_FORMS). A kind whose loaded records all have a null outcome lacks it too.
OUTCOME_IN_SOURCE: dict[tuple[str, str], bool] = {
    ("mi", "change"): False, ("mi", "sign-in/out"): False,
    ("apim", "change"): False, ("apim", "REST call"): False, ("apim", "sign-in/out"): True,
    ("is", "change"): True, ("is", "sign-in/out"): True, ("is", "REST call"): True,
    ("is", "JSON change"): False,
}
# Records told apart from the rest of their product and kind by the keys the parser leaves in `details` (as
# written, quoted: a key inside an escaped string value does not match): (product, kind) -> (kind, keys). IS 7's
# JSON audit records (disableLegacyAuditLogs) keep recordedAt and initiatorType there, and write no outcome.
RECORD_FORMS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("is", "change"): ("JSON change", ('"recordedAt"', '"initiatorType"')),
}
SOURCE_NOTES: dict[tuple[str, str], str] = {
    ("mi", "sign-in/out"): "Micro Integrator writes successful sign-ins only: failed sign-ins are not logged at all",
    ("apim", "REST call"): "the REST call line names the application's consumer key, not a network origin",
}

PRODUCT_NAMES = {"mi": "Micro Integrator", "apim": "API Manager", "is": "Identity Server"}
# Markers of each product's shipped file, tried in order, when the caller does not say which product it is.
PRODUCT_MARKERS: list[tuple[str, re.Pattern[str]]] = [
    ("apim", re.compile(r"apimgt|apigw|BOTDATA_APPENDER")),
    ("is", re.compile(r"DELETE_EVENT_LOGFILE|org\.wso2\.carbon\.identity|%mm\b")),
    ("mi", re.compile(r"logfiles\.home|wso2-mi-|micro\.integrator")),
]


def guess_product(text: str, source: str = "") -> str | None:
    """mi, apim or is from markers of the shipped files, else from the path (`conf/` without `repository/`)."""
    for product, marker in PRODUCT_MARKERS:
        if marker.search(text):
            return product
    parts = PurePosixPath(source.replace("\\", "/")).parts
    if len(parts) >= 2 and parts[-2] == "conf" and (len(parts) < 3 or parts[-3] != "repository"):
        return "mi"
    return None
