"""Which of a teacher's quiz attempts count: Moodle's grading methods over whole attempts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from deficits.records import GRADE_AVERAGE, GRADE_FIRST, GRADE_HIGHEST, GRADE_LAST

AVERAGE_ATTEMPT_ID = -1  # attempt_id of a row averaged over attempts


def check_grademethod(grademethod: int) -> None:
    """Refuse anything but Moodle's four grading methods.

    Raises:
        ValueError: For an unknown grading method.
    """
    if grademethod not in (GRADE_HIGHEST, GRADE_AVERAGE, GRADE_FIRST, GRADE_LAST):
        raise ValueError(
            f"unknown grading method {grademethod!r}: expected 1 (highest), 2 (average), "
            "3 (first) or 4 (last)"
        )


def attempt_groups(user: np.ndarray, attempt_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by (user, attempt_id): the group of each row, and each group's first row.

    Groups are numbered in (user, attempt_id) order; "first" is the earliest row in the input.
    """
    if not len(user):
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    order = np.lexsort((attempt_id, user))  # stable: equal keys keep the input order
    sorted_user, sorted_attempt = user[order], attempt_id[order]
    start = np.empty(len(order), dtype=bool)
    start[0] = True
    start[1:] = (sorted_user[1:] != sorted_user[:-1]) | (sorted_attempt[1:] != sorted_attempt[:-1])
    group = np.empty(len(order), dtype=np.intp)
    group[order] = np.cumsum(start) - 1
    return group, order[start]


def choose_attempts(user: np.ndarray, attempt_id: np.ndarray, attempt_no: np.ndarray,
                    sumgrades: np.ndarray, grademethod: int) -> np.ndarray:
    """Which attempt each user keeps, from a table with one row per (user, attempt).

    Highest: the highest sumgrades (NaN last), a tie to the lower attempt_no; first: the
    lowest attempt_no; last: the highest; any remaining tie to the lower attempt_id.

    Returns:
        A boolean array over the table's rows, True for the one kept row per user.

    Raises:
        ValueError: For average (not a choice of one attempt) or an unknown method.
    """
    check_grademethod(grademethod)
    attempt_no = attempt_no.astype(np.int64, copy=False)
    if grademethod == GRADE_HIGHEST:
        keys: tuple[np.ndarray, ...] = (
            attempt_id, attempt_no, -sumgrades.astype(np.float64, copy=False), user)
    elif grademethod == GRADE_FIRST:
        keys = (attempt_id, attempt_no, user)
    elif grademethod == GRADE_LAST:
        keys = (attempt_id, -attempt_no, user)
    else:
        raise ValueError("the average over attempts keeps every attempt: nothing to choose")
    order = np.lexsort(keys)
    ranked_user = user[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = ranked_user[1:] != ranked_user[:-1]
    chosen = np.zeros(len(order), dtype=bool)
    chosen[order[first]] = True
    return chosen


def chosen_rows(marks: dict[str, np.ndarray], grademethod: int) -> dict[str, np.ndarray]:
    """The mark rows of each user's chosen whole attempt (first, last or highest).

    Args:
        marks: Equal-length arrays: user_id, attempt_id, attempt_no, sumgrades, comp (the
            competency codes), and any others to carry along.
        grademethod: ``GRADE_HIGHEST``, ``GRADE_FIRST`` or ``GRADE_LAST``.

    Returns:
        ``marks`` restricted to the chosen attempts' rows, sorted by user, competency code,
        then input order.
    """
    user, attempt_id = marks["user_id"], marks["attempt_id"]
    group, first = attempt_groups(user, attempt_id)
    chosen = choose_attempts(user[first], attempt_id[first], marks["attempt_no"][first],
                             marks["sumgrades"][first], grademethod)
    keep = np.flatnonzero(chosen[group])
    order = keep[np.lexsort((marks["comp"][keep], user[keep]))]
    return {name: values[order] for name, values in marks.items()}


def averaged_rows(marks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Mean grade, maxgrade and questions per user and competency code (attempt_id -1).

    The mean is over the user's mark rows of the competency: one per attempt that has it
    (an attempt without the competency does not count as 0). Sorted by user, then code.
    """
    values = pd.DataFrame({name: marks[name] for name in ("grade", "maxgrade", "questions")})
    means = values.groupby([marks["user_id"], marks["comp"]], sort=True).mean()
    out = {name: means[name].to_numpy() for name in ("grade", "maxgrade", "questions")}
    out["user_id"] = means.index.get_level_values(0).to_numpy()
    out["comp"] = means.index.get_level_values(1).to_numpy()
    out["attempt_id"] = np.full(len(means), AVERAGE_ATTEMPT_ID, dtype=np.int64)
    return out
