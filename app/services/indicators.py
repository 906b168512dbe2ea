"""The programme's indicators for a municipality and period, from the stored data."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Competency,
    CourseCompletion,
    Deficit,
    Diagnostic,
    Municipality,
    Offer,
    Partnership,
    Route,
    RouteItem,
    School,
    SchoolIdentification,
    Teacher,
)
from app.services.analyse import competency_groups, thresholds_of
from app.services.policy import risk_rule
from app.settings import Settings, SettingsError
from deficits.indicators import Indicator, Period, compute_indicators
from deficits.policy import ThresholdPolicy
from deficits.risk import risk_group
from deficits.xlsx import indicators_xlsx


def academic_year(today: dt.date | None = None) -> Period:
    """The school year holding ``today`` (1 September – 31 August)."""
    today = today or dt.date.today()
    start = dt.date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    return Period(start, dt.date(start.year + 1, 8, 31))


def period_from(start: str | None, end: str | None) -> Period:
    """A period from ISO dates; the current school year fills what is missing.

    :raise SettingsError: a date is not YYYY-MM-DD.
    """
    year = academic_year()
    try:
        return Period(dt.date.fromisoformat(start) if start else year.start,
                      dt.date.fromisoformat(end) if end else year.end)
    except ValueError as err:
        raise SettingsError(f"period: {err}; write dates as YYYY-MM-DD") from err


def indicators(settings: Settings, period: Period, municipality: str | None = None
               ) -> list[Indicator]:
    """Every indicator with its numerator and denominator.

    :raise SettingsError: the municipality is unknown.
    """
    schools = _schools(municipality)
    codes = set(schools["code"])
    teachers = pd.DataFrame(db.session.execute(
        select(Teacher.id, School.code).join(School, School.id == Teacher.school_id)
        .where(Teacher.active.is_(True))).all(), columns=["user_id", "school_code"])
    teachers = teachers[teachers["school_code"].isin(codes)]
    entry, final = _levels("entry"), _levels("final")
    groups = competency_groups(settings)[["competency", "group"]]
    risky = risk_group(entry, groups, risk_rule(settings)) if not entry.empty else pd.DataFrame(
        columns=["user_id", "in_risk_group"])
    return compute_indicators(
        schools, teachers, entry, final, risky[risky["in_risk_group"]][["user_id"]],
        _completions(), _partnerships(), _routes(), period)


def indicators_workbook(settings: Settings, period: Period, municipality: str | None) -> bytes:
    """The indicators as an XLSX file, with the thresholds that produced the levels."""
    found = indicators(settings, period, municipality)
    policy = ThresholdPolicy(default=thresholds_of(settings))
    return indicators_xlsx(found, municipality=municipality or "Все муниципалитеты",
                           period=str(period), thresholds_text=policy.describe())


def _schools(municipality: str | None) -> pd.DataFrame:
    query = select(School.code, School.low_results, School.adverse_context,
                   School.resource_centre, SchoolIdentification.resource_centre_candidate)\
        .outerjoin(SchoolIdentification, SchoolIdentification.school_code == School.code)
    if municipality:
        found = db.session.scalars(select(Municipality).filter_by(name=municipality)).first()
        if found is None:
            raise SettingsError(f"no municipality named {municipality!r}; known: " + ", ".join(
                db.session.scalars(select(Municipality.name).order_by(Municipality.name))))
        query = query.where(School.municipality_id == found.id)
    frame = pd.DataFrame(db.session.execute(query).all(), columns=[
        "code", "low_results", "adverse_context", "resource_centre", "stably_high"])
    frame["stably_high"] = frame["stably_high"].fillna(False).astype(bool)
    return frame


def _levels(kind: str) -> pd.DataFrame:
    diagnostic = db.session.scalars(select(Diagnostic).where(Diagnostic.kind == kind)
                                    .order_by(Diagnostic.id.desc())).first()
    rows = [] if diagnostic is None else db.session.execute(
        select(Deficit.teacher_id, Competency.idnumber, Deficit.score, Deficit.level)
        .join(Competency, Competency.id == Deficit.competency_id)
        .where(Deficit.diagnostic_id == diagnostic.id)).all()
    return pd.DataFrame(rows, columns=["user_id", "competency", "score", "level"])


def _completions() -> pd.DataFrame:
    courses = {c for c in db.session.scalars(select(Offer.moodle_course_id)) if c}
    rows = db.session.execute(
        select(CourseCompletion.teacher_id, CourseCompletion.completed,
               CourseCompletion.time_completed)
        .where(CourseCompletion.moodle_course_id.in_(courses))).all() if courses else []
    return pd.DataFrame(rows, columns=["user_id", "completed", "time_completed"])


def _partnerships() -> pd.DataFrame:
    codes = dict(db.session.execute(select(School.id, School.code)).all())
    rows = [(codes[p.resource_centre_id], codes[p.school_id], p.starts_on, p.ends_on)
            for p in db.session.scalars(select(Partnership))]
    return pd.DataFrame(rows, columns=["resource_centre_code", "school_code", "starts_on",
                                       "ends_on"])


def _routes() -> pd.DataFrame:
    rows = db.session.execute(select(Route.teacher_id, RouteItem.status)
                              .join(RouteItem, RouteItem.route_id == Route.id)).all()
    return pd.DataFrame(rows, columns=["user_id", "status"])
