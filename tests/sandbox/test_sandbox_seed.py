"""The seed: deterministic, big enough, realistic, and in step with config/demo/*.csv."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from lms_connectors.moodle.sandbox.seed import generate, load_schools
from lms_connectors.moodle.sandbox.store import EDITING_TEACHER_ROLE, Site

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo"


def _rows(name: str) -> list[dict[str, str]]:
    with (DEMO / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@pytest.fixture(scope="module")
def site() -> Site:
    return generate(seed=2026, teachers=180)


def _teachers(site: Site) -> list:
    return [u for u in site.users.values() if u.idnumber.startswith("T-")]


def _fingerprint(site: Site) -> tuple:
    users = [(u.id, u.username, u.lastname, u.firstname, u.middlename, u.idnumber,
              tuple(sorted(u.profile.items()))) for u in site.users.values()]
    attempts = [(a.id, a.userid, a.state, tuple(a.marks), a.timefinish)
                for a in site.attempts.values()]
    return users, attempts, sorted(site.enrolments), sorted(site.completions.items())


def test_same_seed_gives_the_same_site_and_another_seed_differs() -> None:
    assert _fingerprint(generate(seed=7)) == _fingerprint(generate(seed=7))
    assert _fingerprint(generate(seed=7)) != _fingerprint(generate(seed=8))


def test_minimums(site: Site) -> None:
    schools = load_schools()
    assert len(schools) >= 12
    assert sum(s.low_results for s in schools) >= 3
    assert sum(s.resource_centre for s in schools) >= 2
    assert len(_teachers(site)) >= 180
    quiz = site.quizzes[1]
    assert (quiz.cmid, quiz.course, len(quiz.questions), quiz.sumgrades) == (9, 2, 24, 24.0)
    assert (quiz.grade, quiz.attempts, quiz.grademethod) == (100.0, 2, 1)
    assert quiz.grade_items == [f"PK-0{c.id} {c.shortname}" for c in site.competencies.values()]
    pd = [c for c in site.courses.values() if c.category == 3]
    assert len(pd) >= 6
    assert {cid for c in pd for cid in c.competencies} == set(range(1, 7))


def test_recorded_ids_are_kept(site: Site) -> None:
    shortnames = {c.id: c.shortname for c in site.courses.values()}
    assert [shortnames[i] for i in range(2, 7)] == [
        "diag-2026", "pk-assess", "pk-digital", "pk-inclusive", "pk-math"]
    assert [c.idnumber for c in site.competencies.values()] == [f"PK-0{i}" for i in range(1, 7)]
    slots = Counter(q.competency for q in site.quizzes[1].questions)
    assert slots == dict.fromkeys(range(6), 4)
    assert [q.competency for q in site.quizzes[1].questions[:5]] == [0, 0, 0, 0, 1]


def test_attempt_mix_is_realistic(site: Site) -> None:
    teachers = _teachers(site)
    states = {u.id: [a.state for a in site.user_attempts(1, u.id)] for u in teachers}
    finished = sum("finished" in s for s in states.values()) / len(teachers)
    in_progress = sum(s == ["inprogress"] for s in states.values())
    assert 0.85 <= finished <= 0.95
    assert 2 <= in_progress <= 12
    assert any(s.count("finished") == 2 for s in states.values())
    assert any(not s for s in states.values())
    low = {s.code for s in load_schools() if s.low_results}
    share = {True: [], False: []}
    for attempt in site.attempts.values():
        if attempt.state == "finished":
            code = site.users[attempt.userid].profile.get("schoolcode")
            share[code in low].append(attempt.sumgrades)
    assert sum(share[True]) / len(share[True]) < sum(share[False]) / len(share[False])


def test_teachers_look_like_moodle_users(site: Site) -> None:
    teachers = _teachers(site)
    without_school = [u for u in teachers if "schoolcode" not in u.profile]
    assert 2 <= len(without_school) <= 3
    assert len({u.username for u in site.users.values()}) == len(site.users)
    for user in teachers:
        assert user.username.isascii() and user.email.startswith(user.username + "@")
        female = user.middlename.endswith("на")
        assert user.lastname.endswith(("а", "ая")) == female, user
        assert user.profile["subject"] and user.department == user.profile["subject"]
        code = user.profile.get("schoolcode", "00000")
        assert user.idnumber.startswith(f"T-{code}-")
    methodologist = site.enrolments[(site.methodologist_id, 2)]
    assert methodologist.roleid == EDITING_TEACHER_ROLE


def test_some_pd_courses_are_completed(site: Site) -> None:
    done = [k for k, v in site.completions.items() if len(v) == 2]
    assert len(done) >= 10


def test_schools_csv_agrees_with_the_seed(site: Site) -> None:
    schools = {r["code"]: r["name"] for r in _rows("schools.csv")}
    seeded = {u.profile["schoolcode"]: u.profile["schoolname"]
              for u in _teachers(site) if "schoolcode" in u.profile}
    assert seeded == schools
    assert all(r["adverse_context"] in "01" for r in _rows("schools.csv"))


def test_partnerships_cover_every_low_results_school() -> None:
    schools = {r["code"]: r for r in _rows("schools.csv")}
    partners = _rows("partnerships.csv")
    assert all(schools[p["resource_centre_code"]]["resource_centre"] == "1" for p in partners)
    low = {c for c, r in schools.items() if r["low_results"] == "1"}
    assert low <= {p["school_code"] for p in partners}
    assert all(p["starts_on"] < p["ends_on"] for p in partners)


def test_offers_match_the_seeded_courses(site: Site) -> None:
    courses = {c.shortname: c for c in site.courses.values()}
    idnumbers = {c.id: c.idnumber for c in site.competencies.values()}
    offers = _rows("offers.csv")
    kinds = Counter(o["kind"] for o in offers)
    assert kinds["mentoring"] >= 1
    assert {o["moodle_course_shortname"] for o in offers if o["kind"] == "course"} == {
        c.shortname for c in courses.values() if c.category == 3}
    centres = {r["code"] for r in _rows("schools.csv") if r["resource_centre"] == "1"}
    assert {o["host_school_code"] for o in offers if o["kind"] == "internship"} == centres
    for offer in offers:
        if offer["kind"] != "course":
            assert offer["seats"] and offer["host_school_code"] in centres
        if offer["moodle_course_shortname"]:
            course = courses[offer["moodle_course_shortname"]]
            linked = {idnumbers[i] for i in course.competencies}
            assert set(offer["competencies"].split(",")) == linked
