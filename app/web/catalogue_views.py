"""The catalogue page: offers of the five kinds with their sessions, seats used and left."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from app.accounts.roles import ADMIN, METHODOLOGIST
from app.models.route import OFFER_KINDS
from app.registry.listing import FORMAT_RU, KIND_RU, catalogue
from app.web.access import allow

bp = Blueprint("catalogue", __name__, template_folder="templates")


@bp.get("/catalogue")
@allow(METHODOLOGIST, ADMIN)
def catalogue_page() -> ResponseReturnValue:
    """Every offer (``?kind=`` one of the five kinds) with its sessions' dates, places and
    seats used and left. The catalogue names no teacher: every methodologist sees it whole.

    An unknown ``kind`` shows every offer.
    """
    kind = request.args.get("kind") or None
    chosen = kind if kind in OFFER_KINDS else None
    return render_template("catalogue.html", offers=catalogue(chosen), kind=chosen,
                           kinds=[(k, KIND_RU[k]) for k in OFFER_KINDS], kind_ru=KIND_RU,
                           format_ru=FORMAT_RU)
