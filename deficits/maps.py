"""Deficit maps by school type and over time, and the ranking of schools by need."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from deficits.aggregate import school_map

TYPE_RESOURCE_CENTRE = "resource_centre"
TYPE_LOW_RESULTS = "low_results"
TYPE_ADVERSE_CONTEXT = "adverse_context"
TYPE_OTHER = "other"
# Output order of the type map. A school with several flags gets the first of
# TYPE_PRECEDENCE: resource_centre > low_results > adverse_context.
SCHOOL_TYPES = (TYPE_LOW_RESULTS, TYPE_ADVERSE_CONTEXT, TYPE_RESOURCE_CENTRE, TYPE_OTHER)
TYPE_PRECEDENCE = (TYPE_RESOURCE_CENTRE, TYPE_LOW_RESULTS, TYPE_ADVERSE_CONTEXT)

TYPE_MAP_COLUMNS = ("school_type", "competency", "assessed", "deficit", "deficit_share")
TIME_MAP_COLUMNS = ("period", "school_code", "competency", "assessed", "deficit",
                    "deficit_share")
RANK_COLUMNS = ("rank", "school_code", "need_score", "deficit_share_mean", "teachers_assessed")

_DECIMALS = 9  # need scores are compared after rounding, so float noise never breaks a tie


def _flag(column: pd.Series) -> np.ndarray:
    """A school flag as a bool array, missing values as False."""
    flags: np.ndarray = column.where(column.notna(), False).astype("bool").to_numpy()
    return flags


def school_types(schools: pd.DataFrame) -> pd.DataFrame:
    """school_code → school_type, by precedence resource_centre > low_results > adverse_context.

    Args:
        schools: school_code, low_results, adverse_context, resource_centre (flags; missing
            means False). Codes are stripped; the first row per code wins.

    Returns:
        Columns school_code (str), school_type.
    """
    table = schools.assign(school_code=schools["school_code"].astype("str").str.strip())
    table = table.drop_duplicates("school_code")
    school_type = np.select(
        [_flag(table[flag]) for flag in TYPE_PRECEDENCE], list(TYPE_PRECEDENCE), TYPE_OTHER
    )
    return pd.DataFrame({"school_code": table["school_code"].to_numpy(),
                         "school_type": pd.Series(school_type, dtype="str").to_numpy()})


def _share(frame: pd.DataFrame) -> pd.Series:
    """deficit / assessed, NaN where nobody was assessed."""
    return (frame["deficit"] / frame["assessed"].where(frame["assessed"] > 0)).astype("float64")


def school_type_map(levels: pd.DataFrame, teachers: pd.DataFrame,
                    schools: pd.DataFrame) -> pd.DataFrame:
    """Deficit map per school type and competency.

    A school with several flags counts once, under the first of resource_centre >
    low_results > adverse_context. Teachers without a school, or of a school missing from
    ``schools``, count under "other". Every type gets a row for every competency of
    ``levels`` (0 assessed and a NaN share when none).

    Args:
        levels: A levels frame (user_id, competency, level).
        teachers: user_id, school_code.
        schools: school_code, low_results, adverse_context, resource_centre.

    Returns:
        ``TYPE_MAP_COLUMNS`` sorted by type (in ``SCHOOL_TYPES`` order) and competency.
    """
    return school_type_map_of(school_map(levels, teachers), schools)


def school_type_map_of(by_school: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """``school_type_map`` of a school map already made (``deficits.aggregate.school_map``):
    the same rows, as the school map holds every competency of the levels.

    Args:
        by_school: A frame from ``deficits.aggregate.school_map``.
        schools: school_code, low_results, adverse_context, resource_centre.

    Returns:
        ``TYPE_MAP_COLUMNS`` sorted by type (in ``SCHOOL_TYPES`` order) and competency.
    """
    competencies = sorted(by_school["competency"].unique())
    by_school = by_school.merge(school_types(schools), on="school_code", how="left")
    by_school["school_type"] = by_school["school_type"].fillna(TYPE_OTHER)
    counts = by_school.groupby(["school_type", "competency"], as_index=False)[
        ["assessed", "deficit"]].sum()
    grid = pd.DataFrame({"school_type": pd.Series(SCHOOL_TYPES, dtype="str")}).merge(
        pd.DataFrame({"competency": pd.Series(competencies, dtype="str")}), how="cross")
    out = grid.merge(counts, on=["school_type", "competency"], how="left")
    out[["assessed", "deficit"]] = out[["assessed", "deficit"]].fillna(0).astype("int64")
    out["deficit_share"] = _share(out)
    return out[list(TYPE_MAP_COLUMNS)]


def map_over_time(levels_by_period: Mapping[str, pd.DataFrame],
                  teachers: pd.DataFrame) -> pd.DataFrame:
    """School deficit maps of several periods stacked (``deficits.aggregate.school_map``).

    One ``teachers`` table serves every period (a teacher's current school). Periods keep
    the mapping's order; within one, rows are in ``school_map`` order (no school last).

    Args:
        levels_by_period: Period label (e.g. "2024-09") → levels frame.
        teachers: user_id, school_code.

    Returns:
        ``TIME_MAP_COLUMNS``.
    """
    return stack_maps({period: school_map(levels, teachers)
                       for period, levels in levels_by_period.items()})


def stack_maps(maps_by_period: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """``map_over_time`` of school maps already made, one per period (in the mapping's order).

    Args:
        maps_by_period: Period label → a frame from ``deficits.aggregate.school_map``.

    Returns:
        ``TIME_MAP_COLUMNS``.
    """
    frames = []
    for period, one in maps_by_period.items():
        one = one.copy()
        one.insert(0, "period", str(period))
        frames.append(one[list(TIME_MAP_COLUMNS)])
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TIME_MAP_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def _weights(competencies: pd.Series, weights: Mapping[str, float] | None) -> pd.Series:
    """Weight per row: ``weights`` per competency, 1.0 for a competency not listed."""
    if weights is None:
        return pd.Series(1.0, index=competencies.index)
    bad = {k: w for k, w in weights.items() if not (w >= 0 and math.isfinite(w))}
    if bad:
        raise ValueError(f"weights must be finite and 0 or more, got {bad!r}")
    return competencies.map(dict(weights)).fillna(1.0).astype("float64")


def rank_schools(school_map_frame: pd.DataFrame,
                 weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Rank schools by need: highest need first.

    ``need_score`` is the mean deficit share over the competencies where someone was
    assessed, weighted by ``weights`` (competency → weight, unlisted 1.0);
    ``deficit_share_mean`` is the unweighted mean; ``teachers_assessed`` is the most
    teachers assessed in any one competency. Ties go to more teachers assessed, then to
    the lower school code. Schools with no assessed teacher (need NaN) come last, by code.
    The "no school" row (school_code None) is not a school and is left out.

    Args:
        school_map_frame: A frame from ``deficits.aggregate.school_map``.
        weights: Optional competency weights.

    Returns:
        ``RANK_COLUMNS`` with rank 1..n.

    Raises:
        ValueError: For a negative or non-finite weight.
    """
    frame = school_map_frame[school_map_frame["school_code"].notna()].copy()
    frame["weight"] = _weights(frame["competency"], weights)
    counted = frame["deficit_share"].notna()
    frame["weighted"] = (frame["deficit_share"] * frame["weight"]).where(counted)
    frame["counted_weight"] = frame["weight"].where(counted)
    out = frame.groupby("school_code", as_index=False).agg(
        weighted=("weighted", "sum"), counted_weight=("counted_weight", "sum"),
        deficit_share_mean=("deficit_share", "mean"), teachers_assessed=("assessed", "max"),
    )
    need = out["weighted"] / out["counted_weight"].where(out["counted_weight"] > 0)
    out["need_score"] = need.round(_DECIMALS).astype("float64")
    out["teachers_assessed"] = out["teachers_assessed"].astype("int64")
    out["school_code"] = out["school_code"].astype("str")
    out = out.sort_values(["need_score", "teachers_assessed", "school_code"],
                          ascending=[False, False, True], na_position="last", kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype="int64"))
    return out[list(RANK_COLUMNS)].reset_index(drop=True)
