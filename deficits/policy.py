"""Threshold policy per framework and competency group, attempt policy, Moodle ratings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

import numpy as np
import pandas as pd

from deficits.levels import LEVEL_DEFICIT, LEVEL_INSUFFICIENT, LEVEL_OK, validate_thresholds
from deficits.records import (
    GRADE_AVERAGE,
    GRADE_FIRST,
    GRADE_HIGHEST,
    GRADE_LAST,
    Thresholds,
)
from deficits.scoring import (
    SCORE_COLUMNS,
    SOURCE_DEFAULT,
    SOURCE_FRAMEWORK,
    SOURCE_GROUP,
    CompetencyTable,
    score_marks,
)

ATTEMPT_FIRST = "first"
ATTEMPT_LAST = "last"
ATTEMPT_BEST = "best"
ATTEMPT_AVERAGE = "average"
ATTEMPT_QUIZ = "quiz"  # the quiz's own grademethod
ATTEMPT_POLICIES = (ATTEMPT_FIRST, ATTEMPT_LAST, ATTEMPT_BEST, ATTEMPT_AVERAGE, ATTEMPT_QUIZ)
_GRADEMETHODS = {
    ATTEMPT_FIRST: GRADE_FIRST, ATTEMPT_LAST: GRADE_LAST,
    ATTEMPT_BEST: GRADE_HIGHEST, ATTEMPT_AVERAGE: GRADE_AVERAGE,
}
_ATTEMPT_LABELS = {
    ATTEMPT_FIRST: "первая попытка", ATTEMPT_LAST: "последняя попытка",
    ATTEMPT_BEST: "лучшая попытка", ATTEMPT_AVERAGE: "среднее по попыткам",
}

POLICY_COLUMNS = (
    *SCORE_COLUMNS, "framework", "group", "deficit_below", "risk_below", "min_questions",
    "threshold_source",
)

AGREES = "agrees"
DISAGREES = "disagrees"
NO_RATING = "no rating"
NO_EVIDENCE = "no evidence"  # the diagnostic level is insufficient: nothing to compare


def _frozen(overrides: Mapping[str, Thresholds]) -> Mapping[str, Thresholds]:
    """A read-only copy of ``overrides`` with every thresholds value validated."""
    for key, thresholds in overrides.items():
        try:
            validate_thresholds(thresholds)
        except ValueError as err:
            raise ValueError(f"thresholds for {key!r}: {err}") from err
    return MappingProxyType(dict(overrides))


@dataclass(frozen=True)
class ThresholdPolicy:
    """Which thresholds apply to a competency: group override > framework override > default.

    ``groups`` is keyed by competency group (e.g. ``"subject"``) and applies in every
    framework; ``frameworks`` by framework idnumber. ``labels`` gives the display names
    used by ``describe`` (group or framework key → Russian name). All thresholds are
    validated on construction.
    """

    default: Thresholds = Thresholds()
    frameworks: Mapping[str, Thresholds] = field(default_factory=dict)
    groups: Mapping[str, Thresholds] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Validate every thresholds value and freeze the mappings."""
        validate_thresholds(self.default)
        object.__setattr__(self, "frameworks", _frozen(self.frameworks))
        object.__setattr__(self, "groups", _frozen(self.groups))
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))

    def __hash__(self) -> int:
        """Hash of the values (the mappings are read-only copies)."""
        return hash(tuple(
            tuple(sorted(v.items())) if isinstance(v, Mapping) else v
            for v in (getattr(self, f.name) for f in fields(self))
        ))

    def resolve(self, framework: str, group: str) -> tuple[Thresholds, str]:
        """The thresholds for a competency and where they come from (group/framework/default)."""
        if group in self.groups:
            return self.groups[group], SOURCE_GROUP
        if framework in self.frameworks:
            return self.frameworks[framework], SOURCE_FRAMEWORK
        return self.default, SOURCE_DEFAULT

    def for_competency(self, framework: str, group: str) -> Thresholds:
        """The thresholds for a competency of ``framework`` in ``group`` (most specific wins)."""
        return self.resolve(framework, group)[0]

    def describe(self) -> list[str]:
        """Human-readable Russian lines: default first, then frameworks, then groups."""
        lines = [f"По умолчанию: {describe_thresholds(self.default)}"]
        for key in sorted(self.frameworks):
            name = self.labels.get(key, f"Рамка «{key}»")
            lines.append(f"{name}: {describe_thresholds(self.frameworks[key])}")
        for key in sorted(self.groups):
            name = self.labels.get(key, f"Группа «{key}»")
            lines.append(f"{name}: {describe_thresholds(self.groups[key])}")
        return lines


