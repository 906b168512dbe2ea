"""The deficit map's counts, aggregated by the database and stored per diagnostic.

One GROUP BY over the diagnostic's levels gives, per (school, teacher active) and
competency, how many levels were assessed, insufficient, deficits, risks, and how many
Moodle's ratings confirm or contradict. They are stored in ``deficit_map_store`` with a
marker: the change counters of the levels, the teachers' schools, the schools and the
competencies (replaced by database triggers on every write, by a value never used before,
see migrations 0018 and 0020) and the policy revision, read *before* the counts. A view
reads the counters and the stored row; when the marker differs it counts again and replaces
the row. Any scope's map is then a sum over the stored buckets of its schools, never a read
of the levels.

Each process keeps the decoded value of the stored row it last read (or stored) per
diagnostic, under the row's marker and time of storing: a view reads the counters and those
two small columns, and decodes the value only when the row is another one. What is derived
from the counts (a scope's sums, the schools' orders) is kept beside them (``derived``) and
goes with them.

The sums follow ``deficits.aggregate.school_map`` and ``municipality_map`` exactly (a test
compares them on a seeded population): a level of a teacher no longer active counts under
"no school", as the pandas path puts a scored user missing from the active teachers there.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from flask import current_app
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
from app.models.assessment import utcnow
from deficits.aggregate import MAP_COLUMNS
from deficits.levels import LEVEL_DEFICIT, LEVEL_INSUFFICIENT, LEVEL_RISK

logger = logging.getLogger(__name__)

# Per bucket and competency: assessed, insufficient, deficit, risk, agrees, disagrees.
ASSESSED, INSUFFICIENT, DEFICIT, RISK, AGREES, DISAGREES = range(6)
KINDS = 6
# A school's statuses as bits of ``MapCounts.school_flags``.
LOW_RESULTS, ADVERSE_CONTEXT, RESOURCE_CENTRE = 1, 2, 4
# The tables whose change counters (migrations 0018, 0020) the stored counts depend on.
MAP_INPUTS = ("competency", "deficit", "school", "teacher")
FORMAT = 3  # of the stored value: a stored row of another format is counted again
KEPT_DIAGNOSTICS = 8  # decoded stored rows a process keeps (the map over time reads each)
KEPT_DERIVED = 64  # values derived from one diagnostic's counts (scopes × orders)
_CACHE = "profroute.map_counts"
_LOCK = threading.Lock()
T = TypeVar("T")


@dataclass
class Keeps:
    """What views derive from a value that never changes once made (counts, a scope's
    sums), kept with it: it goes when the value goes (a change of the inputs makes other
    counts). At most ``KEPT_DERIVED``, the oldest goes first."""

    kept: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict, repr=False,
                                             compare=False)

    def derived(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()``, kept under ``key``."""
        try:
            return self.kept[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        value = build()
        with _LOCK:  # gthread workers: two may build it, the last one is kept
            self.kept[key] = value
            while len(self.kept) > KEPT_DERIVED:
                self.kept.popitem(last=False)
        return value


@dataclass
class MapCounts(Keeps):
    """A diagnostic's stored counts. ``counts[b, c]``: the ``KINDS`` counts of bucket ``b``
    (school ``bucket_school[b]``, -1 for none; teachers active or not) in competency
    ``competencies[c]``; the active teachers per school (``present_school``, -1: none); the
    schools (parallel lists by id); the distinct thresholds of the levels, as JSON text."""

    competencies: list[str] = field(default_factory=list)
    bucket_school: np.ndarray = field(default_factory=lambda: np.zeros(0, "int64"))
    bucket_active: np.ndarray = field(default_factory=lambda: np.zeros(0, "bool"))
    counts: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, KINDS), "int64"))
    present_school: np.ndarray = field(default_factory=lambda: np.zeros(0, "int64"))
    school_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, "int64"))
    school_municipality: np.ndarray = field(default_factory=lambda: np.zeros(0, "int64"))
    school_codes: list[str] = field(default_factory=list)
    school_names: list[str] = field(default_factory=list)
    school_kinds: list[str] = field(default_factory=list)
    thresholds: list[str] = field(default_factory=list)
    # Per school: LOW_RESULTS | ADVERSE_CONTEXT | RESOURCE_CENTRE (a school may hold several)
    school_flags: np.ndarray = field(default_factory=lambda: np.zeros(0, "int64"))

    def as_json(self) -> dict[str, Any]:
        return {"competencies": self.competencies, "buckets": len(self.bucket_school),
                "bucket_school": _pack(self.bucket_school),
                "bucket_active": _pack(self.bucket_active.astype("int64")),
                "counts": _pack(self.counts), "present_school": _pack(self.present_school),
                "school_ids": _pack(self.school_ids),
                "school_municipality": _pack(self.school_municipality),
                "school_codes": self.school_codes, "school_names": self.school_names,
                "school_kinds": self.school_kinds, "thresholds": self.thresholds,
                "school_flags": _pack(self.school_flags)}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> MapCounts:
        shape = (int(value["buckets"]), len(value["competencies"]), KINDS)
        return cls(competencies=list(value["competencies"]),
                   bucket_school=_unpack(value["bucket_school"]),
                   bucket_active=_unpack(value["bucket_active"]).astype("bool"),
                   counts=_unpack(value["counts"]).reshape(shape),
                   present_school=_unpack(value["present_school"]),
                   school_ids=_unpack(value["school_ids"]),
                   school_municipality=_unpack(value["school_municipality"]),
                   school_codes=list(value["school_codes"]),
                   school_names=list(value["school_names"]),
                   school_kinds=list(value["school_kinds"]),
                   thresholds=list(value["thresholds"]),
                   school_flags=_unpack(value["school_flags"]))

    def school_index(self, ids: np.ndarray) -> np.ndarray:
        """The positions of school ids in the school lists (-1 for none or unknown)."""
        if not len(self.school_ids):
            return np.full(len(ids), -1, "int64")
        at = np.clip(np.searchsorted(self.school_ids, ids), 0, len(self.school_ids) - 1)
        return np.where(self.school_ids[at] == ids, at, -1)


