"""Item-level fast path: per-question marks → levels → maps and risk group, for a region.

The rules of ``deficits.policy.score_with_policy`` (thresholds per framework and group,
minimum evidence, attempt policy over whole attempts) on per-question rows, then the results
of ``deficits.aggregate.school_map`` / ``municipality_map`` and ``deficits.risk.risk_group``;
computed with integer codes and ``np.bincount``: no Python loop per row, no string hashing
per row when competencies are categorical and user ids are dense.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from deficits.aggregate import MAP_COLUMNS
from deficits.attempts import check_grademethod
from deficits.fast import (
    DEFICIT,
    INSUFFICIENT,
    RISK,
    SOURCE_DEFAULT,
    SOURCE_FRAMEWORK,
    SOURCE_GROUP,
    CompetencyTable,
    competency_codes,
    level_codes,
    ratio,
    user_codes,
)
from deficits.item_attempts import ATTEMPT_COLUMNS, Sums, attempt_sums, sum_cells
from deficits.levels import LEVELS, validate_thresholds
from deficits.policy import ThresholdPolicy, competency_table, grademethod_for
from deficits.records import GRADE_HIGHEST, Thresholds
from deficits.risk import RiskRule

ITEM_COLUMNS = ("user_id", "question", "competency", "mark", "max_mark")
ITEM_LEVEL_COLUMNS = ("user_id", "competency", "score", "questions", "level")
RISK_ITEM_COLUMNS = ("user_id", "in_risk_group", "deficit_groups")
LEVEL_DTYPE = pd.CategoricalDtype(list(LEVELS))
SOURCE_DTYPE = pd.CategoricalDtype([SOURCE_DEFAULT, SOURCE_FRAMEWORK, SOURCE_GROUP])
__all__ = ["ATTEMPT_COLUMNS", "ITEM_COLUMNS", "ITEM_LEVEL_COLUMNS", "LEVEL_DTYPE",
           "RISK_ITEM_COLUMNS", "SOURCE_DTYPE", "aggregate_items", "risk_items", "score_items"]


def _tables(thresholds: Thresholds, min_questions: float | None,
            policy: ThresholdPolicy | None,
            competencies: pd.DataFrame | None) -> Callable[[np.ndarray], CompetencyTable]:
    """How to get the thresholds table for the sorted competency names; validates first."""
    if policy is None:
        validate_thresholds(thresholds)
        return lambda names: CompetencyTable.uniform(names, thresholds, min_questions)
    if min_questions is not None:
        raise ValueError("min_questions and a policy: give the minimum in the policy instead")
    return lambda names: competency_table(names, competencies, policy)


def _one_attempt(key: np.ndarray, users: int, comp: np.ndarray, width: int,
                 items: pd.DataFrame) -> Sums:
    """Sums over all of a user's rows, as one attempt. ``key`` (user codes) is overwritten."""
    key *= width
    key += comp
    count, grade, maxgrade = sum_cells(key, users * width, items)
    del key
    cell = np.flatnonzero(count)
    return Sums(cell, count[cell].astype(np.int32), grade[cell], maxgrade[cell])


