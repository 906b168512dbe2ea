"""Identify school groups from national assessment results: low-results schools, resource-
centre candidates, adverse context, by documented, configurable rules.

The results come from ``deficits.results_file`` (re-exported here: ``parse_results``,
``RESULT_COLUMNS``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from deficits.results_file import RESULT_COLUMNS, parse_results

__all__ = ["IDENTIFY_COLUMNS", "RESULT_COLUMNS", "IdentificationRules", "identify",
           "parse_results"]

IDENTIFY_COLUMNS = ("school_code", "low_results", "resource_centre_candidate",
                    "adverse_context", "years", "reasons")
_EPS = 1e-9


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
