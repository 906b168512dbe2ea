"""Capacity planning from the stored rows (issue 14): what the next period will ask of the
resource centres and of course providers, within the caller's scope.

Open deficits are the levels of the latest diagnostic (``deficit``) of the active teachers in
scope; partner schools come from the network's partnerships (those in force on the period's
first day); the catalogue's supply is every session that ends in the period (or has no dates).
The rates come from the last finished period (``app.analyse.outcomes.evidence_period``): its
entry diagnostic's routes and entry deficits; each can be overridden. The numbers are
``deficits.capacity``'s.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.accounts.roles import Scope, teacher_clause
from app.analyse.outcomes import evidence_period, levels_frame
from app.extensions import db
from app.i18n import N_
from app.models import (
    Competency,
    Diagnostic,
    Offer,
    OfferCompetency,
    OfferSession,
    Partnership,
    Route,
    RouteItem,
    School,
    Teacher,
)
from app.models.route import APPROVED, ENROLLED
from app.reports.maps import current_diagnostic
from app.reports.xlsx import Sheet, tables_workbook
from deficits import capacity as cap

# Russian labels (the XLSX keeps them; the page shows them through the catalog)
KIND_RU = {cap.INTERNSHIP: N_("Стажировка"), cap.MENTORING: N_("Наставничество"),
           cap.COURSE: N_("КПК (Moodle)"), cap.EXTERNAL: N_("КПК (внешний)"),
           cap.EVENT: N_("Методическое мероприятие")}
SOURCE_RU = {cap.DATA: N_("по данным прошлого периода"), cap.OVERRIDE: N_("задано вручную"),
             cap.NO_DATA: N_("нет данных: принято 100 %")}
RATE_NAMES = ("proposed", "accepted", "completed")
PERIOD_DAYS = 365  # the default period: a year from today


@dataclass(frozen=True)
class CapacityReport:
    """The forecast and everything it assumed."""

    diagnostic: Diagnostic | None
    period: tuple[dt.date, dt.date]
    history: tuple[Diagnostic, Diagnostic] | None
    rates: dict[str, cap.Rate]
    centres: list[dict[str, Any]] = field(default_factory=list)
    subjects: list[dict[str, Any]] = field(default_factory=list)
    courses: list[dict[str, Any]] = field(default_factory=list)
    unpartnered: list[dict[str, Any]] = field(default_factory=list)
    overloaded: list[dict[str, Any]] = field(default_factory=list)
    back_test: list[dict[str, Any]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # competency → name
    schools: dict[str, str] = field(default_factory=dict)  # school code → name

    def as_dict(self) -> dict[str, object]:
        return {
            "diagnostic": self.diagnostic.id if self.diagnostic else None,
            "period": {"from": self.period[0].isoformat(), "to": self.period[1].isoformat()},
            "history": None if self.history is None else {
                "entry_diagnostic": self.history[0].id, "final_diagnostic": self.history[1].id},
            "rates": [{"kind": r.kind, "proposed": r.proposed, "accepted": r.accepted,
                       "completed": r.completed, "source": r.source, "deficits": r.deficits,
                       "proposals": r.proposals, "acceptances": r.acceptances,
                       "completions": r.completions} for r in self.rates.values()],
            "centres": self.centres, "subjects": self.subjects, "courses": self.courses,
            "unpartnered": self.unpartnered, "overloaded": self.overloaded,
            "back_test": self.back_test}


def parse_overrides(pairs: dict[str, str]) -> dict[str, dict[str, float]]:
    """``{"internship.accepted": "0.7", …}`` → ``{"internship": {"accepted": 0.7}}``.

    :raise ValueError: an unknown kind or rate, or a value that is not a share 0..1 (said in
        the reader's language during a request: the page, the API; Russian otherwise).
    """
    out: dict[str, dict[str, float]] = {}
    for key, raw in pairs.items():
        kind, _dot, name = key.partition(".")
        if kind not in cap.KINDS or name not in RATE_NAMES:
            raise ValueError(_("неизвестная доля %(key)s: укажите <вид>.<доля>, вид — один "
                               "из %(kinds)s, доля — одна из %(rates)s", key=repr(key),
                               kinds=", ".join(cap.KINDS), rates=", ".join(RATE_NAMES)))
        text = raw.strip().replace(",", ".").rstrip("%").strip()
        try:
            value = float(text) / (100.0 if raw.strip().endswith("%") else 1.0)
        except ValueError:
            raise ValueError(_("%(key)s: %(raw)s — не число; укажите долю от 0 до 1 или "
                               "проценты (0,7 или 70 %%)", key=key, raw=repr(raw))) from None
        if not 0.0 <= value <= 1.0 or math.isnan(value):
            raise ValueError(_("%(key)s: %(raw)s — вне диапазона; доля от 0 до 1 или "
                               "0–100 %%", key=key, raw=repr(raw)))
        out.setdefault(kind, {})[name] = value
    return out


def capacity_report(scope: Scope, *, start: dt.date | None = None, end: dt.date | None = None,
                    overrides: dict[str, dict[str, float]] | None = None) -> CapacityReport:
    """The next period's forecast for the teachers and schools in ``scope``.

    :raise ValueError: a period that ends before it starts (in the reader's language during
        a request).
    """
    start = start or dt.date.today()
    end = end or start + dt.timedelta(days=PERIOD_DAYS)
    if end < start:
        raise ValueError(_("период заканчивается (%(end)s) раньше, чем начинается "
                           "(%(start)s): поменяйте даты местами", end=end.strftime("%d.%m.%Y"),
                           start=start.strftime("%d.%m.%Y")))
    diagnostic = current_diagnostic()
    history = evidence_period()
    partners = _partners(start)
    partnered = set(partners["school_code"])
    if history is not None:
        past_needs = _needs(history[0], scope)
        past_items = _history(history[0], scope)
    else:
        past_needs = pd.DataFrame(columns=cap.NEED_COLUMNS)
        past_items = pd.DataFrame(columns=cap.HISTORY_COLUMNS)
    rates = cap.rates_of(past_items, past_needs, partnered)
    for kind, given in (overrides or {}).items():
        rates[kind] = rates[kind].override(**given)
    names = dict(db.session.execute(select(Competency.idnumber, Competency.name)).all())
    schools = dict(db.session.execute(select(School.code, School.name)).all())
    report = CapacityReport(diagnostic, (start, end), history, rates, names=names,
                            schools=schools)
    if diagnostic is None:
        return report
    needs = _needs(diagnostic, scope)
    supply = _supply(start, end)
    centres = cap.centre_forecast(needs, partners, supply, rates)
    if not scope.region:  # only centres serving this scope's schools, or hosted in it
        mine = set(cap.centre_demand(needs, partners, rates)["centre"]) | _scope_centres(scope)
        centres = centres[centres["centre"].isin(mine)]
    report.centres.extend(_records(centres))
    report.subjects.extend(_records(cap.centre_demand(
        needs, partners, rates, ("centre", "competency", "subject"))))
    report.courses.extend(_records(cap.course_forecast(needs, supply, rates)))
    report.unpartnered.extend(_records(cap.unpartnered(needs, partners)))
    report.overloaded.extend(_records(_with_held(cap.overloaded(centres))))
    if history is not None:
        report.back_test.extend(_records(cap.back_test(past_items, past_needs, partners,
                                                       rates)))
    return report


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain rows: numbers rounded to one decimal (counts stay whole), inf as None."""
    out = []
    for row in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, float):
                clean[key] = None if math.isinf(value) or math.isnan(value) else \
                    round(value, 1)
            elif hasattr(value, "item"):  # numpy scalars
                clean[key] = value.item()
            else:
                clean[key] = value
        out.append(clean)
    return out


