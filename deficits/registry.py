"""Import schools' national assessment results (ВПР, ОГЭ, ЕГЭ) and identify school groups."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from deficits.question_map import RowError, read_rows

RESULT_COLUMNS = ("school_code", "school_name", "year", "assessment", "subject", "grade",
                  "mean_score", "share_below_min", "participants", "adverse_context")
IDENTIFY_COLUMNS = ("school_code", "low_results", "resource_centre_candidate",
                    "adverse_context", "years", "reasons")
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
_PERCENT_SUFFIX = re.compile(r"[\s,(]*%\s*\)?$")
_EPS = 1e-9


def _canonical_header(header: list[str]) -> tuple[dict[str, int], bool]:
    """Column index by canonical name, and whether the share column is headed in %."""
    names = {_PERCENT_SUFFIX.sub("", h).strip(): i for i, h in reversed(list(enumerate(header)))}
    found = {c: names[a] for c, aliases in _HEADERS.items() for a in reversed(aliases)
             if a in names}
    share_in_percent = "share_below_min" in found and "%" in header[found["share_below_min"]]
    return found, share_in_percent


def _number(text: str) -> float | None:
    """``'3,5'``, ``'1 234'``, ``'12,5 %'`` → float; None if not a number."""
    cleaned = re.sub(r"[\s\u00a0%]", "", text).replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        return None


class _Row:
    """One data row: typed getters that record a RowError instead of raising."""

    def __init__(self, line: int, cells: list[str], columns: dict[str, int]) -> None:
        self.line = line
        self.errors: list[RowError] = []
        self.cells = {c: cells[i] for c, i in columns.items()}

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
    record = {
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
        data: The file's bytes (XLSX, or CSV in UTF-8/Windows-1251 with ``;`` or ``,``).

    Returns:
        The tidy frame (``RESULT_COLUMNS``, sorted by school, year, procedure, subject,
        grade) and one RowError per problem (1-based row, header = 1).
    """
    header, rows, errors = read_rows(data)
    if errors:
        return _empty(), errors
    columns, share_in_percent = _canonical_header(header)
    needed = ("school_code", "year", "assessment", "subject")
    missing = [_LABELS[c] for c in needed if c not in columns]
    if not {"mean_score", "share_below_min"} & columns.keys():
        missing.append(f"{_LABELS['mean_score']} or {_LABELS['share_below_min']}")
    if missing:
        message = (f"missing column(s): {', '.join(missing)}; the header must name «Код ОО», "
                   "«Год», «Оценочная процедура», «Предмет» and «Средний балл» or «Доля ниже "
                   "минимального порога»")
        return _empty(), [RowError(1, "", message)]
    if "share_below_min" in columns and not share_in_percent:
        values = [cells[columns["share_below_min"]] for _, cells in rows]
        share_in_percent = any("%" in v or (_number(v) or 0) > 1 for v in values)
    records: list[dict[str, object]] = []
    seen: dict[tuple[object, ...], tuple[int, dict[str, object]]] = {}
    for line, cells in rows:
        row = _Row(line, cells, columns)
        record = _record(row, 100.0 if share_in_percent else 1.0)
        key = tuple(record[c] for c in _KEY)
        if not row.errors and key in seen and seen[key][1] != record:
            row.fail("school_code", f"repeats row {seen[key][0]} (same school, year, procedure,"
                                    " subject and grade) with other values; keep one row")
        errors.extend(row.errors)
        if not row.errors and key not in seen:
            seen[key] = (line, record)
            records.append(record)
    frame = _typed(pd.DataFrame(records, columns=list(RESULT_COLUMNS))) if records else _empty()
    return frame.sort_values(_KEY, ignore_index=True), errors


