"""Programme indicators per municipality and period, and their XLSX report."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from deficits.indicators import Indicator, Period, compute_indicators
from deficits.xlsx import SHEET_TITLE, indicators_xlsx

NAN = float("nan")
PERIOD = Period(dt.date(2026, 1, 1), dt.date(2026, 6, 30))


def unix(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())


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


def levels(rows: list[tuple[int, str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "competency", "score", "level"])


ENTRY = levels([(1, "PK-01", 0.4, "deficit"), (1, "PK-02", 0.8, "ok"),
                (3, "PK-01", NAN, "insufficient"), (4, "PK-01", 0.6, "risk"),
                (6, "PK-01", 0.9, "ok"), (99, "PK-01", 0.3, "deficit")])
FINAL = levels([(1, "PK-01", 0.6, "risk"), (1, "PK-02", 0.7, "ok"),
                (3, "PK-01", 0.9, "ok"), (4, "PK-01", 0.5, "risk"),
                (6, "PK-02", 1.0, "ok"), (99, "PK-01", 0.9, "ok")])
RISK_GROUP = pd.DataFrame({"user_id": [1, 3, 4, 99]})
COMPLETIONS = pd.DataFrame({
    "user_id": [1, 3, 4, 99, 5],
    "completed": [True, False, True, True, True],
    "time_completed": [unix(dt.date(2026, 3, 1)), unix(dt.date(2026, 3, 1)),
                       unix(dt.date(2025, 12, 31)), unix(dt.date(2026, 3, 1)), None],
})
PARTNERSHIPS = pd.DataFrame({
    "resource_centre_code": ["C", "C", "C", "C", "C"],
    "school_code": ["A", "A", "D", "B", "X"],
    "starts_on": [dt.date(2025, 9, 1), dt.date(2025, 9, 1), dt.date(2024, 1, 1),
                  dt.date(2026, 7, 1), None],
    "ends_on": [None, None, dt.date(2025, 12, 31), None, None],
})
ROUTES = pd.DataFrame({"user_id": [1, 2, 4, 4, 3],
                       "status": ["approved", "rejected", "cancelled", "completed", "proposed"]})

# code: (numerator, denominator, value) — the arithmetic beside each.
EXPECTED = {
    # A (user 1), C (user 6), D (user 4) assessed; B's only teacher is insufficient: 3/4
    "schools_analysed": (3, 4, 0.75),
    "schools_low_results": (2, 4, 0.5),          # A, D
    "schools_adverse_context": (2, 4, 0.5),      # B, D
    "schools_stably_high": (1, 4, 0.25),         # C
    # risk group ∩ teachers = 1, 3, 4; 1 completed in the period, 3 did not complete,
    # 4 completed before it: 1/3
    "risk_group_pd": (1, 3, 1 / 3),
    # 1: entry (0.4 + 0.8)/2 = 0.6, final (0.6 + 0.7)/2 = 0.65, rose; 4: 0.6 → 0.5, fell;
    # 3 insufficient on entry, 6 no competency in both, 99 not ours: 1/2
    "score_rose": (1, 2, 0.5),
    # active in the period: C–A (twice, counted once); C–D ended, C–B starts later,
    # C–X is not our school. Schools involved: A, C: 2/4
    "schools_in_network": (2, 4, 0.5),
    "partnerships": (1, 1, 1.0),                 # 1 partnership / 1 resource centre
    # low-results teachers 1, 2 (A), 4 (D); 1 approved, 4 completed, 2 only rejected: 2/3
    "low_results_teachers_routed": (2, 3, 2 / 3),
}


def test_indicators_in_order():
    got = compute_indicators(SCHOOLS, TEACHERS, ENTRY, FINAL, RISK_GROUP, COMPLETIONS,
                             PARTNERSHIPS, ROUTES, PERIOD)
    assert [i.code for i in got] == list(EXPECTED)


@pytest.mark.parametrize(("code", "expected"), list(EXPECTED.items()))
def test_indicator_values(code, expected):
    got = {i.code: i for i in compute_indicators(
        SCHOOLS, TEACHERS, ENTRY, FINAL, RISK_GROUP, COMPLETIONS, PARTNERSHIPS, ROUTES, PERIOD)}
    numerator, denominator, value = expected
    assert (got[code].numerator, got[code].denominator) == (numerator, denominator)
    assert got[code].value == pytest.approx(value)
    assert got[code].title_ru and got[code].title_en


def empty(*columns: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in columns})


def test_indicators_with_nothing_have_no_value():
    got = compute_indicators(
        empty("code", "low_results", "adverse_context", "resource_centre"),
        empty("user_id", "school_code"), empty("user_id", "competency", "score", "level"),
        empty("user_id", "competency", "score", "level"), empty("user_id"),
        empty("user_id", "completed", "time_completed"),
        empty("resource_centre_code", "school_code", "starts_on", "ends_on"),
        empty("user_id", "status"), PERIOD)
    assert [(i.numerator, i.denominator, i.value) for i in got] == [(0, 0, None)] * 9


@pytest.mark.parametrize(("when", "counted"), [
    (dt.date(2026, 1, 1), True),      # first day of the period
    (dt.date(2026, 6, 30), True),     # last day, inclusive
    (dt.date(2026, 7, 1), False),     # the day after
])
def test_completion_period_bounds(when, counted):
    completions = pd.DataFrame({"user_id": [1], "completed": [True],
                                "time_completed": [unix(when)]})
    got = compute_indicators(SCHOOLS, TEACHERS, ENTRY, FINAL, pd.DataFrame({"user_id": [1]}),
                             completions, PARTNERSHIPS, ROUTES, PERIOD)
    assert got[4].code == "risk_group_pd"
    assert (got[4].numerator, got[4].denominator) == (int(counted), 1)


INDICATORS = [
    Indicator("schools_analysed", "Доля проанализированных школ", "Share", 3, 4, 0.75),
    Indicator("partnerships", "Количество договоров", "Number", 3, 2, 1.5),
    Indicator("risk_group_pd", "Доля педагогов группы риска", "Share", 0, 0, None),
]


def report() -> bytes:
    return indicators_xlsx(INDICATORS, municipality="Энский район", period=str(PERIOD),
                           thresholds_text=["дефицит < 50 %", "риск 50–70 %"])


def test_xlsx_is_deterministic():
    assert report() == report()


def test_xlsx_sheet_header_and_table():
    sheet = load_workbook(io.BytesIO(report()))[SHEET_TITLE]
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows(max_col=5)]
    assert rows[1][:2] == ("Муниципалитет", "Энский район")
    assert rows[2][:2] == ("Период", "2026-01-01 – 2026-06-30")
    assert rows[3][:2] == ("Пороги", "дефицит < 50 %")
    assert rows[4][:2] == ("", "риск 50–70 %") or rows[4][:2] == (None, "риск 50–70 %")
    table = rows[rows.index(("Код", "Показатель", "Числитель", "Знаменатель", "Значение")) + 1:]
    assert table == [
        ("schools_analysed", "Доля проанализированных школ", 3, 4, 0.75),
        ("partnerships", "Количество договоров", 3, 2, 1.5),
        ("risk_group_pd", "Доля педагогов группы риска", 0, 0, None),
    ]
    last = sheet.max_row
    formats = [sheet.cell(r, 5).number_format for r in range(last - 2, last + 1)]
    assert formats == ["0.0%", "0.00", "0.0%"]  # a share as %, a count ratio as a number
