"""What a worker reads on every request but rarely changes, kept per process while the
database's change counters of those tables say it still holds.

Database triggers (migrations 0018 and 0020) replace a table's named counter in
``change_counter`` — by a value never used before, not even by a rolled-back transaction — in
the same transaction as every write to ``policy_revision``, ``competency``,
``competency_framework``, ``diagnostic`` and ``lti_platform`` (and the deficit map's inputs),
by any process (a CLI run, another worker, raw SQL, COPY). A value derived only from those
tables (and from what the process itself holds: its settings, a file's stamp) is kept with
the version (their counters) read *before* it was loaded; a request reads the version once
(one indexed query) and reuses the value only when it is the same. A change committed between
reading the version and loading the value is loaded too, and only costs one more load next
time; a value older than the last committed change is never served.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app, has_request_context, request
from sqlalchemy import Connection, Engine, event, select

from app.extensions import db
from app.models import ChangeCounter

T = TypeVar("T")
_CACHE = "profroute.marker_cache"
_LOCK = threading.Lock()
_READ = "profroute.counters"  # request.environ: this transaction's read of the counters


# The tables whose values a worker keeps (their counters; migration 0020).
WATCHED = ("competency", "competency_framework", "diagnostic", "lti_platform",
           "policy_revision")
_counter_t = ChangeCounter.__table__
# Every counter (a few rows), the others left out in Python: an ``IN`` list would be an
# expanding parameter, its SQL rendered again on every execution.
VERSION = select(_counter_t.c.name, _counter_t.c.value).order_by(_counter_t.c.name)


def counters(connection: Connection | None = None) -> dict[str, int]:
    """Every change counter as the session's transaction sees them (one query on the primary
    key, built once; ``connection``: the session's, when the caller has it already).

    Within a request the counters are read once per transaction: the sign-in check and the
    page share one read. A commit or rollback forgets it, so what a request reads after its
    own write is read again.
    """
    if has_request_context():
        found: dict[str, int] | None = request.environ.get(_READ)
        if found is not None:
            return found
    rows = (connection or db.session.connection()).execute(VERSION).all()
    values: dict[str, int] = dict(rows)  # type: ignore[arg-type]  # (name, value) rows
    if has_request_context():
        request.environ[_READ] = values
    return values


def _transaction_ends(connection: Connection) -> None:
    if has_request_context():
        request.environ.pop(_READ, None)


event.listen(Engine, "commit", _transaction_ends)
event.listen(Engine, "rollback", _transaction_ends)


def current_version(connection: Connection | None = None) -> tuple[int | None, ...]:
    """The watched tables' change counters (see :func:`counters`)."""
    values = counters(connection)
    return tuple(values.get(name) for name in WATCHED)


def kept(name: str, version: Hashable, load: Callable[[], T], stamp: Hashable = None) -> T:
    """The value ``load()`` gave when the marker was ``version`` (and ``stamp`` the same),
    else ``load()`` now, kept for the next request of this app.

    Args:
        version: :func:`current_version`, read by the caller before anything it loads.
        stamp: whatever else the value depends on that the marker does not follow (a file's
            modification time and size), compared as well.
    """
    cache: dict[str, tuple[Hashable, Any]] = current_app.extensions.setdefault(_CACHE, {})
    key = (version, stamp)
    found = cache.get(name)
    if found is not None and found[0] == key:
        return found[1]  # type: ignore[no-any-return]
    value = load()
    with _LOCK:  # gthread workers: the last loader wins, each with its own key
        cache[name] = (key, value)
    return value