def _pack(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, "<i8").tobytes()).decode("ascii")


def _unpack(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), "<i8").astype("int64")


def marker() -> str:
    """The change counters of the map's inputs and the policy revision in force, as text."""
    counters = sorted(db.session.execute(select(ChangeCounter.name, ChangeCounter.value).where(
        ChangeCounter.name.in_(MAP_INPUTS))).all())
    revision = newest_revision()
    return json.dumps([[n, int(v)] for n, v in counters]
                      + [["policy", revision.id if revision is not None else None],
                         ["format", FORMAT]])


def map_counts(diagnostic: Diagnostic) -> MapCounts:
    """The diagnostic's counts: stored when its marker is the current one, else counted
    again (and stored). The marker is read first, so counts stored under it are never
    older than it says (a write in between only makes the next view count again).

    The stored row's value is decoded once per process: while the row read (its marker and
    time of storing, not its value) is the one the process decoded last, those counts are
    used again. A row replaced by another worker, or by a restored backup, has another time.
    """
    current = marker()
    where = DeficitMapStore.diagnostic_id == diagnostic.id
    head = db.session.execute(select(DeficitMapStore.marker, DeficitMapStore.computed_at)
                              .where(where)).first()
    if head is not None and head.marker == current:
        found = _kept_counts(diagnostic.id, (current, _instant(head.computed_at)))
        if found is not None:
            return found
        row = db.session.execute(select(DeficitMapStore.marker, DeficitMapStore.computed_at,
                                        DeficitMapStore.value).where(where)).first()
        if row is not None and row.marker == current:
            counts = MapCounts.from_json(row.value)
            _keep_counts(diagnostic.id, (current, _instant(row.computed_at)), counts)
            return counts
    counts = count_levels(diagnostic.id)
    stored_at = _store(diagnostic.id, current, counts)
    if stored_at is not None:
        _keep_counts(diagnostic.id, (current, _instant(stored_at)), counts)
    return counts


