"""Moodle REST web-service client: one POST per call, typed errors, retries only for reads."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import urlsplit

import ijson
import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from lms_connectors.exceptions import (
    InvalidRequest,
    MoodleUnavailable,
    error_from_body,
)
from lms_connectors.moodle.encoding import encode_params
from lms_connectors.moodle.functions import READ_FUNCTIONS
from lms_connectors.moodle.streaming import STREAM_PEEK, Chained, read_raw

T = TypeVar("T")

logger = logging.getLogger(__name__)

REST_PATH = "/webservice/rest/server.php"
URL_HINT = (
    "check PROFROUTE_MOODLE_URL: it must be the Moodle site root (the page that shows the "
    "front page), e.g. https://moodle.example.ru"
)
REST_DISABLED_HINT = (
    "enable web services and the REST protocol in Site administration › Server › Web services "
    "› Manage protocols, and check that no proxy blocks " + REST_PATH
)


def _encode(function: str, params: Mapping[str, object] | None) -> list[tuple[str, str]]:
    """The form fields of ``params``, or InvalidRequest naming ``function``."""
    try:
        return encode_params(params or {})
    except InvalidRequest as err:
        raise InvalidRequest(err.message, function=function) from err


def _is_transient(err: BaseException) -> bool:
    """True for a failure a retry may cure (network, timeout, HTTP 5xx, a cut answer)."""
    return isinstance(err, MoodleUnavailable) and err.transient


def _log_retry(function: str, attempts: int, state: RetryCallState) -> None:
    """Log a failed attempt at warning before tenacity sleeps and tries again."""
    error = state.outcome.exception() if state.outcome else None
    delay = state.next_action.sleep if state.next_action else 0.0
    logger.warning("Moodle %s attempt %d of %d failed, retrying in %.1f s: %s",
                   function, state.attempt_number, attempts, delay, error)


class WebServiceCaller(Protocol):
    """What the typed API needs from a client; test fakes implement the same method."""

    calls: int  # web-service calls made so far (the sync reports the difference)
    calls_by_function: Counter[str]  # the same, per web-service function

    def call(self, function: str, params: Mapping[str, object] | None = None) -> Any:
        """Call one web-service function and return its decoded JSON answer."""

    def call_items(self, function: str, params: Mapping[str, object] | None, prefix: str,
                   reduce: Callable[[Any], T]) -> list[T]:
        """Call a read function and reduce the items under ``prefix`` while they stream."""


def normalise_base_url(url: str) -> str:
    """Return the Moodle site root without a trailing slash.

    Accepts ``https://moodle.example.ru``, with a trailing slash, or the full REST
    endpoint address.

    Raises:
        InvalidRequest: The address is not an absolute http(s) URL.
    """
    root = url.strip().rstrip("/")
    if root.endswith(REST_PATH):
        root = root[: -len(REST_PATH)]
    parts = urlsplit(root)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise InvalidRequest(f"Moodle address {url!r} is not an http(s) site root", hint=URL_HINT)
    return root


class MoodleClient:
    """Calls Moodle web-service functions over REST with JSON answers.

    Every request has a timeout. A transient failure (:class:`MoodleUnavailable`) of a
    function in ``READ_FUNCTIONS`` is retried ``retries`` times with exponential backoff
    (``backoff``, twice that, …); a write is never retried. ``calls`` counts the HTTP
    requests sent, retries included, and ``calls_by_function`` the same per function: both
    are counted at the transport, the one place every request goes through, under a lock
    (calls may run in parallel threads). The token never appears in errors, logs or ``repr``.

    Args:
        base_url: The Moodle site root, e.g. ``https://moodle.example.ru``.
        token: The web-service token of the ProfRoute service.
        session: The ``requests`` session to use (tests mount a fake transport adapter on it).
        timeout: Seconds to wait for connect and for each read.
        retries: Extra attempts for a read after a transient failure.
        backoff: Seconds before the first retry; doubled before each next one.
        sleep: Called with the delay before a retry (tests pass a recorder).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        session: requests.Session | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self.endpoint = self.base_url + REST_PATH
        self._token = token
        self.session = session if session is not None else requests.Session()
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self._sleep = sleep
        self.calls = 0
        self.calls_by_function: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MoodleClient({self.base_url!r})"

    def call(self, function: str, params: Mapping[str, object] | None = None) -> Any:
        """Call ``function`` with ``params`` and return the decoded JSON (``None`` for null).

        Raises:
            InvalidRequest: ``params`` cannot be encoded; nothing was sent.
            MoodleUnavailable: No usable answer (network, timeout, HTTP error, non-JSON
                body), after the retries a read is allowed.
            MoodleAPIError: Moodle answered with an error object; the subclass follows
                its ``errorcode`` (``InvalidToken``, ``FunctionNotInService``…).
        """
        fields = _encode(function, params)
        return self._retrying(function)(self._call_once, function, fields)

    def call_items(self, function: str, params: Mapping[str, object] | None, prefix: str,
                   reduce: Callable[[Any], T]) -> list[T]:
        """Call a read function with a large answer and reduce its items while they stream.

        The body is parsed incrementally (ijson): only ``reduce(item)`` of each item under
        ``prefix`` (e.g. ``"usergrades.item"``) is kept, so memory does not grow with the
        size of the answer. Errors and retries behave as in :meth:`call`.

        Raises:
            The same as :meth:`call`.
        """
        if function not in READ_FUNCTIONS:
            raise InvalidRequest("only read functions can be streamed", function=function)
        fields = _encode(function, params)
        return cast(list[T], self._retrying(function)(self._stream_once, function, fields,
                                                      prefix, reduce))

    def _retrying(self, function: str) -> Retrying:
        """The retry policy of one call: a read's transient failures, exponential backoff.

        A write gets a single attempt. The last error is raised as it is (``reraise``), never
        wrapped in ``tenacity.RetryError``.
        """
        attempts = 1 + (self.retries if function in READ_FUNCTIONS else 0)
        return Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=self.backoff),
            retry=retry_if_exception(_is_transient),
            before_sleep=partial(_log_retry, function, attempts),
            sleep=self._sleep,
            reraise=True,
        )

    def _stream_once(self, function: str, fields: list[tuple[str, str]], prefix: str,
                     reduce: Callable[[Any], T]) -> list[T]:
        """One attempt of :meth:`call_items`; a body cut anywhere is a transient failure."""
        response = self._post(function, fields, stream=True)
        try:
            return self._stream_items(function, response, prefix, reduce)
        except ijson.JSONError as err:
            raise MoodleUnavailable(f"the answer of {self.endpoint} broke off: {err}",
                                    function=function) from err
        except (requests.RequestException, OSError) as err:
            message = self._scrub(f"{type(err).__name__}: {err}")
            raise MoodleUnavailable(message, function=function) from err
        finally:
            response.close()

    def _stream_items(self, function: str, response: requests.Response, prefix: str,
                      reduce: Callable[[Any], T]) -> list[T]:
        """Peek at the head of a streamed answer, then reduce its items as they arrive."""
        if response.status_code != 200:
            self._decode(function, response)
        raw = response.raw if response.raw is not None else io.BytesIO(response.content)
        head = read_raw(raw, STREAM_PEEK)
        if not head.lstrip().startswith(b"{") or head.lstrip().startswith(b'{"exception"'):
            response._content = head + read_raw(raw, -1)  # noqa: SLF001 - a small answer
            self._check_body(function, self._decode(function, response))
            raise MoodleUnavailable(f"unexpected answer to {function}", function=function)
        items = ijson.items(Chained(head, raw), prefix, use_float=True)
        return [reduce(item) for item in items]

    def _post(self, function: str, fields: list[tuple[str, str]], *,
              stream: bool = False) -> requests.Response:
        data = [
            ("wstoken", self._token),
            ("wsfunction", function),
            ("moodlewsrestformat", "json"),
            *fields,
        ]
        with self._count_lock:
            self.calls += 1
            self.calls_by_function[function] += 1
        logger.debug("Moodle call %s with %d fields", function, len(fields))
        try:
            return self.session.post(self.endpoint, data=data, timeout=self.timeout,
                                     allow_redirects=False, stream=stream)
        except requests.Timeout as err:
            raise MoodleUnavailable(
                f"no answer from {self.endpoint} within {self.timeout:g} s", function=function
            ) from err
        except requests.RequestException as err:
            message = self._scrub(f"{type(err).__name__}: {err}")
            raise MoodleUnavailable(message, function=function) from err

    def _check_body(self, function: str, body: Any) -> Any:
        if isinstance(body, dict):
            if "exception" in body:
                raise error_from_body(self._scrub_body(body), function)
            self._log_warnings(function, body.get("warnings"))
        return body

    def _call_once(self, function: str, fields: list[tuple[str, str]]) -> Any:
        response = self._post(function, fields)
        return self._check_body(function, self._decode(function, response))

    def _decode(self, function: str, response: requests.Response) -> Any:
        """Check the HTTP status and decode the JSON body, or raise MoodleUnavailable."""
        status = response.status_code
        if 300 <= status < 400:
            where = response.headers.get("Location", "?")
            raise MoodleUnavailable(
                f"HTTP {status} redirect to {where}",
                function=function,
                hint=URL_HINT + "; use the address Moodle redirects to (https, www…)",
                transient=False,
            )
        if status == 403:
            raise MoodleUnavailable(
                "HTTP 403 Forbidden", function=function, hint=REST_DISABLED_HINT, transient=False
            )
        if status >= 500:
            raise MoodleUnavailable(f"HTTP {status} from {self.endpoint}", function=function)
        if status != 200:
            raise MoodleUnavailable(
                f"HTTP {status} from {self.endpoint}",
                function=function,
                hint=URL_HINT,
                transient=False,
            )
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "unknown type").split(";")[0]
            raise MoodleUnavailable(
                f"the answer of {self.endpoint} is not JSON ({kind}, {len(response.content)} "
                "bytes), e.g. an HTML error page",
                function=function,
                hint=URL_HINT + "; if it is, Moodle or a proxy in front of it is failing",
            ) from None

    def _log_warnings(self, function: str, warnings: object) -> None:
        if not isinstance(warnings, list):
            return
        for warning in warnings:
            if not isinstance(warning, dict):
                continue
            logger.warning(
                "Moodle %s warning %s (item %s %s): %s",
                function,
                warning.get("warningcode"),
                warning.get("item"),
                warning.get("itemid"),
                self._scrub(str(warning.get("message", ""))),
            )

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "[token]") if self._token else text

    def _scrub_body(self, body: dict[str, Any]) -> dict[str, Any]:
        return {k: self._scrub(v) if isinstance(v, str) else v for k, v in body.items()}

