"""Migration 0022 gives every stored offer one default session carrying its seats and dates."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from app import MIGRATIONS
from app.extensions import db
from app.models import OfferSession


def test_existing_offers_get_a_default_session_with_their_seats_and_dates(app: Flask) -> None:
    downgrade(directory=MIGRATIONS, revision="0021")
    offer = sa.table("offer", sa.column("key", sa.String), sa.column("kind", sa.String),
                     sa.column("title", sa.String), sa.column("seats", sa.Integer),
                     sa.column("starts_on", sa.Date), sa.column("ends_on", sa.Date),
                     sa.column("source", sa.String))
    db.session.execute(offer.insert(), [
        {"key": "kpk-1", "kind": "course", "title": "КПК", "seats": 12, "source": "catalogue",
         "starts_on": dt.date(2027, 2, 1), "ends_on": dt.date(2027, 2, 20)},
        {"key": "mentor-1", "kind": "mentoring", "title": "Наставник", "seats": None,
         "source": "catalogue", "starts_on": None, "ends_on": None}])
    db.session.commit()
    upgrade(directory=MIGRATIONS)
    db.session.expire_all()
    sessions = sorted((s.offer.key, s.key, s.seats, s.starts_on, s.ends_on, s.place)
                      for s in db.session.scalars(select(OfferSession)))
    assert sessions == [
        ("kpk-1", "default", 12, dt.date(2027, 2, 1), dt.date(2027, 2, 20), ""),
        ("mentor-1", "default", None, None, None, "")]
