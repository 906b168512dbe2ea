"""Capacity forecast (issue 14): rates from last period, demand per centre against the
catalogue, courses to order, schools without a centre, overloaded centres, the back-test."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from deficits.capacity import (
    DATA,
    HISTORY_COLUMNS,
    NEED_COLUMNS,
    NO_DATA,
    OVERRIDE,
    PARTNER_COLUMNS,
    SUPPLY_COLUMNS,
    back_test,
    centre_demand,
    centre_forecast,
    course_forecast,
    overloaded,
    rates_of,
    unpartnered,
)


def needs(rows):
    return pd.DataFrame(rows, columns=NEED_COLUMNS)


PARTNERS = pd.DataFrame([("RC1", "S1"), ("RC1", "S2"), ("RC2", "S2")], columns=PARTNER_COLUMNS)
# Last period: 10 deficits of S1/S2 teachers (partnered) and 10 of S3 (none).
PAST = needs([(t, "S1" if t <= 5 else "S2" if t <= 10 else "S3", "PK-01", "math")
              for t in range(1, 21)])
HISTORY = pd.DataFrame(
    [("internship", t, "PK-01", s, "RC1") for t, s in
     [(1, "completed"), (2, "completed"), (3, "enrolled"), (4, "declined"), (5, "proposed")]]
    + [("external", t, "PK-01", s, "") for t, s in
       [(11, "completed"), (12, "verified"), (13, "rejected"), (14, "approved")]],
    columns=HISTORY_COLUMNS)


def test_rates_come_from_last_periods_items() -> None:
    rates = rates_of(HISTORY, PAST, {"S1", "S2"})
    intern = rates["internship"]
    # 5 internships over 10 partnered deficits; 3 accepted of 5; 2 completed of 3.
    assert (intern.proposed, intern.accepted, intern.completed) == (0.5, 0.6, 2 / 3)
    assert (intern.source, intern.deficits, intern.proposals) == (DATA, 10, 5)
    external = rates["external"]
    assert (external.proposed, external.accepted, external.completed) == (0.2, 0.75, 2 / 3)
    assert rates["mentoring"].source == NO_DATA and rates["mentoring"].accepted == 1.0
    over = intern.override(accepted=0.9, proposed=None)
    assert (over.proposed, over.accepted, over.source) == (0.5, 0.9, OVERRIDE)
    assert intern.override() is intern
    with pytest.raises(ValueError, match="internship.completed must lie in 0..1"):
        intern.override(completed=1.5)


def test_centres_need_seats_and_hours_against_the_catalogue() -> None:
    rates = rates_of(HISTORY, PAST, {"S1", "S2"})
    rates["mentoring"] = rates["mentoring"].override(proposed=0.5, accepted=0.5, completed=1.0)
    now = needs([(1, "S1", "PK-01", "math"), (2, "S1", "PK-01", "physics"),
                 (3, "S2", "PK-01", "math"), (3, "S2", "PK-02", "math"),
                 (9, "S3", "PK-01", "math")])
    supply = pd.DataFrame([
        ("internship", "RC1", "PK-01", "i1", 1.0, 16.0),
        ("mentoring", "RC1", "PK-01", "m1", 2.0, 10.0),
        ("internship", "RC2", "PK-03", "i2", 5.0, 8.0),
        ("external", None, "PK-01", "e1", 1.0, 72.0)], columns=SUPPLY_COLUMNS)
    table = centre_forecast(now, PARTNERS, supply, rates)
    rows = {(r["centre"], r["competency"]): r for r in table.to_dict("records")}
    assert set(rows) == {("RC1", "PK-01"), ("RC1", "PK-02"), ("RC2", "PK-01"),
                         ("RC2", "PK-02"), ("RC2", "PK-03")}
    rc1 = rows[("RC1", "PK-01")]
    # 3 deficits (teachers 1, 2 of S1 and 3 of S2) × 0.5 × 0.6 interns; × 0.5 × 0.5 mentees.
    assert rc1["deficits"] == 3 and rc1["interns"] == pytest.approx(0.9)
    assert rc1["intern_seats"] == 1 and rc1["intern_gap"] == pytest.approx(-0.1)
    assert rc1["mentees"] == pytest.approx(0.75)
    assert rc1["mentor_hours"] == pytest.approx(7.5) and rc1["mentor_hours_offered"] == 20
    surplus = rows[("RC2", "PK-03")]
    assert surplus["deficits"] == 0 and surplus["intern_gap"] == -5
    assert rows[("RC2", "PK-01")]["deficits"] == 1  # teacher 3's school has both centres
    subjects = centre_demand(now, PARTNERS, rates, ("centre", "competency", "subject"))
    assert len(subjects[(subjects["centre"] == "RC1") & (subjects["competency"] == "PK-01")]) \
        == 2
    courses = course_forecast(now, supply, rates).set_index("competency")
    # 4 PK-01 deficits × 0.2 × 0.75 external places; 1 seat in the catalogue: nothing to order.
    assert courses.loc["PK-01", "external_places"] == pytest.approx(0.6)
    assert courses.loc["PK-01", "to_order"] == 0
    many = needs([(t, "S3", "PK-01", "") for t in range(40)])
    assert course_forecast(many, supply, rates).loc[0, "to_order"] == math.ceil(40 * 0.15 - 1)
    unlimited = supply.assign(seats=[1.0, 2.0, 5.0, float("nan")])
    assert course_forecast(many, unlimited, rates).loc[0, "to_order"] == 0
    alone = unpartnered(now, PARTNERS)
    assert alone.to_dict("records") == [{"school_code": "S3", "teachers": 1, "deficits": 1}]


def test_overloaded_centres_and_the_back_test() -> None:
    rates = rates_of(HISTORY, PAST, {"S1", "S2"})
    table = pd.DataFrame([
        {"centre": "RC1", "interns": 3.0, "intern_seats": 2.0, "mentor_hours": 0.0,
         "mentor_hours_offered": 0.0},
        {"centre": "RC1", "interns": 0.0, "intern_seats": 2.0, "mentor_hours": 0.0,
         "mentor_hours_offered": 0.0},
        {"centre": "RC2", "interns": 1.0, "intern_seats": 0.0, "mentor_hours": 0.0,
         "mentor_hours_offered": 0.0}])
    assert list(overloaded(table)["centre"]) == ["RC2"]  # RC1: 3 interns, 4 seats in all
    tested = back_test(HISTORY, PAST, PARTNERS, rates)
    rc1 = tested[(tested["kind"] == "internship") & (tested["centre"] == "RC1")].iloc[0]
    # 10 partnered deficits at RC1 × 0.5 × 0.6 = 3 forecast; 3 accepted, 2 completed.
    assert (rc1["forecast"], rc1["accepted"], rc1["completed"]) == (pytest.approx(3.0), 3, 2)
    rc2 = tested[(tested["kind"] == "internship") & (tested["centre"] == "RC2")].iloc[0]
    assert rc2["forecast"] == pytest.approx(5 * 0.3) and rc2["accepted"] == 0
    ext = tested[tested["kind"] == "external"].iloc[0]
    assert (ext["forecast"], ext["accepted"]) == (pytest.approx(20 * 0.15), 3)
