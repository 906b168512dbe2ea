"""Matching needs to offers: rule order, seats, severity, risk, determinism, reasons."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from courses.matching import MatchResult, match, needs_from_levels
from courses.records import DeficitNeed, Offer, Proposal, Unmatched

PARTNERS = {"16101": ["16102"]}  # school 16101 is supported by resource centre 16102

I_PARTNER = Offer("I-P", "internship", "Стажировка в лицее", ("PK-01", "PK-03"),
                  host_school="16102", seats=1)
I_FAR = Offer("I-F", "internship", "Стажировка далеко", ("PK-05",), host_school="16999")
C_WIDE = Offer("C-A", "course", "Курс А", ("PK-01", "PK-02"))
C_NARROW = Offer("C-B", "course", "Курс Б", ("PK-02",), seats=5)
M_FAR = Offer("M-F", "mentoring", "Наставник далеко", ("PK-04",), host_school="16999", seats=1)
M_PARTNER = Offer("M-P", "mentoring", "Наставник рядом", ("PK-04",), host_school="16102",
                  seats=1)
OFFERS = [I_PARTNER, I_FAR, C_WIDE, C_NARROW, M_FAR, M_PARTNER]


def need(teacher: int, competency: str, score: float, school: str | None = "16101",
         level: str = "deficit") -> DeficitNeed:
    return DeficitNeed(teacher, school, competency, level, score)


def picks(result: MatchResult) -> list[tuple[object, ...]]:
    """(teacher, offer, competencies, rule) of proposals, then (teacher, comp, reason)."""
    return ([(p.teacher_id, p.offer_key, p.competencies, p.rule) for p in result.proposals]
            + [(u.teacher_id, u.competency, u.reason) for u in result.unmatched])


@pytest.mark.parametrize(
    ("needs", "expected"),
    [
        # (1) partner internship for a teacher of 16101 needing PK-01
        ([need(1, "PK-01", 0.35)], [(1, "I-P", ("PK-01",), "partner_internship")]),
        # (2) no partner for school 16201 → course; C-A and C-B both cover PK-02 once:
        # tie on coverage → smallest key C-A
        ([need(2, "PK-02", 0.3, "16201")], [(2, "C-A", ("PK-02",), "course")]),
        # (2) with two needs the course covering both is taken once and lists both
        ([need(3, "PK-01", 0.2, "16201"), need(3, "PK-02", 0.4, "16201")],
         [(3, "C-A", ("PK-01", "PK-02"), "course")]),
        # (3) no course covers PK-05: any internship (not a partner of 16101)
        ([need(4, "PK-05", 0.1)], [(4, "I-F", ("PK-05",), "internship")]),
        # (3) PK-03 only in the 16102 internship; school 16201 is no partner → "internship"
        ([need(5, "PK-03", 0.1, "16201")], [(5, "I-P", ("PK-03",), "internship")]),
        # (4) mentoring: partner mentor M-P wins over M-F despite the larger key
        ([need(6, "PK-04", 0.1)], [(6, "M-P", ("PK-04",), "mentoring")]),
        # (4) no partner: smallest key M-F
        ([need(7, "PK-04", 0.1, None)], [(7, "M-F", ("PK-04",), "mentoring")]),
        # (5) nothing covers PK-09
        ([need(8, "PK-09", 0.1)], [(8, "PK-09", "no_offer")]),
        # partner internship covers PK-01 and PK-03: one proposal, one seat
        ([need(9, "PK-03", 0.4), need(9, "PK-01", 0.2)],
         [(9, "I-P", ("PK-01", "PK-03"), "partner_internship")]),
    ],
)
def test_rules(needs: list[DeficitNeed], expected: list[tuple[object, ...]]):
    assert picks(match(needs, OFFERS, partners=PARTNERS)) == expected


def test_course_covering_most_open_needs_wins_over_smaller_key():
    narrow = Offer("A-1", "course", "Узкий", ("PK-02",))
    wide = Offer("Z-9", "course", "Широкий", ("PK-02", "PK-05"))
    needs = [need(1, "PK-02", 0.1, None), need(1, "PK-05", 0.3, None)]
    assert picks(match(needs, [narrow, wide], partners={})) == [
        (1, "Z-9", ("PK-02", "PK-05"), "course")]


def test_seats_go_to_most_severe_then_next_rule_then_unmatched():
    # I-P (PK-01, PK-03) has 1 seat. Order: 30 (0.05), 20 (0.1), 10 (0.3).
    # 30 takes the I-P seat for PK-03; 20 and 10 find I-P full → next rule: course C-A.
    needs = [need(10, "PK-01", 0.3), need(20, "PK-01", 0.1), need(30, "PK-03", 0.05)]
    assert picks(match(needs, OFFERS, partners=PARTNERS)) == [
        (10, "C-A", ("PK-01",), "course"),
        (20, "C-A", ("PK-01",), "course"),
        (30, "I-P", ("PK-03",), "partner_internship"),
    ]
    # PK-03: only I-P covers it; 20 (0.1) takes the seat, 10 (0.3) is unmatched: no_seats.
    needs = [need(10, "PK-03", 0.3), need(20, "PK-03", 0.1)]
    assert picks(match(needs, OFFERS, partners=PARTNERS)) == [
        (20, "I-P", ("PK-03",), "partner_internship"),
        (10, "PK-03", "no_seats"),
    ]


def test_mentoring_seats_fall_back_from_partner_to_other_mentor():
    # M-P and M-F have 1 seat each: 1st teacher (0.1) M-P, 2nd (0.2) M-F, 3rd (0.3) none.
    needs = [need(3, "PK-04", 0.3), need(1, "PK-04", 0.1), need(2, "PK-04", 0.2)]
    assert picks(match(needs, OFFERS, partners=PARTNERS)) == [
        (1, "M-P", ("PK-04",), "mentoring"),
        (2, "M-F", ("PK-04",), "mentoring"),
        (3, "PK-04", "no_seats"),
    ]


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        ({}, (1, "I-P", ("PK-01",), "partner_internship")),
        ({"I-P": 1}, (1, "C-A", ("PK-01",), "course")),  # 1 seat - 1 used = 0 left
        ({"I-P": 5}, (1, "C-A", ("PK-01",), "course")),  # over-used counts as full
        ({"C-A": 1000}, (1, "I-P", ("PK-01",), "partner_internship")),  # unlimited stays so
    ],
)
def test_used_seats(used: dict[str, int], expected: tuple[object, ...]):
    assert picks(match([need(1, "PK-01", 0.2)], OFFERS, partners=PARTNERS,
                       used_seats=used)) == [expected]


def test_risk_needs_only_with_include_risk():
    needs = [need(1, "PK-02", 0.6, None, "risk")]
    assert picks(match(needs, OFFERS, partners=PARTNERS)) == []
    assert picks(match(needs, OFFERS, partners=PARTNERS, include_risk=True)) == [
        (1, "C-A", ("PK-02",), "course")]


def test_deficit_before_risk_even_with_a_lower_risk_score():
    # One I-P seat: the deficit (0.45) is served before the risk (0.3, lower score).
    needs = [need(1, "PK-03", 0.3, level="risk"), need(2, "PK-03", 0.45)]
    assert picks(match(needs, OFFERS, partners=PARTNERS, include_risk=True)) == [
        (2, "I-P", ("PK-03",), "partner_internship"), (1, "PK-03", "no_seats")]


def test_offer_covering_deficit_and_risk_lists_both_with_reasons():
    needs = [need(1, "PK-01", 0.35), need(1, "PK-03", 0.6, level="risk")]
    result = match(needs, OFFERS, partners=PARTNERS, include_risk=True)
    assert result.proposals == [Proposal(
        1, "I-P", ("PK-01", "PK-03"), "partner_internship",
        ("PK-01: 35 % — дефицит; стажировка в ресурсном центре-партнёре 16102",
         "PK-03: 60 % — группа риска; стажировка в ресурсном центре-партнёре 16102"),
    )]
    # Without include_risk the risk is neither listed nor reported.
    plain = match(needs, OFFERS, partners=PARTNERS)
    assert plain.proposals[0].competencies == ("PK-01",)
    assert plain.unmatched == []


@pytest.mark.parametrize(
    ("needs", "reason"),
    [
        # 0.499 → 49 % (rounded down: never shows the 50 % threshold for a deficit)
        ([need(1, "PK-02", 0.499, None)], "PK-02: 49 % — дефицит; курс повышения "
                                          "квалификации «Курс А»"),
        # 0.29 * 100 = 28.999999999999996 → still 29 %
        ([need(1, "PK-05", 0.29)], "PK-05: 29 % — дефицит; стажировка в ресурсном центре 16999"),
        ([need(1, "PK-04", 0.1)], "PK-04: 10 % — дефицит; наставничество, ресурсный "
                                  "центр-партнёр 16102"),
        ([need(1, "PK-04", 0.1, "16201")], "PK-04: 10 % — дефицит; наставничество 16999"),
    ],
)
def test_reasons_in_russian(needs: list[DeficitNeed], reason: str):
    assert match(needs, OFFERS, partners=PARTNERS).proposals[0].reasons == (reason,)


def test_result_does_not_depend_on_input_order():
    needs = [need(t, c, s, school) for t, school in ((1, "16101"), (2, "16201"), (3, None))
             for c, s in (("PK-01", 0.1 * t), ("PK-03", 0.2), ("PK-04", 0.3), ("PK-09", 0.4))]
    expected = match(needs, OFFERS, partners=PARTNERS)
    rng = random.Random(7)
    for _ in range(5):
        shuffled_needs, shuffled_offers = needs[:], OFFERS[:]
        rng.shuffle(shuffled_needs)
        rng.shuffle(shuffled_offers)
        assert match(shuffled_needs, shuffled_offers, partners=PARTNERS) == expected
    # Teacher 1 (0.1, partner school) got I-P's single seat for PK-01 and PK-03;
    # teacher 2 (PK-03, no partner) then finds I-P full: no_seats.
    assert (2, "PK-03", "no_seats") in picks(expected)


def test_duplicate_offer_keys_are_refused():
    with pytest.raises(ValueError, match="offer keys must be unique"):
        match([need(1, "PK-01", 0.1)], [C_WIDE, C_WIDE], partners={})


def test_same_need_twice_is_covered_once():
    needs = [need(1, "PK-02", 0.3, None), need(1, "PK-02", 0.3, None)]
    assert picks(match(needs, OFFERS, partners={})) == [(1, "C-A", ("PK-02",), "course")]


def test_needs_from_levels():
    levels = pd.DataFrame({
        "user_id": [1, 1, 2, 3],
        "competency": ["PK-01", "PK-02", "PK-01", "PK-01"],
        "score": [0.6, 0.2, 0.9, float("nan")],
        "level": ["risk", "deficit", "ok", "insufficient"],
    })
    assert needs_from_levels(levels, {1: "16101"}) == [
        DeficitNeed(1, "16101", "PK-02", "deficit", 0.2),
        DeficitNeed(1, "16101", "PK-01", "risk", 0.6),
    ]


def test_unmatched_record():
    assert match([need(1, "PK-09", 0.1)], [], partners={}).unmatched == [
        Unmatched(1, "PK-09", "no_offer")]


def test_excluded_offers_are_never_proposed_to_that_teacher():
    from courses.matching import match
    from courses.records import DeficitNeed, Offer

    offers = [Offer("a", "course", "A", ("PK-01",)), Offer("b", "course", "B", ("PK-01",))]
    needs = [DeficitNeed(1, "s1", "PK-01", "deficit", 0.2),
             DeficitNeed(2, "s1", "PK-01", "deficit", 0.3)]
    result = match(needs, offers, partners={}, excluded={1: {"a"}})
    chosen = {p.teacher_id: p.offer_key for p in result.proposals}
    assert chosen == {1: "b", 2: "a"}
    none_left = match(needs[:1], offers, partners={}, excluded={1: {"a", "b"}})
    assert none_left.proposals == [] and [u.reason for u in none_left.unmatched] == ["excluded"]
