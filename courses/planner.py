"""Near-optimal route planning under every limit, with a valid upper bound (issue 13).

``plan`` builds candidates (per teacher only sessions that fit: competency, subject, place,
dates, hours, not excluded), read from buckets of sessions by competency, subject and place.
With ``candidates_per_need`` it keeps only a few per need and adds the others by column
generation (exact pricing per bucket with the LP's seat, mentor, need, hours and date duals).
It splits the candidates into independent components (connected components of the
teacher–session–mentor graph) and per component solves the LP relaxation with HiGHS, then the
MILP with the remaining time (past ``mip_max_columns``: relax-and-fix, the LP's ones fixed),
then rounds with a feasibility repair and a greedy fill. The bound is the LP optimum (all
candidates) or ``lagrange_bound`` (a dual solution of the whole model's LP over every fitting
session). When the time runs out, or HiGHS is missing, the remaining components fall back to
the greedy pass (``plan_greedy``), flagged in the result. Every item and unmet need carries
structured reasons and a text (``courses.plan_texts``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from courses import plan_texts
from courses.plan_model import (
    EXTERNAL_COURSE,
    INTERNSHIP,
    LEVEL_DEFICIT,
    LEVEL_RISK,
    MENTORING,
    METHODICAL_EVENT,
    MOODLE_COURSE,
    PLACE_MUNICIPALITY,
    PLACE_OTHER,
    PLACE_PARTNER,
    PLACE_REMOTE,
    REASON_COMPETENCY_LIMIT,
    REASON_DATES_CLASH,
    REASON_EXCLUDED,
    REASON_HOURS_CAP,
    REASON_NO_OFFER,
    REASON_NO_SEATS,
    REASON_NOT_CHOSEN,
    REASON_PLACE,
    REASON_SUBJECT,
    REASON_UNAVAILABLE,
    REMOTE,
    STAGE_FINAL,
    Alternative,
    CoveredNeed,
    Evidence,
    PlanInput,
    PlanItem,
    PlanNeed,
    PlanOffer,
    PlanResult,
    PlanSession,
    PlanTeacher,
    Policy,
    UnmetNeed,
)

_PLACE_RANK = {PLACE_PARTNER: 0, PLACE_MUNICIPALITY: 1, PLACE_REMOTE: 2, PLACE_OTHER: 3}
# The old greedy rule order: partner internship, courses, internship, mentoring, events.
_KIND_RANK = {MOODLE_COURSE: 1, EXTERNAL_COURSE: 1, INTERNSHIP: 2, MENTORING: 3,
              METHODICAL_EVENT: 4}
_EPS = 1e-6
ALTERNATIVES_SHOWN = 5


def need_weight(need: PlanNeed, teacher: PlanTeacher, policy: Policy) -> float:
    """A need's weight in the objective (see ``Policy``)."""
    level = policy.deficit_weight if need.level == LEVEL_DEFICIT else policy.risk_weight
    stage = policy.final_weight if need.stage == STAGE_FINAL else policy.entry_weight
    extra = (policy.low_results_weight * teacher.low_results_school
             + policy.risk_group_weight * teacher.risk_group + policy.gap_weight * need.gap)
    return level * stage * (1.0 + extra)


def _evidence(inp: PlanInput, policy: Policy) -> dict[tuple[str, str], Evidence]:
    """Per (offer, competency), the earlier period's evidence the value uses: effects with at
    least ``effect_min_pairs`` pairs, when ``effect_weight`` is above 0 (see ``Policy``)."""
    out: dict[tuple[str, str], Evidence] = {}
    if policy.effect_weight <= 0:
        return out
    covers = {(o.key, c) for o in inp.offers for c in o.competencies}
    for e in inp.effects:  # an offer's evidence counts for what it covers now
        if e.pairs >= policy.effect_min_pairs and (e.offer_key, e.competency) in covers:
            factor = 1.0 + policy.effect_weight * (e.shrunk - e.kind_share)
            out[(e.offer_key, e.competency)] = Evidence(
                e.competency, e.pairs, e.closed, e.shrunk, e.kind_share, max(factor, 0.0))
    return out


def _period(day: dt.date) -> tuple[int, int]:
    """Half-year of a date: (year, 0) for January–June, (year, 1) for July–December."""
    return (day.year, 0 if day.month <= 6 else 1)


@dataclass(frozen=True, slots=True)
class _Cand:
    """A possible item: teacher, session, the open competencies it covers, its value."""

    teacher: int
    session: int  # index into sessions
    comps: tuple[str, ...]
    value: float
    place: str


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the filters and the state read of a session, looked up once."""

    key: str
    offer: PlanOffer
    subjects: frozenset[str]
    host: str | None  # the offer's host school
    municipality: str | None  # the session's, else the offer's
    remote: bool
    starts_on: dt.date
    ends_on: dt.date
    hours: float
    period: tuple[int, int]
    seats: int | None
    gains: dict[str, float] | None  # competency → need weight factor (``Policy``), if any


def _spread(key: str) -> int:
    """A deterministic pseudo-random rank of a session key (stable across runs)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


