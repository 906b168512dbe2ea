"""Route planning for a whole region at once: Lagrangian relaxation of the seats (issue 13).

Seats and mentor places are the only limits that tie teachers together. Priced (y per seat,
z per mentor place), the model falls apart into one small problem per teacher: the route of
largest reduced value v − y − z that keeps the teacher's own limits, solved exactly by
``plan_kernels.best_route`` (compiled, both cores). Subgradient steps move the prices towards
seats neither over- nor under-booked; every few steps the prices' routes are made feasible
(each oversubscribed session keeps its takers of largest reduced value, then the teachers who
lost an item and finally everyone add what still fits), and the best feasible plan is kept.
Columns come from ``planner._Model`` (at most ``candidates_per_need`` fitting sessions per
need); pricing over every fitting session (``_best_sessions``) adds per need the session the
prices make best and the one that beats what the need earns in its route. The last quarter of
the time polishes the best plan (``_polish``: seat swaps between teachers, each teacher's own
best route). The bound is ``planner.lagrange_bound`` at the best prices, valid for the LP of the
whole model over every fitting session; ``teacher_lp_bound`` (each teacher's LP at those
prices, with column generation) is tighter and slower.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from courses import plan_kernels as k
from courses.plan_model import PlanInput, PlanResult, Policy
from courses.planner import (
    _Model,
    _period,
    _prices,
    _result,
    _rows,
    _scan,
    _scan_cache,
    _solve,
    lagrange_bound,
    priced_capacity,
)

_NODE_CAP = 4000
# The share of the search time left for polishing the best plan.
POLISH_SHARE = 0.25
# Models up to this many candidates get ``teacher_lp_bound`` by default.
TIGHT_BOUND_FROM = 50_000
_BIG = 1e9
# The time kept after the search for the bound and the explanations, as a multiple of the
# model's build time times the candidates' growth since it (all three are Python over the
# candidates; at 100,000 teachers the ratio ran from 0.6 to 1.25 on the 2-core VM).
RESERVE = 1.3


@dataclass
class _Arrays:
    """The model's candidates as flat arrays sorted by teacher."""

    order: np.ndarray  # position → index into model.cands
    teacher_of: np.ndarray  # position → teacher row
    start: np.ndarray
    session: np.ndarray
    value: np.ndarray
    hours: np.ndarray
    period: np.ndarray
    day0: np.ndarray
    day1: np.ndarray
    offer: np.ndarray
    mentor: np.ndarray
    cover: np.ndarray
    need_left: np.ndarray
    hours_left: np.ndarray  # teachers × half-years
    seats: np.ndarray  # by session (free seats; _BIG when unlimited)
    mentor_left: np.ndarray
    limited: np.ndarray  # sessions with a seat limit
    teacher_ids: list[int]


