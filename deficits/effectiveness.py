"""Offer effectiveness: does completing an offer close the deficits it was taken for (issue 14).

For each group of offers (one offer and competency by default; or an offer kind, provider or
resource centre with the competency) the share of entry deficits the final diagnostic closed
among the teachers who completed such an offer for that competency, with a 95 % Wilson
interval, beside the same share among teachers with that deficit who took no offer for it in
the period (a naive comparison: the two groups were not assigned at random), and the mean
score change of both. "Closed" is ``deficits.change.deficit_changes``'s rule, so a single lucky
answer never closes a deficit and a new scoring policy recomputes everything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from deficits.levels import LEVEL_DEFICIT, LEVEL_INSUFFICIENT

# Fewer pairs than this: the share is not given, only that there are too few.
MIN_PAIRS = 10
Z_95 = 1.959964
EXPOSURE_COLUMNS = ("user_id", "competency", "offer_key", "completed")
EFFECT_COLUMNS = ("pairs", "closed", "share", "low", "high", "mean_rise", "enough",
                  "others", "others_closed", "others_share", "others_low", "others_high",
                  "others_mean_rise", "others_enough")


def wilson(closed: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of ``closed`` successes in ``n`` (NaN, NaN when n is 0)."""
    if n <= 0:
        return math.nan, math.nan
    if not 0 <= closed <= n:
        raise ValueError(f"closed must be between 0 and n={n}, got {closed}")
    p = closed / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def offer_effectiveness(changes: pd.DataFrame, exposures: pd.DataFrame,
                        by: Sequence[str] = ("offer_key", "competency"),
                        min_pairs: int = MIN_PAIRS) -> pd.DataFrame:
    """Per group of ``by`` (columns of ``exposures``; "competency" among them), the closed share.

    Only comparable entry deficits count: a deficit at entry with enough evidence on both
    diagnostics (an insufficient final cannot say whether it closed).
    - The group's pairs: such (teacher, competency) pairs whose teacher completed an offer of
      the group covering that competency, once per pair even if they completed two.
    - Its comparison ("others"): the pairs of the same competency whose teacher had no
      exposure for it at all (no offer of any group was taken for that competency).
      Teachers who took an offer and did not complete it are in neither.

    Args:
        changes: ``deficits.change.deficit_changes``'s frame.
        exposures: one row per teacher, competency and offer they took part in within the
            period (enrolled or further): ``EXPOSURE_COLUMNS`` and whatever ``by`` names
            (kind, provider, centre); ``completed`` True when they completed it.
        by: the group's columns; must include "competency".
        min_pairs: fewer pairs than this give NaN shares and ``enough`` False.

    Returns:
        One row per group with at least one completed exposure, sorted by ``by``: the ``by``
        columns then ``EFFECT_COLUMNS``.
    """
    by = list(by)
    if "competency" not in by:
        raise ValueError(f"by must include 'competency', got {by}")
    missing = [c for c in (*EXPOSURE_COLUMNS, *by) if c not in exposures.columns]
    if missing:
        raise ValueError(f"exposures lack the columns {missing}")
    if min_pairs < 1:
        raise ValueError(f"min_pairs must be at least 1, got {min_pairs}")
    deficits = changes[(changes["entry_level"] == LEVEL_DEFICIT)
                       & (changes["final_level"] != LEVEL_INSUFFICIENT)][
        ["user_id", "competency", "closed", "rise"]]
    done = exposures[exposures["completed"].astype(bool)]
    treated = (done[["user_id", *by]].drop_duplicates()
               .merge(deficits, on=["user_id", "competency"], how="inner"))
    exposed = exposures[["user_id", "competency"]].drop_duplicates()
    others = deficits.merge(exposed, on=["user_id", "competency"], how="left", indicator=True)
    others = others[others["_merge"] == "left_only"]
    groups = done[by].drop_duplicates().sort_values(by).reset_index(drop=True)
    mine = _counts(treated, by)
    theirs = _counts(others, ["competency"]).add_prefix("others_").rename(
        columns={"others_competency": "competency"})
    out = groups.merge(mine, on=by, how="left").merge(theirs, on="competency", how="left")
    for prefix in ("", "others_"):
        out[f"{prefix}pairs"] = out[f"{prefix}pairs"].fillna(0).astype(int)
        out[f"{prefix}closed"] = out[f"{prefix}closed"].fillna(0).astype(int)
        _shares(out, prefix, min_pairs)
    out = out.rename(columns={"others_pairs": "others"})
    return out[[*by, *EFFECT_COLUMNS]]


