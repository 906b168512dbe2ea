"""xAPI both ways: pull Moodle's statements from an LRS into domain events, emit ProfRoute's
route lifecycle as statements through the outbox."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypedDict

from sqlalchemy import literal, select, tuple_
from sqlalchemy.orm import selectinload

from app.common.outbox import (
    RATING,
    XAPI,
    RatingRecord,
    StatementRecord,
    new_row,
    record_of,
)
from app.common.runs import Summary
from app.common.store import get_or_create
from app.extensions import db
from app.models import (
    Diagnostic,
    OutboxMessage,
    Route,
    RouteItem,
    SyncCursor,
    Teacher,
    TeacherGrade,
)
from app.models.ops import FAILED, PENDING, SENT, UnmappedStatement
from app.models.route import APPROVED, COMPLETED, ENROLLED
from app.models.xapi import XapiStatement
from app.settings import Settings, SettingsError
from app.sync.store import store_completions
from courses.events import ActivityCompletion, EnrolmentChange
from courses.records import INTERNSHIP, CourseCompletion
from deficits.records import QuizAttempt
from xapi import statements as build
from xapi.client import LRSClient
from xapi.mapping import map_statements
from xapi.settings import LRSSettings

logger = logging.getLogger(__name__)
CURSOR = "xapi:stored"
RECEIVED_CURSOR = "xapi:received"
CHUNK = 500  # statements mapped and committed together


@dataclass
class XapiPullSummary(Summary):
    """What a pull read, what it became, and what mapped to nothing."""

    statements: int = 0
    completions: int = 0
    attempts_to_reread: int = 0
    activity_completions: int = 0
    enrolment_changes: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)


def lrs_client(settings: Settings) -> LRSClient:
    """The LRS client for the configured endpoint.

    :raise SettingsError: no LRS configured.
    """
    if not settings.lrs_endpoint:
        raise SettingsError("PROFROUTE_LRS_ENDPOINT is not set: give the LRS's xAPI base URL, "
                            "e.g. https://lrs.example.ru/xAPI/")
    return LRSClient(LRSSettings(endpoint=settings.lrs_endpoint, username=settings.lrs_username,
                                 password=settings.lrs_password, version=settings.lrs_version,
                                 timeout=settings.lrs_timeout))


def pull(statements: Iterable[dict[str, Any]], settings: Settings) -> XapiPullSummary:
    """Map statements (oldest first) and apply their events; the cursor follows ``stored``.

    Completions seen here and by the web-service pull land in the same row, so each counts
    once. A quiz attempt only carries its total: its teacher is marked to be re-read with
    per-competency marks by the next ``sync``. Statements that map to nothing are counted
    and listed (first 50) in the run log, never fatal.
    """
    summary = XapiPullSummary()
    quiz_ids = {d.moodle_cmid: d.moodle_quiz_id for d in db.session.scalars(select(Diagnostic))
                if d.moodle_cmid}
    teachers = dict(db.session.execute(select(Teacher.moodle_user_id, Teacher.id)).all())
    kinds: Counter[str] = Counter()
    for chunk in _chunks(statements, CHUNK):
        result = map_statements(chunk, settings.moodle_url, quiz_ids=quiz_ids)
        kinds.update(result.counts)
        summary.statements += len(chunk)
        for event in result.events:
            _apply(event, teachers, summary)
        summary.unmapped += [f"{key}: {why}" for key, why in result.unmapped]
        _keep_unmapped(chunk, result.unmapped)
        stored = max((s.get("stored") or "" for s in chunk), default="")
        if stored:
            get_or_create(SyncCursor, name=CURSOR).value = stored
        db.session.commit()
    summary.kinds = dict(kinds)
    summary.unmapped = summary.unmapped[:50]
    return summary


def pull_from_lrs(client: LRSClient, settings: Settings, *, verb: str | None = None,
                  activity: str | None = None) -> XapiPullSummary:
    """Pull every statement stored since the cursor (following ``more`` to the end).

    ``verb`` and ``activity`` narrow the query (e.g. only completions of one course); the
    cursor then still moves past what was read.
    """
    row = db.session.get(SyncCursor, CURSOR)
    since = row.value if row is not None and row.value else None
    return pull(client.get_statements(since=since, verb=verb, activity=activity,
                                       ascending=True), settings)


def pull_received(settings: Settings, page: int = 1000) -> XapiPullSummary:
    """Map the statements Moodle sent to ProfRoute's own endpoint since the last pass.

    Keyset-paged on (stored, id); voided statements are skipped.
    """
    row = db.session.get(SyncCursor, RECEIVED_CURSOR)
    after = tuple(row.value.split("|", 1)) if row is not None and "|" in row.value else None

    def statements() -> Iterator[dict[str, Any]]:
        nonlocal after
        while True:
            query = select(XapiStatement.stored, XapiStatement.id, XapiStatement.statement)\
                .where(XapiStatement.voided.is_(False))\
                .order_by(XapiStatement.stored, XapiStatement.id).limit(page)
            if after is not None:
                stored = dt.datetime.fromisoformat(after[0])
                query = query.where(tuple_(XapiStatement.stored, XapiStatement.id)
                                    > tuple_(literal(stored, XapiStatement.stored.type),
                                             literal(after[1])))
            rows = db.session.execute(query).all()
            for stored_at, statement_id, body in rows:
                after = (stored_at.isoformat(), statement_id)
                yield body
            if len(rows) < page:
                return

    summary = pull(statements(), settings)
    if after is not None:
        get_or_create(SyncCursor, name=RECEIVED_CURSOR).value = "|".join(after)
        db.session.commit()
    return summary


def _keep_unmapped(chunk: list[dict[str, Any]], unmapped: list[tuple[str | int, str]]) -> None:
    """Store what mapped to nothing, with the reason, for a methodologist to inspect."""
    by_id = {str(s.get("id")): s for s in chunk if isinstance(s, dict) and s.get("id")}
    keys = [str(key) for key, _ in unmapped if not isinstance(key, int)]
    known = set(db.session.scalars(select(UnmappedStatement.statement_id).where(
        UnmappedStatement.statement_id.in_(keys)))) if keys else set()
    for key, why in unmapped:
        if isinstance(key, int) or str(key) in known:
            continue  # statements without an id cannot be told apart on a re-pull
        known.add(str(key))
        db.session.add(UnmappedStatement(statement_id=str(key), reason=why,
                                         statement=by_id.get(str(key), {})))


def _apply(event: object, teachers: dict[int, int], summary: XapiPullSummary) -> None:
    teacher_id = teachers.get(getattr(event, "user_id", -1))
    if isinstance(event, CourseCompletion):
        if teacher_id is not None:
            summary.completions += store_completions(teacher_id, [event])
    elif isinstance(event, QuizAttempt):
        for mark in db.session.scalars(select(TeacherGrade).where(
                TeacherGrade.teacher_id == teacher_id)):
            mark.graded_at = -1  # differs from any gradebook time: re-read next sync
            summary.attempts_to_reread += 1
    elif isinstance(event, ActivityCompletion):
        summary.activity_completions += 1
    elif isinstance(event, EnrolmentChange):
        summary.enrolment_changes += 1


def _chunks(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class XapiEmitSummary(Summary):
    """Statements queued and stored by the LRS, and those it refused."""

    queued: int = 0
    sent: int = 0
    rejected: list[str] = field(default_factory=list)


def enqueue_route_statements(settings: Settings) -> int:
    """One outbox row per lifecycle step each route item has reached (deterministic ids),
    and one per competency rating sent to Moodle (a closed deficit)."""
    existing = set(db.session.scalars(select(OutboxMessage.dedupe_key).where(
        OutboxMessage.kind == XAPI)))
    items = db.session.scalars(select(RouteItem).options(
        selectinload(RouteItem.offer), selectinload(RouteItem.route).selectinload(Route.teacher)))
    statements = [s for item in items for s in _item_statements(item, settings.moodle_url)]
    statements += _rating_statements(settings.moodle_url)
    queued = 0
    for statement in statements:
        record = StatementRecord(statement=statement)
        key = f"{XAPI}:{record.statement_id}"
        if key not in existing:
            db.session.add(new_row(record, key))
            existing.add(key)
            queued += 1
    db.session.commit()
    return queued


def _rating_statements(site: str) -> list[dict[str, Any]]:
    """A ``deficit closed`` statement per rating row Moodle took."""
    out = []
    for row in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == RATING, OutboxMessage.status == SENT)):
        rating = record_of(row, RatingRecord)
        out.append(build.deficit_closed(
            moodle_user_id=rating.user_id, site_url=site,
            competency=rating.competency_idnumber or str(rating.competency_id),
            time=_aware(row.sent_at or row.created_at), occurrence=row.dedupe_key))
    return out


class _ItemFields(TypedDict):
    """The keyword arguments every route-item statement builder takes."""

    moodle_user_id: int
    site_url: str
    offer_key: str
    offer_title: str
    competencies: list[str]
    time: dt.datetime
    occurrence: str


def _item_statements(item: RouteItem, site: str) -> list[dict[str, Any]]:
    offer = item.offer
    common: _ItemFields = {"moodle_user_id": item.route.teacher.moodle_user_id, "site_url": site,
              "offer_key": offer.key, "offer_title": offer.title,
              "competencies": list(item.competencies), "time": _aware(item.updated_at),
              "occurrence": str(item.id)}
    out = [build.item_proposed(offer_kind=offer.kind, **common)]
    if item.status in (APPROVED, ENROLLED, COMPLETED):
        out.append(build.item_approved(offer_kind=offer.kind, **common))
    if item.status in (ENROLLED, COMPLETED):
        out.append(build.item_enrolled(offer_kind=offer.kind, **common))
    if item.status == COMPLETED:
        done = build.internship_attended if offer.kind == INTERNSHIP else build.course_completed
        out.append(done(**common))
    return out


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives naive datetimes back: they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def send_statements(client: LRSClient, summary: XapiEmitSummary, batch: int = 100) -> None:
    """Post pending statements in batches; a rejected batch is split to isolate the bad ones.

    :raise OutboxPayloadError: a pending row does not hold a valid statement record.
    """
    rows = list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == XAPI, OutboxMessage.status == PENDING).order_by(OutboxMessage.id)))
    for start in range(0, len(rows), batch):
        chunk = [(r, record_of(r, StatementRecord)) for r in rows[start:start + batch]]
        part = {record.statement_id: row for row, record in chunk}
        statements = {record.statement_id: record.statement for _, record in chunk}
        stored, rejected = client.post_batch_split(list(statements.values()), batch_size=batch)
        for statement_id in stored:
            if statement_id in part:
                part[statement_id].status = SENT
                summary.sent += 1
        for statement, err in rejected:
            row = part.get(statement.get("id", ""))
            if row is not None:
                row.status, row.last_error = FAILED, str(err)
                summary.rejected.append(f"{row.dedupe_key}: {err}")
        db.session.commit()


def emit(client: LRSClient, settings: Settings) -> XapiEmitSummary:
    """Queue the route lifecycle statements and send what is pending."""
    summary = XapiEmitSummary(queued=enqueue_route_statements(settings))
    send_statements(client, summary)
    return summary
