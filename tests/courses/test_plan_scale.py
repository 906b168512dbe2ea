"""Planning a region by municipality (``courses.plan_scale``): shared seats split by open needs,
shares left unused given again, a bound valid for the whole region, same plan in any number of
worker processes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from courses.plan_model import FixedItem, PlanNeed, Policy
from courses.plan_scale import group_input, plan_any, plan_region, split_region
from courses.planner import plan, plan_greedy, plan_with_duals, region_bound
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


def shared_course() -> tuple:
    """One remote maths course of two seats; M1 has three history teachers needing its
    competency (they cannot take it), M2 two maths teachers."""
    teachers = [teacher(1, "M1", ("history",)), teacher(2, "M1", ("history",)),
                teacher(3, "M1", ("history",)), teacher(4, "M2"), teacher(5, "M2")]
    needs = [PlanNeed(t.teacher_id, "A", score=0.1) for t in teachers]
    offers = [course("C", ("A",), subjects=("math",))]
    return teachers, needs, offers, [session("C", seats=2)]


def test_shared_seats_split_by_open_needs_in_the_offers_competencies() -> None:
    data = inp(*shared_course())
    cut = split_region(data)
    assert cut.members == {"M1": [1, 2, 3], "M2": [4, 5]}
    assert cut.quota == {"C-1": {"M1": 1, "M2": 1}}  # 2 × 3/5 = 1.2 and 0.8: remainders
    assert [s.seats for s in group_input(data, cut, "M2").sessions] == [1]


def test_a_share_a_municipality_cannot_use_goes_to_one_that_can() -> None:
    data = inp(*shared_course())
    region = plan_region(data, Policy(), time_limit=60, candidates_per_need=None)
    assert pairs(region) == {(4, "C-1"), (5, "C-1")}
    assert "1 unused shares given again" in region.decomposition
    assert violations(data, region) == []
    assert region.objective == pytest.approx(plan(data).objective)


def test_in_person_sessions_stay_with_their_municipality() -> None:
    data = random_input(8, n_teachers=60, n_offers=15)
    cut = split_region(data)
    offers = {o.key: o for o in data.offers}
    for s in data.sessions:
        offer = offers[s.offer_key]
        if offer.format != "remote" and not offer.host_school:
            assert cut.reach[s.key] <= {offer.municipality}
            assert s.key not in cut.quota
    for key, quotas in cut.quota.items():
        seats = next(s.seats for s in data.sessions if s.key == key)
        assert sum(quotas.values()) == seats


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_region_plan_is_feasible_and_its_bound_holds_for_the_whole_region(seed: int) -> None:
    data = random_input(seed, n_teachers=90, n_offers=18)
    whole = plan(data)  # one model: MILP, optimal on instances this small
    for per_need in (None, 2):
        region = plan_region(data, Policy(), time_limit=60, candidates_per_need=per_need)
        assert region.decomposition.startswith("by municipality (cut by schools above 600 teachers): 3 groups")
        assert violations(data, region) == []
        assert region.bound >= whole.objective - 1e-6
        assert region.bound >= region.objective - 1e-6
        assert region.objective >= plan_greedy(data).objective - 1e-6
        assert {u.reason for u in region.unmet} and all(u.text for u in region.unmet)


def test_worker_processes_give_the_same_plan() -> None:
    data = random_input(4, n_teachers=90, n_offers=18)
    one = plan_region(data, Policy(), time_limit=60, candidates_per_need=2, workers=1)
    two = plan_region(data, Policy(), time_limit=60, candidates_per_need=2, workers=2)
    assert (two.items, two.unmet, two.objective, two.bound) == (
        one.items, one.unmet, one.objective, one.bound)


def test_plan_any_decomposes_only_large_regions_of_several_municipalities() -> None:
    data = random_input(5, n_teachers=40, n_offers=12)
    assert plan_any(data).decomposition.startswith("connected components")
    assert plan_any(data, region_from=10).decomposition.startswith("by municipality")
    # Too little time for the groups (0.006 s per teacher): one model, its greedy fallback.
    hurried = plan_any(data, region_from=10, time_limit=0.1)
    assert not hurried.decomposition.startswith("by municipality")
    assert violations(data, hurried) == []
    one_place = inp([teacher(1), teacher(2)], [PlanNeed(1, "A"), PlanNeed(2, "A")],
                    [course("C", ("A",))], [session("C")])
    assert not plan_any(one_place, region_from=1).decomposition.startswith("by municipality")


@pytest.mark.parametrize("seed", [2, 9])
def test_subgradient_steps_lower_the_region_bound_and_keep_it_valid(seed: int) -> None:
    data = random_input(seed, n_teachers=90, n_offers=18)
    whole = plan(data)
    cut = split_region(data)
    duals = [plan_with_duals(group_input(data, cut, g), Policy(), candidates_per_need=2)[1]
             for g in sorted(cut.members)]
    start = region_bound(data, Policy(), duals, cut.quota)
    stepped = region_bound(data, Policy(), duals, cut.quota, target=whole.objective,
                           seconds=30)
    assert whole.objective - 1e-6 <= stepped < start - 1e-6


def test_large_municipalities_are_cut_by_whole_schools() -> None:
    data = random_input(3, n_teachers=90, n_offers=18)
    cut = split_region(data, group_size=12)
    schools = {t.teacher_id: t.school_code for t in data.teachers}
    munis = {t.teacher_id: t.municipality for t in data.teachers}
    assert len(cut.members) > 3 and all(len(m) <= 24 for m in cut.members.values())
    for group, members in cut.members.items():
        assert {munis[t] for t in members} == {group.split("#")[0]}
    owner = {schools[t]: g for g, members in cut.members.items() for t in members}
    assert all(owner[schools[t]] == g for g, members in cut.members.items() for t in members)
    in_person = [s for s in data.sessions
                 if next(o for o in data.offers if o.key == s.offer_key).format != "remote"]
    assert any(len(cut.reach[s.key]) > 1 and s.key in cut.quota for s in in_person)
    whole = plan(data)
    region = plan_region(data, Policy(), time_limit=60, candidates_per_need=2, group_size=12)
    assert violations(data, region) == []
    assert region.bound >= whole.objective - 1e-6


def test_fixed_items_keep_their_seats_and_mentor_places_in_their_group() -> None:
    data = random_input(6, n_teachers=90, n_offers=20)
    first = plan(data)
    fixed = tuple(FixedItem(i.teacher_id, i.session_key) for i in first.items[::2])
    again = replace(data, fixed=fixed)
    cut = split_region(again, group_size=12)
    for f in fixed:
        quota = cut.quota.get(f.session_key)
        if quota is not None:
            group = next(g for g, m in cut.members.items() if f.teacher_id in m)
            assert quota[group] >= cut.fixed_use[f.session_key][group]
    region = plan_region(again, Policy(), time_limit=60, candidates_per_need=2, group_size=12)
    assert violations(again, region) == []
    assert {(f.teacher_id, f.session_key) for f in fixed} <= pairs(region)
    assert region.bound >= plan(again).objective - 1e-6
