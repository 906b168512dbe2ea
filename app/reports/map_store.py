"""The deficit map's counts, aggregated by the database and stored per diagnostic.

One GROUP BY over the diagnostic's levels gives, per (school, teacher active) and
competency, how many levels were assessed, insufficient, deficits, risks, and how many
Moodle's ratings confirm or contradict. They are stored in ``deficit_map_store`` with a
marker: the change counters of the levels, the teachers' schools, the schools and the
competencies (kept by database triggers on every write, see migration 0018) and the policy
revision, read *before* the counts. A view reads the counters and the stored row; when the
marker differs it counts again and replaces the row. Any scope's map is then a sum over the
stored buckets of its schools, never a read of the levels.

The sums follow ``deficits.aggregate.school_map`` and ``municipality_map`` exactly (a test
compares them on a seeded population): a level of a teacher no longer active counts under
"no school", as the pandas path puts a scored user missing from the active teachers there.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import String, case, cast, func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.accounts.roles import Scope
from app.analyse.revisions import newest_revision
from app.extensions import db
from app.models import (
    ChangeCounter,
    Competency,
    Deficit,
    DeficitMapStore,
    Diagnostic,
    School,
    Teacher,
)
from deficits.aggregate import MAP_COLUMNS
from deficits.levels import LEVEL_DEFICIT, LEVEL_INSUFFICIENT, LEVEL_RISK

logger = logging.getLogger(__name__)

# Per bucket and competency: assessed, insufficient, deficit, risk, agrees, disagrees.
ASSESSED, INSUFFICIENT, DEFICIT, RISK, AGREES, DISAGREES = range(6)
Counts = list[int]


@dataclass
class MapCounts:
    """A diagnostic's stored counts: ``buckets`` (school id or None, active, competency
    idnumber → counts), the active teachers per school id (None: no school), the schools
    (id → code, name, kind, municipality id), and the thresholds used (from the levels)."""

    buckets: list[tuple[int | None, bool, dict[str, Counts]]] = field(default_factory=list)
    present: dict[int | None, int] = field(default_factory=dict)
    schools: dict[int, tuple[str, str, str, int | None]] = field(default_factory=dict)
    thresholds: list[str] = field(default_factory=list)  # distinct thresholds, as JSON text

    def as_json(self) -> dict[str, Any]:
        return {"buckets": [[s, a, c] for s, a, c in self.buckets],
                "present": [[s, n] for s, n in self.present.items()],
                "schools": [[i, *v] for i, v in self.schools.items()],
                "thresholds": self.thresholds}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> MapCounts:
        return cls(buckets=[(s, bool(a), c) for s, a, c in value["buckets"]],
                   present={s: int(n) for s, n in value["present"]},
                   schools={int(i): (c, n, k, m) for i, c, n, k, m in value["schools"]},
                   thresholds=list(value["thresholds"]))


def marker() -> str:
    """The change counters of the map's inputs and the policy revision in force, as text."""
    counters = sorted(db.session.execute(select(ChangeCounter.name, ChangeCounter.value)).all())
    revision = newest_revision()
    return json.dumps([[n, int(v)] for n, v in counters]
                      + [["policy", revision.id if revision is not None else None]])


def map_counts(diagnostic: Diagnostic) -> MapCounts:
    """The diagnostic's counts: stored when its marker is the current one, else counted
    again (and stored). The marker is read first, so counts stored under it are never
    older than it says (a write in between only makes the next view count again)."""
    current = marker()
    row = db.session.execute(select(DeficitMapStore.marker, DeficitMapStore.value).where(
        DeficitMapStore.diagnostic_id == diagnostic.id)).first()
    if row is not None and row.marker == current:
        return MapCounts.from_json(row.value)
    counts = count_levels(diagnostic.id)
    _store(diagnostic.id, current, counts)
    return counts


def count_levels(diagnostic_id: int, teacher_id: int | None = None) -> MapCounts:
    """Count the diagnostic's levels in the database (of one teacher with ``teacher_id``)."""
    level, agreement = Deficit.level, Deficit.agreement
    query = (select(Teacher.school_id, Teacher.active, Competency.idnumber,
                    func.sum(case((level != LEVEL_INSUFFICIENT, 1), else_=0)),
                    func.sum(case((level == LEVEL_INSUFFICIENT, 1), else_=0)),
                    func.sum(case((level == LEVEL_DEFICIT, 1), else_=0)),
                    func.sum(case((level == LEVEL_RISK, 1), else_=0)),
                    func.sum(case((agreement == "agrees", 1), else_=0)),
                    func.sum(case((agreement == "disagrees", 1), else_=0)))
             .join(Teacher, Teacher.id == Deficit.teacher_id)
             .join(Competency, Competency.id == Deficit.competency_id)
             .where(Deficit.diagnostic_id == diagnostic_id)
             .group_by(Teacher.school_id, Teacher.active, Competency.idnumber))
    if teacher_id is not None:
        query = query.where(Deficit.teacher_id == teacher_id)
    out = MapCounts()
    buckets: dict[tuple[int | None, bool], dict[str, Counts]] = {}
    for school_id, active, code, *numbers in db.session.execute(query):
        buckets.setdefault((school_id, bool(active)), {})[code] = [int(n or 0) for n in numbers]
    out.buckets = [(s, a, c) for (s, a), c in buckets.items()]
    if teacher_id is not None:
        return out
    out.present = {s: int(n) for s, n in db.session.execute(
        select(Teacher.school_id, func.count(Teacher.id)).where(Teacher.active.is_(True))
        .group_by(Teacher.school_id))}
    out.schools = {int(s.id): (s.code, s.name, s.kind, s.municipality_id)
                   for s in db.session.scalars(select(School))}
    # The distinct sets only (as text, which both SQLite and PostgreSQL compare).
    out.thresholds = sorted(t or "" for t in db.session.scalars(
        select(cast(Deficit.thresholds, String)).where(
            Deficit.diagnostic_id == diagnostic_id).distinct()))
    return out