def score_items(items: pd.DataFrame, thresholds: Thresholds = Thresholds(),  # noqa: B008
                min_questions: float | None = None, *, policy: ThresholdPolicy | None = None,
                competencies: pd.DataFrame | None = None, attempt_policy: str | None = None,
                quiz_grademethod: int = GRADE_HIGHEST) -> pd.DataFrame:
    """Score per-question marks: per user and competency, sum(mark) / sum(max_mark).

    Rows with a missing mark (an ungraded question) are not counted. The score is clipped
    to 0..1 and rounded to 9 decimals; a competency with fewer questions than its minimum,
    or a max_mark sum of 0 (score NaN), is insufficient. The same rules, and the same
    results, as summing the marks per (user, attempt, competency) and calling
    ``deficits.policy.score_with_policy`` (up to the order of floating-point sums).

    Args:
        items: One row per answered question, columns ``ITEM_COLUMNS`` (``question`` is not
            read), plus ``ATTEMPT_COLUMNS`` with an attempt policy; ``competency`` best as
            a categorical, marks best as float32.
        thresholds: Level thresholds for every competency when no policy is given.
        min_questions: Overrides ``thresholds.min_questions`` when given (not with a policy).
        policy: Thresholds per framework and group (group > framework > default).
        competencies: competency, framework, group for the policy (first row wins; a
            competency missing here gets the default thresholds).
        attempt_policy: None (every row of a user is one attempt), or "first", "last",
            "best", "average" or "quiz" over whole attempts — attempt_no numbers a user's
            attempts, and every row of an attempt carries its attempt_id and sumgrades.
        quiz_grademethod: The quiz's grading method, used for the "quiz" attempt policy.

    Returns:
        Columns ``ITEM_LEVEL_COLUMNS`` sorted by user_id and competency: user_id in the
        input's dtype, competency categorical (sorted names), score float64, questions
        int32 (float64 under "average": the mean over the attempts with that competency),
        level categorical over ``deficits.scoring.LEVELS``; then ``attempt_id`` (int64, -1
        when averaged) with an attempt policy, ``threshold_source`` (``SOURCE_DTYPE``) with
        a policy.

    Raises:
        ValueError: For invalid thresholds, an unknown attempt policy, a row without a
            competency, a missing attempt column or inconsistent attempt rows.
    """
    table_for = _tables(thresholds, min_questions, policy, competencies)
    method = None if attempt_policy is None else grademethod_for(attempt_policy,
                                                                 quiz_grademethod)
    if method is not None:
        check_grademethod(method)
    if items["mark"].hasnans:
        items = items[items["mark"].notna()]
    comp, names = competency_codes(items["competency"])
    user_ids = items["user_id"].to_numpy()
    key, users, uniques = user_codes(user_ids)
    width = len(names)
    if method is None:
        sums = _one_attempt(key, users, comp, width, items)
    else:
        sums = attempt_sums(key, users, comp, width, items=items, grademethod=method)
    del key, comp
    return _levels_frame(sums, names, table_for(names), user_ids=user_ids, uniques=uniques,
                         with_source=policy is not None)


def _levels_frame(sums: Sums, names: np.ndarray, table: CompetencyTable, *,
                  user_ids: np.ndarray, uniques: np.ndarray | None,
                  with_source: bool) -> pd.DataFrame:
    """The levels frame of ``score_items`` from the sums per user × competency cell."""
    user_code, comp = np.divmod(sums.cell, max(len(names), 1))
    comp = comp.astype(np.int16 if len(names) < np.iinfo(np.int16).max else np.intp)
    score = ratio(sums.grade, sums.maxgrade)
    ids = (user_code + int(user_ids.min())) if uniques is None else uniques[user_code]
    out = pd.DataFrame({
        "user_id": ids.astype(user_ids.dtype, copy=False),
        "competency": pd.Categorical.from_codes(comp, categories=pd.Index(names, dtype="str")),
        "score": score,
        "questions": sums.questions,
        "level": pd.Categorical.from_codes(level_codes(score, sums.questions, comp, table),
                                           dtype=LEVEL_DTYPE),
    })
    if sums.attempt_id is not None:
        out["attempt_id"] = sums.attempt_id
    if with_source:
        sources = pd.Index(SOURCE_DTYPE.categories).get_indexer(table.source).astype(np.int8)
        out["threshold_source"] = pd.Categorical.from_codes(sources[comp], dtype=SOURCE_DTYPE)
    return out


def _schools(teachers: pd.DataFrame) -> tuple[pd.Index, np.ndarray, list[str]]:
    """Teachers' user ids (first row per user), their school index, the sorted codes.

    A missing or blank school code gets the index ``len(codes)``: the "no school" key.
    """
    first = teachers[["user_id", "school_code"]].drop_duplicates("user_id")
    text = first["school_code"].astype("string").str.strip()
    codes, uniques = pd.factorize(text.mask(text == ""), sort=True)
    codes = codes.astype(np.intp, copy=False)
    codes[codes < 0] = len(uniques)
    return pd.Index(first["user_id"]), codes, [str(u) for u in uniques]


def _level_index(column: pd.Series) -> np.ndarray:
    """Codes (intp) of a level column in ``LEVELS`` order, -1 for anything else."""
    if column.dtype == LEVEL_DTYPE:
        return column.cat.codes.to_numpy().astype(np.intp)
    return pd.Index(LEVELS).get_indexer(column).astype(np.intp, copy=False)


