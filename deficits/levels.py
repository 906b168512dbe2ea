"""Deficit levels: their names, their integer codes, and the thresholds that separate them."""

from __future__ import annotations

from deficits.records import Thresholds

LEVEL_DEFICIT = "deficit"
LEVEL_RISK = "risk"
LEVEL_OK = "ok"
LEVEL_INSUFFICIENT = "insufficient"  # not enough evidence: never a deficit
LEVELS = (LEVEL_DEFICIT, LEVEL_RISK, LEVEL_OK, LEVEL_INSUFFICIENT)
DEFICIT, RISK, OK, INSUFFICIENT = range(4)  # codes of LEVELS, in its order

DECIMALS = 9  # scores are compared after rounding, so 7/10 and 2.1/3 both count as 0.7


def validate_thresholds(thresholds: Thresholds) -> None:
    """Check that thresholds make sense.

    Args:
        thresholds: The thresholds to check.

    Raises:
        ValueError: Unless 0 <= deficit_below <= risk_below <= 1 and min_questions >= 0
            (NaN fails every check).
    """
    deficit, risk = thresholds.deficit_below, thresholds.risk_below
    if not 0.0 <= deficit <= 1.0:
        raise ValueError(f"deficit_below must be a share between 0 and 1, got {deficit!r}")
    if not 0.0 <= risk <= 1.0:
        raise ValueError(f"risk_below must be a share between 0 and 1, got {risk!r}")
    if deficit > risk:
        raise ValueError(
            f"deficit_below ({deficit!r}) must not exceed risk_below ({risk!r})"
        )
    if not thresholds.min_questions >= 0.0:
        raise ValueError(
            f"min_questions must be 0 or more, got {thresholds.min_questions!r}"
        )
