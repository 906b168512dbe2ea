"""School results import (ВПР/ОГЭ/ЕГЭ) and identification of ШНОР, resource centres, ШФНСУ."""

import csv
import datetime as dt
import io
import math
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from deficits.question_map import RowError
from deficits.registry import (
    IDENTIFY_COLUMNS,
    RESULT_COLUMNS,
    IdentificationRules,
    identify,
    parse_results,
)

FILES = Path(__file__).parent / "files"
HEADER = ["Код ОО", "Наименование ОО", "Год", "Оценочная процедура", "Предмет", "Класс",
          "Средний балл", "Доля ниже минимального порога", "Число участников",
          "Неблагоприятные условия"]
ROWS = [  # file row numbers: header = 1
    ["S001", "МБОУ СОШ № 1", "2023", "ВПР", "Математика", "5", "3,41", "12,5", "48", "нет"],  # 2
    ["S002", "МАОУ Лицей № 2", "2023", "впр", "Математика", "5", "4,12", "0", "52", "нет"],  # 3
    ["S003", "МБОУ СОШ № 3", "20х4", "ВПР", "Математика", "5", "3,0", "10", "30", "да"],  # 4 bad
    ["S003", "МБОУ СОШ № 3", "2023", "ОГЭ", "Русский язык", "", "24,3", "8,3", "61", "да"],  # 5
    ["S004", "МБОУ ООШ № 4", "2023", "НИКО", "Математика", "5", "3", "5", "20", ""],  # 6 bad
    [],  # 7 blank
    ["S005", "МБОУ СОШ № 5", "2023", "ЕГЭ", "Математика (профиль)", "11", "", "31,0", "17",
     "да"],  # 8: no mean score, share only
    ["S001", "МБОУ СОШ № 1", "2023", "ВПР", "Математика", "5", "3,41", "12,5", "48", "нет"],  # 9 dup
    ["S002", "МАОУ Лицей № 2", "2023", "ВПР", "Математика", "5", "4,20", "0", "52", "нет"],  # 10
    ["S006", "", "2023", "ВПР", "Математика", "4", "", "", "25", ""],  # 11 bad: nothing measured
    ["S007", "МБОУ СОШ № 7", "2023", "ВПР", "Математика", "5", "3,8", "150", "25", "нет"],  # 12 bad
]
EXPECTED_ERRORS = [
    RowError(4, "Год", f"'20х4' is not a year from 2001 to {dt.date.today().year}"),
    RowError(6, "Оценочная процедура", "'НИКО' is not one of ВПР, ОГЭ, ЕГЭ"),
    RowError(10, "Код ОО", "repeats row 3 (same school, year, procedure, subject and grade) "
                           "with other values; keep one row"),
    RowError(11, "Средний балл", "and the share below the minimum are both empty; fill one in"),
    RowError(12, "Доля ниже минимального порога", "'150' is not a number from 0 to 100"),
]
# (school, name, year, assessment, subject, grade, mean, share as a fraction, pupils, adverse)
EXPECTED_ROWS = [
    ("S001", "МБОУ СОШ № 1", 2023, "ВПР", "Математика", 5, 3.41, 0.125, 48, False),
    ("S002", "МАОУ Лицей № 2", 2023, "ВПР", "Математика", 5, 4.12, 0.0, 52, False),
    ("S003", "МБОУ СОШ № 3", 2023, "ОГЭ", "Русский язык", 9, 24.3, 0.083, 61, True),  # ОГЭ → 9
    ("S005", "МБОУ СОШ № 5", 2023, "ЕГЭ", "Математика (профиль)", 11, math.nan, 0.31, 17, True),
]


def _csv(rows, sep, encoding):
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows([HEADER, *rows])
    return out.getvalue().encode(encoding)


def _records(frame):
    return [tuple(None if v is pd.NA else v for v in row)
            for row in frame.itertuples(index=False)]


