"""The programme's measured indicators for one municipality and period (ARCHITECTURE §1).

Every indicator carries its numerator and denominator so a methodologist can check it.
The caller passes frames already restricted to one municipality (its schools, its teachers);
rows of other schools or users are ignored where a frame refers to them.

Frames (column names, extra columns are ignored):

- ``schools``: ``code`` (str), ``low_results``, ``adverse_context``, ``resource_centre`` and,
  optionally, ``stably_high`` (bools; a missing flag column counts as all False).
- ``teachers``: ``user_id`` (int), ``school_code`` (str or None).
- ``levels_entry`` / ``levels_final``: levels frames of the entry and final tests, as
  ``deficits.scoring.score`` or ``deficits.items.score_items`` give them
  (``user_id``, ``competency``, ``score``, ``level``).
- ``risk_group``: ``user_id`` of the risk-group teachers (the caller's definition).
- ``completions``: ``user_id``, ``completed`` (bool), ``time_completed`` (unix seconds, UTC,
  or missing) of the PD courses' Moodle completions.
- ``partnerships``: ``resource_centre_code``, ``school_code``, ``starts_on``, ``ends_on``
  (dates; a missing date is an open end).
- ``routes``: route items, ``user_id`` and ``status`` (see ``ROUTE_INACTIVE``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from deficits.scoring import LEVEL_INSUFFICIENT

ROUTE_INACTIVE = frozenset({"rejected", "cancelled"})
COUNT_INDICATORS = frozenset({"partnerships"})  # value is a ratio of counts, not a share
SCHOOL_FLAGS = (
    ("schools_low_results", "low_results",
     "Доля школ, выявленных как ШНОР", "Share of schools identified as low-results"),
    ("schools_adverse_context", "adverse_context",
     "Доля школ, выявленных как ШФНСУ", "Share of schools identified as adverse-context"),
    ("schools_stably_high", "stably_high",
     "Доля школ со стабильно высокими результатами",
     "Share of schools identified as stably high"),
)


@dataclass(frozen=True)
class Period:
    """A reporting period, both ends inclusive (dates in UTC)."""

    start: dt.date
    end: dt.date

    def __str__(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    def bounds(self) -> tuple[int, int]:
        """Unix seconds of the period's start and of the day after its end (exclusive)."""
        start = dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        return int(start.timestamp()), int(end.timestamp())


@dataclass(frozen=True)
class Indicator:
    """One indicator: ``value`` is numerator / denominator, None when the denominator is 0."""

    code: str
    title_ru: str
    title_en: str
    numerator: int
    denominator: int
    value: float | None


def _indicator(code: str, ru: str, en: str, numerator: int, denominator: int) -> Indicator:
    value = numerator / denominator if denominator else None
    return Indicator(code, ru, en, int(numerator), int(denominator), value)


def _flag(schools: pd.DataFrame, column: str) -> pd.Series:
    if column not in schools:
        return pd.Series(False, index=schools.index)
    return schools[column].fillna(False).astype(bool)


def _teachers_of(teachers: pd.DataFrame, codes: pd.Series) -> pd.Series:
    """Distinct user ids of the teachers whose school code is in ``codes``."""
    users = teachers.drop_duplicates("user_id")
    return users.loc[users["school_code"].isin(codes), "user_id"]


def _school_indicators(schools: pd.DataFrame, teachers: pd.DataFrame,
                       levels_entry: pd.DataFrame) -> list[Indicator]:
    total = len(schools)
    assessed_users = levels_entry.loc[levels_entry["level"] != LEVEL_INSUFFICIENT, "user_id"]
    users = teachers.drop_duplicates("user_id")
    analysed_codes = users.loc[users["user_id"].isin(assessed_users), "school_code"]
    out = [_indicator("schools_analysed", "Доля проанализированных школ",
                      "Share of schools analysed",
                      int(schools["code"].isin(analysed_codes).sum()), total)]
    for code, column, ru, en in SCHOOL_FLAGS:
        out.append(_indicator(code, ru, en, int(_flag(schools, column).sum()), total))
    return out


def _risk_group_pd(teachers: pd.DataFrame, risk_group: pd.DataFrame,
                   completions: pd.DataFrame, period: Period) -> Indicator:
    start, end = period.bounds()
    risk = pd.Index(risk_group["user_id"].unique()).intersection(teachers["user_id"].unique())
    when = pd.to_numeric(completions["time_completed"], errors="coerce")
    in_period = when.isna() | ((when >= start) & (when < end))
    done = completions.loc[completions["completed"].fillna(False).astype(bool) & in_period,
                           "user_id"]
    return _indicator("risk_group_pd", "Доля педагогов группы риска, прошедших КПК",
                      "Share of risk-group teachers who completed PD",
                      int(risk.isin(done).sum()), len(risk))


