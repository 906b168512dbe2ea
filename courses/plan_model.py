"""Input and result records of route planning (issue 13): teachers, needs, offers, sessions.

Everything here is a frozen dataclass the app builds from database rows; ``courses.planner``
reads it. Dates are inclusive ``datetime.date`` ranges; hours are whole or fractional hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# Offer kinds (the five of issue 13).
MOODLE_COURSE = "moodle_course"
EXTERNAL_COURSE = "external_course"
INTERNSHIP = "internship"
MENTORING = "mentoring"
METHODICAL_EVENT = "methodical_event"
PLAN_OFFER_KINDS = (MOODLE_COURSE, EXTERNAL_COURSE, INTERNSHIP, MENTORING, METHODICAL_EVENT)

# Formats.
IN_PERSON = "in_person"
REMOTE = "remote"
MIXED = "mixed"
FORMATS = (IN_PERSON, REMOTE, MIXED)

# Need levels and diagnostic stages.
LEVEL_DEFICIT = "deficit"
LEVEL_RISK = "risk"
STAGE_ENTRY = "entry"
STAGE_FINAL = "final"

DateRange = tuple[dt.date, dt.date]


@dataclass(frozen=True)
class PlanTeacher:
    """A teacher as planning sees them.

    ``hours_cap`` None takes the policy's default per period; ``unavailable`` are inclusive
    date ranges the teacher cannot attend; ``partners`` are the school codes of the partner
    resource centres of the teacher's school.
    """

    teacher_id: int
    school_code: str | None = None
    municipality: str | None = None
    subjects: tuple[str, ...] = ()
    hours_cap: float | None = None
    unavailable: tuple[DateRange, ...] = ()
    low_results_school: bool = False
    risk_group: bool = False
    partners: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanNeed:
    """One teacher's deficit (or risk) in one competency: score below threshold is the gap."""

    teacher_id: int
    competency: str
    level: str = LEVEL_DEFICIT
    score: float = 0.0
    threshold: float = 0.5
    stage: str = STAGE_ENTRY

    @property
    def gap(self) -> float:
        """How far below the threshold the score is (0 when at or above it)."""
        return max(self.threshold - self.score, 0.0)


@dataclass(frozen=True)
class PlanOffer:
    """Something that closes deficits; ``subjects`` empty means any subject."""

    key: str
    kind: str
    title: str
    competencies: tuple[str, ...]
    subjects: tuple[str, ...] = ()
    format: str = REMOTE
    municipality: str | None = None
    host_school: str | None = None
    mentor_id: str | None = None


@dataclass(frozen=True)
class PlanSession:
    """One run of an offer: its dates, seats (None = unlimited), hours and place."""

    offer_key: str
    key: str
    starts_on: dt.date
    ends_on: dt.date
    seats: int | None = None
    hours: float = 0.0
    place: str | None = None
    municipality: str | None = None  # None: the offer's municipality


@dataclass(frozen=True)
class PlanMentor:
    """A mentor and how many mentees they take at once."""

    mentor_id: str
    capacity: int


@dataclass(frozen=True)
class FixedItem:
    """An approved or enrolled item: kept as it is, consumes seats, hours and dates."""

    teacher_id: int
    session_key: str
    status: str = "approved"


@dataclass(frozen=True)
class OfferEffect:
    """What an earlier period says of an offer for one competency (issue 14): of ``pairs``
    teachers with that deficit at entry who completed the offer, ``closed`` had it closed at
    the final diagnostic; ``shrunk`` is that share pulled toward ``kind_share``, the share of
    every offer of its kind (``deficits.effectiveness.shrunk_shares``)."""

    offer_key: str
    competency: str
    pairs: int
    closed: int
    shrunk: float
    kind_share: float


@dataclass(frozen=True)
class Policy:
    """Weights and limits of planning; the defaults are the documented ones.

    A need's weight is ``level × stage × (1 + low_results·[low-results school] +
    risk_group·[risk group] + gap·(threshold − score))``; an item's value is the sum of the
    weights of the needs it covers plus the place bonus (partner resource centre > same
    municipality > remote > elsewhere) minus ``item_penalty`` (fewer items per teacher when
    equal) plus ``keep_bonus`` when re-planning keeps an earlier proposal (stability). The
    bonuses stay below the smallest need weight so coverage always comes first.

    Where an earlier period has at least ``effect_min_pairs`` completions of an offer by
    teachers with a deficit in a competency, the weight of that need in that offer's items is
    multiplied by ``1 + effect_weight · (shrunk share − kind's share)`` (``OfferEffect``): a
    proven offer gains, a weak one loses, and one without evidence keeps its weight (the
    shrunk share starts at its kind's). ``effect_weight`` lies in 0..1, so the factor stays
    between 0 and 2.
    """

    deficit_weight: float = 1.0
    risk_weight: float = 0.5
    entry_weight: float = 1.0
    final_weight: float = 0.8
    low_results_weight: float = 0.5
    risk_group_weight: float = 0.5
    gap_weight: float = 1.0
    partner_bonus: float = 0.15
    municipality_bonus: float = 0.10
    remote_bonus: float = 0.05
    item_penalty: float = 0.05
    keep_bonus: float = 0.12
    max_items_per_competency: int = 1
    hours_cap: float = 72.0  # per half-year (January–June, July–December)
    include_risk: bool = True
    effect_weight: float = 0.5
    effect_min_pairs: int = 10

    def __post_init__(self) -> None:
        if not 0.0 <= self.effect_weight <= 1.0:
            raise ValueError(f"effect_weight must lie in 0..1, got {self.effect_weight}")
        if self.effect_min_pairs < 1:
            raise ValueError(f"effect_min_pairs must be at least 1, got {self.effect_min_pairs}")


