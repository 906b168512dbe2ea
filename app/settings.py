"""ProfRoute settings: environment variables ``PROFROUTE_*`` over an optional TOML file."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ENV_PREFIX = "PROFROUTE_"
SECRET_FIELDS = frozenset({"moodle_token", "secret_key", "sandbox_token", "lrs_password"})


class SettingsError(ValueError):
    """Raised when a setting is missing or has a value ProfRoute cannot use."""


@dataclass(frozen=True)
class Settings:
    """Every setting of ProfRoute, with the defaults of the recorded Moodle (ARCHITECTURE §8).

    Each field ``name`` is read from ``PROFROUTE_<NAME>`` or from the key ``name`` of the
    TOML file named by ``PROFROUTE_CONFIG``; the environment wins.
    """

    database_url: str = "sqlite:///var/profroute.db"
    moodle_url: str = ""
    moodle_token: str = field(default="", repr=False)
    moodle_timeout: float = 30.0
    moodle_retries: int = 3
    diagnostic_course: str = "diag-2026"
    diagnostic_quiz: str = ""
    diagnostic_kind: str = "entry"
    student_role: str = "student"
    teacher_cohort: str = ""
    teacher_category: str = ""
    teacher_filter: str = ""
    field_school_code: str = "schoolcode"
    field_school_name: str = "schoolname"
    field_subject: str = "subject"
    field_municipality: str = "municipality"
    pd_category: str = "3"
    catalogue_dir: str = ""
    slot_map: str = ""
    deficit_below: float = 0.5
    risk_below: float = 0.7
    min_questions: float = 2.0
    thresholds_file: str = ""
    attempt_policy: str = "quiz"
    risk_min_groups: int = 2
    risk_groups: str = "subject"
    include_risk: bool = False
    enrol_role_id: int = 5
    enrol_batch_size: int = 100
    cancel_action: str = "suspend"
    rating_grade: int = 2
    page_size: int = 200
    sync_workers: int = 4
    lrs_endpoint: str = ""
    lrs_version: str = "1.0.3"
    lrs_username: str = ""
    lrs_password: str = field(default="", repr=False)
    lrs_timeout: float = 30.0
    secret_key: str = field(default="", repr=False)
    sandbox_token: str = field(default="", repr=False)

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Read the TOML file (if any), then the environment, then explicit overrides.

        :raise SettingsError: a value has the wrong type or the config file is unreadable.
        """
        env = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        config = env.get(ENV_PREFIX + "CONFIG")
        if config:
            values.update(_read_toml(Path(config)))
        for f in dataclasses.fields(cls):
            key = ENV_PREFIX + f.name.upper()
            if key in env:
                values[f.name] = env[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**{f.name: _coerce(f, values[f.name]) for f in dataclasses.fields(cls)
                      if f.name in values})

    def replace(self, **changes: object) -> Settings:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)

    def public(self) -> dict[str, object]:
        """The settings as a dict with every secret masked, safe to show or log."""
        out = dataclasses.asdict(self)
        for name in SECRET_FIELDS:
            out[name] = "***" if out[name] else ""
        return out

    def require_moodle(self) -> None:
        """Check that Moodle's URL and token are set.

        :raise SettingsError: with the variable to set.
        """
        if not self.moodle_url:
            raise SettingsError("PROFROUTE_MOODLE_URL is not set: give the Moodle site root, "
                                "e.g. https://moodle.example.ru")
        if not self.moodle_token:
            raise SettingsError("PROFROUTE_MOODLE_TOKEN is not set: create a web-service token "
                                "for the ProfRoute service in Moodle and paste it here")


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise SettingsError(f"cannot read config file {path}: {err}") from err
    section = data.get("profroute", data)
    return {str(k).lower(): v for k, v in section.items()}


def _coerce(f: dataclasses.Field[object], raw: object) -> object:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(text)
            return text in {"1", "true", "yes", "on"}
        if kind == "int":
            return int(raw)  # type: ignore[call-overload]
        if kind == "float":
            return float(raw)  # type: ignore[arg-type]
        return str(raw)
    except (TypeError, ValueError) as err:
        shown = "***" if f.name in SECRET_FIELDS else repr(raw)
        raise SettingsError(
            f"setting {ENV_PREFIX}{f.name.upper()} = {shown} is not a valid {kind}") from err
