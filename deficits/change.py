"""Entry → final diagnostic: per teacher and competency the change, and "deficit closed"."""

from __future__ import annotations

import pandas as pd

from deficits.levels import LEVEL_DEFICIT, LEVEL_INSUFFICIENT, LEVEL_OK, LEVEL_RISK

RANK = {LEVEL_DEFICIT: 0, LEVEL_RISK: 1, LEVEL_OK: 2}
CHANGE_COLUMNS = ("user_id", "competency", "entry_level", "final_level", "entry_score",
                  "final_score", "rise", "level_up", "closed")


def deficit_changes(entry: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """Compare two levels frames (``deficits.policy.score_with_policy``) of the same teachers.

    ``closed`` is True only when the entry level was a deficit, the final level is ok, and
    the score rose by more than one question's weight (1 / questions of the final test), so
    a single lucky answer cannot close a deficit. Competencies without enough evidence on
    either side are never closed.
    """
    cols = ["user_id", "competency", "level", "score", "questions"]
    both = entry[cols].merge(final[cols], on=["user_id", "competency"],
                             suffixes=("_entry", "_final"))
    out = pd.DataFrame({
        "user_id": both["user_id"], "competency": both["competency"],
        "entry_level": both["level_entry"], "final_level": both["level_final"],
        "entry_score": both["score_entry"], "final_score": both["score_final"]})
    out["rise"] = out["final_score"] - out["entry_score"]
    entry_rank = out["entry_level"].map(RANK)
    final_rank = out["final_level"].map(RANK)
    comparable = (out["entry_level"] != LEVEL_INSUFFICIENT) & \
        (out["final_level"] != LEVEL_INSUFFICIENT)
    out["level_up"] = comparable & (final_rank > entry_rank)
    weight = 1.0 / both["questions_final"].where(both["questions_final"] > 0)
    out["closed"] = comparable & (out["entry_level"] == LEVEL_DEFICIT) & \
        (out["final_level"] == LEVEL_OK) & (out["rise"] > weight.fillna(1.0) + 1e-9)
    return out[list(CHANGE_COLUMNS)].reset_index(drop=True)


SUMMARY_COLUMNS = ("compared", "entry_deficits", "closed", "level_up", "level_down",
                   "unchanged", "mean_rise")


def _level_down(changes: pd.DataFrame) -> pd.Series:
    comparable = (changes["entry_level"] != LEVEL_INSUFFICIENT) & \
        (changes["final_level"] != LEVEL_INSUFFICIENT)
    return comparable & (changes["final_level"].map(RANK) < changes["entry_level"].map(RANK))


def change_summary(changes: pd.DataFrame, teachers: pd.DataFrame | None = None,
                   by: str = "competency") -> pd.DataFrame:
    """Count the changes per competency (``by="competency"``) or per school (``"school"``).

    ``compared``: teacher × competency pairs on both tests with enough evidence on both;
    ``entry_deficits``: of those, deficits at entry; ``closed``: of those, closed (see
    ``deficit_changes``); ``level_up`` / ``level_down`` / ``unchanged``: comparable pairs
    whose level rose, fell or stayed; ``mean_rise``: the mean score change of the comparable
    pairs (NaN when none). Insufficient pairs are left out of every count.

    Args:
        changes: From ``deficit_changes``.
        teachers: user_id, school_code (needed for ``by="school"``; missing: school None).
        by: "competency" or "school".

    Returns:
        One row per key (sorted; no school last), the key column then ``SUMMARY_COLUMNS``.
    """
    if by not in ("competency", "school"):
        raise ValueError(f"by must be 'competency' or 'school', got {by!r}")
    frame = changes.copy()
    key = "competency"
    if by == "school":
        key = "school_code"
        schools = (teachers if teachers is not None else pd.DataFrame(
            columns=["user_id", "school_code"]))[["user_id", "school_code"]]
        frame = frame.merge(schools.drop_duplicates("user_id"), on="user_id", how="left")
        frame["school_code"] = frame["school_code"].astype("object").where(
            frame["school_code"].notna() & (frame["school_code"].astype("str") != ""), None)
    comparable = (frame["entry_level"] != LEVEL_INSUFFICIENT) & \
        (frame["final_level"] != LEVEL_INSUFFICIENT)
    frame = frame[comparable].assign(
        compared=1, entry_deficit=lambda f: f["entry_level"] == LEVEL_DEFICIT,
        level_down=_level_down)
    frame["unchanged"] = ~frame["level_up"] & ~frame["level_down"]
    grouped = frame.groupby(frame[key].fillna("\uffff"), sort=True)
    out = pd.DataFrame({
        "compared": grouped["compared"].sum(),
        "entry_deficits": grouped["entry_deficit"].sum(),
        "closed": grouped["closed"].sum(),
        "level_up": grouped["level_up"].sum(),
        "level_down": grouped["level_down"].sum(),
        "unchanged": grouped["unchanged"].sum(),
        "mean_rise": grouped["rise"].mean(),
    }).astype(dict.fromkeys(SUMMARY_COLUMNS[:-1], "int64") | {"mean_rise": "float64"})
    keys = [None if k == "\uffff" else k for k in out.index]
    out = out.reset_index(drop=True)
    out.insert(0, key, pd.Series(keys, dtype="object"))
    return out
