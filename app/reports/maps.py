"""Reports: the deficit map (schools × competencies), route and push figures."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from flask_babel import gettext, ngettext
from sqlalchemy import String, cast, func, select

from app.accounts.roles import Scope
from app.analyse.outcomes import in_scope, levels_frame
from app.extensions import db
from app.i18n import N_
from app.models import (
    Competency,
    Deficit,
    DeficitMapStore,
    Diagnostic,
    Municipality,
    OutboxMessage,
    Route,
    RouteItem,
    School,
    Teacher,
)
from app.reports.map_store import (
    AGREES,
    ASSESSED,
    DISAGREES,
    MapCounts,
    Scoped,
    map_counts,
    marker,
    scoped,
    share_dict,
    shares,
)
from deficits.aggregate import municipality_map, school_map
from deficits.policy import describe_thresholds
from deficits.records import Thresholds

NEED, NAME = "need", "name"  # the orders of the schools besides a competency's share


@dataclass
class DeficitMap:
    """Deficit shares per school and competency, and for the municipality."""

    competencies: list[tuple[str, str]] = field(default_factory=list)  # (idnumber, name)
    schools: list[dict[str, object]] = field(default_factory=list)
    municipality: dict[str, float | None] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    policy: list[str] = field(default_factory=list)
    # Moodle's own ratings beside the levels: competency → {"agrees": n, "disagrees": n}
    ratings: dict[str, dict[str, int]] = field(default_factory=dict)
    # One row per municipality of the scope: id, name, teachers, shares (as a school's)
    municipalities: list[dict[str, object]] = field(default_factory=list)
    school_count: int = 0  # of all schools, when ``schools`` holds one page of them


def current_diagnostic() -> Diagnostic | None:
    """The diagnostic most recently synced."""
    return db.session.scalars(select(Diagnostic).order_by(Diagnostic.id.desc())).first()


def deficit_map(diagnostic: Diagnostic, scope: Scope | None = None, *, sort: str = NEED,
                window: tuple[int, int] | None = None) -> DeficitMap:
    """Schools × competencies deficit shares; schools ranked by their mean share. With
    ``scope`` only its teachers count, and only its schools are listed.

    Sums of the counts stored per school (``app.reports.map_store``): the levels are read
    only when they, the teachers' schools, the schools, the competencies or the policy
    changed since they were last counted. Equal to :func:`computed_map`. ``sort`` (``need``,
    ``name`` or a competency idnumber: its share, highest first) orders the schools;
    ``window`` (start, stop) keeps only those positions of that order (a page); the number
    of all is ``school_count``.
    """
    counts = map_counts(diagnostic)
    result = DeficitMap(competencies=[(c.idnumber, c.name) for c in db.session.scalars(
        select(Competency).order_by(Competency.idnumber))])
    thresholds, policy = counts.derived("thresholds", lambda: _thresholds_of(counts.thresholds))
    result.thresholds, result.policy = dict(thresholds), list(policy)
    sums = scoped(counts, scope, diagnostic.id)  # kept with the counts, as what follows
    view = sums.derived("view", lambda: _view(counts, sums))
    result.ratings = {c: dict(n) for c, n in view.ratings.items()}
    if not sums.codes:
        return result
    comps = sums.competencies
    order = sums.derived(("order", sort), lambda: _order(sums, view.table, sort, view.names))
    result.school_count = len(order)
    for i in order[slice(*window) if window else slice(None)]:
        at = sums.school[i]
        result.schools.append({
            "code": sums.codes[i],
            "name": view.names[i],
            "kind": counts.school_kinds[at] if at >= 0 else "unknown",
            "teachers": view.teachers[i], "shares": dict(zip(comps, view.shares[i],
                                                             strict=True))})
    result.municipality = dict(view.municipality)
    towns = dict(db.session.execute(select(Municipality.id, Municipality.name)).all())
    result.municipalities = sorted(
        ({"id": m, "name": towns.get(m, str(m)), "teachers": teachers, "shares": dict(shares)}
         for m, teachers, shares in view.municipalities), key=lambda m: str(m["name"]))
    return result


def map_policy(diagnostic: Diagnostic) -> tuple[dict[str, float], list[str]]:
    """The default thresholds the diagnostic's levels were scored by and the lines of how
    they were produced (``deficit_map``'s ``thresholds`` and ``policy``), from the stored
    counts."""
    counts = map_counts(diagnostic)
    thresholds, policy = counts.derived("thresholds", lambda: _thresholds_of(counts.thresholds))
    return dict(thresholds), list(policy)


@dataclass
class _View:
    """What every page of a scope's map shows, worked out once from its sums."""

    table: Any  # the shares, rows × competencies
    shares: list[list[float | None]]  # the same, None for NaN
    names: list[str]
    teachers: list[int]
    ratings: dict[str, dict[str, int]]
    municipality: dict[str, float | None]
    municipalities: list[tuple[int, int, dict[str, float | None]]]  # id, teachers, shares


def _view(counts: MapCounts, sums: Scoped) -> _View:
    comps = sums.competencies
    ratings = {c: {"agrees": int(n[AGREES]), "disagrees": int(n[DISAGREES])}
               for c, n in zip(comps, sums.total.tolist(), strict=True)
               if n[AGREES] or n[DISAGREES]}
    if not sums.codes:
        return _View(None, [], [], [], ratings, {}, [])
    table = shares(sums.rows)
    table.flags.writeable = False
    return _View(
        table=table, shares=[[None if math.isnan(v) else v for v in row]
                             for row in table.tolist()],
        names=[counts.school_names[at] if at >= 0 else "Без образовательной организации"
               for at in sums.school],
        teachers=[int(n) for n in sums.rows[..., ASSESSED].max(axis=1).tolist()],
        ratings=ratings, municipality=share_dict(comps, shares(sums.total)),
        municipalities=[(m, int(cells[:, ASSESSED].max(initial=0)),
                         share_dict(comps, shares(cells)))
                        for m, cells in sums.by_municipality.items()])


def _order(sums: Scoped, table: Any, sort: str, names: list[str]) -> list[int]:
    """The rows' positions in the order asked: by need as the map always ranked them (the
    mean of the known shares, highest first, a stable sort of the school map's order), by
    name, or by one competency's share (schools without one last)."""
    positions = range(len(sums.codes))
    if sort in sums.competencies:
        column = table[:, sums.competencies.index(sort)].tolist()
        return sorted(positions, key=lambda i: (math.isnan(column[i]),
                                                0.0 if math.isnan(column[i]) else -column[i]))
    if sort == NAME:
        return sorted(positions, key=lambda i: (sums.codes[i] is None, names[i]))
    means = []
    for row in table.tolist():  # summed in order, as sum() over the dict's values
        known = [v for v in row if not math.isnan(v)]
        means.append(sum(known) / len(known) if known else 0.0)
    return sorted(positions, key=lambda i: -means[i])


def computed_map(diagnostic: Diagnostic, scope: Scope | None = None) -> DeficitMap:
    """The deficit map computed from every level in pandas (``deficits.aggregate``): the
    reference :func:`deficit_map` is tested against, and the "before" of the benchmark."""
    levels, teachers = levels_frame(diagnostic, scope=scope)
    result = DeficitMap(competencies=[(c.idnumber, c.name) for c in db.session.scalars(
        select(Competency).order_by(Competency.idnumber))])
    result.thresholds, result.policy = _thresholds_used(diagnostic)
    result.ratings = rating_agreement(diagnostic, scope)
    if levels.empty:
        return result
    per_school = school_map(levels, teachers)
    names = {s.code: s for s in db.session.scalars(select(School))}
    for code, group in per_school.groupby("school_code", dropna=False):
        school = names.get(code) if isinstance(code, str) else None
        shares = {str(r.competency): _num(r.deficit_share) for r in group.itertuples()}
        result.schools.append({
            "code": code if isinstance(code, str) else None,
            "name": school.name if school else "Без образовательной организации",
            "kind": school.kind if school else "unknown",
            "teachers": int(group["assessed"].max()), "shares": shares})
    result.schools.sort(key=lambda s: -_mean(s["shares"]))  # type: ignore[arg-type]
    per_mun = municipality_map(levels)
    result.municipality = {str(r.competency): _num(r.deficit_share)
                           for r in per_mun.itertuples()}
    return result


def rating_agreement(diagnostic: Diagnostic, scope: Scope | None = None
                     ) -> dict[str, dict[str, int]]:
    """Per competency: how many levels (of the scope's teachers) Moodle's ratings confirm and
    contradict."""
    out: dict[str, dict[str, int]] = {}
    query = (select(Competency.idnumber, Deficit.agreement, func.count(Deficit.id))
             .join(Competency, Competency.id == Deficit.competency_id)
             .where(Deficit.diagnostic_id == diagnostic.id,
                    Deficit.agreement.in_(("agrees", "disagrees")))
             .group_by(Competency.idnumber, Deficit.agreement))
    if scope is not None and not scope.region:
        query = query.where(Deficit.teacher_id.in_(in_scope(scope)))
    for code, agreement, count in db.session.execute(query):
        assert agreement is not None  # the query keeps "agrees" and "disagrees" only
        out.setdefault(code, {"agrees": 0, "disagrees": 0})[agreement] = int(count)
    return dict(sorted(out.items()))


def summary(diagnostic: Diagnostic | None) -> dict[str, object]:
    """The figures the demo prints and the report command shows."""
    out: dict[str, object] = {
        "teachers": db.session.scalar(select(func.count(Teacher.id)).where(
            Teacher.active.is_(True))) or 0}
    if diagnostic is not None:
        per_comp = db.session.execute(
            select(Competency.idnumber, func.count(Deficit.id))
            .join(Deficit, Deficit.competency_id == Competency.id)
            .where(Deficit.diagnostic_id == diagnostic.id, Deficit.level == "deficit")
            .group_by(Competency.idnumber).order_by(Competency.idnumber)).all()
        out["deficits_per_competency"] = {k: int(v) for k, v in per_comp}
        items = db.session.execute(select(RouteItem.status).join(Route).where(
            Route.diagnostic_id == diagnostic.id)).scalars()
        out["route_items"] = dict(Counter(items))
    out["outbox"] = {f"{kind}:{status}": int(n) for kind, status, n in db.session.execute(
        select(OutboxMessage.kind, OutboxMessage.status, func.count(OutboxMessage.id))
        .group_by(OutboxMessage.kind, OutboxMessage.status))}
    return out


def _thresholds_used(diagnostic: Diagnostic) -> tuple[dict[str, float], list[str]]:
    """The default thresholds and one line per distinct thresholds set that produced levels."""
    return _thresholds_of(_stored_thresholds(diagnostic))


def _stored_thresholds(diagnostic: Diagnostic) -> Iterable[str | None]:
    # The distinct sets only (as text, which both SQLite and PostgreSQL compare), not one
    # JSON value per stored level.
    return db.session.scalars(select(cast(Deficit.thresholds, String)).where(
        Deficit.diagnostic_id == diagnostic.id).distinct())


def _thresholds_of(texts: Iterable[str | None], lang: str = "ru"
                   ) -> tuple[dict[str, float], list[str]]:
    """The default thresholds and the lines of the distinct thresholds sets (JSON texts);
    ``lang="en"``: the lines in English (through the catalog, during a request)."""
    seen: dict[tuple, dict] = {}
    for text in texts:
        row = json.loads(text) if text else {}
        key = tuple(sorted((k, str(v)) for k, v in (row or {}).items()))
        seen.setdefault(key, dict(row or {}))
    default = next((t for t in seen.values() if t.get("source") in (None, "default")),
                   next(iter(seen.values()), {}))
    line = _line_en if lang == "en" else _line_ru
    lines = sorted({line(t) for t in seen.values()})
    lines += sorted({_attempts_en(str(t["attempts"])) if lang == "en" else str(t["attempts"])
                     for t in seen.values() if t.get("attempts")})
    return {k: v for k, v in default.items() if k not in ("source", "attempts")}, lines


def _thresholds(row: dict[str, Any]) -> Thresholds:
    return Thresholds(float(row.get("deficit_below", 0.5)), float(row.get("risk_below", 0.7)),
                      float(row.get("min_questions", 2)))


def _line_ru(row: dict[str, Any]) -> str:
    """«по умолчанию: дефицит ниже 50 %, риск ниже 70 %, не менее 2 вопросов»."""
    return (f"{_SOURCE_RU.get(str(row.get('source')), 'по умолчанию')}"
            + (f" «{row['label']}»" if row.get("label") else "") + ": "
            + describe_thresholds(_thresholds(row)))


def _line_en(row: dict[str, Any]) -> str:
    """``_line_ru`` in English (the catalog's): «default: deficit below 50 %, …»."""
    limits = _thresholds(row)
    source = gettext(_SOURCE_RU.get(str(row.get("source")), _SOURCE_RU["default"]))
    if row.get("label"):
        source = gettext("%(source)s «%(label)s»", source=source, label=row["label"])
    count = limits.min_questions
    questions = gettext("без минимума вопросов") if count <= 0 else ngettext(
        "не менее %(n)s вопроса", "не менее %(n)s вопросов",
        int(count) if float(count).is_integer() else 2, n=_plain(count))
    return gettext("%(source)s: дефицит ниже %(deficit)s %%, риск ниже %(risk)s %%, "
                   "%(questions)s", source=source, deficit=_plain(limits.deficit_below * 100),
                   risk=_plain(limits.risk_below * 100), questions=questions)


def _plain(value: float) -> str:
    """A number the English way: no trailing zeros, a decimal point (47.5)."""
    return format(round(value, 6), "g")


def _attempts_en(text: str) -> str:
    """A stored attempt policy's line (``deficits.policy.describe_attempt_policy``) in
    English when the catalog knows it; as stored otherwise."""
    return gettext(text) if text in _ATTEMPTS_RU else text


def policy_lines(diagnostic: Diagnostic, lang: str = "ru") -> list[str]:
    """How the diagnostic's stored levels were produced: one line per thresholds set that
    applied (with its source) and the attempt policy, as every report states them
    (``lang="en"``: in English, for a page during a request; files keep Russian)."""
    store = db.session.get(DeficitMapStore, diagnostic.id)
    if store is not None and store.marker == marker():
        return _thresholds_of(MapCounts.from_json(store.value).thresholds, lang)[1]
    return _thresholds_of(_stored_thresholds(diagnostic), lang)[1]


def diagnostics_policy(lang: str = "ru") -> list[str]:
    """Per stored diagnostic, how its levels were produced (the indicators page's list, as
    ``app.reports.indicators.levels_policy`` words it), in ``lang``."""
    return [f"«{d.name}»: " + "; ".join(policy_lines(d, lang))
            for d in db.session.scalars(select(Diagnostic).order_by(Diagnostic.id))]


_SOURCE_RU = {"default": N_("по умолчанию"), "framework": N_("для рамки"),
              "group": N_("для группы")}
# What deficits.policy.describe_attempt_policy stores with the levels (it stays Russian):
# the catalog's English for the pages
_ATTEMPTS_RU = frozenset((
    N_("Попытки: первая попытка"), N_("Попытки: последняя попытка"),
    N_("Попытки: лучшая попытка"), N_("Попытки: среднее по попыткам"),
    N_("Попытки: первая попытка (метод оценивания теста)"),
    N_("Попытки: последняя попытка (метод оценивания теста)"),
    N_("Попытки: лучшая попытка (метод оценивания теста)"),
    N_("Попытки: среднее по попыткам (метод оценивания теста)")))


def _num(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _mean(shares: dict[str, float | None]) -> float:
    values = [v for v in shares.values() if v is not None]
    return sum(values) / len(values) if values else 0.0