def _score_rose(teachers: pd.DataFrame, entry: pd.DataFrame, final: pd.DataFrame) -> Indicator:
    cols = ["user_id", "competency", "score", "level"]
    both = entry[cols].merge(final[cols], on=["user_id", "competency"], suffixes=("_e", "_f"))
    comparable = (both["level_e"] != LEVEL_INSUFFICIENT) & (both["level_f"] != LEVEL_INSUFFICIENT)
    comparable &= both["score_e"].notna() & both["score_f"].notna()
    both = both[comparable & both["user_id"].isin(teachers["user_id"])]
    means = both.groupby("user_id")[["score_e", "score_f"]].mean()
    rose = int((means["score_f"] > means["score_e"] + 1e-9).sum())
    return _indicator("score_rose", "Доля педагогов, повысивших результат итоговой диагностики",
                      "Share of teachers whose score rose on the final test", rose, len(means))


def _network(schools: pd.DataFrame, partnerships: pd.DataFrame,
             period: Period) -> list[Indicator]:
    starts = pd.to_datetime(partnerships["starts_on"])
    ends = pd.to_datetime(partnerships["ends_on"])
    first, last = pd.Timestamp(period.start), pd.Timestamp(period.end)
    active = (starts.isna() | (starts <= last)) & (ends.isna() | (ends >= first))
    active &= partnerships["school_code"].isin(schools["code"])
    rows = partnerships[active].drop_duplicates(["resource_centre_code", "school_code"])
    involved = pd.concat([rows["school_code"], rows["resource_centre_code"]])
    return [
        _indicator("schools_in_network", "Доля школ, вовлечённых в сетевое взаимодействие",
                   "Share of schools in the network",
                   int(schools["code"].isin(involved).sum()), len(schools)),
        _indicator("partnerships", "Количество договоров о сетевом взаимодействии "
                   "(на один ресурсный центр)",
                   "Number of partnership agreements (per resource centre)",
                   len(rows), int(_flag(schools, "resource_centre").sum())),
    ]


def _low_results_routed(schools: pd.DataFrame, teachers: pd.DataFrame,
                        routes: pd.DataFrame) -> Indicator:
    low_codes = schools.loc[_flag(schools, "low_results"), "code"]
    users = _teachers_of(teachers, low_codes)
    live = routes.loc[~routes["status"].isin(ROUTE_INACTIVE), "user_id"]
    return _indicator("low_results_teachers_routed",
                      "Доля педагогов ШНОР с индивидуальным образовательным маршрутом",
                      "Share of low-results schools' teachers with a route",
                      int(users.isin(live).sum()), len(users))


def compute_indicators(  # noqa: PLR0917 - one frame per source, in the documented order
    schools: pd.DataFrame, teachers: pd.DataFrame, levels_entry: pd.DataFrame,
    levels_final: pd.DataFrame, risk_group: pd.DataFrame, completions: pd.DataFrame,
    partnerships: pd.DataFrame, routes: pd.DataFrame, period: Period,
) -> list[Indicator]:
    """Compute the programme's indicators for one municipality and period.

    - ``schools_analysed``: schools with at least one teacher assessed (a level other than
      insufficient) on the entry test / all schools.
    - ``schools_low_results``, ``schools_adverse_context``, ``schools_stably_high``: schools
      with the flag / all schools.
    - ``risk_group_pd``: risk-group teachers (who are in ``teachers``) with at least one
      completed PD course in the period (a completion without a time counts) / risk-group
      teachers.
    - ``score_rose``: teachers whose mean score over the competencies assessed (not
      insufficient) on both tests is higher on the final / teachers with such competencies.
    - ``schools_in_network``: schools in at least one partnership active in the period, as the
      supported school or the resource centre / all schools.
    - ``partnerships``: distinct partnerships active in the period whose supported school is
      one of ``schools`` / resource centres among ``schools``; ``value`` is then partnerships
      per resource centre, not a share (see ``COUNT_INDICATORS``).
    - ``low_results_teachers_routed``: teachers of low-results schools with at least one route
      item not rejected or cancelled / teachers of low-results schools.

    Args:
        schools, teachers, levels_entry, levels_final, risk_group, completions,
        partnerships, routes: Frames as the module docstring describes.
        period: The reporting period (completions and partnerships are filtered by it; the
            other frames are taken as given).

    Returns:
        The indicators in the order above.
    """
    return [
        *_school_indicators(schools, teachers, levels_entry),
        _risk_group_pd(teachers, risk_group, completions, period),
        _score_rose(teachers, levels_entry, levels_final),
        *_network(schools, partnerships, period),
        _low_results_routed(schools, teachers, routes),
    ]
