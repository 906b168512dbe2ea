"""Handlers for cohorts: search, members, create and add members (with Moodle's warnings)."""

from __future__ import annotations

from typing import Any

from . import errors
from .context import Context
from .store_push import Cohort

_INCLUDES = ("self", "parents", "all")
_USER_KEYS = ("id", "idnumber", "username")


def _cohort(cohort: Cohort, customfields: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": cohort.id, "name": cohort.name, "idnumber": cohort.idnumber,
        "description": cohort.description, "descriptionformat": cohort.descriptionformat,
        "visible": cohort.visible, "theme": "",
    }
    if customfields:
        data["customfields"] = []
    return data


def search_cohorts(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_cohort_search_cohorts``: substring of name, idnumber or description.

    From the system context, ``self`` and ``parents`` give the system cohorts, ``all``
    the category cohorts too.

    Raises:
        MoodleError: ``codingerror`` for another ``includes``, ``invalidrecord`` for a
            context other than the system's.
    """
    if params["includes"] not in _INCLUDES:
        raise errors.coding_error("Invalid parameter value for 'includes'.")
    if params["context"]["contextid"] != 1:
        raise errors.missing_record("context")
    query = params["query"].strip().lower()
    found = [
        c for c in ctx.site.cohorts.values()
        if (params["includes"] == "all" or c.contextid == 1)
        and any(query in text.lower() for text in (c.name, c.idnumber, c.description))
    ]
    found.sort(key=lambda c: (c.name, c.id))
    start = params["limitfrom"]
    return {"cohorts": [_cohort(c) for c in found[start : start + params["limitnum"]]]}


def get_cohort_members(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_cohort_get_cohort_members``.

    Raises:
        MoodleError: ``invalidrecord`` for an unknown cohort.
    """
    answer = []
    for cohortid in params["cohortids"]:
        cohort = ctx.site.cohorts.get(cohortid)
        if cohort is None:
            raise errors.missing_record("cohort")
        answer.append({"cohortid": cohort.id, "userids": list(cohort.members)})
    return answer


def create_cohorts(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_cohort_create_cohorts``: all or nothing.

    Raises:
        MoodleError: ``invalidparameter`` for a taken idnumber or an unknown category.
    """
    site = ctx.site
    with site.lock:
        taken = {c.idnumber for c in site.cohorts.values() if c.idnumber}
        created: list[Cohort] = []
        for item in params["cohorts"]:
            contextid = _context(ctx, item["categorytype"])
            if item["idnumber"] and item["idnumber"] in taken:
                raise errors.invalid_parameter()
            taken.add(item["idnumber"])
            created.append(Cohort(
                id=max(site.cohorts, default=0) + 1 + len(created), name=item["name"],
                idnumber=item["idnumber"], description=item.get("description") or "",
                descriptionformat=item["descriptionformat"],
                visible=item.get("visible", True), contextid=contextid))
        for cohort in created:
            site.cohorts[cohort.id] = cohort
    return [_cohort(c, customfields=False) for c in created]


def _context(ctx: Context, categorytype: dict[str, str]) -> int:
    kind, value = categorytype["type"], categorytype["value"]
    if kind == "system":
        return 1
    for category in ctx.site.categories.values():
        if (kind == "id" and str(category.id) == value) or (
                kind == "idnumber" and category.idnumber and category.idnumber == value):
            return 1000 + category.id  # a category context id
    raise errors.invalid_parameter()


def add_cohort_members(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_cohort_add_cohort_members``: problems are warnings, never an exception."""
    site = ctx.site
    warnings = []
    with site.lock:
        for item in params["members"]:
            ctype, utype = item["cohorttype"], item["usertype"]
            problem = _member_problem(ctx, ctype, utype)
            if problem is not None:
                warnings.append(problem)
                continue
            cohort = _find_cohort(ctx, ctype)
            user = _find_user(ctx, utype)
            assert cohort is not None and user is not None
            if user in cohort.members:
                warnings.append({"warningcode": "3", "message": (
                    f"record already exists: cohort({ctype['type']}={ctype['value']} "
                    f"{utype['type']}={utype['value']})")})
            else:
                cohort.members.append(user)
    return {"warnings": warnings}


def _member_problem(ctx: Context, ctype: dict[str, str], utype: dict[str, str]) -> Any:
    if ctype["type"] not in ("id", "idnumber"):
        return {"warningcode": "1", "message": f"invalid parameter: cohortype={ctype['type']}"}
    if utype["type"] not in _USER_KEYS:
        return {"warningcode": "1", "message": f"invalid parameter: usertype={utype['type']}"}
    if _find_cohort(ctx, ctype) is None:
        return {"warningcode": "2",
                "message": f"cohort {ctype['type']}={ctype['value']} not exists"}
    if _find_user(ctx, utype) is None:
        return {"warningcode": "2", "message": f"user {utype['type']}={utype['value']} not exists"}
    return None


def _find_cohort(ctx: Context, ctype: dict[str, str]) -> Cohort | None:
    return next((c for c in ctx.site.cohorts.values()
                 if str(getattr(c, ctype["type"])) == ctype["value"]), None)


def _find_user(ctx: Context, utype: dict[str, str]) -> int | None:
    return next((u.id for u in ctx.site.users.values()
                 if u.id > 1 and str(getattr(u, utype["type"])) == utype["value"]
                 and (utype["type"] != "idnumber" or u.idnumber)), None)
