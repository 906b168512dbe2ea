"""Offer effectiveness (issue 14): closed shares with Wilson intervals beside a naive comparison."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from deficits.effectiveness import EFFECT_COLUMNS, offer_effectiveness, shrunk_shares, wilson
from deficits.levels import LEVEL_DEFICIT, LEVEL_INSUFFICIENT, LEVEL_OK, LEVEL_RISK


def test_wilson_interval_matches_the_published_values() -> None:
    # Newcombe (1998), table I: 8 of 10 → 0.4902–0.9433; 0 of 10 → 0–0.2775.
    assert wilson(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert all(math.isnan(x) for x in wilson(0, 0))
    with pytest.raises(ValueError, match="between 0 and n=3"):
        wilson(4, 3)


def _change(user: int, competency: str, closed: bool, rise: float,
            entry: str = LEVEL_DEFICIT, final: str | None = None) -> dict[str, object]:
    final = final or (LEVEL_OK if closed else LEVEL_DEFICIT)
    return {"user_id": user, "competency": competency, "entry_level": entry,
            "final_level": final, "entry_score": 0.3, "final_score": 0.3 + rise, "rise": rise,
            "level_up": closed, "closed": closed}


def _data() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [_change(u, "A", u <= 7, 0.3 if u <= 7 else 0.0) for u in range(1, 11)]  # O1: 7/10
    rows += [_change(11, "A", True, 0.4), _change(12, "A", False, 0.1)]  # O2: 1 of 2
    rows += [_change(13, "A", True, 0.5)]  # enrolled in O1, did not complete: in neither
    rows += [_change(u, "A", u < 16, 0.2 if u < 16 else -0.1) for u in range(14, 25)]  # others
    rows += [_change(30, "A", False, 0.2, entry=LEVEL_RISK, final=LEVEL_OK),  # no deficit
             _change(31, "A", False, 0.0, final=LEVEL_INSUFFICIENT),  # cannot tell
             _change(1, "B", False, 0.1, entry=LEVEL_OK, final=LEVEL_OK)]
    changes = pd.DataFrame(rows)

    def took(user: int, offer: str, competency: str, completed: bool = True
             ) -> dict[str, object]:
        return {"user_id": user, "competency": competency, "offer_key": offer,
                "kind": "course", "completed": completed}

    exposures = [took(u, "O1", "A") for u in range(1, 11)] + [took(1, "O1", "A")]  # twice
    exposures += [took(11, "O2", "A"), took(12, "O2", "A"), took(13, "O1", "A", False),
                  took(31, "O1", "A"), took(30, "O1", "A"), took(1, "O3", "B")]
    return changes, pd.DataFrame(exposures)


def test_shares_by_offer_and_competency_beside_the_teachers_without_an_offer() -> None:
    changes, exposures = _data()
    out = offer_effectiveness(changes, exposures).set_index(["offer_key", "competency"])
    assert list(out.columns) == list(EFFECT_COLUMNS)
    o1 = out.loc[("O1", "A")]
    assert (o1["pairs"], o1["closed"], o1["share"]) == (10, 7, pytest.approx(0.7))
    assert (o1["low"], o1["high"]) == pytest.approx(wilson(7, 10))
    assert o1["mean_rise"] == pytest.approx(0.21)
    assert bool(o1["enough"])
    # Teachers 14–24: a deficit in A and no offer for it; 14 and 15 closed it.
    assert (o1["others"], o1["others_closed"]) == (11, 2)
    assert o1["others_share"] == pytest.approx(2 / 11)
    assert o1["others_mean_rise"] == pytest.approx((2 * 0.2 - 9 * 0.1) / 11)
    # Two pairs: too few for a share; the counts stay.
    o2 = out.loc[("O2", "A")]
    assert (o2["pairs"], o2["closed"], bool(o2["enough"])) == (2, 1, False)
    assert math.isnan(o2["share"]) and math.isnan(o2["low"]) and math.isnan(o2["mean_rise"])
    # Completed for a competency without an entry deficit: a group with no pairs.
    o3 = out.loc[("O3", "B")]
    assert (o3["pairs"], o3["others"], bool(o3["enough"])) == (0, 0, False)


def test_groups_by_kind_count_each_pair_once() -> None:
    changes, exposures = _data()
    out = offer_effectiveness(changes, exposures, by=("kind", "competency"), min_pairs=5)
    row = out.set_index(["kind", "competency"]).loc[("course", "A")]
    assert (row["pairs"], row["closed"]) == (12, 8)  # O1's ten and O2's two, once each
    assert row["share"] == pytest.approx(8 / 12)


def test_bad_arguments_say_what_is_wrong() -> None:
    changes, exposures = _data()
    with pytest.raises(ValueError, match="include 'competency'"):
        offer_effectiveness(changes, exposures, by=("offer_key",))
    with pytest.raises(ValueError, match=r"lack the columns \['provider'\]"):
        offer_effectiveness(changes, exposures, by=("provider", "competency"))
    with pytest.raises(ValueError, match="min_pairs must be at least 1"):
        offer_effectiveness(changes, exposures, min_pairs=0)


def test_no_completions_no_rows() -> None:
    changes, exposures = _data()
    out = offer_effectiveness(changes, exposures.assign(completed=False))
    assert out.empty and list(out.columns) == ["offer_key", "competency", *EFFECT_COLUMNS]
    none = offer_effectiveness(changes.iloc[0:0], exposures)
    assert set(none["pairs"]) == {0} and not none["enough"].any()


def test_shrunk_shares_lean_on_the_kind_when_pairs_are_few() -> None:
    changes, exposures = _data()
    out = shrunk_shares(changes, exposures, prior_pairs=10).set_index(
        ["offer_key", "competency"])
    # Kind "course" pools O1 (7/10), O2 (1/2) and O3 (no pairs): 8 of 12.
    assert list(out["kind_share"]) == pytest.approx([8 / 12] * 3)
    assert out.loc[("O1", "A"), "shrunk"] == pytest.approx((7 + 10 * 8 / 12) / 20)
    assert out.loc[("O2", "A"), "shrunk"] == pytest.approx((1 + 10 * 8 / 12) / 12)
    assert out.loc[("O3", "B"), "shrunk"] == pytest.approx(8 / 12)  # new: the kind's share
    # Few pairs stay near the kind; more pairs move towards the offer's own share.
    assert abs(out.loc[("O2", "A"), "shrunk"] - 8 / 12) < abs(0.5 - 8 / 12)
    assert shrunk_shares(changes, exposures, prior_pairs=1).loc[0, "shrunk"] == \
        pytest.approx((7 + 8 / 12) / 11)
    with pytest.raises(ValueError, match="prior_pairs must be above 0"):
        shrunk_shares(changes, exposures, prior_pairs=0)
