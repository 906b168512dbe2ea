"""Read schools' national assessment results (ВПР, ОГЭ, ЕГЭ) from CSV or XLSX files.

The file is read by ``tabular.read_table`` (CSV or XLSX; UTF-8, UTF-16 with BOM or
Windows-1251; `;`, `,` or tab). Its headers are matched against the alias table of
``tabular/headers.toml`` (how ФИС ОКО and the РЦОИ word them); every other column is named
as unread, and every identification rule a missing column disables is named too. Each value
is checked against its procedure's scale; every bad row is refused with its row number and
reason, the good rows are kept.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

from tabular import SCHOOL_CODE_PATTERN, RowError, Table, header_aliases, read_table, table_kind

RESULT_COLUMNS = ("school_code", "school_name", "year", "assessment", "subject", "grade",
                  "mean_score", "share_below_min", "participants", "adverse_context")
VALUE_COLUMNS = ("mean_score", "share_below_min", "participants", "adverse_context")
ASSESSMENTS = ("ВПР", "ОГЭ", "ЕГЭ")
MEANS = ("mean_score", "mean_mark", "mean_test", "mean_primary")  # one is stored, in this order
RULES = {  # identification rule → the columns it needs (any one of them)
    "rank": MEANS, "centre": MEANS, "threshold": ("share_below_min",),
    "weights": ("participants",), "adverse": ("adverse_context",),
}
FIRST_YEAR = 2001  # the first ЕГЭ; ОГЭ and ВПР came later
_KEY = ["school_code", "year", "assessment", "subject", "grade"]
COLUMN_LABELS = dict(table_kind("results").labels)  # canonical column → Russian label
_ASSESSMENT_ALIASES = {"впр": "ВПР", "огэ": "ОГЭ", "егэ": "ЕГЭ", "vpr": "ВПР", "oge": "ОГЭ",
                       "ege": "ЕГЭ", "гиа-9": "ОГЭ", "гиа-11": "ЕГЭ"}
_DEFAULT_GRADE = {"ОГЭ": 9, "ЕГЭ": 11}
_GRADES = {"ВПР": (4, 11), "ОГЭ": (9, 9), "ЕГЭ": (10, 11)}
# The scale of each kind of mean per procedure: (low, high, what it is); None: no such scale.
# Marks are 2–5; ЕГЭ test scores 0–100; primary scores up to the largest maximum of a subject
# (ВПР below 60, ОГЭ 68 in foreign languages, ЕГЭ below 100). A mean headed only «Средний балл»
# is a mark or a primary score for ВПР and ОГЭ, a test score for ЕГЭ.
_SCALES: dict[str, dict[str, tuple[float, float, str] | None]] = {
    "mean_score": {"ВПР": (2, 60, "a mean mark 2–5 or a primary score up to 60"),
                   "ОГЭ": (2, 68, "a mean mark 2–5 or a primary score up to 68"),
                   "ЕГЭ": (0, 100, "a test score from 0 to 100")},
    "mean_mark": {"ВПР": (2, 5, "a mean mark from 2 to 5"),
                  "ОГЭ": (2, 5, "a mean mark from 2 to 5"), "ЕГЭ": None},
    "mean_test": {"ВПР": None, "ОГЭ": None, "ЕГЭ": (0, 100, "a test score from 0 to 100")},
    "mean_primary": {"ВПР": (0, 60, "a primary score from 0 to 60"),
                     "ОГЭ": (0, 68, "a primary score from 0 to 68"),
                     "ЕГЭ": (0, 100, "a primary score from 0 to 100")},
}
_TRUE = frozenset({"да", "1", "yes", "true"})
_FALSE = frozenset({"нет", "0", "no", "false"})
_SCHOOL_YEAR = re.compile(r"^(\d{4})\s*[/–-]\s*(\d{2}|\d{4})$")


@dataclass(frozen=True)
class ResultsFile:
    """A results file as read: its good rows, its refusals and how each column was read.

    Attributes:
        frame: The tidy frame (``RESULT_COLUMNS``), one row per good file row.
        errors: One RowError per problem (1-based row, header = 1; 0 = the whole file).
        read_as: Each recognised header cell as written → its canonical column.
        unread: The header cells no column was read from, in file order.
        disabled: The identification rules (``RULES``) the missing columns disable.
        values: The value columns (``VALUE_COLUMNS``) the file holds: the others must not
            be overwritten by an import of it.
        refused: The file as a whole was refused (unreadable, empty or missing columns).
        municipalities: School code → municipality («Муниципалитет», «АТЕ»), of good rows.
        header: The header's cells as written.
    """

    frame: pd.DataFrame
    errors: list[RowError]
    read_as: dict[str, str] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    values: tuple[str, ...] = ()
    refused: bool = False
    municipalities: dict[str, str] = field(default_factory=dict)
    header: tuple[str, ...] = ()


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
        self.errors.append(RowError(self.line, COLUMN_LABELS[column], message))

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

    def real(self, column: str, low: float, high: float, what: str) -> float | None:
        value = self.cells.get(column, "")
        number = _number(value) if value else None
        if value and (number is None or not low <= number <= high):
            self.fail(column, f"{value!r} is not {what}")
            return None
        return number

    def flag(self) -> bool | None:
        value = self.cells.get("adverse_context", "").casefold()
        if value and value not in _TRUE | _FALSE:
            self.fail("adverse_context", f"{value!r} is not да/нет")
        return True if value in _TRUE else False if value in _FALSE else None


@dataclass(frozen=True)
class _Checks:
    """What a row is checked against: the share's scale, the code format, the last year."""

    share_scale: float
    code: re.Pattern[str]
    last_year: int
    mean: str | None  # the mean column stored