def _counts(pairs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    if pairs.empty:
        return pd.DataFrame(columns=[*by, "pairs", "closed", "mean_rise"])
    grouped = pairs.groupby(by, sort=True)
    return pd.DataFrame({"pairs": grouped.size(), "closed": grouped["closed"].sum(),
                         "mean_rise": grouped["rise"].mean()}).reset_index()


def _shares(out: pd.DataFrame, prefix: str, min_pairs: int) -> None:
    """Share and Wilson interval from pairs and closed; NaN where pairs < ``min_pairs``."""
    n, k = out[f"{prefix}pairs"], out[f"{prefix}closed"]
    enough = n >= min_pairs
    bounds = [wilson(int(c), int(p)) if ok else (math.nan, math.nan)
              for c, p, ok in zip(k, n, enough, strict=True)]
    out[f"{prefix}share"] = (k / n.where(n > 0)).where(enough)
    out[f"{prefix}low"] = [b[0] for b in bounds]
    out[f"{prefix}high"] = [b[1] for b in bounds]
    out[f"{prefix}mean_rise"] = pd.to_numeric(out[f"{prefix}mean_rise"]).where(enough)
    out[f"{prefix}enough"] = enough


# How many pairs the kind's share counts for when an offer's own share is shrunk toward it.
PRIOR_PAIRS = 10.0


def shrunk_shares(changes: pd.DataFrame, exposures: pd.DataFrame,
                  prior_pairs: float = PRIOR_PAIRS) -> pd.DataFrame:
    """Per offer and competency, the closed share shrunk toward the share of the offer's kind.

    ``(closed + m · kind_share) / (pairs + m)`` with ``m = prior_pairs``: an offer with few
    pairs stays near its kind's share, one with many tends to its own, and a new offer (no
    pairs) gets its kind's share, so matching does not punish it for being new. The kind's
    share pools every pair of every offer of that kind (all competencies); a kind with no pairs
    gives no row. ``exposures`` needs a ``kind`` column besides ``EXPOSURE_COLUMNS``.

    Returns:
        offer_key, competency, kind, pairs, closed, kind_share, shrunk; one row per offer and
        competency with a completed exposure, sorted.
    """
    if prior_pairs <= 0:
        raise ValueError(f"prior_pairs must be above 0, got {prior_pairs}")
    own = offer_effectiveness(changes, exposures, min_pairs=1)[
        ["offer_key", "competency", "pairs", "closed"]]
    kinds = exposures[["offer_key", "kind"]].drop_duplicates("offer_key")
    own = own.merge(kinds, on="offer_key", how="left")
    pooled = own.groupby("kind", sort=True)[["pairs", "closed"]].sum()
    pooled = pooled[pooled["pairs"] > 0]
    kind_share = (pooled["closed"] / pooled["pairs"]).rename("kind_share").reset_index()
    out = own.merge(kind_share, on="kind", how="inner")
    out["shrunk"] = (out["closed"] + prior_pairs * out["kind_share"]) / \
        (out["pairs"] + prior_pairs)
    return out[["offer_key", "competency", "kind", "pairs", "closed", "kind_share",
                "shrunk"]].sort_values(["offer_key", "competency"]).reset_index(drop=True)
