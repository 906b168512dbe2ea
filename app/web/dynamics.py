"""Entry → final diagnostic: what changed, per competency, per school and per teacher (of the
caller's scope)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from app.accounts.roles import ADMIN, METHODOLOGIST
from app.reports.analytics import diagnostic_pair, dynamics
from app.web.access import allow, current_scope
from app.web.views import LEVEL_RU

bp = Blueprint("dynamics", __name__, template_folder="templates")


@bp.get("/dynamics")
@allow(METHODOLOGIST, ADMIN)
def dynamics_page() -> str:
    """The latest entry diagnostic against a final one (``?final=<id>``, else the latest).

    :raise 400: ``final`` is not a number.
    """
    final = request.args.get("final", "").strip()
    if final and not final.isdigit():
        abort(400, description=f"final = {final!r}: write the id of a final diagnostic")
    pair = diagnostic_pair(int(final) if final else None)
    data = dynamics(*pair, scope=current_scope()) if pair else None
    return render_template("dynamics.html", data=data, levels=LEVEL_RU)
