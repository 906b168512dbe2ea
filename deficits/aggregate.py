"""Deficit maps per school and per municipality, and each teacher's summary of levels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from deficits.levels import LEVEL_DEFICIT, LEVEL_INSUFFICIENT, LEVEL_RISK

MAP_COLUMNS = ("assessed", "insufficient", "deficit", "risk", "deficit_share")
SUMMARY_COLUMNS = (
    "user_id", "deficits", "risks", "insufficient", "deficit_count", "risk_count",
)


def _counts(levels: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Count levels per ``keys``: assessed, insufficient, deficit, risk."""
    level = levels["level"]
    flags = pd.DataFrame(
        {
            "assessed": (level != LEVEL_INSUFFICIENT).astype("int64"),
            "insufficient": (level == LEVEL_INSUFFICIENT).astype("int64"),
            "deficit": (level == LEVEL_DEFICIT).astype("int64"),
            "risk": (level == LEVEL_RISK).astype("int64"),
        },
        index=levels.index,
    )
    flags[keys] = levels[keys]
    return flags.groupby(keys, dropna=False, sort=False).sum().reset_index()


def _with_share(counts: pd.DataFrame) -> pd.DataFrame:
    """Add deficit_share = deficit / assessed, NaN where nobody was assessed."""
    assessed = counts["assessed"].where(counts["assessed"] > 0)
    counts["deficit_share"] = (counts["deficit"] / assessed).astype("float64")
    return counts


def _school_code(value: object) -> str | None:
    """A school code as str, or None (the "no school" key) when missing or blank."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value).strip() or None


def _school_codes(codes: pd.Series) -> pd.Series:
    """School codes as an object series of str, with empty or missing codes as None."""
    return pd.Series([_school_code(c) for c in codes], index=codes.index, dtype="object")


def school_map(levels: pd.DataFrame, teachers: pd.DataFrame) -> pd.DataFrame:
    """Deficit map: per school and competency, how many were assessed and in deficit or risk.

    Teachers without a school (``school_code`` None, NaN or blank), and scored users missing
    from ``teachers``, are kept under ``school_code`` None — shown as "no school", never
    dropped. Every school in ``teachers`` gets a row for every competency in ``levels``, so
    a school whose teachers were not assessed shows 0 assessed and a NaN share.

    Args:
        levels: A frame from ``deficits.policy.score_with_policy`` (user_id, competency, level).
        teachers: A frame with user_id and school_code (first row per user wins).

    Returns:
        Columns school_code, competency, assessed, insufficient, deficit, risk (ints),
        deficit_share (float, NaN when assessed is 0); sorted by school_code (None last)
        and competency.
    """
    schools = teachers[["user_id", "school_code"]].drop_duplicates("user_id")
    scored = levels[["user_id", "competency", "level"]].merge(schools, on="user_id", how="left")
    scored["school_code"] = _school_codes(scored["school_code"])
    counts = _counts(scored, ["school_code", "competency"])
    codes = _sorted_codes(_school_codes(schools["school_code"]), scored["school_code"])
    competencies = pd.Series(sorted(levels["competency"].unique()), dtype="str")
    grid = pd.DataFrame({"school_code": pd.Series(codes, dtype="object")}).merge(
        pd.DataFrame({"competency": competencies}), how="cross"
    )
    out = grid.merge(counts, on=["school_code", "competency"], how="left")
    count_columns = list(MAP_COLUMNS[:-1])
    out[count_columns] = out[count_columns].fillna(0).astype("int64")
    return _with_share(out)


def _sorted_codes(*codes: pd.Series) -> list[str | None]:
    """Distinct school codes of all series, sorted, with None (no school) last."""
    seen: set[str] = set()
    has_none = False
    for series in codes:
        for code in series:
            if code is None:
                has_none = True
            else:
                seen.add(str(code))
    return [*sorted(seen), *([None] if has_none else [])]


def municipality_map(levels: pd.DataFrame) -> pd.DataFrame:
    """Deficit map per competency over all scored teachers.

    Args:
        levels: A frame from ``deficits.policy.score_with_policy`` (filter it to one municipality).

    Returns:
        Columns competency, assessed, insufficient, deficit, risk (ints), deficit_share
        (float, NaN when assessed is 0); sorted by competency.
    """
    counts = _counts(levels, ["competency"]).sort_values("competency").reset_index(drop=True)
    return _with_share(counts)


def teacher_summary(levels: pd.DataFrame) -> pd.DataFrame:
    """Each teacher's competencies by level.

    Args:
        levels: A frame from ``deficits.policy.score_with_policy``.

    Returns:
        One row per user_id with ``deficits``, ``risks`` and ``insufficient`` as tuples of
        competency idnumbers (sorted), plus ``deficit_count`` and ``risk_count``; sorted by
        user_id.
    """
    users = np.sort(levels["user_id"].unique())
    ordered = levels.sort_values(["user_id", "competency"], kind="stable")
    out = pd.DataFrame({"user_id": pd.Series(users, dtype="int64")})
    for column, level in (
        ("deficits", LEVEL_DEFICIT), ("risks", LEVEL_RISK), ("insufficient", LEVEL_INSUFFICIENT)
    ):
        rows = ordered[ordered["level"] == level]
        by_user: dict[int, list[str]] = {}
        for user, competency in zip(rows["user_id"].tolist(), rows["competency"].tolist(),
                                    strict=True):
            by_user.setdefault(user, []).append(competency)
        out[column] = pd.Series([tuple(by_user.get(u, ())) for u in users.tolist()],
                                dtype="object")
    out["deficit_count"] = out["deficits"].map(len).astype("int64")
    out["risk_count"] = out["risks"].map(len).astype("int64")
    return out
