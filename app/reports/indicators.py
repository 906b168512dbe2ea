"""The programme's indicators per municipality and period, from the stored data.

Which stored time dates each event (see ``deficits.indicators`` and ``indicator_texts``):
a diagnostic attempt by ``Attempt.time_finish``; a teacher's levels on a diagnostic by the
finish time of the attempt they rest on (``Deficit.moodle_attempt_id``; for an average over
attempts, the teacher's latest finished attempt there); a completion by
``CourseCompletion.time_completed``; a partnership by ``starts_on``/``ends_on``; a route item
by ``Route.created_at`` and ``RouteItem.updated_at`` (no item has a creation time of its own).
School flags carry no date at all: identification counts as it stands now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select

from app.accounts.roles import Scope, school_clause
from app.analyse.levels import competency_groups, thresholds_of
from app.analyse.policy import risk_rule
from app.common.inputs import parse_day
from app.extensions import db
from app.models import (
    Attempt,
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
    SchoolStatus,
    Teacher,
)
from app.reports.indicator_texts import TEXTS, labelled
from app.reports.maps import policy_lines
from app.reports.xlsx import indicators_xlsx
from app.settings import Settings, SettingsError
from deficits.indicators import (
    MOSCOW,
    REGION,
    AreaIndicators,
    Indicator,
    Period,
    Sources,
    by_municipality,
    comparable,
    compute_indicators,
)
from deficits.policy import ThresholdPolicy

FINISHED = "finished"
# The first block for a caller who sees some municipalities only: their total, not the region's.
IN_SCOPE = "Все муниципалитеты в вашем доступе"


def academic_year(today: dt.date | None = None) -> Period:
    """The school year holding ``today`` (default: today in Moscow), 1 September – 31 August."""
    return Period.school_year(today or dt.datetime.now(MOSCOW).date())


def period_from(start: str | None, end: str | None) -> Period:
    """A period from ISO dates; the current school year fills what is missing.

    :raise SettingsError: a date is not YYYY-MM-DD, not in the calendar or out of range
        (``app.common.inputs.parse_day``), or the start is after the end.
    """
    year = academic_year()
    try:
        return Period(parse_day(start, "from") if start else year.start,
                      parse_day(end, "to") if end else year.end)
    except ValueError as err:
        raise SettingsError(f"period: {err}") from err


def compare_period(start: str | None, end: str | None) -> Period | None:
    """The period to compare with, or None when neither date is given.

    :raise SettingsError: only one date is given, or as ``period_from``.
    """
    if not start and not end:
        return None
    if not (start and end):
        raise SettingsError("comparison period: give both dates (compare_from and compare_to)")
    return period_from(start, end)


def previous_year(period: Period) -> Period:
    """The same dates one year earlier (29 February becomes 28 February)."""
    def back(day: dt.date) -> dt.date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:
            return day.replace(year=day.year - 1, day=28)
    return Period(back(period.start), back(period.end))


@dataclass(frozen=True)
class IndicatorReport:
    """The indicators of the region and each municipality (or of one), for one or two periods."""

    scope: str
    period: Period
    blocks: list[AreaIndicators]
    compare: Period | None = None
    compared: list[AreaIndicators] = field(default_factory=list)

    def rows(self) -> list[tuple[AreaIndicators, AreaIndicators | None]]:
        """Each area of the period beside the same area of the compared period."""
        return comparable(self.blocks, self.compared)

    def as_dict(self) -> dict[str, Any]:
        """As the CLI prints it: the first area's indicators, then the municipalities."""
        def part(period: Period, blocks: list[AreaIndicators]) -> dict[str, Any]:
            return {"period": str(period), "indicators": [_plain(i) for i in blocks[0].indicators],
                    "municipalities": [{"municipality": b.area,
                                        "indicators": [_plain(i) for i in b.indicators]}
                                       for b in blocks[1:]]}
        out = {"municipality": None if self.scope == REGION else self.scope,
               **part(self.period, self.blocks)}
        if self.compare is not None:
            out["compare"] = part(self.compare, self.compared)
        out["definitions"] = {code: {"ru": t[2], "en": t[3]} for code, t in TEXTS.items()}
        return out


def indicator_report(settings: Settings, period: Period, municipality: str | None = None,
                     compare: Period | None = None, scope: Scope | None = None
                     ) -> IndicatorReport:
    """Every indicator with its numerator and denominator, for the region and each municipality.

    With ``municipality`` only that municipality's block is given. With ``scope`` only the
    schools in it (and so their teachers) count: the first block is then the scope's total.

    :raise SettingsError: the municipality is unknown (or out of ``scope``).
    """
    sources = _sources(settings, municipality, scope)
    total = REGION if scope is None or scope.region else IN_SCOPE

    def blocks(when: Period) -> list[AreaIndicators]:
        if municipality:  # one block, even for a municipality without schools
            return labelled([AreaIndicators(municipality, when,
                                            tuple(compute_indicators(sources, when)))])
        return labelled(by_municipality(sources, when, region=total))
    return IndicatorReport(municipality or total, period, blocks(period), compare,
                           [] if compare is None else blocks(compare))


def report_workbook(settings: Settings, report: IndicatorReport) -> bytes:
    """The report as an XLSX file, with the thresholds that produced the levels."""
    return indicators_xlsx([*report.blocks, *report.compared], scope=report.scope,
                           thresholds_text=levels_policy() or
                           ThresholdPolicy(default=thresholds_of(settings)).describe())


