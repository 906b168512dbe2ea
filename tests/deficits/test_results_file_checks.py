"""A results file worded as the real exports word it is read whole; bad values refuse their row."""

from __future__ import annotations

import pytest

from deficits.results_file import read_results
from tabular import RowError

# As a regional ВПР table built from ФИС ОКО reports words it, in Windows-1251.
FIS_OKO = ("Логин ОО;Наименование ОО;АТЕ;Год;Оценочная процедура;Предмет;Класс;Кол-во участников;"
           "Средний балл;Доля «2», %;Примечание\r\n"
           "sch160101;МБОУ «СОШ № 1»;Зеленодольский;2024;ВПР;Математика;5;48;3,41;12,5;\r\n"
           "sch160102;МБОУ «СОШ № 2»;Зеленодольский;2024;ВПР;Математика;5;31;3,02;29,0;пересдача\r\n")


def test_differently_worded_headers_are_all_read_and_the_rest_named():
    found = read_results(FIS_OKO.encode("cp1251"))
    assert found.errors == [] and not found.refused
    assert found.read_as == {
        "Логин ОО": "school_code", "Наименование ОО": "school_name", "АТЕ": "municipality",
        "Год": "year", "Оценочная процедура": "assessment", "Предмет": "subject",
        "Класс": "grade", "Кол-во участников": "participants", "Средний балл": "mean_score",
        "Доля «2», %": "share_below_min"}
    assert found.unread == ["Примечание"]
    assert found.disabled == ["adverse"]  # no «Неблагоприятные условия»: ШФНСУ unknown
    assert list(found.frame["participants"]) == [48, 31]
    assert list(found.frame["share_below_min"]) == pytest.approx([0.125, 0.29])


def test_a_file_without_participants_or_share_says_which_rules_it_disables():
    text = FIS_OKO.replace("Кол-во участников", "Всего человек").replace("Доля «2», %", "Д2")
    found = read_results(text.encode())
    assert found.unread == ["Всего человек", "Д2", "Примечание"]
    assert found.disabled == ["threshold", "weights", "adverse"]
    assert found.values == ("mean_score",)  # only the mean may be stored
    assert found.frame["share_below_min"].isna().all()


def test_a_hand_mapping_reads_an_unknown_column():
    text = FIS_OKO.replace("Кол-во участников", "Всего человек")
    found = read_results(text.encode(), mapping={"Всего человек": "participants"})
    assert found.read_as["Всего человек"] == "participants" and "weights" not in found.disabled
    assert list(found.frame["participants"]) == [48, 31]


HEADER = "Код ОО;Год;Оценочная процедура;Предмет;Класс;{mean};Доля ниже порога, %;Писали\r\n"


GOOD = {"ВПР": "S9;2024;ВПР;Химия;8;4;10;20", "ОГЭ": "S9;2024;ОГЭ;Химия;9;4;10;20",
        "ЕГЭ": "S9;2024;ЕГЭ;Химия;11;55;10;20"}


@pytest.mark.parametrize(("mean", "row", "error"), [
    ("Средняя отметка", "S1;2024;ВПР;Химия;8;5,5;10;20",
     RowError(2, "Средняя отметка", "'5,5' is not a mean mark from 2 to 5 (ВПР)")),
    ("Средняя отметка", "S1;2024;ОГЭ;Химия;9;1,9;10;20",
     RowError(2, "Средняя отметка", "'1,9' is not a mean mark from 2 to 5 (ОГЭ)")),
    ("Средний тестовый балл", "S1;2024;ЕГЭ;Химия;11;101;10;20",
     RowError(2, "Средний тестовый балл", "'101' is not a test score from 0 to 100 (ЕГЭ)")),
    ("Средний первичный балл", "S1;2024;ОГЭ;Химия;9;70;10;20",
     RowError(2, "Средний первичный балл", "'70' is not a primary score from 0 to 68 (ОГЭ)")),
    ("Средний балл", "S1;2024;ЕГЭ;Химия;11;55;110;20",
     RowError(2, "Доля ниже минимального порога", "'110' is not a number from 0 to 100")),
    ("Средний балл", "S1;2024;ВПР;Химия;8;3,5;10;0",
     RowError(2, "Число участников", "'0' is not a whole number of pupils (1 or more)")),
    ("Средний балл", "S1;2024;ВПР;Химия;8;3,5;10;12,5",
     RowError(2, "Число участников", "'12,5' is not a whole number of pupils (1 or more)")),
    ("Средний балл", "S1;1999;ВПР;Химия;8;3,5;10;20",
     RowError(2, "Год", "'1999' is not a year from 2001 to 2026")),
    ("Средний балл", "S1;2030;ВПР;Химия;8;3,5;10;20",
     RowError(2, "Год", "'2030' is not a year from 2001 to 2026")),
    ("Средний балл", "S1;2024;ОГЭ;Химия;8;3,5;10;20",
     RowError(2, "Класс", "'8' is not grade 9 (ОГЭ)")),
    ("Средний балл", "S1;2024;ВПР;Химия;3;3,5;10;20",
     RowError(2, "Класс", "'3' is not a grade from 4 to 11 (ВПР)")),
    ("Средний балл", "Школа 1;2024;ВПР;Химия;8;3,5;10;20",
     RowError(2, "Код ОО", "'Школа 1' is not a school code (expected "
                           "[0-9A-Za-z][0-9A-Za-z._/-]{0,39})")),
    ("Средний балл", ";2024;ВПР;Химия;8;3,5;10;20", RowError(2, "Код ОО", "is empty; fill it in")),
])
def test_a_value_out_of_its_scale_refuses_its_row_and_keeps_the_good_one(mean, row, error):
    good = GOOD[next(p for p in GOOD if p in row)]
    text = HEADER.format(mean=mean) + row + "\r\n" + good + "\r\n"
    found = read_results(text.encode(), last_year=2026)
    assert found.errors == [error]
    assert list(found.frame["school_code"]) == ["S9"]  # the good row is kept


def test_a_school_year_is_read_as_the_year_of_its_exams_and_the_code_format_is_a_setting():
    text = HEADER.format(mean="Средний балл") + "16-0001;2023/24;ВПР;Химия;8;3,5;10;20\r\n"
    assert read_results(text.encode()).frame.loc[0, "year"] == 2024
    strict = read_results(text.encode(), code_pattern=r"\d{5}")
    assert [e.field for e in strict.errors] == ["Код ОО"]
