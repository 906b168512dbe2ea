"""The risk group of teachers (педагоги группы риска) under a configurable rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from deficits.levels import LEVEL_DEFICIT

RISK_COLUMNS = ("user_id", "in_risk_group", "reason")
NO_GROUP_LABEL = "без группы"


@dataclass(frozen=True)
class RiskRule:
    """A teacher is in the risk group with deficits in at least ``min_groups_with_deficit``
    different competency groups, or with a deficit in any group of ``groups_always``.

    Only the ``deficit`` level counts (not risk, not insufficient evidence).
    """

    min_groups_with_deficit: int = 2
    groups_always: tuple[str, ...] = ("subject",)

    def __post_init__(self) -> None:
        """Refuse a count below 1 (it would put every teacher in the risk group)."""
        if not self.min_groups_with_deficit >= 1:
            raise ValueError(
                f"min_groups_with_deficit must be 1 or more, got {self.min_groups_with_deficit!r}"
            )
        object.__setattr__(self, "groups_always", tuple(self.groups_always))


def _groups_word(count: int) -> str:
    """"группе" or "группах" agreeing with ``count`` (prepositional case after "в N")."""
    return "группе" if count % 10 == 1 and count % 100 != 11 else "группах"


def _reason(groups: list[str], hit_always: list[str], rule: RiskRule,
            label: Mapping[str, str]) -> tuple[bool, str]:
    """Whether a teacher with deficits in ``groups`` is in the risk group, and why (Russian)."""
    if not groups:
        return False, "дефицитов нет"
    names = ", ".join(f"«{label.get(g, g) or NO_GROUP_LABEL}»" for g in groups)
    n, need = len(groups), rule.min_groups_with_deficit
    by_count = n >= need
    counted = f"дефициты в {n} {_groups_word(n)} компетенций ({names})"
    parts = [f"{counted}, порог — {need}"] if by_count else []
    if hit_always:
        always = ", ".join(f"«{label.get(g, g)}»" for g in hit_always)
        word = "группе" if len(hit_always) == 1 else "группах"
        parts.append(f"дефицит в {word} {always} (всегда группа риска)")
    if parts:
        return True, "; ".join(parts)
    return False, f"{counted} — меньше порога {need}"


def risk_group(
    levels: pd.DataFrame,
    competencies: pd.DataFrame,
    rule: RiskRule = RiskRule(),  # noqa: B008 - frozen, safe as a default
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Who is in the risk group, with the reason in Russian.

    A competency missing from ``competencies`` (or with no group) counts under one group
    "" shown as «без группы».

    Args:
        levels: A levels frame (user_id, competency, level).
        competencies: competency, group (first row per competency wins).
        rule: The risk-group rule.
        labels: Display names of groups for the reasons (group key → name).

    Returns:
        ``RISK_COLUMNS``: one row per user of ``levels``, sorted by user_id.
    """
    label = dict(labels or {})
    groups = competencies[["competency", "group"]].drop_duplicates("competency")
    deficits = levels.loc[levels["level"] == LEVEL_DEFICIT, ["user_id", "competency"]]
    deficits = deficits.merge(groups, on="competency", how="left")
    deficits["group"] = deficits["group"].where(deficits["group"].notna(), "").astype("str")
    by_user = (
        deficits.drop_duplicates(["user_id", "group"])
        .sort_values(["user_id", "group"])
        .groupby("user_id")["group"].agg(list)
    )
    always = set(rule.groups_always)
    rows = []
    for user in sorted(levels["user_id"].unique().tolist()):
        user_groups = by_user.get(user, [])
        hit = [g for g in user_groups if g in always]
        rows.append((user, *_reason(user_groups, hit, rule, label)))
    return pd.DataFrame.from_records(rows, columns=list(RISK_COLUMNS)).astype(
        {"user_id": "int64", "in_risk_group": "bool", "reason": "str"}
    )
