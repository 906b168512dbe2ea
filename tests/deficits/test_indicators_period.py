"""Which events each indicator counts at the edges of a period, in Moscow days."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from deficits.indicators import Period, Sources, compute_indicators

PERIOD = Period(dt.date(2026, 1, 1), dt.date(2026, 6, 30))
MSK = dt.timezone(dt.timedelta(hours=3))


def msk(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
        year: int = 2026) -> int:
    """Unix seconds of a Moscow wall-clock time."""
    return int(dt.datetime(year, month, day, hour, minute, second, tzinfo=MSK).timestamp())


def utc(year: int, month: int, day: int, hour: int) -> int:
    return int(dt.datetime(year, month, day, hour, tzinfo=dt.UTC).timestamp())


FIRST = msk(1, 1)                              # 2026-01-01 00:00:00 MSK, the first second
JUST_BEFORE = msk(12, 31, 23, 59, 59, 2025)    # one second before it
LAST = msk(6, 30, 23, 59, 59)                  # 2026-06-30 23:59:59 MSK, the last second
JUST_AFTER = msk(7, 1)                         # one second after it
DAY_BEFORE, DAY_AFTER = msk(12, 31, 12, year=2025), msk(7, 1, 12)
MID = msk(3, 15, 12)

# One low-results school S with teacher 1; R is a resource centre.
SCHOOLS = pd.DataFrame({"code": ["S", "R"], "low_results": [True, False],
                        "adverse_context": [False, False], "resource_centre": [False, True]})
TEACHERS = pd.DataFrame({"user_id": [1], "school_code": ["S"]})
LEVEL_COLUMNS = ["user_id", "diagnostic_id", "kind", "competency", "score", "level",
                 "time_finish"]


def attempts(*times: int | None) -> pd.DataFrame:
    return pd.DataFrame({"user_id": [1] * len(times), "time_finish": list(times)})


def entry(when: int, score: float = 0.4, diagnostic: int = 10) -> tuple:
    """An entry result of teacher 1: a subject deficit puts them in the risk group."""
    return (1, diagnostic, "entry", "PK-01", score, "deficit", when)


def final(when: int, score: float = 0.6, diagnostic: int = 20) -> tuple:
    return (1, diagnostic, "final", "PK-01", score, "ok", when)


def sources(*, attempts_: pd.DataFrame | None = None, levels: list[tuple] = (),
            completions: list[tuple] = (), partnerships: list[tuple] = (),
            routes: list[tuple] = ()) -> Sources:
    return Sources(
        SCHOOLS, TEACHERS,
        attempts_ if attempts_ is not None else attempts(),
        pd.DataFrame(list(levels), columns=LEVEL_COLUMNS),
        pd.DataFrame(list(completions), columns=["user_id", "completed", "time_completed"]),
        pd.DataFrame(list(partnerships), columns=["resource_centre_code", "school_code",
                                                  "starts_on", "ends_on"]),
        pd.DataFrame(list(routes), columns=["user_id", "status", "created", "updated"]),
        pd.DataFrame({"competency": ["PK-01"], "group": ["subject"]}))


def value(src: Sources, code: str) -> tuple[int, int]:
    found = {i.code: i for i in compute_indicators(src, PERIOD)}[code]
    return found.numerator, found.denominator


IN_RISK = [entry(MID)]  # teacher 1 is in the risk group of the period
D = dt.date
CASES = [
    # schools analysed: S (1 of the 2 schools) when teacher 1 finished an attempt in it
    ("attempt on the first second", sources(attempts_=attempts(FIRST)), "schools_analysed",
     (1, 2)),
    ("attempt at 21:00 UTC of the day before = 00:00 MSK",
     sources(attempts_=attempts(utc(2025, 12, 31, 21))), "schools_analysed", (1, 2)),
    ("attempt one second before", sources(attempts_=attempts(JUST_BEFORE)),
     "schools_analysed", (0, 2)),
    ("attempt the day before", sources(attempts_=attempts(DAY_BEFORE)), "schools_analysed",
     (0, 2)),
    ("attempt on the last second", sources(attempts_=attempts(LAST)), "schools_analysed",
     (1, 2)),
    ("attempt at 21:00 UTC on 30 June = 1 July MSK",
     sources(attempts_=attempts(utc(2026, 6, 30, 21))), "schools_analysed", (0, 2)),
    ("attempt the day after", sources(attempts_=attempts(DAY_AFTER)), "schools_analysed",
     (0, 2)),
    ("an attempt without a time", sources(attempts_=attempts(None)), "schools_analysed",
     (0, 2)),
    # risk group: teacher 1 counts in the denominator only with an entry in the period
    ("entry on the first second", sources(levels=[entry(FIRST)]), "risk_group_pd", (0, 1)),
    ("entry one second before", sources(levels=[entry(JUST_BEFORE)]), "risk_group_pd", (0, 0)),
    ("entry on the last second", sources(levels=[entry(LAST)]), "risk_group_pd", (0, 1)),
    ("entry one second after", sources(levels=[entry(JUST_AFTER)]), "risk_group_pd", (0, 0)),
    # ... the latest entry of the period decides: ok in June after a deficit in February
    ("latest entry has no deficit",
     sources(levels=[entry(MID), (1, 11, "entry", "PK-01", 0.9, "ok", msk(6, 1))]),
     "risk_group_pd", (0, 0)),
    # completed PD: numerator when the completion time is in the period
    ("completion on the first second", sources(levels=IN_RISK, completions=[(1, True, FIRST)]),
     "risk_group_pd", (1, 1)),
    ("completion one second before",
     sources(levels=IN_RISK, completions=[(1, True, JUST_BEFORE)]), "risk_group_pd", (0, 1)),
    ("completion on the last second", sources(levels=IN_RISK, completions=[(1, True, LAST)]),
     "risk_group_pd", (1, 1)),
    ("completion the day after",
     sources(levels=IN_RISK, completions=[(1, True, DAY_AFTER)]), "risk_group_pd", (0, 1)),
    ("completion without a time", sources(levels=IN_RISK, completions=[(1, True, None)]),
     "risk_group_pd", (0, 1)),
    ("not completed", sources(levels=IN_RISK, completions=[(1, False, MID)]),
     "risk_group_pd", (0, 1)),
    # score rose: an entry and a later final, both in the period; 0.4 → 0.6 rose
    ("entry first second, final last second", sources(levels=[entry(FIRST), final(LAST)]),
     "score_rose", (1, 1)),
    ("entry one second before", sources(levels=[entry(JUST_BEFORE), final(MID)]),
     "score_rose", (0, 0)),
    ("final one second after", sources(levels=[entry(MID), final(JUST_AFTER)]),
     "score_rose", (0, 0)),
    ("final at the entry's very time", sources(levels=[entry(MID), final(MID)]),
     "score_rose", (0, 0)),
    ("final before the entry", sources(levels=[entry(msk(5, 1)), final(msk(2, 1))]),
     "score_rose", (0, 0)),
    # entries in February (0.4) and June (0.9), final in May (0.6): February's counts, rose
    ("the entry before the final is taken",
     sources(levels=[entry(msk(2, 1)), entry(msk(6, 1), 0.9, 11), final(msk(5, 1))]),
     "score_rose", (1, 1)),
    # finals in March (0.3) and May (0.5) after a February entry of 0.4: May's counts, rose
    ("the latest final is taken",
     sources(levels=[entry(msk(2, 1)), final(msk(3, 1), 0.3), final(msk(5, 1), 0.5, 21)]),
     "score_rose", (1, 1)),
    # schools in the network: R–S active in the period involves both schools of 2
    ("partnership starts on the last day",
     sources(partnerships=[("R", "S", D(2026, 6, 30), None)]), "schools_in_network", (2, 2)),
    ("partnership starts the day after",
     sources(partnerships=[("R", "S", D(2026, 7, 1), None)]), "schools_in_network", (0, 2)),
    ("partnership ends on the first day",
     sources(partnerships=[("R", "S", None, D(2026, 1, 1))]), "schools_in_network", (2, 2)),
    ("partnership ends the day before",
     sources(partnerships=[("R", "S", D(2025, 9, 1), D(2025, 12, 31))]),
     "schools_in_network", (0, 2)),
    ("partnership without dates", sources(partnerships=[("R", "S", None, None)]),
     "partnerships", (1, 1)),
    ("partnership repeated counts once",
     sources(partnerships=[("R", "S", None, None), ("R", "S", D(2026, 1, 1), None)]),
     "partnerships", (1, 1)),
    ("partnership ended the day before", sources(partnerships=[("R", "S", None, D(2025, 12, 31))]),
     "partnerships", (0, 1)),
    # low-results teachers with a route: 1 of 1 when an item is live in the period
    ("route created on the last second", sources(routes=[(1, "proposed", LAST, LAST)]),
     "low_results_teachers_routed", (1, 1)),
    ("route created one second after",
     sources(routes=[(1, "proposed", JUST_AFTER, JUST_AFTER)]),
     "low_results_teachers_routed", (0, 1)),
    ("route of the year before, still enrolled",
     sources(routes=[(1, "enrolled", msk(9, 1, year=2025), msk(9, 2, year=2025))]),
     "low_results_teachers_routed", (1, 1)),
    ("item completed one second before",
     sources(routes=[(1, "completed", msk(9, 1, year=2025), JUST_BEFORE)]),
     "low_results_teachers_routed", (0, 1)),
    ("item completed on the first second",
     sources(routes=[(1, "completed", msk(9, 1, year=2025), FIRST)]),
     "low_results_teachers_routed", (1, 1)),
    ("item cancelled", sources(routes=[(1, "cancelled", MID, MID)]),
     "low_results_teachers_routed", (0, 1)),
]


@pytest.mark.parametrize(("src", "code", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_period_edges(src, code, expected):
    assert value(src, code) == expected


def test_period_bounds_are_moscow_midnights():
    # 2026-01-01 00:00 UTC is 1767225600; Moscow (UTC+3) is 3 h = 10800 s earlier.
    # 2026-07-01 00:00 UTC is 1782864000 (1767225600 + 181 days × 86400); minus 10800.
    assert PERIOD.bounds() == (1767225600 - 10800, 1782864000 - 10800)


@pytest.mark.parametrize(("today", "expected"), [
    (dt.date(2026, 8, 31), Period(dt.date(2025, 9, 1), dt.date(2026, 8, 31))),
    (dt.date(2026, 9, 1), Period(dt.date(2026, 9, 1), dt.date(2027, 8, 31))),
    (dt.date(2027, 1, 15), Period(dt.date(2026, 9, 1), dt.date(2027, 8, 31))),
])
def test_school_year(today, expected):
    assert Period.school_year(today) == expected


def test_period_refuses_an_end_before_its_start():
    with pytest.raises(ValueError, match="after it ends"):
        Period(dt.date(2026, 2, 1), dt.date(2026, 1, 31))
