"""Reports: the deficit map (schools × competencies), route and push figures."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import String, cast, func, select

from app.accounts.roles import Scope
from app.analyse.outcomes import in_scope, levels_frame
from app.extensions import db
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
    # The distinct sets only (as text, which both SQLite and PostgreSQL compare), not one
    # JSON value per stored level.
    return _thresholds_of(db.session.scalars(select(cast(Deficit.thresholds, String)).where(
        Deficit.diagnostic_id == diagnostic.id).distinct()))


def _thresholds_of(texts: Iterable[str | None]) -> tuple[dict[str, float], list[str]]:
    """The default thresholds and the lines of the distinct thresholds sets (JSON texts)."""
    seen: dict[tuple, dict] = {}
    for text in texts:
        row = json.loads(text) if text else {}
        key = tuple(sorted((k, str(v)) for k, v in (row or {}).items()))
        seen.setdefault(key, dict(row or {}))
    default = next((t for t in seen.values() if t.get("source") in (None, "default")),
                   next(iter(seen.values()), {}))
    lines = sorted({f"{_SOURCE_RU.get(str(t.get('source')), 'по умолчанию')}"
                    + (f" «{t['label']}»" if t.get("label") else "") + ": "
                    + describe_thresholds(Thresholds(float(t.get("deficit_below", 0.5)),
                                                     float(t.get("risk_below", 0.7)),
                                                     float(t.get("min_questions", 2))))
                    for t in seen.values()})
    lines += sorted({str(t["attempts"]) for t in seen.values() if t.get("attempts")})
    return {k: v for k, v in default.items() if k not in ("source", "attempts")}, lines


def policy_lines(diagnostic: Diagnostic) -> list[str]:
    """How the diagnostic's stored levels were produced: one line per thresholds set that
    applied (with its source) and the attempt policy, as every report states them."""
    store = db.session.get(DeficitMapStore, diagnostic.id)
    if store is not None and store.marker == marker():
        return _thresholds_of(MapCounts.from_json(store.value).thresholds)[1]
    return _thresholds_used(diagnostic)[1]


_SOURCE_RU = {"default": "по умолчанию", "framework": "для рамки", "group": "для группы"}


def _num(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _mean(shares: dict[str, float | None]) -> float:
    values = [v for v in shares.values() if v is not None]
    return sum(values) / len(values) if values else 0.0
