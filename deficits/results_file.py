"""Read schools' national assessment results (ВПР, ОГЭ, ЕГЭ) from CSV or XLSX files.

The file is read by ``tabular.read_table`` (CSV or XLSX, UTF-8 or Windows-1251, `;`, `,` or
tab); headers are Russian or English; every bad row is refused with its row number and
reason, the good rows are kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from tabular import RowError, Table, read_table

RESULT_COLUMNS = ("school_code", "school_name", "year", "assessment", "subject", "grade",
                  "mean_score", "share_below_min", "participants", "adverse_context")
ASSESSMENTS = ("ВПР", "ОГЭ", "ЕГЭ")
_KEY = ["school_code", "year", "assessment", "subject", "grade"]
_HEADERS = {
    "school_code": ("код оо", "код школы", "код образовательной организации", "school_code"),
    "school_name": ("наименование оо", "наименование школы", "школа", "school_name"),
    "year": ("год", "year"),
    "assessment": ("оценочная процедура", "процедура", "assessment"),
    "subject": ("предмет", "subject"),
    "grade": ("класс", "параллель", "grade"),
    "mean_score": ("средний балл", "средний первичный балл", "средний тестовый балл",
                   "mean_score"),
    "share_below_min": ("доля ниже минимального порога", "доля участников ниже минимального "
                        "порога", "доля не преодолевших минимальный порог", "share_below_min"),
    "participants": ("число участников", "количество участников", "participants"),
    "adverse_context": ("неблагоприятные условия", "шфнсу", "adverse_context"),
}
_LABELS = {"school_code": "Код ОО", "school_name": "Наименование ОО", "year": "Год",
           "assessment": "Оценочная процедура", "subject": "Предмет", "grade": "Класс",
           "mean_score": "Средний балл", "share_below_min": "Доля ниже минимального порога",
           "participants": "Число участников", "adverse_context": "Неблагоприятные условия"}
_ASSESSMENT_ALIASES = {"впр": "ВПР", "огэ": "ОГЭ", "егэ": "ЕГЭ", "vpr": "ВПР", "oge": "ОГЭ",
                       "ege": "ЕГЭ"}
_DEFAULT_GRADE = {"ОГЭ": 9, "ЕГЭ": 11}
_TRUE = frozenset({"да", "1", "yes", "true"})
_FALSE = frozenset({"нет", "0", "no", "false"})


def _number(text: str) -> float | None:
    """``'3,5'``, ``'1 234'``, ``'12,5 %'`` → float; None if not a number."""
    cleaned = re.sub(r"[\s\u00a0%]", "", text).replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        return None


class _Row:
    """One data row: typed getters that record a RowError instead of raising."""

    def __init__(self, line: int, cells: Mapping[str, str]) -> None:
        self.line = line
        self.errors: list[RowError] = []
        self.cells = cells

    def fail(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.line, _LABELS[column], message))

    def text(self, column: str, *, required: bool = False) -> str:
        value = self.cells.get(column, "")
        if required and not value:
            self.fail(column, "is empty; fill it in")
        return value

    def whole(self, column: str, low: int, high: int, what: str) -> int | None:
        value = self.cells.get(column, "")
        number = _number(value) if value else None
        if value and (number is None or not number.is_integer() or not low <= number <= high):
            self.fail(column, f"{value!r} is not {what}")
            return None
        return int(number) if number is not None else None

    def real(self, column: str, high: float) -> float | None:
        value = self.cells.get(column, "")
        number = _number(value) if value else None
        if value and (number is None or not 0 <= number <= high):
            self.fail(column, f"{value!r} is not a number from 0 to {high:g}")
            return None
        return number

    def flag(self) -> bool | None:
        value = self.cells.get("adverse_context", "").casefold()
        if value and value not in _TRUE | _FALSE:
            self.fail("adverse_context", f"{value!r} is not да/нет")
        return True if value in _TRUE else False if value in _FALSE else None


def _record(row: _Row, share_scale: float) -> dict[str, object]:
    """Build one tidy record from a row (errors are left on the row)."""
    text = row.text("assessment", required=True)
    assessment = _ASSESSMENT_ALIASES.get(text.casefold(), "")
    if text and not assessment:
        row.fail("assessment", f"{text!r} is not one of {', '.join(ASSESSMENTS)}")
    grade = row.whole("grade", 1, 11, "a grade from 1 to 11")
    if grade is None and not row.cells.get("grade"):
        grade = _DEFAULT_GRADE.get(assessment)
        if grade is None and assessment:
            row.fail("grade", "is empty; ВПР needs the grade")
    share = row.real("share_below_min", 100.0 if share_scale > 1 else 1.0)
    record: dict[str, object] = {
        "school_code": row.text("school_code", required=True),
        "school_name": row.text("school_name"),
        "year": row.whole("year", 2000, 2100, "a year") if row.text("year", required=True)
        else None,
        "assessment": assessment, "subject": row.text("subject", required=True),
        "grade": grade, "mean_score": row.real("mean_score", 1000.0),
        "share_below_min": share / share_scale if share is not None else None,
        "participants": row.whole("participants", 1, 10**6, "a whole number of pupils"),
        "adverse_context": row.flag(),
    }
    if record["mean_score"] is None and share is None and not row.errors:
        row.fail("mean_score", "and the share below the minimum are both empty; fill one in")
    return record


def _empty() -> pd.DataFrame:
    return _typed(pd.DataFrame({c: [] for c in RESULT_COLUMNS}))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    types = {"school_code": "str", "school_name": "str", "year": "int64", "assessment": "str",
             "subject": "str", "grade": "int64", "mean_score": "float64",
             "share_below_min": "float64", "participants": "Int64", "adverse_context": "boolean"}
    return frame.astype(types)


def parse_results(data: bytes) -> tuple[pd.DataFrame, list[RowError]]:
    """Parse a results file of ВПР/ОГЭ/ЕГЭ per school, subject, grade and year.

    Headers are Russian or English («Код ОО», «Наименование ОО», «Год», «Оценочная
    процедура», «Предмет», «Класс», «Средний балл»/«Средний первичный балл», «Доля ниже
    минимального порога», «Число участников», optional «Неблагоприятные условия» да/нет).
    Decimals may use a comma. The share is read as percent when its header or any value
    has ``%`` or any value exceeds 1, else as a fraction; it is returned as a fraction.
    An empty grade is 9 for ОГЭ and 11 for ЕГЭ. A row needs a mean score or a share.
    Exact duplicate rows are dropped silently; a row repeating another's school, year,
    procedure, subject and grade with other values is refused (the first is kept).

    Args:
        data: The file's bytes (see ``tabular.read_table``: XLSX, or CSV in UTF-8 or
            Windows-1251 with ``;``, ``,`` or tab).

    Returns:
        The tidy frame (``RESULT_COLUMNS``, sorted by school, year, procedure, subject,
        grade) and one RowError per problem (1-based row, header = 1).
    """
    table = read_table(data, aliases=_HEADERS)
    if not table.header:
        empty = RowError(0, "", "the file is empty; it needs a header row")
        return _empty(), list(table.errors) or [empty]
    if refusal := _missing_columns(table):
        return _empty(), [refusal]
    records, errors = _collect(table, 100.0 if _share_in_percent(table) else 1.0)
    frame = _typed(pd.DataFrame(records, columns=list(RESULT_COLUMNS))) if records else _empty()
    return frame.sort_values(_KEY, ignore_index=True), [*errors, *table.errors]


def _missing_columns(table: Table) -> RowError | None:
    """The refusal of a header that lacks a needed column, or None."""
    needed = ("school_code", "year", "assessment", "subject")
    missing = [_LABELS[c] for c in table.missing(needed)]
    if len(table.missing(("mean_score", "share_below_min"))) == 2:
        missing.append(f"{_LABELS['mean_score']} or {_LABELS['share_below_min']}")
    if not missing:
        return None
    message = (f"missing column(s): {', '.join(missing)}; the header must name «Код ОО», "
               "«Год», «Оценочная процедура», «Предмет» and «Средний балл» or «Доля ниже "
               "минимального порога»")
    return RowError(table.header_row, "", message)


def _share_in_percent(table: Table) -> bool:
    """Whether the share column is in percent: «%» in its header or a value, or a value > 1."""
    column = table.columns.get("share_below_min")
    if column is None:
        return False
    values = [row.fields["share_below_min"] for row in table.rows]
    return "%" in table.header[column] or any("%" in v or (_number(v) or 0) > 1 for v in values)


def _collect(table: Table, share_scale: float) -> tuple[list[dict[str, object]], list[RowError]]:
    """One record per good row; exact repeats dropped, conflicting repeats refused."""
    records: list[dict[str, object]] = []
    errors: list[RowError] = []
    seen: dict[tuple[object, ...], tuple[int, dict[str, object]]] = {}
    for line in table.rows:
        row = _Row(line.number, line.fields)
        record = _record(row, share_scale)
        key = tuple(record[c] for c in _KEY)
        if not row.errors and key in seen and seen[key][1] != record:
            row.fail("school_code", f"repeats row {seen[key][0]} (same school, year, procedure,"
                                    " subject and grade) with other values; keep one row")
        errors.extend(row.errors)
        if not row.errors and key not in seen:
            seen[key] = (row.line, record)
            records.append(record)
    return records, errors
