"""The teacher list: the teachers of the caller's scope searched, filtered, sorted and paged.

The filters (:class:`ListFilters`) come from the URL — ``q``, ``municipality`` (id),
``school`` (code), ``subject``, ``risk`` (``yes``/``no``), ``competency`` (idnumber) and
``level`` on the current diagnostic, ``route`` (``any``, an item status, ``none``), ``sort``
and ``page`` — and combine; :func:`conditions` turns them into SQL on ``teacher`` and
:func:`teacher_page` reads one page. The search compares ``teacher.search_name`` (folded in
Python: see ``app.models.network.fold``), so «иван» finds «Иван» on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    distinct,
    false,
    func,
    literal,
    or_,
    select,
)
from werkzeug.exceptions import BadRequest

from app.accounts.roles import Scope, school_clause, teacher_clause
from app.analyse.teacher_memo import RiskInputs
from app.common.inputs import MAX_ID
from app.extensions import db
from app.i18n import N_
from app.models import Competency, Deficit, Municipality, Route, RouteItem, School, Teacher
from app.models.network import fold
from deficits.levels import LEVEL_DEFICIT, LEVELS

PAGE_SIZE = 50
MAX_PAGE = 10**6
ROUTE_RU = {"any": N_("есть маршрут"), "proposed": N_("есть предложенные мероприятия"),
            "approved": N_("есть утверждённые"), "enrolled": N_("есть зачисления"),
            "completed": N_("есть завершённые"), "none": N_("маршрута нет")}
ITEM_RU = {"proposed": N_("предложено"), "approved": N_("утверждено"), "enrolled": N_("зачислен"),
           "completed": N_("завершено")}
RISK_RU = {"yes": N_("в группе риска"), "no": N_("не в группе риска")}
SORT_RU = {"name": N_("по ФИО"), "school": N_("по образовательной организации")}
SCHOOL_CHOICES = 300  # more schools than this in scope: the code is typed, not picked


@dataclass(frozen=True)
class ListFilters:
    """What the list is narrowed to; empty strings and None mean «any»."""

    q: str = ""
    municipality: int | None = None
    school: str = ""
    subject: str = ""
    risk: str = ""
    competency: str = ""
    level: str = ""
    route: str = ""
    sort: str = "name"
    page: int = 1

    def args(self) -> dict[str, Any]:
        """The URL parameters that give these filters again (page left out)."""
        found = {"q": self.q, "municipality": self.municipality, "school": self.school,
                 "subject": self.subject, "risk": self.risk, "competency": self.competency,
                 "level": self.level, "route": self.route,
                 "sort": "" if self.sort == "name" else self.sort}
        return {name: value for name, value in found.items() if value not in ("", None)}


def _choice(values: Mapping[str, str], name: str, allowed: Mapping[str, str] | tuple[str, ...],
            default: str = "") -> str:
    raw = values.get(name, "").strip()
    if raw and raw not in allowed:
        raise BadRequest(_("Параметр «%(name)s»: неизвестное значение «%(value)s»; допустимы: "
                           "%(allowed)s.", name=name, value=raw[:40], allowed=", ".join(allowed)))
    return raw or default


def filters_from(values: Mapping[str, str], municipality: int | None) -> ListFilters:
    """The filters of the request's parameters (``municipality``: already checked against
    the caller's scope).

    :raise 400: a risk, level, route or sort value the list does not know.
    """
    raw_page = values.get("page", "1").strip()
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() else 1
    return ListFilters(
        q=values.get("q", "").strip()[:200], municipality=municipality,
        school=values.get("school", "").strip()[:64],
        subject=values.get("subject", "").strip()[:512],
        risk=_choice(values, "risk", RISK_RU), competency=values.get("competency", "").strip(),
        level=_choice(values, "level", LEVELS), route=_choice(values, "route", ROUTE_RU),
        sort=_choice(values, "sort", SORT_RU, "name"), page=min(max(page, 1), MAX_PAGE))


def search_condition(q: str) -> ColumnElement[bool] | None:
    """Every word of ``q`` within the folded name (case and «ё» ignored, ``%`` and ``_``
    literal), or ``q`` as a whole being the Moodle user id; None for an empty ``q``."""
    words = fold(q).split()
    if not words:
        return None
    found: ColumnElement[bool] = and_(*(Teacher.search_name.contains(w, autoescape=True)
                                        for w in words))
    if q.isascii() and q.isdigit() and int(q) <= MAX_ID:
        found = or_(found, Teacher.moodle_user_id == int(q))
    return found


def subject_condition(subject: str) -> ColumnElement[bool]:
    """The teacher's subjects (the override when set, else Moodle's) list ``subject`` as one
    of their items (separated by «,» or «;»)."""
    text = func.coalesce(Teacher.subjects_override, Teacher.subjects)
    listed = func.replace(func.replace(func.replace(text, ";", ","), ", ", ","), " ,", ",",
                          type_=String)
    return (literal(",", String) + listed + literal(",", String)).contains(
        f",{subject},", autoescape=True)


def risk_members(diagnostic_id: int, inputs: RiskInputs) -> Any:
    """The ids of the teachers in the risk group of the diagnostic, in SQL: as
    ``deficits.risk.risk_group`` decides it (deficits in at least ``min_groups`` competency
    groups, a competency without a group in group "", or a deficit in a group always at risk),
    under the policy in force (``inputs``)."""
    group: Any = (case(inputs.groups, value=Competency.idnumber, else_="")
                  if inputs.groups else literal(""))
    always = list(inputs.rule.groups_always)
    return (select(Deficit.teacher_id)
            .join(Competency, Competency.id == Deficit.competency_id)
            .where(Deficit.diagnostic_id == diagnostic_id, Deficit.level == LEVEL_DEFICIT)
            .group_by(Deficit.teacher_id)
            .having(or_(func.count(distinct(group)) >= inputs.rule.min_groups_with_deficit,
                        func.max(case((group.in_(always), 1), else_=0)) == 1)))


def level_condition(diagnostic_id: int | None, competency: str, level: str
                    ) -> ColumnElement[bool]:
    """A level (any, without ``level``) in the competency (any, without ``competency``) on
    the diagnostic; nothing matches without a diagnostic."""
    if diagnostic_id is None:
        return false()
    found = select(Deficit.teacher_id).where(Deficit.diagnostic_id == diagnostic_id)
    if competency:
        found = found.where(Deficit.competency_id.in_(
            select(Competency.id).where(Competency.idnumber == competency)))
    if level:
        found = found.where(Deficit.level == level)
    return Teacher.id.in_(found)


def route_condition(route: str) -> ColumnElement[bool]:
    """``any``: a route; ``none``: no route; an item status: an item of a route in it."""
    routes = select(Route.teacher_id)
    if route == "any":
        return Teacher.id.in_(routes)
    if route == "none":
        return Teacher.id.not_in(routes)
    return Teacher.id.in_(routes.join(RouteItem, RouteItem.route_id == Route.id)
                          .where(RouteItem.status == route))


def conditions(filters: ListFilters, scope: Scope, diagnostic_id: int | None,
               risk_inputs: Callable[[], RiskInputs]) -> list[ColumnElement[bool]]:
    """The SQL conditions on ``teacher`` of the filters within ``scope`` (already narrowed
    to the chosen municipality); ``risk_inputs`` is called only when the risk filter is set."""
    found = [teacher_clause(scope)]
    searched = search_condition(filters.q)
    if searched is not None:
        found.append(searched)
    if filters.school:
        found.append(Teacher.school_id.in_(select(School.id).where(
            School.code == filters.school)))
    if filters.subject:
        found.append(subject_condition(filters.subject))
    if filters.risk:
        members = (Teacher.id.in_(risk_members(diagnostic_id, risk_inputs()))
                   if diagnostic_id is not None else false())
        found.append(members if filters.risk == "yes" else ~members)
    if filters.competency or filters.level:
        found.append(level_condition(diagnostic_id, filters.competency, filters.level))
    if filters.route:
        found.append(route_condition(filters.route))
    return found


@dataclass(frozen=True)
class ListRow:
    """A teacher as the list shows them."""

    moodle_user_id: int
    full_name: str
    username: str
    school: str
    municipality: str
    subjects: str
    deficits: int | None  # deficit competencies on the current diagnostic (None: not scored)
    route: str  # the route's items by status, or «—»


@dataclass(frozen=True)
class TeacherPage:
    """One page of the list and how to reach the others."""

    rows: list[ListRow] = field(default_factory=list)
    number: int = 1
    pages: int = 1
    total: int = 0
    first: int = 0  # the position of the page's first row among all (0-based)

    def window(self, around: int = 2) -> list[int | None]:
        """The page numbers to link: the first, the last and ``around`` on each side of this
        one, a None where numbers are left out."""
        wanted = {1, self.pages, *range(self.number - around, self.number + around + 1)}
        shown: list[int | None] = []
        for number in sorted(n for n in wanted if 1 <= n <= self.pages):
            if shown and shown[-1] is not None and number > shown[-1] + 1:
                shown.append(None)
            shown.append(number)
        return shown


def grouped(count: int) -> str:
    """``count`` with its thousands apart: 1 234."""
    return f"{count:,}".replace(",", " ")


def teacher_page(filters: ListFilters, scope: Scope, diagnostic_id: int | None,
                 risk_inputs: Callable[[], RiskInputs], size: int = PAGE_SIZE
                 ) -> TeacherPage:
    """The page ``filters.page`` (past the last: the last) of the teachers matching the
    filters, in name order (``sort=school``: by school name, then name)."""
    where = conditions(filters, scope, diagnostic_id, risk_inputs)
    order = ([School.name, Teacher.search_name, Teacher.id] if filters.sort == "school"
             else [Teacher.search_name, Teacher.id])
    query = (select(Teacher.id, Teacher.moodle_user_id, Teacher.lastname, Teacher.firstname,
                    Teacher.middlename, Teacher.username, Teacher.subjects,
                    Teacher.subjects_override, School.name.label("school"),
                    School.code.label("code"), Municipality.name.label("municipality"))
             .outerjoin(School, School.id == Teacher.school_id)
             .outerjoin(Municipality, Municipality.id == School.municipality_id)
             .where(*where).order_by(*order).limit(size))
    number = filters.page
    found = db.session.execute(query.offset((number - 1) * size)).all()
    if number == 1 and len(found) < size:  # all on the first page: no count needed
        total = len(found)
    else:
        total = db.session.scalar(select(func.count()).select_from(Teacher).where(*where)) or 0
    pages = max(1, -(-total // size))
    if number > pages:  # past the last: the last
        number = pages
        found = db.session.execute(query.offset((number - 1) * size)).all()
    ids = [r.id for r in found]
    deficits, routes = _deficits(ids, diagnostic_id), _routes(ids)
    rows = [ListRow(r.moodle_user_id, " ".join(
        p for p in (r.lastname, r.firstname, r.middlename) if p) or r.username,
                    r.username, f"{r.school} ({r.code})" if r.code else _("без ОО"),
                    r.municipality or "",
                    r.subjects if r.subjects_override is None else r.subjects_override,
                    deficits.get(r.id), routes.get(r.id, "—")) for r in found]
    return TeacherPage(rows, number, pages, total, (number - 1) * size)


def _deficits(ids: list[int], diagnostic_id: int | None) -> dict[int, int]:
    """Teacher id → deficit competencies on the diagnostic, for the scored of ``ids``."""
    if not ids or diagnostic_id is None:
        return {}
    is_deficit = case((Deficit.level == LEVEL_DEFICIT, 1), else_=0)
    return {int(t): int(n) for t, n in db.session.execute(
        select(Deficit.teacher_id, func.sum(is_deficit))
        .where(Deficit.diagnostic_id == diagnostic_id, Deficit.teacher_id.in_(ids))
        .group_by(Deficit.teacher_id))}


def _routes(ids: list[int]) -> dict[int, str]:
    """Teacher id → their routes' items counted by status («утверждено 2, завершено 1»);
    a route without items: «без мероприятий»."""
    if not ids:
        return {}
    counts: dict[int, dict[str, int]] = {}
    for teacher, status, n in db.session.execute(
            select(Route.teacher_id, RouteItem.status, func.count(RouteItem.id))
            .outerjoin(RouteItem, RouteItem.route_id == Route.id)
            .where(Route.teacher_id.in_(ids)).group_by(Route.teacher_id, RouteItem.status)):
        per = counts.setdefault(int(teacher), {})
        if status is not None:
            per[str(status)] = int(n)
    order = list(ITEM_RU)
    return {teacher: ", ".join(f"{_(ITEM_RU[s]) if s in ITEM_RU else s} {n}" for s, n in sorted(
        per.items(), key=lambda p: (order.index(p[0]) if p[0] in order else len(order), p[0])))
            or _("без мероприятий") for teacher, per in counts.items()}


@dataclass(frozen=True)
class Choices:
    """What the filter form offers: the caller's municipalities, schools (None: too many to
    list, the code is typed), subjects and the competencies."""

    municipalities: list[tuple[int, str]]
    schools: list[tuple[str, str]] | None
    subjects: list[str]
    competencies: list[tuple[str, str]]


def choices(scope: Scope, municipalities: list[Municipality]) -> Choices:
    """The form's options within ``scope`` (narrowed to the chosen municipality)."""
    schools = [(str(code), str(name)) for code, name in db.session.execute(
        select(School.code, School.name).where(school_clause(scope))
        .order_by(School.name, School.code).limit(SCHOOL_CHOICES + 1))]
    texts = db.session.scalars(
        select(func.coalesce(Teacher.subjects_override, Teacher.subjects))
        .where(teacher_clause(scope)).distinct())
    subjects = sorted({s.strip() for text in texts if text
                       for s in text.replace(";", ",").split(",") if s.strip()})
    competencies = [(str(code), str(name)) for code, name in db.session.execute(
        select(Competency.idnumber, Competency.name).order_by(Competency.idnumber))]
    return Choices([(m.id, m.name) for m in municipalities],
                   schools if len(schools) <= SCHOOL_CHOICES else None, subjects, competencies)