def _instant(value: dt.datetime | None) -> dt.datetime | None:
    """A time of storing as naive UTC (SQLite gives it back without its zone)."""
    if value is not None and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _kept() -> OrderedDict[int, tuple[Hashable, MapCounts]]:
    cache: OrderedDict[int, tuple[Hashable, MapCounts]] = current_app.extensions.setdefault(
        _CACHE, OrderedDict())
    return cache


def _kept_counts(diagnostic_id: int, key: Hashable) -> MapCounts | None:
    """The counts this process decoded from the stored row ``key`` (marker, time), if any."""
    found = _kept().get(diagnostic_id)
    return found[1] if found is not None and found[0] == key else None


def _keep_counts(diagnostic_id: int, key: Hashable, counts: MapCounts) -> None:
    _read_only(counts)
    cache = _kept()
    with _LOCK:  # gthread workers: the last one wins, each with its own key
        cache[diagnostic_id] = (key, counts)
        cache.move_to_end(diagnostic_id)
        while len(cache) > KEPT_DIAGNOSTICS:
            cache.popitem(last=False)


def _read_only(value: Any) -> Any:
    """``value`` with its arrays made read-only: what a process keeps and shares between
    requests is never changed in place by one of them."""
    for item in vars(value).values():
        if isinstance(item, np.ndarray):
            item.flags.writeable = False
        elif isinstance(item, dict):
            for array in item.values():
                if isinstance(array, np.ndarray):
                    array.flags.writeable = False
    return value


def forget_kept() -> None:
    """Drop this process's decoded counts (tests: to read the stored rows again)."""
    with _LOCK:
        _kept().clear()


def count_levels(diagnostic_id: int, teacher_id: int | None = None,
                 competencies: list[str] | None = None) -> MapCounts:
    """Count the diagnostic's levels in the database (of one teacher with ``teacher_id``,
    on the axis of ``competencies``)."""
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
    rows = db.session.execute(query).all()
    out = MapCounts(competencies=competencies if competencies is not None
                    else sorted({r[2] for r in rows}))
    keys = list(dict.fromkeys((-1 if r[0] is None else int(r[0]), bool(r[1])) for r in rows))
    position = {key: i for i, key in enumerate(keys)}
    column = {c: i for i, c in enumerate(out.competencies)}
    out.counts = np.zeros((len(keys), len(out.competencies), KINDS), "int64")
    for school_id, active, code, *numbers in rows:
        key = (-1 if school_id is None else int(school_id), bool(active))
        out.counts[position[key], column[code]] = [int(n or 0) for n in numbers]
    out.bucket_school = np.array([k[0] for k in keys], "int64")
    out.bucket_active = np.array([k[1] for k in keys], "bool")
    if teacher_id is not None:
        return out
    out.present_school = np.array(list(db.session.scalars(
        select(func.coalesce(Teacher.school_id, -1)).where(Teacher.active.is_(True))
        .group_by(Teacher.school_id))), "int64")
    schools = db.session.scalars(select(School).order_by(School.id)).all()
    out.school_ids = np.array([s.id for s in schools], "int64")
    out.school_municipality = np.array([-1 if s.municipality_id is None else s.municipality_id
                                        for s in schools], "int64")
    out.school_codes = [s.code for s in schools]
    out.school_names = [s.name for s in schools]
    out.school_kinds = [s.kind for s in schools]
    out.school_flags = np.array([LOW_RESULTS * s.low_results + ADVERSE_CONTEXT * s.adverse_context
                                 + RESOURCE_CENTRE * s.resource_centre for s in schools],
                                "int64")
    # The distinct sets only (as text, which both SQLite and PostgreSQL compare).
    out.thresholds = sorted(t or "" for t in db.session.scalars(
        select(cast(Deficit.thresholds, String)).where(
            Deficit.diagnostic_id == diagnostic_id).distinct()))
    return out


