"""The reader's language for texts made at display time (route items' and unmet needs'
reasons): Russian unless the reader picks English.

Pages stay Russian first with English beside; what a page renders from stored records (an
item's explanation) comes in one language: ``?lang=en`` or ``?lang=ru`` picks it and the
session keeps the choice; without one, the browser's ``Accept-Language`` decides between the
two, Russian when it names neither.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, request, session
from markupsafe import Markup

from app.routes.explain import LANGS, item_reasons
from app.routes.explain import unmet_needs as _unmet_needs

SESSION_KEY = "lang"


def reader_lang() -> str:
    """``ru`` or ``en``: the request's ``?lang=``, else the session's choice, else the
    browser's preference between the two, else ``ru``."""
    chosen = request.args.get("lang")
    if chosen in LANGS:
        return str(chosen)
    kept = session.get(SESSION_KEY)
    if kept in LANGS:
        return str(kept)
    return request.accept_languages.best_match(LANGS, default="ru") or "ru"


def keep_choice() -> None:
    """Before every request: a ``?lang=`` the reader gave is kept in their session."""
    chosen = request.args.get("lang")
    if chosen in LANGS and session.get(SESSION_KEY) != chosen:
        session[SESSION_KEY] = chosen


def reasons_of(item: object) -> list[str]:
    """A route item's reasons in the reader's language (templates)."""
    return item_reasons(getattr(item, "explanation", None), getattr(item, "reasons", None),
                        reader_lang())


def unmet_needs(teacher_id: int) -> list[tuple[str, str, str, str]]:
    """The teacher's unmet needs with their reasons in the reader's language."""
    return _unmet_needs(teacher_id, reader_lang())


def lang_switch() -> Markup:
    """A link to this page in the other language (the navigation's last link)."""
    other = "ru" if reader_lang() == "en" else "en"
    query = urlencode([*((k, v) for k, v in request.args.items(multi=True) if k != "lang"),
                       ("lang", other)])
    label = "Русский" if other == "ru" else "English"
    return Markup('<a href="{}?{}" lang="{}" class="lang">{}</a>').format(
        request.path, query, other, label)


def init_app(app: Flask) -> None:
    """Keep the reader's choice and give templates ``reader_lang()``, ``reasons_of(item)``,
    ``unmet_needs(teacher_id)`` and ``lang_switch()``."""
    app.before_request(keep_choice)
    app.jinja_env.globals.update(reader_lang=reader_lang, reasons_of=reasons_of,
                                 unmet_needs=unmet_needs, lang_switch=lang_switch)