class _Columns:
    """The model's candidates as flat arrays in the model's order, extended as pricing adds
    candidates (only the new ones are read), with what sessions, needs and teachers fix."""

    def __init__(self, model: _Model) -> None:
        sessions = model.sessions
        periods = sorted({_period(s.starts_on) for s in sessions})
        offer_ids = {key: i for i, key in enumerate(sorted(model.offers))}
        mentor_ids = {m: i for i, m in enumerate(sorted(model.mentor_cap))}
        self.s_period = np.array([periods.index(_period(s.starts_on)) for s in sessions],
                                 dtype=np.int64)
        self.s_offer = np.array([offer_ids[s.offer_key] for s in sessions], dtype=np.int64)
        self.s_mentor = np.array([mentor_ids.get(model.offers[s.offer_key].mentor_id or "", -1)
                                  for s in sessions], dtype=np.int64)
        self.s_day0 = np.array([s.starts_on.toordinal() for s in sessions], dtype=np.int64)
        self.s_day1 = np.array([s.ends_on.toordinal() for s in sessions], dtype=np.int64)
        self.s_hours = np.array([float(s.hours or 0.0) for s in sessions])
        needs = sorted(model.need)
        self.need_ids = {key: i for i, key in enumerate(needs)}
        limit = model.policy.max_items_per_competency
        self.need_left = np.array([limit - model.fixed_comp.get(key, 0) for key in needs],
                                  dtype=np.int64)
        self.teacher_ids = sorted(model.needs_of)
        self.row = {t: i for i, t in enumerate(self.teacher_ids)}
        self.hours_left = np.zeros((len(self.teacher_ids), max(len(periods), 1)))
        for t, teacher_id in enumerate(self.teacher_ids):
            cap = model.state.cap(teacher_id)
            for p, key in enumerate(periods):
                self.hours_left[t, p] = cap - model.state.hours.get((teacher_id, key), 0.0)
        self.seats = np.array([_BIG if s.seats is None else
                               max(s.seats - model.fixed_seats.get(i, 0), 0)
                               for i, s in enumerate(sessions)], dtype=np.float64)
        self.mentor_left = np.array([max(cap - model.fixed_mentor.get(m, 0), 0)
                                     for m, cap in sorted(model.mentor_cap.items())],
                                    dtype=np.float64)
        self.limited = np.array([s.seats is not None for s in sessions])
        self.need_weight = np.array([model.weight[key] for key in needs])
        self.cache_ids: np.ndarray | None = None  # the bound scan's needs → these ids
        self.teacher = np.zeros(0, dtype=np.int64)
        self.session = np.zeros(0, dtype=np.int64)
        self.value = np.zeros(0)
        self.cover = np.zeros((0, k.MAX_COVER), dtype=np.int64)
        self.have: set[tuple[int, int]] = set()
        self.extend(model)

    def extend(self, model: _Model) -> int:
        """Read the candidates added to the model since the last call; how many."""
        new = model.cands[len(self.teacher):]
        n = len(new)
        if not n:
            return 0
        cover = np.full((n, k.MAX_COVER), -1, dtype=np.int64)
        for pos, c in enumerate(new):
            for q, comp in enumerate(c.comps[: k.MAX_COVER]):
                cover[pos, q] = self.need_ids[(c.teacher, comp)]
        self.teacher = np.concatenate([self.teacher, np.fromiter(
            (self.row[c.teacher] for c in new), dtype=np.int64, count=n)])
        self.session = np.concatenate([self.session, np.fromiter(
            (c.session for c in new), dtype=np.int64, count=n)])
        self.value = np.concatenate([self.value, np.fromiter(
            (c.value for c in new), dtype=np.float64, count=n)])
        self.cover = np.concatenate([self.cover, cover])
        self.have.update((c.teacher, c.session) for c in new)
        return n

    def arrays(self) -> _Arrays:
        """The candidates sorted by teacher."""
        order = np.argsort(self.teacher, kind="stable")
        teacher_of = self.teacher[order]
        start = np.searchsorted(teacher_of, np.arange(len(self.teacher_ids) + 1))
        session = self.session[order]
        return _Arrays(order, teacher_of, start.astype(np.int64), session, self.value[order],
                       self.s_hours[session], self.s_period[session], self.s_day0[session],
                       self.s_day1[session], self.s_offer[session], self.s_mentor[session],
                       self.cover[order], self.need_left, self.hours_left, self.seats,
                       self.mentor_left, self.limited, self.teacher_ids)