def _needs(diagnostic: Diagnostic, scope: Scope) -> pd.DataFrame:
    """Open deficits (NEED_COLUMNS) of the diagnostic's active teachers in scope; the subject
    is the teacher's first listed subject ("" without one)."""
    levels, teachers = levels_frame(diagnostic, scope=scope)
    deficits = levels[levels["level"] == "deficit"][["user_id", "competency"]]
    query = select(Teacher.id, Teacher.subjects, Teacher.subjects_override).where(
        Teacher.active.is_(True))
    if not scope.region:
        query = query.where(teacher_clause(scope))
    subjects = {teacher_id: _first_subject(profile if override is None else override)
                for teacher_id, profile, override in db.session.connection().execute(query)}
    out = deficits.merge(teachers, on="user_id", how="inner")
    out["subject"] = out["user_id"].map(subjects).fillna("")
    return out[cap.NEED_COLUMNS].reset_index(drop=True)


def _first_subject(text: str | None) -> str:
    """The first subject of a profile's list (as ``Teacher.subject_list`` splits it)."""
    for part in (text or "").replace(";", ",").split(","):
        if part.strip():
            return part.strip()
    return ""


def _partners(day: dt.date) -> pd.DataFrame:
    """Centre code → partner school code, of the partnerships in force on ``day``."""
    centre, school = School.__table__.alias("centre"), School.__table__.alias("partner")
    rows = db.session.execute(
        select(centre.c.code, school.c.code)
        .select_from(Partnership.__table__)
        .join(centre, centre.c.id == Partnership.resource_centre_id)
        .join(school, school.c.id == Partnership.school_id)
        .where(or_(Partnership.starts_on.is_(None), Partnership.starts_on <= day),
               or_(Partnership.ends_on.is_(None), Partnership.ends_on >= day))).all()
    return pd.DataFrame(rows, columns=cap.PARTNER_COLUMNS).drop_duplicates()


