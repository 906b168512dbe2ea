"""ProfRoute settings: one pydantic-settings model read from ``PROFROUTE_*``, ``.env`` and TOML."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from app.i18n import N_
from tabular import SCHOOL_CODE_PATTERN
from xapi.settings import EnvironSource, XAPIVersion

ENV_PREFIX = "PROFROUTE_"
CONFIG_VARIABLE = ENV_PREFIX + "CONFIG"
SECRET_FIELDS = frozenset({"moodle_token", "secret_key", "sandbox_token", "lrs_password"})

MIN_SECRET_KEY = 32
KEY_COMMAND = 'python -c "import secrets; print(secrets.token_hex(32))"'
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")

AttemptPolicy = Literal["quiz", "first", "last", "best", "average"]
DiagnosticKind = Literal["entry", "final"]
CancelAction = Literal["suspend", "unenrol"]
PlanSolver = Literal["highs", "greedy"]


class SettingsError(ValueError):
    """Raised when a setting is missing or has a value ProfRoute cannot use.

    ``for_admins``: the message names variables, files or values only an administrator
    should read (pages show others a reference instead); False where the message is about
    what a methodologist set (a scoring policy)."""

    for_admins = True


# The sources of the load in progress (set by Settings.load, read by settings_customise_sources):
# a plain Settings(...) has none, so it is built from its arguments and the defaults alone.
_LOADING: ContextVar[tuple[PydanticBaseSettingsSource, ...] | None] = ContextVar(
    "profroute_settings_sources", default=None)


class Settings(BaseSettings):
    """Every setting of ProfRoute, with the defaults of the recorded Moodle (ARCHITECTURE §8).

    ``Settings(...)`` is a plain value: its arguments over the defaults. ``Settings.load()``
    reads each field ``name`` from, in this order of precedence: its keyword arguments, the
    environment variable ``PROFROUTE_<NAME>``, the same variable in the file ``.env`` of the
    working directory (optional), the key ``name`` of the TOML file named by
    ``PROFROUTE_CONFIG`` (its ``[profroute]`` table, or its top level), then the default.
    Secrets never appear in ``repr``, :meth:`public` or errors.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="ignore", hide_input_in_errors=True,
        coerce_numbers_to_str=True)

    database_url: str = "sqlite:///var/profroute.db"
    moodle_url: str = ""
    moodle_token: str = Field(default="", repr=False)
    moodle_timeout: float = 30.0
    moodle_retries: int = 3
    diagnostic_course: str = "diag-2026"
    diagnostic_quiz: str = ""
    diagnostic_kind: DiagnosticKind = "entry"
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
    school_code_pattern: str = SCHOOL_CODE_PATTERN  # imported school codes (whole match)
    slot_map: str = ""
    deficit_below: float = 0.5
    risk_below: float = 0.7
    min_questions: float = 2.0
    thresholds_file: str = ""
    attempt_policy: AttemptPolicy = "quiz"
    risk_min_groups: int = 2
    risk_groups: str = "subject"
    include_risk: bool = False
    # Route planning (issue 13): the solver's time limit in seconds, the solver (``greedy``: the
    # baseline pass only) and a teacher's hours cap per half-year.
    plan_time_limit: float = Field(default=60.0, gt=0, le=3600)
    plan_solver: PlanSolver = "highs"
    plan_hours_cap: float = Field(default=72.0, gt=0)
    enrol_role_id: int = 5
    enrol_batch_size: int = 100
    enrol_parallel: int = Field(default=4, ge=1, le=16)  # enrolment calls at once
    message_batch_size: int = Field(default=50, ge=1, le=200)  # messages per call
    cancel_action: CancelAction = "suspend"
    rating_grade: int = 2
    page_size: int = 200
    sync_workers: int = 4
    lrs_endpoint: str = ""
    lrs_version: XAPIVersion = "1.0.3"
    lrs_username: str = ""
    lrs_password: str = Field(default="", repr=False)
    lrs_timeout: float = 30.0
    secret_key: str = Field(default="", repr=False)  # signs sessions; see require_secret_key
    trusted_proxies: int = Field(default=0, ge=0, le=5)  # proxies whose X-Forwarded-* count
    frame_ancestors: str = ""  # origins (e.g. Moodle's) that may frame pages, space-separated
    login_limit_account: str = "5 per 15 minutes"  # failed sign-ins per login
    login_limit_address: str = "20 per 15 minutes"  # failed sign-ins per client address
    ratelimit_storage: str = ""  # a limits storage URI (redis://...); empty: the database
    sandbox_token: str = Field(default="", repr=False)
    # Personal data of teachers a sync has not seen for longer than this is erased by
    # ``profroute retention`` (0: kept; README "Personal data")
    retention_days: int = Field(default=0, ge=0, le=36500)
    # LTI 1.3: the tool's public root URL as Moodle reaches it (empty: that of the request),
    # and Moodle's LTI roles -> ProfRoute roles (README "Sign-in from Moodle").
    lti_tool_url: str = ""
    lti_role_map: str = "Administrator=admin; Instructor=methodologist; Learner=teacher"
    # The time zone of the in-app scheduler's cron expressions (README "Production")
    schedule_timezone: str = "Europe/Moscow"

    def __init__(self, **values: Any) -> None:
        """Build the settings from keyword arguments (and, under :meth:`load`, its sources).

        :raise TypeError: an argument names no setting.
        :raise SettingsError: a value has the wrong type or is not one of the allowed values.
        """
        unknown = sorted(set(values) - set(type(self).model_fields))
        if unknown:
            raise TypeError(f"Settings got unknown settings: {', '.join(unknown)}")
        try:
            super().__init__(**values)
        except ValidationError as err:
            raise _settings_error(err) from err  # err hides the inputs (hide_input_in_errors)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The keyword arguments, then the sources of :meth:`load` when it is loading."""
        return (init_settings, *(_LOADING.get() or ()))

    @field_validator("include_risk", "diagnostic_kind", "attempt_policy", "cancel_action",
                     "lrs_version", "plan_solver", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        """Words and flags may come with blanks around them (``" yes "``)."""
        return value.strip() if isinstance(value, str) else value

    @field_validator("school_code_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        """The school code format must be a regular expression."""
        try:
            re.compile(value)
        except re.error as err:
            raise ValueError(f"not a regular expression ({err})") from err
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: str) -> str:
        """A key set at all must be long enough not to be guessed."""
        if value and len(value) < MIN_SECRET_KEY:
            raise ValueError(f"too short: the key needs at least {MIN_SECRET_KEY} characters; "
                             f"make one with: {KEY_COMMAND}")
        return value

    @field_validator("schedule_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        """A time zone of the IANA database (``Europe/Moscow``, ``Asia/Yekaterinburg``, ``UTC``)."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}; e.g. Europe/Moscow") from err
        return value

    @field_validator("frame_ancestors")
    @classmethod
    def _origins(cls, value: str) -> str:
        """Each framing origin is ``https://host[:port]``, nothing more (no path, no wildcard)."""
        for origin in value.replace(",", " ").split():
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin like https://moodle.example.ru")
        return value

    @field_validator("login_limit_account", "login_limit_address")
    @classmethod
    def _rate(cls, value: str) -> str:
        """A rate in the words of Flask-Limiter: ``5 per 15 minutes``, ``100/hour``."""
        try:
            parse_many(value)
        except ValueError as err:
            raise ValueError(f"not a rate like '5 per 15 minutes' ({err})") from err
        return value

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, *,
             env_file: str | Path | None = ".env", **overrides: object) -> Settings:
        """Read the TOML file (if any), then ``.env``, then the environment, then overrides.

        Args:
            environ: the environment (``os.environ`` by default).
            env_file: the dotenv file read if it exists; None reads none.
            **overrides: settings that win over every source; None values are ignored.

        :raise SettingsError: a value has the wrong type or the config file is unreadable.
        """
        env = dict(os.environ if environ is None else environ)
        dotenv = DotEnvSettingsSource(cls, env_file=env_file)
        config = env.get(CONFIG_VARIABLE) or dotenv.env_vars.get(CONFIG_VARIABLE.lower())
        sources: list[PydanticBaseSettingsSource] = [EnvironSource(cls, env), dotenv]
        if config:
            sources.append(_TomlFile(cls, Path(config)))
        with _loading(tuple(sources)):
            return cls(**{k: v for k, v in overrides.items() if v is not None})

    def replace(self, **changes: object) -> Settings:
        """A copy with some settings changed, checked like any other value.

        :raise TypeError: a name is not a setting.
        :raise SettingsError: a new value is not valid.
        """
        return type(self)(**{**self.model_dump(), **changes})

    def public(self) -> dict[str, object]:
        """The settings as a dict with every secret masked, safe to show or log."""
        out = self.model_dump()
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

    def require_secret_key(self) -> None:
        """Check that the key signing sessions and forms is set (every worker needs the same).

        :raise SettingsError: with the variable to set and how to make a key.
        """
        if not self.secret_key:
            raise SettingsError(
                f"{ENV_PREFIX}SECRET_KEY is not set: the web UI signs sessions and forms with "
                f"it, and every worker must share it. Make one with: {KEY_COMMAND} and "
                f"set it in the environment (or secret_key in the file named by "
                f"{CONFIG_VARIABLE}); only the demo and the tests run without it")

    def frame_origins(self) -> list[str]:
        """The origins of :attr:`frame_ancestors`, in order, without repeats."""
        return list(dict.fromkeys(self.frame_ancestors.replace(",", " ").split()))



