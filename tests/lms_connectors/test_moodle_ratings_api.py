"""Moodle's own competency ratings: the plugin's bulk read and the learning-plan fallback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lms_connectors.exceptions import AccessDenied, InvalidRequest, RecordNotFound
from lms_connectors.moodle import parse
from lms_connectors.moodle.api import MoodleAPI
from lms_connectors.moodle.records import CompetencyRating

PLUGIN_RECORDINGS = Path(__file__).resolve().parents[1] / "plugin" / "recordings"


@pytest.fixture
def api(replay):
    return MoodleAPI(replay.client)


def _plugin(replay, name):
    rec = json.loads((PLUGIN_RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))
    replay.expect(rec["function"], rec["params"], rec["response"])
    return rec


def test_ratings_since_reads_every_user_competency_of_the_framework(api, replay):
    recorded = _plugin(replay, "local_profroute_get_user_competencies")["response"]

    ratings = api.ratings_since(1)

    assert len(ratings) == len(recorded["usercompetencies"]) == 17
    assert ratings[0] == CompetencyRating(3, 2, "PK-02", True, 2, 1795665676)
    assert ratings[-1] == CompetencyRating(8, 2, "PK-02", False, 1, 1795674057)
    assert {(r.grade, r.proficient) for r in ratings} == {(2, True), (1, False)}


def test_ratings_since_sends_since_and_user_ids(api, replay):
    _plugin(replay, "local_profroute_get_user_competencies__since")
    _plugin(replay, "local_profroute_get_user_competencies__userids")

    later = api.ratings_since(1, 1795665677)
    chosen = api.ratings_since(1, 0, [4, 8, 99999])

    assert [(r.user_id, r.idnumber) for r in later] == [(4, "PK-01"), (4, "PK-04"), (8, "PK-02")]
    assert chosen == later


def test_ratings_since_errors_are_typed(api, replay):
    _plugin(replay, "local_profroute_get_user_competencies__nonexistent_framework")
    _plugin(replay, "local_profroute_get_user_competencies__limited_user")

    with pytest.raises(RecordNotFound):
        api.ratings_since(99999)
    with pytest.raises(AccessDenied):
        api.ratings_since(1)


@pytest.mark.parametrize(("args"), [(0,), (1, -1), (1, 0, [0])])
def test_ratings_since_refuses_bad_arguments_before_sending(api, replay, args):
    with pytest.raises(InvalidRequest):
        api.ratings_since(*args)
    assert replay.adapter.sent == []


def test_plan_ratings_keep_only_rated_competencies(api, replay):
    # The recorded plan holds PK-03 rated Competent and PK-02 never rated (usercompetency id 0).
    replay.expect_recording("core_competency_list_plan_competencies__after_grade")

    assert api.plan_ratings(1) == [CompetencyRating(4, 3, "PK-03", True, 2, 1795664723)]


def test_plan_ratings_of_a_completed_plan_come_from_usercompetencyplan(recording):
    # A completed plan answers the frozen rating under "usercompetencyplan" instead.
    rows = recording("core_competency_list_plan_competencies__after_grade")["response"]
    frozen = [{"competency": r["competency"], "usercompetencyplan": r["usercompetency"]}
              for r in rows]

    found = [parse.plan_rating(r) for r in frozen]

    assert found == [CompetencyRating(4, 3, "PK-03", True, 2, 1795664723), None]