def _store(diagnostic_id: int, current: str, counts: MapCounts) -> dt.datetime | None:
    """Replace the stored counts and commit; the time they were stored under, or None
    after a failure (another worker storing the same row first, a busy SQLite file),
    which is logged: the next view counts again."""
    now = utcnow()
    try:
        row = db.session.get(DeficitMapStore, diagnostic_id)
        if row is None:
            db.session.add(DeficitMapStore(diagnostic_id=diagnostic_id, marker=current,
                                           value=counts.as_json(), computed_at=now))
        else:
            row.marker, row.value, row.computed_at = current, counts.as_json(), now
        db.session.commit()
    except (IntegrityError, OperationalError) as err:
        db.session.rollback()
        logger.warning("deficit map of diagnostic %s not stored: %s", diagnostic_id, err)
        return None
    return now


@dataclass
class Scoped(Keeps):
    """A scope's sums: ``rows[i, c]`` the counts of school code ``codes[i]`` (the pandas
    path's keys: stripped, None for "no school", in the school map's order) in competency
    ``competencies[c]`` (those with levels in the scope), per municipality id, and in all;
    ``school[i]``: the position in the schools' lists of the school of that exact code."""

    codes: list[str | None] = field(default_factory=list)
    competencies: list[str] = field(default_factory=list)
    rows: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, KINDS), "int64"))
    school: list[int] = field(default_factory=list)
    by_municipality: dict[int, np.ndarray] = field(default_factory=dict)
    total: np.ndarray = field(default_factory=lambda: np.zeros((0, KINDS), "int64"))


def scope_key(scope: Scope | None) -> Hashable:
    """What the stored part of a scope's sums depends on (its own teacher is apart)."""
    if scope is None or scope.region:
        return ("region",)
    return ("municipalities", frozenset(scope.municipality_ids))


def scoped(counts: MapCounts, scope: Scope | None, diagnostic_id: int) -> Scoped:
    """Sum the stored buckets of ``scope`` as ``deficits.aggregate.school_map`` and
    ``municipality_map`` count the scope's levels: a bucket is in a municipalities' scope
    with its school; "no school" only in the region's; a teacher no longer active counts
    under "no school"; the scope's own teacher (a methodologist who also teaches) is
    counted on their own. The sums of the stored buckets are kept with the counts; a scope
    whose own teacher counts apart (one small query to know) is summed each time."""
    own = None
    if scope is not None and not scope.region:
        ids = np.array(sorted(scope.municipality_ids), "int64")
        own = _own_teacher(counts, scope, ids, diagnostic_id)
    if own is None:
        return counts.derived(("scoped", scope_key(scope)),
                              lambda: _read_only(_summed(counts, scope, None)))
    return _summed(counts, scope, own)


