"""How to reach the LRS: one typed settings class, read from arguments or the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

XAPI_VERSIONS = ("1.0.3", "2.0.0")
ENV_PREFIX = "PROFROUTE_LRS_"


@dataclass(frozen=True)
class LRSSettings:
    """How to reach the LRS. The credentials never appear in ``repr``, logs or errors.

    Attributes:
        endpoint: the xAPI base URL (``http://host/xAPI/``); a trailing slash is added.
        username: HTTP basic-auth user (empty: no authentication).
        password: HTTP basic-auth password.
        version: the ``X-Experience-API-Version`` sent, "1.0.3" or "2.0.0".
        timeout: seconds to wait for a connection and for each read.
        retries: further attempts of a failed read (GET) before giving up.
        backoff: seconds before the first retry, doubled for each next one.
    """

    endpoint: str
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    version: str = "1.0.3"
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5

    def __post_init__(self) -> None:
        """Normalise the endpoint; refuse a version, timeout or URL the client cannot use."""
        endpoint = (self.endpoint or "").strip()
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("LRS endpoint must be an http(s) URL such as http://host/xAPI/")
        if parts.username or parts.password:
            raise ValueError("LRS endpoint must not carry credentials; set username/password")
        if parts.query or parts.fragment:
            raise ValueError("LRS endpoint must not carry a query or fragment")
        object.__setattr__(self, "endpoint", endpoint.rstrip("/") + "/")
        if self.version not in XAPI_VERSIONS:
            raise ValueError(f"xAPI version must be one of {XAPI_VERSIONS}, not {self.version!r}")
        if not self.timeout or self.timeout <= 0:
            raise ValueError("LRS timeout must be a positive number of seconds")
        if self.retries < 0 or self.backoff < 0:
            raise ValueError("LRS retries and backoff must not be negative")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LRSSettings:
        """Settings from ``PROFROUTE_LRS_ENDPOINT``, ``_USERNAME``, ``_PASSWORD``, ``_VERSION``
        and ``_TIMEOUT``.

        Raises:
            ValueError: the endpoint is missing or a value is invalid.
        """
        env = os.environ if environ is None else environ
        if not env.get(ENV_PREFIX + "ENDPOINT"):
            raise ValueError(f"{ENV_PREFIX}ENDPOINT is not set")
        return cls(endpoint=env[ENV_PREFIX + "ENDPOINT"],
                   username=env.get(ENV_PREFIX + "USERNAME", ""),
                   password=env.get(ENV_PREFIX + "PASSWORD", ""),
                   version=env.get(ENV_PREFIX + "VERSION", "1.0.3"),
                   timeout=float(env.get(ENV_PREFIX + "TIMEOUT", "10")))

    @property
    def statements_url(self) -> str:
        """The Statements resource."""
        return self.endpoint + "statements"
