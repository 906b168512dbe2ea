"""Pull from Moodle: full or incremental, per-teacher calls through a bounded pool.

A full sync reads the diagnostic's structure, pages through the course's participants and
fetches every scored teacher's attempts and completions. An incremental sync costs a
constant number of calls when nothing changed: one gradebook read of the diagnostic course
(``gradereport_user_get_grade_items`` gives every user's quiz grade with its dates) finds the
teachers whose grade moved since the cursor; only they are fetched again.
Work is committed page by page, so a run killed half-way loses nothing and converges on
re-run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

from sqlalchemy import select

from app.common.moodle import profile_fields
from app.common.store import get_or_create
from app.extensions import db
from app.models import (
    Competency,
    Diagnostic,
    Offer,
    Route,
    RouteItem,
    SyncCursor,
    Teacher,
    TeacherGrade,
)
from app.models.route import ENROLLED
from app.settings import Settings, SettingsError
from app.sync import silent
from app.sync.progress import complete_route_items
from app.sync.ratings import pull_ratings
from app.sync.scope import teacher_scope
from app.sync.store import (
    Mapper,
    deactivate_missing,
    store_attempts,
    store_completions,
    upsert_teacher,
    withheld_fields,
)
from app.sync.structure import SyncSummary, sync_structure
from courses.records import CourseCompletion
from deficits import records as rec
from lms_connectors.moodle import functions as fn
from lms_connectors.moodle.api import MoodleAPI

logger = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["SyncSummary", "sync"]
COMMIT_EVERY = 20  # teachers stored per transaction: what a killed run can lose at most


@dataclass(frozen=True)
class TeacherPull:
    """What Moodle holds for one teacher: scorable attempts and, if asked, completions."""

    user_id: int
    attempts: list[rec.QuizAttempt]
    completions: list[CourseCompletion] | None


def sync(api: MoodleAPI, settings: Settings, *, full: bool = False) -> SyncSummary:
    """Full sync the first time (or when asked), incremental afterwards.

    :raise SettingsError: the diagnostic course or quiz named in the settings is not found.
    :raise ConnectorError: Moodle failed; what was committed stays, a re-run resumes.
    """
    calls_before = api.client.calls
    info = api.site_info()
    plugin = {fn.PLUGIN_QUIZ_SLOTS, fn.PLUGIN_COMPLETIONS} <= info.functions
    diagnostic = configured_diagnostic(settings)
    cursor = _cursor_value(diagnostic)
    if full or diagnostic is None or cursor is None:
        summary = full_sync(api, settings, plugin)
    else:
        summary = incremental_sync(api, settings, diagnostic, cursor, plugin)
    summary.ratings = pull_ratings(api, settings, info.functions, full=summary.mode == "full")
    summary.items_completed = complete_route_items(api, summary)
    summary.unmapped = sorted(set(summary.unmapped))
    summary.moodle_calls = api.client.calls - calls_before
    return summary


def full_sync(api: MoodleAPI, settings: Settings, plugin: bool) -> SyncSummary:
    """Read the structure and every scored teacher; set the cursor at the end."""
    summary = SyncSummary(mode="full")
    diagnostic, known = sync_structure(api, settings, summary, plugin=plugin)
    _require_whole_roster(api, diagnostic)
    grades = _grade_times(api, diagnostic)
    puller = Puller(api, settings, diagnostic, Mapper(diagnostic, known, summary), summary,
                    grades, with_completions=not plugin)
    seen: set[int] = set()
    users = api.enrolled_users(diagnostic.moodle_course_id, fields=profile_fields(settings),
                               page_size=settings.page_size)
    scope = teacher_scope(api, settings)
    for page in _pages(users, settings.page_size):
        scored = [t for t in page if scope.admits(t)]
        seen.update(t.moodle_user_id for t in scored)
        summary.not_scored += len(page) - len(scored)
        withheld = withheld_fields(page, summary)
        rows = {t.moodle_user_id: upsert_teacher(t, True, summary, withheld) for t in scored}
        for other in page:
            if other.moodle_user_id not in rows:
                upsert_teacher(other, False, summary, withheld)
        puller.pull(rows)
        db.session.commit()
    summary.teachers = len(seen)
    summary.deactivated = deactivate_missing(seen)
    if plugin:
        summary.completions += _plugin_completions(api, since=0)
    _set_cursor(diagnostic, max(grades.values(), default=0))
    db.session.commit()
    return summary


def _require_whole_roster(api: MoodleAPI, diagnostic: Diagnostic) -> None:
    """Refuse a roster Moodle would answer short without an error (``app.sync.silent``):
    trusted, it would deactivate every teacher it left out.

    :raise SettingsError: the diagnostic course is in separate groups mode and the role
        lacks ``moodle/site:accessallgroups``.
    """
    blind = silent.blind_courses(api, [diagnostic.moodle_course_id])
    if diagnostic.moodle_course_id in blind:
        why = blind[diagnostic.moodle_course_id]
        raise SettingsError(
            f"diagnostic course {diagnostic.moodle_course_id}: {why.reason}. Nothing was "
            f"changed: allow {why.capability} in the role ({silent.ROLE_PAGE}), or set the "
            "course's group mode to «No groups» (Course › Settings › Groups)")


def incremental_sync(api: MoodleAPI, settings: Settings, diagnostic: Diagnostic, cursor: int,
                     plugin: bool) -> SyncSummary:
    """Fetch only the teachers whose gradebook time differs from the one last pulled."""
    summary = SyncSummary(mode="incremental")
    grades = _grade_times(api, diagnostic)
    graded = set(grades)
    known = {uid: (tid, active) for uid, tid, active in db.session.execute(
        select(Teacher.moodle_user_id, Teacher.id, Teacher.active)).all()}
    # New participants, or scored ones gone: re-read the roster. A known participant out of
    # scope (filtered, or no longer a student) stays as it is until the next full sync.
    roster_changed = any(uid not in known for uid in graded) or \
        any(active and uid not in graded for uid, (_, active) in known.items())
    if roster_changed:
        logger.info("participants of the diagnostic course changed: full sync")
        return full_sync(api, settings, plugin)
    pulled = dict(db.session.execute(
        select(TeacherGrade.teacher_id, TeacherGrade.graded_at)
        .where(TeacherGrade.diagnostic_id == diagnostic.id)).all())
    changed = sorted(uid for uid, time in grades.items()
                     if known[uid][1] and pulled.get(known[uid][0]) != time)
    puller = Puller(api, settings, diagnostic, Mapper(diagnostic, _known_competencies(), summary),
                    summary, grades, with_completions=not plugin)
    for chunk in _pages(iter(changed), settings.page_size):
        puller.pull({t.moodle_user_id: t for t in db.session.scalars(
            select(Teacher).where(Teacher.moodle_user_id.in_(chunk)))})
        db.session.commit()
    summary.changed = len(changed)
    summary.teachers = len(graded)
    if plugin:
        summary.completions += _plugin_completions(api, since=_completions_cursor())
    else:
        summary.completions += _watch_completions(api, settings, skip=set(changed))
    _set_cursor(diagnostic, max([cursor, *grades.values()]))
    db.session.commit()
    return summary


def fetch_teacher(api: MoodleAPI, quiz_id: int, user_id: int, with_completions: bool
                  ) -> TeacherPull:
    """One teacher's finished attempts (reviewed per slot when grade items are absent)."""
    attempts = []
    for attempt in api.user_attempts(quiz_id, user_id):
        if not attempt.is_scorable:
            continue
        if not attempt.item_marks:
            attempt = api.attempt_review(attempt.attempt_id)
        attempts.append(attempt)
    completions = api.user_courses(user_id) if with_completions else None
    return TeacherPull(user_id, attempts, completions)


