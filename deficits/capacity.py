"""Capacity planning for the next period (issue 14): how many internship seats, mentor hours
and course places the open deficits will ask for, against what the catalogue offers.

The forecast of one kind of item for a group of open deficits is
``deficits × proposed × accepted``: ``proposed`` is the share of deficits that were proposed
such an item last period, ``accepted`` the share of those proposals teachers accepted;
``completed`` (of the accepted ones) gives the completions to expect. The three rates come from
the last finished period (``rates_of``) unless a setting overrides them (``Rate.override``).

Resource centres serve the open deficits of their partner schools' teachers: internship seats
and mentor hours are forecast per centre and competency (and subject) and set against the
centre's internship seats and mentoring capacity in the catalogue. Courses (Moodle and
external) serve every open deficit: places to order per competency are the forecast less the
catalogue's seats. Everything here is pandas over plain frames; the app reads the rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pandas as pd

# Kinds of items, as the catalogue names them.
INTERNSHIP, MENTORING, COURSE, EXTERNAL, EVENT = (
    "internship", "mentoring", "course", "external", "event")
CENTRE_KINDS = (INTERNSHIP, MENTORING)
COURSE_KINDS = (COURSE, EXTERNAL)
KINDS = (INTERNSHIP, MENTORING, COURSE, EXTERNAL, EVENT)

NEED_COLUMNS = ["user_id", "school_code", "competency", "subject"]
PARTNER_COLUMNS = ["centre", "school_code"]
# One row per catalogue session in the period: seats (NaN: no limit) for internships and
# courses; for mentoring ``seats`` is the mentor's capacity (mentees) and ``hours`` each
# mentee's hours.
SUPPLY_COLUMNS = ["kind", "centre", "competency", "offer_key", "seats", "hours"]
# Last period's items: one row per item and competency it covers.
HISTORY_COLUMNS = ["kind", "user_id", "competency", "status", "centre"]
ACCEPTED = ("approved", "enrolled", "completed", "verified", "replanned")
COMPLETED = ("completed", "verified", "replanned")
NO_DATA = "no_data"
DATA = "data"
OVERRIDE = "override"


@dataclass(frozen=True)
class Rate:
    """A kind's three rates, where they come from (``data``, ``override`` or ``no_data``: then
    1.0, every deficit proposed, every proposal accepted and completed) and the counts."""

    kind: str
    proposed: float
    accepted: float
    completed: float
    source: str
    deficits: int = 0
    proposals: int = 0
    acceptances: int = 0
    completions: int = 0

    def override(self, **rates: float | None) -> Rate:
        """The rate with the given shares (``proposed``, ``accepted``, ``completed``) set.

        :raise ValueError: a share outside 0..1.
        """
        given = {k: v for k, v in rates.items() if v is not None}
        for name, value in given.items():
            if not 0.0 <= value <= 1.0 or math.isnan(value):
                raise ValueError(f"{self.kind}.{name} must lie in 0..1, got {value}")
        if not given:
            return self
        return replace(self, proposed=given.get("proposed", self.proposed),
                       accepted=given.get("accepted", self.accepted),
                       completed=given.get("completed", self.completed), source=OVERRIDE)


def rates_of(history: pd.DataFrame, deficits: pd.DataFrame, partnered: set[str]
             ) -> dict[str, Rate]:
    """Per kind, the last period's rates: ``proposed`` = items of the kind (any status) over
    the period's entry deficits (for centre kinds, those of teachers whose school has a
    partner centre), ``accepted`` = items that reached approval or beyond over those items,
    ``completed`` = completed ones over the accepted. A kind with no item or no deficit has
    no data (rates 1.0).

    ``history``: HISTORY_COLUMNS; ``deficits``: the period's entry deficits (NEED_COLUMNS).
    """
    out: dict[str, Rate] = {}
    all_needs = len(deficits.drop_duplicates(["user_id", "competency"]))
    centre_needs = len(deficits[deficits["school_code"].isin(partnered)]
                       .drop_duplicates(["user_id", "competency"]))
    for kind in KINDS:
        items = history[history["kind"] == kind].drop_duplicates(["user_id", "competency"])
        base = centre_needs if kind in CENTRE_KINDS else all_needs
        n = len(items)
        if not n or not base:
            out[kind] = Rate(kind, 1.0, 1.0, 1.0, NO_DATA, base)
            continue
        accepted = int(items["status"].isin(ACCEPTED).sum())
        completed = int(items["status"].isin(COMPLETED).sum())
        out[kind] = Rate(kind, min(n / base, 1.0), accepted / n,
                         completed / accepted if accepted else 0.0, DATA, base, n, accepted,
                         completed)
    return out


def centre_demand(needs: pd.DataFrame, partners: pd.DataFrame, rates: Mapping[str, Rate],
                  keys: tuple[str, ...] = ("centre", "competency")) -> pd.DataFrame:
    """Per ``keys`` (centre, competency and, if asked, subject): the open deficits of the
    centre's partner schools' teachers, the interns and mentees to expect and the completions.
    A teacher of a school with two partner centres counts at each (either may take them)."""
    served = needs.merge(partners, on="school_code", how="inner")
    demand = served.groupby(list(keys), sort=True).agg(
        teachers=("user_id", "nunique"), deficits=("user_id", "size")).reset_index()
    intern, mentor = rates[INTERNSHIP], rates[MENTORING]
    demand["interns"] = demand["deficits"] * intern.proposed * intern.accepted
    demand["mentees"] = demand["deficits"] * mentor.proposed * mentor.accepted
    demand["completions"] = (demand["interns"] * intern.completed
                             + demand["mentees"] * mentor.completed)
    return demand


def centre_forecast(needs: pd.DataFrame, partners: pd.DataFrame, supply: pd.DataFrame,
                    rates: Mapping[str, Rate]) -> pd.DataFrame:
    """Per centre and competency: the open deficits of its partner schools' teachers, the
    interns and mentees to expect, the mentor hours they need, the catalogue's internship
    seats and mentor hours there, and the shortfall (positive) or surplus (negative) of each.
    A centre offering what nobody of its partners needs shows with its surplus.

    Returns columns centre, competency, teachers, deficits, interns, intern_seats,
    intern_gap, mentees, mentor_hours, mentor_hours_offered, mentor_gap, completions; sorted
    by centre and competency.
    """
    keys = ["centre", "competency"]
    demand = centre_demand(needs, partners, rates)
    out = demand.merge(_centre_supply(supply), on=keys, how="outer")
    for column in ("teachers", "deficits", "interns", "mentees", "completions",
                   "intern_seats", "mentor_hours_offered"):
        out[column] = out[column].fillna(0.0)
    out["hours_per_mentee"] = out["hours_per_mentee"].fillna(_mean_hours(supply))
    out["mentor_hours"] = out["mentees"] * out["hours_per_mentee"]
    out["intern_gap"] = out["interns"] - out["intern_seats"]
    out["mentor_gap"] = out["mentor_hours"] - out["mentor_hours_offered"]
    columns = [*keys, "teachers", "deficits", "interns", "intern_seats", "intern_gap",
               "mentees", "mentor_hours", "mentor_hours_offered", "mentor_gap", "completions"]
    return out[columns].sort_values(keys).reset_index(drop=True)


def _centre_supply(supply: pd.DataFrame) -> pd.DataFrame:
    """Per centre and competency: internship seats and mentor hours (capacity × hours)
    offered, and the mean hours per mentee there."""
    at = supply[supply["centre"].notna() & (supply["centre"] != "")]
    intern = at[at["kind"] == INTERNSHIP].groupby(["centre", "competency"])["seats"].sum(
        min_count=1).rename("intern_seats")
    mentoring = at[at["kind"] == MENTORING].assign(
        offered=lambda f: f["seats"] * f["hours"])
    hours = mentoring.groupby(["centre", "competency"]).agg(
        mentor_hours_offered=("offered", "sum"), hours_per_mentee=("hours", "mean"))
    return pd.concat([intern, hours], axis=1).reset_index()


def _mean_hours(supply: pd.DataFrame) -> float:
    """The catalogue's mean hours per mentee (0 without mentoring)."""
    hours = supply.loc[supply["kind"] == MENTORING, "hours"].dropna()
    return float(hours.mean()) if len(hours) else 0.0