def _assert_expected(frame, errors):
    assert list(frame.columns) == list(RESULT_COLUMNS)
    got = _records(frame)
    assert [r[:6] + r[8:] for r in got] == [r[:6] + r[8:] for r in EXPECTED_ROWS]
    for row, want in zip(got, EXPECTED_ROWS, strict=True):
        assert row[6] == pytest.approx(want[6], nan_ok=True)
        assert row[7] == pytest.approx(want[7])
    assert errors == EXPECTED_ERRORS


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1251"])
@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_results_csv_in_both_encodings_and_separators(encoding, sep):
    _assert_expected(*parse_results(_csv(ROWS, sep, encoding)))


def test_results_file_as_exported_by_a_region():
    # results_2023.csv: Windows-1251, ";" — written from ROWS by _csv, kept as a sample
    data = (FILES / "results_2023.csv").read_bytes()
    assert data == _csv(ROWS, ";", "cp1251")
    _assert_expected(*parse_results(data))


def test_results_headers_are_case_space_and_yo_insensitive():
    header = ["КОД  ОО", "наименование\u00a0оо", " Год ", "Оценочная процедура", "предмет",
              "Класс", "Средний балл", "Доля ниже минимального порога (%)", "Число участников",
              "Неблагоприятные условия"]
    data = _csv(ROWS, ";", "cp1251").decode("cp1251").splitlines(keepends=True)
    data[0] = ";".join(header) + "\r\n"
    _assert_expected(*parse_results("".join(data).encode("cp1251")))


@pytest.fixture
def results_xlsx(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in ROWS:  # numbers as spreadsheet numbers, the bad cells as text
        sheet.append([_number_or_text(cell) for cell in row] or [None])
    path = tmp_path / "results.xlsx"
    book.save(path)
    return path.read_bytes()


def _number_or_text(cell):
    try:
        return float(cell.replace(",", "."))
    except ValueError:
        return cell or None


def test_results_xlsx(results_xlsx):
    _assert_expected(*parse_results(results_xlsx))  # same rows, same row numbers


def test_results_parse_is_deterministic_and_order_free():
    good = [r for i, r in enumerate(ROWS, start=2) if i in (2, 3, 5, 8, 9)]
    first, _ = parse_results(_csv(good, ";", "utf-8"))
    again, _ = parse_results(_csv(good, ";", "utf-8"))
    reversed_, _ = parse_results(_csv(good[::-1], ",", "cp1251"))
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, reversed_)
    assert len(first) == 4  # row 9 repeats row 2 exactly: dropped silently


@pytest.mark.parametrize(("header", "value", "share"), [
    ("Доля ниже минимального порога", "0,125", 0.125),      # all values ≤ 1: a fraction
    ("Доля ниже минимального порога, %", "0,5", 0.005),     # "%" in the header: percent
    ("Доля ниже минимального порога", "0,5 %", 0.005),      # "%" in a value: percent
])
def test_share_is_read_as_fraction_or_percent(header, value, share):
    data = f"Код ОО;Год;Оценочная процедура;Предмет;Класс;{header}\nS1;2023;ВПР;Химия;8;{value}\n"
    frame, errors = parse_results(data.encode())
    assert errors == []
    assert frame.loc[0, "share_below_min"] == pytest.approx(share)
    assert math.isnan(frame.loc[0, "mean_score"])
    assert frame["adverse_context"].isna().all()  # no flag column: unknown, not "нет"


@pytest.mark.parametrize(("data", "field"), [
    ("Код ОО;Год;Предмет;Средний балл\nS1;2023;Химия;3\n", ""),
    ("Код ОО;Год;Оценочная процедура;Предмет\nS1;2023;ВПР;Химия\n", ""),
])
def test_results_missing_columns_is_one_error_on_the_header(data, field):
    frame, errors = parse_results(data.encode())
    assert frame.empty
    assert [(e.row, e.field) for e in errors] == [(1, field)]
    assert "missing column(s)" in errors[0].message


