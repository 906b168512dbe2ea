"""What the demo site holds from after the entry diagnostic: earlier manual ratings of
competencies and the final diagnostic (its own course and quiz); and the enrolment and
marking helpers the seed shares with it."""

from __future__ import annotations

import random

from . import seed_catalog as cat
from .seed_catalog import DIAG_COURSE_ID, FINAL_QUIZ_ID, QUIZ_CMID, QUIZ_ID
from .store import EDITING_TEACHER_ROLE, STUDENT_ROLE, Course, Enrolment, Quiz, Site, User
from .store_push import UserCompetency


def ratings(site: Site, rng: random.Random, staff: list[User]) -> None:
    """Earlier manual ratings (a mentor's): about a third of the teachers, two competencies
    each, agreeing with the first attempt's share (>= 0.5 proficient) 85 % of the time."""
    quiz = site.quizzes[QUIZ_ID]
    admin = min(site.users)
    for user in staff:
        attempts = site.user_attempts(QUIZ_ID, user.id)
        if not attempts or attempts[0].state != "finished" or rng.random() >= 0.35:
            continue
        for index in sorted(rng.sample(range(len(site.competencies)), 2)):
            marks = [m or 0.0 for q, m in zip(quiz.questions, attempts[0].marks, strict=True)
                     if q.competency == index]
            proficient = (sum(marks) / len(marks) >= 0.5) == (rng.random() < 0.85)
            when = cat.BASE_TIME - rng.randint(30, 90) * 86400
            key = (user.id, index + 1)
            site.user_competencies[key] = UserCompetency(
                len(site.user_competencies) + 1, *key, grade=2 if proficient else 1,
                timecreated=when, timemodified=when, usermodified=admin)


def final(site: Site, rng: random.Random, staff: list[User], skills: dict[int, list[float]],
           grade_items: bool) -> None:
    """The final diagnostic: its own course (category 2, every teacher a student) with the
    entry quiz's structure; about 60 % of the teachers who took the entry test take it, a
    little better overall and clearly better in the competencies of the PD courses they
    completed."""
    entry_course = site.courses[DIAG_COURSE_ID]
    course_id = max(site.courses) + 1
    shortname, fullname, summary = cat.FINAL_COURSE
    site.courses[course_id] = Course(
        id=course_id, shortname=shortname, fullname=fullname, idnumber=shortname.upper(),
        category=2, summary=summary, startdate=cat.DIAG_START, enddate=0,
        sortorder=entry_course.sortorder - 1, timemodified=cat.BASE_TIME - 30 * 86400,
        has_criteria=False, competencies=list(entry_course.competencies),
        context_id=32 + 3 * (course_id - DIAG_COURSE_ID))
    course = site.courses[course_id]
    site.enrolments[(site.methodologist_id, course_id)] = Enrolment(
        site.methodologist_id, course_id, EDITING_TEACHER_ROLE, timecreated=cat.BASE_TIME)
    for user in staff:
        enrol_one(site, user, course, cat.BASE_TIME)
    entry = site.quizzes[QUIZ_ID]
    cmid = max([QUIZ_CMID, *(c for crs in site.courses.values() for c, _ in crs.activities)]) + 1
    quiz = Quiz(FINAL_QUIZ_ID, cmid, course_id, cat.FINAL_QUIZ_NAME, cat.QUIZ_INTRO,
                grade=100.0, attempts=1, grademethod=1, questionsperpage=4)
    quiz.grade_items = list(entry.grade_items) if grade_items else []
    quiz.questions = list(entry.questions)
    site.quizzes[quiz.id] = quiz
    site.final_takers = (rng.getstate(), [u.id for u in staff], dict(skills))
    take_final(site, rng, staff, skills)


def take_final(site: Site, rng: random.Random, staff: list[User],
               skills: dict[int, list[float]]) -> None:
    """The final quiz's attempts: about 60 % of the teachers with an entry skill, a little
    better overall and clearly better in the competencies of the courses they completed by
    now (``site.completions``)."""
    quiz = site.quizzes[FINAL_QUIZ_ID]
    index = {c.id: i for i, c in enumerate(site.competencies.values())}
    for user in staff:
        skill = skills.get(user.id)
        if skill is None or rng.random() >= 0.6:
            continue
        studied = {index[c] for (uid, cid), done in site.completions.items()
                   if uid == user.id and len(done) >= len(site.courses[cid].activities)
                   for c in site.courses[cid].competencies}
        better = [s + 0.05 + (0.2 if i in studied else 0.0) for i, s in enumerate(skill)]
        finish = cat.BASE_TIME + rng.randint(1, 5) * 86400 + rng.randint(8, 17) * 3600
        site.add_attempt(quiz.id, user.id, marks(rng, quiz, better), finish)


def enrol_one(site: Site, user: User, course: Course, created: int) -> None:
    """Enrol a user as a student, into their school's group of the course."""
    site.enrolments[(user.id, course.id)] = Enrolment(user.id, course.id, STUDENT_ROLE,
                                                      timecreated=created)
    code = user.profile.get("schoolname")
    for group in site.groups.values():
        if group.courseid == course.id and group.name == code:
            group.members.add(user.id)


def marks(rng: random.Random, quiz: Quiz, skill: list[float]) -> list[float]:
    """One attempt's marks per slot: right with the probability of the slot's skill."""
    return [
        1.0 if rng.random() < min(0.97, max(0.05, skill[q.competency])) else 0.0
        for q in quiz.questions
    ]


def retake_final(site: Site) -> int:
    """Take the final diagnostic again from the seed's state, after what happened since:
    the final quiz's attempts are replaced by those ``take_final`` draws with the same random
    stream and the course completions of now. Returns the number of attempts."""
    if site.final_takers is None:
        raise ValueError("this site was seeded without a final diagnostic")
    state, user_ids, skills = site.final_takers
    rng = random.Random()
    rng.setstate(state)
    with site.lock:
        for attempt_id in [a.id for a in site.attempts.values() if a.quiz == FINAL_QUIZ_ID]:
            del site.attempts[attempt_id]
    take_final(site, rng, [site.users[u] for u in user_ids], skills)
    return sum(1 for a in site.attempts.values() if a.quiz == FINAL_QUIZ_ID)