ORIGIN_RU = {"environment": N_("окружение"), ".env": N_("файл .env"),
             "config": N_("файл конфигурации"), "start": N_("задано при запуске"),
             "default": N_("по умолчанию")}


def origins(settings: Settings, environ: Mapping[str, str] | None = None,
            env_file: str | Path | None = ".env") -> dict[str, str]:
    """Where each setting's value comes from, as :meth:`Settings.load` reads them: the
    environment, ``.env``, the TOML file of ``PROFROUTE_CONFIG``, ``default``, or ``start``
    (a value given when the app was built, e.g. by a test or ``Settings.load`` overrides)."""
    env = {k.upper(): v for k, v in (os.environ if environ is None else environ).items()}
    dotenv = DotEnvSettingsSource(Settings, env_file=env_file).env_vars if env_file else {}
    config = env.get(CONFIG_VARIABLE) or dotenv.get(CONFIG_VARIABLE.lower())
    toml: dict[str, Any] = {}
    if config and Path(config).is_file():
        try:
            toml = _TomlFile(Settings, Path(config))._read_file(Path(config))
        except SettingsError:
            toml = {}
    found = {}
    for name, info in Settings.model_fields.items():
        variable = ENV_PREFIX + name.upper()
        if variable in env:
            found[name] = "environment"
        elif variable.lower() in dotenv:
            found[name] = ".env"
        elif name in toml:
            found[name] = "config"
        elif getattr(settings, name) != info.default:
            found[name] = "start"
        else:
            found[name] = "default"
    return found