@dataclass(frozen=True)
class PlanInput:
    """All that one planning run reads. ``excluded``: teacher → offer keys never to propose
    (completed, declined, rejected); ``previous``: (teacher, session key) proposed by the
    last run, kept where possible (stability); ``effects``: what earlier periods say of the
    offers (``OfferEffect``)."""

    teachers: tuple[PlanTeacher, ...]
    needs: tuple[PlanNeed, ...]
    offers: tuple[PlanOffer, ...]
    sessions: tuple[PlanSession, ...]
    mentors: tuple[PlanMentor, ...] = ()
    fixed: tuple[FixedItem, ...] = ()
    excluded: tuple[tuple[int, str], ...] = ()
    previous: tuple[tuple[int, str], ...] = ()
    effects: tuple[OfferEffect, ...] = ()


# --- results -------------------------------------------------------------------------------

# Why an item was placed where it is.
PLACE_PARTNER = "partner"
PLACE_MUNICIPALITY = "municipality"
PLACE_REMOTE = "remote"
PLACE_OTHER = "other"

# Why a candidate was not used / a need left uncovered.
REASON_NO_OFFER = "no_offer"
REASON_EXCLUDED = "excluded"
REASON_SUBJECT = "subject"
REASON_PLACE = "place"
REASON_UNAVAILABLE = "unavailable"
REASON_NO_SEATS = "no_seats"
REASON_DATES_CLASH = "dates_clash"
REASON_HOURS_CAP = "hours_cap"
REASON_COMPETENCY_LIMIT = "competency_limit"
REASON_NOT_CHOSEN = "not_chosen"


@dataclass(frozen=True, slots=True)
class CoveredNeed:
    """A need an item covers: competency, level, score against threshold."""

    competency: str
    level: str
    score: float
    threshold: float
    stage: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """The earlier period's evidence an item's value used for one covered competency."""

    competency: str
    pairs: int
    closed: int
    shrunk: float
    kind_share: float
    factor: float  # what the need's weight was multiplied by


@dataclass(frozen=True, slots=True)
class Alternative:
    """Another session that covers the item's needs, ranked by value, and why it was not used
    (``status``: ``free`` or a REASON_* code)."""

    offer_key: str
    session_key: str
    value: float
    place: str
    status: str


@dataclass(frozen=True, slots=True)
class PlanItem:
    """A route item: a session for a teacher, the needs it covers and why it was chosen (its
    text: ``plan_texts.item_text``, rendered when shown)."""

    teacher_id: int
    offer_key: str
    session_key: str
    competencies: tuple[str, ...]
    fixed: bool
    value: float
    place: str
    covered: tuple[CoveredNeed, ...]
    priority: tuple[str, ...]  # "low_results_school", "risk_group"
    better_blocked: tuple[Alternative, ...]  # better-placed sessions that were full/clashed
    alternatives: tuple[Alternative, ...]  # ranked swaps for review (best first)
    evidence: tuple[Evidence, ...] = ()  # the effectiveness the value used (issue 14)


@dataclass(frozen=True, slots=True)
class UnmetNeed:
    """A need no item covers, with a REASON_* code and its text."""

    teacher_id: int
    competency: str
    reason: str
    text: str = ""


@dataclass(frozen=True)
class PlanResult:
    """The plan with its quality: objective, a valid upper bound, how it was computed."""

    items: tuple[PlanItem, ...]
    unmet: tuple[UnmetNeed, ...]
    objective: float
    bound: float
    method: str  # "milp", "lp_round", "greedy"
    fallback: bool  # True when the greedy pass was used because of the time limit / solver
    decomposition: str
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """Objective over the bound (1.0 when both are zero)."""
        return 1.0 if self.bound <= 0 else self.objective / self.bound