@dataclass
class Puller:
    """Fetches teachers through the pool and stores what Moodle answered, in order."""

    api: MoodleAPI
    settings: Settings
    diagnostic: Diagnostic
    mapper: Mapper
    summary: SyncSummary
    grade_times: dict[int, int]
    with_completions: bool

    def pull(self, rows: dict[int, Teacher]) -> None:
        """Fetch these teachers concurrently and store each answer, committing as it goes."""
        quiz_id, completions = self.diagnostic.moodle_quiz_id, self.with_completions
        workers = max(1, self.settings.sync_workers)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="moodle") as pool:
            futures = [pool.submit(fetch_teacher, self.api, quiz_id, uid, completions)
                       for uid in rows]
            try:
                for done, future in enumerate(futures, start=1):
                    pull = future.result()
                    self._store(rows[pull.user_id], pull)
                    if done % COMMIT_EVERY == 0:
                        db.session.commit()
            except BaseException:
                for future in futures:  # stop calling a Moodle that fails: keep what is stored
                    future.cancel()
                raise
        db.session.commit()

    def _store(self, teacher: Teacher, pull: TeacherPull) -> None:
        summary = self.summary
        summary.attempts += store_attempts(self.diagnostic, teacher, pull.attempts, self.mapper)
        if pull.completions is not None:
            summary.completions += store_completions(teacher.id, pull.completions)
        mark = get_or_create(TeacherGrade, diagnostic_id=self.diagnostic.id,
                             teacher_id=teacher.id)
        mark.graded_at = self.grade_times.get(pull.user_id, 0)


