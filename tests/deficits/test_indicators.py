"""Programme indicators for one period, worked out by hand on a small network."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from deficits.indicators import Period, Sources, compute_indicators
from deficits.risk import RiskRule

NAN = float("nan")
PERIOD = Period(dt.date(2026, 1, 1), dt.date(2026, 6, 30))
MSK = dt.timezone(dt.timedelta(hours=3))


def msk(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
        second: int = 0) -> int:
    """Unix seconds of a Moscow wall-clock time."""
    return int(dt.datetime(year, month, day, hour, minute, second, tzinfo=MSK).timestamp())


FEB, MAY = msk(2026, 2, 1, 12), msk(2026, 5, 1, 12)
BEFORE = msk(2025, 12, 31, 23, 59, 59)   # the last second before the period
AFTER = msk(2026, 7, 1)                   # the first second after it
LAST = msk(2026, 6, 30, 23, 59, 59)       # the period's last second

# Four schools: A low-results, B adverse-context, C resource centre and stably high,
# D low-results and adverse-context.
SCHOOLS = pd.DataFrame({
    "code": ["A", "B", "C", "D"],
    "low_results": [True, False, False, True],
    "adverse_context": [False, True, False, True],
    "resource_centre": [False, False, True, False],
    "stably_high": [False, False, True, False],
})
# Teachers: 1, 2 at A; 3 at B; 4 at D; 5 without a school; 6 at C. User 99 is not ours.
TEACHERS = pd.DataFrame({"user_id": [1, 2, 3, 4, 5, 6],
                         "school_code": ["A", "A", "B", "D", None, "C"]})
GROUPS = pd.DataFrame({"competency": ["PK-01", "PK-02"], "group": ["subject", "general"]})
# Entry is diagnostic 10, final 20. (user, diagnostic, kind, competency, score, level, finished)
LEVELS = pd.DataFrame([
    (1, 10, "entry", "PK-01", 0.4, "deficit", FEB), (1, 10, "entry", "PK-02", 0.8, "ok", FEB),
    (2, 10, "entry", "PK-01", 0.3, "deficit", AFTER),
    (3, 10, "entry", "PK-01", 0.2, "deficit", BEFORE),
    (4, 10, "entry", "PK-01", 0.45, "deficit", FEB), (4, 10, "entry", "PK-02", 0.5, "risk", FEB),
    (6, 10, "entry", "PK-01", 0.9, "ok", FEB),
    (99, 10, "entry", "PK-01", 0.3, "deficit", FEB),
    (1, 20, "final", "PK-01", 0.6, "risk", MAY), (1, 20, "final", "PK-02", 0.7, "ok", MAY),
    (2, 20, "final", "PK-01", 0.9, "ok", LAST),
    (4, 20, "final", "PK-01", 0.4, "deficit", MAY), (4, 20, "final", "PK-02", 0.5, "risk", MAY),
    (6, 20, "final", "PK-02", 1.0, "ok", MAY),
    (99, 20, "final", "PK-01", 0.9, "ok", MAY),
], columns=["user_id", "diagnostic_id", "kind", "competency", "score", "level", "time_finish"])
ATTEMPTS = LEVELS[["user_id", "time_finish"]].drop_duplicates()
COMPLETIONS = pd.DataFrame({
    "user_id": [1, 3, 4, 99, 5],
    "completed": [True, True, True, True, True],
    "time_completed": [msk(2026, 3, 1), msk(2026, 3, 1), BEFORE, msk(2026, 3, 1), None],
})
PARTNERSHIPS = pd.DataFrame({
    "resource_centre_code": ["C", "C", "C", "C", "C"],
    "school_code": ["A", "A", "D", "B", "X"],
    "starts_on": [dt.date(2025, 9, 1), dt.date(2025, 9, 1), dt.date(2024, 1, 1),
                  dt.date(2026, 7, 1), None],
    "ends_on": [None, None, dt.date(2025, 12, 31), None, None],
})
ROUTES = pd.DataFrame([
    (1, "approved", FEB, FEB),
    (2, "rejected", FEB, FEB), (2, "proposed", AFTER, AFTER),
    (4, "cancelled", FEB, FEB), (4, "enrolled", msk(2025, 10, 1), msk(2025, 10, 2)),
    (3, "proposed", FEB, FEB),
], columns=["user_id", "status", "created", "updated"])
SOURCES = Sources(SCHOOLS, TEACHERS, ATTEMPTS, LEVELS, COMPLETIONS, PARTNERSHIPS, ROUTES,
                  GROUPS, RiskRule())

# code: (numerator, denominator, value) — the arithmetic beside each.
EXPECTED = {
    # attempts in the period: 1, 2 (final on the last second) at A, 4 at D, 6 at C;
    # 3's only attempt (B) ends one second before the period: A, C, D of 4 schools = 3/4
    "schools_analysed": (3, 4, 0.75),
    "schools_low_results": (2, 4, 0.5),          # A, D
    "schools_adverse_context": (2, 4, 0.5),      # B, D
    "schools_stably_high": (1, 4, 0.25),         # C
    # entry in the period: 1 (subject deficit → risk group), 4 (subject deficit → risk group),
    # 6 (no deficit); 2's entry is after the period, 3's before, 99 not ours.
    # 1 completed on 1 March; 4 completed one second before the period: 1/2
    "risk_group_pd": (1, 2, 0.5),
    # 1: entry (0.4 + 0.8)/2 = 0.6, final (0.6 + 0.7)/2 = 0.65, rose;
    # 4: entry (0.45 + 0.5)/2 = 0.475, final (0.4 + 0.5)/2 = 0.45, fell;
    # 2: final in the period but the entry after it; 6: no competency on both: 1/2
    "score_rose": (1, 2, 0.5),
    # active in the period: C–A (twice), C–X; C–D ended the day before, C–B starts the day
    # after. Our schools involved: A, C = 2/4
    "schools_in_network": (2, 4, 0.5),
    # C–A once (C–X: X is not our school) / 1 resource centre
    "partnerships": (1, 1, 1.0),
    # low-results teachers 1, 2 (A), 4 (D); 1 approved; 4 enrolled on a route of October
    # (still going); 2 only rejected, or proposed after the period: 2/3
    "low_results_teachers_routed": (2, 3, 2 / 3),
}


def test_indicators_in_order():
    got = compute_indicators(SOURCES, PERIOD)
    assert [i.code for i in got] == list(EXPECTED)


@pytest.mark.parametrize(("code", "expected"), list(EXPECTED.items()))
def test_indicator_values(code, expected):
    got = {i.code: i for i in compute_indicators(SOURCES, PERIOD)}
    numerator, denominator, value = expected
    assert (got[code].numerator, got[code].denominator) == (numerator, denominator)
    assert got[code].value == pytest.approx(value)


def empty(*columns: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in columns})


def test_indicators_with_nothing_have_no_value():
    got = compute_indicators(Sources(
        empty("code", "low_results", "adverse_context", "resource_centre"),
        empty("user_id", "school_code"), empty("user_id", "time_finish"),
        empty("user_id", "diagnostic_id", "kind", "competency", "score", "level",
              "time_finish"),
        empty("user_id", "completed", "time_completed"),
        empty("resource_centre_code", "school_code", "starts_on", "ends_on"),
        empty("user_id", "status", "created", "updated")), PERIOD)
    assert [(i.numerator, i.denominator, i.value) for i in got] == [(0, 0, None)] * 9