class _Model:
    """Candidates and static data of one planning run."""

    def __init__(self, inp: PlanInput, policy: Policy, per_need: int | None = None) -> None:
        self.per_need = per_need
        self.cg_duals: dict[object, float] = {}  # the last column-generation LP's duals
        # ... and, per teacher and kept session, what its hours and date rows' duals take.
        self.cg_extra: dict[int, dict[int, float]] = {}
        self.cg_extra_total = 0.0  # Σ dual × right-hand side over those rows
        self.cg_x: np.ndarray | None = None  # the last column-generation LP's solution
        self.scan_cache: _ScanCache | None = None  # ``_scan``'s price-free part
        self.inp = inp
        self.policy = policy
        self._bonus = {PLACE_PARTNER: policy.partner_bonus,
                       PLACE_MUNICIPALITY: policy.municipality_bonus,
                       PLACE_REMOTE: policy.remote_bonus}
        self.teachers = {t.teacher_id: t for t in inp.teachers}
        self.offers = {o.key: o for o in inp.offers}
        if len(self.offers) != len(inp.offers):
            raise ValueError("offer keys must be unique")
        self.sessions: list[PlanSession] = sorted(inp.sessions, key=lambda s: s.key)
        self.session_index = {s.key: i for i, s in enumerate(self.sessions)}
        if len(self.session_index) != len(self.sessions):
            raise ValueError("session keys must be unique")
        self.evidence = _evidence(inp, policy)
        gains_of: dict[str, dict[str, float]] = defaultdict(dict)
        for (offer_key, competency), ev in self.evidence.items():
            gains_of[offer_key][competency] = ev.factor
        self.facts: list[_Facts] = []
        for row in self.sessions:
            offer = self.offers.get(row.offer_key)
            if offer is None:
                raise ValueError(f"session {row.key} names an unknown offer")
            self.facts.append(_Facts(row.key, offer, frozenset(offer.subjects),
                                     offer.host_school, row.municipality or offer.municipality,
                                     offer.format == REMOTE, row.starts_on, row.ends_on,
                                     row.hours, _period(row.starts_on), row.seats,
                                     gains_of.get(offer.key)))
        self.mentor_cap = {m.mentor_id: m.capacity for m in inp.mentors}
        self.excluded = set(inp.excluded)
        self.previous = set(inp.previous)
        levels = (LEVEL_DEFICIT, LEVEL_RISK) if policy.include_risk else (LEVEL_DEFICIT,)
        # Open needs: one per teacher and competency, the heaviest wins.
        best: dict[tuple[int, str], tuple[float, PlanNeed]] = {}
        for need in inp.needs:
            teacher = self.teachers.get(need.teacher_id)
            if teacher is None or need.level not in levels:
                continue
            weight = need_weight(need, teacher, policy)
            key = (need.teacher_id, need.competency)
            if key not in best or weight > best[key][0]:
                best[key] = (weight, need)
        self.need: dict[tuple[int, str], PlanNeed] = {k: v[1] for k, v in best.items()}
        self.weight: dict[tuple[int, str], float] = {k: v[0] for k, v in best.items()}
        self.needs_of: dict[int, list[str]] = defaultdict(list)
        for teacher_id, competency in sorted(self.need):
            self.needs_of[teacher_id].append(competency)
        self.state = _State(self)
        self._fix()
        # What the fixed items alone use (the state moves on as items are chosen).
        self.fixed_seats = dict(self.state.seats_used)
        self.fixed_mentor = dict(self.state.mentor_used)
        self.fixed_comp = dict(self.state.comp_count)
        self.cands: list[_Cand] = []
        self._open_weights: dict[int, dict[str, float]] = {}  # ``_cand``'s, per teacher
        self.blocked: dict[tuple[int, str], list[tuple[_Cand, str]]] = defaultdict(list)
        self._generate()

    def offer_of(self, session: int) -> PlanOffer:
        return self.facts[session].offer

    def place(self, teacher: PlanTeacher, session: int) -> str | None:
        """Where the session is for this teacher, or None when they cannot attend it."""
        f = self.facts[session]
        if f.host and f.host in teacher.partners:
            return PLACE_PARTNER
        if f.municipality is not None and f.municipality == teacher.municipality:
            return PLACE_MUNICIPALITY
        if f.remote:
            return PLACE_REMOTE
        return None

    def _fix(self) -> None:
        """Fixed items: kept; they use seats, mentor places, hours, dates and competencies."""
        self.fixed: list[_Cand] = []
        for item in sorted(self.inp.fixed, key=lambda f: (f.teacher_id, f.session_key)):
            session = self.session_index.get(item.session_key)
            teacher = self.teachers.get(item.teacher_id)
            if session is None or teacher is None:
                raise ValueError(f"fixed item {item} names an unknown teacher or session")
            offer = self.offer_of(session)
            comps = tuple(c for c in offer.competencies if (item.teacher_id, c) in self.need)
            cand = _Cand(item.teacher_id, session, comps, 0.0,
                         self.place(teacher, session) or PLACE_OTHER)
            self.state.add(cand, force=True)
            self.fixed.append(cand)

    def _generate(self) -> None:
        """Candidates per open need from buckets of sessions by competency, subject and place.

        A session sits in bucket (competency, subject or "*", place) for each subject of its
        offer ("*" when it has none) and each place it can be attended from: ("M", its
        municipality), ("H", its host school), ("R",) when remote. A teacher's need reads the
        buckets of its competency for the teacher's subjects and "*", at the partner resource
        centres, in the municipality and remote, in that order. With ``per_need`` set, at most
        that many fitting sessions per need are kept (remote ones from a per-teacher offset so
        teachers spread over equal sessions); the bound then comes from ``lagrange_bound``,
        which covers every fitting session, kept or not.
        """
        self.buckets: dict[tuple[str, str, tuple[str, ...]], list[int]] = defaultdict(list)
        self.comp_sessions: dict[str, int] = defaultdict(int)
        self.comp_subjects: dict[str, set[str]] = defaultdict(set)
        for i, row in enumerate(self.sessions):
            offer = self.facts[i].offer
            places: list[tuple[str, ...]] = []
            if offer.host_school:
                places.append(("H", offer.host_school))
            muni = row.municipality or offer.municipality
            if muni is not None:
                places.append(("M", muni))
            if offer.format == REMOTE:
                places.append(("R",))
            for competency in offer.competencies:
                self.comp_sessions[competency] += 1
                for subject in offer.subjects or ("*",):
                    self.comp_subjects[competency].add(subject)
                    for place in places:
                        self.buckets[(competency, subject, place)].append(i)
        for members in self.buckets.values():
            members.sort(key=lambda i: _spread(self.sessions[i].key))
        self.reason: dict[tuple[int, str], str] = {}
        self.pruned = False
        for teacher_id in sorted(self.needs_of):
            self._generate_teacher(self.teachers[teacher_id])

    def teacher_buckets(self, teacher: PlanTeacher, competency: str
                        ) -> list[tuple[str, list[int]]]:
        """(place class, sessions) buckets a teacher's need in ``competency`` reads."""
        subjects = (*teacher.subjects, "*") if teacher.subjects else \
            tuple(sorted(self.comp_subjects.get(competency, ())))
        out: list[tuple[str, list[int]]] = []
        places: list[tuple[str, tuple[str, ...]]] = [(PLACE_PARTNER, ("H", p))
                                                     for p in teacher.partners]
        if teacher.municipality is not None:
            places.append((PLACE_MUNICIPALITY, ("M", teacher.municipality)))
        places.append((PLACE_REMOTE, ("R",)))
        for cls, place in places:
            for subject in subjects:
                members = self.buckets.get((competency, subject, place))
                if members:
                    out.append((cls, members))
        return out

    def candidate(self, teacher: PlanTeacher, session: int) -> _Cand | None:
        """The candidate of a teacher and session when it passes every filter, else None."""
        got, _why, place = self._filter(teacher, session)
        if got != _PASSED:
            return None
        return self._cand(teacher, session, place)

    def _cand(self, teacher: PlanTeacher, session: int, place: str | None = None) -> _Cand:
        teacher_id = teacher.teacher_id
        f = self.facts[session]
        weight = self._open_weights.get(teacher_id)
        if weight is None:  # the teacher's needs still open past the fixed items
            limit = self.policy.max_items_per_competency
            weight = self._open_weights[teacher_id] = {
                c: self.weight[(teacher_id, c)] for c in self.needs_of.get(teacher_id, ())
                if self.fixed_comp.get((teacher_id, c), 0) < limit}
        comps = tuple([c for c in f.offer.competencies if c in weight])
        place = place or self.place(teacher, session) or PLACE_OTHER
        gains = f.gains
        covered = sum([weight[c] for c in comps]) if gains is None else \
            sum([weight[c] * gains.get(c, 1.0) for c in comps])
        value = covered + self._bonus.get(place, 0.0) - self.policy.item_penalty
        if self.previous and (teacher_id, f.key) in self.previous:
            value += self.policy.keep_bonus
        return _Cand(teacher_id, session, comps, value, place)

    def _generate_teacher(self, teacher: PlanTeacher) -> None:
        teacher_id = teacher.teacher_id
        limit = self.policy.max_items_per_competency
        open_comps = [c for c in self.needs_of[teacher_id]
                      if self.state.comp_count[(teacher_id, c)] < limit]
        seen: set[int] = set()
        cap = self.per_need
        for competency in open_comps:
            # Before any bucket is read: no offer, none for the subject, none in reach.
            stage, why, kept = -1, REASON_NO_OFFER, 0
            if self.comp_sessions.get(competency):
                why = REASON_PLACE
                subjects = self.comp_subjects[competency]
                if teacher.subjects and "*" not in subjects and \
                        not subjects & set(teacher.subjects):
                    why = REASON_SUBJECT
            for cls, members in self.teacher_buckets(teacher, competency):
                n = len(members)
                offset = (teacher_id * 7919) % n if cls == PLACE_REMOTE and cap else 0
                for step in range(n):
                    if cap is not None and kept >= cap:
                        self.pruned = True
                        break
                    session = members[(offset + step) % n]
                    if session in seen:
                        kept += 1
                        continue
                    got, blocked_by, place = self._filter(teacher, session)
                    if got > stage:
                        stage, why = got, blocked_by or _STAGE_REASON[got]
                    if got < _FULL:
                        continue
                    seen.add(session)
                    cand = self._cand(teacher, session, place)
                    if got == _FULL:
                        for c in cand.comps:
                            self.blocked[(teacher_id, c)].append((cand, REASON_NO_SEATS))
                    else:
                        self.cands.append(cand)
                        kept += 1
            self.reason[(teacher_id, competency)] = why

    def _filter(self, teacher: PlanTeacher, session: int) -> tuple[int, str | None, str | None]:
        """How far a session gets through the static filters for a teacher (_PASSED: all),
        what stopped it past the fixed items (hours, dates, competency limit), and its place
        for the teacher once it has one."""
        f = self.facts[session]
        if self.excluded and (teacher.teacher_id, f.offer.key) in self.excluded:
            return _S_EXCLUDED, None, None
        if f.subjects and teacher.subjects and f.subjects.isdisjoint(teacher.subjects):
            return _S_SUBJECT, None, None
        place = self.place(teacher, session)
        if place is None:
            return _S_PLACE, None, None
        if teacher.unavailable and any(a <= f.ends_on and f.starts_on <= b
                                       for a, b in teacher.unavailable):
            return _S_UNAVAILABLE, None, place
        why = self.state.blocks(teacher.teacher_id, session)
        if why == REASON_NO_SEATS:
            return _FULL, why, place
        if why is not None:
            return _S_STATIC_CLASH, why, place
        return _PASSED, None, place


