"""One small function per Moodle event kind: a log store statement to ProfRoute's domain events.

Each mapper takes a ``Source`` (the statement, its site, user and time, already checked) and
returns the kind it recognised with the events it yields; it raises ``StatementNotMapped``
with a reason when the statement does not hold what the kind needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from courses.events import ActivityCompletion, EnrolmentChange
from courses.records import CourseCompletion
from deficits.records import QuizAttempt
from xapi import vocab
from xapi.exceptions import StatementNotMapped
from xapi.times import parse_duration

KIND_COURSE_COMPLETED = "course_completed"
KIND_ACTIVITY_COMPLETION = "activity_completion"
KIND_QUIZ_ATTEMPT = "quiz_attempt"
KIND_ENROLMENT = "enrolment"
# Known kinds that mean nothing to ProfRoute (counted, never reported as failures).
KIND_QUESTION = "question"
KIND_CRITERIA_EDITED = "course_completion_updated"
KIND_VIEWED = "viewed"
KIND_ATTEMPT_STARTED = "quiz_attempt_started"
KIND_ATTEMPT_REVIEWED = "quiz_attempt_reviewed"
KIND_OWN = "profroute"  # ProfRoute's own route statements, read back from a shared LRS
IGNORED_KINDS = frozenset({KIND_QUESTION, KIND_CRITERIA_EDITED, KIND_VIEWED,
                           KIND_ATTEMPT_STARTED, KIND_ATTEMPT_REVIEWED, KIND_OWN})

ENROLMENT_VERBS = {
    vocab.VERB_ENROLLED: "created",
    vocab.VERB_LEFT: "deleted",
    vocab.VERB_SUSPENDED: "suspended",
    vocab.VERB_RESUMED: "resumed",
}


@dataclass(frozen=True)
class Source:
    """A statement of a known site, with its Moodle user id and its time in unix seconds."""

    statement: Mapping[str, Any]
    site: str
    user_id: int
    time: int
    quiz_ids: Mapping[int, int] = field(default_factory=dict)

    @property
    def verb(self) -> str:
        """The verb IRI."""
        return str((self.statement.get("verb") or {}).get("id", ""))

    @property
    def object_id(self) -> str:
        """The object's id (an activity IRI)."""
        return str((self.statement.get("object") or {}).get("id", ""))

    def parents(self) -> list[str]:
        """Ids of the parent and grouping context activities."""
        activities = (self.statement.get("context") or {}).get("contextActivities") or {}
        ids = []
        for key in ("parent", "grouping"):
            items = activities.get(key) or []
            for item in [items] if isinstance(items, dict) else items:
                ids.append(str(item.get("id", "")))
        return ids


@dataclass(frozen=True)
class Mapped:
    """What one mapper made of a statement: its kind and the domain events (maybe none)."""

    kind: str
    events: tuple[Any, ...] = ()


def site_url_parts(iri: str, site: str) -> tuple[str, dict[str, str]]:
    """The path of a Moodle URL below the site root and its query as a flat dict.

    Raises:
        StatementNotMapped: the IRI is not a URL of this site.
    """
    if not iri.lower().startswith(site.lower() + "/"):
        raise StatementNotMapped(f"activity {iri!r} is not on the site {site}")
    parts = urlsplit(site + iri[len(site):])
    base_path = urlsplit(site).path.rstrip("/")
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return parts.path[len(base_path):], query


def int_param(query: Mapping[str, str], name: str, iri: str) -> int:
    """An integer query parameter of a Moodle URL.

    Raises:
        StatementNotMapped: absent or not an integer.
    """
    value = query.get(name, "")
    if not value.isdigit():
        raise StatementNotMapped(f"activity {iri!r} has no integer {name!r}")
    return int(value)


def course_of(iri: str, site: str) -> int:
    """The course id of ``<site>/course/view.php?id=N``.

    Raises:
        StatementNotMapped: not a course URL of this site.
    """
    path, query = site_url_parts(iri, site)
    if path != "/course/view.php":
        raise StatementNotMapped(f"activity {iri!r} is not a course")
    return int_param(query, "id", iri)


def parent_course(source: Source) -> int:
    """The course among the statement's context activities.

    Raises:
        StatementNotMapped: no course of this site among them.
    """
    for iri in source.parents():
        try:
            return course_of(iri, source.site)
        except StatementNotMapped:
            continue
    raise StatementNotMapped("no course among the statement's context activities")