def course_forecast(needs: pd.DataFrame, supply: pd.DataFrame, rates: Mapping[str, Rate]
                    ) -> pd.DataFrame:
    """Per competency: open deficits, course places to expect (Moodle and external courses,
    each by its rates), the catalogue's external course seats (inf: a course without a seat
    limit) and the places to order (external places beyond the seats, 0 when enough).

    Returns columns competency, deficits, moodle_places, external_places, external_seats,
    to_order, completions.
    """
    per = needs.drop_duplicates(["user_id", "competency"]).groupby(
        "competency", sort=True).size().rename("deficits").reset_index()
    moodle, external = rates[COURSE], rates[EXTERNAL]
    per["moodle_places"] = per["deficits"] * moodle.proposed * moodle.accepted
    per["external_places"] = per["deficits"] * external.proposed * external.accepted
    per["completions"] = (per["moodle_places"] * moodle.completed
                          + per["external_places"] * external.completed)
    ext = supply[supply["kind"] == EXTERNAL].groupby("competency")["seats"].apply(
        lambda s: math.inf if s.isna().any() else float(s.sum())).rename("external_seats")
    out = per.merge(ext.reset_index(), on="competency", how="left")
    out["external_seats"] = out["external_seats"].fillna(0.0)
    out["to_order"] = (out["external_places"] - out["external_seats"]).clip(lower=0.0)
    out["to_order"] = out["to_order"].apply(math.ceil)
    return out[["competency", "deficits", "moodle_places", "external_places",
                "external_seats", "to_order", "completions"]]


