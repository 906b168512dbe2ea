"""The health check a load balancer or monitor calls: public, and shows no data."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.web.access import public

logger = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/health")
@public
def health() -> ResponseReturnValue:
    """``{"status": "ok"}`` when the database answers.

    :raise 503: the database does not answer (``{"status": "unavailable"}``).
    """
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as err:
        logger.error("health check: the database does not answer: %s", err)
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "no answer"}), 503
    return jsonify({"status": "ok"})
