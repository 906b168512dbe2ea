"""How to reach the LRS: one typed pydantic-settings class, from arguments or the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

XAPIVersion = Literal["1.0.3", "2.0.0"]
XAPI_VERSIONS: tuple[str, ...] = get_args(XAPIVersion)
ENV_PREFIX = "PROFROUTE_LRS_"
# Values an error may repeat: the endpoint may carry credentials, the others are credentials.
_SHOWN = frozenset({"version", "timeout", "retries", "backoff"})

# The environment of the from_env call in progress; a plain LRSSettings(...) reads none.
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("profroute_lrs_environ",
                                                           default=None)


class LRSSettings(BaseSettings):
    """How to reach the LRS. The credentials never appear in ``repr``, logs or errors.

    ``LRSSettings(endpoint, ...)`` is a plain value built from its arguments; :meth:`from_env`
    reads ``PROFROUTE_LRS_<NAME>`` for each attribute.

    Attributes:
        endpoint: the xAPI base URL (``http://host/xAPI/``); a trailing slash is added.
        username: HTTP basic-auth user (empty: no authentication).
        password: HTTP basic-auth password.
        version: the ``X-Experience-API-Version`` sent, "1.0.3" or "2.0.0".
        timeout: seconds to wait for a connection and for each read.
        retries: further attempts of a failed read (GET) before giving up.
        backoff: seconds before the first retry, doubled for each next one.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore",
                                      hide_input_in_errors=True)

    endpoint: str
    username: str = Field(default="", repr=False)
    password: str = Field(default="", repr=False)
    version: XAPIVersion = "1.0.3"
    timeout: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=0)
    backoff: float = Field(default=0.5, ge=0)

    def __init__(self, endpoint: str | None = None, /, **values: Any) -> None:
        """Build the settings; the endpoint may be given by position.

        Raises:
            TypeError: an argument names no setting.
            ValueError: a value the client cannot use, named without repeating a credential.
        """
        if endpoint is not None:
            values["endpoint"] = endpoint
        unknown = sorted(set(values) - set(type(self).model_fields))
        if unknown:
            raise TypeError(f"LRSSettings got unknown settings: {', '.join(unknown)}")
        try:
            super().__init__(**values)
        except ValidationError as err:
            raise ValueError(_problems(err)) from err  # err hides the inputs

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The arguments, then the environment when :meth:`from_env` is reading it."""
        environ = _ENVIRON.get()
        if environ is None:
            return (init_settings,)
        return (init_settings, EnvironSource(settings_cls, environ))

    @field_validator("endpoint")
    @classmethod
    def _normalise_endpoint(cls, value: str) -> str:
        """Refuse a URL the client cannot use; end it with one slash."""
        endpoint = value.strip()
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("LRS endpoint must be an http(s) URL such as http://host/xAPI/")
        if parts.username or parts.password:
            raise ValueError("LRS endpoint must not carry credentials; set username/password")
        if parts.query or parts.fragment:
            raise ValueError("LRS endpoint must not carry a query or fragment")
        return endpoint.rstrip("/") + "/"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LRSSettings:
        """Settings from ``PROFROUTE_LRS_ENDPOINT``, ``_USERNAME``, ``_PASSWORD``, ``_VERSION``,
        ``_TIMEOUT``, ``_RETRIES`` and ``_BACKOFF``.

        Raises:
            ValueError: the endpoint is missing or a value is invalid.
        """
        env = os.environ if environ is None else environ
        if not env.get(ENV_PREFIX + "ENDPOINT"):
            raise ValueError(f"{ENV_PREFIX}ENDPOINT is not set")
        token = _ENVIRON.set(env)
        try:
            return cls()
        finally:
            _ENVIRON.reset(token)

    @property
    def statements_url(self) -> str:
        """The Statements resource."""
        return self.endpoint + "statements"


class EnvironSource(EnvSettingsSource):
    """The settings class's variables (its ``env_prefix``) read from a given environment
    instead of ``os.environ``; ``app.settings`` uses it too."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        if self.case_sensitive:
            return dict(self._environ)
        return {key.lower(): value for key, value in self._environ.items()}


def _problems(err: ValidationError) -> str:
    """Each bad setting by its variable name, with its value unless it may hold a credential."""
    problems = []
    for error in err.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        shown = f" = {error.get('input')!r}" if name in _SHOWN else ""
        cause = (error.get("ctx") or {}).get("error")
        message = str(cause) if error["type"] == "value_error" and cause else error["msg"]
        problems.append(f"{ENV_PREFIX}{name.upper()}{shown}: {message}")
    return "; ".join(problems)