# Filter stages, in order; the reason for an unmet need is the last stage its best session hit.
(_S_NONE, _S_EXCLUDED, _S_SUBJECT, _S_PLACE, _S_UNAVAILABLE, _S_STATIC_CLASH, _FULL,
 _PASSED) = range(8)
_STAGE_REASON = {_S_NONE: REASON_NO_OFFER, _S_EXCLUDED: REASON_EXCLUDED, _S_SUBJECT: REASON_SUBJECT,
                 _S_PLACE: REASON_PLACE, _S_UNAVAILABLE: REASON_UNAVAILABLE,
                 _S_STATIC_CLASH: REASON_DATES_CLASH, _FULL: REASON_NO_SEATS,
                 _PASSED: REASON_NOT_CHOSEN}


class _State:
    """What chosen items use: seats, mentor places, competencies, hours, dates, offers."""

    def __init__(self, model: _Model) -> None:
        # The model's parts, not the model: no reference cycle, so a finished plan is freed
        # at once even while the cyclic collector is paused (``plan_scale.gc_paused``).
        self.facts = model.facts
        self.policy = model.policy
        self.mentor_cap = model.mentor_cap
        self.teachers = model.teachers
        self.seats_used: dict[int, int] = defaultdict(int)
        self.mentor_used: dict[str, int] = defaultdict(int)
        self.comp_count: dict[tuple[int, str], int] = defaultdict(int)
        self.hours: dict[tuple[int, tuple[int, int]], float] = defaultdict(float)
        self.dates: dict[int, list[int]] = defaultdict(list)  # teacher → sessions
        self.offers: dict[int, set[str]] = defaultdict(set)

    def cap(self, teacher_id: int) -> float:
        teacher = self.teachers[teacher_id]
        return self.policy.hours_cap if teacher.hours_cap is None else teacher.hours_cap

    def blocks(self, teacher_id: int, session: int, comps: Iterable[str] = (),
               without: _Cand | None = None) -> str | None:
        """Why the session cannot be added for the teacher now (None: it can); ``without``:
        as if that chosen item of the teacher were removed first."""
        facts = self.facts
        f = facts[session]
        gone = facts[without.session] if without is not None else None
        offers = self.offers.get(teacher_id)
        if offers and f.offer.key in offers and (gone is None or gone.offer.key != f.offer.key):
            return REASON_COMPETENCY_LIMIT
        limit = self.policy.max_items_per_competency
        for c in comps:
            used = self.comp_count.get((teacher_id, c), 0)
            if without is not None and c in without.comps:
                used -= 1
            if used >= limit:
                return REASON_COMPETENCY_LIMIT
        if f.seats is not None and self.seats_used.get(session, 0) \
                - (without is not None and without.session == session) >= f.seats:
            return REASON_NO_SEATS
        mentor = f.offer.mentor_id
        if mentor is not None and mentor in self.mentor_cap:
            mentees = self.mentor_used.get(mentor, 0)
            if gone is not None and gone.offer.mentor_id == mentor:
                mentees -= 1
            if mentees >= self.mentor_cap[mentor]:
                return REASON_NO_SEATS
        skip = without.session if without is not None else -1
        for other in self.dates.get(teacher_id, ()):
            if other == skip:
                skip = -1  # removing an item takes one entry
                continue
            o = facts[other]
            if o.starts_on <= f.ends_on and f.starts_on <= o.ends_on:
                return REASON_DATES_CLASH
        if f.hours:
            used_h = self.hours.get((teacher_id, f.period), 0.0)
            if gone is not None and gone.period == f.period:
                used_h -= gone.hours
            if used_h + f.hours > self.cap(teacher_id) + _EPS:
                return REASON_HOURS_CAP
        return None

    def add(self, cand: _Cand, force: bool = False) -> None:
        if not force:
            why = self.blocks(cand.teacher, cand.session, cand.comps)
            if why is not None:
                raise AssertionError(f"infeasible item added: {why}")
        f = self.facts[cand.session]
        self.seats_used[cand.session] += 1
        if f.offer.mentor_id is not None:
            self.mentor_used[f.offer.mentor_id] += 1
        for c in cand.comps:
            self.comp_count[(cand.teacher, c)] += 1
        self.hours[(cand.teacher, f.period)] += f.hours
        self.dates[cand.teacher].append(cand.session)
        self.offers[cand.teacher].add(f.offer.key)

    def remove(self, cand: _Cand) -> None:
        f = self.facts[cand.session]
        self.seats_used[cand.session] -= 1
        if f.offer.mentor_id is not None:
            self.mentor_used[f.offer.mentor_id] -= 1
        for c in cand.comps:
            self.comp_count[(cand.teacher, c)] -= 1
        self.hours[(cand.teacher, f.period)] -= f.hours
        self.dates[cand.teacher].remove(cand.session)
        self.offers[cand.teacher].discard(f.offer.key)


