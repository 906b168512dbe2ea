"""Handlers of the ProfRoute Moodle plugin (``local_profroute``): quiz slots, completions since.

The answer formats are the plugin's own (``db/services.php`` of lms_connectors/moodle/plugin):
``{"quizid", "slots": [...], "warnings"}`` and ``{"completions": [...], "warnings"}``.
"""

from __future__ import annotations

from typing import Any

from . import errors
from .context import Context
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
            "categoryidnumber": comp.idnumber, "categoryname": comp.shortname,
            "maxmark": 1.0, "tags": [comp.idnumber, DIAG_TAG],
        })
    return slots


def get_completions(ctx: Context, params: dict[str, Any]) -> Any:
    """``local_profroute_get_completions``: course completions at or after ``since``.

    An unknown course id is a warning, not an error.
    """
    site = ctx.site
    wanted = set(params["courseids"])
    warnings = [
        {"item": "course", "itemid": cid, "warningcode": "1",
         "message": f"Course {cid} does not exist"}
        for cid in params["courseids"] if cid not in site.courses
    ]
    found = []
    for (userid, courseid), done in site.completions.items():
        course = site.courses.get(courseid)
        enrolment = site.enrolments.get((userid, courseid))
        if courseid not in wanted or course is None or enrolment is None:
            continue
        if not course.activities or len(done) < len(course.activities):
            continue
        completed = max(done.values())
        if completed >= params["since"]:
            found.append({"userid": userid, "courseid": courseid,
                          "timeenrolled": enrolment.timecreated,
                          "timestarted": min(done.values()), "timecompleted": completed})
    found.sort(key=lambda c: (c["timecompleted"], c["courseid"], c["userid"]))
    return {"completions": found, "warnings": warnings}