def _supply(start: dt.date, end: dt.date) -> pd.DataFrame:
    """SUPPLY_COLUMNS: per offer session ending in [start, end] (or undated) and competency:
    the seats (mentoring: the offer's capacity) and hours, with the host centre's code."""
    rows: list[tuple[Any, ...]] = []
    hosts = dict(db.session.execute(select(School.id, School.code)).all())
    competencies: dict[int, list[str]] = {}
    for offer_id, idnumber in db.session.execute(
            select(OfferCompetency.offer_id, Competency.idnumber)
            .join(Competency, Competency.id == OfferCompetency.competency_id)):
        competencies.setdefault(offer_id, []).append(idnumber)
    runs: dict[int, list[tuple[Any, ...]]] = {}
    for offer_id, *run in db.session.execute(
            select(OfferSession.offer_id, OfferSession.starts_on, OfferSession.ends_on,
                   OfferSession.seats, OfferSession.hours)):
        runs.setdefault(offer_id, []).append(tuple(run))
    for offer_id, key, kind, host, starts_on, ends_on, seats_of, hours_of, capacity in \
            db.session.execute(select(Offer.id, Offer.key, Offer.kind, Offer.host_school_id,
                                      Offer.starts_on, Offer.ends_on, Offer.seats,
                                      Offer.hours, Offer.capacity).order_by(Offer.key)):
        centre = hosts.get(host) if host else None
        for starts, ends, seats, hours in runs.get(offer_id) or [
                (starts_on, ends_on, seats_of, hours_of)]:
            last = ends or starts
            if last is not None and not start <= last <= end:
                continue
            if kind == cap.MENTORING:
                seats = capacity
            for competency in competencies.get(offer_id, ()):
                rows.append((kind, centre, competency, key,
                             float("nan") if seats is None else float(seats),
                             float(hours or hours_of or 0)))
    return pd.DataFrame(rows, columns=cap.SUPPLY_COLUMNS)


def _history(entry: Diagnostic, scope: Scope) -> pd.DataFrame:
    """HISTORY_COLUMNS: every item of the entry diagnostic's routes (any status) of teachers
    in scope, one row per competency it covers."""
    query = (select(Offer.kind, Route.teacher_id, RouteItem.competencies, RouteItem.status,
                    School.code)
             .join(RouteItem, RouteItem.route_id == Route.id)
             .join(Offer, Offer.id == RouteItem.offer_id)
             .join(Teacher, Teacher.id == Route.teacher_id)
             .outerjoin(School, School.id == Offer.host_school_id)
             .where(Route.diagnostic_id == entry.id))
    if not scope.region:
        query = query.where(teacher_clause(scope))
    rows = [(kind, teacher, competency, status, code or "")
            for kind, teacher, competencies, status, code in db.session.execute(query)
            for competency in competencies or ()]
    return pd.DataFrame(rows, columns=cap.HISTORY_COLUMNS)


def _scope_centres(scope: Scope) -> set[str]:
    """Codes of the resource centres in the scope's municipalities."""
    return set(db.session.scalars(select(School.code).where(
        School.resource_centre.is_(True),
        School.municipality_id.in_(scope.municipality_ids or ()))))


def _with_held(over: pd.DataFrame) -> pd.DataFrame:
    """The overloaded centres with the items their offers hold now (approved or enrolled)."""
    if over.empty:
        return over.assign(held=pd.Series(dtype="int64"))
    held = dict(db.session.execute(
        select(School.code, func.count(RouteItem.id))
        .join(Offer, Offer.host_school_id == School.id)
        .join(RouteItem, RouteItem.offer_id == Offer.id)
        .where(School.code.in_(list(over["centre"])),
               RouteItem.status.in_((APPROVED, ENROLLED)))
        .group_by(School.code)).all())
    return over.assign(held=[int(held.get(c, 0)) for c in over["centre"]])


