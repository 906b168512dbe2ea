"""The methodologist's scoring policy: thresholds per framework and group, attempt policy."""

from __future__ import annotations

import tomllib
from pathlib import Path

from app.settings import Settings, SettingsError
from deficits.policy import ATTEMPT_POLICIES, ThresholdPolicy
from deficits.records import Thresholds
from deficits.risk import RiskRule

KEYS = ("deficit_below", "risk_below", "min_questions")


def load_policy(settings: Settings) -> ThresholdPolicy:
    """The default thresholds from the settings, overridden per framework and per group by
    the TOML file ``PROFROUTE_THRESHOLDS_FILE``::

        [frameworks.PKU-2026]
        deficit_below = 0.45
        [groups.subject]
        label = "Предметный блок"
        deficit_below = 0.55
        risk_below = 0.8

    :raise SettingsError: unreadable file, unknown key, or inconsistent thresholds.
    """
    if settings.attempt_policy not in ATTEMPT_POLICIES:
        raise SettingsError(f"PROFROUTE_ATTEMPT_POLICY = {settings.attempt_policy!r}: write "
                            + ", ".join(ATTEMPT_POLICIES))
    default = Thresholds(settings.deficit_below, settings.risk_below, settings.min_questions)
    if not settings.thresholds_file:
        return _policy(default, {}, {}, {})
    path = Path(settings.thresholds_file)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise SettingsError(f"PROFROUTE_THRESHOLDS_FILE {path}: {err}") from err
    labels: dict[str, str] = {}
    parts: dict[str, dict[str, Thresholds]] = {"frameworks": {}, "groups": {}}
    for section, found in parts.items():
        for key, values in dict(data.get(section, {})).items():
            unknown = set(values) - {*KEYS, "label"}
            if unknown:
                raise SettingsError(f"{path}: [{section}.{key}] has unknown keys "
                                    f"{', '.join(sorted(unknown))}; use {', '.join(KEYS)}, label")
            if "label" in values:
                labels[key] = str(values["label"])
            found[key] = Thresholds(**{k: float(values.get(k, getattr(default, k)))
                                                for k in KEYS})
    return _policy(default, parts["frameworks"], parts["groups"], labels)


def competency_group_overrides(settings: Settings) -> dict[str, str]:
    """``[competency_groups]`` of the thresholds file: competency idnumber → group.

    For frameworks that Moodle holds flat: the region's blocks (normative-legal, subject,
    methodological, psychological-pedagogical, digital, inclusive) without a hierarchy.
    """
    if not settings.thresholds_file:
        return {}
    try:
        data = tomllib.loads(Path(settings.thresholds_file).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise SettingsError(f"PROFROUTE_THRESHOLDS_FILE {settings.thresholds_file}: {err}"
                            ) from err
    return {str(k): str(v) for k, v in dict(data.get("competency_groups", {})).items()}


def risk_rule(settings: Settings) -> RiskRule:
    """The risk-group rule: deficits in ≥ N competency groups, or in any named group.

    :raise SettingsError: N below 1.
    """
    try:
        return RiskRule(settings.risk_min_groups, tuple(
            g.strip() for g in settings.risk_groups.split(",") if g.strip()))
    except ValueError as err:
        raise SettingsError(f"PROFROUTE_RISK_MIN_GROUPS: {err}") from err


def _policy(default: Thresholds, frameworks: dict[str, Thresholds],
            groups: dict[str, Thresholds], labels: dict[str, str]) -> ThresholdPolicy:
    try:
        return ThresholdPolicy(default=default, frameworks=frameworks, groups=groups,
                               labels=labels)
    except ValueError as err:
        raise SettingsError(f"thresholds: {err}") from err