def course_completed(source: Source) -> Mapped:
    """``\\core\\event\\course_completed``: the teacher completed a course."""
    if source.verb != vocab.VERB_COMPLETED:
        raise StatementNotMapped(f"course completion with verb {source.verb!r}")
    course_id = course_of(source.object_id, source.site)
    event = CourseCompletion(user_id=source.user_id, course_id=course_id, completed=True,
                             time_completed=source.time)
    return Mapped(KIND_COURSE_COMPLETED, (event,))


def activity_completion(source: Source) -> Mapped:
    """``\\core\\event\\course_module_completion_updated``: completed or back to incomplete."""
    if source.verb not in (vocab.VERB_COMPLETED, vocab.VERB_UNCOMPLETED):
        raise StatementNotMapped(f"activity completion with verb {source.verb!r}")
    path, query = site_url_parts(source.object_id, source.site)
    if not (path.startswith("/mod/") and path.endswith("/view.php")):
        raise StatementNotMapped(f"activity {source.object_id!r} is not a course module")
    event = ActivityCompletion(user_id=source.user_id, course_id=parent_course(source),
                               cmid=int_param(query, "id", source.object_id),
                               completed=source.verb == vocab.VERB_COMPLETED, time=source.time)
    return Mapped(KIND_ACTIVITY_COMPLETION, (event,))


def completed_module_guess(source: Source) -> Mapped:
    """Without an event name, "completed" on a module is its completion only with a result
    saying so (a SCORM score is "completed" too, without ``result.completion``)."""
    if not (source.statement.get("result") or {}).get("completion"):
        raise StatementNotMapped("verb completed without result.completion and no event name")
    return activity_completion(source)


def quiz_attempt_submitted(source: Source) -> Mapped:
    """``\\mod_quiz\\event\\attempt_submitted``: the attempt (score) and one per question.

    The attempt becomes a finished ``QuizAttempt`` with ``sumgrades = result.score.raw``, no
    marks per item or slot, ``attempt_no`` 0 (unknown to xAPI), ``time_start`` from the
    duration. The statement names the quiz by its course module, so the quiz id comes from
    ``source.quiz_ids`` (cmid to quiz id). The per-question statements are kind "question".
    """
    if source.verb == vocab.VERB_ANSWERED:
        return Mapped(KIND_QUESTION)
    if source.verb != vocab.VERB_COMPLETED:
        raise StatementNotMapped(f"quiz attempt with verb {source.verb!r}")
    path, query = site_url_parts(source.object_id, source.site)
    if path != "/mod/quiz/attempt.php":
        raise StatementNotMapped(f"activity {source.object_id!r} is not a quiz attempt")
    attempt_id = int_param(query, "attempt", source.object_id)
    cmid = int_param(query, "cmid", source.object_id)
    if cmid not in source.quiz_ids:
        raise StatementNotMapped(f"quiz of course module {cmid} unknown: pass its quiz id in "
                                 "quiz_ids (cmid -> quiz id)")
    result = source.statement.get("result") or {}
    raw = (result.get("score") or {}).get("raw")
    duration = parse_duration(result["duration"]) if result.get("duration") else 0.0
    attempt = QuizAttempt(attempt_id=attempt_id, quiz_id=source.quiz_ids[cmid],
                          user_id=source.user_id, attempt_no=0, state="finished",
                          time_start=source.time - round(duration), time_finish=source.time,
                          sumgrades=None if raw is None else float(raw))
    return Mapped(KIND_QUIZ_ATTEMPT, (attempt,))


def enrolment_change(source: Source) -> Mapped:
    """``\\core\\event\\user_enrolment_created|deleted|updated``: the verb says which."""
    kind = ENROLMENT_VERBS.get(source.verb)
    if kind is None:
        raise StatementNotMapped(f"enrolment change with verb {source.verb!r}")
    event = EnrolmentChange(user_id=source.user_id,
                            course_id=course_of(source.object_id, source.site),
                            kind=kind, time=source.time)  # type: ignore[arg-type]
    return Mapped(KIND_ENROLMENT, (event,))


def ignored(kind: str) -> Callable[[Source], Mapped]:
    """A mapper for a known event that carries nothing ProfRoute uses."""

    def mapper(source: Source) -> Mapped:
        del source  # same signature as every mapper
        return Mapped(kind)

    mapper.__doc__ = f"Known, no domain event: counted as {kind!r}."
    return mapper
