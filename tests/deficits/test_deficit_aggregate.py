"""Deficit maps per school and municipality, and teacher summaries."""

from __future__ import annotations

import math

import pandas as pd

from deficits.aggregate import municipality_map, school_map, teacher_summary

# user: level per competency (school in TEACHERS below)
#   1 S1:   PK-01 deficit, PK-02 ok
#   2 S1:   PK-01 risk,    PK-02 insufficient
#   3 S1:   PK-01 deficit, PK-02 insufficient
#   4 None: PK-01 ok,      PK-02 deficit
#   5 "":   PK-01 deficit, PK-02 insufficient   (blank school code = no school)
#   6 S2:   PK-01 insufficient, PK-02 insufficient, PK-03 insufficient (nobody assessed)
#   8 (not in TEACHERS): PK-01 ok                (unknown teacher = no school)
#   7 S3 has no results at all.
LEVELS = pd.DataFrame(
    [
        (1, "PK-01", "deficit"), (1, "PK-02", "ok"),
        (2, "PK-01", "risk"), (2, "PK-02", "insufficient"),
        (3, "PK-01", "deficit"), (3, "PK-02", "insufficient"),
        (4, "PK-01", "ok"), (4, "PK-02", "deficit"),
        (5, "PK-01", "deficit"), (5, "PK-02", "insufficient"),
        (6, "PK-01", "insufficient"), (6, "PK-02", "insufficient"),
        (6, "PK-03", "insufficient"),
        (8, "PK-01", "ok"),
    ],
    columns=["user_id", "competency", "level"],
)
TEACHERS = pd.DataFrame(
    {"user_id": [1, 2, 3, 4, 5, 6, 7], "school_code": ["S1", "S1", "S1", None, " ", "S2", "S3"]}
)


def rows(frame: pd.DataFrame, keys: list[str]) -> dict[tuple[object, ...], tuple[object, ...]]:
    """Map key columns → (assessed, insufficient, deficit, risk, share) with NaN as 'nan'."""
    out = {}
    for r in frame.to_dict("records"):
        share = "nan" if math.isnan(r["deficit_share"]) else round(r["deficit_share"], 4)
        out[tuple(r[k] for k in keys)] = (r["assessed"], r["insufficient"], r["deficit"],
                                          r["risk"], share)
    return out


def test_school_map_counts_shares_and_keeps_teachers_without_school():
    result = school_map(LEVELS, TEACHERS)
    assert list(result.columns) == ["school_code", "competency", "assessed", "insufficient",
                                    "deficit", "risk", "deficit_share"]
    assert rows(result, ["school_code", "competency"]) == {
        # S1 PK-01: users 1 deficit, 2 risk, 3 deficit → 3 assessed, share 2/3
        ("S1", "PK-01"): (3, 0, 2, 1, 0.6667),
        # S1 PK-02: 1 ok; 2 and 3 insufficient → 1 assessed, share 0/1
        ("S1", "PK-02"): (1, 2, 0, 0, 0.0),
        ("S1", "PK-03"): (0, 0, 0, 0, "nan"),
        # S2: only user 6, insufficient everywhere → 0 assessed, share NaN
        ("S2", "PK-01"): (0, 1, 0, 0, "nan"),
        ("S2", "PK-02"): (0, 1, 0, 0, "nan"),
        ("S2", "PK-03"): (0, 1, 0, 0, "nan"),
        # S3: a school of the teachers list with no results shows up with zeros
        ("S3", "PK-01"): (0, 0, 0, 0, "nan"),
        ("S3", "PK-02"): (0, 0, 0, 0, "nan"),
        ("S3", "PK-03"): (0, 0, 0, 0, "nan"),
        # no school (None): users 4 (None), 5 (blank), 8 (unknown)
        # PK-01: 4 ok, 5 deficit, 8 ok → 3 assessed, share 1/3
        (None, "PK-01"): (3, 0, 1, 0, 0.3333),
        # PK-02: 4 deficit, 5 insufficient → 1 assessed, share 1/1
        (None, "PK-02"): (1, 1, 1, 0, 1.0),
        (None, "PK-03"): (0, 0, 0, 0, "nan"),
    }
    # None (no school) sorts last; codes are str and None, never "" or NaN.
    assert result["school_code"].tolist()[-3:] == [None, None, None]


def test_school_map_accepts_nan_school_codes():
    teachers = pd.DataFrame({"user_id": [1, 2], "school_code": [math.nan, "S1"]})
    levels = pd.DataFrame({"user_id": [1, 2], "competency": ["PK-01", "PK-01"],
                           "level": ["deficit", "ok"]})
    assert rows(school_map(levels, teachers), ["school_code", "competency"]) == {
        ("S1", "PK-01"): (1, 0, 0, 0, 0.0),
        (None, "PK-01"): (1, 0, 1, 0, 1.0),
    }


def test_municipality_map_per_competency():
    assert rows(municipality_map(LEVELS), ["competency"]) == {
        # PK-01: deficit 1,3,5; risk 2; ok 4,8; insufficient 6 → 6 assessed, share 3/6
        ("PK-01",): (6, 1, 3, 1, 0.5),
        # PK-02: ok 1; deficit 4; insufficient 2,3,5,6 → 2 assessed, share 1/2
        ("PK-02",): (2, 4, 1, 0, 0.5),
        # PK-03: zero assessed → NaN share, not 0 and not a division error
        ("PK-03",): (0, 1, 0, 0, "nan"),
    }


def test_empty_levels_give_empty_maps():
    empty = LEVELS.iloc[:0]
    assert school_map(empty, TEACHERS.iloc[:0]).empty
    assert municipality_map(empty).empty
    assert teacher_summary(empty).empty


def test_teacher_summary_lists_competencies_by_level():
    summary = teacher_summary(LEVELS).set_index("user_id")
    assert summary.loc[1, "deficits"] == ("PK-01",)
    assert summary.loc[2, "risks"] == ("PK-01",)
    assert summary.loc[2, "insufficient"] == ("PK-02",)
    assert summary.loc[4, "deficits"] == ("PK-02",)
    assert summary.loc[6, "insufficient"] == ("PK-01", "PK-02", "PK-03")
    assert summary.loc[8, "deficits"] == ()
    assert summary["deficit_count"].to_dict() == {1: 1, 2: 0, 3: 1, 4: 1, 5: 1, 6: 0, 8: 0}
    assert summary["risk_count"].to_dict() == {1: 0, 2: 1, 3: 0, 4: 0, 5: 0, 6: 0, 8: 0}
