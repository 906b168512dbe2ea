"""Handlers for learning plans and manual ratings of user competencies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import errors
from .competency import competency_data
from .context import Context
from .errors import MoodleError
from .store_push import PLAN_STATUS_NAMES, SCALE, Evidence, Plan, UserCompetency

_COMMENT_TEMPLATE = (
    '<div class="comment-message"><div class="comment-message-meta me-3"><span '
    'class="picture">___picture___</span><span class="user">___name___</span> - <span '
    'class="time">___time___</span></div><div class="text">___content___</div></div>')


def user_context(userid: int) -> int:
    """The user's context id in the sandbox."""
    return 5000 + userid


def _persistent(message: str) -> MoodleError:
    return MoodleError("core\\invalid_persistent_exception", f"Error: {message}",
                       "invalidpersistenterror")


def _plan(ctx: Context, plan: Plan) -> dict[str, Any]:
    active, draft = plan.status == 1, plan.status == 0
    due = dt.datetime.fromtimestamp(plan.duedate, dt.UTC).strftime("%A, %d %B %Y, %I:%M %p")
    return {
        "name": plan.name, "description": plan.description,
        "descriptionformat": plan.descriptionformat, "userid": plan.userid, "templateid": None,
        "origtemplateid": None, "status": plan.status, "duedate": plan.duedate,
        "reviewerid": None, "id": plan.id, "timecreated": plan.timecreated,
        "timemodified": plan.timecreated, "usermodified": plan.usermodified,
        "statusname": PLAN_STATUS_NAMES[plan.status], "isbasedontemplate": False,
        "canmanage": True, "canrequestreview": False, "canreview": True, "canbeedited": True,
        "isactive": active, "isdraft": draft, "iscompleted": plan.status == 2,
        "isinreview": plan.status == 4, "iswaitingforreview": plan.status == 3,
        "isreopenallowed": False, "iscompleteallowed": active, "isunlinkallowed": False,
        "isrequestreviewallowed": False, "iscancelreviewrequestallowed": False,
        "isstartreviewallowed": False, "isstopreviewallowed": False,
        "isapproveallowed": draft, "isunapproveallowed": active,
        "duedateformatted": due if plan.duedate else "",
        "commentarea": {
            "component": "competency", "commentarea": "plan", "itemid": plan.id, "courseid": 1,
            "contextid": user_context(plan.userid), "cid": f"plancommentarea{plan.id}",
            "autostart": False, "canpost": False, "canview": True, "count": 0,
            "collapsediconkey": "t/collapsed", "displaytotalcount": True,
            "displaycancel": False, "fullwidth": True, "linktext": "Comments",
            "notoggle": False, "template": _COMMENT_TEMPLATE, "canpostorhascomments": False,
        },
        "url": f"{ctx.siteurl}/admin/tool/lp/plan.php?id={plan.id}",
    }


