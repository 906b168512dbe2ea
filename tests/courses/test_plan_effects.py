"""Offer effectiveness in matching (issue 14): an offer proven by an earlier period gains, a
weak one loses, one without enough evidence keeps its weight; the bounds stay valid; the item
cites the evidence."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from courses.plan_lagrange import plan_lagrange
from courses.plan_model import OfferEffect, PlanNeed, Policy
from courses.plan_texts import item_record, record_text
from courses.planner import _Model, _scan_cache, need_weight, plan
from tests.courses.test_planner import course, inp, random_input, session, teacher, violations

pytest.importorskip("highspy")


def two_courses(*effects: OfferEffect):
    """One teacher with a deficit in A; two equal remote courses for A (C1 sorts first)."""
    return inp([teacher(1)], [PlanNeed(1, "A", score=0.2)],
               [course("C1", ("A",)), course("C2", ("A",))],
               [session("C1"), session("C2")], effects=effects)


def proven(key: str, pairs: int = 20, closed: int = 16, kind_share: float = 0.5
           ) -> OfferEffect:
    shrunk = (closed + 10 * kind_share) / (pairs + 10)
    return OfferEffect(key, "A", pairs, closed, shrunk, kind_share)


def chosen(result) -> str:
    [item] = result.items
    return item.offer_key


def test_the_proven_offer_wins_and_its_item_cites_the_evidence() -> None:
    before = plan(two_courses())
    other = "C2" if chosen(before) == "C1" else "C1"
    after = plan(two_courses(proven(other)))
    assert chosen(after) == other
    [item] = after.items
    [ev] = item.evidence
    assert (ev.competency, ev.pairs, ev.closed) == ("A", 20, 16)
    assert ev.factor == pytest.approx(1 + 0.5 * (ev.shrunk - 0.5))
    weight = need_weight(PlanNeed(1, "A", score=0.2), teacher(1), Policy())
    assert item.value == pytest.approx(weight * ev.factor + Policy().remote_bonus
                                       - Policy().item_penalty)
    offer = next(o for o in two_courses().offers if o.key == other)
    record = item_record(item, offer, session(other))
    assert record["evidence"][0]["closed"] == 16
    text = record_text(record)
    assert "закрыт у 16 из 20 педагогов" in text and "70 %" in text and "50 %" in text
    assert "closed for 16 of 20 teachers" in record_text(record, "en")


def test_a_weak_offer_loses_to_one_without_evidence() -> None:
    first = chosen(plan(two_courses()))
    weak = proven(first, pairs=30, closed=3, kind_share=0.6)
    assert chosen(plan(two_courses(weak))) != first


def test_too_few_pairs_or_no_weight_change_nothing() -> None:
    first = chosen(plan(two_courses()))
    other = "C2" if first == "C1" else "C1"
    few = proven(other, pairs=9, closed=9)
    result = plan(two_courses(few))
    assert chosen(result) == first and result.items[0].evidence == ()
    assert chosen(plan(two_courses(few), Policy(effect_min_pairs=5))) == other
    assert chosen(plan(two_courses(proven(other)), Policy(effect_weight=0.0))) == first


def test_evidence_for_a_competency_the_offer_no_longer_covers_is_ignored() -> None:
    first = chosen(plan(two_courses()))
    other = "C2" if first == "C1" else "C1"
    stale = replace(proven(other), competency="B")
    result = plan(two_courses(stale))
    assert chosen(result) == first and result.items[0].evidence == ()


def test_policy_refuses_an_effect_weight_outside_0_1() -> None:
    with pytest.raises(ValueError, match="effect_weight"):
        Policy(effect_weight=1.5)
    with pytest.raises(ValueError, match="effect_min_pairs"):
        Policy(effect_min_pairs=0)


def with_effects(seed: int):
    """A random instance where about half the offer × competency pairs have evidence."""
    data = random_input(seed, n_teachers=90, n_offers=18)
    rng = random.Random(seed)
    effects = []
    for offer in data.offers:
        for c in offer.competencies:
            if rng.random() < 0.5:
                pairs, kind = rng.randint(5, 60), rng.uniform(0.3, 0.7)
                closed = rng.randint(0, pairs)
                effects.append(OfferEffect(offer.key, c, pairs, closed,
                                           (closed + 10 * kind) / (pairs + 10), kind))
    return replace(data, effects=tuple(effects))


@pytest.mark.parametrize("seed", [1, 2])
def test_bounds_stay_valid_with_effects(seed: int) -> None:
    data = with_effects(seed)
    whole = plan(data)  # one model, MILP: optimal on instances this small
    assert violations(data, whole) == []
    assert any(i.evidence for i in whole.items)
    # The objective is what the items are worth, recomputed from the policy's rule.
    policy, weights = Policy(), {}
    teachers = {t.teacher_id: t for t in data.teachers}
    for n in data.needs:
        w = need_weight(n, teachers[n.teacher_id], policy)
        weights[(n.teacher_id, n.competency)] = max(w, weights.get((n.teacher_id, n.competency),
                                                                   0.0))
    for item in whole.items:
        factors = {e.competency: e.factor for e in item.evidence}
        bonus = {"partner": 0.15, "municipality": 0.10, "remote": 0.05}.get(item.place, 0.0)
        want = sum(weights[(item.teacher_id, c)] * factors.get(c, 1.0)
                   for c in item.competencies) + bonus - policy.item_penalty
        assert item.value == pytest.approx(want, abs=1e-6)
    for per_need in (None, 1):
        region = plan_lagrange(data, rounds=200, candidates_per_need=per_need)
        assert violations(data, region) == []
        assert region.bound >= whole.objective - 1e-6
        assert region.objective <= whole.objective + 1e-6
    capped = plan(data, candidates_per_need=1)
    assert capped.bound >= whole.objective - 1e-6


def test_the_bound_scan_values_sessions_as_the_candidates_do() -> None:
    # The Lagrangian bound splits each session's reduced value over the needs it covers; with
    # effects that value is Σ weight × factor, and each need's share its own part of it.
    data = with_effects(3)
    model = _Model(data, Policy(effect_weight=1.0))
    cache = _scan_cache(model)
    checked = 0
    for bucket in cache.buckets:
        for k in range(len(bucket.rows)):
            teacher_id, competency = cache.need_keys[bucket.need_ids[k]]
            for m, member in enumerate(bucket.members):
                cand = model.candidate(model.teachers[teacher_id], int(member))
                if cand is None or competency not in cand.comps:
                    continue
                factor = {c: ev.factor for (o, c), ev in model.evidence.items()
                          if o == model.facts[int(member)].offer.key}
                part = model.weight[(teacher_id, competency)] * factor.get(competency, 1.0)
                covered = cand.value - model._bonus.get(cand.place, 0.0) + Policy().item_penalty
                assert bucket.cover_w[k, m] == pytest.approx(covered)
                assert bucket.share[k, m] == pytest.approx(part / bucket.cover_w[k, m])
                checked += factor.get(competency, 1.0) != 1.0
    assert checked > 50
