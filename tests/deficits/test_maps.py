"""Deficit maps by school type and over time; schools ranked by need."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from deficits.aggregate import school_map
from deficits.maps import (
    RANK_COLUMNS,
    TIME_MAP_COLUMNS,
    TYPE_MAP_COLUMNS,
    map_over_time,
    rank_schools,
    school_type_map,
    school_types,
)

T, F = True, False


def nan_as_str(value: object) -> object:
    return "nan" if isinstance(value, float) and math.isnan(value) else value


@pytest.mark.parametrize(
    ("resource_centre", "low_results", "adverse_context", "expected"),
    [
        (T, T, T, "resource_centre"),
        (T, F, T, "resource_centre"),
        (F, T, T, "low_results"),
        (None, T, None, "low_results"),  # missing flags are False
        (F, F, T, "adverse_context"),
        (F, F, F, "other"),
        (None, None, None, "other"),
    ],
)
def test_school_type_precedence(resource_centre: object, low_results: object,
                                adverse_context: object, expected: str):
    schools = pd.DataFrame({"school_code": [" S7 "], "low_results": [low_results],
                            "adverse_context": [adverse_context],
                            "resource_centre": [resource_centre]})
    assert school_types(schools).to_dict("records") == [
        {"school_code": "S7", "school_type": expected}
    ]


SCHOOLS = pd.DataFrame(
    [("S1", T, F, F), ("S2", T, T, F), ("S3", F, T, F), ("S4", T, F, T), ("S5", F, F, F)],
    columns=["school_code", "low_results", "adverse_context", "resource_centre"],
)
# S1 low; S2 low+adverse → low; S3 adverse; S4 low+rc → resource_centre; S5 other.
# user 6 has no school, user 7's school S9 is not in SCHOOLS: both "other".
TEACHERS = pd.DataFrame({"user_id": [1, 2, 3, 4, 5, 6, 7],
                         "school_code": ["S1", "S2", "S3", "S4", "S5", None, "S9"]})
LEVELS = pd.DataFrame(
    [(1, "PK-01", "deficit"), (2, "PK-01", "ok"), (3, "PK-01", "deficit"), (4, "PK-01", "ok"),
     (5, "PK-01", "deficit"), (6, "PK-01", "deficit"), (7, "PK-01", "insufficient"),
     (1, "PK-02", "risk"), (2, "PK-02", "deficit"), (3, "PK-02", "insufficient")],
    columns=["user_id", "competency", "level"],
)


def test_school_type_map_counts_by_type_in_fixed_order():
    result = school_type_map(LEVELS, TEACHERS, SCHOOLS)
    assert tuple(result.columns) == TYPE_MAP_COLUMNS
    got = [tuple(nan_as_str(v) for v in r) for r in result.itertuples(index=False)]
    assert got == [
        # low_results = S1 + S2. PK-01: 1 deficit, 2 ok → 1/2. PK-02: 1 risk, 2 deficit → 1/2
        ("low_results", "PK-01", 2, 1, 0.5),
        ("low_results", "PK-02", 2, 1, 0.5),
        # adverse_context = S3 only (S2 went to low_results). PK-01 deficit → 1/1;
        # PK-02 insufficient → nobody assessed
        ("adverse_context", "PK-01", 1, 1, 1.0),
        ("adverse_context", "PK-02", 0, 0, "nan"),
        # resource_centre = S4 (also low_results, but rc wins). PK-01 ok → 0/1
        ("resource_centre", "PK-01", 1, 0, 0.0),
        ("resource_centre", "PK-02", 0, 0, "nan"),
        # other = S5 (5 deficit) + no school (6 deficit) + unknown S9 (7 insufficient) → 2/2
        ("other", "PK-01", 2, 2, 1.0),
        ("other", "PK-02", 0, 0, "nan"),
    ]


def test_map_over_time_keeps_period_order_and_each_periods_competencies():
    teachers = pd.DataFrame({"user_id": [1, 2, 3], "school_code": ["S1", "S1", "S2"]})
    spring = pd.DataFrame({"user_id": [1, 2, 3, 1], "competency": ["PK-01"] * 3 + ["PK-02"],
                           "level": ["ok", "deficit", "ok", "deficit"]})
    autumn = pd.DataFrame({"user_id": [1, 2, 3], "competency": ["PK-01"] * 3,
                           "level": ["deficit", "deficit", "ok"]})
    # Given later period first: the mapping's order is kept, not sorted.
    result = map_over_time({"2025-05": spring, "2024-09": autumn}, teachers)
    assert tuple(result.columns) == TIME_MAP_COLUMNS
    got = [tuple(nan_as_str(v) for v in r) for r in result.itertuples(index=False)]
    assert got == [
        # spring S1 PK-01: 1 ok, 2 deficit → 1/2; S2: 3 ok → 0/1
        ("2025-05", "S1", "PK-01", 2, 1, 0.5),
        ("2025-05", "S1", "PK-02", 1, 1, 1.0),  # only user 1, deficit
        ("2025-05", "S2", "PK-01", 1, 0, 0.0),
        ("2025-05", "S2", "PK-02", 0, 0, "nan"),
        # autumn S1 PK-01: both deficit → 2/2; PK-02 not in autumn at all
        ("2024-09", "S1", "PK-01", 2, 2, 1.0),
        ("2024-09", "S2", "PK-01", 1, 0, 0.0),
    ]


def test_map_over_time_with_no_periods():
    result = map_over_time({}, pd.DataFrame({"user_id": [1], "school_code": ["S1"]}))
    assert tuple(result.columns) == TIME_MAP_COLUMNS and result.empty


def smap(rows: list[tuple[object, str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["school_code", "competency", "assessed",
                                       "deficit_share"])


NAN = math.nan
# (school, competency, assessed, deficit_share)
SCHOOL_MAP = smap([
    ("S1", "PK-01", 2, 0.5), ("S1", "PK-02", 2, 1.0),  # mean 0.75, 2 teachers
    ("S2", "PK-01", 4, 1.0), ("S2", "PK-02", 4, 0.5),  # mean 0.75, 4 teachers
    ("S3", "PK-01", 2, 0.75), ("S3", "PK-02", 2, 0.75),  # mean 0.75, 2 teachers
    ("S0", "PK-01", 5, 0.2), ("S0", "PK-02", 0, NAN),  # mean over assessed only: 0.2
    ("S5", "PK-01", 0, NAN), ("S5", "PK-02", 0, NAN),  # nobody assessed: last
    ("S4", "PK-01", 0, NAN), ("S4", "PK-02", 0, NAN),  # nobody assessed: last, S4 < S5
    (None, "PK-01", 3, 1.0),  # "no school" is not ranked
])


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        # 0.75 three ways: S2 first (4 teachers), then S1 and S3 (2 each) by code.
        (None, [(1, "S2", 0.75, 0.75, 4), (2, "S1", 0.75, 0.75, 2), (3, "S3", 0.75, 0.75, 2),
                (4, "S0", 0.2, 0.2, 5), (5, "S4", "nan", "nan", 0),
                (6, "S5", "nan", "nan", 0)]),
        # PK-01 weight 3, PK-02 (unlisted) 1:
        #   S2 (1.0*3 + 0.5)/4 = 0.875; S3 (0.75*3 + 0.75)/4 = 0.75;
        #   S1 (0.5*3 + 1.0)/4 = 0.625; S0 (0.2*3)/3 = 0.2 (PK-02 not assessed)
        ({"PK-01": 3.0}, [(1, "S2", 0.875, 0.75, 4), (2, "S3", 0.75, 0.75, 2),
                          (3, "S1", 0.625, 0.75, 2), (4, "S0", 0.2, 0.2, 5),
                          (5, "S4", "nan", "nan", 0), (6, "S5", "nan", "nan", 0)]),
    ],
)
def test_rank_schools_by_need_with_ties(weights: dict[str, float] | None,
                                        expected: list[tuple[object, ...]]):
    result = rank_schools(SCHOOL_MAP, weights)
    assert tuple(result.columns) == RANK_COLUMNS
    got = [tuple(nan_as_str(v) for v in r) for r in result.itertuples(index=False)]
    assert got == expected


def test_rank_ties_survive_float_noise():
    # S6: (0.1 + 0.2) / 2 = 0.15000000000000002 in floats; S7: 0.15 exactly but more
    # teachers. Rounded to 9 decimals they tie, so S7 (more teachers) ranks first.
    frame = smap([("S6", "PK-01", 2, 0.1), ("S6", "PK-02", 2, 0.2),
                  ("S7", "PK-01", 3, 0.15), ("S7", "PK-02", 3, 0.15)])
    assert rank_schools(frame)["school_code"].tolist() == ["S7", "S6"]


@pytest.mark.parametrize("weight", [-1.0, math.nan, math.inf])
def test_rank_refuses_bad_weights(weight: float):
    with pytest.raises(ValueError, match="weights must be finite and 0 or more"):
        rank_schools(SCHOOL_MAP, {"PK-01": weight})


def test_rank_schools_takes_school_map_output():
    # From the type-map fixtures: S1 PK-01 deficit 1/1, PK-02 risk 0/1 → 0.5;
    # S2 PK-01 ok 0/1, PK-02 deficit 1/1 → 0.5; S3 PK-01 1/1, PK-02 not assessed → 1.0;
    # S4 0/1 → 0.0; S5 1/1 → 1.0; S9 only insufficient → NaN; no school left out.
    # Ties: S3 and S5 (1.0, 1 teacher) by code; S1 and S2 (0.5, 1 teacher) by code.
    result = rank_schools(school_map(LEVELS, TEACHERS))
    assert result["school_code"].tolist() == ["S3", "S5", "S1", "S2", "S4", "S9"]
    assert [nan_as_str(v) for v in result["need_score"]] == [1.0, 1.0, 0.5, 0.5, 0.0, "nan"]
