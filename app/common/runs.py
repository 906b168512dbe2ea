"""Use-cases: each stage of the pipeline, owning its transactions."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from app.extensions import db
from app.models import RunLog
from app.models.assessment import utcnow

logger = logging.getLogger(__name__)


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
    run.status = "ok"
    run.finished_at = utcnow()
    db.session.commit()
