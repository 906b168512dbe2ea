"""Match teachers' deficits to offers under seat limits: deterministic route proposals."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from courses.records import (
    COURSE,
    INTERNSHIP,
    MENTORING,
    DeficitNeed,
    Offer,
    Proposal,
    Unmatched,
)

NEED_DEFICIT = "deficit"
NEED_RISK = "risk"

RULE_PARTNER_INTERNSHIP = "partner_internship"
RULE_COURSE = "course"
RULE_INTERNSHIP = "internship"
RULE_MENTORING = "mentoring"
RULES = (RULE_PARTNER_INTERNSHIP, RULE_COURSE, RULE_INTERNSHIP, RULE_MENTORING)
_RULE_KINDS = {RULE_PARTNER_INTERNSHIP: INTERNSHIP, RULE_COURSE: COURSE,
               RULE_INTERNSHIP: INTERNSHIP, RULE_MENTORING: MENTORING}

REASON_NO_OFFER = "no_offer"  # no offer covers the competency at all
REASON_NO_SEATS = "no_seats"  # offers cover it, but none has a seat left
REASON_EXCLUDED = "excluded"  # every offer covering it was completed or rejected by the teacher

_LEVEL_TEXT = {NEED_DEFICIT: "дефицит", NEED_RISK: "группа риска"}


@dataclass(frozen=True)
class MatchResult:
    """Proposals (one per chosen offer and teacher) and the needs nothing could cover."""

    proposals: list[Proposal]
    unmatched: list[Unmatched]


def _severity(need: DeficitNeed) -> tuple[int, float, int, str]:
    """Sort key: deficit before risk, lowest score first, then teacher id, competency."""
    return (0 if need.level == NEED_DEFICIT else 1, need.score, need.teacher_id, need.competency)


def _percent(score: float) -> int:
    """Score as whole percent, rounded down so 0.499 never reads as the 50 % threshold."""
    return math.floor(score * 100 + 1e-9)


class _Seats:
    """Offers by competency and the seats left in each (None = unlimited)."""

    def __init__(self, offers: Sequence[Offer], used: Mapping[str, int]) -> None:
        keys = [offer.key for offer in offers]
        if len(set(keys)) != len(keys):
            raise ValueError("offer keys must be unique; rename the duplicated offers")
        self.left = {
            o.key: None if o.seats is None else max(o.seats - used.get(o.key, 0), 0)
            for o in offers
        }
        self.covering: dict[str, list[Offer]] = {}
        for offer in sorted(offers, key=lambda o: o.key):
            if offer.kind in (COURSE, INTERNSHIP, MENTORING):
                for competency in offer.competencies:
                    self.covering.setdefault(competency, []).append(offer)

    def free(self, competency: str) -> list[Offer]:
        """Offers covering ``competency`` with a seat left, by key."""
        return [o for o in self.covering.get(competency, ()) if self.left[o.key] != 0]

    def take(self, offer: Offer) -> None:
        left = self.left[offer.key]
        if left is not None:
            self.left[offer.key] = left - 1


def _choose(
    need: DeficitNeed, pending: Mapping[str, DeficitNeed], seats: _Seats,
    partners: Collection[str], used: Collection[str],
) -> tuple[Offer, str] | None:
    """Pick the offer for ``need`` by the first rule that has one (see ``match``)."""
    free = [o for o in seats.free(need.competency) if o.key not in used]

    def rank(offer: Offer) -> tuple[bool, int, str]:
        coverage = sum(1 for c in offer.competencies if c in pending)
        mentor_far = offer.kind == MENTORING and offer.host_school not in partners
        return (mentor_far, -coverage, offer.key)

    for rule in RULES:
        found = [o for o in free if o.kind == _RULE_KINDS[rule]]
        if rule == RULE_PARTNER_INTERNSHIP:
            found = [o for o in found if o.host_school in partners]
        if found:
            return min(found, key=rank), rule
    return None


def _rule_text(offer: Offer, rule: str, partners: Collection[str]) -> str:
    """How the offer closes the need, in Russian."""
    host = offer.host_school or ""
    if rule == RULE_PARTNER_INTERNSHIP:
        return f"стажировка в ресурсном центре-партнёре {host}"
    if rule == RULE_COURSE:
        return f"курс повышения квалификации «{offer.title}»"
    if rule == RULE_INTERNSHIP:
        return f"стажировка в ресурсном центре {host}".rstrip()
    if host and host in partners:
        return f"наставничество, ресурсный центр-партнёр {host}"
    return f"наставничество {host}".rstrip()


def _reason(need: DeficitNeed, text: str) -> str:
    level = _LEVEL_TEXT.get(need.level, need.level)
    return f"{need.competency}: {_percent(need.score)} % — {level}; {text}"


def _open_needs(
    needs: Sequence[DeficitNeed], include_risk: bool
) -> tuple[list[DeficitNeed], dict[int, dict[str, DeficitNeed]]]:
    """Needs to cover, most severe first (one per teacher and competency), and per teacher."""
    levels = (NEED_DEFICIT, NEED_RISK) if include_risk else (NEED_DEFICIT,)
    ordered: list[DeficitNeed] = []
    pending: dict[int, dict[str, DeficitNeed]] = {}
    for need in sorted((n for n in needs if n.level in levels), key=_severity):
        mine = pending.setdefault(need.teacher_id, {})
        if need.competency not in mine:
            mine[need.competency] = need
            ordered.append(need)
    return ordered, pending


class _Run:
    """One matching run: open needs per teacher, seats left, offers already proposed."""

    def __init__(self, seats: _Seats, partners: Mapping[str, Collection[str]],
                 pending: dict[int, dict[str, DeficitNeed]],
                 excluded: Mapping[int, Collection[str]]) -> None:
        self.seats = seats
        self.partners = partners
        self.pending = pending
        self.used: dict[int, set[str]] = {t: set(keys) for t, keys in excluded.items()}
        self.near: dict[int, tuple[str, ...]] = {}

    def _near(self, need: DeficitNeed) -> tuple[str, ...]:
        """Partner resource centres of the teacher's school (first need's school wins)."""
        if need.teacher_id not in self.near:
            home = need.school_code
            self.near[need.teacher_id] = tuple(self.partners.get(home, ())) if home else ()
        return self.near[need.teacher_id]

    def step(self, need: DeficitNeed) -> Proposal | Unmatched | None:
        """Cover ``need`` unless already covered: a Proposal, an Unmatched or None."""
        mine = self.pending[need.teacher_id]
        if need.competency not in mine:
            return None  # covered by an offer chosen for a more severe need
        near = self._near(need)
        used = self.used.setdefault(need.teacher_id, set())
        chosen = _choose(need, mine, self.seats, near, used)
        if chosen is None:
            del mine[need.competency]
            covered = self.seats.covering.get(need.competency)
            reason = REASON_NO_SEATS if covered else REASON_NO_OFFER
            if covered and all(o.key in used for o in covered):
                reason = REASON_EXCLUDED
            return Unmatched(need.teacher_id, need.competency, reason)
        offer, rule = chosen
        covered_needs = [n for n in mine.values() if n.competency in offer.competencies]
        for item in covered_needs:
            del mine[item.competency]
        self.seats.take(offer)
        used.add(offer.key)
        text = _rule_text(offer, rule, near)
        return Proposal(need.teacher_id, offer.key, tuple(n.competency for n in covered_needs),
                        rule, tuple(_reason(n, text) for n in covered_needs))


def match(
    needs: Sequence[DeficitNeed],
    offers: Sequence[Offer],
    *,
    partners: Mapping[str, Collection[str]],
    used_seats: Mapping[str, int] | None = None,
    include_risk: bool = False,
    excluded: Mapping[int, Collection[str]] | None = None,
) -> MatchResult:
    """Propose offers for teachers' needs under seat limits, deterministically.

    Needs are taken most severe first (deficit before risk, lowest score, teacher id,
    competency), so scarce seats go to the weakest. For a need not yet covered, the first
    rule with a free offer covering its competency wins: ``partner_internship`` (hosted by
    a resource centre partnered with the teacher's school), ``course``, ``internship`` (any
    host), ``mentoring`` (partner-hosted first). Within a rule the offer covering most of
    the teacher's still-open needs wins, then the smallest key. A chosen offer covers every
    open need of the teacher it covers, takes one seat and is never proposed to that
    teacher twice. A need with no free offer is Unmatched: ``no_offer`` when no offer covers
    the competency at all, else ``no_seats``.

    Args:
        needs: Teachers' needs; only level "deficit" (and "risk" with ``include_risk``) count.
        offers: Offers; keys must be unique. ``seats`` None is unlimited.
        partners: Supported school code → codes of its resource-centre partner schools.
        used_seats: Seats per offer key already taken by earlier approved routes.
        include_risk: Also cover risk-level needs.
        excluded: Offer keys never to propose to a teacher (teacher id → keys): a course
            they already completed, an item a methodologist rejected.

    Returns:
        Proposals and unmatched needs, each sorted by teacher id (stable otherwise).

    Raises:
        ValueError: When two offers share a key.
    """
    ordered, pending = _open_needs(needs, include_risk)
    run = _Run(_Seats(offers, used_seats or {}), partners, pending, excluded or {})
    results = [run.step(need) for need in ordered]
    return MatchResult(
        sorted((r for r in results if isinstance(r, Proposal)), key=lambda p: p.teacher_id),
        sorted((r for r in results if isinstance(r, Unmatched)), key=lambda u: u.teacher_id),
    )


def needs_from_levels(
    levels: pd.DataFrame, schools: Mapping[int, str | None]
) -> list[DeficitNeed]:
    """Needs from a levels frame (``deficits.policy.score_with_policy``): its deficit and risk rows.

    Args:
        levels: Columns user_id, competency, score, level.
        schools: Teacher id → school code (missing or None: no school).

    Returns:
        One DeficitNeed per deficit or risk row, most severe first.
    """
    rows = levels[levels["level"].isin([NEED_DEFICIT, NEED_RISK])]
    needs = [
        DeficitNeed(int(u), schools.get(int(u)), str(c), str(lv), float(s))
        for u, c, lv, s in zip(
            rows["user_id"], rows["competency"], rows["level"], rows["score"], strict=True
        )
    ]
    return sorted(needs, key=_severity)