def _year(row: _Row, last_year: int) -> int | None:
    """The year of the results: a calendar year, or a school year's second («2023/24» → 2024)."""
    text = row.text("year", required=True)
    what = f"a year from {FIRST_YEAR} to {last_year}"
    school_year = _SCHOOL_YEAR.match(text)
    if school_year is None:
        return row.whole("year", FIRST_YEAR, last_year, what) if text else None
    first, end = int(school_year[1]), school_year[2]
    year = int(end) if len(end) == 4 else first // 100 * 100 + int(end)
    if year - first == 1 and FIRST_YEAR <= year <= last_year:
        return year
    row.fail("year", f"{text!r} is not {what}")
    return None


def _grade(row: _Row, assessment: str) -> int | None:
    """The grade, checked against the procedure's grades; ОГЭ 9 and ЕГЭ 11 when empty."""
    low, high = _GRADES.get(assessment, (1, 11))
    what = f"a grade from {low} to {high}" if low != high else f"grade {low}"
    grade = row.whole("grade", low, high, f"{what} ({assessment})" if assessment else what)
    if grade is None and not row.cells.get("grade"):
        grade = _DEFAULT_GRADE.get(assessment)
        if grade is None and assessment:
            row.fail("grade", "is empty; ВПР needs the grade")
    return grade


def _mean(row: _Row, assessment: str, column: str | None) -> float | None:
    """The stored mean, checked against its procedure's scale (every mean column is checked)."""
    stored = None
    for name in MEANS:
        if not row.cells.get(name) or not assessment:
            continue
        scale = _SCALES[name][assessment]
        if scale is None:
            row.fail(name, f"{assessment} has no {COLUMN_LABELS[name].casefold()}; leave it empty")
            continue
        value = row.real(name, scale[0], scale[1], f"{scale[2]} ({assessment})")
        stored = value if name == column else stored
    return stored


def _record(row: _Row, checks: _Checks) -> dict[str, object]:
    """Build one tidy record from a row (errors are left on the row)."""
    code = row.text("school_code", required=True)
    if code and not checks.code.fullmatch(code):
        row.fail("school_code", f"{code!r} is not a school code (expected {checks.code.pattern})")
    text = row.text("assessment", required=True)
    assessment = _ASSESSMENT_ALIASES.get(text.casefold(), "")
    if text and not assessment:
        row.fail("assessment", f"{text!r} is not one of {', '.join(ASSESSMENTS)}")
    high = 100.0 if checks.share_scale > 1 else 1.0
    share = row.real("share_below_min", 0, high, f"a number from 0 to {high:g}")
    record: dict[str, object] = {
        "school_code": code, "school_name": row.text("school_name"),
        "year": _year(row, checks.last_year), "assessment": assessment,
        "subject": row.text("subject", required=True), "grade": _grade(row, assessment),
        "mean_score": _mean(row, assessment, checks.mean),
        "share_below_min": share / checks.share_scale if share is not None else None,
        "participants": row.whole("participants", 1, 10**5, "a whole number of pupils (1 or more)"),
        "adverse_context": row.flag(), "municipality": row.text("municipality"),
    }
    if record["mean_score"] is None and share is None and not row.errors:
        row.fail(checks.mean or "mean_score",
                 "and the share below the minimum are both empty; fill one in")
    return record


def _empty() -> pd.DataFrame:
    return _typed(pd.DataFrame({c: [] for c in RESULT_COLUMNS}))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    types = {"school_code": "str", "school_name": "str", "year": "int64", "assessment": "str",
             "subject": "str", "grade": "int64", "mean_score": "float64",
             "share_below_min": "float64", "participants": "Int64", "adverse_context": "boolean"}
    return frame.astype(types)