def _number(value: Any) -> Any:
    return "без ограничения" if value is None else value


def capacity_workbook(report: CapacityReport) -> bytes:
    """The report as an XLSX file: assumptions, centres, subjects, courses, schools without a
    centre, overloaded centres and last period's forecast against what happened."""
    start, end = report.period
    names, schools = report.names, report.schools
    notes = [f"Период: {start:%d.%m.%Y}–{end:%d.%m.%Y}. Открытые дефициты: "
             f"{report.diagnostic.name if report.diagnostic else '—'}.",
             "Прогноз = дефициты × доля предложенных × доля принятых; завершат = "
             "принятые × доля завершивших."]
    rates = Sheet("Допущения", notes, ["Вид", "Предложено (доля дефицитов)", "Принято",
                                       "Завершено", "Источник", "Дефицитов", "Предложений",
                                       "Принято (шт.)", "Завершено (шт.)"],
                  [[KIND_RU[r.kind], r.proposed, r.accepted, r.completed, SOURCE_RU[r.source],
                    r.deficits, r.proposals, r.acceptances, r.completions]
                   for r in report.rates.values()])
    centres = Sheet("Ресурсные центры", notes, [
        "Ресурсный центр", "Компетенция", "Педагогов", "Дефицитов", "Стажёров (прогноз)",
        "Мест стажировок", "Нехватка (+) / запас (−) мест", "Наставляемых (прогноз)",
        "Часов наставничества нужно", "Часов наставников есть", "Нехватка (+) / запас (−) часов",
        "Завершат (прогноз)"],
        [[f"{schools.get(r['centre'], '')} ({r['centre']})",
          f"{r['competency']} {names.get(r['competency'], '')}".strip(), r["teachers"],
          r["deficits"], r["interns"], r["intern_seats"], r["intern_gap"], r["mentees"],
          r["mentor_hours"], r["mentor_hours_offered"], r["mentor_gap"], r["completions"]]
         for r in report.centres], shares=frozenset())
    subjects = Sheet("По предметам", notes, ["Ресурсный центр", "Компетенция", "Предмет",
                                            "Дефицитов", "Стажёров (прогноз)",
                                            "Наставляемых (прогноз)"],
                     [[r["centre"], r["competency"], r["subject"] or "—", r["deficits"],
                       r["interns"], r["mentees"]] for r in report.subjects],
                     shares=frozenset())
    courses = Sheet("Курсы", notes, ["Компетенция", "Дефицитов", "Мест КПК Moodle (прогноз)",
                                     "Мест внешних КПК (прогноз)", "Мест в каталоге",
                                     "Заказать мест", "Завершат (прогноз)"],
                    [[f"{r['competency']} {names.get(r['competency'], '')}".strip(),
                      r["deficits"], r["moodle_places"], r["external_places"],
                      _number(r["external_seats"]), r["to_order"], r["completions"]]
                     for r in report.courses], shares=frozenset())
    alone = Sheet("Без ресурсного центра", [], ["Школа", "Педагогов", "Дефицитов"],
                  [[f"{schools.get(r['school_code'], '')} ({r['school_code']})",
                    r["teachers"], r["deficits"]] for r in report.unpartnered],
                  shares=frozenset())
    over = Sheet("Перегрузка", [], ["Ресурсный центр", "Стажёров (прогноз)", "Мест",
                                   "Часов наставничества нужно", "Часов есть",
                                   "Занято сейчас"],
                 [[r["centre"], r["interns"], r["intern_seats"], r["mentor_hours"],
                   r["mentor_hours_offered"], r["held"]] for r in report.overloaded],
                 shares=frozenset())
    tested = Sheet("Прогноз и факт", ["Прогноз прошлого периода по его входным дефицитам с "
                                      "долями в силе; факт — принятые и завершённые позиции."],
                   ["Вид", "Ресурсный центр", "Прогноз: примут", "Факт: приняли",
                    "Прогноз: завершат", "Факт: завершили"],
                   [[KIND_RU[r["kind"]], r["centre"] or "—", r["forecast"], r["accepted"],
                     r["completed_forecast"], r["completed"]] for r in report.back_test],
                   shares=frozenset())
    return tables_workbook([rates, centres, subjects, courses, alone, over, tested])
