"""Analytic views of the stored levels in Russian: by school type, the ranking of schools by
need, the map over time and the risk group (the pages of ``/api/deficit-map/<view>``), each
of the teachers and schools in the caller's scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from app import settings_of
from app.accounts.roles import ADMIN, METHODOLOGIST, Scope, school_clause
from app.analyse.levels import competency_groups
from app.analyse.outcomes import in_scope
from app.analyse.policy import effective_document
from app.analyse.revisions import newest_revision
from app.analyse.risk_rule import group_names, risk_overview
from app.common import audit
from app.extensions import db
from app.i18n import N_
from app.models import Competency, Deficit, Diagnostic, School, Teacher
from app.reports import analytics
from app.reports.maps import current_diagnostic, deficit_map, diagnostics_policy, policy_lines
from app.reports.xlsx import table_workbook
from app.settings import SettingsError
from app.web.access import allow, current_scope
from app.web.lang import in_russian, reader_lang
from app.web.views import KIND_RU, XLSX
from deficits.levels import LEVEL_DEFICIT
from deficits.maps import SCHOOL_TYPES

bp = Blueprint("analytics", __name__, template_folder="templates")
# The indicators page's levels policy in the reader's language (its view gives it in Russian)
bp.add_app_template_global(diagnostics_policy)

# The sections' titles (the XLSX sheets keep them in Russian; the page translates them)
VIEWS = {"by-type": N_("По типам школ"), "ranking": N_("Рейтинг школ по потребности"),
         "over-time": N_("Динамика по диагностикам"), "risk-group": N_("Группа риска")}
DIAGNOSTIC_KIND_RU = {"entry": N_("входная"), "final": N_("итоговая")}
NO_SCHOOL = N_("Без образовательной организации")
Section = dict[str, Any]
# A row of app.reports.analytics: the values are whatever the frame held.
Record = dict[str, Any]


@bp.get("/analytics")
@allow(METHODOLOGIST, ADMIN)
def analytics_page() -> str:
    """Every view (or the one of ``?view=``) of the latest synced diagnostic.

    ``?school=<code>`` narrows the map over time and the risk group to one school.

    :raise 404: an unknown view or school code.
    """
    view, school = _args()
    diagnostic = current_diagnostic()
    scored = diagnostic is not None and _scored(diagnostic)
    sections: dict[str, Section] = {}
    policy: list[str] = []
    lang = reader_lang()
    if diagnostic is not None and scored:
        sections = {key: BUILDERS[key](diagnostic, school, current_scope(), lang=lang)
                    for key in VIEWS if view in (None, key)}
        policy = policy_lines(diagnostic, lang)
    return render_template("analytics.html", diagnostic=diagnostic, scored=scored,
                           sections=sections, view=view, school=school, views=VIEWS,
                           kinds=KIND_RU, diagnostic_kinds=DIAGNOSTIC_KIND_RU,
                           policy=policy)


@bp.get("/analytics/<view>.xlsx")
@allow(METHODOLOGIST, ADMIN)
@in_russian
def analytics_xlsx(view: str) -> Response:
    """One view of the page as an XLSX file (``?school=`` as on the page).

    :raise 404: an unknown view or school code, or no scored diagnostic yet.
    """
    if view not in VIEWS:
        abort(404, description=_("Неизвестный раздел %(view)s: %(views)s", view=repr(view),
                                 views=", ".join(VIEWS)))
    school = _args()[1]
    diagnostic = current_diagnostic()
    if diagnostic is None or not _scored(diagnostic):
        abort(404, description=_("Данных пока нет: выполните profroute sync и profroute "
                                 "deficits"))
    section = BUILDERS[view](diagnostic, school, current_scope())
    notes, headers, rows = TABLES[view](section)
    used = (f"Диагностики: {', '.join(section['diagnostics'])}" if view == "over-time"
            else f"Диагностика: {_diagnostic_text(diagnostic)}")
    scope = [f"Отбор: {school.name} ({school.code})"] if school else []
    policy = ["Уровни получены так: " + "; ".join(policy_lines(diagnostic))]
    data = table_workbook(VIEWS[view], [used, *policy, *scope, *notes], headers, rows)
    suffix = f"-{school.code}" if school else ""
    audit.record("export.xlsx", ("analytics", view), {"school": suffix[1:]}, commit=True)
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename={view}{suffix}.xlsx"})


def _args() -> tuple[str | None, School | None]:
    """The ``view`` and ``school`` asked for; 404 for an unknown one (or a school out of the
    caller's scope: the same answer)."""
    view = request.args.get("view", "").strip() or None
    if view is not None and view not in VIEWS:
        abort(404, description=_("Неизвестный раздел %(view)s: %(views)s", view=repr(view),
                                 views=", ".join(VIEWS)))
    code = request.args.get("school", "").strip()
    school = db.session.scalars(select(School).where(
        School.code == code, school_clause(current_scope()))).first() if code else None
    if code and school is None:
        abort(404, description=_("Нет образовательной организации с кодом %(code)s",
                                 code=repr(code)))
    return view, school


def _scored(diagnostic: Diagnostic) -> bool:
    """Whether the deficits stage stored levels for the diagnostic."""
    return db.session.scalars(select(Deficit.id).where(
        Deficit.diagnostic_id == diagnostic.id).limit(1)).first() is not None


def _diagnostic_text(diagnostic: Diagnostic, lang: str = "ru") -> str:
    kind = DIAGNOSTIC_KIND_RU.get(diagnostic.kind, diagnostic.kind)
    if lang == "en":
        return _("«%(name)s» (%(kind)s)", name=diagnostic.name, kind=_(kind))
    return f"«{diagnostic.name}» ({kind})"


def _share(deficit: int, assessed: int) -> float | None:
    return deficit / assessed if assessed else None


def _competencies(codes: set[str]) -> list[tuple[str, str]]:
    """(idnumber, name) of ``codes``, sorted by idnumber."""
    names = dict(db.session.execute(select(Competency.idnumber, Competency.name)).all())
    return [(code, names.get(code, "")) for code in sorted(codes)]


def by_type(diagnostic: Diagnostic, _school: School | None, scope: Scope,
            lang: str = "ru") -> Section:
    """Deficit share per school type and competency, teachers assessed, the municipality."""
    rows: list[Record] = analytics.by_school_type(diagnostic, scope)
    codes = {str(r["competency"]) for r in rows}
    types = []
    for kind in SCHOOL_TYPES:
        mine = [r for r in rows if r["school_type"] == kind]
        types.append({"type": kind, "label": KIND_RU.get(kind, kind),
                      "teachers": max((int(r["assessed"]) for r in mine), default=0),
                      "shares": {r["competency"]: r["deficit_share"] for r in mine}})
    # Every scored teacher counts under exactly one type: the sums are the municipality.
    total = {c: [sum(int(r[k]) for r in rows if r["competency"] == c)
                 for k in ("deficit", "assessed")] for c in codes}
    municipality = {"teachers": max((a for _, a in total.values()), default=0),
                    "shares": {c: _share(d, a) for c, (d, a) in total.items()}}
    return {"competencies": _competencies(codes), "rows": types, "municipality": municipality}


def ranking(diagnostic: Diagnostic, _school: School | None, scope: Scope,
            lang: str = "ru") -> Section:
    """Schools by need (analytics.ranking) with name, type and the worst competency."""
    schools = {s.code: s for s in db.session.scalars(select(School))}
    mapped: list[Record] = deficit_map(diagnostic, scope).schools
    shares = {s["code"]: s["shares"] for s in mapped}
    out = []
    for row in analytics.ranking(diagnostic, scope):
        code = str(row["school_code"])
        school = schools.get(code)
        known = [(c, v) for c, v in shares.get(code, {}).items() if v is not None]
        worst = min(known, key=lambda cv: (-cv[1], cv[0]), default=None)
        out.append({"rank": row["rank"], "code": code, "name": school.name if school else code,
                    "kind": school.kind if school else "unknown",
                    "teachers": row["teachers_assessed"], "need": row["need_score"],
                    "worst": worst})
    return {"rows": out}


def over_time(_diagnostic: Diagnostic, school: School | None, scope: Scope,
              lang: str = "ru") -> Section:
    """Per diagnostic (oldest first): the municipality's shares, and each school's (the
    diagnostics' labels in ``lang``)."""
    rows: list[Record] = analytics.over_time(scope)
    names = {s.code: s.name for s in db.session.scalars(select(School))}
    labels = {f"{d.kind}: {d.name}": _diagnostic_text(d, lang)
              for d in db.session.scalars(select(Diagnostic))}
    periods = list(dict.fromkeys(str(r["period"]) for r in rows))
    codes = sorted({str(r["competency"]) for r in rows})

    def line(part: list[dict[str, Any]], period: str) -> dict[str, Any]:
        mine = [r for r in part if r["period"] == period]
        sums = {c: [sum(int(r[k]) for r in mine if r["competency"] == c)
                    for k in ("deficit", "assessed")] for c in codes}
        return {"period": labels.get(period, period),
                "teachers": max((a for _, a in sums.values()), default=0),
                "shares": {c: _share(d, a) for c, (d, a) in sums.items()}}

    schools = []
    by_code: dict[Any, list[Record]] = {}  # in the rows' order, each school's rows once
    for row in rows:
        by_code.setdefault(row["school_code"], []).append(row)
    for code, part in by_code.items():
        if school is not None and code != school.code:
            continue
        schools.append({"code": code, "name": names.get(code, code) if code else
                        (_(NO_SCHOOL) if lang == "en" else NO_SCHOOL),
                        "periods": [line(part, p) for p in periods]})
    return {"competencies": _competencies(set(codes)),
            "municipality": [line(rows, p) for p in periods], "schools": schools,
            "diagnostics": [labels.get(p, p) for p in periods]}


def risk_group(diagnostic: Diagnostic, school: School | None, scope: Scope,
               lang: str = "ru") -> Section:
    """The risk group (analytics.risk): teachers, their groups with deficits, the reason
    (``lang="en"``: said again in English from the same groups and rule)."""
    settings = settings_of(current_app)
    try:
        document = effective_document(settings)
        rows: list[Record] = analytics.risk(diagnostic, settings, scope=scope)
        rule = risk_overview(document, newest_revision())
        labels = group_names(document)
        group_of = dict(competency_groups(settings)[["competency", "group"]].itertuples(
            index=False))
    except SettingsError as err:
        return {"error": str(err), "rows": []}
    assessed = db.session.scalar(select(func.count(func.distinct(Deficit.teacher_id))).where(
        Deficit.diagnostic_id == diagnostic.id, Deficit.teacher_id.in_(in_scope(scope)))) or 0
    with_deficit = select(Deficit.teacher_id).where(Deficit.diagnostic_id == diagnostic.id,
                                                    Deficit.level == LEVEL_DEFICIT,
                                                    Deficit.teacher_id.in_(in_scope(scope)))
    deficits: dict[int, list[str]] = {}
    for teacher_id, code in db.session.execute(
            with_deficit.add_columns(Competency.idnumber)
            .join(Competency, Competency.id == Deficit.competency_id)
            .order_by(Competency.idnumber)):
        deficits.setdefault(teacher_id, []).append(code)
    people = {t.id: t for t in db.session.scalars(select(Teacher).where(
        Teacher.id.in_(with_deficit.distinct())))}
    out: list[Record] = []
    for row in rows:
        person = people.get(int(row["user_id"]))
        if person is None or (school is not None and person.school_id != school.id):
            continue
        groups = dict.fromkeys(str(group_of.get(c, "") or "") for c in deficits[person.id])
        out.append({"moodle_user_id": person.moodle_user_id, "name": person.full_name,
                    "school": person.school, "competencies": deficits[person.id],
                    "groups": [labels.get(g, g) for g in sorted(groups)],
                    "reason": _reason_en(sorted(groups), rule, labels) if lang == "en"
                    else row["reason"]})
    out.sort(key=lambda r: (r["school"] is None, r["school"].name if r["school"] else "",
                            r["name"]))
    return {"rule": rule["describe"], "source": rule["source"],
            "unknown_groups": rule["unknown_groups"], "count": len(rows), "assessed": assessed,
            "share": _share(len(rows), assessed), "rows": out, "error": None}


def _reason_en(groups: list[str], rule: dict[str, Any], labels: dict[str, str]) -> str:
    """Why a teacher is in the risk group (``deficits.risk``'s reason, which is Russian) in
    the catalog's English: the groups with deficits against the rule's threshold, and the
    groups that always put a teacher in the risk group."""
    def name(group: str) -> str:
        return f"«{labels.get(group) or group or _('без группы')}»"

    parts = []
    count, need = len(groups), int(rule["min_groups"])
    if count >= need:
        parts.append(ngettext(
            "дефициты в %(num)s группе компетенций (%(names)s), порог %(need)s",
            "дефициты в %(num)s группах компетенций (%(names)s), порог %(need)s", count,
            names=", ".join(name(g) for g in groups), need=need))
    always = [g for g in rule["groups"] if g in groups]
    if always:
        parts.append(ngettext("дефицит в группе %(names)s: всегда группа риска",
                              "дефицит в группах %(names)s: всегда группа риска",
                              len(always), names=", ".join(name(g) for g in always)))
    return "; ".join(parts)


BUILDERS: dict[str, Callable[..., Section]] = {
    "by-type": by_type, "ranking": ranking, "over-time": over_time, "risk-group": risk_group}

Table = tuple[list[str], list[Any], list[list[Any]]]


def _share_rows(lines: list[dict[str, Any]], codes: list[str], first: str) -> list[list[Any]]:
    return [[line[first], line["teachers"], *(line["shares"].get(c) for c in codes)]
            for line in lines]


def _by_type_table(section: Section) -> Table:
    codes = [c for c, _ in section["competencies"]]
    lines = [*section["rows"], {"label": "Муниципалитет", **section["municipality"]}]
    return ([], ["Тип школы", "Педагогов", *codes], _share_rows(lines, codes, "label"))


def _ranking_table(section: Section) -> Table:
    return ([], ["Место", "Код", "Образовательная организация", "Тип", "Педагогов",
                 "Средняя доля дефицитов", "Худшая компетенция", "Доля по ней"],
            [[r["rank"], r["code"], r["name"], KIND_RU.get(r["kind"], r["kind"]), r["teachers"],
              r["need"], *(r["worst"] or (None, None))] for r in section["rows"]])


def _over_time_table(section: Section) -> Table:
    codes = [c for c, _ in section["competencies"]]
    rows = _share_rows(section["municipality"], codes, "period")
    for school in section["schools"]:
        rows += [[f"{school['name']}: {line[0]}", *line[1:]]
                 for line in _share_rows(school["periods"], codes, "period")]
    return ([], ["Диагностика", "Педагогов", *codes], rows)


def _risk_table(section: Section) -> Table:
    if section["error"]:
        return [section["error"]], [], []
    notes = [f"{section['rule']} (источник: {section['source']})",
             f"В группе риска: {section['count']} из {section['assessed']}"]
    return (notes, ["Педагог", "Moodle id", "Образовательная организация",
                    "Группы с дефицитами", "Компетенции с дефицитом", "Причина"],
            [[r["name"], r["moodle_user_id"], r["school"].name if r["school"] else "",
              ", ".join(r["groups"]), ", ".join(r["competencies"]), r["reason"]]
             for r in section["rows"]])


TABLES: dict[str, Callable[[Section], Table]] = {
    "by-type": _by_type_table, "ranking": _ranking_table, "over-time": _over_time_table,
    "risk-group": _risk_table}
