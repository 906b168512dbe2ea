"""Per-question marks summed per user and competency under an attempt policy, in O(rows).

A user's attempt is the cell (user, attempt_no): rows are keyed by one integer, the attempt
table (one row per cell) is small, and the attempts are chosen on it with
``deficits.fast.choose_attempts`` — the rule ``score_with_policy`` applies to marks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from deficits.attempts import AVERAGE_ATTEMPT_ID, choose_attempts
from deficits.records import GRADE_AVERAGE

ATTEMPT_COLUMNS = ("attempt_id", "attempt_no", "sumgrades")


@dataclass(frozen=True)
class Sums:
    """Per (user code × width + competency code) with evidence: sums of the kept rows."""

    cell: np.ndarray  # the user × competency cells with rows, ascending
    questions: np.ndarray  # rows counted (int32), or their mean over attempts (float64)
    grade: np.ndarray
    maxgrade: np.ndarray
    attempt_id: np.ndarray | None = None  # the attempt kept (-1: averaged); None: no policy


def sum_cells(key: np.ndarray, cells: int,
              items: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row count, mark and max_mark sums per key below ``cells`` (key ``cells`` is dropped)."""
    count = np.bincount(key, minlength=cells + 1)[:cells]
    grade = np.bincount(key, weights=items["mark"].to_numpy(), minlength=cells + 1)[:cells]
    maxgrade = np.bincount(key, weights=items["max_mark"].to_numpy(),
                           minlength=cells + 1)[:cells]
    return count, grade, maxgrade


@dataclass(frozen=True)
class _Attempts:
    """The attempt table: one row per (user, attempt_no) cell that has rows."""

    span: int  # attempt numbers per user in the dense grid (0: cells were factorized)
    cell_user: np.ndarray  # user code of every cell (all cells, present or not)
    present: np.ndarray  # cells with rows
    attempt_id: np.ndarray  # of each present cell
    attempt_no: np.ndarray
    sumgrades: np.ndarray


def _per_cell(code: np.ndarray, cells: int, values: np.ndarray, name: str) -> np.ndarray:
    """The one value of column ``name`` in each cell.

    Raises:
        ValueError: When rows of one attempt disagree.
    """
    out = np.zeros(cells, dtype=values.dtype)
    out[code] = values
    back = out[code]
    same = back == values
    if not same.all() and values.dtype.kind == "f":
        same |= np.isnan(back) & np.isnan(values)
    if not same.all():
        raise ValueError(f"rows of one attempt (user_id, attempt_no) differ in {name}")
    return out


def _attempt_table(code: np.ndarray, users: int, items: pd.DataFrame) -> _Attempts:
    """Turn user codes (in place) into attempt cell codes and build the attempt table.

    Raises:
        ValueError: For a non-integer attempt_no, rows of one attempt that disagree, or one
            attempt_id under two attempt numbers of a user.
    """
    number = items["attempt_no"].to_numpy()
    if number.dtype.kind not in "iu":
        raise ValueError(f"attempt_no must be whole numbers, got {number.dtype}")
    low = int(number.min()) if len(number) else 0
    numbers = int(number.max()) - low + 1 if len(number) else 1
    if users * numbers <= max(len(number), 1 << 16):  # dense: cell = user × numbers + no
        code *= numbers
        code += number
        code -= low
        cells, span = users * numbers, numbers
        cell_user, number_of_cell = np.divmod(np.arange(cells), numbers)
    else:  # a few users with many attempts: number the cells that occur
        cell, uniques = pd.factorize(code * numbers + (number.astype(np.int64) - low), sort=True)
        code[:] = cell
        cells, span = len(uniques), 0
        cell_user, number_of_cell = np.divmod(uniques, numbers)
    number_of_cell += low
    present = np.flatnonzero(np.bincount(code, minlength=cells))
    attempt_id = _per_cell(code, cells, items["attempt_id"].to_numpy(), "attempt_id")[present]
    sumgrades = _per_cell(code, cells, items["sumgrades"].to_numpy(), "sumgrades")[present]
    table = _Attempts(span, cell_user, present, attempt_id, number_of_cell[present], sumgrades)
    _refuse_renumbered(cell_user[present], attempt_id)
    return table