@contextmanager
def _loading(sources: tuple[PydanticBaseSettingsSource, ...]) -> Iterator[None]:
    token = _LOADING.set(sources)
    try:
        yield
    finally:
        _LOADING.reset(token)



class _TomlFile(TomlConfigSettingsSource):
    """The TOML settings file: its ``[profroute]`` table, or its top level; keys any case."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        if not path.is_file():
            raise SettingsError(f"cannot read config file {path}: no such file "
                                f"(named by {CONFIG_VARIABLE})")
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            data = super()._read_file(file_path)
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise SettingsError(f"cannot read config file {file_path}: {err}") from err
        section = data.get("profroute", data)
        return {str(key).lower(): value for key, value in section.items()}


def _settings_error(err: ValidationError) -> SettingsError:
    """One message naming each bad setting as the user writes it; secrets shown as ``***``."""
    files = [s.toml_file_path for s in _LOADING.get() or () if isinstance(s, _TomlFile)]
    problems = []
    for error in err.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        where = f" (or {name} in {files[0]})" if files else ""
        shown = "***" if name in SECRET_FIELDS else repr(error.get("input"))
        problems.append(f"setting {ENV_PREFIX}{name.upper()}{where} = {shown}: {error['msg']}")
    return SettingsError("; ".join(problems))
