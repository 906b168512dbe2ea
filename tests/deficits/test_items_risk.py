"""risk_items: the risk group of deficits.risk.risk_group, vectorised."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deficits.items import RISK_ITEM_COLUMNS, risk_items, score_items
from deficits.risk import RiskRule, risk_group

COMPETENCIES = pd.DataFrame({
    "competency": ["L-1", "L-2", "S-1", "M-1", "P-1"],  # X-1 is missing: group ""
    "group": ["law", "law", "subject", "method", None],  # P-1 without a group: ""
})


def levels_of(rows):
    return pd.DataFrame(rows, columns=["user_id", "competency", "level"])


def test_risk_items_by_hand():
    levels = levels_of([
        (1, "L-1", "deficit"), (1, "L-2", "deficit"), (1, "M-1", "risk"),  # 1 group: law
        (2, "L-1", "deficit"), (2, "M-1", "deficit"),  # law + method = 2 groups ≥ 2
        (3, "S-1", "deficit"), (3, "M-1", "ok"),  # subject: always the risk group
        (4, "P-1", "deficit"), (4, "X-1", "deficit"),  # both count under "": 1 group
        (5, "S-1", "insufficient"), (5, "L-1", "risk"),  # no deficit
    ])
    out = risk_items(levels, COMPETENCIES, RiskRule(2, ("subject",)))
    assert list(out.columns) == list(RISK_ITEM_COLUMNS)
    assert out.to_dict("list") == {
        "user_id": [1, 2, 3, 4, 5],
        "in_risk_group": [False, True, True, False, False],
        "deficit_groups": [1, 2, 1, 1, 0],
    }


@pytest.mark.parametrize("rule", [RiskRule(), RiskRule(1, ()), RiskRule(3, ("law", ""))])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_risk_items_equals_risk_group(seed, rule):
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(1, 201) * 7, 6)
    items = pd.DataFrame({
        "user_id": users,
        "question": np.tile(np.arange(6), 200),
        "competency": pd.Categorical(np.tile(["L-1", "L-2", "S-1", "M-1", "P-1", "X-1"], 200)),
        "mark": rng.choice([0.0, 1.0], size=len(users), p=[0.45, 0.55]),
        "max_mark": 1.0,
    })
    levels = score_items(items, min_questions=1)
    got = risk_items(levels, COMPETENCIES, rule)
    want = risk_group(levels.astype({"competency": "str", "level": "str"}), COMPETENCIES, rule)
    assert got["user_id"].tolist() == want["user_id"].tolist()
    assert got["in_risk_group"].tolist() == want["in_risk_group"].tolist()
    assert want["in_risk_group"].any() and not want["in_risk_group"].all()