def list_user_plans(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_competency_list_user_plans``, drafts included.

    Raises:
        MoodleError: ``invalidrecord`` for an unknown user.
    """
    if params["userid"] not in ctx.site.users:
        raise errors.missing_record("user")
    plans = [p for p in ctx.site.plans.values()
             if p.userid == params["userid"] and _can_read(ctx, p.status)]
    return [_plan(ctx, p) for p in sorted(plans, key=lambda p: p.id)]


def create_plan(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_competency_create_plan``: not idempotent, a status of 1 makes it active.

    Raises:
        MoodleError: ``invaliduser`` for an unknown user, ``codingerror`` for a
            completed plan.
    """
    site, item = ctx.site, params["plan"]
    if item["userid"] not in site.users:
        raise MoodleError("dml_missing_record_exception", "Invalid user", "invaliduser")
    if item["status"] == 2:
        raise errors.coding_error("A plan cannot be created as complete.")
    _require_draft(ctx, item["status"])
    with site.lock:
        plan = Plan(id=max(site.plans, default=0) + 1, userid=item["userid"], name=item["name"],
                    description=item["description"], descriptionformat=item["descriptionformat"],
                    status=item["status"], duedate=item["duedate"], usermodified=ctx.userid,
                    timecreated=site.now())
        site.plans[plan.id] = plan
    return _plan(ctx, plan)


def _can_read(ctx: Context, status: int) -> bool:
    """plan::can_read_user(_draft): a plan the role may not read is silently left out of
    lists (a real 4.5: without planview and planmanage, active plans vanish)."""
    wanted = (("moodle/competency:planviewdraft", "moodle/competency:planmanagedraft")
              if status == 0 else ("moodle/competency:planview", "moodle/competency:planmanage"))
    return any(ctx.can(capability) for capability in wanted)


def _require_read(ctx: Context, plan: Plan) -> None:
    if not _can_read(ctx, plan.status):
        raise errors.missing_capability("moodle/competency:planview")


def _require_draft(ctx: Context, status: int) -> None:
    """plan::can_manage: a draft plan needs planmanagedraft, another planmanage; either
    refusal names planmanage ("Manage learning plans"), as a real 4.5 answers."""
    needed = "moodle/competency:planmanagedraft" if status == 0 else "moodle/competency:planmanage"
    if not ctx.can(needed):
        raise errors.missing_capability("moodle/competency:planmanage")


def _plan_or_fail(ctx: Context, planid: int) -> Plan:
    plan = ctx.site.plans.get(planid)
    if plan is None:
        raise errors.missing_record("competency_plan")
    return plan


def add_competency_to_plan(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_competency_add_competency_to_plan``: twice answers true, no duplicate.

    Raises:
        MoodleError: ``invalidrecord`` for an unknown plan or competency.
    """
    plan = _plan_or_fail(ctx, params["planid"])
    _require_read(ctx, plan)
    _require_draft(ctx, plan.status)
    if params["competencyid"] not in ctx.site.competencies:
        raise errors.missing_record("competency")
    with ctx.site.lock:
        if params["competencyid"] not in plan.competencies:
            plan.competencies.append(params["competencyid"])
    return True


def _user_competency(ctx: Context, uc: UserCompetency | None, userid: int,
                     competencyid: int) -> dict[str, Any]:
    grade = uc.grade if uc else None
    ucid = uc.id if uc else 0
    return {
        "userid": userid, "competencyid": competencyid, "status": 0, "reviewerid": None,
        "proficiency": uc.proficiency if uc else None, "grade": grade, "id": ucid,
        "timecreated": uc.timecreated if uc else 0, "timemodified": uc.timemodified if uc else 0,
        "usermodified": uc.usermodified if uc else 0, "canrequestreview": True,
        "canreview": False, "gradename": SCALE.get(grade or 0, "-"),
        "isrequestreviewallowed": True, "iscancelreviewrequestallowed": False,
        "isstartreviewallowed": False, "isstopreviewallowed": False, "isstatusidle": True,
        "isstatusinreview": False, "isstatuswaitingforreview": False,
        "proficiencyname": "Yes" if uc and uc.proficiency else "No", "statusname": "-",
        "url": f"{ctx.siteurl}/admin/tool/lp/user_competency.php?id={ucid}",
    }


def list_plan_competencies(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_competency_list_plan_competencies``: never-rated ones have ``id`` 0.

    Raises:
        MoodleError: ``invalidrecord`` for an unknown plan.
    """
    plan = _plan_or_fail(ctx, params["id"])
    _require_read(ctx, plan)
    site = ctx.site
    return [
        {"competency": competency_data(ctx, site.competencies[cid]),
         "usercompetency": _user_competency(
             ctx, site.user_competencies.get((plan.userid, cid)), plan.userid, cid)}
        for cid in plan.competencies
    ]


def grade_competency(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_competency_grade_competency``: each call adds an evidence row.

    Raises:
        MoodleError: ``invalidrecord`` (unknown competency), ``invalidpersistenterror``
            ("Invalid user ID", "Invalid rating").
    """
    site = ctx.site
    if params["competencyid"] not in site.competencies:
        raise errors.missing_record("competency")
    if params["userid"] not in site.users:
        raise _persistent("Invalid user ID")
    if params["grade"] not in SCALE:
        raise _persistent("Invalid rating")
    now = site.now()
    with site.lock:
        key = (params["userid"], params["competencyid"])
        uc = site.user_competencies.get(key)
        if uc is None:
            uc = UserCompetency(len(site.user_competencies) + 1, *key, timecreated=now)
            site.user_competencies[key] = uc
        uc.grade, uc.timemodified, uc.usermodified = params["grade"], now, ctx.userid
        evidence = Evidence(len(site.evidence) + 1, uc.id, ctx.userid, params["grade"],
                            params.get("note"), now)
        site.evidence.append(evidence)
    return _evidence(ctx, evidence, params["userid"])


def _evidence(ctx: Context, evidence: Evidence, userid: int) -> dict[str, Any]:
    actor = ctx.site.users[ctx.userid]
    picture = f"{ctx.siteurl}/theme/image.php/boost/core/1795549036/u/"
    when = dt.datetime.fromtimestamp(evidence.timecreated, dt.UTC)
    return {
        "usercompetencyid": evidence.usercompetencyid, "contextid": user_context(userid),
        "action": 3, "actionuserid": actor.id, "descidentifier": "evidence_manualoverride",
        "desccomponent": "core_competency", "desca": None, "url": None,
        "grade": evidence.grade, "note": evidence.note, "id": evidence.id,
        "timecreated": evidence.timecreated, "timemodified": evidence.timecreated,
        "usermodified": actor.id,
        "actionuser": {
            "id": actor.id, "email": actor.email, "idnumber": actor.idnumber, "phone1": "",
            "phone2": "", "department": actor.department, "institution": actor.institution,
            "fullname": actor.fullname, "identity": actor.email,
            "profileurl": f"{ctx.siteurl}/user/profile.php?id={actor.id}",
            "profileimageurl": f"{picture}f1", "profileimageurlsmall": f"{picture}f2",
        },
        "description": "The competency rating was manually set.",
        "gradename": SCALE.get(evidence.grade or 0, "-"),
        "userdate": when.strftime("%A, %d %B %Y, %I:%M %p"), "candelete": False,
    }