def _refuse_renumbered(user: np.ndarray, attempt_id: np.ndarray) -> None:
    """Raise ValueError when one attempt_id of a user appears under two attempt numbers."""
    order = np.lexsort((attempt_id, user))
    user, attempt_id = user[order], attempt_id[order]
    twice = (user[1:] == user[:-1]) & (attempt_id[1:] == attempt_id[:-1])
    if twice.any():
        raise ValueError("one attempt_id appears under two attempt_no of the same user")


def _per_attempt(code: np.ndarray, table: _Attempts, comp: np.ndarray, width: int,
                 items: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, mark and max_mark sums per present attempt (rows) and competency (columns).

    ``code`` (the attempt cells) is overwritten.
    """
    code *= width
    code += comp
    cells = len(table.cell_user)
    sums = sum_cells(code, cells * width, items)
    del code
    count, grade, maxgrade = (a.reshape(cells, width)[table.present] for a in sums)
    return count, grade, maxgrade


def _to_user_key(code: np.ndarray, table: _Attempts, comp: np.ndarray,
                 width: int) -> np.ndarray:
    """Attempt cell codes → user × width + competency (in place when the grid is dense)."""
    if table.span:
        code //= table.span
    else:
        code = table.cell_user[code]
    code *= width
    code += comp
    return code


def chosen_sums(code: np.ndarray, users: int, comp: np.ndarray, width: int, *,
                items: pd.DataFrame, grademethod: int) -> Sums:
    """Sums over each user's chosen whole attempt (first, last or highest sumgrades).

    ``code`` holds the user codes and is overwritten.
    """
    table = _attempt_table(code, users, items)
    cell_user = table.cell_user[table.present]
    chosen = choose_attempts(cell_user, table.attempt_id, table.attempt_no, table.sumgrades,
                             grademethod)
    keep = np.zeros(len(table.cell_user), dtype=bool)
    keep[table.present[chosen]] = True
    attempt_of_user = np.full(users, AVERAGE_ATTEMPT_ID, dtype=np.int64)
    attempt_of_user[cell_user[chosen]] = table.attempt_id[chosen]
    drop = keep[code]
    np.logical_not(drop, out=drop)
    code = _to_user_key(code, table, comp, width)
    code[drop] = users * width  # rows of attempts not kept go to one bin past the end
    del drop
    count, grade, maxgrade = sum_cells(code, users * width, items)
    del code
    cell = np.flatnonzero(count)
    return Sums(cell, count[cell].astype(np.int32), grade[cell], maxgrade[cell],
                attempt_of_user[cell // max(width, 1)])


def average_sums(code: np.ndarray, users: int, comp: np.ndarray, width: int, *,
                 items: pd.DataFrame) -> Sums:
    """Mean per competency across the attempts that have it (grade, maxgrade, questions).

    ``code`` holds the user codes and is overwritten.
    """
    table = _attempt_table(code, users, items)
    count, grade, maxgrade = _per_attempt(code, table, comp, width, items)
    user = table.cell_user[table.present]
    start = np.flatnonzero(np.r_[True, user[1:] != user[:-1]]) if len(user) else user
    per_user = [np.add.reduceat(a, start, axis=0).ravel() if len(user) else a.ravel()
                for a in (count, grade, maxgrade, (count > 0).astype(np.int64))]
    flat = np.flatnonzero(per_user[0])
    row, column = np.divmod(flat, max(width, 1))
    taken = per_user[3][flat]
    return Sums(user[start][row] * width + column, per_user[0][flat] / taken,
                per_user[1][flat] / taken, per_user[2][flat] / taken,
                np.full(len(flat), AVERAGE_ATTEMPT_ID, dtype=np.int64))


def attempt_sums(code: np.ndarray, users: int, comp: np.ndarray, width: int, *,
                 items: pd.DataFrame, grademethod: int) -> Sums:
    """``average_sums`` or ``chosen_sums`` for the grading method.

    Raises:
        ValueError: When a column of ``ATTEMPT_COLUMNS`` is missing, or see above.
    """
    missing = [c for c in ATTEMPT_COLUMNS if c not in items.columns]
    if missing:
        raise ValueError(f"an attempt policy needs the columns {', '.join(missing)}")
    if grademethod == GRADE_AVERAGE:
        return average_sums(code, users, comp, width, items=items)
    return chosen_sums(code, users, comp, width, items=items, grademethod=grademethod)
