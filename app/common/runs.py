"""Use-cases: each stage of the pipeline, owning its transactions."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

from app.extensions import db
from app.models import RunLog
from app.models.assessment import utcnow

logger = logging.getLogger(__name__)
# The run log row of the stage running now: audit events name it (app.common.audit)
_CURRENT_RUN: ContextVar[int | None] = ContextVar("profroute_current_run", default=None)


class Summary:
    """Mixin for a stage's summary dataclass: its figures as plain values."""

    def as_dict(self) -> dict[str, object]:
        """Plain values for the run log and JSON."""
        return dict(self.__dict__)


@contextlib.contextmanager
def logged_run(stage: str) -> Iterator[RunLog]:
    """Record a stage's run in the run log: its summary on success, its error on failure."""
    run = RunLog(stage=stage, status="running", summary={})
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    token = _CURRENT_RUN.set(run_id)
    try:
        yield run
    except BaseException as err:
        db.session.rollback()
        failed = db.session.get(RunLog, run_id)
        if failed is not None:
            failed.status = "failed"
            failed.error = f"{type(err).__name__}: {err}"[:2000]
            failed.finished_at = utcnow()
            db.session.commit()
        raise
    finally:
        _CURRENT_RUN.reset(token)
    run.status = "ok"
    run.finished_at = utcnow()
    db.session.commit()


def current_run_id() -> int | None:
    """The run log id of the stage run in progress (:func:`logged_run`), or None."""
    return _CURRENT_RUN.get()
