"""Indicators of the region and of each municipality, two periods side by side, as XLSX."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from app.reports.indicator_texts import TEXTS, labelled
from app.reports.xlsx import SHEET_TITLE, TERMS_TITLE, indicators_xlsx
from deficits.indicators import CODES as ALL_CODES
from deficits.indicators import (
    NO_MUNICIPALITY,
    REGION,
    AreaIndicators,
    Indicator,
    Period,
    Sources,
    by_municipality,
    comparable,
    compute_indicators,
)

PERIOD = Period(dt.date(2026, 1, 1), dt.date(2026, 6, 30))
EARLIER = Period(dt.date(2025, 1, 1), dt.date(2025, 6, 30))
MSK = dt.timezone(dt.timedelta(hours=3))
IN = int(dt.datetime(2026, 3, 1, 12, tzinfo=MSK).timestamp())
AFTER = int(dt.datetime(2026, 7, 1, tzinfo=MSK).timestamp())

# A (low-results) and B in «Север», the resource centre C in «Юг», D (low-results) in none.
SOURCES = Sources(
    pd.DataFrame({"code": ["A", "B", "C", "D"], "municipality": ["Север", "Север", "Юг", None],
                  "low_results": [True, False, False, True],
                  "adverse_context": [False] * 4, "resource_centre": [False, False, True, False]}),
    pd.DataFrame({"user_id": [1, 2, 3, 4], "school_code": ["A", "B", "C", "D"]}),
    pd.DataFrame({"user_id": [1, 3, 4], "time_finish": [IN, IN, AFTER]}),
    pd.DataFrame(columns=["user_id", "diagnostic_id", "kind", "competency", "score", "level",
                          "time_finish"]),
    pd.DataFrame(columns=["user_id", "completed", "time_completed"]),
    # C supports A (another municipality) and D, both active
    pd.DataFrame({"resource_centre_code": ["C", "C"], "school_code": ["A", "D"],
                  "starts_on": [None, None], "ends_on": [None, None]}),
    pd.DataFrame({"user_id": [1], "status": ["proposed"], "created": [IN], "updated": [IN]}),
)
CODES = ("schools_analysed", "schools_low_results", "schools_in_network", "partnerships",
         "low_results_teachers_routed")
# area: (numerator, denominator) of CODES — the arithmetic beside each area.
EXPECTED = {
    # attempts in the period at A, C (D's is after it): 2/4; low-results A, D: 2/4;
    # network A, C, D: 3/4; C–A and C–D per 1 centre; low-results teachers 1, 4, routed 1
    REGION: [(2, 4), (2, 4), (3, 4), (2, 1), (1, 2)],
    # A analysed of A, B; A low-results; A in C–A; C–A counts where A is, no centre there;
    # teacher 1 routed
    "Север": [(1, 2), (1, 2), (1, 2), (1, 0), (1, 1)],
    # C analysed and in the network; its agreements are counted with A's and D's areas
    "Юг": [(1, 1), (0, 1), (1, 1), (0, 1), (0, 0)],
    # D: attempt after the period; low-results; in C–D; teacher 4 without a route
    NO_MUNICIPALITY: [(0, 1), (1, 1), (1, 1), (1, 0), (0, 1)],
}


def pairs(block: AreaIndicators) -> list[tuple[int, int]]:
    found = {i.code: i for i in block.indicators}
    return [(found[c].numerator, found[c].denominator) for c in CODES]


def test_region_then_each_municipality():
    blocks = by_municipality(SOURCES, PERIOD)
    assert [b.area for b in blocks] == list(EXPECTED)
    assert {b.area: pairs(b) for b in blocks} == EXPECTED
    assert all(b.period == PERIOD for b in blocks)


def test_without_the_region_total():
    blocks = by_municipality(SOURCES, PERIOD, region=None)
    assert [b.area for b in blocks] == ["Север", "Юг", NO_MUNICIPALITY]


def test_periods_compared_by_area():
    now = by_municipality(SOURCES, PERIOD)
    before = by_municipality(SOURCES.only(SOURCES.schools["municipality"] == "Север"), EARLIER,
                             region=None)
    paired = comparable(now, before)
    assert [(a.area, b and b.area) for a, b in paired] == [
        (REGION, None), ("Север", "Север"), ("Юг", None), (NO_MUNICIPALITY, None)]
    # nothing happened in the earlier period at A and B: no attempt, no route
    assert pairs(paired[1][1]) == [(0, 2), (1, 2), (1, 2), (1, 0), (0, 1)]


def indicator(code: str, numerator: int, denominator: int, value: float | None) -> Indicator:
    return Indicator(code, numerator, denominator, value)


BLOCKS = [
    AreaIndicators(REGION, PERIOD, (indicator("schools_analysed", 3, 4, 0.75),
                                    indicator("partnerships", 3, 2, 1.5))),
    AreaIndicators("Север", PERIOD, (indicator("schools_analysed", 1, 2, 0.5),
                                     indicator("partnerships", 0, 0, None))),
    AreaIndicators(REGION, EARLIER, (indicator("schools_analysed", 2, 4, 0.5),
                                     indicator("partnerships", 1, 2, 0.5))),
]


def report() -> bytes:
    return indicators_xlsx(BLOCKS, scope=REGION,
                           thresholds_text=["дефицит < 50 %", "риск 50–70 %"])


def test_xlsx_is_deterministic():
    assert report() == report()


def test_xlsx_long_table_to_filter_by_municipality():
    sheet = load_workbook(io.BytesIO(report()))[SHEET_TITLE]
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows(max_col=7)]
    assert rows[1][:2] == ("Муниципалитет", REGION)
    assert rows[2][:2] == ("Период", "2026-01-01 – 2026-06-30")
    assert rows[3][:2] == ("Период сравнения", "2025-01-01 – 2025-06-30")
    assert "московскому времени" in rows[4][1]
    assert rows[5][:2] == ("Пороги", "дефицит < 50 %")
    top = rows.index(("Муниципалитет", "Период", "Код", "Показатель", "Числитель",
                      "Знаменатель", "Значение")) + 1
    assert rows[top:] == [
        (REGION, "2026-01-01 – 2026-06-30", "schools_analysed", TEXTS["schools_analysed"][0],
         3, 4, 0.75),
        (REGION, "2026-01-01 – 2026-06-30", "partnerships", TEXTS["partnerships"][0], 3, 2, 1.5),
        ("Север", "2026-01-01 – 2026-06-30", "schools_analysed", TEXTS["schools_analysed"][0],
         1, 2, 0.5),
        ("Север", "2026-01-01 – 2026-06-30", "partnerships", TEXTS["partnerships"][0], 0, 0,
         None),
        (REGION, "2025-01-01 – 2025-06-30", "schools_analysed", TEXTS["schools_analysed"][0],
         2, 4, 0.5),
        (REGION, "2025-01-01 – 2025-06-30", "partnerships", TEXTS["partnerships"][0], 1, 2, 0.5),
    ]
    formats = [sheet.cell(r, 7).number_format for r in range(top + 1, sheet.max_row + 1)]
    assert formats == ["0.0%", "0.00"] * 3  # a share as %, a count ratio as a number
    assert sheet.auto_filter.ref == f"A{top}:G{sheet.max_row}"
    assert sheet.freeze_panes == f"A{top + 1}"
    assert all(cell.font.b for cell in sheet[top])  # the header row is bold, not the blank one


@pytest.mark.parametrize("code", ["schools_analysed", "risk_group_pd", "score_rose",
                                  "low_results_teachers_routed"])
def test_xlsx_defines_each_numerator_and_denominator(code):
    terms = load_workbook(io.BytesIO(report()))[TERMS_TITLE]
    row = next(r for r in terms.iter_rows(values_only=True) if r[0] == code)
    assert "Числитель" in row[2] and "Знаменатель" in row[2]
    assert "Numerator" in row[4] and "Denominator" in row[4]


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_computed_indicator_is_labelled_with_its_texts(code):
    blocks = labelled(by_municipality(SOURCES, PERIOD))
    assert [i.code for i in blocks[0].indicators] == list(ALL_CODES)
    item = next(i for i in blocks[0].indicators if i.code == code)
    assert (item.numerator, item.denominator) == next(
        (i.numerator, i.denominator) for i in compute_indicators(SOURCES, PERIOD) if i.code == code)
    assert item.title_ru == TEXTS[code][0] and item.title_en == TEXTS[code][1]
    assert "Знаменатель" in item.definition_ru and "Denominator" in item.definition_en
