"""Item-level fast path: per-question marks → levels → deficit maps, for a region at scale.

Same results as ``deficits.scoring.score`` (one attempt, the questions' marks summed per
competency) followed by ``deficits.aggregate.school_map`` / ``municipality_map``, computed
with integer codes and ``np.bincount``: no Python loop per row, no string hashing per row
when competencies are categorical and user ids are dense, one index array per pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from deficits.aggregate import MAP_COLUMNS
from deficits.records import Thresholds
from deficits.scoring import LEVELS, validate_thresholds

ITEM_COLUMNS = ("user_id", "question", "competency", "mark", "max_mark")
ITEM_LEVEL_COLUMNS = ("user_id", "competency", "score", "questions", "level")
LEVEL_DTYPE = pd.CategoricalDtype(list(LEVELS))
_DEFICIT, _RISK, _OK, _INSUFFICIENT = range(4)  # codes of LEVELS, in its order
_DECIMALS = 9  # as deficits.scoring: 7/10 and 2.1/3 both count as 0.7


def _competency_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (intp) of a competency column, numbered in sorted order, and the sorted names.

    Raises:
        ValueError: When a competency is missing (an unmapped question is never scored).
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        names = np.asarray(column.cat.categories.astype(str), dtype=object)
        order = np.argsort(names, kind="stable")
        rank = np.empty(len(names), dtype=np.intp)
        rank[order] = np.arange(len(names))
        names = names[order]
        mapped = rank[codes]
    else:
        mapped, uniques = pd.factorize(column, sort=True)
        codes = mapped
        names = np.asarray(uniques, dtype=object)
    if len(codes) and codes.min() < 0:
        raise ValueError("rows without a competency: map every question before scoring")
    return mapped.astype(np.intp, copy=False), names


def _user_codes(user_id: np.ndarray) -> tuple[np.ndarray, int, np.ndarray | None]:
    """Sorted user codes (a fresh intp array), their number, and the ids (None: code + min).

    Dense ids (span no more than an eighth of the rows) are indexed directly, without hashing.
    """
    if not len(user_id):
        return np.empty(0, dtype=np.intp), 0, np.empty(0, dtype=np.int64)
    low, high = int(user_id.min()), int(user_id.max())
    span = high - low + 1
    if span <= max(len(user_id) // 8, 1 << 16):
        codes = user_id.astype(np.intp)  # a copy, used in place as the group key
        codes -= low
        return codes, span, None
    codes, uniques = pd.factorize(user_id, sort=True)
    return codes.astype(np.intp, copy=False), len(uniques), np.asarray(uniques)


def _level_codes(score: np.ndarray, questions: np.ndarray, thresholds: Thresholds,
                 min_questions: float) -> np.ndarray:
    """Level code per row: insufficient evidence first, then deficit, risk, ok."""
    codes = np.full(len(score), _OK, dtype=np.int8)
    codes[score < thresholds.risk_below] = _RISK
    codes[score < thresholds.deficit_below] = _DEFICIT
    codes[np.isnan(score) | (questions < min_questions)] = _INSUFFICIENT
    return codes


def score_items(items: pd.DataFrame, thresholds: Thresholds = Thresholds(),  # noqa: B008
                min_questions: float | None = None) -> pd.DataFrame:
    """Score per-question marks: per user and competency, sum(mark) / sum(max_mark).

    Rows with a missing mark (an ungraded question) are not counted. The score is clipped
    to 0..1 and rounded to 9 decimals; a competency with fewer questions than
    ``min_questions``, or a max_mark sum of 0 (score NaN), is insufficient.

    Args:
        items: One row per answered question, columns ``ITEM_COLUMNS`` (``question`` is not
            read); ``competency`` best as a categorical, marks best as float32.
        thresholds: Level thresholds; validated first.
        min_questions: Overrides ``thresholds.min_questions`` when given.

    Returns:
        Columns ``ITEM_LEVEL_COLUMNS`` sorted by user_id and competency: user_id in the
        input's dtype, competency categorical (sorted names), score float64, questions
        int32, level categorical over ``deficits.scoring.LEVELS``.

    Raises:
        ValueError: For invalid thresholds or a row without a competency.
    """
    validate_thresholds(thresholds)
    minimum = thresholds.min_questions if min_questions is None else min_questions
    if items["mark"].hasnans:
        items = items[items["mark"].notna()]
    comp, names = _competency_codes(items["competency"])
    user_ids = items["user_id"].to_numpy()
    key, users, uniques = _user_codes(user_ids)
    width = len(names)
    key *= width
    key += comp
    del comp
    cells = users * width
    count = np.bincount(key, minlength=cells)
    grade = np.bincount(key, weights=items["mark"].to_numpy(), minlength=cells)
    maxgrade = np.bincount(key, weights=items["max_mark"].to_numpy(), minlength=cells)
    del key
    present = np.flatnonzero(count)
    grade, maxgrade = grade[present], maxgrade[present]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(maxgrade > 0, grade / np.where(maxgrade > 0, maxgrade, 1.0), np.nan)
    ratio = np.round(np.clip(ratio, 0.0, 1.0), _DECIMALS)
    questions = count[present].astype(np.int32)
    user_code = present // width
    ids = (user_code + int(user_ids.min())) if uniques is None else uniques[user_code]
    return pd.DataFrame({
        "user_id": ids.astype(user_ids.dtype, copy=False),
        "competency": pd.Categorical.from_codes(
            (present % width).astype(np.int16), categories=pd.Index(names, dtype="str")),
        "score": ratio,
        "questions": questions,
        "level": pd.Categorical.from_codes(
            _level_codes(ratio, questions, thresholds, minimum), dtype=LEVEL_DTYPE),
    })


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
    assessed = counts[:, :_INSUFFICIENT].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(assessed > 0, counts[:, _DEFICIT] / np.maximum(assessed, 1), np.nan)
    columns = dict(zip(MAP_COLUMNS[:-1], (assessed, counts[:, _INSUFFICIENT],
                                          counts[:, _DEFICIT], counts[:, _RISK]), strict=True))
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
    comp, names = _competency_codes(levels["competency"])
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
