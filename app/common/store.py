"""Small persistence helpers shared by the use-cases."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select

from app.extensions import db

M = TypeVar("M")


def get_or_create(model: type[M], defaults: dict[str, Any] | None = None, **keys: Any) -> M:
    """The row with these key values, created (and flushed) when absent."""
    row = db.session.scalars(select(model).filter_by(**keys)).first()
    if row is None:
        row = model(**keys, **(defaults or {}))
        db.session.add(row)
        db.session.flush()
    return row
