"""Actors as people: names folded and qualified as identity.json says, and Identity Server ids shown with the name
their account's records give them."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

import audit_lib
from audit_lib.events.actors import actor_names, people, shown
from audit_lib.report import build_report
from tests.support.wso2_lines import write_node

ALICE, BOB = "9e8d7c6b-1111-4222-a333-444455556666", "1b2c3d4e-1111-4222-a333-444455556666"


def is7(when: str, initiator: str, action: str, target: str, target_type: str, data: str) -> str:
    return (f'TID: [-1234] [2026-11-03 {when},400] [req-1]  INFO {{AUDIT_LOG}} - {{"id":"0f1e2d3c-1111-2222-3333-'
            f'444455556666","recordedAt":"2026-11-03T{when}.399Z","requestId":"req-1","initiatorId":"{initiator}",'
            f'"initiatorType":"User","targetId":"{target}","targetType":"{target_type}","action":"{action}",'
            f'"data":{data}}}')


def test_ids_are_named_by_their_account_records_and_counted_as_people(tmp_path):
    write_node(tmp_path, "is1", [
        # the admin (an id nobody names) creates alice's account: the record names alice's id
        is7("09:00:00", BOB, "add-user", ALICE, "User", '{"userName":"alice","roles":["admin"]}'),
        # alice, by id, changes an application; alice also signs in under her name (IS 5 key=value records)
        is7("09:05:00", ALICE, "update-application", "2e8d7c6b-1111-4222-a333-444455556666", "Application",
            '{"Name":"billing"}'),
        'TID: [-1234] [2026-11-03 09:10:00,000] [61e400e5-5c3a-4f55-a1a1-1b68c75e363d]  INFO {AUDIT_LOG} - '
        'Initiator=alice@carbon.super Action=Update-Roles-Of-User Target=dave Data={"ServiceProviderName":"Console"} '
        'Outcome=Success'])
    log = audit_lib.load(tmp_path)
    names = actor_names(log.events)
    assert names == {ALICE: "alice"}
    assert shown(ALICE, names) == "alice (id 9e8d7c6b…)" and shown(BOB, names) == BOB
    assert people([ALICE, "alice", BOB], names) == sorted(["alice", BOB])
    report = build_report(log, privileged=[ALICE, "alice", BOB], sources=[str(tmp_path)])
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(report.pdf)).pages))
    assert "Privileged actors 2 people (3 accounts" in text
    assert "alice (id 9e8d7c6b…)" in text
