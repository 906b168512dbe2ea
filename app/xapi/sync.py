"""xAPI both ways: pull Moodle's statements from an LRS into domain events, emit ProfRoute's
route lifecycle as statements through the outbox."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypedDict

from sqlalchemy import delete, insert, literal, select, tuple_
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
from app.models.route import APPROVED, COMPLETED, ENROLLED, REPLANNED, VERIFIED
from app.models.route_review import RouteItemEvent
from app.models.xapi import XapiPulledStatement, XapiStatement
from app.settings import Settings, SettingsError
from app.sync.store import store_completions
from app.xapi.query import consistent_through
from app.xapi.store import utc
from courses.events import ActivityCompletion, EnrolmentChange
from courses.records import INTERNSHIP, CourseCompletion
from deficits.records import QuizAttempt
from xapi import statements as build
from xapi.client import LRSClient, StatementPage
from xapi.mapping import map_statements, normalise_site
from xapi.settings import LRSSettings
from xapi.times import format_timestamp, parse_instant

logger = logging.getLogger(__name__)
RECEIVED_CURSOR = "xapi:received"
LRS_CURSOR = "xapi:lrs:"
LEGACY_LRS_CURSOR = "xapi:lrs:legacy"  # the cursor once shared by both sources (migration 0011)
# Each pull reads again from its cursor minus this margin and drops the statements it already
# applied (by id): statements sharing one ``stored`` instant, committed late, or stored by an
# LRS not yet consistent are read on the next pull instead of skipped.
OVERLAP = dt.timedelta(minutes=10)
CHUNK = 500  # statements mapped and committed together
CURSOR_NAME_LENGTH = 255  # sync_cursor.name
LISTED = 50  # ids, sites and reasons listed in a summary


@dataclass
class XapiPullSummary(Summary):
    """What a pull read, what it became, and what it could not use (and why).

    ``other_sites``: statements whose actor belongs to another Moodle site, per site;
    ``unknown_people``: events of Moodle users who are no teacher of ProfRoute (the first
    user ids in ``unknown_user_ids``); ``already_pulled``: statements read again in the
    overlap and dropped because an earlier pull applied them.
    """

    source: str = ""
    statements: int = 0
    already_pulled: int = 0
    completions: int = 0
    attempts_to_reread: int = 0
    activity_completions: int = 0
    enrolment_changes: int = 0
    other_site: int = 0
    other_sites: dict[str, int] = field(default_factory=dict)
    unknown_people: int = 0
    unknown_user_ids: list[int] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    cursor: str = ""


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


def lrs_cursor_name(endpoint: str, *, verb: str | None = None,
                    activity: str | None = None) -> str:
    """The cursor of one LRS (and one filter: a narrowed pull never moves the full one's)."""
    name = LRS_CURSOR + normalise_site(endpoint)
    if verb or activity:
        name += f"|verb={verb or ''}|activity={activity or ''}"
    if len(name) > CURSOR_NAME_LENGTH:
        name = LRS_CURSOR + "sha256:" + hashlib.sha256(name.encode()).hexdigest()
    return name


def pull(pages: Iterable[StatementPage], settings: Settings, source: str) -> XapiPullSummary:
    """Map statements (oldest first) and apply their events, once each; move ``source``'s cursor.

    Statements ``source`` already applied are dropped by id. Each chunk commits its events,
    the ids it applied and the cursor together, so a run failing mid-way loses nothing and
    the next one goes on. The cursor follows ``stored`` but never passes the LRS's
    consistency instant (``X-Experience-API-Consistent-Through``). Completions seen here and
    by the web-service pull land in the same row, so each counts once. A quiz attempt only
    carries its total: its teacher is marked to be re-read with per-competency marks by the
    next ``sync``. What cannot be used is counted and listed, never fatal: statements that
    map to nothing (kept with the reason), of another site, of people ProfRoute does not know.
    """
    summary = XapiPullSummary(source=source)
    quiz_ids = {d.moodle_cmid: d.moodle_quiz_id for d in db.session.scalars(select(Diagnostic))
                if d.moodle_cmid}
    teachers = dict(db.session.execute(select(Teacher.moodle_user_id, Teacher.id)).all())
    kinds: Counter[str] = Counter()
    sites: Counter[str] = Counter()
    unknown: set[int] = set()
    ceiling: dt.datetime | None = None
    for page in pages:
        if page.consistent_through is not None:
            ceiling = min(ceiling or page.consistent_through, page.consistent_through)
        for chunk in _chunks(page.statements, CHUNK):
            fresh = _not_pulled(source, chunk)
            summary.already_pulled += len(chunk) - len(fresh)
            summary.statements += len(fresh)
            result = map_statements(fresh, settings.moodle_url, quiz_ids=quiz_ids)
            kinds.update(result.counts)
            sites.update(result.other_sites)
            for event in result.events:
                _apply(event, teachers, summary, unknown)
            summary.unmapped += [f"{key}: {why}" for key, why in result.unmapped]
            _keep_unmapped(fresh, result.unmapped)
            _remember(source, fresh)
            _advance(source, chunk, ceiling)
            db.session.commit()
    _forget_before_overlap(source)
    summary.kinds = dict(kinds)
    summary.other_site = sum(sites.values())
    summary.other_sites = dict(sites.most_common(LISTED))
    summary.unknown_user_ids = sorted(unknown)[:LISTED]
    summary.unmapped = summary.unmapped[:LISTED]
    cursor = db.session.get(SyncCursor, source)
    summary.cursor = cursor.value if cursor is not None else ""
    _warn_unused(summary)
    return summary


def pull_from_lrs(client: LRSClient, settings: Settings, *, verb: str | None = None,
                  activity: str | None = None) -> XapiPullSummary:
    """Pull every statement the LRS stored since its cursor (minus the overlap), to the end.

    ``verb`` and ``activity`` narrow the query (e.g. only completions of one course); a
    narrowed pull has a cursor of its own.
    """
    source = lrs_cursor_name(client.settings.endpoint, verb=verb, activity=activity)
    if not (verb or activity):
        _adopt_legacy_cursor(source)
    pages = client.get_statement_pages(since=_since(source), verb=verb, activity=activity,
                                       ascending=True)
    return pull(pages, settings, source)


def pull_received(settings: Settings, page: int = CHUNK) -> XapiPullSummary:
    """Map the statements Moodle sent to ProfRoute's own endpoint since the last pass.

    Read in (stored, id) order from the cursor minus the overlap, keyset-paged; voided
    statements are skipped. The endpoint takes ``stored`` inside its writers' lock, so a
    statement committed later never has an earlier ``stored`` than one already read.
    """
    return pull(_received_pages(_since(RECEIVED_CURSOR), page), settings, RECEIVED_CURSOR)


def _received_pages(since: dt.datetime | None, size: int) -> Iterator[StatementPage]:
    after: tuple[dt.datetime, str] | None = None
    while True:
        consistent = consistent_through()  # taken before the read: all before it is visible
        query = select(XapiStatement.stored, XapiStatement.id, XapiStatement.statement)\
            .where(XapiStatement.voided.is_(False))\
            .order_by(XapiStatement.stored, XapiStatement.id).limit(size)
        if since is not None:
            query = query.where(XapiStatement.stored >= since)
        if after is not None:
            query = query.where(tuple_(XapiStatement.stored, XapiStatement.id) > tuple_(
                literal(after[0], XapiStatement.stored.type), literal(after[1])))
        rows = db.session.execute(query).all()
        yield StatementPage([body for _, _, body in rows], consistent)
        if len(rows) < size:
            return
        after = (utc(rows[-1][0]), rows[-1][1])


def _since(source: str) -> dt.datetime | None:
    """Where a pull of ``source`` reads from: its cursor minus the overlap (None: the start)."""
    row = db.session.get(SyncCursor, source)
    cursor = _instant(row.value) if row is not None else None
    return cursor - OVERLAP if cursor is not None else None


def _instant(value: str | None) -> dt.datetime | None:
    try:
        return parse_instant(value) if value else None
    except ValueError:
        logger.warning("xAPI cursor %r is not an instant: reading from the start", value)
        return None


def _adopt_legacy_cursor(source: str) -> None:
    """The first LRS pull after migration 0011 takes over the cursor the sources shared."""
    legacy = db.session.get(SyncCursor, LEGACY_LRS_CURSOR)
    if legacy is None or db.session.get(SyncCursor, source) is not None:
        return
    get_or_create(SyncCursor, name=source).value = legacy.value
    db.session.delete(legacy)
    db.session.commit()


def _not_pulled(source: str, chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statements of the chunk ``source`` has not applied yet (nor twice in the chunk)."""
    ids = {str(s["id"]) for s in chunk if isinstance(s, dict) and s.get("id")}
    seen = set(db.session.scalars(select(XapiPulledStatement.statement_id).where(
        XapiPulledStatement.source == source,
        XapiPulledStatement.statement_id.in_(ids)))) if ids else set()
    fresh = []
    for statement in chunk:
        key = str(statement.get("id") or "") if isinstance(statement, dict) else ""
        if key and key in seen:
            continue
        if key:
            seen.add(key)
        fresh.append(statement)
    return fresh


def _stored(statement: dict[str, Any]) -> dt.datetime | None:
    return _instant(statement.get("stored")) if isinstance(statement, dict) else None


def _remember(source: str, fresh: list[dict[str, Any]]) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = [{"source": source, "statement_id": str(s["id"]), "stored": _stored(s) or now}
            for s in fresh if isinstance(s, dict) and s.get("id")]
    if rows:
        db.session.execute(insert(XapiPulledStatement), rows)


def _advance(source: str, chunk: list[dict[str, Any]], ceiling: dt.datetime | None) -> None:
    """Move the cursor to the newest ``stored`` read, not past ``ceiling``, never back."""
    newest = max((t for t in map(_stored, chunk) if t is not None), default=None)
    if newest is None:
        return
    if ceiling is not None:
        newest = min(newest, ceiling)
    row = get_or_create(SyncCursor, name=source)
    current = _instant(row.value)
    if current is None or newest > current:
        row.value = format_timestamp(newest)


def _forget_before_overlap(source: str) -> None:
    """Drop the applied ids no later pull can read again."""
    since = _since(source)
    if since is not None:
        db.session.execute(delete(XapiPulledStatement).where(
            XapiPulledStatement.source == source, XapiPulledStatement.stored < since))
        db.session.commit()


def _warn_unused(summary: XapiPullSummary) -> None:
    if summary.other_site:
        logger.warning("xAPI pull %s: %d statements of other sites (%s) not used",
                       summary.source, summary.other_site, ", ".join(summary.other_sites))
    if summary.unknown_people:
        logger.warning("xAPI pull %s: %d events of %d Moodle users who are no teacher here",
                       summary.source, summary.unknown_people, len(summary.unknown_user_ids))


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


def _apply(event: object, teachers: dict[int, int], summary: XapiPullSummary,
           unknown: set[int]) -> None:
    user_id = getattr(event, "user_id", -1)
    teacher_id = teachers.get(user_id)
    if teacher_id is None:
        summary.unknown_people += 1
        unknown.add(user_id)
        return
    if isinstance(event, CourseCompletion):
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
    transitions: dict[int, list[RouteItemEvent]] = defaultdict(list)
    for event in db.session.scalars(select(RouteItemEvent).where(
            RouteItemEvent.action.in_(tuple(build.TRANSITION_VERBS))).order_by(
            RouteItemEvent.id)):
        transitions[event.route_item_id].append(event)
    statements = [s for item in items
                  for s in _item_statements(item, settings.moodle_url, transitions[item.id])]
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


def _item_statements(item: RouteItem, site: str,
                     events: Sequence[RouteItemEvent] = ()) -> list[dict[str, Any]]:
    """The statements of the steps ``item`` reached, and one per recorded transition among
    ``events`` that has a statement of its own (rejected, declined, cancelled, verified,
    re-planned; id from the item and event ids)."""
    offer = item.offer
    common: _ItemFields = {"moodle_user_id": item.route.teacher.moodle_user_id, "site_url": site,
              "offer_key": offer.key, "offer_title": offer.title,
              "competencies": list(item.competencies), "time": _aware(item.updated_at),
              "occurrence": str(item.id)}
    out = [build.item_proposed(offer_kind=offer.kind, **common)]
    done_steps = (COMPLETED, VERIFIED, REPLANNED)
    if item.status in (APPROVED, ENROLLED, *done_steps):
        out.append(build.item_approved(offer_kind=offer.kind, **common))
    if item.status in (ENROLLED, *done_steps):
        out.append(build.item_enrolled(offer_kind=offer.kind, **common))
    if item.status in done_steps:
        done = build.internship_attended if offer.kind == INTERNSHIP else build.course_completed
        out.append(done(**common))
    for event in events:
        step: _ItemFields = {**common, "time": _aware(event.at),
                             "occurrence": f"{item.id}:{event.id}"}
        out.append(build.item_transition(event.to_status, offer_kind=offer.kind, **step))
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