def _store(diagnostic_id: int, current: str, counts: MapCounts) -> None:
    """Replace the stored counts and commit; a failure (another worker storing the same
    row first, a busy SQLite file) is logged: the next view counts again."""
    try:
        row = db.session.get(DeficitMapStore, diagnostic_id)
        if row is None:
            db.session.add(DeficitMapStore(diagnostic_id=diagnostic_id, marker=current,
                                           value=counts.as_json()))
        else:
            row.marker, row.value = current, counts.as_json()
        db.session.commit()
    except (IntegrityError, OperationalError) as err:
        db.session.rollback()
        logger.warning("deficit map of diagnostic %s not stored: %s", diagnostic_id, err)


def in_scope(counts: MapCounts, scope: Scope | None, diagnostic_id: int
             ) -> tuple[list[tuple[int | None, bool, dict[str, Counts]]], dict[int | None, int]]:
    """The buckets and the active teachers' schools of ``scope`` (None: the region): a
    bucket is in a municipalities' scope with its school; "no school" only in the region's;
    the scope's own teacher (a methodologist who also teaches) is counted on their own."""
    if scope is None or scope.region:
        return counts.buckets, counts.present

    def inside(school_id: int | None) -> bool:
        return (school_id is not None and school_id in counts.schools
                and counts.schools[school_id][3] in scope.municipality_ids)

    buckets = [b for b in counts.buckets if inside(b[0])]
    present = {s: n for s, n in counts.present.items() if inside(s)}
    if scope.teacher_moodle_id is not None:
        own = db.session.execute(select(Teacher.id, Teacher.school_id, Teacher.active).where(
            Teacher.moodle_user_id == scope.teacher_moodle_id)).first()
        if own is not None and not inside(own.school_id):
            buckets = [*buckets, *count_levels(diagnostic_id, own.id).buckets]
            if own.active:
                present = {**present, own.school_id: present.get(own.school_id, 0) + 1}
    return buckets, present


@dataclass
class Scoped:
    """A scope's sums: per school code (the pandas path's keys: stripped, None for "no
    school") in the school map's order, per municipality id, and in all; the competencies
    with levels in the scope (sorted)."""

    codes: list[str | None] = field(default_factory=list)
    competencies: list[str] = field(default_factory=list)
    by_code: dict[str | None, dict[str, Counts]] = field(default_factory=dict)
    by_municipality: dict[int, dict[str, Counts]] = field(default_factory=dict)
    total: dict[str, Counts] = field(default_factory=dict)


def scoped(counts: MapCounts, scope: Scope | None, diagnostic_id: int) -> Scoped:
    """Sum the stored buckets of ``scope`` as ``deficits.aggregate.school_map`` and
    ``municipality_map`` count the scope's levels (see :func:`in_scope`)."""
    buckets, present = in_scope(counts, scope, diagnostic_id)
    out = Scoped()
    for school_id, active, cells in buckets:
        school = counts.schools.get(school_id) if school_id is not None else None
        add(out.by_code.setdefault(stripped(school[0]) if school and active else None, {}),
            cells)
        if school is not None and school[3] is not None:
            add(out.by_municipality.setdefault(school[3], {}), cells)
        add(out.total, cells)
    if not buckets:
        return out
    out.competencies = sorted(out.total)
    codes = {stripped(counts.schools[s][0]) if s is not None and s in counts.schools else None
             for s in present}
    codes.update(out.by_code)
    out.codes = [*sorted(c for c in codes if c is not None), *([None] if None in codes else [])]
    return out


def stripped(code: str | None) -> str | None:
    """A school code as the pandas path keys it: stripped, blank as None."""
    return (code or "").strip() or None


def add(into: dict[str, Counts], cells: dict[str, Counts]) -> None:
    """Add ``cells`` (competency → counts) into ``into``."""
    for competency, numbers in cells.items():
        have = into.setdefault(competency, [0] * len(numbers))
        for i, n in enumerate(numbers):
            have[i] += n


def share(numbers: Counts | None) -> float | None:
    """deficit / assessed, None where nobody was assessed."""
    if not numbers or not numbers[ASSESSED]:
        return None
    return float(numbers[DEFICIT] / numbers[ASSESSED])


def school_map_frame(diagnostic: Diagnostic, scope: Scope | None = None) -> pd.DataFrame:
    """``deficits.aggregate.school_map`` of the scope's levels, from the stored counts."""
    sums = scoped(map_counts(diagnostic), scope, diagnostic.id)
    rows = [(code, c, *sums.by_code.get(code, {}).get(c, [0] * 6)[:RISK + 1])
            for code in sums.codes for c in sums.competencies]
    frame = pd.DataFrame({
        "school_code": pd.Series([r[0] for r in rows], dtype="object"),
        "competency": pd.Series([r[1] for r in rows], dtype="str"),
        **{name: pd.Series([r[2 + i] for r in rows], dtype="int64")
           for i, name in enumerate(MAP_COLUMNS[:-1])}})
    assessed = frame["assessed"].where(frame["assessed"] > 0)
    frame["deficit_share"] = (frame["deficit"] / assessed).astype("float64")
    return frame