@dataclass(frozen=True)
class IdentificationRules:
    """Rules that identify low-results schools, resource-centre candidates and adverse context.

    A *test* is one procedure, subject and grade in one year (e.g. ВПР, математика, 5 класс,
    2023). A test taken by fewer than ``min_schools`` schools is not compared. In a test a
    school's percentile is ``(average rank − 1) / (schools − 1)``: 0 the lowest mean score,
    1 the highest, ties share the average rank. A school's yearly index is the mean of its
    percentiles that year; its place from the bottom is the number of schools whose index is
    ≤ its own, from the top the number whose index is ≥ its own (ties never help a school
    across a boundary).

    1. ШНОР по результатам — школа входит в нижние ``bottom_share`` (15 %) школ по годовому
       индексу, то есть место снизу ≤ 15 % от числа школ, не меньше чем в ``min_years``
       (2) годах, не обязательно подряд. / Low results by rank: place from the bottom ≤
       ``bottom_share`` × schools that year, in at least ``min_years`` years.
    2. ШНОР по порогу — доля участников ниже минимального порога ≥ ``below_min_limit``
       (25 %) не меньше чем в ``min_years`` годах; доля за год — среднее по тестам школы,
       взвешенное числом участников (простое среднее, если число где-то не указано). /
       Low results by threshold: the school's yearly share below the minimum (weighted by
       participants, else a plain mean) ≥ ``below_min_limit`` in at least ``min_years`` years.
       Either rule makes a low-results school.
    3. Кандидат в ресурсные центры — в верхних ``top_share`` (20 %) школ в каждом году, где
       есть сравнимые данные, таких лет не меньше ``min_years``, ни одного теста со средним
       баллом ниже медианы теста, и школа не ШНОР. / Resource-centre candidate: place from
       the top ≤ ``top_share`` × schools in every year with comparable data, at least
       ``min_years`` such years, no test below that test's median, not a low-results school.
    4. ШФНСУ — только из колонки «Неблагоприятные условия» (да/нет), по последнему году, где
       она заполнена; из результатов не выводится; нет колонки — неизвестно (NA). / Adverse
       context only from the «Неблагоприятные условия» flag of the latest year that has it;
       never inferred from results; unknown (NA) without it.
    """

    bottom_share: float = 0.15
    below_min_limit: float = 0.25
    top_share: float = 0.20
    min_years: int = 2
    min_schools: int = 5

    def __post_init__(self) -> None:
        for name in ("bottom_share", "below_min_limit", "top_share"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be a share in (0, 1], got {getattr(self, name)}")
        if self.min_years < 1 or self.min_schools < 2:
            raise ValueError("min_years must be >= 1 and min_schools >= 2")


def _share(value: float) -> str:
    """0.125 → '12,5 %', 0.15 → '15 %'."""
    return f"{value * 100:.1f}".replace(".", ",").removesuffix(",0") + " %"


def _yearly_places(results: pd.DataFrame, rules: IdentificationRules) -> pd.DataFrame:
    """Per school and year: index, schools compared, places from bottom and top, below median."""
    test = ["year", "assessment", "subject", "grade"]
    scored = results.dropna(subset=["mean_score"])
    scored = scored[scored.groupby(test)["mean_score"].transform("size") >= rules.min_schools]
    scores = scored.groupby(test)["mean_score"]
    scored = scored.assign(
        pct=(scores.rank(method="average") - 1) / (scores.transform("size") - 1),
        below=scored["mean_score"] < scores.transform("median"))
    yearly = scored.groupby(["school_code", "year"], as_index=False).agg(
        position=("pct", "mean"), below=("below", "any"))
    yearly["position"] = yearly["position"].round(9)
    by_year = yearly.groupby("year")["position"]
    return yearly.assign(n=by_year.transform("size"),
                         low=by_year.rank(method="max").astype(int),
                         high=by_year.rank(method="max", ascending=False).astype(int))


def _yearly_shares(results: pd.DataFrame) -> pd.DataFrame:
    """Per school and year: share below the minimum, weighted by participants when known."""
    rows = results.dropna(subset=["share_below_min"])
    rows = rows.assign(w=rows["share_below_min"] * rows["participants"].astype("float64"),
                       unknown=rows["participants"].isna())
    yearly = rows.groupby(["school_code", "year"], as_index=False).agg(
        plain=("share_below_min", "mean"), w=("w", "sum"),
        p=("participants", "sum"), unknown=("unknown", "any"))
    weighted = yearly["w"] / yearly["p"].astype("float64")
    return yearly.assign(share=weighted.where(~yearly["unknown"], yearly["plain"]).round(9))


def _low_reasons(places: pd.DataFrame, shares: pd.DataFrame,
                 rules: IdentificationRules) -> tuple[bool, list[str]]:
    """Rules 1 and 2 for one school: whether either fired, and why (or why almost)."""
    reasons = []
    low = places[places["low"] <= rules.bottom_share * places["n"] + _EPS]
    if len(low):
        years = "; ".join(f"{r.year} — место {r.low} из {r.n} снизу" for r in low.itertuples())
        verdict = ("ШНОР" if len(low) >= rules.min_years else
                   f"ШНОР не установлена (нужно не меньше {rules.min_years} лет)")
        reasons.append(f"{verdict}: в нижних {_share(rules.bottom_share)} школ по среднему "
                       f"результату в {len(low)} г.: {years}")
    high = shares[shares["share"] >= rules.below_min_limit - _EPS]
    if len(high):
        years = "; ".join(f"{r.year} — {_share(r.share)}" for r in high.itertuples())
        verdict = ("ШНОР" if len(high) >= rules.min_years else
                   f"ШНОР не установлена (нужно не меньше {rules.min_years} лет)")
        reasons.append(f"{verdict}: доля участников ниже минимального порога не меньше "
                       f"{_share(rules.below_min_limit)} в {len(high)} г.: {years}")
    return max(len(low), len(high)) >= rules.min_years, reasons


def _centre_reason(places: pd.DataFrame, rules: IdentificationRules) -> tuple[bool, str]:
    """Rule 3 for one school (without the 'not low-results' part)."""
    top = places["high"] <= rules.top_share * places["n"] + _EPS
    if places.empty or not top.all():
        return False, ""
    years = "; ".join(f"{r.year} — место {r.high} из {r.n} сверху" for r in places.itertuples())
    head = f"в верхних {_share(rules.top_share)} школ во все годы с данными ({years})"
    if places["below"].any():
        below = ", ".join(str(y) for y in places.loc[places["below"], "year"])
        return False, f"Не кандидат в ресурсные центры: {head}, но есть тест ниже медианы ({below})"
    if len(places) < rules.min_years:
        return False, (f"Не кандидат в ресурсные центры: {head}, нужно не меньше "
                       f"{rules.min_years} лет")
    return True, f"Кандидат в ресурсные центры: {head}, ни одного теста ниже медианы"


def _adverse(rows: pd.DataFrame) -> tuple[bool | None, str]:
    """Rule 4: the flag of the latest year that has one (any «да» in that year)."""
    flagged = rows.dropna(subset=["adverse_context"])
    if flagged.empty:
        return None, ""
    year = int(flagged["year"].max())
    value = bool(flagged.loc[flagged["year"] == year, "adverse_context"].any())
    return value, f"ШФНСУ: «Неблагоприятные условия» = {'да' if value else 'нет'} ({year})"


def identify(results: pd.DataFrame, rules: IdentificationRules | None = None) -> pd.DataFrame:
    """Identify low-results schools, resource-centre candidates and adverse context.

    Args:
        results: The frame of ``parse_results`` (one or several files concatenated).
        rules: The rules (see ``IdentificationRules``); defaults when None.

    Returns:
        One row per school code, sorted (``IDENTIFY_COLUMNS``): ``low_results`` and
        ``resource_centre_candidate`` (bool), ``adverse_context`` (nullable boolean),
        ``years`` (tuple of the years with results) and ``reasons`` (Russian text naming
        each rule that fired, or nearly fired, with its numbers; "; "-joined).
    """
    rules = rules or IdentificationRules()
    places, shares = _yearly_places(results, rules), _yearly_shares(results)
    rows = []
    for code, school in results.groupby("school_code", sort=True):
        mine = places[places["school_code"] == code].sort_values("year")
        low, reasons = _low_reasons(mine, shares[shares["school_code"] == code]
                                    .sort_values("year"), rules)
        centre, why = _centre_reason(mine, rules)
        adverse, context = _adverse(school)
        if low and centre:
            centre, why = False, "Не кандидат в ресурсные центры: школа выявлена как ШНОР"
        reasons += [text for text in (why, context) if text]
        rows.append({"school_code": code, "low_results": low,
                     "resource_centre_candidate": centre, "adverse_context": adverse,
                     "years": tuple(sorted(int(y) for y in school["year"].unique())),
                     "reasons": "; ".join(reasons)})
    frame = pd.DataFrame(rows, columns=list(IDENTIFY_COLUMNS))
    return frame.astype({"school_code": "str", "low_results": "bool",
                         "resource_centre_candidate": "bool", "adverse_context": "boolean"})