def levels_policy() -> list[str]:
    """Per stored diagnostic, how its levels were produced (thresholds and attempts): the
    risk group and the score change rest on them."""
    return [f"«{d.name}»: " + "; ".join(policy_lines(d))
            for d in db.session.scalars(select(Diagnostic).order_by(Diagnostic.id))]


def municipality_names(scope: Scope | None = None) -> list[str]:
    """Every municipality's name (of those in ``scope``), in order."""
    query = select(Municipality.name).order_by(Municipality.name)
    if scope is not None and not scope.region:
        query = query.where(Municipality.id.in_(scope.municipality_ids))
    return list(db.session.scalars(query))


def _plain(indicator: Indicator) -> dict[str, Any]:
    return {"code": indicator.code, "title_ru": TEXTS[indicator.code][0],
            "title_en": TEXTS[indicator.code][1], "numerator": indicator.numerator,
            "denominator": indicator.denominator, "value": indicator.value}


def _sources(settings: Settings, municipality: str | None, scope: Scope | None = None
             ) -> Sources:
    schools = _schools(municipality, scope)
    teachers = pd.DataFrame(db.session.execute(
        select(Teacher.id, School.code).join(School, School.id == Teacher.school_id)
        .where(Teacher.active.is_(True))).all(), columns=["user_id", "school_code"])
    attempts = pd.DataFrame(db.session.execute(
        select(Attempt.teacher_id, Attempt.diagnostic_id, Attempt.moodle_attempt_id,
               Attempt.time_finish).where(Attempt.state == FINISHED)).all(),
        columns=["user_id", "diagnostic_id", "attempt_id", "time_finish"]).astype("int64")
    return Sources(schools, teachers, attempts[["user_id", "time_finish"]], _levels(attempts),
                   _completions(), _partnerships(), _routes(),
                   competency_groups(settings)[["competency", "group"]], risk_rule(settings),
                   _statuses())


def _statuses() -> pd.DataFrame:
    """The dated history of school statuses (low results, adverse context, stably high)."""
    return pd.DataFrame(db.session.execute(select(
        SchoolStatus.school_code, SchoolStatus.flag, SchoolStatus.valid_from,
        SchoolStatus.valid_to)).all(), columns=["school_code", "flag", "valid_from", "valid_to"])


def _schools(municipality: str | None, scope: Scope | None = None) -> pd.DataFrame:
    query = select(School.code, Municipality.name, School.low_results, School.adverse_context,
                   School.resource_centre, SchoolIdentification.resource_centre_candidate)\
        .outerjoin(Municipality, Municipality.id == School.municipality_id)\
        .outerjoin(SchoolIdentification, SchoolIdentification.school_code == School.code)
    if municipality:
        found = db.session.scalars(select(Municipality).filter_by(name=municipality)).first()
        if found is None or not (scope is None or scope.region
                                 or found.id in scope.municipality_ids):
            raise SettingsError(f"no municipality named {municipality!r}; known: "
                                + ", ".join(municipality_names(scope)))
        query = query.where(School.municipality_id == found.id)
    if scope is not None:
        query = query.where(school_clause(scope))
    frame = pd.DataFrame(db.session.execute(query).all(), columns=[
        "code", "municipality", "low_results", "adverse_context", "resource_centre",
        "stably_high"])
    frame["stably_high"] = frame["stably_high"].fillna(False).astype(bool)
    return frame


def _levels(attempts: pd.DataFrame) -> pd.DataFrame:
    """Levels of every entry and final diagnostic, dated by the attempt they rest on."""
    rows = db.session.execute(
        select(Deficit.teacher_id, Deficit.diagnostic_id, Diagnostic.kind, Competency.idnumber,
               Deficit.score, Deficit.level, Deficit.moodle_attempt_id)
        .join(Competency, Competency.id == Deficit.competency_id)
        .join(Diagnostic, Diagnostic.id == Deficit.diagnostic_id)).all()
    levels = pd.DataFrame(rows, columns=["user_id", "diagnostic_id", "kind", "competency",
                                         "score", "level", "attempt_id"]).astype(
        {"user_id": "int64", "diagnostic_id": "int64"})
    latest = attempts.groupby(["user_id", "diagnostic_id"], as_index=False)["time_finish"].max()
    levels = levels.merge(latest, on=["user_id", "diagnostic_id"], how="left")
    finished = dict(zip(attempts["attempt_id"], attempts["time_finish"], strict=True))
    own = pd.to_numeric(levels["attempt_id"].map(finished), errors="coerce")
    levels["time_finish"] = own.fillna(levels["time_finish"])  # the latest attempt when unknown
    levels["time_finish"] = levels.groupby(["user_id", "diagnostic_id"])[
        "time_finish"].transform("max")
    return levels.drop(columns="attempt_id")


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
    rows = db.session.execute(select(Route.teacher_id, RouteItem.status, Route.created_at,
                                     RouteItem.updated_at)
                              .join(RouteItem, RouteItem.route_id == Route.id)).all()
    return pd.DataFrame([(user, status, _seconds(created), _seconds(updated))
                         for user, status, created, updated in rows],
                        columns=["user_id", "status", "created", "updated"])


def _seconds(moment: dt.datetime | None) -> int | None:
    """Unix seconds of a stored time (SQLite gives it back without a zone: it is UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())