def _summed(counts: MapCounts, scope: Scope | None, own: MapCounts | None) -> Scoped:
    """The sums of :func:`scoped` (``own``: the scope's own teacher's counts, or None)."""
    school, active, cells = counts.bucket_school, counts.bucket_active, counts.counts
    present = counts.present_school
    at = counts.school_index(school)
    municipality = np.where(at >= 0, counts.school_municipality[np.maximum(at, 0)], -1)
    if scope is not None and not scope.region:
        ids = np.array(sorted(scope.municipality_ids), "int64")
        inside = np.isin(municipality, ids) & (at >= 0)
        present_at = counts.school_index(present)
        present = present[(present_at >= 0) & np.isin(
            counts.school_municipality[np.maximum(present_at, 0)], ids)]
        school, active, cells, at, municipality = (school[inside], active[inside],
                                                   cells[inside], at[inside],
                                                   municipality[inside])
        if own is not None:
            school, active = np.append(school, own.bucket_school), np.append(
                active, own.bucket_active)
            cells = np.concatenate([cells, own.counts])
            own_at = counts.school_index(own.bucket_school)
            at = np.append(at, own_at)
            municipality = np.append(municipality, np.where(
                own_at >= 0, counts.school_municipality[np.maximum(own_at, 0)], -1))
            present = np.append(present, own.present_school)
    out = Scoped()
    total = cells.sum(axis=0) if len(cells) else np.zeros((len(counts.competencies), KINDS),
                                                            "int64")
    present_in = np.flatnonzero(total[:, ASSESSED] + total[:, INSUFFICIENT] > 0)
    if not len(present_in):
        return out
    out.competencies = [counts.competencies[i] for i in present_in]
    out.total, cells = total[present_in], cells[:, present_in]
    for m in np.unique(municipality[municipality >= 0]).tolist():
        out.by_municipality[int(m)] = cells[municipality == m].sum(axis=0)
    code_of = [stripped(counts.school_codes[a]) if a >= 0 and on else None
               for a, on in zip(at.tolist(), active.tolist(), strict=True)]
    present_at = counts.school_index(present)
    codes = {stripped(counts.school_codes[a]) if a >= 0 else None for a in present_at.tolist()}
    codes.update(code_of)
    out.codes = [*sorted(c for c in codes if c is not None), *([None] if None in codes else [])]
    index = {c: i for i, c in enumerate(out.codes)}
    out.rows = np.zeros((len(out.codes), len(present_in), KINDS), "int64")
    np.add.at(out.rows, np.array([index[c] for c in code_of], "int64"), cells)
    exact = {c: i for i, c in enumerate(counts.school_codes)}
    out.school = [exact.get(c, -1) if c is not None else -1 for c in out.codes]
    return out


def _own_teacher(counts: MapCounts, scope: Scope, ids: np.ndarray, diagnostic_id: int
                 ) -> MapCounts | None:
    """The levels of the scope's own teacher when the municipalities do not hold them."""
    if scope.teacher_moodle_id is None:
        return None
    own = db.session.execute(select(Teacher.id, Teacher.school_id, Teacher.active).where(
        Teacher.moodle_user_id == scope.teacher_moodle_id)).first()
    if own is None:
        return None
    at = counts.school_index(np.array([-1 if own.school_id is None else own.school_id]))[0]
    if at >= 0 and counts.school_municipality[at] in ids:
        return None
    mine = count_levels(diagnostic_id, own.id, counts.competencies)
    mine.present_school = np.array([-1 if own.school_id is None else own.school_id]
                                   if own.active else [], "int64")
    return mine


def stripped(code: str | None) -> str | None:
    """A school code as the pandas path keys it: stripped, blank as None."""
    return (code or "").strip() or None


def shares(rows: np.ndarray) -> np.ndarray:
    """deficit / assessed per row and competency, NaN where nobody was assessed."""
    assessed = rows[..., ASSESSED]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(assessed > 0, rows[..., DEFICIT] / np.maximum(assessed, 1), np.nan)


def share_dict(competencies: list[str], values: np.ndarray) -> dict[str, float | None]:
    """competency → share (None for NaN), as the map's JSON gives them."""
    return {c: (None if np.isnan(v) else float(v))
            for c, v in zip(competencies, values.tolist(), strict=True)}


def school_map_frame(diagnostic: Diagnostic, scope: Scope | None = None) -> pd.DataFrame:
    """``deficits.aggregate.school_map`` of the scope's levels, from the stored counts."""
    sums = scoped(map_counts(diagnostic), scope, diagnostic.id)
    n, k = len(sums.codes), len(sums.competencies)
    flat = sums.rows.reshape(n * k, KINDS)
    frame = pd.DataFrame({
        "school_code": pd.Series([c for c in sums.codes for _ in range(k)], dtype="object"),
        "competency": pd.Series(sums.competencies * n, dtype="str"),
        **{name: pd.Series(flat[:, i], dtype="int64")
           for i, name in enumerate(MAP_COLUMNS[:-1])}})
    assessed = frame["assessed"].where(frame["assessed"] > 0)
    frame["deficit_share"] = (frame["deficit"] / assessed).astype("float64")
    return frame
