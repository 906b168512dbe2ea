"""The region planner (``courses.plan_lagrange``): exact per-teacher routes, feasible plans,
valid bounds against the exact optimum, pricing beyond the kept sessions, fixed items,
``plan_any``'s choice. The constraint cases the greedy pass gets wrong run it too
(``test_planner.both``)."""

from __future__ import annotations

import gc
import itertools
import random
from dataclasses import replace

import numpy as np
import pytest

from courses import plan_kernels, plan_scale
from courses.plan_lagrange import plan_lagrange, teacher_lp_bound
from courses.plan_model import FixedItem, PlanNeed, Policy
from courses.plan_scale import plan_any
from courses.planner import _Model, lagrange_bound, plan, plan_greedy
from tests.courses.test_planner import (
    course,
    inp,
    pairs,
    random_input,
    session,
    teacher,
    violations,
)

pytest.importorskip("highspy")


def _brute_force(reduced, cover, need_left, hours, period, day0, day1, offer, left):
    """The best subset of one teacher's candidates by enumeration."""
    best = 0.0
    n = len(reduced)
    for size in range(1, n + 1):
        for subset in itertools.combinations(range(n), size):
            if any(reduced[j] <= 1e-9 for j in subset):
                continue
            needs = [c for j in subset for c in cover[j] if c >= 0]
            if any(needs.count(c) > need_left[c] for c in needs):
                continue
            if len({offer[j] for j in subset}) < size:
                continue
            if any(day0[i] <= day1[j] and day0[j] <= day1[i]
                   for i, j in itertools.combinations(subset, 2)):
                continue
            used = np.zeros(len(left))
            for j in subset:
                used[period[j]] += hours[j]
            if np.any(used > left + 1e-6):
                continue
            best = max(best, float(sum(reduced[j] for j in subset)))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_best_route_is_the_exact_optimum_of_a_teacher(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(3, 10)
    reduced = np.array([rng.uniform(-0.5, 2.0) for _ in range(n)])
    cover = np.full((n, plan_kernels.MAX_COVER), -1, dtype=np.int64)
    for j in range(n):
        for q, c in enumerate(rng.sample(range(4), rng.choice([1, 1, 2]))):
            cover[j, q] = c
    need_left = np.array([1, 1, 2, 1], dtype=np.int64)
    hours = np.array([float(rng.choice([0, 8, 16, 36, 72])) for _ in range(n)])
    period = np.array([rng.randint(0, 1) for _ in range(n)], dtype=np.int64)
    day0 = np.array([rng.randint(0, 60) for _ in range(n)], dtype=np.int64)
    day1 = day0 + np.array([rng.randint(0, 10) for _ in range(n)], dtype=np.int64)
    offer = np.array([rng.randint(0, n) for _ in range(n)], dtype=np.int64)
    left = np.array([72.0, 40.0])
    out = np.zeros(n, dtype=np.bool_)
    got = plan_kernels.best_route(0, n, reduced, np.ones(n, dtype=np.bool_),
                                  np.zeros(n, dtype=np.bool_), cover, need_left, hours, period,
                                  day0, day1, offer, np.full(n, -1, dtype=np.int64),
                                  np.zeros(1), left, 100_000, out)
    want = _brute_force(reduced, cover, need_left, hours, period, day0, day1, offer, left)
    assert got == pytest.approx(want)
    assert float(reduced[out].sum()) == pytest.approx(got)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_region_plan_is_feasible_near_the_optimum_and_its_bound_valid(seed: int) -> None:
    data = random_input(seed, n_teachers=90, n_offers=18)
    whole = plan(data)  # one model: MILP, optimal on instances this small
    greedy = plan_greedy(data)
    for per_need in (None, 1):
        region = plan_lagrange(data, rounds=200, candidates_per_need=per_need)
        assert region.method == "lagrange"
        assert violations(data, region) == []
        assert whole.objective - 1e-6 <= region.bound <= region.stats["plain_bound"] + 1e-6
        assert region.objective >= max(greedy.objective, 0.97 * whole.objective)
        assert {u.reason for u in region.unmet} and all(u.text for u in region.unmet)
        assert all(i.covered and i.alternatives is not None for i in region.items)


def test_the_teachers_lp_bound_is_valid_and_tighter() -> None:
    data = random_input(4, n_teachers=90, n_offers=18)
    optimum = plan(data).objective
    rng = random.Random(4)
    for per_need in (None, 1):
        model = _Model(data, Policy(), per_need)
        for prices in ({}, {i: rng.uniform(0, 0.6) for i, s in enumerate(model.sessions)
                            if s.seats is not None}):
            # chunks cut through the teachers; every fitting session is covered
            tight = teacher_lp_bound(model, prices, chunk=7)
            assert tight >= optimum - 1e-6
            if per_need is None:  # every candidate in the teachers' LPs: tighter
                assert tight < lagrange_bound(model, prices) - 1e-6


def test_pricing_reaches_sessions_beyond_the_kept_ones() -> None:
    # Three teachers, three remote sessions of one seat each: one kept session per need
    # cannot cover all three; pricing adds the others.
    teachers = [teacher(t) for t in (1, 4, 7)]  # the same kept session for all three
    data = inp(teachers, [PlanNeed(t.teacher_id, "A", score=0.1) for t in teachers],
               [course("C", ("A",))],
               [session("C", seats=1, key=f"C-{k}") for k in range(3)])
    region = plan_lagrange(data, candidates_per_need=1, rounds=100, price_every=3)
    assert violations(data, region) == []
    assert {i.teacher_id for i in region.items} == {1, 4, 7}
    assert region.stats["candidates"] > 3


def test_fixed_items_keep_their_seats() -> None:
    data = random_input(6, n_teachers=90, n_offers=20)
    first = plan(data)
    fixed = tuple(FixedItem(i.teacher_id, i.session_key) for i in first.items[::2])
    again = replace(data, fixed=fixed)
    region = plan_lagrange(again, rounds=80)
    assert violations(again, region) == []
    assert {(f.teacher_id, f.session_key) for f in fixed} <= pairs(region)
    assert region.bound >= plan(again).objective - 1e-6


def test_same_input_same_plan() -> None:
    data = random_input(7, n_teachers=90, n_offers=18)
    one, two = plan_lagrange(data, rounds=50), plan_lagrange(data, rounds=50)
    assert (one.items, one.unmet, one.objective, one.bound) == (
        two.items, two.unmet, two.objective, two.bound)


def test_plan_any_plans_large_regions_by_prices() -> None:
    data = random_input(5, n_teachers=40, n_offers=12)
    assert plan_any(data).decomposition.startswith("connected components")
    large = plan_any(data, region_from=10)
    assert large.method == "lagrange"
    assert large.decomposition.startswith("Lagrangian relaxation of seats")
    assert violations(data, large) == []


def _two_teachers(b_value: float) -> tuple:
    """Teacher 0 holds session 0 (value 1.0) and could take session 1 (0.8, a free seat);
    teacher 1 can only take session 0 (``b_value``). One seat each; one need per teacher."""
    start = np.array([0, 2, 3], dtype=np.int64)
    value = np.array([1.0, 0.8, b_value])
    session = np.array([0, 1, 0], dtype=np.int64)
    taken = np.array([True, False, False])
    seats = np.array([0.0, 1.0])
    cover = np.full((3, plan_kernels.MAX_COVER), -1, dtype=np.int64)
    cover[:, 0] = [0, 0, 1]
    by_session = np.argsort(session, kind="stable")
    session_start = np.searchsorted(session[by_session], np.arange(3))
    args = (by_session, session_start, np.array([0, 0, 1]), start, value, taken, session,
            np.full(3, -1, dtype=np.int64), seats, np.zeros(0), cover,
            np.array([1, 1], dtype=np.int64), np.zeros(3), np.zeros(3, dtype=np.int64),
            np.array([0, 10, 20]), np.array([5, 15, 25]), np.array([0, 1, 2]),
            np.full((2, 1), 72.0), 1000)
    return args, taken, seats


def test_a_seat_moves_to_the_teacher_who_gains_more_than_its_holder_loses() -> None:
    args, taken, seats = _two_teachers(0.5)
    assert plan_kernels.swap_seats(*args) == pytest.approx(0.5 - 0.2)
    assert taken.tolist() == [False, True, True]
    assert seats.tolist() == [0.0, 0.0]
    # Gaining less than the holder would lose: nothing moves.
    args, taken, seats = _two_teachers(0.1)
    assert plan_kernels.swap_seats(*args) == 0.0
    assert taken.tolist() == [True, False, False]


def test_plan_any_pauses_the_collector_and_restores_it(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    data = random_input(5, n_teachers=12, n_offers=6)
    seen: list[bool] = []
    real = plan_scale.plan

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    def fails(*args: object, **kwargs: object) -> object:
        raise ZeroDivisionError

    try:
        monkeypatch.setattr(plan_scale, "plan", spy)
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            plan_any(data)
            assert gc.isenabled() is enabled
        monkeypatch.setattr(plan_scale, "plan", fails)
        with pytest.raises(ZeroDivisionError):
            plan_any(data)
        assert gc.isenabled() is False  # as it was before the call
    finally:
        gc.enable()
    assert seen == [False, False]