def unpartnered(needs: pd.DataFrame, partners: pd.DataFrame) -> pd.DataFrame:
    """Schools whose teachers have open deficits but that have no partner centre: school,
    teachers, deficits; most deficits first."""
    alone = needs[~needs["school_code"].isin(set(partners["school_code"]))]
    alone = alone[alone["school_code"].notna()]
    out = alone.groupby("school_code").agg(teachers=("user_id", "nunique"),
                                           deficits=("user_id", "size")).reset_index()
    return out.sort_values(["deficits", "school_code"], ascending=[False, True]
                           ).reset_index(drop=True)


def overloaded(centres: pd.DataFrame) -> pd.DataFrame:
    """Centres whose expected load exceeds their stated capacity, over all competencies:
    interns beyond their internship seats or mentor hours beyond what their mentors offer.

    Returns centre, interns, intern_seats, mentor_hours, mentor_hours_offered (sums), only the
    centres over either.
    """
    per = centres.groupby("centre", sort=True)[
        ["interns", "intern_seats", "mentor_hours", "mentor_hours_offered"]].sum().reset_index()
    over = (per["interns"] > per["intern_seats"] + 1e-9) | \
        (per["mentor_hours"] > per["mentor_hours_offered"] + 1e-9)
    return per[over].reset_index(drop=True)


def back_test(history: pd.DataFrame, deficits: pd.DataFrame, partners: pd.DataFrame,
              rates: Mapping[str, Rate]) -> pd.DataFrame:
    """Last period's forecast beside what happened: per kind (and centre for centre kinds)
    the forecast from the period's entry deficits with ``rates`` against the items accepted
    and completed.

    Returns kind, centre ("" for course kinds), forecast, accepted, completed_forecast,
    completed.
    """
    rows: list[dict[str, object]] = []
    served = deficits.merge(partners, on="school_code", how="inner")
    need = served.groupby("centre").size()
    happened = history.drop_duplicates(["kind", "user_id", "competency", "centre"]).assign(
        accepted=lambda f: f["status"].isin(ACCEPTED),
        completed=lambda f: f["status"].isin(COMPLETED))
    all_needs = float(len(deficits.drop_duplicates(["user_id", "competency"])))
    for kind in KINDS:
        rate = rates[kind]
        took = happened[happened["kind"] == kind]
        if kind in CENTRE_KINDS:
            counts = took.groupby("centre")[["accepted", "completed"]].sum()
            centres = sorted((set(need.index) | set(counts.index)) - {""})
            for centre in centres:
                got = counts.loc[centre] if centre in counts.index else None
                rows.append(_tested(kind, centre, float(need.get(centre, 0)), rate,
                                    accepted=0 if got is None else int(got["accepted"]),
                                    completed=0 if got is None else int(got["completed"])))
        else:
            rows.append(_tested(kind, "", all_needs, rate, accepted=int(took["accepted"].sum()),
                                completed=int(took["completed"].sum())))
    return pd.DataFrame(rows, columns=["kind", "centre", "forecast", "accepted",
                                       "completed_forecast", "completed"])


def _tested(kind: str, centre: str, deficits: float, rate: Rate, *, accepted: int,
            completed: int) -> dict[str, object]:
    forecast = deficits * rate.proposed * rate.accepted
    return {"kind": kind, "centre": centre, "forecast": forecast, "accepted": accepted,
            "completed_forecast": forecast * rate.completed, "completed": completed}
