"""Statements ProfRoute emits about a teacher's route, one pure builder per lifecycle step.

The actor is the teacher's Moodle account (``homePage`` = Moodle URL, ``name`` = Moodle user
id), as Moodle's log store writes it, so both sources meet on the same agent. Ids are
``uuid5(NAMESPACE, event key)``: a replay of the same event builds the same statement.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from tincan import (
    Activity,
    ActivityDefinition,
    Agent,
    AgentAccount,
    Context,
    ContextActivities,
    Extensions,
    LanguageMap,
    Result,
    Statement,
    Verb,
)

from xapi import vocab
from xapi.times import format_timestamp

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, vocab.PROFROUTE_BASE)
PLATFORM = "ProfRoute"
Moment = int | float | dt.datetime


def statement_id(*key: object) -> str:
    """The deterministic id of the event named by ``key`` (its parts joined by ``|``)."""
    return str(uuid.uuid5(NAMESPACE, "|".join(str(part) for part in key)))


def offer_iri(offer_key: str) -> str:
    """The activity id of a ProfRoute offer (course, internship or mentoring)."""
    return f"{vocab.PROFROUTE_BASE}offers/{quote(offer_key, safe='')}"


def competency_iri(idnumber: str) -> str:
    """The activity id of a competency of the framework, by its idnumber."""
    return f"{vocab.PROFROUTE_BASE}competencies/{quote(idnumber, safe='')}"


def item_proposed(*, moodle_user_id: int, site_url: str, offer_key: str, offer_title: str,
                  offer_kind: str, competencies: Sequence[str], time: Moment,
                  occurrence: str = "") -> dict[str, Any]:
    """ProfRoute proposed an offer to the teacher as a route item.

    ``occurrence`` tells apart a later proposal of the same offer (e.g. a new route id).
    """
    return _route_item("proposed", vocab.VERB_PROPOSED, moodle_user_id=moodle_user_id,
                       site_url=site_url, offer_key=offer_key, offer_title=offer_title,
                       offer_kind=offer_kind, competencies=competencies, time=time,
                       occurrence=occurrence)


def item_approved(*, moodle_user_id: int, site_url: str, offer_key: str, offer_title: str,
                  offer_kind: str, competencies: Sequence[str], time: Moment,
                  occurrence: str = "") -> dict[str, Any]:
    """A methodologist approved the route item (the offer for the teacher)."""
    return _route_item("approved", vocab.VERB_APPROVED, moodle_user_id=moodle_user_id,
                       site_url=site_url, offer_key=offer_key, offer_title=offer_title,
                       offer_kind=offer_kind, competencies=competencies, time=time,
                       occurrence=occurrence)


def item_enrolled(*, moodle_user_id: int, site_url: str, offer_key: str, offer_title: str,
                  offer_kind: str, competencies: Sequence[str], time: Moment,
                  occurrence: str = "") -> dict[str, Any]:
    """ProfRoute enrolled the teacher (in the Moodle course, or on the internship's list)."""
    return _route_item("enrolled", vocab.VERB_REGISTERED, moodle_user_id=moodle_user_id,
                       site_url=site_url, offer_key=offer_key, offer_title=offer_title,
                       offer_kind=offer_kind, competencies=competencies, time=time,
                       occurrence=occurrence)


def internship_attended(*, moodle_user_id: int, site_url: str, offer_key: str,
                        offer_title: str, competencies: Sequence[str], time: Moment,
                        occurrence: str = "") -> dict[str, Any]:
    """The teacher attended an internship at a resource-centre school (completed)."""
    return _route_item("attended", vocab.VERB_ATTENDED, moodle_user_id=moodle_user_id,
                       site_url=site_url, offer_key=offer_key, offer_title=offer_title,
                       offer_kind="internship", competencies=competencies, time=time,
                       occurrence=occurrence, completion=True)


def course_completed(*, moodle_user_id: int, site_url: str, offer_key: str, offer_title: str,
                     competencies: Sequence[str], time: Moment,
                     occurrence: str = "") -> dict[str, Any]:
    """The teacher completed the PD course of a route item."""
    return _route_item("completed", vocab.VERB_COMPLETED, moodle_user_id=moodle_user_id,
                       site_url=site_url, offer_key=offer_key, offer_title=offer_title,
                       offer_kind="course", competencies=competencies, time=time,
                       occurrence=occurrence, completion=True)


TRANSITION_VERBS = {"rejected": vocab.VERB_REJECTED, "declined": vocab.VERB_DECLINED,
                    "cancelled": vocab.VERB_CANCELLED, "verified": vocab.VERB_VERIFIED,
                    "replanned": vocab.VERB_REPLANNED}


def item_transition(step: str, *, moodle_user_id: int, site_url: str, offer_key: str,
                    offer_title: str, offer_kind: str, competencies: Sequence[str],
                    time: Moment, occurrence: str = "") -> dict[str, Any]:
    """A route item was rejected (methodologist), declined (teacher), cancelled, verified
    (the final diagnostic closed the deficit) or re-planned: ``step`` names which.

    ``occurrence`` names the recorded change (item and event ids): its replay builds the same
    statement.

    :raise ValueError: an unknown step.
    """
    if step not in TRANSITION_VERBS:
        raise ValueError(f"unknown route item step {step!r}")
    return _route_item(step, TRANSITION_VERBS[step], moodle_user_id=moodle_user_id,
                       site_url=site_url, offer_key=offer_key, offer_title=offer_title,
                       offer_kind=offer_kind, competencies=competencies, time=time,
                       occurrence=occurrence)


def deficit_closed(*, moodle_user_id: int, site_url: str, competency: str,
                   competency_name: str = "", time: Moment, score: float | None = None,
                   occurrence: str = "") -> dict[str, Any]:
    """The teacher's deficit in a competency closed (the final test scored above threshold).

    ``score`` is the new competency score as a share of the maximum (0..1).
    """
    site = _site(site_url)
    if score is not None and not 0.0 <= score <= 1.0:
        raise ValueError("score must be a share between 0 and 1")
    definition = ActivityDefinition(type=vocab.TYPE_OBJECTIVE,
                                    name=LanguageMap({"ru": competency_name or competency}))
    statement = Statement(
        id=statement_id("closed", site, moodle_user_id, competency, occurrence),
        actor=_teacher(site, moodle_user_id),
        verb=_verb(vocab.VERB_CLOSED),
        object=Activity(id=competency_iri(competency), definition=definition),
        result=Result(success=True, score={"scaled": score} if score is not None else None),
        context=_context(site, {vocab.EXT_COMPETENCIES: [competency]}),
        timestamp=format_timestamp(time),
    )
    return _as_dict(statement)


def _route_item(step: str, verb: str, *, moodle_user_id: int, site_url: str, offer_key: str,
                offer_title: str, offer_kind: str, competencies: Sequence[str], time: Moment,
                occurrence: str, completion: bool = False) -> dict[str, Any]:
    """A statement about one route item: the teacher and one offer."""
    if offer_kind not in vocab.TYPE_BY_OFFER_KIND:
        raise ValueError(f"unknown offer kind {offer_kind!r}")
    if not offer_key:
        raise ValueError("an offer key is required")
    site = _site(site_url)
    extensions = {vocab.EXT_OFFER_KIND: offer_kind, vocab.EXT_OFFER_KEY: offer_key,
                  vocab.EXT_COMPETENCIES: list(competencies)}
    definition = ActivityDefinition(type=vocab.TYPE_BY_OFFER_KIND[offer_kind],
                                    name=LanguageMap({"ru": offer_title or offer_key}))
    statement = Statement(
        id=statement_id(step, site, moodle_user_id, offer_key, occurrence),
        actor=_teacher(site, moodle_user_id),
        verb=_verb(verb),
        object=Activity(id=offer_iri(offer_key), definition=definition),
        result=Result(completion=True) if completion else None,
        context=_context(site, extensions),
        timestamp=format_timestamp(time),
    )
    return _as_dict(statement)


def _site(site_url: str) -> str:
    """The Moodle wwwroot as the log store writes it: as configured, without an end slash."""
    site = (site_url or "").strip().rstrip("/")
    if not site.startswith(("http://", "https://")):
        raise ValueError("site_url must be the Moodle wwwroot, an http(s) URL")
    return site


def _teacher(site: str, moodle_user_id: int) -> Agent:
    if isinstance(moodle_user_id, bool) or int(moodle_user_id) <= 0:
        raise ValueError("moodle_user_id must be a positive Moodle user id")
    return Agent(account=AgentAccount(home_page=site, name=str(int(moodle_user_id))))


def _verb(iri: str) -> Verb:
    return Verb(id=iri, display=LanguageMap({"en-US": vocab.VERB_DISPLAY[iri]}))


def _context(site: str, extensions: dict[str, Any]) -> Context:
    """ProfRoute as the category, the Moodle site as the grouping."""
    system = Activity(id=vocab.PROFROUTE_ACTIVITY,
                      definition=ActivityDefinition(type=vocab.TYPE_SYSTEM))
    moodle = Activity(id=site, definition=ActivityDefinition(type=vocab.TYPE_LMS))
    return Context(platform=PLATFORM, extensions=Extensions(extensions),
                   context_activities=ContextActivities(category=[system], grouping=[moodle]))


def _as_dict(statement: Statement) -> dict[str, Any]:
    """The JSON object of a tincan statement, without ``version`` (the LRS sets it)."""
    data: dict[str, Any] = statement.as_version("1.0.3")
    data.pop("version", None)
    return data