def _plugin_completions(api: MoodleAPI, since: int) -> int:
    """Completions of the offers' Moodle courses in one call of the plugin's function."""
    course_ids = sorted({c for c in db.session.scalars(select(Offer.moodle_course_id)) if c})
    if not course_ids:
        return 0
    teachers = dict(db.session.execute(select(Teacher.moodle_user_id, Teacher.id)).all())
    latest = since
    count = 0
    for completion in api.completions_since(course_ids, since):
        teacher_id = teachers.get(completion.user_id)
        latest = max(latest, completion.time_completed or 0)
        if teacher_id is not None:
            count += store_completions(teacher_id, [completion])
    get_or_create(SyncCursor, name="moodle:completions").value = str(latest)
    return count


def _watch_completions(api: MoodleAPI, settings: Settings, skip: set[int]) -> int:
    """Without the plugin: read the course list of teachers with an enrolled route item only.

    One call per such teacher (completion is what moves their items on); the others' course
    completions are read again by the next full sync.
    """
    watched = db.session.execute(
        select(Teacher.moodle_user_id, Teacher.id).join(Route, Route.teacher_id == Teacher.id)
        .join(RouteItem, RouteItem.route_id == Route.id)
        .where(RouteItem.status == ENROLLED).distinct()).all()
    todo = [(uid, tid) for uid, tid in watched if uid not in skip]
    count = 0
    with ThreadPoolExecutor(max_workers=max(1, settings.sync_workers)) as pool:
        for (_, teacher_id), completions in zip(
                todo, pool.map(lambda pair: api.user_courses(pair[0]), todo), strict=True):
            count += store_completions(teacher_id, completions)
    db.session.commit()
    return count


def _pages(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while page := list(islice(iterator, max(1, size))):
        yield page


def configured_diagnostic(settings: Settings) -> Diagnostic | None:
    """The stored diagnostic these settings name: by quiz id, else the latest of their kind
    (so syncing the entry test after a final one resumes the entry test, not the final)."""
    query = select(Diagnostic).order_by(Diagnostic.id.desc())
    if settings.diagnostic_quiz.strip().isdigit():
        query = query.where(Diagnostic.moodle_quiz_id == int(settings.diagnostic_quiz))
    else:
        query = query.where(Diagnostic.kind == settings.diagnostic_kind)
    return db.session.scalars(query).first()


def _cursor_name(diagnostic: Diagnostic) -> str:
    return f"moodle:quiz:{diagnostic.moodle_quiz_id}:graded"


def _cursor_value(diagnostic: Diagnostic | None) -> int | None:
    if diagnostic is None:
        return None
    row = db.session.get(SyncCursor, _cursor_name(diagnostic))
    return int(row.value) if row is not None and row.value.isdigit() else None


def _set_cursor(diagnostic: Diagnostic, value: int) -> None:
    get_or_create(SyncCursor, name=_cursor_name(diagnostic)).value = str(value)


def _completions_cursor() -> int:
    row = db.session.get(SyncCursor, "moodle:completions")
    return int(row.value) if row is not None and row.value.isdigit() else 0


def _grade_times(api: MoodleAPI, diagnostic: Diagnostic) -> dict[int, int]:
    """Every scored user's latest gradebook time of the quiz, in one call."""
    grades = api.quiz_grade_changes(diagnostic.moodle_course_id, diagnostic.moodle_cmid)
    return {g.user_id: max(g.date_submitted or 0, g.date_graded or 0) for g in grades}


def _known_competencies() -> set[str]:
    return set(db.session.scalars(select(Competency.idnumber)))
