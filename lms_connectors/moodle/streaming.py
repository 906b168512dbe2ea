"""Reading a large answer as a stream: a peek at its head, then the rest, decoded."""

from __future__ import annotations

from typing import Any

import requests
from urllib3.exceptions import DecodeError, HTTPError, ProtocolError, ReadTimeoutError

STREAM_PEEK = 256  # bytes read to tell a streamed answer from an error object or a page


class Chained:
    """A file-like reader giving ``head`` first, then the rest of ``raw``."""

    def __init__(self, head: bytes, raw: Any) -> None:
        self._head = head
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size < 0 or size >= len(self._head):
                out, self._head = self._head, b""
                return out + (read_raw(self._raw, size - len(out)) if size > len(out) else b"")
            out, self._head = self._head[:size], self._head[size:]
            return out
        return read_raw(self._raw, size)


def read_raw(raw: Any, size: int) -> bytes:
    """Read decoded bytes from urllib3's raw response (or any file-like test double).

    Raises:
        requests.RequestException: The body broke off, timed out or did not decode:
            urllib3's error mapped as requests maps it for a body it reads itself.
    """
    amount = None if size < 0 else size
    try:
        data = raw.read(amount, decode_content=True)
    except TypeError:  # a plain file object (tests' transport adapters)
        data = raw.read() if amount is None else raw.read(amount)
    except HTTPError as err:
        raise _as_requests_error(err) from err
    return data or b""


def _as_requests_error(err: HTTPError) -> requests.RequestException:
    """The requests exception for urllib3's ``err`` (as ``Response.iter_content`` maps it)."""
    if isinstance(err, ProtocolError):  # cut mid-body: IncompleteRead, connection reset
        return requests.exceptions.ChunkedEncodingError(err)
    if isinstance(err, DecodeError):
        return requests.exceptions.ContentDecodingError(err)
    if isinstance(err, ReadTimeoutError):
        return requests.exceptions.ConnectionError(err)
    return requests.RequestException(err)