def test_vpr_needs_a_grade():
    data = "Код ОО;Год;Оценочная процедура;Предмет;Класс;Средний балл\nS1;2023;ВПР;Химия;;3\n"
    frame, errors = parse_results(data.encode())
    assert frame.empty
    assert errors == [RowError(2, "Класс", "is empty; ВПР needs the grade")]


def _results(rows, *, subject="Математика"):
    """(school, year, mean, share, pupils[, adverse]) → a parse_results-shaped frame."""
    records = [{"school_code": r[0], "school_name": "", "year": r[1], "assessment": "ВПР",
                "subject": r[6] if len(r) > 6 else subject, "grade": 5, "mean_score": r[2],
                "share_below_min": r[3], "participants": r[4],
                "adverse_context": r[5] if len(r) > 5 else None} for r in rows]
    return pd.DataFrame(records, columns=list(RESULT_COLUMNS))


def _ladder(years, n=20):
    """School Sii scores ii in each year: place from the bottom = ii, from the top = n+1-ii."""
    return [(f"S{i:02d}", y, float(i), None, None) for y in years for i in range(1, n + 1)]


def _flags(frame, column):
    return sorted(frame.loc[frame[column], "school_code"])


def test_identify_boundaries_on_a_ladder_of_twenty_schools():
    result = identify(_results(_ladder([2022, 2023])))
    assert list(result.columns) == list(IDENTIFY_COLUMNS)
    # bottom 15 % of 20 = 3 places: S03 is exactly at the share (3/20 = 0.15), S04 is not
    assert _flags(result, "low_results") == ["S01", "S02", "S03"]
    # top 20 % of 20 = 4 places: S17 is exactly at the share (4/20 = 0.20)
    assert _flags(result, "resource_centre_candidate") == ["S17", "S18", "S19", "S20"]
    row = result.set_index("school_code").loc["S03"]
    assert row["years"] == (2022, 2023)
    assert row["reasons"] == ("ШНОР: в нижних 15 % школ по среднему результату в 2 г.: "
                              "2022 — место 3 из 20 снизу; 2023 — место 3 из 20 снизу")
    assert result.set_index("school_code").loc["S17", "reasons"] == (
        "Кандидат в ресурсные центры: в верхних 20 % школ во все годы с данными "
        "(2022 — место 4 из 20 сверху; 2023 — место 4 из 20 сверху), ни одного теста ниже медианы")
    assert result["adverse_context"].isna().all()


def test_one_year_only_identifies_nobody_and_says_why():
    result = identify(_results(_ladder([2023])))
    assert not result["low_results"].any()
    assert not result["resource_centre_candidate"].any()
    assert result.loc[0, "reasons"].startswith("ШНОР не установлена (нужно не меньше 2 лет)")


def test_a_tie_across_the_boundary_helps_neither_school():
    rows = _ladder([2022, 2023])
    rows = [(c, y, 3.0 if c == "S04" else m, s, p) for c, y, m, s, p in rows]
    # S03 and S04 both score 3: places from the bottom 4 and 4 > 3 → neither is low
    assert _flags(identify(_results(rows)), "low_results") == ["S01", "S02"]


def test_a_test_with_fewer_schools_than_min_schools_is_not_compared():
    result = identify(_results(_ladder([2022, 2023], n=4)))  # 4 < 5 schools
    assert not result["low_results"].any()
    assert result.loc[0, "reasons"] == ""


@pytest.mark.parametrize(("shares", "low"), [
    ([(2022, 0.25, None), (2023, 0.25, None)], True),      # exactly at the limit, 2 years
    ([(2022, 0.2499, None), (2023, 0.30, None)], False),   # one year just under
    ([(2023, 0.40, None)], False),                         # one year only
    # 2022 weighted by pupils: (0.40·10 + 0.20·30) / 40 = 10/40 = 0.25 → at the limit
    ([(2022, 0.40, 10), (2022, 0.20, 30), (2023, 0.5, 20)], True),
    # 2022 pupils unknown for a row: plain mean (0.30 + 0.10) / 2 = 0.20 < 0.25
    ([(2022, 0.30, None), (2022, 0.10, 30), (2023, 0.5, 20)], False),
])
def test_threshold_rule(shares, low):
    rows = [("S1", y, None, s, p, None, f"Предмет {i}") for i, (y, s, p) in enumerate(shares)]
    result = identify(_results(rows))
    assert bool(result.loc[0, "low_results"]) is low


