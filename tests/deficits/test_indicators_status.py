"""School statuses counted by their dated history, the current flag only without one."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from deficits.indicators import Period, Sources, compute_indicators

D = dt.date
# S1: ШНОР 2025-09-01 … 2026-05-31; S2: ШНОР since 2026-10-01 (still);
# S3: no history, flagged now; S4: ШНОР 2024-01-01 … 2025-12-31, not flagged now.
SCHOOLS = pd.DataFrame({"code": ["S1", "S2", "S3", "S4"],
                        "low_results": [False, True, True, False],
                        "adverse_context": [False, False, False, False],
                        "resource_centre": [False, False, False, False]})
STATUSES = pd.DataFrame([
    ("S1", "low_results", D(2025, 9, 1), D(2026, 5, 31)),
    ("S2", "low_results", D(2026, 10, 1), None),
    ("S4", "low_results", D(2024, 1, 1), D(2025, 12, 31)),
], columns=["school_code", "flag", "valid_from", "valid_to"])


def low_results(period: Period, statuses: pd.DataFrame = STATUSES) -> tuple[int, int]:
    src = Sources(SCHOOLS, pd.DataFrame(columns=["user_id", "school_code"]),
                  pd.DataFrame(columns=["user_id", "time_finish"]),
                  pd.DataFrame(columns=["user_id", "diagnostic_id", "kind", "competency",
                                        "score", "level", "time_finish"]),
                  pd.DataFrame(columns=["user_id", "completed", "time_completed"]),
                  pd.DataFrame(columns=["resource_centre_code", "school_code", "starts_on",
                                        "ends_on"]),
                  pd.DataFrame(columns=["user_id", "status", "created", "updated"]),
                  statuses=statuses)
    found = {i.code: i for i in compute_indicators(src, period)}["schools_low_results"]
    return found.numerator, found.denominator


@pytest.mark.parametrize(("start", "end", "expected"), [
    # 2026/27: S1 ended before (2026-05-31 < 09-01), S2 yes, S3 (no history) yes, S4 no → 2
    (D(2026, 9, 1), D(2027, 8, 31), 2),
    # 2025/26: S1 yes, S2 not yet (starts 2026-10-01), S3 yes, S4 yes (until 2025-12-31) → 3
    (D(2025, 9, 1), D(2026, 8, 31), 3),
    # a period ending on S2's first day counts it: S2, S3 → 2
    (D(2026, 10, 1), D(2026, 10, 1), 2),
    # the day after S1 ended: S1 no; S2 no (later); S3 yes; S4 no → 1
    (D(2026, 6, 1), D(2026, 6, 1), 1),
    # S1's last day: S1, S3 → 2
    (D(2026, 5, 31), D(2026, 5, 31), 2),
])
def test_low_results_schools_count_by_the_status_held_in_the_period(start, end, expected):
    assert low_results(Period(start, end)) == (expected, 4)


def test_without_any_history_the_current_flags_count():
    # S2 and S3 are flagged now: 2 of 4, whatever the period.
    assert low_results(Period(D(2020, 1, 1), D(2020, 1, 2)), STATUSES.iloc[0:0]) == (2, 4)
