"""Handlers for the competency framework and course competencies."""

from __future__ import annotations

from typing import Any

from . import errors
from .context import Context
from .seed_catalog import FRAMEWORK
from .store import Competency, Course

_COLUMNS = ("id", "idnumber", "shortname", "competencyframeworkid", "parentid", "sortorder")


def competency_data(ctx: Context, comp: Competency) -> dict[str, Any]:
    """A competency as the competency functions return it."""
    created = ctx.site.framework_created
    return {
        "shortname": comp.shortname, "idnumber": comp.idnumber, "description": comp.description,
        "descriptionformat": 1, "sortorder": comp.sortorder, "parentid": 0, "path": "/0/",
        "ruleoutcome": 0, "ruletype": None, "ruleconfig": None, "scaleid": None,
        "scaleconfiguration": None, "competencyframeworkid": FRAMEWORK["id"], "id": comp.id,
        "timecreated": created, "timemodified": created, "usermodified": 2,
    }


def list_competency_frameworks(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_competency_list_competency_frameworks``: the one framework of the site."""
    created = ctx.site.framework_created
    count = len(ctx.site.competencies)
    framework = {
        "shortname": FRAMEWORK["shortname"], "idnumber": FRAMEWORK["idnumber"],
        "description": FRAMEWORK["description"], "descriptionformat": 1, "visible": True,
        "scaleid": FRAMEWORK["scaleid"],
        "scaleconfiguration": '[{"scaleid":"2"},{"id":2,"scaledefault":1,"proficient":1}]',
        "contextid": 1, "taxonomies": ",".join(["competency"] * 4), "id": FRAMEWORK["id"],
        "timecreated": created, "timemodified": created, "usermodified": 2, "canmanage": False,
        "competenciescount": count, "contextname": "System", "contextnamenoprefix": "System",
    }
    query = str(params["query"]).lower()
    name = str(framework["shortname"]).lower() + str(framework["idnumber"]).lower()
    if query and query not in name:
        return []
    return [framework][params["skip"]:] if params["skip"] else [framework]


def list_competencies(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_competency_list_competencies`` with column filters, sort, skip and limit.

    Raises:
        MoodleError: ``invalidparameter`` for an unknown filter or sort column.
    """
    found = [competency_data(ctx, c) for c in ctx.site.competencies.values()]
    for item in params["filters"]:
        if item["column"] not in _COLUMNS:
            raise errors.invalid_parameter()
        found = [c for c in found if str(c[item["column"]]) == item["value"]]
    sort = params["sort"] or "id"
    if sort not in _COLUMNS:
        raise errors.invalid_parameter()
    found.sort(key=lambda c: c[sort], reverse=params["order"].upper() == "DESC")
    found = found[params["skip"]:]
    return found[: params["limit"]] if params["limit"] else found


def list_course_competencies(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_competency_list_course_competencies``: competencies linked to a course.

    Raises:
        MoodleError: ``invalidrecord`` for an unknown course.
    """
    site = ctx.site
    course = site.courses.get(params["id"])
    if course is None:
        raise errors.missing_record("course")
    first_link = _first_link_id(ctx, course)
    answer = []
    for order, compid in enumerate(course.competencies):
        link = {
            "courseid": course.id, "competencyid": compid, "sortorder": order,
            "ruleoutcome": 3 if course.has_criteria else 0, "id": first_link + order,
            "timecreated": site.framework_created, "timemodified": site.framework_created,
            "usermodified": 2,
        }
        answer.append({"competency": competency_data(ctx, site.competencies[compid]),
                       "coursecompetency": link})
    return answer


def _first_link_id(ctx: Context, course: Course) -> int:
    earlier = [c for c in ctx.site.courses.values() if c.id < course.id]
    return 1 + sum(len(c.competencies) for c in earlier)
