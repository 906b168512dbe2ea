"""Entry → final diagnostic: what changed, per competency, per school and per teacher (of the
caller's scope)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from app.accounts.roles import ADMIN, METHODOLOGIST
from app.reports.analytics import diagnostic_pair, dynamics
from app.reports.maps import policy_lines
from app.web.access import allow, current_scope
from app.web.inputs import id_arg
from app.web.lang import reader_lang
from app.web.views import LEVEL_RU

bp = Blueprint("dynamics", __name__, template_folder="templates")


@bp.get("/dynamics")
@allow(METHODOLOGIST, ADMIN)
def dynamics_page() -> str:
    """The latest entry diagnostic against a final one (``?final=<id>``, else the latest).

    :raise 400: ``final`` is not a number.
    :raise 404: ``final`` is past the largest id a table holds.
    """
    pair = diagnostic_pair(id_arg(request.args, "final"))
    data = dynamics(*pair, scope=current_scope()) if pair else None
    if data is not None and pair is not None and reader_lang() == "en":
        for key, diagnostic in zip(("entry", "final"), pair, strict=True):
            part = data[key]
            assert isinstance(part, dict)  # analytics.dynamics's {"id", "name", "policy"}
            part["policy"] = policy_lines(diagnostic, "en")
    return render_template("dynamics.html", data=data, levels=LEVEL_RU)