# --- greedy ----------------------------------------------------------------------------------

def _greedy_order(model: _Model, cols: Sequence[int]) -> list[int]:
    """The old greedy pass on the new model: needs most severe first; for each open need the
    first feasible session by rule (partner internship, course, internship, mentoring, event),
    then most open needs covered, then key."""
    by_need: dict[tuple[int, str], list[int]] = defaultdict(list)
    for j in cols:
        cand = model.cands[j]
        for c in cand.comps:
            by_need[(cand.teacher, c)].append(j)
    order = sorted(by_need, key=lambda k: (-model.weight[k], k))
    chosen: list[int] = []

    def rank(j: int) -> tuple[int, int, str]:
        cand = model.cands[j]
        offer = model.offer_of(cand.session)
        kind = 0 if offer.kind == INTERNSHIP and cand.place == PLACE_PARTNER else \
            _KIND_RANK.get(offer.kind, 5)
        return (kind, -len(cand.comps), model.sessions[cand.session].key)

    state = model.state
    for key in order:
        teacher_id, competency = key
        if state.comp_count[key] >= model.policy.max_items_per_competency:
            continue
        for j in sorted(by_need[key], key=rank):
            cand = model.cands[j]
            if state.blocks(teacher_id, cand.session, cand.comps) is None:
                state.add(cand)
                chosen.append(j)
                break
    return chosen


# --- LP / MILP -------------------------------------------------------------------------------

_Rows = tuple[list[list[int]], list[float], dict[int, object], dict[int, list[float]]]


def _rows(model: _Model, cols: Sequence[int], every_need: bool = False) -> _Rows:
    """Constraint rows (column positions), their upper bounds, and which rows are seats
    (row → session index), mentors (row → mentor id) or, with ``every_need`` (a row for
    every need, even with one column), needs (row → (teacher, competency)); the last part
    gives the coefficients of rows that are not all ones (hours rows: each session's hours)."""
    coefs: dict[int, list[float]] = {}
    rows: list[list[int]] = []
    ub: list[float] = []
    coupling: dict[int, object] = {}
    state = model.state
    seat_rows: dict[int, list[int]] = defaultdict(list)
    mentor_rows: dict[str, list[int]] = defaultdict(list)
    comp_rows: dict[tuple[int, str], list[int]] = defaultdict(list)
    hour_rows: dict[tuple[int, tuple[int, int]], list[int]] = defaultdict(list)
    offer_rows: dict[tuple[int, str], list[int]] = defaultdict(list)
    by_teacher: dict[int, list[int]] = defaultdict(list)
    for pos, j in enumerate(cols):
        cand = model.cands[j]
        s = model.sessions[cand.session]
        offer = model.offers[s.offer_key]
        if s.seats is not None:
            seat_rows[cand.session].append(pos)
        if offer.mentor_id is not None and offer.mentor_id in model.mentor_cap:
            mentor_rows[offer.mentor_id].append(pos)
        for c in cand.comps:
            comp_rows[(cand.teacher, c)].append(pos)
        if s.hours:
            hour_rows[(cand.teacher, _period(s.starts_on))].append(pos)
        offer_rows[(cand.teacher, offer.key)].append(pos)
        by_teacher[cand.teacher].append(pos)
    for session, members in seat_rows.items():
        seats = model.sessions[session].seats
        assert seats is not None
        coupling[len(rows)] = session
        rows.append(members)
        ub.append(float(seats - state.seats_used[session]))
    for mentor, members in mentor_rows.items():
        coupling[len(rows)] = mentor
        rows.append(members)
        ub.append(float(model.mentor_cap[mentor] - state.mentor_used[mentor]))
    limit = model.policy.max_items_per_competency
    for key, members in comp_rows.items():
        if len(members) > 1 or every_need:
            if every_need:
                coupling[len(rows)] = key
            rows.append(members)
            ub.append(float(limit - state.comp_count[key]))
    for (teacher_id, period), members in hour_rows.items():
        left = state.cap(teacher_id) - state.hours[(teacher_id, period)]
        total = sum(model.sessions[model.cands[cols[p]].session].hours for p in members)
        if total > left + _EPS:
            coefs[len(rows)] = [model.sessions[model.cands[cols[p]].session].hours
                                for p in members]
            rows.append(members)
            ub.append(left)
    if limit > 1:
        for members in offer_rows.values():
            if len(members) > 1:
                rows.append(members)
                ub.append(1.0)
    for clique in _clique_rows(model, cols, by_teacher):
        rows.append(clique)
        ub.append(1.0)
    return rows, ub, coupling, coefs


def _clique_rows(model: _Model, cols: Sequence[int], by_teacher: dict[int, list[int]]
                 ) -> list[list[int]]:
    """No two sessions of a teacher overlap: the maximal cliques of an interval graph sit at
    start dates, one row each."""
    out: list[list[int]] = []
    for members in by_teacher.values():
        if len(members) < 2:
            continue
        spans = [(model.sessions[model.cands[cols[p]].session], p) for p in members]
        starts = sorted({s.starts_on for s, _ in spans})
        cliques = {tuple(p for s, p in spans if s.starts_on <= d <= s.ends_on) for d in starts}
        for clique in sorted(cliques):
            if len(clique) > 1 and not any(set(clique) < set(o) for o in cliques):
                out.append(list(clique))
    return out


