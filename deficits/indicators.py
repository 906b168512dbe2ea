"""The programme's measured indicators per municipality and period (ARCHITECTURE §1).

Every indicator carries its numerator, its denominator and the definition of both, so a
methodologist can check it. A period is two dates, both inclusive, counted in Moscow days:
an event at unix time ``t`` is in it when ``start 00:00 MSK <= t < (end + 1 day) 00:00 MSK``.

Frames of ``Sources`` (column names; extra columns are ignored; times are unix seconds):

- ``schools``: ``code``, ``low_results``, ``adverse_context``, ``resource_centre``,
  optionally ``stably_high`` (bools; a missing flag column is all False) and ``municipality``
  (name or None; needed only by ``by_municipality``).
- ``teachers``: ``user_id``, ``school_code`` (teachers of other schools are ignored).
- ``attempts``: ``user_id``, ``time_finish`` of every finished diagnostic attempt.
- ``levels``: ``user_id``, ``diagnostic_id``, ``kind`` ("entry" or "final"), ``competency``,
  ``score``, ``level`` and ``time_finish``: when the attempt the levels rest on finished (for
  an average over attempts, the latest of them); one time per user and diagnostic.
- ``completions``: ``user_id``, ``completed`` (bool), ``time_completed`` of the Moodle courses
  of the PD offers.
- ``partnerships``: ``resource_centre_code``, ``school_code``, ``starts_on``, ``ends_on``
  (dates; a missing date is an open end).
- ``routes``: route items, ``user_id``, ``status``, ``created`` (the route's creation) and
  ``updated`` (the item's last change).
- ``statuses`` (optional): the dated history of school statuses, ``school_code``, ``flag``
  (a flag column of ``schools``), ``valid_from``, ``valid_to`` (dates; None: still holds).
  A school with history rows for a flag counts by them; without, by its flag column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

import pandas as pd

from deficits.levels import LEVEL_INSUFFICIENT
from deficits.risk import RiskRule, risk_group

MOSCOW = ZoneInfo("Europe/Moscow")
ROUTE_INACTIVE = frozenset({"rejected", "cancelled"})
ROUTE_DONE = "completed"
COUNT_INDICATORS = frozenset({"partnerships"})  # value is a ratio of counts, not a share
CODES = ("schools_analysed", "schools_low_results", "schools_adverse_context",
         "schools_stably_high", "risk_group_pd", "score_rose", "schools_in_network",
         "partnerships", "low_results_teachers_routed")
REGION, NO_MUNICIPALITY = "Все муниципалитеты", "Без муниципалитета"


@dataclass(frozen=True)
class Period:
    """A reporting period: dates, both inclusive, in Moscow days.

    :raise ValueError: the start is after the end.
    """

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        """Refuse a period that ends before it starts."""
        if self.start > self.end:
            raise ValueError(f"the period starts ({self.start}) after it ends ({self.end})")

    def __str__(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    @classmethod
    def school_year(cls, today: dt.date) -> Period:
        """The school year holding ``today``: 1 September – 31 August."""
        start = dt.date(today.year if today.month >= 9 else today.year - 1, 9, 1)
        return cls(start, dt.date(start.year + 1, 8, 31))

    def bounds(self) -> tuple[int, int]:
        """Unix seconds of the start's Moscow midnight and of the day after the end's."""
        start = dt.datetime.combine(self.start, dt.time(), tzinfo=MOSCOW)
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=MOSCOW)
        return int(start.timestamp()), int(end.timestamp())

    def holds(self, seconds: pd.Series) -> pd.Series:
        """Which unix times fall in the period (a missing time never does)."""
        start, end = self.bounds()
        when = pd.to_numeric(seconds, errors="coerce")
        return (when >= start) & (when < end)


@dataclass(frozen=True)
class Indicator:
    """One indicator: ``value`` is numerator / denominator, None when the denominator is 0."""

    code: str
    numerator: int
    denominator: int
    value: float | None


@dataclass(frozen=True)
class AreaIndicators:
    """The indicators of one area (the region or a municipality) for one period."""

    area: str
    period: Period
    indicators: tuple[Indicator, ...]


def _empty_groups() -> pd.DataFrame:
    return pd.DataFrame({"competency": pd.Series(dtype="str"), "group": pd.Series(dtype="str")})


def _empty_statuses() -> pd.DataFrame:
    return pd.DataFrame(columns=["school_code", "flag", "valid_from", "valid_to"])


@dataclass(frozen=True, eq=False)
class Sources:
    """What the indicators count: the frames of the module docstring and the risk rule."""

    schools: pd.DataFrame
    teachers: pd.DataFrame
    attempts: pd.DataFrame
    levels: pd.DataFrame
    completions: pd.DataFrame
    partnerships: pd.DataFrame
    routes: pd.DataFrame
    groups: pd.DataFrame = field(default_factory=_empty_groups)  # competency, group
    rule: RiskRule = field(default_factory=RiskRule)
    statuses: pd.DataFrame = field(default_factory=_empty_statuses)

    def only(self, schools: pd.Series) -> Sources:
        """The same sources for the schools where ``schools`` (a mask) is True."""
        return replace(self, schools=self.schools[schools])


def _indicator(code: str, numerator: int, denominator: int) -> Indicator:
    value = numerator / denominator if denominator else None
    return Indicator(code, int(numerator), int(denominator), value)


def _flag(schools: pd.DataFrame, column: str) -> pd.Series:
    if column not in schools:
        return pd.Series(False, index=schools.index)
    return schools[column].fillna(False).astype(bool)


def _held(src: Sources, column: str, period: Period) -> pd.Series:
    """Per school: did it hold the status ``column`` on a day of the period?

    By its status history when it has one for that status, else by its current flag.
    """
    now = _flag(src.schools, column)
    history = src.statuses[src.statuses["flag"] == column]
    if history.empty:
        return now
    overlaps = [(start <= period.end) and (end is None or pd.isna(end) or end >= period.start)
                for start, end in zip(history["valid_from"], history["valid_to"], strict=True)]
    held = set(history.loc[overlaps, "school_code"])
    dated = src.schools["code"].isin(set(history["school_code"]))
    return (dated & src.schools["code"].isin(held)) | (~dated & now)


def _school_indicators(src: Sources, teachers: pd.DataFrame, period: Period) -> list[Indicator]:
    total = len(src.schools)
    attempted = src.attempts.loc[period.holds(src.attempts["time_finish"]), "user_id"]
    analysed = teachers.loc[teachers["user_id"].isin(attempted), "school_code"]
    out = [_indicator("schools_analysed", int(src.schools["code"].isin(analysed).sum()), total)]
    for code, column in (("schools_low_results", "low_results"),
                         ("schools_adverse_context", "adverse_context"),
                         ("schools_stably_high", "stably_high")):
        out.append(_indicator(code, int(_held(src, column, period).sum()), total))
    return out


def latest_results(levels: pd.DataFrame, kind: str, period: Period,
                   before: pd.Series | None = None) -> pd.DataFrame:
    """Per user, the level rows of their latest ``kind`` diagnostic finished in the period.

    Args:
        levels: The ``levels`` frame.
        kind: "entry" or "final".
        period: Only diagnostics whose attempt finished in the period count.
        before: user_id → unix time; when given, only diagnostics finished strictly before
            the user's time count, and users missing from it get nothing.

    Returns:
        The chosen rows with an extra column ``taken`` (their finish time).
    """
    mine = levels[levels["kind"] == kind]
    when = mine.groupby(["user_id", "diagnostic_id"], as_index=False)["time_finish"].max()
    when = when[period.holds(when["time_finish"])]
    if before is not None:
        when = when[when["time_finish"] < when["user_id"].map(before)]
    latest = when.sort_values(["time_finish", "diagnostic_id"]).drop_duplicates(
        "user_id", keep="last").rename(columns={"time_finish": "taken"})
    return mine.merge(latest, on=["user_id", "diagnostic_id"])


def _risk_group_pd(src: Sources, users: pd.Series, period: Period) -> Indicator:
    entry = latest_results(src.levels, "entry", period)
    entry = entry[entry["user_id"].isin(users)]
    found = risk_group(entry, src.groups, src.rule)
    risky = found.loc[found["in_risk_group"], "user_id"]
    done = src.completions["completed"].fillna(False).astype(bool)
    done &= period.holds(src.completions["time_completed"])
    finished = src.completions.loc[done, "user_id"]
    return _indicator("risk_group_pd", int(risky.isin(finished).sum()), len(risky))


def _score_rose(levels: pd.DataFrame, users: pd.Series, period: Period) -> Indicator:
    final = latest_results(levels, "final", period)
    final = final[final["user_id"].isin(users)]
    entry = latest_results(levels, "entry", period,
                           before=final.groupby("user_id")["taken"].first())
    cols = ["user_id", "competency", "score", "level"]
    both = entry[cols].merge(final[cols], on=["user_id", "competency"], suffixes=("_e", "_f"))
    comparable = (both["level_e"] != LEVEL_INSUFFICIENT) & (both["level_f"] != LEVEL_INSUFFICIENT)
    comparable &= both["score_e"].notna() & both["score_f"].notna()
    means = both[comparable].groupby("user_id")[["score_e", "score_f"]].mean()
    rose = int((means["score_f"] > means["score_e"] + 1e-9).sum())
    return _indicator("score_rose", rose, len(means))


def _network(schools: pd.DataFrame, partnerships: pd.DataFrame,
             period: Period) -> list[Indicator]:
    starts = pd.to_datetime(partnerships["starts_on"])
    ends = pd.to_datetime(partnerships["ends_on"])
    first, last = pd.Timestamp(period.start), pd.Timestamp(period.end)
    active = partnerships[(starts.isna() | (starts <= last)) & (ends.isna() | (ends >= first))]
    involved = pd.concat([active["school_code"], active["resource_centre_code"]])
    ours = active[active["school_code"].isin(schools["code"])].drop_duplicates(
        ["resource_centre_code", "school_code"])
    return [
        _indicator("schools_in_network", int(schools["code"].isin(involved).sum()),
                   len(schools)),
        _indicator("partnerships", len(ours), int(_flag(schools, "resource_centre").sum())),
    ]


def _low_results_routed(src: Sources, teachers: pd.DataFrame, period: Period) -> Indicator:
    low_codes = src.schools.loc[_flag(src.schools, "low_results"), "code"]
    users = teachers.loc[teachers["school_code"].isin(low_codes), "user_id"]
    start, end = period.bounds()
    routes = src.routes
    created = pd.to_numeric(routes["created"], errors="coerce")
    updated = pd.to_numeric(routes["updated"], errors="coerce")
    live = ~routes["status"].isin(ROUTE_INACTIVE) & (created < end)
    live &= ~((routes["status"] == ROUTE_DONE) & (updated < start))
    return _indicator("low_results_teachers_routed",
                      int(users.isin(routes.loc[live, "user_id"]).sum()), len(users))


def compute_indicators(src: Sources, period: Period) -> list[Indicator]:
    """The programme's indicators of the schools in ``src`` for one period.

    Each one's numerator and denominator are defined where it is reported, beside it: schools
    analysed and identified (low-results, adverse-context, stably high), risk-group teachers
    who completed PD, teachers whose score rose on the final test, schools in the network,
    partnerships per resource centre, low-results schools' teachers with a route. Teachers
    count only through a school of ``src.schools``.

    Returns:
        The indicators in the order of ``CODES``.
    """
    teachers = src.teachers[src.teachers["school_code"].isin(src.schools["code"])]
    teachers = teachers.drop_duplicates("user_id")
    return [
        *_school_indicators(src, teachers, period),
        _risk_group_pd(src, teachers["user_id"], period),
        _score_rose(src.levels, teachers["user_id"], period),
        *_network(src.schools, src.partnerships, period),
        _low_results_routed(src, teachers, period),
    ]


def by_municipality(src: Sources, period: Period, *,
                    region: str | None = REGION) -> list[AreaIndicators]:
    """The indicators of the whole of ``src`` (unless ``region`` is None), then per municipality.

    Municipalities come in name order; schools without one form the block
    ``NO_MUNICIPALITY`` (last). Without a ``municipality`` column only the total is given.
    """
    out = [] if region is None else [
        AreaIndicators(region, period, tuple(compute_indicators(src, period)))]
    if "municipality" not in src.schools:
        return out
    names = src.schools["municipality"].fillna("").astype(str)
    for name in sorted(set(names), key=lambda n: (n == "", n)):
        out.append(AreaIndicators(name or NO_MUNICIPALITY, period,
                                  tuple(compute_indicators(src.only(names == name), period))))
    return out


def comparable(current: Sequence[AreaIndicators], previous: Sequence[AreaIndicators]
               ) -> list[tuple[AreaIndicators, AreaIndicators | None]]:
    """Pair each area of ``current`` with the same area of ``previous`` (None if absent)."""
    earlier = {block.area: block for block in previous}
    return [(block, earlier.get(block.area)) for block in current]
