"""Entry → final diagnostic: per teacher and competency the change, and "deficit closed"."""

from __future__ import annotations

import pandas as pd

from deficits.scoring import LEVEL_DEFICIT, LEVEL_INSUFFICIENT, LEVEL_OK, LEVEL_RISK

RANK = {LEVEL_DEFICIT: 0, LEVEL_RISK: 1, LEVEL_OK: 2}
CHANGE_COLUMNS = ("user_id", "competency", "entry_level", "final_level", "entry_score",
                  "final_score", "rise", "level_up", "closed")


def deficit_changes(entry: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """Compare two levels frames (``deficits.scoring.score``) of the same teachers.

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