class _Run:
    """One Lagrangian run over the arrays: prices, routes, feasible plans."""

    def __init__(self, a: _Arrays) -> None:
        self.a = a
        n = len(a.value)
        self.out = np.zeros(n, dtype=np.bool_)
        self.none = np.zeros(n, dtype=np.bool_)
        self.ok = np.ones(n, dtype=np.bool_)
        self.teacher_value = np.zeros(len(a.start) - 1)

    def reduced(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        a = self.a
        r: np.ndarray = a.value - y[a.session]
        has = a.mentor >= 0
        r[has] -= z[a.mentor[has]]
        return r

    def relax(self, y: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """The Lagrangian at (y, z): its value, the routes' seat and mentor demand."""
        a = self.a
        r = self.reduced(y, z)
        k.all_routes(a.start, r, self.ok, self.none, a.cover, a.need_left, a.hours, a.period,
                     a.day0, a.day1, a.offer, a.mentor, a.mentor_left, a.hours_left, _NODE_CAP,
                     self.out, self.teacher_value)
        fin = a.limited
        value = float(self.teacher_value.sum() + y[fin] @ a.seats[fin] + z @ a.mentor_left)
        demand = np.bincount(a.session[self.out], minlength=len(y)).astype(np.float64)
        taken_m = a.mentor[self.out]
        mdemand = np.bincount(taken_m[taken_m >= 0], minlength=len(z)).astype(np.float64)
        return value, demand, mdemand

    def feasible(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """A feasible plan from the routes last computed at (y, z): each full session keeps
        its takers of largest reduced value; then those who lost an item, and then everyone,
        add what still fits (by reduced value, then by value)."""
        a = self.a
        r = self.reduced(y, z)
        taken = self.out.copy()
        pos = np.flatnonzero(taken)
        # Oversubscribed sessions and mentors: keep the takers of largest reduced value.
        for key, cap in ((a.session, a.seats), (a.mentor, a.mentor_left)):
            sel = pos[key[pos] >= 0]
            if not len(sel):
                continue
            rank_order = np.lexsort((-r[sel], key[sel]))
            srt = sel[rank_order]
            groups = key[srt]
            first = np.searchsorted(groups, groups, side="left")
            rank = np.arange(len(srt)) - first
            drop = srt[rank >= cap[groups]]
            taken[drop] = False
            pos = np.flatnonzero(taken)
        seats = a.seats - np.bincount(a.session[taken], minlength=len(a.seats))
        m_taken = a.mentor[taken]
        mentor_left = a.mentor_left - np.bincount(m_taken[m_taken >= 0],
                                                  minlength=len(a.mentor_left))
        lost = np.unique(a.teacher_of[self.out & ~taken])
        k.fill(lost, a.start, r, taken, a.session, a.mentor, seats, mentor_left, a.cover,
               a.need_left, a.hours, a.period, a.day0, a.day1, a.offer, a.hours_left,
               _NODE_CAP)
        everyone = np.arange(len(a.start) - 1)
        k.fill(everyone, a.start, r, taken, a.session, a.mentor, seats, mentor_left, a.cover,
               a.need_left, a.hours, a.period, a.day0, a.day1, a.offer, a.hours_left,
               _NODE_CAP)
        k.fill(everyone, a.start, a.value, taken, a.session, a.mentor, seats, mentor_left,
               a.cover, a.need_left, a.hours, a.period, a.day0, a.day1, a.offer, a.hours_left,
               _NODE_CAP)
        k.improve(everyone, a.start, a.value, taken, a.session, a.mentor, seats, mentor_left,
                  a.cover, a.need_left, a.hours, a.period, a.day0, a.day1, a.offer,
                  a.hours_left, _NODE_CAP)
        return taken


@dataclass
class _Search:
    """What the price steps found: the best plan (model candidate indices), its value, the
    prices of the lowest relaxation and how many steps ran."""

    plan: np.ndarray
    value: float
    y: np.ndarray
    z: np.ndarray
    relaxation: float
    steps: int
    arrays: _Arrays


def _search(model: _Model, deadline: Callable[[], float], rounds: int, price_every: int,
            polish_share: float = POLISH_SHARE) -> _Search:
    """Subgradient steps on the seat and mentor prices (a Polyak step towards the best plan,
    halved after five steps without a lower relaxation), a feasible plan every few steps,
    and every ``price_every`` steps new columns while pricing finds any; for the last
    ``polish_share`` of the time (or once the steps are done) the best plan is polished
    (``_polish``)."""
    began = time.perf_counter()

    def stop() -> float:  # the steps' end: the deadline moves as pricing adds candidates
        return began + (1 - polish_share) * max(deadline() - began, 0.0)

    columns = _Columns(model)
    a = columns.arrays()
    run = _Run(a)
    y = np.zeros(len(model.sessions))
    z = np.zeros(len(a.mentor_left))
    value, demand, mdemand = run.relax(y, z)
    got = run.feasible(y, z)
    priced = 0.0  # what the last pricing took
    found = _Search(_remap(got, a), float(a.value[got].sum()), y, z, value, 0, a)
    upper, theta, stale, pricing = value, 1.0, 0, True
    for step in range(rounds):
        if time.perf_counter() >= stop():
            break
        found.steps = step + 1
        if value < upper - 1e-9:
            upper, stale = value, 0
            found.y, found.z, found.relaxation = y.copy(), z.copy(), value
        else:
            stale += 1
            if stale >= 5:
                theta, stale = theta / 2, 0
        g = np.where(a.limited, a.seats - demand, 0.0)
        g = np.where((y > 0) | (g < 0), g, 0.0)
        gm = np.where((z > 0) | (mdemand > a.mentor_left), a.mentor_left - mdemand, 0.0)
        norm = float(g @ g + gm @ gm)
        done = norm <= 1e-12 or theta < 1e-4  # the routes fit every seat, or steps stalled
        # A feasible plan every five steps, every ten past the first 30 (the polish ends it).
        if step % (5 if step < 30 else 10) == 4 or done:
            got = run.feasible(y, z)
            if float(a.value[got].sum()) > found.value:
                found.plan, found.value = _remap(got, a), float(a.value[got].sum())
        # Pricing first after five steps, then every ``price_every`` while time is left.
        due = step == 4 or step % price_every == price_every - 1
        if model.pruned and pricing and (done or due) \
                and time.perf_counter() + priced < stop():
            priced = time.perf_counter()
            a, run, added = _more_columns(model, columns, run, y, z)
            priced = time.perf_counter() - priced
            pricing = added > 0
            if added:  # a new, larger relaxation: start its steps afresh
                value, demand, mdemand = run.relax(y, z)
                upper, stale, theta = np.inf, 0, max(theta, 0.25)
                continue
        if done:
            break
        size = theta * max(value - found.value, 1e-6 * abs(value)) / norm
        y = np.maximum(y - size * g, 0.0)
        z = np.maximum(z - size * gm, 0.0)
        value, demand, mdemand = run.relax(y, z)
    found.arrays = a
    _polish(found, deadline)
    return found


def _polish(found: _Search, deadline: Callable[[], float]) -> None:
    """Seat swaps (``plan_kernels.swap_seats``) and each teacher's own best route among the
    seats left (``plan_kernels.improve``) on the best plan, pass after pass, until a pass
    gains nothing or the time is up (one pass at least)."""
    a = found.arrays
    position = np.empty(len(a.order), dtype=np.int64)
    position[a.order] = np.arange(len(a.order))
    taken = np.zeros(len(a.order), dtype=np.bool_)
    taken[position[found.plan]] = True
    seats = a.seats - np.bincount(a.session[taken], minlength=len(a.seats))
    held = a.mentor[taken]
    mentor_left = a.mentor_left - np.bincount(held[held >= 0], minlength=len(a.mentor_left))
    by_session = np.argsort(a.session, kind="stable")
    session_start = np.searchsorted(a.session[by_session], np.arange(len(a.seats) + 1))
    everyone = np.arange(len(a.start) - 1)
    took = 0.0  # the last pass's seconds: a pass starts only when one fits before the deadline
    while not took or time.perf_counter() + took < deadline():  # one pass even when late
        began = time.perf_counter()
        gained = k.swap_seats(by_session, session_start, a.teacher_of, a.start, a.value, taken,
                              a.session, a.mentor, seats, mentor_left, a.cover, a.need_left,
                              a.hours, a.period, a.day0, a.day1, a.offer, a.hours_left,
                              _NODE_CAP)
        gained += k.improve(everyone, a.start, a.value, taken, a.session, a.mentor, seats,
                            mentor_left, a.cover, a.need_left, a.hours, a.period, a.day0,
                            a.day1, a.offer, a.hours_left, _NODE_CAP)
        took = max(time.perf_counter() - began, 1e-9)
        if gained <= 1e-9:
            break
    found.plan, found.value = _remap(taken, a), float(a.value[taken].sum())


def plan_lagrange(inp: PlanInput, policy: Policy | None = None, *, time_limit: float = 60.0,
                  candidates_per_need: int | None = 4, rounds: int = 400,
                  price_every: int = 15, tight_bound: bool | None = None) -> PlanResult:
    """Plan a region by Lagrangian relaxation of seats and mentor places (module docstring).

    ``time_limit`` covers building the model, the price steps (at most ``rounds``), the bound
    and the explanations; ``tight_bound`` (default: for models of at most ``TIGHT_BOUND_FROM``
    candidates) adds ``teacher_lp_bound``, which takes longer than the plan at 100,000 teachers.
    """
    started = time.perf_counter()
    policy = policy or Policy()
    model = _Model(inp, policy, candidates_per_need)
    built = time.perf_counter()
    first = max(len(model.cands), 1)

    def deadline() -> float:
        """When the search must end to leave time for the bound and the explanations: they
        take about ``RESERVE`` times the model's build time, grown with the candidates."""
        keep = RESERVE * (built - started) * max(len(model.cands) / first, 1.0)
        return started + time_limit - max(keep, 0.1 * time_limit)

    found = _search(model, deadline, rounds, price_every)
    searched = time.perf_counter()
    duals: dict[object, float] = {i: float(v) for i, v in enumerate(found.y) if v > 0}
    mentors = sorted(model.mentor_cap)
    duals.update({mentors[i]: float(v) for i, v in enumerate(found.z) if v > 0})
    plain = bound = lagrange_bound(model, duals)
    tight_s = 0.0
    if tight_bound or (tight_bound is None and len(model.cands) <= TIGHT_BOUND_FROM):
        tight_s = time.perf_counter()
        bound = min(bound, teacher_lp_bound(model, duals))
        tight_s = time.perf_counter() - tight_s
    bounded = time.perf_counter()
    chosen = [int(j) for j in found.plan]
    for j in sorted(chosen, key=lambda j: (model.cands[j].teacher, -model.cands[j].value)):
        model.state.add(model.cands[j])
    result = _result(model, chosen, bound=bound, method="lagrange", fallback=False,
                     decomposition=(f"Lagrangian relaxation of seats and mentor places: "
                                    f"{len(found.arrays.start) - 1} teachers' routes, "
                                    f"{found.steps} price steps; bound: Lagrangian over every "
                                    "fitting session"))
    stats = dict(result.stats, seconds=time.perf_counter() - started,
                 candidates=float(len(model.cands)), steps=float(found.steps),
                 relaxation=float(found.relaxation), plain_bound=plain,
                 model_s=built - started, search_s=searched - built,
                 bound_s=bounded - searched, tight_bound_s=tight_s,
                 explain_s=time.perf_counter() - bounded)
    return replace(result, stats=stats)


def _remap(taken: np.ndarray, a: _Arrays) -> np.ndarray:
    """A plan as model candidate indices (stable when the arrays are rebuilt)."""
    return a.order[np.flatnonzero(taken)].astype(np.int64)


def _more_columns(model: _Model, columns: _Columns, run: _Run, y: np.ndarray, z: np.ndarray
                  ) -> tuple[_Arrays, _Run, int]:
    """Add, per need, the session of best value at these prices over every fitting one, and
    the one that beats by most what the need earns in its teacher's route now (its share of
    the route item's reduced value; nothing when uncovered)."""
    a = run.a
    cache = _scan_cache(model)
    if columns.cache_ids is None:
        columns.cache_ids = np.array([columns.need_ids[key] for key in cache.need_keys],
                                     dtype=np.int64)
    price = y.copy()
    if len(z):
        price += np.where(columns.s_mentor >= 0, z[np.maximum(columns.s_mentor, 0)], 0.0)
    # What each need earns in its route: its weight's share of the item's reduced value.
    earns = np.zeros(len(columns.need_left))
    pos = np.flatnonzero(run.out)
    cover = a.cover[pos]
    weight = np.where(cover >= 0, columns.need_weight[np.maximum(cover, 0)], 0.0)
    share = run.reduced(y, z)[pos][:, None] * weight / weight.sum(axis=1)[:, None]
    earns[cover[cover >= 0]] = share[cover >= 0]
    added = 0
    for mu in (earns[columns.cache_ids], np.zeros(len(cache.need_keys))):
        for need, session in _best_sessions(model, price, mu):
            teacher_id = cache.need_keys[need][0]
            if (teacher_id, session) in columns.have:
                continue
            cand = model.candidate(model.teachers[teacher_id], session)
            columns.have.add((teacher_id, session))
            if cand is not None:
                model.cands.append(cand)
    added = columns.extend(model)
    if not added:
        return a, run, 0
    a = columns.arrays()
    return a, _Run(a), added


def _best_sessions(model: _Model, price: np.ndarray, mu: np.ndarray
                   ) -> list[tuple[int, int]]:
    """Per need (of the scan's), its session of largest positive reduced value
    v − price − Σ μ over every bucket it reads: (need, session) pairs."""
    cache = _scan_cache(model)
    n = len(cache.need_keys)
    best = np.full(n, 1e-6)
    at = np.full(n, -1, dtype=np.int64)
    for bucket, _excess, arg, rc in _scan(model, price, mu):
        ids = bucket.need_ids
        better = rc > best[ids]
        # A need reads a bucket once, so ids are distinct within one bucket.
        best[ids[better]] = rc[better]
        at[ids[better]] = bucket.members[arg[better]]
    found = np.flatnonzero(at >= 0)
    return list(zip(found.tolist(), at[found].tolist(), strict=True))


def teacher_lp_bound(model: _Model, duals: dict[object, float], chunk: int = 4000,
                     rounds: int = 4) -> float:
    """A bound on the whole model's LP for seat and mentor prices ``duals`` (≥ 0).

    With the prices fixed the LP falls apart by teacher. Each teacher's LP over the kept
    candidates (need rows, the hours cap per half-year, no overlapping dates, offers once) is
    solved with HiGHS, ``chunk`` teachers at a time. Its duals are a dual solution of the
    teacher's LP over every fitting session once they are read as rows over every session:
    the hours dual π of a half-year charges each session of it π·hours, a date row's dual σ
    (the sessions covering one day) charges each session covering that day, and a need's dual
    is raised by what any session still earns above its charges (``_charged_bound``). For up
    to ``rounds`` rounds, each need's session that earns most above its charges joins the
    candidates and its teacher's LP is solved again (column generation at fixed prices).
    """
    price = _prices(model, duals)
    charges = _Charges(model)
    bound = math.inf
    for round_ in range(rounds + 1):
        by_teacher: dict[int, list[int]] = {}
        for j, cand in enumerate(model.cands):
            if cand.teacher in charges.stale or round_ == 0:
                by_teacher.setdefault(cand.teacher, []).append(j)
        teachers = sorted(by_teacher)
        for first in range(0, len(teachers), chunk):
            _solve_teachers(model, charges, price, teachers[first:first + chunk], by_teacher)
        bound, found = _charged_bound(model, duals, charges)
        if round_ == rounds:
            break
        charges.stale = set()
        for teacher_id, session in found:
            extra = model.candidate(model.teachers[teacher_id], session)
            if extra is not None and (teacher_id, session) not in charges.have:
                model.cands.append(extra)
                charges.have.add((teacher_id, session))
                charges.stale.add(teacher_id)
        if not charges.stale:
            break
    return bound


def _solve_teachers(model: _Model, charges: _Charges, price: np.ndarray, teachers: list[int],
                    by_teacher: dict[int, list[int]]) -> None:
    """The LP of these teachers at fixed prices; their duals replace the old ones."""
    cols = [j for t in teachers for j in by_teacher[t]]
    values = np.array([model.cands[j].value - price[model.cands[j].session] for j in cols])
    rows, ub, coupling, coefs = _rows(model, cols, every_need=True)
    keep = [r for r in range(len(rows)) if not isinstance(coupling.get(r, ()), int | str)]
    status, _obj, _x, y = _solve(values, [rows[r] for r in keep], [ub[r] for r in keep],
                                 False, 600.0,
                                 coefs={i: coefs[r] for i, r in enumerate(keep) if r in coefs})
    if status != "optimal" or y is None:
        raise RuntimeError(f"the teachers' LP stopped: {status}")
    for teacher_id in teachers:
        charges.forget(teacher_id)
    for i, r in enumerate(keep):
        key = coupling.get(r)
        if isinstance(key, tuple):
            charges.need[key] = float(y[i])
        elif y[i] > 1e-12:
            charges.add_row(model, [cols[p] for p in rows[r]], r in coefs, float(y[i]), ub[r])


@dataclass
class _Charges:
    """Per teacher: need duals, hours duals by half-year, date duals by day, and the rows'
    dual × right-hand side; which teachers' LPs are to be solved again."""

    base: int
    periods: list[tuple[int, int]]
    need: dict[tuple[int, str], float]
    hours: dict[tuple[int, int], float]  # (teacher, period index) → π
    days: dict[int, dict[int, float]]  # teacher → day index → σ
    totals: dict[int, float]
    have: set[tuple[int, int]]
    stale: set[int]

    def __init__(self, model: _Model) -> None:
        self.base = min((s.starts_on.toordinal() for s in model.sessions), default=0)
        self.periods = sorted({_period(s.starts_on) for s in model.sessions})
        self.need, self.hours, self.days, self.totals = {}, {}, {}, {}
        self.have = {(c.teacher, c.session) for c in model.cands}
        self.stale = set()

    def forget(self, teacher_id: int) -> None:
        self.totals.pop(teacher_id, None)
        self.days.pop(teacher_id, None)
        for p in range(len(self.periods)):
            self.hours.pop((teacher_id, p), None)

    def add_row(self, model: _Model, members: list[int], is_hours: bool, dual: float,
                rhs: float) -> None:
        """An hours row (one teacher's half-year) or a date row (sessions sharing a day: the
        latest start among them is one)."""
        first = model.cands[members[0]]
        self.totals[first.teacher] = self.totals.get(first.teacher, 0.0) + dual * rhs
        sessions = [model.sessions[model.cands[j].session] for j in members]
        if is_hours:
            key = (first.teacher, self.periods.index(_period(sessions[0].starts_on)))
            self.hours[key] = self.hours.get(key, 0.0) + dual
        else:
            day = max(s.starts_on.toordinal() for s in sessions) - self.base
            mine = self.days.setdefault(first.teacher, {})
            mine[day] = mine.get(day, 0.0) + dual


def _charged_bound(model: _Model, duals: dict[object, float], charges: _Charges
                   ) -> tuple[float, list[tuple[int, int]]]:
    """``lagrange_bound`` with each teacher's hours and date duals charged to every session,
    and per need the session that earns most above its charges when it earns anything."""
    cache = _scan_cache(model)
    price = _prices(model, duals)
    total = sum(charges.totals.values()) + priced_capacity(model, duals)
    rows = len(cache.row_teacher)
    row_of = {t: r for r, t in enumerate(cache.row_teacher)}
    pi = np.zeros((rows, max(len(charges.periods), 1)))
    for (teacher_id, p), value in charges.hours.items():
        if teacher_id in row_of:
            pi[row_of[teacher_id], p] = value
    dated = {row_of[t]: q for q, t in enumerate(t for t in charges.days if t in row_of)}
    n_days = max((s.ends_on.toordinal() for s in model.sessions), default=0) - charges.base + 2
    cum = np.zeros((len(dated), max(n_days, 1) + 1))
    for teacher_id, days in charges.days.items():
        if teacher_id in row_of:
            for day, value in days.items():
                cum[dated[row_of[teacher_id]], day + 1] += value
    np.cumsum(cum, axis=1, out=cum)
    sigma_row = np.full(rows, -1, dtype=np.int64)
    for r, q in dated.items():
        sigma_row[r] = q
    hours = np.array([float(s.hours or 0.0) for s in model.sessions])
    period = np.array([charges.periods.index(_period(s.starts_on)) for s in model.sessions],
                      dtype=np.int64)
    day0 = np.array([s.starts_on.toordinal() - charges.base for s in model.sessions])
    day1 = np.array([s.ends_on.toordinal() - charges.base for s in model.sessions])
    mu = cache.mu(charges.need)  # type: ignore[arg-type]
    need_duals = np.zeros((rows, cache.n_comps))
    known = cache.need_cols >= 0
    need_duals[cache.need_rows[known], cache.need_cols[known]] = mu[known]
    best = np.full(len(cache.need_keys), -np.inf)
    top = np.full(len(cache.need_keys), 1e-6)
    at = np.full(len(cache.need_keys), -1, dtype=np.int64)
    for bucket in cache.buckets:
        m = bucket.members
        reduced = bucket.cover_w + (bucket.base - price[m])[None, :] \
            - need_duals[bucket.rows] @ bucket.covers.T
        reduced -= pi[bucket.rows][:, period[m]] * hours[m][None, :]
        sig = sigma_row[bucket.rows]
        has = np.flatnonzero(sig >= 0)
        if len(has):
            c = cum[sig[has]]
            reduced[has] -= c[:, day1[m] + 1] - c[:, day0[m]]
        excess = (np.maximum(reduced, 0.0) * bucket.share).max(axis=1)
        np.maximum.at(best, bucket.need_ids, excess)
        arg = reduced.argmax(axis=1)
        rc = reduced[np.arange(len(arg)), arg]
        ids = bucket.need_ids
        better = rc > top[ids]
        top[ids[better]] = rc[better]
        at[ids[better]] = m[arg[better]]
    read = best > -np.inf
    found = [(cache.need_keys[i][0], int(at[i])) for i in np.flatnonzero(at >= 0)]
    return (total + float(np.sum(cache.slots[read] * (mu[read] + np.maximum(best[read], 0.0)))),
            found)
