"""Statements of Moodle's xAPI log store to ProfRoute's domain events, through lookup tables.

The event kind comes from the log store's context extension (``event_name``) when present,
else from the verb and the object's activity type. A statement that maps to nothing is
counted and kept with its reason; mapping never raises.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from xapi import moodle_events as ev
from xapi import vocab
from xapi.exceptions import StatementNotMapped
from xapi.times import parse_timestamp

logger = logging.getLogger(__name__)

KIND_FOREIGN = "foreign"
KIND_UNMAPPED = "unmapped"
Mapper = Callable[[ev.Source], ev.Mapped]

# Moodle event name (from the log store's info extension) -> mapper.
BY_EVENT_NAME: dict[str, Mapper] = {
    "\\core\\event\\course_completed": ev.course_completed,
    "\\core\\event\\course_completion_updated": ev.ignored(ev.KIND_CRITERIA_EDITED),
    "\\core\\event\\course_module_completion_updated": ev.activity_completion,
    "\\mod_quiz\\event\\attempt_submitted": ev.quiz_attempt_submitted,
    "\\core\\event\\user_enrolment_created": ev.enrolment_change,
    "\\core\\event\\user_enrolment_deleted": ev.enrolment_change,
    "\\core\\event\\user_enrolment_updated": ev.enrolment_change,
    "\\core\\event\\course_viewed": ev.ignored(ev.KIND_VIEWED),
    "\\mod_quiz\\event\\attempt_started": ev.ignored(ev.KIND_ATTEMPT_STARTED),
    "\\mod_quiz\\event\\attempt_reviewed": ev.ignored(ev.KIND_ATTEMPT_REVIEWED),
}
# Event names matched by their ending (every module's own copy of the event).
BY_EVENT_SUFFIX: dict[str, Mapper] = {
    "\\event\\course_module_viewed": ev.ignored(ev.KIND_VIEWED),
}
# (verb, object type or None for any type) -> mapper, for statements without an event name.
BY_VERB_AND_TYPE: dict[tuple[str, str | None], Mapper] = {
    (vocab.VERB_COMPLETED, vocab.TYPE_COURSE): ev.course_completed,
    (vocab.VERB_COMPLETED, vocab.TYPE_ATTEMPT): ev.quiz_attempt_submitted,
    (vocab.VERB_ANSWERED, vocab.TYPE_INTERACTION): ev.quiz_attempt_submitted,
    (vocab.VERB_COMPLETED, None): ev.completed_module_guess,
    (vocab.VERB_UNCOMPLETED, None): ev.activity_completion,
    (vocab.VERB_ENROLLED, vocab.TYPE_COURSE): ev.enrolment_change,
    (vocab.VERB_LEFT, vocab.TYPE_COURSE): ev.enrolment_change,
    (vocab.VERB_SUSPENDED, vocab.TYPE_COURSE): ev.enrolment_change,
    (vocab.VERB_RESUMED, vocab.TYPE_COURSE): ev.enrolment_change,
    (vocab.VERB_VIEWED, None): ev.ignored(ev.KIND_VIEWED),
}
# Known events whose meaning ProfRoute gets elsewhere: reported with the reason.
NOT_MAPPED_BECAUSE = {
    "\\mod_quiz\\event\\question_manually_graded":
        "manual grading changed an attempt's marks; re-read the attempt through web services",
    "\\mod_assign\\event\\submission_graded": "assignment grades are not used by ProfRoute",
    "\\mod_scorm\\event\\scoreraw_submitted": "SCORM scores are not used by ProfRoute",
}


@dataclass(frozen=True)
class MappedStatement:
    """What one statement maps to: its kind, its domain events, why nothing when unmapped."""

    events: tuple[Any, ...]
    kind: str
    reason: str = ""


@dataclass(frozen=True)
class MapResult:
    """The events of many statements, how many statements of each kind, and the unmapped ones.

    ``unmapped`` holds (statement id, or its index in the input when it has none, reason);
    ``other_sites`` how many statements each other site's actor (``account.homePage``) made.
    """

    events: tuple[Any, ...]
    counts: Mapping[str, int]
    unmapped: list[tuple[str | int, str]] = field(default_factory=list)
    other_sites: Mapping[str, int] = field(default_factory=dict)

    @property
    def ignored(self) -> int:
        """Statements of known kinds that carry nothing ProfRoute uses."""
        return sum(n for kind, n in self.counts.items() if kind in ev.IGNORED_KINDS)


def normalise_site(url: str) -> str:
    """A Moodle wwwroot as compared with statements: lower-case scheme and host, no end slash."""
    parts = urlsplit((url or "").strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def map_statement(statement: Mapping[str, Any], site_url: str, *,
                  quiz_ids: Mapping[int, int] | None = None) -> MappedStatement:
    """Map one log store statement of the Moodle site ``site_url`` to domain events.

    Args:
        statement: the statement as the LRS returned it.
        site_url: the Moodle wwwroot; the actor's ``account.homePage`` must equal it, else
            the statement is "foreign".
        quiz_ids: quiz id per course-module id, for quiz attempts (xAPI names only the cmid).

    Returns:
        Its events and kind; kind "unmapped" with a reason when it maps to nothing.
    """
    site = normalise_site(site_url)
    try:
        source = _source(statement, site, quiz_ids or {})
        if source is None:
            return MappedStatement((), KIND_FOREIGN)
        mapped = _mapper_for(statement)(source)
    except (StatementNotMapped, KeyError, TypeError, ValueError, AttributeError) as err:
        reason = str(err) if isinstance(err, StatementNotMapped | ValueError) else repr(err)
        return MappedStatement((), KIND_UNMAPPED, reason)
    return MappedStatement(mapped.events, mapped.kind)


def map_statements(statements: Iterable[Mapping[str, Any]], site_url: str, *,
                   quiz_ids: Mapping[int, int] | None = None) -> MapResult:
    """Map many statements; see ``map_statement``. Never raises for a bad statement."""
    events: list[Any] = []
    counts: Counter[str] = Counter()
    unmapped: list[tuple[str | int, str]] = []
    sites: Counter[str] = Counter()
    for index, statement in enumerate(statements):
        mapped = map_statement(statement, site_url, quiz_ids=quiz_ids)
        counts[mapped.kind] += 1
        events.extend(mapped.events)
        if mapped.kind == KIND_UNMAPPED:
            key = statement.get("id") if isinstance(statement, Mapping) else None
            unmapped.append((key or index, mapped.reason))
        elif mapped.kind == KIND_FOREIGN:
            sites[normalise_site(str(statement["actor"]["account"].get("homePage", "")))] += 1
    if unmapped:
        logger.info("%d statements mapped to no event, first: %s", len(unmapped), unmapped[0])
    return MapResult(tuple(events), dict(counts), unmapped, dict(sites))


def event_name(statement: Mapping[str, Any]) -> str | None:
    """The Moodle event name the log store put in its context extension, if any."""
    extensions = (statement.get("context") or {}).get("extensions") or {}
    info = extensions.get(vocab.EXT_MOODLE_INFO)
    name = info.get("event_name") if isinstance(info, Mapping) else None
    return name if isinstance(name, str) and name else None


def _is_own(statement: Mapping[str, Any]) -> bool:
    """True for a statement ProfRoute emitted (its system is among the context categories)."""
    activities = (statement.get("context") or {}).get("contextActivities") or {}
    category = activities.get("category") or []
    category = [category] if isinstance(category, Mapping) else category
    return any(isinstance(item, Mapping) and item.get("id") == vocab.PROFROUTE_ACTIVITY
               for item in category)


def _source(statement: Mapping[str, Any], site: str,
            quiz_ids: Mapping[int, int]) -> ev.Source | None:
    """The checked statement, or None when its actor belongs to another site."""
    if not isinstance(statement, Mapping):
        raise StatementNotMapped("not a JSON object")
    account = (statement.get("actor") or {}).get("account")
    if not isinstance(account, Mapping):
        raise StatementNotMapped("actor has no account (log store statements carry one)")
    if normalise_site(str(account.get("homePage", ""))) != site:
        return None
    name = str(account.get("name", ""))
    if not name.isdigit():
        raise StatementNotMapped(f"actor account name {name!r} is not a Moodle user id")
    if not statement.get("timestamp"):
        raise StatementNotMapped("statement has no timestamp")
    return ev.Source(statement, site, int(name), parse_timestamp(statement["timestamp"]),
                     quiz_ids)


def _mapper_for(statement: Mapping[str, Any]) -> Mapper:
    """The mapper for the statement's kind, from the event name or else verb and type."""
    if _is_own(statement):
        return ev.ignored(ev.KIND_OWN)
    name = event_name(statement)
    if name is not None:
        if name in NOT_MAPPED_BECAUSE:
            raise StatementNotMapped(f"{name}: {NOT_MAPPED_BECAUSE[name]}")
        mapper = BY_EVENT_NAME.get(name)
        mapper = mapper or next((m for suffix, m in BY_EVENT_SUFFIX.items()
                                 if name.endswith(suffix)), None)
        if mapper is None:
            raise StatementNotMapped(f"no mapper for Moodle event {name}")
        return mapper
    verb = str((statement.get("verb") or {}).get("id", ""))
    kind = str(((statement.get("object") or {}).get("definition") or {}).get("type", ""))
    mapper = BY_VERB_AND_TYPE.get((verb, kind)) or BY_VERB_AND_TYPE.get((verb, None))
    if mapper is None:
        raise StatementNotMapped(f"no mapper for verb {verb!r} on activity type {kind!r}")
    return mapper
