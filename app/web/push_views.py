"""The push page: what the last push did, and what waits for a person (held courses,
refusals, uncertain messages to resolve)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.roles import ADMIN
from app.i18n import N_
from app.push.state import MARK_DELIVERED, SEND_AGAIN, ResolveError, push_state, resolve_message
from app.web.access import Rule, blueprint_rule

bp = Blueprint("push", __name__, template_folder="templates")
blueprint_rule(bp, Rule(roles=frozenset({ADMIN})))  # the push is the admin's
DONE_RU = {MARK_DELIVERED: N_("отмечено как доставленное"),
           SEND_AGAIN: N_("будет отправлено снова при следующей отправке")}


@bp.get("/push")
def push_page() -> ResponseReturnValue:
    """The last push's figures and the rows that wait or need a decision."""
    return render_template("push.html", **push_state())


@bp.post("/push/messages/<int:row_id>")
def resolve(row_id: int) -> ResponseReturnValue:
    """Resolve one uncertain message (``action``: delivered or resend); CSRF-protected.

    :raise 400: the message does not wait for a decision, or an unknown action.
    """
    action = request.form.get("action", "")
    try:
        row = resolve_message(row_id, action)
    except ResolveError as err:
        return render_template("error.html", title=_("Действие не выполнено"),
                               message=str(err)), 400
    flash(_("Сообщение %(key)s: %(done)s (%(who)s).", key=row.dedupe_key,
            done=_(DONE_RU[action]), who=current_user.name), "saved")
    return redirect("/push")