def _number(value: float) -> str:
    """A number the Russian way: no trailing zeros, decimal comma (0.475 → "47,5")."""
    return f"{round(value, 6):g}".replace(".", ",")


def _questions(count: float) -> str:
    """"не менее N вопросов" with the noun agreeing with N (genitive after "не менее")."""
    if count <= 0:
        return "без минимума вопросов"
    whole = float(count).is_integer()
    singular = not whole or (int(count) % 10 == 1 and int(count) % 100 != 11)
    return f"не менее {_number(count)} {'вопроса' if singular else 'вопросов'}"


def describe_thresholds(thresholds: Thresholds) -> str:
    """E.g. «дефицит ниже 45 %, риск ниже 65 %, не менее 2 вопросов»."""
    return (
        f"дефицит ниже {_number(thresholds.deficit_below * 100)} %, "
        f"риск ниже {_number(thresholds.risk_below * 100)} %, "
        f"{_questions(thresholds.min_questions)}"
    )


def grademethod_for(attempt_policy: str, quiz_grademethod: int = GRADE_HIGHEST) -> int:
    """The grading method (``deficits.records.GRADE_*``) for an attempt policy.

    Raises:
        ValueError: For an unknown attempt policy.
    """
    if attempt_policy == ATTEMPT_QUIZ:
        return quiz_grademethod
    if attempt_policy not in _GRADEMETHODS:
        raise ValueError(
            f"unknown attempt policy {attempt_policy!r}: expected one of "
            + ", ".join(ATTEMPT_POLICIES)
        )
    return _GRADEMETHODS[attempt_policy]


def describe_attempt_policy(attempt_policy: str, quiz_grademethod: int = GRADE_HIGHEST) -> str:
    """E.g. «Попытки: лучшая попытка» (for "quiz", the quiz's method and that it is the quiz's)."""
    method = grademethod_for(attempt_policy, quiz_grademethod)
    by_method = {v: _ATTEMPT_LABELS[k] for k, v in _GRADEMETHODS.items()}
    suffix = " (метод оценивания теста)" if attempt_policy == ATTEMPT_QUIZ else ""
    return f"Попытки: {by_method.get(method, str(method))}{suffix}"


