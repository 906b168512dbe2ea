"""Statements ProfRoute emits: deterministic ids, the teacher's Moodle account, constants."""

from __future__ import annotations

import datetime as dt

import pytest

from xapi import statements as build
from xapi import vocab
from xapi.mapping import map_statement

SITE = "http://moodle.example"
ITEM = {"moodle_user_id": 15, "site_url": SITE + "/", "offer_key": "kpk-07",
        "offer_title": "Формирующее оценивание", "competencies": ["PK-01", "PK-03"],
        "time": 1767225600}


@pytest.mark.parametrize(("builder", "extra", "verb", "kind"), [
    (build.item_proposed, {"offer_kind": "course"}, vocab.VERB_PROPOSED, "course"),
    (build.item_approved, {"offer_kind": "mentoring"}, vocab.VERB_APPROVED, "mentoring"),
    (build.item_enrolled, {"offer_kind": "internship"}, vocab.VERB_REGISTERED, "internship"),
    (build.internship_attended, {}, vocab.VERB_ATTENDED, "internship"),
    (build.course_completed, {}, vocab.VERB_COMPLETED, "course"),
])
def test_route_item_statement_shape(builder, extra: dict, verb: str, kind: str) -> None:
    statement = builder(**ITEM, **extra)
    assert statement["actor"]["account"] == {"homePage": SITE, "name": "15"}
    assert statement["verb"]["id"] == verb
    assert statement["object"]["id"] == "https://profroute.ru/xapi/offers/kpk-07"
    assert statement["object"]["definition"]["type"] == vocab.TYPE_BY_OFFER_KIND[kind]
    extensions = statement["context"]["extensions"]
    assert extensions[vocab.EXT_COMPETENCIES] == ["PK-01", "PK-03"]
    assert extensions[vocab.EXT_OFFER_KIND] == kind
    assert statement["context"]["contextActivities"]["grouping"][0]["id"] == SITE
    assert statement["timestamp"].startswith("2026-01-01T00:00:00")
    assert "version" not in statement


def test_ids_are_deterministic_per_event_and_differ_between_events() -> None:
    first = build.item_proposed(**ITEM, offer_kind="course")
    again = build.item_proposed(**{**ITEM, "time": 1767312000}, offer_kind="course")
    approved = build.item_approved(**ITEM, offer_kind="course")
    other_teacher = build.item_proposed(**{**ITEM, "moodle_user_id": 16}, offer_kind="course")
    later_route = build.item_proposed(**ITEM, offer_kind="course", occurrence="route-2")
    assert first["id"] == again["id"]
    assert len({first["id"], approved["id"], other_teacher["id"], later_route["id"]}) == 4


def test_deficit_closed_is_about_the_competency_with_a_scaled_score() -> None:
    statement = build.deficit_closed(moodle_user_id=15, site_url=SITE, competency="PK-01",
                                     competency_name="Предметные знания",
                                     time=dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC), score=0.8)
    assert statement["object"]["id"] == build.competency_iri("PK-01")
    assert statement["object"]["definition"]["type"] == vocab.TYPE_OBJECTIVE
    assert statement["result"] == {"success": True, "score": {"scaled": 0.8}}
    assert statement["verb"]["id"] == vocab.VERB_CLOSED


@pytest.mark.parametrize("bad", [
    {"offer_kind": "webinar"}, {"offer_kind": "course", "moodle_user_id": 0},
    {"offer_kind": "course", "site_url": "moodle.example"},
    {"offer_kind": "course", "time": dt.datetime(2026, 1, 1)},  # naive
])
def test_builders_refuse_values_that_would_make_a_wrong_statement(bad: dict) -> None:
    with pytest.raises(ValueError):
        build.item_proposed(**{**ITEM, **bad})


def test_deficit_closed_refuses_a_score_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="score"):
        build.deficit_closed(moodle_user_id=1, site_url=SITE, competency="PK-01", time=0,
                             score=80)


def test_own_statements_are_not_taken_for_moodle_events() -> None:
    mapped = map_statement(build.course_completed(**ITEM), SITE)
    assert (mapped.kind, mapped.events) == ("profroute", ())