def _counts_frame(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Map columns from counts per cell × level code (deficit, risk, ok, insufficient)."""
    assessed = counts[:, :INSUFFICIENT].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(assessed > 0, counts[:, DEFICIT] / np.maximum(assessed, 1), np.nan)
    columns = dict(zip(MAP_COLUMNS[:-1], (assessed, counts[:, INSUFFICIENT],
                                          counts[:, DEFICIT], counts[:, RISK]), strict=True))
    out = {name: values.astype(np.int64) for name, values in columns.items()}
    out["deficit_share"] = share.astype(np.float64)
    return out


def aggregate_items(levels: pd.DataFrame,
                    teachers: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deficit maps per school and per municipality from a levels frame, vectorised.

    The same frames (values, columns, order) as ``deficits.aggregate.school_map`` and
    ``deficits.aggregate.municipality_map``: teachers without a school, and scored users
    missing from ``teachers``, are kept under school_code None (last); every school gets a
    row for every competency in ``levels``.

    Args:
        levels: From ``score_items`` or ``deficits.scoring.score`` (user_id, competency,
            level).
        teachers: user_id and school_code (first row per user wins).

    Returns:
        ``(school_map, municipality_map)``.

    Raises:
        ValueError: For a level outside ``deficits.scoring.LEVELS``.
    """
    users, school_of_user, codes = _schools(teachers)
    position = users.get_indexer(levels["user_id"])
    no_school = len(codes)
    school = np.where(position >= 0, school_of_user[position], no_school)
    del position
    n_schools = no_school + int(bool((school == no_school).any()
                                     or (school_of_user == no_school).any()))
    comp, names = competency_codes(levels["competency"])
    seen = np.bincount(comp, minlength=len(names)) > 0
    if not seen.all():
        comp, names = (np.cumsum(seen) - 1)[comp], names[seen]
    level = _level_index(levels["level"])
    if len(level) and level.min() < 0:
        raise ValueError(f"unknown level: expected one of {LEVELS}")
    width = len(names)
    key = school * width
    key += comp
    key *= len(LEVELS)
    key += level
    counts = np.bincount(key, minlength=n_schools * width * len(LEVELS))
    counts = counts.reshape(n_schools * width, len(LEVELS))
    school_codes = np.asarray([*codes, None][:n_schools], dtype=object)
    school_map = pd.DataFrame({
        "school_code": pd.Series(np.repeat(school_codes, width), dtype="object"),
        "competency": pd.Series(np.tile(names, n_schools), dtype="str"),
        **_counts_frame(counts),
    })
    by_competency = counts.reshape(n_schools, width, len(LEVELS)).sum(axis=0)
    municipality = pd.DataFrame({"competency": pd.Series(names, dtype="str"),
                                 **_counts_frame(by_competency)})
    return school_map, municipality


def risk_items(levels: pd.DataFrame, competencies: pd.DataFrame,
               rule: RiskRule = RiskRule()) -> pd.DataFrame:  # noqa: B008 - frozen
    """The risk group of ``deficits.risk.risk_group`` (same rule, same members), vectorised.

    No reasons are written (``risk_group`` gives them for the teachers shown); a competency
    missing from ``competencies``, or without a group, counts under the group "".

    Args:
        levels: From ``score_items`` (user_id, competency, level).
        competencies: competency, group (first row per competency wins).
        rule: The risk-group rule.

    Returns:
        ``RISK_ITEM_COLUMNS``: one row per user of ``levels`` sorted by user_id, with
        in_risk_group (bool) and deficit_groups (int64: groups with a deficit).
    """
    comp, names = competency_codes(levels["competency"])
    table = competencies[["competency", "group"]].drop_duplicates("competency")
    lookup = dict(zip(table["competency"].astype("str"),
                      table["group"].where(table["group"].notna(), "").astype("str"),
                      strict=True))
    group_of, groups = pd.factorize(np.asarray([lookup.get(str(n), "") for n in names],
                                               dtype=object))
    user_ids = levels["user_id"].to_numpy()
    key, users, uniques = user_codes(user_ids)
    present = np.flatnonzero(np.bincount(key, minlength=users))
    deficit = _level_index(levels["level"]) == DEFICIT
    cell = key[deficit] * len(groups) + group_of[comp[deficit]]
    has = np.bincount(cell, minlength=users * len(groups))[:users * len(groups)] > 0
    has = has.reshape(users, len(groups))[present]
    count = has.sum(axis=1)
    always = has[:, np.isin(np.asarray(groups, dtype=object), list(rule.groups_always))]
    ids = (present + int(user_ids.min())) if uniques is None else uniques[present]
    return pd.DataFrame({
        "user_id": ids.astype(user_ids.dtype, copy=False),
        "in_risk_group": (count >= rule.min_groups_with_deficit) | always.any(axis=1),
        "deficit_groups": count.astype(np.int64),
    })