def _competency_keys(competencies: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """competency → (framework, group) as str, missing values as "" (first row wins)."""
    table = competencies[["competency", "framework", "group"]].drop_duplicates("competency")
    keys = pd.DataFrame({
        column: table[column].where(table[column].notna(), "").astype("str")
        for column in ("competency", "framework", "group")
    }).drop_duplicates("competency")
    return dict(zip(keys["competency"], zip(keys["framework"], keys["group"], strict=True),
                    strict=True))


def competency_table(names: np.ndarray, competencies: pd.DataFrame | None,
                     policy: ThresholdPolicy) -> CompetencyTable:
    """Resolve the thresholds once per competency (``names``: the sorted competency names).

    A competency missing from ``competencies`` (or all of them, when it is None) gets
    framework and group "" and so the default thresholds.
    """
    keys = {} if competencies is None else _competency_keys(competencies)
    rows = []
    for name in names:
        framework, group = keys.get(str(name), ("", ""))
        thresholds, source = policy.resolve(framework, group)
        rows.append((framework, group, thresholds.deficit_below, thresholds.risk_below,
                     thresholds.min_questions, source))
    columns = list(zip(*rows, strict=True)) or [()] * 6
    text = [np.asarray(c, dtype=object) for c in (columns[0], columns[1], columns[5])]
    numbers = [np.asarray(c, dtype=np.float64) for c in columns[2:5]]
    return CompetencyTable(np.asarray(names, dtype=object), text[0], text[1], numbers[0],
                           numbers[1], numbers[2], text[2])


def score_with_policy(
    frame: pd.DataFrame,
    competencies: pd.DataFrame,
    policy: ThresholdPolicy = ThresholdPolicy(),  # noqa: B008 - frozen, safe as a default
    attempt_policy: str = ATTEMPT_QUIZ,
    quiz_grademethod: int = GRADE_HIGHEST,
) -> pd.DataFrame:
    """Score each user's competencies and give each a level with its own thresholds.

    Attempts are chosen over whole attempts by the attempt policy (or averaged), then
    ``score`` = grade / maxgrade clipped to 0..1 and rounded to 9 decimals (so 0.5 is risk
    and 0.7 ok with the default thresholds); fewer questions than the competency's minimum,
    or a maxgrade of 0 (score NaN), is ``insufficient``. Vectorised with integer codes
    (``deficits.scoring``): attempts are chosen by a lexsort of the attempt table,
    thresholds resolved once per competency and indexed by its code. A competency missing
    from ``competencies`` gets framework and group "" and so the default thresholds.

    Args:
        frame: A marks frame (``deficits.scoring.MARK_COLUMNS``, see ``marks_frame``).
        competencies: competency, framework, group (first row per competency wins).
        policy: The thresholds policy.
        attempt_policy: "first", "last", "best", "average" or "quiz".
        quiz_grademethod: The quiz's grademethod, used when ``attempt_policy`` is "quiz".

    Returns:
        ``POLICY_COLUMNS``: the score columns plus framework, group, the thresholds used
        and ``threshold_source`` ("group", "framework" or "default"); sorted by user_id and
        competency.

    Raises:
        ValueError: For an unknown attempt policy or grading method, a missing column, or a
            mark without a competency.
    """
    method = grademethod_for(attempt_policy, quiz_grademethod)
    return score_marks(frame, method, lambda names: competency_table(names, competencies, policy))


def merge_ratings(levels: pd.DataFrame, ratings: pd.DataFrame) -> pd.DataFrame:
    """Add Moodle's own competency ratings beside the diagnostic levels (levels unchanged).

    ``agreement`` flags only clear contradictions: a deficit rated proficient, or ok rated
    not proficient, "disagrees"; risk (the borderline zone) agrees with either rating. No
    rating is "no rating"; an ``insufficient`` level with a rating is "no evidence".
    Ratings of pairs not in ``levels`` are ignored; of duplicates the last row wins.

    Args:
        levels: A levels frame (user_id, competency, level, ...).
        ratings: user_id, competency, proficient (bool).

    Returns:
        ``levels`` with ``moodle_proficient`` (True, False or NaN, object dtype) and
        ``agreement`` appended, same rows in the same order.
    """
    rated = ratings[["user_id", "competency", "proficient"]].drop_duplicates(
        ["user_id", "competency"], keep="last"
    ).astype({"user_id": "int64", "competency": "str"})
    rated = rated.rename(columns={"proficient": "moodle_proficient"})
    out = levels.merge(rated, on=["user_id", "competency"], how="left", validate="many_to_one")
    proficient = out["moodle_proficient"]
    has_rating = proficient.notna().to_numpy()
    is_true = proficient.eq(True).to_numpy()
    level = out["level"].to_numpy()
    contradiction = ((level == LEVEL_DEFICIT) & is_true) | ((level == LEVEL_OK) & ~is_true)
    agreement = np.select(
        [~has_rating, level == LEVEL_INSUFFICIENT, contradiction],
        [NO_RATING, NO_EVIDENCE, DISAGREES], AGREES,
    )
    out["moodle_proficient"] = pd.Series(
        [bool(v) if ok else np.nan for v, ok in zip(proficient.tolist(), has_rating, strict=True)],
        index=out.index, dtype="object",
    )
    out["agreement"] = pd.Series(agreement, index=out.index, dtype="str")
    out.index = levels.index
    return out
