"""Sending a batch the LRS refuses in halves, so only the bad statements stay behind."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from xapi.exceptions import LRSConflict, LRSRejected, XAPIError

logger = logging.getLogger(__name__)

Statement = dict[str, Any]
Rejected = list[tuple[Statement, XAPIError]]


def post_in_halves(post: Callable[[Sequence[Statement]], list[str]],
                   statements: Sequence[Statement],
                   batch_size: int) -> tuple[list[str], Rejected]:
    """POST ``statements`` in batches of ``batch_size``, halving every refused batch.

    An xAPI POST is atomic: a refused batch stored nothing, so its halves can be resent.
    A single statement refused with 400 is rejected with its error; a single statement
    answered 409 already holds its id (ProfRoute's ids are per event) and counts as stored.
    Every statement must already carry its id.

    Raises:
        LRSAuthError, LRSUnavailable: from ``post``; the batches sent before stay stored.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    stored: list[str] = []
    rejected: Rejected = []
    for start in range(0, len(statements), batch_size):
        _post_chunk(post, list(statements[start:start + batch_size]), stored, rejected)
    if rejected:
        logger.warning("LRS rejected %d of %d statements", len(rejected), len(statements))
    return stored, rejected


def _post_chunk(post: Callable[[Sequence[Statement]], list[str]], chunk: list[Statement],
                stored: list[str], rejected: Rejected) -> None:
    try:
        stored.extend(post(chunk))
        return
    except (LRSRejected, LRSConflict) as err:
        if len(chunk) > 1:
            logger.info("LRS refused a batch of %d (%s); splitting it", len(chunk), err.status)
            middle = len(chunk) // 2
            _post_chunk(post, chunk[:middle], stored, rejected)
            _post_chunk(post, chunk[middle:], stored, rejected)
        elif isinstance(err, LRSConflict):
            logger.info("LRS already holds statement %s (409): treated as stored", chunk[0]["id"])
            stored.append(str(chunk[0]["id"]))
        else:
            logger.warning("LRS rejected statement %s: %s", chunk[0].get("id"), err.reason)
            rejected.append((chunk[0], err))
