"""The outbox's payloads as typed records: one frozen, versioned record per row kind,
validated when a row is written and again when it is read.

The row's ``kind`` column picks the record (it is not repeated in the JSON); the JSON keeps
the record's flat field names plus ``"v"``, the payload version, so the stored rows stay
readable by hand and by SQL. A record changes by :meth:`OutboxRecord.replaced`, which
validates again, and reaches its row through :func:`new_row` or :func:`replace_record`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, Literal, Self, TypeVar, overload

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from app.models import OutboxMessage
from app.models.ops import PENDING

PAYLOAD_VERSION: Final = 1
ENROL, MESSAGE, RATING = "enrol", "message", "rating"
COHORT, GROUP, EVENT, PLAN = "cohort", "group", "event", "plan"
XAPI = "xapi"


class OutboxPayloadError(ValueError):
    """Raised when an outbox row's JSON does not match the record of its kind."""

    def __init__(self, dedupe_key: str, kind: str, field: str, reason: str) -> None:
        super().__init__(f"outbox row {dedupe_key!r} ({kind}): {field or 'payload'}: {reason}")
        self.dedupe_key, self.kind, self.field, self.reason = dedupe_key, kind, field, reason


class OutboxRecord(BaseModel):
    """What one outbox row asks of Moodle or the LRS (the base of every kind's record)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
    kind: ClassVar[str]
    v: Literal[1] = PAYLOAD_VERSION

    def replaced(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied, validated again (``model_copy`` would not).

        :raise pydantic.ValidationError: a change of the wrong type or an unknown field.
        """
        return self.model_validate({**self.model_dump(), **changes})


class EnrolmentRecord(OutboxRecord):
    """The state one Moodle enrolment must take (kind ``enrol``).

    Suspension and unenrolment are flags of this record, not kinds of their own: every
    change of one teacher's enrolment in one course is the next link of a single chain,
    keyed ``enrol:<user>:<course>:<seq>``, and ``latest_enrolments`` reads the chain's last
    row as Moodle's current state. ``unenrol`` is a suspension carried out by removing the
    enrolment, so it implies ``suspend``. ``preexisting`` marks a first enrolment Moodle
    already had, recorded as done without a call (and never suspended by ProfRoute).
    """

    kind: ClassVar[str] = ENROL
    user_id: int
    course_id: int
    role_id: int
    timestart: int
    timeend: int
    suspend: bool = False
    unenrol: bool = False
    route_item_ids: tuple[StrictInt, ...] = Field(default=(), strict=False)  # JSON array
    preexisting: bool = False

    @model_validator(mode="after")
    def _unenrol_is_a_suspension(self) -> EnrolmentRecord:
        if self.unenrol and not self.suspend:
            raise ValueError("unenrol without suspend: an unenrolment is a suspension")
        return self


class MessageRecord(OutboxRecord):
    """A Moodle message to a teacher (kind ``message``); ``client_msg_id`` dedupes it."""

    kind: ClassVar[str] = MESSAGE
    user_id: int
    client_msg_id: str
    text: str


class RatingRecord(OutboxRecord):
    """A competency rating in Moodle for a closed deficit (kind ``rating``)."""

    kind: ClassVar[str] = RATING
    user_id: int
    competency_id: int
    competency_idnumber: str = ""  # rows queued before it was recorded have none
    grade: int
    note: str


class CohortRecord(OutboxRecord):
    """A network's cohort and its member count (kind ``cohort``); ``result``: its Moodle id."""

    kind: ClassVar[str] = COHORT
    idnumber: str
    members: int
    result: int | None = None


class GroupRecord(OutboxRecord):
    """An internship course's group of interns (kind ``group``); ``result``: its Moodle id."""

    kind: ClassVar[str] = GROUP
    course_id: int
    idnumber: str
    result: int | None = None


class CalendarEventRecord(OutboxRecord):
    """An internship's calendar event (kind ``event``; ``offer`` is the offer's key);
    ``result``: the event's Moodle id."""

    kind: ClassVar[str] = EVENT
    course_id: int
    offer: str
    result: int | None = None


class PlanRecord(OutboxRecord):
    """A teacher's route as a Moodle learning plan (kind ``plan``); ``result``: its id."""

    kind: ClassVar[str] = PLAN
    user_id: int
    name: str
    result: int | None = None


class StatementRecord(OutboxRecord):
    """An xAPI statement for the LRS (kind ``xapi``), kept as an opaque dict: Ralph
    validates statements at the edge. Only its ``id`` is required here, the outbox matches
    the LRS's answer by it."""

    kind: ClassVar[str] = XAPI
    statement: dict[str, Any]

    @field_validator("statement")
    @classmethod
    def _has_an_id(cls, statement: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(statement.get("id"), str) or not statement["id"]:
            raise ValueError("a statement needs its id")
        return statement

    @property
    def statement_id(self) -> str:
        """The statement's id."""
        return str(self.statement["id"])


RECORDS: dict[str, type[OutboxRecord]] = {cls.kind: cls for cls in (
    EnrolmentRecord, MessageRecord, RatingRecord, CohortRecord, GroupRecord,
    CalendarEventRecord, PlanRecord, StatementRecord)}
R = TypeVar("R", bound=OutboxRecord)


def new_row(record: OutboxRecord, dedupe_key: str, status: str = PENDING) -> OutboxMessage:
    """A new outbox row (not yet added to the session) holding ``record``.

    :raise TypeError: ``record`` is not an outbox record.
    """
    if not isinstance(record, OutboxRecord):
        raise TypeError(f"an outbox row holds an outbox record, not {type(record).__name__}")
    return OutboxMessage(kind=record.kind, dedupe_key=dedupe_key, status=status,
                         payload=record.model_dump(mode="json"))


def replace_record(row: OutboxMessage, record: OutboxRecord) -> None:
    """Store ``record`` as the row's payload.

    :raise OutboxPayloadError: the record is of another kind than the row.
    """
    if record.kind != row.kind:
        raise OutboxPayloadError(row.dedupe_key, row.kind, "kind",
                                 f"a {record.kind} record cannot replace a {row.kind} one")
    row.payload = record.model_dump(mode="json")


@overload
def record_of(row: OutboxMessage) -> OutboxRecord: ...


@overload
def record_of(row: OutboxMessage, expected: type[R]) -> R: ...


def record_of(row: OutboxMessage, expected: type[OutboxRecord] | None = None) -> OutboxRecord:
    """The row's payload as the record of its kind (of ``expected``'s kind when given).

    :raise OutboxPayloadError: an unknown kind, another kind than expected, or JSON that
        does not match the record (a missing or unknown field, a wrong type, a missing or
        wrong version ``"v"``, which a record built in code has by default).
    """
    cls = RECORDS.get(row.kind)
    if cls is None:
        raise OutboxPayloadError(row.dedupe_key, row.kind, "kind", "no record for this kind")
    if expected is not None and cls is not expected:
        raise OutboxPayloadError(row.dedupe_key, row.kind, "kind",
                                 f"expected a {expected.kind} row")
    if isinstance(row.payload, dict) and "v" not in row.payload:
        raise OutboxPayloadError(row.dedupe_key, row.kind, "v",
                                 "no payload version: a row from before the migrations")
    try:
        return cls.model_validate(row.payload)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise OutboxPayloadError(row.dedupe_key, row.kind, field, first["msg"]) from err
