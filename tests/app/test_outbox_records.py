"""The outbox's typed records: stored as flat versioned JSON, validated on write and on read,
and the migration that brings rows written before them to version 1."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from pydantic import ValidationError
from sqlalchemy import select

from app.common.outbox import (
    CalendarEventRecord,
    CohortRecord,
    EnrolmentRecord,
    GroupRecord,
    MessageRecord,
    OutboxPayloadError,
    OutboxRecord,
    PlanRecord,
    RatingRecord,
    StatementRecord,
    new_row,
    record_of,
    replace_record,
)
from app.extensions import MIGRATIONS, db
from app.models import OutboxMessage
from app.push.enrolments import latest_enrolments

STATEMENT = {"id": "6f1c2d3e-0000-5000-8000-000000000001",
             "actor": {"account": {"homePage": "https://moodle.example.ru", "name": "7"}},
             "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
             "object": {"id": "https://moodle.example.ru/course/view.php?id=3"}}
ENROL_OLD = {"user_id": 7, "course_id": 3, "role_id": 5, "timestart": 100, "timeend": 200,
             "suspend": False, "unenrol": False, "route_item_ids": [1, 2]}

# (dedupe key, record, its stored JSON, the payload the code wrote before version 1)
CASES: list[tuple[str, OutboxRecord, dict[str, Any], dict[str, Any]]] = [
    ("enrol:7:3:1",
     EnrolmentRecord(user_id=7, course_id=3, role_id=5, timestart=100, timeend=200,
                     route_item_ids=(1, 2)),
     {**ENROL_OLD, "preexisting": False, "v": 1}, ENROL_OLD),
    ("enrol:7:4:1",
     EnrolmentRecord(user_id=7, course_id=4, role_id=5, timestart=0, timeend=0,
                     route_item_ids=(3,), preexisting=True),
     {**ENROL_OLD, "course_id": 4, "timestart": 0, "timeend": 0, "route_item_ids": [3],
      "preexisting": True, "v": 1},
     {**ENROL_OLD, "course_id": 4, "timestart": 0, "timeend": 0, "route_item_ids": [3],
      "preexisting": True}),
    ("enrol:7:4:2",  # a cancellation carried out by unenrolment
     EnrolmentRecord(user_id=7, course_id=4, role_id=5, timestart=0, timeend=0,
                     suspend=True, unenrol=True, route_item_ids=(3,)),
     {**ENROL_OLD, "course_id": 4, "timestart": 0, "timeend": 0, "route_item_ids": [3],
      "suspend": True, "unenrol": True, "preexisting": False, "v": 1},
     {**ENROL_OLD, "course_id": 4, "timestart": 0, "timeend": 0, "route_item_ids": [3],
      "suspend": True, "unenrol": True}),
    ("enrol:8:3:1",  # the first enrolments had neither "suspend" nor "unenrol"
     EnrolmentRecord(user_id=8, course_id=3, role_id=5, timestart=0, timeend=0,
                     route_item_ids=(4,)),
     {"user_id": 8, "course_id": 3, "role_id": 5, "timestart": 0, "timeend": 0,
      "suspend": False, "unenrol": False, "route_item_ids": [4], "preexisting": False,
      "v": 1},
     {"user_id": 8, "course_id": 3, "role_id": 5, "timestart": 0, "timeend": 0,
      "route_item_ids": [4]}),
    ("message:route:1:abc",
     MessageRecord(user_id=7, client_msg_id="profroute-abc", text="Здравствуйте!"),
     {"user_id": 7, "client_msg_id": "profroute-abc", "text": "Здравствуйте!", "v": 1},
     {"user_id": 7, "client_msg_id": "profroute-abc", "text": "Здравствуйте!"}),
    ("rating:7:11:2",
     RatingRecord(user_id=7, competency_id=11, competency_idnumber="K1", grade=2,
                  note="дефицит закрыт"),
     {"user_id": 7, "competency_id": 11, "competency_idnumber": "K1", "grade": 2,
      "note": "дефицит закрыт", "v": 1},
     {"user_id": 7, "competency_id": 11, "competency_idnumber": "K1", "grade": 2,
      "note": "дефицит закрыт"}),
    ("cohort:profroute-net-RC1:d1",
     CohortRecord(idnumber="profroute-net-RC1", members=4, result=12),
     {"idnumber": "profroute-net-RC1", "members": 4, "result": 12, "v": 1},
     {"idnumber": "profroute-net-RC1", "members": 4, "result": 12}),
    ("group:3:profroute-rc-RC1:d2",  # refused by Moodle: no result
     GroupRecord(course_id=3, idnumber="profroute-rc-RC1"),
     {"course_id": 3, "idnumber": "profroute-rc-RC1", "result": None, "v": 1},
     {"course_id": 3, "idnumber": "profroute-rc-RC1"}),
    ("event:ST-1:100:200",
     CalendarEventRecord(course_id=3, offer="ST-1", result=5),
     {"course_id": 3, "offer": "ST-1", "result": 5, "v": 1},
     {"course_id": 3, "offer": "ST-1", "result": 5}),
    ("plan:1:d3",
     PlanRecord(user_id=7, name="ИОМ ProfRoute №1", result=9),
     {"user_id": 7, "name": "ИОМ ProfRoute №1", "result": 9, "v": 1},
     {"user_id": 7, "name": "ИОМ ProfRoute №1", "result": 9}),
    (f"xapi:{STATEMENT['id']}",
     StatementRecord(statement=STATEMENT),
     {"v": 1, "statement": STATEMENT}, STATEMENT),
]


def stored_payloads() -> dict[str, dict[str, Any]]:
    """The payload JSON as the database holds it, by dedupe key."""
    table = OutboxMessage.__table__
    return dict(db.session.execute(select(table.c.dedupe_key, table.c.payload)).all())


def test_every_kind_round_trips_through_its_stored_json(app: Flask) -> None:
    for key, record, _, _ in CASES:
        db.session.add(new_row(record, key))
    db.session.commit()
    db.session.expire_all()

    assert stored_payloads() == {key: stored for key, _, stored, _ in CASES}
    rows = {r.dedupe_key: r for r in db.session.scalars(select(OutboxMessage))}
    for key, record, _, _ in CASES:
        assert rows[key].kind == record.kind and rows[key].status == "pending"
        assert record_of(rows[key]) == record
        assert record_of(rows[key], type(record)) == record


def test_a_replaced_record_is_stored_and_read_back(app: Flask) -> None:
    key, record, _, _ = CASES[0]
    row = new_row(record, key)
    db.session.add(row)
    replace_record(row, record.replaced(preexisting=True))
    db.session.commit()
    db.session.expire_all()

    assert stored_payloads()[key]["preexisting"] is True
    assert record_of(row, EnrolmentRecord).preexisting is True


@pytest.mark.parametrize(("kind", "fields"), [
    (EnrolmentRecord, {"user_id": "7", "course_id": 3, "role_id": 5, "timestart": 0,
                       "timeend": 0}),
    (EnrolmentRecord, {"user_id": 7, "course_id": 3, "role_id": 5, "timestart": 0,
                       "timeend": 0, "route_item_ids": ["1"]}),
    (EnrolmentRecord, {"user_id": 7, "course_id": 3, "role_id": 5, "timestart": 0,
                       "timeend": 0, "unenrol": True}),  # an unenrolment is a suspension
    (MessageRecord, {"user_id": 7, "client_msg_id": "m", "text": 5}),
    (RatingRecord, {"user_id": 7, "competency_id": 11, "grade": 2.5, "note": ""}),
    (CohortRecord, {"idnumber": "net", "members": "4"}),
    (GroupRecord, {"course_id": True, "idnumber": "rc"}),
    (CalendarEventRecord, {"course_id": 3, "offer": None}),
    (PlanRecord, {"user_id": 7, "name": "plan", "owner": "методист"}),
    (StatementRecord, {"statement": {"verb": {"id": "urn:v"}}}),  # no id
])
def test_a_record_of_the_wrong_shape_is_refused_on_write(
        kind: type[OutboxRecord], fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        kind(**fields)


def test_only_records_are_written_and_changes_are_validated() -> None:
    record = CASES[0][1]
    with pytest.raises(ValidationError):
        record.replaced(timestart="tomorrow")
    with pytest.raises(TypeError):
        new_row({"user_id": 7}, "enrol:7:3:1")  # type: ignore[arg-type]
    with pytest.raises(OutboxPayloadError):
        replace_record(new_row(record, "enrol:7:3:1"), MessageRecord(
            user_id=7, client_msg_id="m", text="t"))


@pytest.mark.parametrize(("kind", "payload", "field"), [
    ("enrol", {k: v for k, v in CASES[0][2].items() if k != "user_id"}, "user_id"),
    ("message", {**CASES[4][2], "subject": "Маршрут"}, "subject"),
    ("rating", {**CASES[5][2], "v": 2}, "v"),
    ("cohort", {k: v for k, v in CASES[6][2].items() if k != "v"}, "v"),
    ("plan", {**CASES[9][2], "user_id": "7"}, "user_id"),
    ("xapi", {"v": 1, "statement": {"actor": {}}}, "statement"),
    ("xapi", {**STATEMENT, "v": 1}, "statement"),  # a statement never wrapped
    ("mailing", {"v": 1}, "kind"),
])
def test_a_stored_row_that_does_not_match_its_record_is_refused_on_read(
        kind: str, payload: dict[str, Any], field: str) -> None:
    row = OutboxMessage(kind=kind, dedupe_key=f"{kind}:broken", payload=payload)
    with pytest.raises(OutboxPayloadError) as caught:
        record_of(row)
    assert caught.value.dedupe_key == f"{kind}:broken" and caught.value.field == field
    assert f"{kind}:broken" in str(caught.value) and field in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_a_row_read_as_another_kind_is_refused() -> None:
    row = new_row(CASES[4][1], "message:route:1:abc")
    with pytest.raises(OutboxPayloadError, match="message:route:1:abc"):
        record_of(row, EnrolmentRecord)


def test_the_push_stage_names_a_broken_enrolment_row(app: Flask) -> None:
    db.session.add(OutboxMessage(kind="enrol", dedupe_key="enrol:7:3:1",
                                 payload={**ENROL_OLD, "v": 1, "timestart": "сегодня"}))
    db.session.commit()
    with pytest.raises(OutboxPayloadError, match=r"'enrol:7:3:1'.*timestart"):
        latest_enrolments()


def test_the_migration_brings_rows_of_every_kind_to_version_1_and_back(app: Flask) -> None:
    downgrade(directory=MIGRATIONS, revision="0008")
    old = {key: before for key, _, _, before in CASES}
    db.session.execute(OutboxMessage.__table__.insert(), [
        {"kind": record.kind, "dedupe_key": key, "payload": before}
        for key, record, _, before in CASES])
    db.session.commit()

    upgrade(directory=MIGRATIONS)
    db.session.expire_all()
    assert stored_payloads() == {  # fields absent before stay absent: their defaults apply
        key: {"v": 1, "statement": before} if record.kind == "xapi" else {**before, "v": 1}
        for key, record, _, before in CASES}
    rows = {r.dedupe_key: r for r in db.session.scalars(select(OutboxMessage))}
    assert {key: record_of(rows[key]) for key in rows} == {
        key: record for key, record, _, _ in CASES}

    downgrade(directory=MIGRATIONS, revision="0008")
    db.session.expire_all()
    assert stored_payloads() == old
    upgrade(directory=MIGRATIONS)
