"""A small xAPI client on requests: statements in (paged reads) and out (PUT, batched POST)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from xapi import batching
from xapi.exceptions import (
    LRSAuthError,
    LRSConflict,
    LRSProtocolError,
    LRSRejected,
    LRSUnavailable,
    XAPIError,
)
from xapi.settings import LRSSettings
from xapi.times import format_timestamp, parse_instant

logger = logging.getLogger(__name__)

__all__ = ["LRSClient", "LRSSettings", "StatementPage", "with_ids"]

Statement = dict[str, Any]
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"


@dataclass(frozen=True)
class StatementPage:
    """One page of a statement query and the LRS's ``X-Experience-API-Consistent-Through``:
    every statement it stored before that instant is in its answers (None when not sent)."""

    statements: list[Statement]
    consistent_through: dt.datetime | None


class LRSClient:
    """Reads and writes statements of one LRS.

    Reads (GET) are retried ``settings.retries`` times while the LRS is unavailable,
    waiting ``settings.backoff`` seconds, then twice that, and so on; writes never are.

    Args:
        settings: where the LRS is and how to authenticate.
        session: an injected ``requests.Session`` (tests pass one with a fake transport);
            a new one is made when omitted.
        sleep: called with the delay before a retry (tests pass a recorder).
    """

    def __init__(self, settings: LRSSettings, session: requests.Session | None = None, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.session = session or requests.Session()
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"LRSClient(endpoint={self.settings.endpoint!r})"

    def get_statements(self, *, since: str | int | dt.datetime | None = None,
                       until: str | int | dt.datetime | None = None, verb: str | None = None,
                       activity: str | None = None, agent: Mapping[str, Any] | None = None,
                       limit: int | None = None, ascending: bool = True) -> Iterator[Statement]:
        """Yield the matching statements, following ``more`` links to the last page.

        ``since``/``until`` filter on the time the LRS stored a statement; ``limit`` is the
        page size (xAPI semantics), every page is read. Each page read is retried.

        Raises:
            LRSUnavailable: the LRS stayed unreachable or failing after the retries.
            LRSRejected, LRSAuthError: the LRS refused the query or the credentials.
            LRSProtocolError: an answer that is not a StatementResult.
        """
        for page in self.get_statement_pages(since=since, until=until, verb=verb,
                                             activity=activity, agent=agent, limit=limit,
                                             ascending=ascending):
            yield from page.statements

    def get_statement_pages(self, *, since: str | int | dt.datetime | None = None,
                            until: str | int | dt.datetime | None = None,
                            verb: str | None = None, activity: str | None = None,
                            agent: Mapping[str, Any] | None = None, limit: int | None = None,
                            ascending: bool = True) -> Iterator[StatementPage]:
        """The pages of ``get_statements``, each with the LRS's consistency instant.

        Raises: as ``get_statements``.
        """
        params: dict[str, str] | None = _query_params(
            since=since, until=until, verb=verb, activity=activity, agent=agent, limit=limit,
            ascending=ascending)
        url: str | None = self.settings.statements_url
        seen: set[str] = set()
        while url:
            response = self._get(url, params)
            page = _json(response)
            statements = page.get("statements") if isinstance(page, dict) else None
            if not isinstance(statements, list):
                raise LRSProtocolError("LRS answered a statement query without a statement list")
            yield StatementPage(statements, _consistent_through(response))
            more = page.get("more") or ""
            url, params = (urljoin(url, more), None) if more and statements else (None, None)
            if url in seen:
                logger.warning("LRS repeated the more link %s; stopping the read", url)
                break
            if url:
                seen.add(url)

    def statement(self, statement_id: str) -> Statement | None:
        """The statement with this id, or None when the LRS does not have it.

        Tolerates an LRS (Ralph) that answers a StatementResult list instead of the statement.
        """
        try:
            body = _json(self._get(self.settings.statements_url, {"statementId": statement_id}))
        except LRSRejected as err:
            if err.status == 404:
                return None
            raise
        candidates = body.get("statements", [body]) if isinstance(body, dict) else body
        if not isinstance(candidates, list):
            raise LRSProtocolError("LRS answered a statement read with neither object nor list")
        for candidate in candidates:
            if isinstance(candidate, dict) and candidate.get("id") == statement_id:
                return candidate
        return None

    def put_statement(self, statement: Mapping[str, Any]) -> str:
        """Store one statement under its own id; return the id.

        An LRS answering 409 already holds a statement with that id: as ProfRoute's ids are
        deterministic per event, the statement is already stored and this is not an error.

        Raises:
            ValueError: the statement has no id.
            LRSRejected, LRSAuthError, LRSUnavailable: the write failed (never retried).
        """
        statement_id = statement.get("id")
        if not statement_id:
            raise ValueError("put_statement needs a statement with an id")
        try:
            self._send("PUT", {"statementId": statement_id}, dict(statement))
        except LRSConflict:
            logger.info("LRS already holds statement %s (409): treated as stored", statement_id)
        return str(statement_id)

    def post_statements(self, statements: Sequence[Mapping[str, Any]]) -> list[str]:
        """Store a batch in one POST; return the ids of the batch in its order.

        A statement without an id gets a random one here, so the ids are known even when the
        LRS answers 204 (all already stored) and a resend of the same list is harmless.

        Raises:
            LRSRejected: the LRS refused the batch (400), see ``post_batch_split``.
            LRSConflict: a statement id already holds a different statement.
            LRSAuthError, LRSUnavailable: the write failed (never retried).
        """
        batch = with_ids(statements)
        if not batch:
            return []
        response = self._send("POST", None, batch)
        ids = [str(item["id"]) for item in batch]
        if response.status_code == 200 and response.content:
            returned = _json(response)
            if not isinstance(returned, list) or not set(map(str, returned)) <= set(ids):
                logger.warning("LRS returned ids that were not in the batch: %.200s", returned)
        return ids

    def post_batch_split(self, statements: Sequence[Mapping[str, Any]], *,
                         batch_size: int = 100
                         ) -> tuple[list[str], list[tuple[Statement, XAPIError]]]:
        """POST in batches; a refused batch is split in halves until the bad statements are alone.

        Returns:
            The ids stored (or already held) and the rejected statements with their errors.

        Raises:
            LRSAuthError, LRSUnavailable: nothing more can be sent now; what was sent stays.
        """
        return batching.post_in_halves(self.post_statements, with_ids(statements), batch_size)

    def _send(self, method: str, params: dict[str, str] | None,
              body: Any) -> requests.Response:
        """One write: never retried, as the LRS may have stored it before failing."""
        return self._request(method, self.settings.statements_url, params, body)

    def _get(self, url: str, params: dict[str, str] | None) -> requests.Response:
        """A read, retried with exponential backoff while the LRS is unavailable.

        ``reraise`` gives the caller the last ``LRSUnavailable`` itself, not a RetryError.
        """
        policy = Retrying(stop=stop_after_attempt(1 + self.settings.retries),
                          wait=wait_exponential(multiplier=self.settings.backoff),
                          retry=retry_if_exception_type(LRSUnavailable),
                          before_sleep=_log_retry, sleep=self._sleep, reraise=True)
        return policy(lambda: self._request("GET", url, params, None))

    def _request(self, method: str, url: str, params: dict[str, str] | None,
                 body: Any) -> requests.Response:
        headers = {"X-Experience-API-Version": self.settings.version}
        auth = (self.settings.username, self.settings.password) if self.settings.username else None
        try:
            response = self.session.request(
                method, url, params=params, json=body, headers=headers, auth=auth,
                timeout=(self.settings.timeout, self.settings.timeout), allow_redirects=False)
        except requests.Timeout as err:
            raise LRSUnavailable(f"LRS did not answer {method} {_path(url)} within "
                                 f"{self.settings.timeout:g} s") from err
        except requests.RequestException as err:
            raise LRSUnavailable(f"LRS unreachable for {method} {_path(url)}: "
                                 f"{type(err).__name__}") from err
        logger.debug("LRS %s %s -> %d", method, _path(url), response.status_code)
        self._raise_for_status(response, method, url)
        return response

    def _raise_for_status(self, response: requests.Response, method: str, url: str) -> None:
        status = response.status_code
        if status < 300:
            return
        reason = self._scrub(_reason(response))
        if status in (401, 403):
            raise LRSAuthError(status, reason)
        if status == 409:
            raise LRSConflict(reason)
        if status >= 500 or status in (408, 429):
            raise LRSUnavailable(f"LRS failed {method} {_path(url)} with HTTP {status}: "
                                 f"{reason}", status)
        raise LRSRejected(status, reason)

    def _scrub(self, text: str) -> str:
        """Remove the credentials from a text the LRS sent back, should it echo them."""
        for secret in (self.settings.password, self.settings.username):
            if secret and len(secret) > 2:
                text = text.replace(secret, "***")
        return text


def _log_retry(state: RetryCallState) -> None:
    """Log a failed read at warning before tenacity sleeps and reads again."""
    error = state.outcome.exception() if state.outcome else None
    delay = state.next_action.sleep if state.next_action else 0.0
    logger.warning("LRS read failed (%s); retry %d in %.1f s", error, state.attempt_number, delay)


def with_ids(statements: Sequence[Mapping[str, Any]]) -> list[Statement]:
    """Copies of the statements, each with an id (a random UUID where one was missing)."""
    return [dict(item) if item.get("id") else {**item, "id": str(uuid.uuid4())}
            for item in statements]


def _query_params(*, since: Any, until: Any, verb: str | None, activity: str | None,
                  agent: Mapping[str, Any] | None, limit: int | None,
                  ascending: bool) -> dict[str, str]:
    params = {"ascending": "true" if ascending else "false"}
    for name, moment in (("since", since), ("until", until)):
        if moment is not None:
            params[name] = moment if isinstance(moment, str) else format_timestamp(moment)
    if verb:
        params["verb"] = verb
    if activity:
        params["activity"] = activity
    if agent:
        params["agent"] = json.dumps(dict(agent), separators=(",", ":"))
    if limit is not None:
        if limit < 1:
            raise ValueError("limit must be a positive page size")
        params["limit"] = str(limit)
    return params


def _consistent_through(response: requests.Response) -> dt.datetime | None:
    """The consistency header as an aware instant; None when absent or unreadable."""
    value = response.headers.get(CONSISTENT_THROUGH)
    if not value:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        logger.warning("LRS sent an unreadable %s: %.40s", CONSISTENT_THROUGH, value)
        return None


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as err:
        raise LRSProtocolError(f"LRS answered HTTP {response.status_code} with a body that is "
                               "not JSON") from err


def _reason(response: requests.Response) -> str:
    """The LRS's own words for a refusal, on one line and at most 300 characters."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body = body.get("detail") or body.get("message") or body.get("error") or body
    if isinstance(body, list) and all(isinstance(item, dict) and "msg" in item for item in body):
        body = "; ".join(f"{'.'.join(map(str, item.get('loc', [])))}: {item['msg']}"
                         for item in body[:3])  # FastAPI-style validation errors (Ralph)
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    text = " ".join(text.split()) or response.reason or "no reason given"
    return text[:300]


def _path(url: str) -> str:
    """The URL without its query, for messages (queries may hold agents)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
