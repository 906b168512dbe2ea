"""Deterministic generator of the demo municipality's Moodle site (``random.Random(seed)``)."""

from __future__ import annotations

import csv
import logging
import random
from dataclasses import dataclass
from pathlib import Path

from . import seed_after
from . import seed_catalog as cat
from .seed_after import enrol_one, marks
from .seed_catalog import DIAG_COURSE_ID, QUIZ_CMID, QUIZ_ID
from .seed_names import person, username
from .store import (
    EDITING_TEACHER_ROLE,
    Attempt,
    Category,
    Competency,
    Course,
    Enrolment,
    Group,
    Question,
    Quiz,
    Site,
    User,
)
from .store_push import Cohort

logger = logging.getLogger(__name__)

DEFAULT_SCHOOLS_CSV = Path(__file__).resolve().parents[3] / "config" / "demo" / "schools.csv"


@dataclass(frozen=True)
class School:
    """A school row of ``config/demo/schools.csv``."""

    code: str
    name: str
    municipality: str
    low_results: bool
    adverse_context: bool
    resource_centre: bool


def load_schools(path: Path = DEFAULT_SCHOOLS_CSV) -> list[School]:
    """Read the demo schools (UTF-8, ``;``-separated, booleans 0/1)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            School(row["code"], row["name"], row["municipality"], row["low_results"] == "1",
                   row["adverse_context"] == "1", row["resource_centre"] == "1")
            for row in csv.DictReader(handle, delimiter=";")
        ]


def generate(seed: int = 2026, teachers: int = 180, schools: list[School] | None = None,
             *, grade_items: bool = True) -> Site:
    """Build the whole demo site; the same seed always gives the same ids and values.

    Args:
        seed: Seed of the one ``random.Random`` used.
        teachers: Number of teachers (2-3 of them without a school code).
        grade_items: False gives a quiz without grade items (Moodle before 4.3): attempts
            then carry ``gradeitemmarks: []`` and marks are known per slot only.
        schools: The schools; defaults to ``config/demo/schools.csv``.

    Returns:
        The populated in-memory site.
    """
    rng = random.Random(seed)
    schools = schools if schools is not None else load_schools()
    site = Site(sitename=cat.SITE_NAME, shortname=cat.SITE_SHORTNAME)
    site.framework_created = cat.BASE_TIME - 40 * 86400
    _catalogue(site, schools)
    staff = _teachers(site, rng, schools, teachers)
    _service_users(site, rng)
    _enrol(site, rng, staff, schools)
    _cohorts(site, staff, schools)
    _quiz(site, grade_items)
    skills = _attempts(site, rng, staff, {s.code: s for s in schools})
    # What came after the entry test, on streams of their own: the values above stay put.
    seed_after.ratings(site, random.Random(seed + 1), staff)
    seed_after.final(site, random.Random(seed + 2), staff, skills, grade_items)
    logger.info("Seeded sandbox: %d users, %d courses, %d attempts",
                len(site.users), len(site.courses), len(site.attempts))
    return site


def _catalogue(site: Site, schools: list[School]) -> None:
    for cid, name, idnumber in cat.CATEGORIES:
        site.categories[cid] = Category(cid, name, idnumber)
    for index, (idnumber, shortname, description) in enumerate(cat.COMPETENCIES):
        site.competencies[index + 1] = Competency(
            index + 1, idnumber, shortname, description, index)
    comp_ids = {c.idnumber: c.id for c in site.competencies.values()}
    specs: list[tuple[str, str, str, int, tuple[str, ...]]] = [
        (cat.DIAG_COURSE[0], cat.DIAG_COURSE[1], cat.DIAG_COURSE[2], 2, ()),
    ]
    for shortname, fullname, hours, pd_comps in cat.PD_COURSES:
        summary = f"Дополнительная профессиональная программа повышения квалификации, {hours} ч."
        specs.append((shortname, fullname, summary, 3, tuple(pd_comps)))
    centres = [s for s in schools if s.resource_centre]
    for index, school in enumerate(centres):
        centre_comps = cat.INTERNSHIP_COMPETENCIES[index % len(cat.INTERNSHIP_COMPETENCIES)]
        specs.append((f"int-{school.code}", f"Стажировка на базе {school.name}",
                      f"Стажировка на базе ресурсного центра {school.name}, 24 ч.", 4,
                      tuple(centre_comps)))
    cmid = 1
    for offset, (shortname, fullname, summary, category, comps) in enumerate(specs):
        course = Course(
            id=DIAG_COURSE_ID + offset, shortname=shortname, fullname=fullname,
            idnumber=shortname.upper() + ("" if shortname.endswith("2026") else "-2026"),
            category=category, summary=summary,
            startdate=cat.DIAG_START if category == 2 else cat.COURSE_START,
            enddate=0 if category == 2 else cat.COURSE_END, sortorder=0,
            timemodified=cat.BASE_TIME - 30 * 86400, has_criteria=category != 2,
            competencies=[comp_ids[c] for c in comps] if comps else list(comp_ids.values()),
            context_id=32 + 3 * offset,
        )
        if category != 2:
            if cmid == QUIZ_CMID:
                cmid += 1
            course.activities = [(cmid, cat.ACTIVITIES[0]), (cmid + 1, cat.ACTIVITIES[1])]
            cmid += 2
        site.courses[course.id] = course
    for category in site.categories:
        in_cat = [c for c in site.courses.values() if c.category == category]
        for index, course in enumerate(in_cat):
            course.sortorder = category * 10000 + len(in_cat) - index


def _teachers(site: Site, rng: random.Random, schools: list[School], total: int) -> list[User]:
    no_school = 3 if total >= 120 else 2
    sizes = [1] * len(schools)
    weights = [1.5 if s.resource_centre else 1.0 for s in schools]
    for _ in range(total - no_school - len(schools)):
        sizes[rng.choices(range(len(schools)), weights)[0]] += 1
    subjects, subject_weights = zip(*cat.SUBJECTS, strict=True)
    taken: set[str] = {"admin"}
    staff: list[User] = []
    placements: list[tuple[School | None, int]] = [
        (s, n) for s, size in zip(schools, sizes, strict=True) for n in range(size)]
    placements += [(None, n) for n in range(no_school)]
    municipality = schools[0].municipality
    for school, number in placements:
        last, first, middle, _ = person(rng)
        login = username(last, first, middle, taken)
        subject = rng.choices(subjects, subject_weights)[0]
        profile = {"municipality": municipality, "subject": subject}
        code = school.code if school else "00000"
        if school:
            profile = {"schoolcode": school.code, "schoolname": school.name, **profile}
        user = User(
            id=3 + len(staff), username=login, firstname=first, lastname=last, middlename=middle,
            email=f"{login}@school{code}.example.ru" if school else f"{login}@example.ru",
            idnumber=f"T-{code}-{number + 1:02d}", department=subject,
            institution=school.name if school else "", city=municipality, profile=profile,
        )
        site.users[user.id] = user
        staff.append(user)
    return staff


def _service_users(site: Site, rng: random.Random) -> None:
    site.users[2] = User(2, "admin", "Admin", "User", email="admin@example.ru")
    last, first, middle, _ = person(rng, female_share=1.0)
    municipality = next(iter(site.users.values())).city
    base = len(site.users) + 2
    site.methodologist_id, site.ws_userid, site.limited_userid = base, base + 1, base + 2
    login = "metodist." + username(last, first, middle, set()).split(".", 1)[1]
    site.users[base] = User(
        base, login, first, last, middle, email="metodist@iro.example.ru", idnumber="M-0001",
        profile={"municipality": municipality},
    )
    site.users[base + 1] = User(base + 1, "pd_integration", "Сервис", "Интеграции ПК",
                                email="pd_integration@iro.example.ru", auth="webservice")
    site.users[base + 2] = User(base + 2, "ws_limited", "Ограниченный", "Сервис",
                                email="ws_limited@iro.example.ru", auth="webservice")


def _enrol(site: Site, rng: random.Random, staff: list[User], schools: list[School]) -> None:
    created = cat.BASE_TIME - 35 * 86400
    for course in site.courses.values():
        for school in schools:
            gid = len(site.groups) + 1
            description = f'<div class="text_to_html">Группа педагогов ОО {school.code}</div>'
            site.groups[gid] = Group(gid, course.id, school.name, description,
                                     idnumber=f"{course.shortname}-school-{school.code}")
        site.enrolments[(site.methodologist_id, course.id)] = Enrolment(
            site.methodologist_id, course.id, EDITING_TEACHER_ROLE, timecreated=created)
    shortnames = {c.shortname: c for c in site.courses.values()}
    for user in staff:
        enrol_one(site, user, site.courses[DIAG_COURSE_ID], created)
        for shortname, _, _, _ in cat.PD_COURSES:
            subject = cat.SUBJECT_COURSES.get(shortname)
            chance = 0.12 if subject is None else (0.45 if user.department == subject else 0.01)
            if rng.random() < chance:
                course = shortnames[shortname]
                enrol_one(site, user, course, created + 86400)
                _complete(site, rng, user.id, course)


def _cohorts(site: Site, staff: list[User], schools: list[School]) -> None:
    """One system cohort per school (idnumber ``school-<code>``) holding its teachers."""
    for index, school in enumerate(schools, start=1):
        site.cohorts[index] = Cohort(
            index, school.name, f"school-{school.code}",
            f"Педагоги: {school.name} ({school.municipality})",
            members=[u.id for u in staff if u.profile.get("schoolcode") == school.code])


def _complete(site: Site, rng: random.Random, userid: int, course: Course) -> None:
    draw = rng.random()
    done = 2 if draw < 0.45 else (1 if draw < 0.65 else 0)
    when = cat.BASE_TIME - rng.randint(2, 20) * 86400
    site.completions[(userid, course.id)] = {
        cmid: when + 3600 * i for i, (cmid, _) in enumerate(course.activities[:done])
    }


def _quiz(site: Site, grade_items: bool = True) -> None:
    quiz = Quiz(QUIZ_ID, QUIZ_CMID, DIAG_COURSE_ID, cat.QUIZ_NAME, cat.QUIZ_INTRO, grade=100.0,
                attempts=2, grademethod=1, questionsperpage=4)
    for index, comp in enumerate(site.competencies.values()):
        if grade_items:
            quiz.grade_items.append(f"{comp.idnumber} {comp.shortname}")
        for k, stem in enumerate(cat.QUESTION_STEMS):
            slot = index * 4 + k + 1
            qtype = "multichoice" if k % 2 == 0 else "truefalse"
            quiz.questions.append(Question(slot, index, qtype, stem.format(comp.shortname)))
    site.quizzes[quiz.id] = quiz


def _attempts(site: Site, rng: random.Random, staff: list[User],
              schools: dict[str, School]) -> dict[int, list[float]]:
    """The entry attempts; returns the skill per competency of each teacher who finished."""
    quiz = site.quizzes[QUIZ_ID]
    skills: dict[int, list[float]] = {}
    difficulty = [rng.uniform(-0.12, 0.15) for _ in site.competencies]
    for user in staff:
        school = schools.get(user.profile.get("schoolcode", ""))
        ability = rng.gauss(0.68, 0.12)
        if school is not None:
            ability += -0.15 * school.low_results - 0.05 * school.adverse_context
            ability += 0.05 * school.resource_centre
        skill = [ability - d + rng.gauss(0.0, 0.1) for d in difficulty]
        draw = rng.random()
        if draw < 0.09:
            if draw < 0.03:
                _in_progress(site, rng, user.id)
            continue
        finish = cat.BASE_TIME - rng.randint(2, 21) * 86400 + rng.randint(8, 17) * 3600
        site.add_attempt(quiz.id, user.id, marks(rng, quiz, skill), finish)
        skills[user.id] = skill
        if rng.random() < 0.12:
            better = [s + 0.08 for s in skill]
            later = finish + rng.randint(1, 4) * 86400
            site.add_attempt(quiz.id, user.id, marks(rng, quiz, better), later)
    return skills


def _in_progress(site: Site, rng: random.Random, userid: int) -> None:
    start = cat.BASE_TIME - rng.randint(1, 10) * 86400
    attempt = Attempt(
        id=max(site.attempts, default=0) + 1, quiz=QUIZ_ID, userid=userid, attempt=1,
        state="inprogress", timestart=start, timefinish=0, timemodified=start + 300,
        marks=[None] * len(site.quizzes[QUIZ_ID].questions),
    )
    site.attempts[attempt.id] = attempt

