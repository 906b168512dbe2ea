"""Handlers of the ProfRoute Moodle plugin (``local_profroute``): quiz slots, completions since,
user competencies (ratings) of a framework.

The formats are the plugin's own (``lms_connectors/moodle/plugin/local_profroute/classes/
external``; real answers in ``tests/plugin/recordings``).
"""

from __future__ import annotations

from typing import Any

from . import errors
from .context import Context
from .seed_catalog import FRAMEWORK
from .store import Quiz

FIRST_QUESTION_ID = 100
FIRST_CATEGORY_ID = 3  # one question category per competency, as on the recorded site
DIAG_TAG = "диагностика"


def get_quiz_slots(ctx: Context, params: dict[str, Any]) -> Any:
    """``local_profroute_get_quiz_slots``: every slot's question, category and tags.

    ``page`` is the quiz page (1-based, as stored in ``quiz_slots``).

    Raises:
        MoodleError: ``invalidrecord`` for an unknown quiz.
    """
    quiz = ctx.site.quizzes.get(params["quizid"])
    if quiz is None:
        raise errors.missing_record("quiz")
    return {"quizid": quiz.id, "slots": _slots(ctx, quiz), "warnings": []}


def _slots(ctx: Context, quiz: Quiz) -> list[dict[str, Any]]:
    competencies = list(ctx.site.competencies.values())
    per_page = quiz.questionsperpage or len(quiz.questions)
    slots = []
    for question in quiz.questions:
        comp = competencies[question.competency]
        number = sum(1 for q in quiz.questions[: question.slot]
                     if q.competency == question.competency)
        slots.append({
            "slot": question.slot, "page": (question.slot - 1) // per_page + 1,
            "questionid": FIRST_QUESTION_ID + question.slot, "qtype": question.qtype,
            "name": f"{comp.idnumber} Вопрос {number}", "idnumber": f"{comp.idnumber}-Q{number}",
            "categoryid": FIRST_CATEGORY_ID + question.competency,
            "categoryidnumber": comp.idnumber,
            "categoryname": f"{comp.idnumber} {comp.shortname}",
            "maxmark": 1.0, "tags": [comp.idnumber, DIAG_TAG],
        })
    return slots


def get_completions(ctx: Context, params: dict[str, Any]) -> Any:
    """``local_profroute_get_completions``: completions with ``timecompleted > since``.

    Ordered by ``timecompleted``, ``userid``, ``courseid``. An unknown course and the site
    home page are warnings (``invalidcourseid``); the other courses are still answered.
    """
    site = ctx.site
    wanted, warnings = set(), []
    for cid in sorted(set(params["courseids"])):
        if cid == 1:
            warnings.append(_warning(cid, f"Course {cid} is the site home page: it has no "
                                          "course completion."))
        elif cid not in site.courses:
            warnings.append(_warning(cid, f"Course {cid} does not exist."))
        elif not (ctx.can("moodle/course:view") and ctx.can("report/completion:view")):
            warnings.append(_warning(cid, f"Course {cid}: no access or no permission to view "
                                          "course completion.", "nopermissions"))
        else:
            wanted.add(cid)
    found = []
    for (userid, courseid), done in site.completions.items():
        course = site.courses.get(courseid)
        enrolment = site.enrolments.get((userid, courseid))
        if courseid not in wanted or course is None or enrolment is None:
            continue
        if not course.activities or len(done) < len(course.activities):
            continue
        completed = max(done.values())
        if completed > params["since"]:
            found.append({"userid": userid, "courseid": courseid,
                          "timeenrolled": enrolment.timecreated,
                          "timestarted": min(done.values()), "timecompleted": completed})
    found.sort(key=lambda c: (c["timecompleted"], c["userid"], c["courseid"]))
    return {"completions": found, "warnings": warnings}


def _warning(courseid: int, message: str, code: str = "invalidcourseid") -> dict[str, Any]:
    return {"item": "course", "itemid": courseid, "warningcode": code, "message": message}


def get_user_competencies(ctx: Context, params: dict[str, Any]) -> Any:
    """``local_profroute_get_user_competencies``: user competencies modified after ``since``.

    Ordered by ``timemodified``, ``userid``, ``competencyid``; ``userids`` (when given)
    limits the users. A competency added to a plan but never rated has no user competency
    in the sandbox (Moodle creates one with ``proficiency`` and ``grade`` null).

    Raises:
        MoodleError: ``invalidrecord`` for an unknown framework.
    """
    site = ctx.site
    if params["frameworkid"] != FRAMEWORK["id"]:
        raise errors.missing_record("competency_framework")
    users = set(params.get("userids") or ())
    found = []
    for (userid, competencyid), uc in site.user_competencies.items():
        competency = site.competencies.get(competencyid)
        if competency is None or userid not in site.users:
            continue
        if (users and userid not in users) or uc.timemodified <= params["since"]:
            continue
        found.append({"userid": userid, "competencyid": competencyid,
                      "idnumber": competency.idnumber, "proficiency": uc.proficiency,
                      "grade": uc.grade, "status": 0, "timemodified": uc.timemodified})
    found.sort(key=lambda r: (r["timemodified"], r["userid"], r["competencyid"]))
    return {"usercompetencies": found, "warnings": []}