def test_threshold_reason_names_the_years_and_shares():
    rows = [("S1", 2022, None, 0.3, 50), ("S1", 2023, None, 0.25, 40)]
    assert identify(_results(rows)).loc[0, "reasons"] == (
        "ШНОР: доля участников ниже минимального порога не меньше 25 % в 2 г.: "
        "2022 — 30 %; 2023 — 25 %")


def test_a_test_below_the_median_bars_a_resource_centre():
    # five schools, maths both years: S1..S5 score 1..5; 2023 Russian: S5 scores 1.5
    rows = [(f"S{i}", y, float(i), None, None) for y in (2022, 2023) for i in range(1, 6)]
    russian = {"S1": 1.0, "S2": 4.0, "S3": 3.0, "S4": 5.0, "S5": 1.5}
    rows += [(c, 2023, m, None, None, None, "Русский язык") for c, m in russian.items()]
    # 2023 Russian ranks: S1 1, S5 2, S3 3, S2 4, S4 5 (median 3.0); percentile (rank−1)/4
    # 2023 index = mean(maths, Russian): S4 (0.75+1)/2 = 0.875, S5 (1+0.25)/2 = 0.625,
    #   S2 (0.25+0.75)/2 = 0.5, S3 (0.5+0.5)/2 = 0.5, S1 0 → S5 is place 2 from the top
    # top 40 % of 5 = 2 places: S5 is top both years, but Russian 1.5 < median 3.0
    result = identify(_results(rows), IdentificationRules(top_share=0.4)).set_index("school_code")
    assert list(result.index[result["resource_centre_candidate"]]) == ["S4"]
    assert result.loc["S5", "reasons"].endswith("но есть тест ниже медианы (2023)")


def test_a_low_results_school_is_never_a_resource_centre():
    rows = [(f"S{i}", y, float(i), 0.3 if i == 5 else 0.0, 20)
            for y in (2022, 2023) for i in range(1, 6)]
    row = identify(_results(rows), IdentificationRules(top_share=0.2)).set_index(
        "school_code").loc["S5"]
    assert (row["low_results"], row["resource_centre_candidate"]) == (True, False)
    assert "школа выявлена как ШНОР" in row["reasons"]


def test_adverse_context_comes_only_from_the_flag_of_the_latest_year():
    rows = [("S01", 2022, 1.0, None, None, True), ("S01", 2023, 1.0, None, None, False),
            ("S02", 2022, 2.0, None, None, True), ("S02", 2023, 2.0, None, None, None),
            ("S03", 2022, 3.0, None, None, None)]
    result = identify(_results(rows)).set_index("school_code")
    assert result["adverse_context"].tolist() == [False, True, pd.NA]
    assert result.loc["S01", "reasons"] == "ШФНСУ: «Неблагоприятные условия» = нет (2023)"
    assert not result["low_results"].any()  # too few schools to compare: nothing inferred


@pytest.mark.parametrize("kwargs", [{"bottom_share": 0}, {"top_share": 1.5},
                                    {"below_min_limit": -0.1}, {"min_years": 0},
                                    {"min_schools": 1}])
def test_rules_refuse_nonsense(kwargs):
    with pytest.raises(ValueError, match="must be"):
        IdentificationRules(**kwargs)


def test_identify_on_parsed_file_and_on_nothing():
    frame, _ = parse_results((FILES / "results_2023.csv").read_bytes())
    result = identify(frame)
    assert result["school_code"].tolist() == ["S001", "S002", "S003", "S005"]
    assert result["adverse_context"].tolist() == [False, False, True, True]
    assert identify(frame.iloc[0:0]).empty