def _solve(values: np.ndarray, rows: list[list[int]], ub: list[float], integer: bool,
           time_limit: float, *, lower: np.ndarray | None = None, upper: float = 1.0,
           coefs: dict[int, list[float]] | None = None
           ) -> tuple[str, float, np.ndarray | None, np.ndarray | None]:
    """Maximise values·x, lower ≤ x ≤ 1, rows·x ≤ ub with HiGHS:
    (status, objective, x, row duals of the LP)."""
    import highspy

    n = len(values)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(time_limit, 0.01))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    if integer:
        h.setOptionValue("mip_rel_gap", 1e-6)
    col_rows: list[list[int]] = [[] for _ in range(n)]
    col_vals: list[list[float]] = [[] for _ in range(n)]
    coefs = coefs or {}
    for r, members in enumerate(rows):
        weights = coefs.get(r)
        for k, p in enumerate(members):
            col_rows[p].append(r)
            col_vals[p].append(1.0 if weights is None else weights[k])
    start = np.zeros(n + 1, dtype=np.int32)
    start[1:] = np.cumsum([len(c) for c in col_rows])
    index = np.fromiter((r for c in col_rows for r in c), dtype=np.int32, count=int(start[-1]))
    matrix = np.fromiter((v for c in col_vals for v in c), dtype=np.float64,
                         count=int(start[-1]))
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(rows)
    lp.col_cost_ = values.astype(np.float64)
    lp.col_lower_ = np.zeros(n) if lower is None else lower
    lp.col_upper_ = np.full(n, upper if upper < 1e30 else highspy.kHighsInf)
    lp.row_lower_ = np.full(len(rows), -highspy.kHighsInf)
    lp.row_upper_ = np.asarray(ub, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = matrix
    lp.sense_ = highspy.ObjSense.kMaximize
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    optimal = status == highspy.HighsModelStatus.kOptimal
    has_x = info.primal_solution_status == 2  # feasible
    solution = h.getSolution()
    x = np.asarray(solution.col_value) if has_x else None
    duals = None
    if integer:
        obj = float(info.objective_function_value) if has_x else 0.0
    else:
        obj = float(info.objective_function_value) if optimal else float("nan")
        duals = np.maximum(np.asarray(solution.row_dual), 0.0) if optimal else None
    return ("optimal" if optimal else str(status)), obj, x, duals


def _trivial_bound(model: _Model, cols: Sequence[int]) -> float:
    """A valid bound without a solver: every need covered (up to the limit) by its best item."""
    best: dict[tuple[int, str], float] = {}
    for j in cols:
        cand = model.cands[j]
        for c in cand.comps:
            key = (cand.teacher, c)
            share = cand.value * model.weight[key] / sum(model.weight[(cand.teacher, d)]
                                                         for d in cand.comps)
            best[key] = max(best.get(key, 0.0), share)
    return model.policy.max_items_per_competency * sum(max(v, 0.0) for v in best.values())


def _components(model: _Model) -> list[list[int]]:
    """Connected components of the teacher–session–mentor graph, as candidate indices."""
    parent: dict[object, object] = {}

    def find(a: object) -> object:
        parent.setdefault(a, a)
        root = a
        while parent[root] != root:
            root = parent[root]
        while parent[a] != root:
            parent[a], a = root, parent[a]
        return root

    def union(a: object, b: object) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    for cand in model.cands:
        union(("t", cand.teacher), ("s", cand.session))
        mentor = model.offer_of(cand.session).mentor_id
        if mentor is not None:
            union(("s", cand.session), ("m", mentor))
    groups: dict[object, list[int]] = defaultdict(list)
    for j, cand in enumerate(model.cands):
        groups[find(("t", cand.teacher))].append(j)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def _round(model: _Model, cols: Sequence[int], x: np.ndarray) -> list[int]:
    """LP rounding: take columns by LP value (then item value), keep what stays feasible,
    then fill with the best remaining feasible items."""
    order = sorted(range(len(cols)), key=lambda p: (-round(float(x[p]), 6),
                                                    -model.cands[cols[p]].value, cols[p]))
    chosen: list[int] = []
    for p in order:
        cand = model.cands[cols[p]]
        if cand.value > 0 and model.state.blocks(cand.teacher, cand.session, cand.comps) is None:
            model.state.add(cand)
            chosen.append(cols[p])
    return chosen


def _solve_component(model: _Model, cols: list[int], deadline: float,
                     mip_max_columns: int, duals: dict[object, float]
                     ) -> tuple[list[int], float, str]:
    """One component: LP bound, then MILP (relax-and-fix past ``mip_max_columns``: columns at
    1 in the LP stay fixed, the MILP decides the rest), then rounding with a feasibility
    repair and a greedy fill: (chosen, LP bound, method). Seat and mentor duals go to
    ``duals`` (for the Lagrangian bound)."""
    values = np.array([model.cands[j].value for j in cols])
    if len(cols) == 1:
        return _round(model, cols, np.ones(1)), max(float(values[0]), 0.0), "milp"
    rows, ub, coupling, coefs = _rows(model, cols)
    status, lp_obj, x, y = _solve(values, rows, ub, False, deadline - time.perf_counter(),
                                  coefs=coefs)
    if status != "optimal" or x is None or y is None:
        return _greedy_order(model, cols), _trivial_bound(model, cols), "greedy"
    for row, key in coupling.items():
        duals[key] = float(y[row])
    integral = bool(np.all(np.minimum(x, 1 - x) < _EPS))
    left = deadline - time.perf_counter()
    how = "milp" if integral else "lp_round"
    if not integral and left > 0:
        lower = None if len(cols) <= mip_max_columns else (x > 1 - _EPS).astype(np.float64)
        _status, _obj, xi, _y = _solve(values, rows, ub, True, left, lower=lower, coefs=coefs)
        if xi is not None:
            x, how = xi, "milp" if lower is None else "relax_and_fix"
    return _round(model, cols, x), lp_obj, how


def _generate_columns(model: _Model, deadline: float, rounds: int) -> int:
    """Column generation for a capped model: solve the LP over the kept sessions, then add,
    per need, the cheapest session of each of its buckets (by seat and mentor price; among
    equally cheap ones by a per-teacher offset) whose reduced value is positive; repeat.
    Returns the number of sessions added."""
    added_total = 0
    for _ in range(rounds):
        if time.perf_counter() >= deadline or not model.cands:
            break
        cols = list(range(len(model.cands)))
        values = np.array([c.value for c in model.cands])
        rows, ub, coupling, coefs = _rows(model, cols, every_need=True)
        status, _obj, x, y = _solve(values, rows, ub, False, deadline - time.perf_counter(),
                                    upper=1.0, coefs=coefs)
        if status != "optimal" or y is None or x is None:
            break
        model.cg_x = x
        duals = {key: float(y[row]) for row, key in coupling.items()}
        # Hours and date rows: what their duals take from each kept column (by teacher).
        extra: dict[int, dict[int, float]] = defaultdict(dict)
        model.cg_extra_total = 0.0
        for row, members in enumerate(rows):
            if row in coupling or y[row] <= 0:
                continue
            model.cg_extra_total += float(y[row]) * ub[row]
            weights = coefs.get(row)
            for k, pos in enumerate(members):
                kept = model.cands[cols[pos]]
                mine = extra[kept.teacher]
                mine[kept.session] = mine.get(kept.session, 0.0) + float(y[row]) * (
                    1.0 if weights is None else weights[k])
        model.cg_duals = duals
        model.cg_extra = dict(extra)
        have = {(c.teacher, c.session) for c in model.cands}
        added = 0
        for teacher_id, session in _price_out(model, duals):
            if (teacher_id, session) in have:
                continue
            cand = model.candidate(model.teachers[teacher_id], session)
            if cand is not None:
                model.cands.append(cand)
                have.add((teacher_id, session))
                added += 1
        added_total += added
        if not added:
            break
    return added_total


def _prices(model: _Model, duals: dict[object, float]) -> np.ndarray:
    """Per session: its seat dual plus its mentor's dual."""
    price = np.zeros(len(model.sessions))
    for i, row in enumerate(model.sessions):
        mentor = model.offers[row.offer_key].mentor_id
        price[i] = duals.get(i, 0.0) + (duals.get(mentor, 0.0) if mentor else 0.0)
    return price


def priced_capacity(model: _Model, duals: dict[object, float]) -> float:
    """Σ price × free places over the seat and mentor rows (what fixed items leave free)."""
    total = 0.0
    for i, row in enumerate(model.sessions):
        if row.seats is not None:
            total += duals.get(i, 0.0) * max(row.seats - model.fixed_seats.get(i, 0), 0)
    for mentor, cap in model.mentor_cap.items():
        total += duals.get(mentor, 0.0) * max(cap - model.fixed_mentor.get(mentor, 0), 0)
    return total


def lagrange_bound(model: _Model, duals: dict[object, float]) -> float:
    """An upper bound on the LP of the whole model (every fitting session, kept or not).

    A dual solution of the model's LP with hours and date rows dropped (a relaxation):
    seat and mentor rows priced with ``duals`` (y ≥ 0), need rows with the need duals μ*
    in ``duals`` (0 where absent) raised to stay feasible for every session of the need's
    buckets: μ(t, c) = μ*(t, c) + max rc⁺ · w_c / W, where rc = v − y − Σ μ* over the
    session's needs and W is the weight of the teacher's open needs it covers (a session's
    raises over its needs add up to its rc⁺). Its objective Σ y·seats + Σ L·μ bounds the LP
    and so the optimum; with the LP's own duals after column generation it is the LP's
    optimum plus what the dropped rows and the unpriced sessions are worth. Computed per
    bucket with numpy over all its sessions and all needs reading it.
    """
    price = _prices(model, duals)
    total = (model.cg_extra_total if model.cg_extra else 0.0) + priced_capacity(model, duals)
    cache = _scan_cache(model)
    mu = cache.mu(duals)
    best = np.full(len(cache.need_keys), -np.inf)
    for bucket, excess, _best, _rc in _scan(model, price, mu):
        np.maximum.at(best, bucket.need_ids, excess)
    read = best > -np.inf
    return total + float(np.sum(cache.slots[read] * (mu[read] + np.maximum(best[read], 0.0))))


def _price_out(model: _Model, duals: dict[object, float]) -> list[tuple[int, int]]:
    """Per need, the session of best reduced value v − y − Σ need duals when positive."""
    price = _prices(model, duals)
    cache = _scan_cache(model)
    found: list[tuple[int, int]] = []
    for bucket, _excess, best, rc in _scan(model, price, cache.mu(duals)):
        for k in np.flatnonzero(rc > 1e-6):
            found.append((cache.need_keys[bucket.need_ids[k]][0],
                          int(bucket.members[best[k]])))
    return found


@dataclass
class _ScanBucket:
    """One bucket of sessions and the open needs reading it, with what prices do not change:
    W (the reader's open weight a session covers) and each need's share w_c / W."""

    members: np.ndarray  # session indices
    rows: np.ndarray  # the readers' teacher rows
    need_ids: np.ndarray  # the readers' needs
    covers: np.ndarray  # sessions × competencies, 1 where the offer covers it
    cover_w: np.ndarray  # readers × sessions
    share: np.ndarray  # readers × sessions
    base: float  # place bonus + keep bonus − item penalty
    last_excess: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


@dataclass
class _ScanCache:
    """The price-free part of ``_scan`` (built once per model)."""

    need_keys: list[tuple[int, str]]
    slots: np.ndarray
    need_rows: np.ndarray
    need_cols: np.ndarray
    row_teacher: list[int]
    n_comps: int
    buckets: list[_ScanBucket]

    def mu(self, duals: dict[object, float]) -> np.ndarray:
        return np.fromiter((duals.get(key, 0.0) for key in self.need_keys), dtype=np.float64,
                           count=len(self.need_keys))


def _scan_cache(model: _Model) -> _ScanCache:
    if model.scan_cache is not None:
        return model.scan_cache
    p = model.policy
    bonus = model._bonus
    keep = p.keep_bonus if model.previous else 0.0
    comp_ids = {c: k for k, c in enumerate(sorted({c for o in model.offers.values()
                                                   for c in o.competencies}))}
    cache, readers, weights = _scan_readers(model, comp_ids)
    for members, rows_of, ids, cls in readers:
        covers = np.zeros((len(members), len(comp_ids)))
        for m, session in enumerate(members):
            for c in model.offer_of(session).competencies:
                covers[m, comp_ids[c]] = 1.0
        gains: np.ndarray | None = None  # covers with the effectiveness factors, when any
        for m, session in enumerate(members):
            f = model.facts[session]
            if f.gains:
                if gains is None:
                    gains = covers.copy()
                for c, factor in f.gains.items():
                    gains[m, comp_ids[c]] = factor
        rows = np.array(rows_of, dtype=np.int64)
        need_ids = np.array(ids, dtype=np.int64)
        # W: what a session's covered needs weigh for each reader (a need's weight times the
        # offer's factor); a need's share of the session's reduced value is its part of W.
        valued = covers if gains is None else gains
        cover_w = weights[rows] @ valued.T
        cols = cache.need_cols[need_ids]
        w_c = weights[rows, cols][:, None] * (1.0 if gains is None else gains[:, cols].T)
        cache.buckets.append(_ScanBucket(
            np.array(members, dtype=np.int64), rows, need_ids, covers, cover_w,
            w_c / np.maximum(cover_w, 1e-12), bonus[cls] + keep - p.item_penalty))
    model.scan_cache = cache
    return cache


def _scan_readers(model: _Model, comp_ids: dict[str, int]
                  ) -> tuple[_ScanCache, list[tuple[list[int], list[int], list[int], str]],
                             np.ndarray]:
    """The open needs (keys, free slots, teacher row, competency column), each bucket with
    the needs reading it, and each teacher row's open weights by competency."""
    limit = model.policy.max_items_per_competency
    readers: dict[int, tuple[list[int], list[int], list[int], str]] = {}
    teacher_rows: list[np.ndarray] = []
    cache = _ScanCache([], np.zeros(0), np.zeros(0, dtype=np.int64),
                       np.zeros(0, dtype=np.int64), [], len(comp_ids), [])
    slots: list[float] = []
    need_rows: list[int] = []
    need_cols: list[int] = []
    for teacher_id, comps in sorted(model.needs_of.items()):
        teacher = model.teachers[teacher_id]
        vec = np.zeros(len(comp_ids))
        open_comps = [c for c in comps if model.fixed_comp.get((teacher_id, c), 0) < limit]
        for c in open_comps:
            if c in comp_ids:
                vec[comp_ids[c]] = model.weight[(teacher_id, c)]
        row_index = len(teacher_rows)
        teacher_rows.append(vec)
        cache.row_teacher.append(teacher_id)
        for c in open_comps:
            need_id = len(cache.need_keys)
            cache.need_keys.append((teacher_id, c))
            slots.append(float(limit - model.fixed_comp.get((teacher_id, c), 0)))
            need_rows.append(row_index)
            need_cols.append(comp_ids.get(c, -1))
            seen: set[int] = set()
            for cls, members in model.teacher_buckets(teacher, c):
                if id(members) in seen:
                    continue
                seen.add(id(members))
                entry = readers.setdefault(id(members), (members, [], [], cls))
                entry[1].append(row_index)
                entry[2].append(need_id)
    cache.slots = np.array(slots)
    cache.need_rows = np.array(need_rows, dtype=np.int64)
    cache.need_cols = np.array(need_cols, dtype=np.int64)
    weights = np.vstack(teacher_rows) if teacher_rows else np.zeros((0, len(comp_ids)))
    return cache, list(readers.values()), weights


def _scan(model: _Model, price: np.ndarray, mu: np.ndarray, keep: bool = False
          ) -> Iterable[tuple[_ScanBucket, np.ndarray, np.ndarray, np.ndarray]]:
    """Per bucket, over all its sessions and all needs reading it (numpy), with reduced
    values rc = v − y − Σ need duals (``mu``, by need) − the hours and date duals a session
    takes (``cg_extra``): each need's largest share of a positive rc (rc⁺ · w_c / W,
    ``lagrange_bound``), its best session (position in the bucket) and that session's rc."""
    cache = _scan_cache(model)
    need_duals = np.zeros((len(cache.row_teacher), cache.n_comps))
    known = cache.need_cols >= 0
    need_duals[cache.need_rows[known], cache.need_cols[known]] = mu[known]
    has_extra = np.array([t in model.cg_extra for t in cache.row_teacher], dtype=bool) \
        if model.cg_extra else None
    for bucket in cache.buckets:
        delta = bucket.base - price[bucket.members]
        reduced = bucket.cover_w + delta[None, :] - need_duals[bucket.rows] @ bucket.covers.T
        if has_extra is not None:
            pos_of = {int(session): m for m, session in enumerate(bucket.members)}
            for k in np.flatnonzero(has_extra[bucket.rows]):
                teacher_id = cache.need_keys[bucket.need_ids[k]][0]
                for session, taken in model.cg_extra.get(teacher_id, {}).items():
                    at = pos_of.get(session)
                    if at is not None:
                        reduced[k, at] -= taken
        shares = np.maximum(reduced, 0.0) * bucket.share
        if keep:  # ``_bound_gradient`` reads which session sets each need's excess
            bucket.last_excess = shares
        excess = shares.max(axis=1)
        best = reduced.argmax(axis=1)
        yield bucket, excess, best, reduced[np.arange(len(best)), best]


def _finish(model: _Model, deadline: float, mip_max_columns: int) -> tuple[list[int], str]:
    """After column generation: MILP (relax-and-fix past ``mip_max_columns``) over every
    kept column from the last LP's solution, then rounding with repair and greedy fill."""
    assert model.cg_x is not None
    cols = list(range(len(model.cands)))
    x = np.zeros(len(cols))
    x[: len(model.cg_x)] = model.cg_x
    how = "colgen+lp_round"
    left = deadline - time.perf_counter()
    if left > 0 and not bool(np.all(np.minimum(x, 1 - x) < _EPS)):
        values = np.array([c.value for c in model.cands])
        rows, ub, _coupling, coefs = _rows(model, cols)
        left = deadline - time.perf_counter()
        lower = None if len(cols) <= mip_max_columns else (x > 1 - _EPS).astype(np.float64)
        if left > 0:
            _status, _obj, xi, _y = _solve(values, rows, ub, True, left, lower=lower,
                                           coefs=coefs)
            if xi is not None:
                x = xi
                how = "colgen+milp" if lower is None else "colgen+relax_and_fix"
    return _round(model, cols, x), how


def plan(inp: PlanInput, policy: Policy | None = None, *, time_limit: float = 60.0,
         mip_max_columns: int = 50_000, use_solver: bool = True,
         candidates_per_need: int | None = None) -> PlanResult:
    """Plan routes: near-optimal items under every limit, with a valid upper bound.

    Args:
        inp: Teachers, needs, offers, sessions, mentors, fixed items, exclusions, the previous
            proposal (kept where possible through ``Policy.keep_bonus``).
        policy: Weights and limits (defaults documented in ``Policy``).
        time_limit: Seconds for the whole run; components left when it runs out are planned
            by the greedy pass and ``fallback`` is set.
        mip_max_columns: Components larger than this are solved by LP rounding, not MILP.
        use_solver: False plans with the greedy pass only (the baseline).
        candidates_per_need: Keep at most this many fitting sessions per need in the model
            (None: all); the bound then is ``lagrange_bound`` over every fitting session.

    Returns:
        The plan: items (fixed ones first kept), unmet needs with reasons, objective, the
        bound (the smaller of the sum of the components' LP optima and ``lagrange_bound``;
        only the latter when candidates were capped), the method and the decomposition.
    """
    started = time.perf_counter()
    policy = policy or Policy()
    model = _Model(inp, policy, candidates_per_need)
    comps = _components(model)
    chosen: list[int] = []
    bound = 0.0
    methods: set[str] = set()
    duals: dict[object, float] = {}
    fallback = False
    solver_ok = use_solver
    if use_solver:
        try:
            import highspy  # noqa: F401
        except ImportError:
            solver_ok = False
            fallback = True
    added = 0
    if model.pruned and solver_ok:
        added = _generate_columns(model, started + time_limit * 0.6, rounds=6)
        if model.cg_x is not None:
            # Decide from the last column-generation LP: relax-and-fix, then round.
            chosen, how = _finish(model, started + time_limit * 0.9, mip_max_columns)
            methods.add(how)
            comps = []
        else:
            comps = _components(model)
    for cols in comps:
        left = time_limit - (time.perf_counter() - started)
        if not solver_ok or left <= 0:
            fallback = fallback or use_solver
            bound += _trivial_bound(model, cols)
            chosen += _greedy_order(model, cols)
            methods.add("greedy")
            continue
        got, got_bound, how = _solve_component(model, cols, started + time_limit,
                                               mip_max_columns, duals)
        chosen += got
        bound += got_bound
        methods.add(how)
        fallback = fallback or how == "greedy"
    if use_solver:
        lagrange = lagrange_bound(model, model.cg_duals or duals)
        bound = lagrange if model.pruned else min(bound, lagrange)
    method = "greedy" if methods == {"greedy"} or not use_solver else \
        "+".join(sorted(methods)) if methods else "milp"
    if comps:
        decomposition = (f"connected components of the teacher–session–mentor graph: "
                         f"{len(comps)}, largest {len(comps[0])} candidates")
    else:
        decomposition = (f"column generation over every fitting session, one LP of "
                         f"{len(model.cands)} columns")
    if model.pruned:
        decomposition += (f"; at most {candidates_per_need} sessions per need kept at the "
                          "start; bound: Lagrangian (LP duals over every fitting session)")
    result = _result(model, chosen, bound=bound, method=method, fallback=fallback,
                     decomposition=decomposition)
    stats = dict(result.stats, seconds=time.perf_counter() - started,
                 components=float(len(comps)), candidates=float(len(model.cands)),
                 columns_generated=float(added))
    return replace(result, stats=stats)


def plan_greedy(inp: PlanInput, policy: Policy | None = None,
                candidates_per_need: int | None = None) -> PlanResult:
    """The greedy pass on the same model (baseline and fallback); its bound is solver-free."""
    return plan(inp, policy, use_solver=False, candidates_per_need=candidates_per_need)


# --- result and explanations -----------------------------------------------------------------

def _result(model: _Model, chosen: list[int], *, bound: float, method: str, fallback: bool,
            decomposition: str) -> PlanResult:
    state = model.state
    items: list[PlanItem] = []
    covered: set[tuple[int, str]] = set()
    picked = [(c, True) for c in model.fixed] + [(model.cands[j], False) for j in chosen]
    by_need: dict[tuple[int, str], list[_Cand]] = defaultdict(list)
    for cand in model.cands:
        for c in cand.comps:
            by_need[(cand.teacher, c)].append(cand)
    objective = 0.0
    for cand, fixed in picked:
        covered.update((cand.teacher, c) for c in cand.comps)
        if not fixed:
            objective += cand.value
        # Candidates sharing a need with the item (one covering two of its needs twice).
        others = [o for c in cand.comps for o in by_need.get((cand.teacher, c), ())]
        items.append(_explain(model, cand, fixed, others))
    unmet: list[UnmetNeed] = []
    for key in sorted(model.need):
        if key in covered or state.comp_count[key] >= model.policy.max_items_per_competency:
            continue
        reason = model.reason.get(key, REASON_NO_OFFER)
        if reason == REASON_NOT_CHOSEN:
            reason = _dynamic_reason(model, key, by_need.get(key, []))
        unmet.append(UnmetNeed(key[0], key[1], reason,
                               plan_texts.unmet_text(key[1], model.need[key], reason)))
    items.sort(key=lambda i: (i.teacher_id, not i.fixed, i.session_key))
    return PlanResult(tuple(items), tuple(unmet), objective, bound, method,
                      fallback, decomposition, {})


def _dynamic_reason(model: _Model, key: tuple[int, str], cands: list[_Cand]) -> str:
    """Why a need with fitting sessions stayed uncovered: what blocks its best session now."""
    fitting = sorted((c for c in cands if key[1] in c.comps),
                     key=lambda c: (-c.value, model.sessions[c.session].key))
    reasons = [model.state.blocks(key[0], c.session, (key[1],)) for c in fitting]
    if not reasons or any(r is None for r in reasons):
        return REASON_NOT_CHOSEN
    return next(r for r in reasons if r is not None)


def _explain(model: _Model, cand: _Cand, fixed: bool, others: list[_Cand]) -> PlanItem:
    """An item with its covered needs, priorities, ranked alternatives (``others``: the
    teacher's candidates sharing a need with it) and the better ones that were blocked."""
    facts = model.facts
    f = facts[cand.session]
    teacher = model.teachers[cand.teacher]
    needs = [model.need[(cand.teacher, c)] for c in cand.comps]
    covered = tuple(CoveredNeed(n.competency, n.level, n.score, n.threshold, n.stage)
                    for n in needs)
    priority = tuple(p for p, on in (("low_results_school", teacher.low_results_school),
                                     ("risk_group", teacher.risk_group)) if on)
    # Candidates sharing a need, then sessions that were full from the start, by value; the
    # state is asked why only for those shown (the first ALTERNATIVES_SHOWN) and for better
    # ones that might be blocked (a better place or value), as if this item were not chosen.
    entries: list[tuple[float, str, _Cand, bool, str]] = [
        (-round(other.value, 6), facts[other.session].key, other, True, "")
        for other in others if other.session != cand.session]  # each shares a need with it
    for competency in cand.comps:
        for full, why in model.blocked.get((cand.teacher, competency), ()):
            entries.append((-round(full.value, 6), facts[full.session].key, full, False, why))
    entries.sort(key=_by_value_then_key)
    without = None if fixed else cand
    rank = _PLACE_RANK[cand.place]
    seen: set[str] = set()
    ranked: list[Alternative] = []
    better: list[Alternative] = []
    for value, key, rival, ask, why in entries:
        if key in seen:
            continue
        seen.add(key)
        might_be_better = len(better) < 3 and (
            _PLACE_RANK[rival.place] < rank or -value > cand.value + _EPS)
        if len(ranked) >= ALTERNATIVES_SHOWN and not might_be_better:
            continue
        if ask:
            why = model.state.blocks(cand.teacher, rival.session,
                                     tuple(c for c in rival.comps if c not in cand.comps),
                                     without) or "free"
        alt = Alternative(facts[rival.session].offer.key, key, -value, rival.place, why)
        if len(ranked) < ALTERNATIVES_SHOWN:
            ranked.append(alt)
        if might_be_better and why != "free":
            better.append(alt)
    evidence = tuple(model.evidence[(f.offer.key, c)] for c in cand.comps
                     if (f.offer.key, c) in model.evidence)
    return PlanItem(cand.teacher, f.offer.key, f.key, cand.comps, fixed,
                    round(cand.value, 6), cand.place, covered, priority, tuple(better),
                    tuple(ranked), evidence)


def _by_value_then_key(entry: tuple[float, str, _Cand, bool, str]) -> tuple[float, str]:
    return entry[0], entry[1]
