"""Small persistence and file helpers shared by the stages."""

from __future__ import annotations

from pathlib import Path
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


def read_file(path: str | Path) -> bytes:
    """The bytes of an imported file.

    :raise ValueError: the file cannot be read (the message names it and why).
    """
    file = Path(path)
    try:
        return file.read_bytes()
    except OSError as err:
        raise ValueError(f"{file}: {err.strerror}") from err