def read_results(data: bytes, *, name: str = "", mapping: Mapping[str, str] | None = None,
                 code_pattern: str = SCHOOL_CODE_PATTERN,
                 last_year: int | None = None) -> ResultsFile:
    """Read a results file of ВПР/ОГЭ/ЕГЭ per school, subject, grade and year.

    Headers are any spelling of ``tabular/headers.toml`` [results] («Код ОО»/«Логин ОО»,
    «Наименование ОО», «Год», «Оценочная процедура», «Предмет», «Класс», «Средний балл»,
    «Средняя отметка», «Средний тестовый балл», «Средний первичный балл», «Доля ниже
    минимального порога»/«Доля «2»», «Число участников»/«Кол-во участников»/«Писали»,
    optional «Неблагоприятные условия» да/нет), or mapped by hand (``mapping``). Decimals
    may use a comma. The share is read as percent when its header or any value has ``%`` or
    any value exceeds 1, else as a fraction; it is returned as a fraction. An empty grade is
    9 for ОГЭ and 11 for ЕГЭ. A row needs a mean or a share. Each value is checked against
    its procedure's scale (marks 2–5, ЕГЭ test scores 0–100, primary scores up to the
    subject maxima, shares 0–100 %, grades of the procedure, participants 1 or more, years
    from 2001 to ``last_year``), and the school code against ``code_pattern`` (whole match).
    Exact duplicate rows are dropped silently; a row repeating another's school, year,
    procedure, subject and grade with other values is refused (the first is kept).

    Args:
        data: The file's bytes (see ``tabular.read_table``).
        name: The file's name as chosen (a workbook name on a text file is refused).
        mapping: Header cell → canonical column (``""``: not read), chosen by hand.
        code_pattern: The school codes' format (a regular expression).
        last_year: The latest plausible year (this year by default).

    Returns:
        The file as read (see ``ResultsFile``); the frame is sorted by school, year,
        procedure, subject and grade.
    """
    table = read_table(data, aliases=header_aliases("results"), name=name, mapping=mapping)
    if not table.header:
        empty = RowError(0, "", "the file is empty; it needs a header row")
        return ResultsFile(_empty(), list(table.errors) or [empty], refused=True)
    values = tuple(c for c in VALUE_COLUMNS if c in table.columns or
                   (c == "mean_score" and table.missing(MEANS) != list(MEANS)))
    disabled = [rule for rule, needs in RULES.items() if len(table.missing(needs)) == len(needs)]
    read = ResultsFile(_empty(), [], table.read_as, table.unread, disabled, values,
                       header=table.header)
    if refusal := _missing_columns(table):
        return replace(read, errors=[refusal], refused=True)
    checks = _Checks(100.0 if _share_in_percent(table) else 1.0, re.compile(code_pattern),
                     last_year or dt.date.today().year,
                     next((m for m in MEANS if m in table.columns), None))
    records, errors = _collect(table, checks)
    if not records:
        return replace(read, errors=[*errors, *table.errors])
    frame = _typed(pd.DataFrame(records, columns=list(RESULT_COLUMNS)))
    places = {str(r["school_code"]): str(r["municipality"]) for r in records if r["municipality"]}
    return replace(read, frame=frame.sort_values(_KEY, ignore_index=True),
                   errors=[*errors, *table.errors], municipalities=places)


def parse_results(data: bytes) -> tuple[pd.DataFrame, list[RowError]]:
    """The good rows and the refusals of a results file (see ``read_results``)."""
    found = read_results(data)
    return found.frame, found.errors


def _missing_columns(table: Table) -> RowError | None:
    """The refusal of a header that lacks a needed column, or None."""
    needed = ("school_code", "year", "assessment", "subject")
    missing = [COLUMN_LABELS[c] for c in table.missing(needed)]
    if len(table.missing((*MEANS, "share_below_min"))) == len(MEANS) + 1:
        missing.append(f"{COLUMN_LABELS['mean_score']} or {COLUMN_LABELS['share_below_min']}")
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


def _collect(table: Table, checks: _Checks) -> tuple[list[dict[str, object]], list[RowError]]:
    """One record per good row; exact repeats dropped, conflicting repeats refused."""
    records: list[dict[str, object]] = []
    errors: list[RowError] = []
    seen: dict[tuple[object, ...], tuple[int, dict[str, object]]] = {}
    for line in table.rows:
        row = _Row(line.number, line.fields)
        record = _record(row, checks)
        key = tuple(record[c] for c in _KEY)
        if not row.errors and key in seen and seen[key][1] != record:
            row.fail("school_code", f"repeats row {seen[key][0]} (same school, year, procedure,"
                                    " subject and grade) with other values; keep one row")
        errors.extend(row.errors)
        if not row.errors and key not in seen:
            seen[key] = (row.line, record)
            records.append(record)
    return records, errors
