"""The pages' language: Russian first, English for whoever chooses it (Flask-Babel).

Texts of the pages and of the views' messages are written in Russian and marked for
translation (``_()`` in templates and views, ``app.i18n.N_`` for labels kept in module
dicts, translated where shown); the English catalog is
``app/translations/en/LC_MESSAGES/messages.po`` (``make translations`` extracts new texts
into it; ``make install`` compiles it). Texts made from stored records (a
route item's reasons, an unmet need) come in the same language.

Which language a request gets, first that applies:

1. ``?lang=ru`` or ``?lang=en`` on the request (an API call, a shared link); the session keeps
   it;
2. the signed-in user's own choice, stored on their login (the switch in the navigation);
3. the choice made in this browser's session before signing in;
4. the browser's ``Accept-Language`` between the two;
5. Russian.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from flask import Flask, abort, has_request_context, redirect, request, session
from flask.typing import ResponseReturnValue
from flask_babel import Babel, force_locale, refresh
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app.accounts.web_users import choose_language
from app.routes.explain import LANGS, item_reasons
from app.routes.explain import unmet_needs as _unmet_needs
from app.web.access import public
from app.web.auth import LANGUAGE_KEY, safe_next

SESSION_KEY = LANGUAGE_KEY
F = TypeVar("F", bound=Callable[..., Any])
NAMES = {"ru": "Русский", "en": "English"}  # each in its own language, as switches show them
babel = Babel()


def reader_lang() -> str:
    """``ru`` or ``en`` for this request (the order is the module's); ``ru`` outside a
    request (the CLI, jobs)."""
    if not has_request_context():
        return "ru"
    chosen = request.args.get("lang")
    if chosen in LANGS:
        return str(chosen)
    own = getattr(current_user, "language", None)
    if own in LANGS:
        return str(own)
    kept = session.get(SESSION_KEY)
    if kept in LANGS:
        return str(kept)
    return request.accept_languages.best_match(LANGS, default="ru") or "ru"


def keep_choice() -> None:
    """Before every request: the language is chosen afresh (Flask-Babel keeps it in ``g``,
    which outlives a request where an app context spans several: tests, a CLI's requests),
    and a ``?lang=`` the reader gave is kept in their session."""
    refresh()
    chosen = request.args.get("lang")
    if chosen in LANGS and session.get(SESSION_KEY) != chosen:
        session[SESSION_KEY] = chosen


@public  # the sign-in page has the switch too
def choose() -> ResponseReturnValue:
    """``POST /language`` (``lang``, ``next``): keep the reader's language — on their login
    when signed in, in the session otherwise — and go back to the page they were on."""
    language = request.form.get("lang", "")
    if language not in LANGS:
        abort(400, description=_("Язык «%(value)s» не поддерживается: выберите ru или en.",
                                 value=language[:20]))
    session[SESSION_KEY] = language
    if current_user.is_authenticated:
        choose_language(int(current_user.id), language)
    return redirect(safe_next(request.form.get("next", "")) or "/")


def in_russian(view: F) -> F:
    """Run ``view`` in Russian whoever asks: the exports (XLSX, the PDF) are documents of
    record, in Russian like the CLI's."""
    @functools.wraps(view)
    def russian(*args: Any, **kwargs: Any) -> Any:
        with force_locale("ru"):
            return view(*args, **kwargs)
    return cast(F, russian)


def reasons_of(item: object) -> list[str]:
    """A route item's reasons in the reader's language (templates)."""
    return item_reasons(getattr(item, "explanation", None), getattr(item, "reasons", None),
                        reader_lang())


def unmet_needs(teacher_id: int) -> list[tuple[str, str, str, str]]:
    """The teacher's unmet needs with their reasons in the reader's language."""
    return _unmet_needs(teacher_id, reader_lang())


def lang_switch() -> Markup:
    """The navigation's switch to the other language: a small form (the choice is stored,
    so it needs the CSRF token) that comes back to this page, without a ``?lang=`` that
    would override the new choice."""
    other = "ru" if reader_lang() == "en" else "en"
    query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "lang"])
    back = request.path + (f"?{query}" if query else "")
    return Markup(
        '<form method="post" action="/language" class="lang">'
        '<input type="hidden" name="csrf_token" value="{}">'
        '<input type="hidden" name="lang" value="{}"><input type="hidden" name="next" value="{}">'
        '<button type="submit" lang="{}">{}</button></form>').format(
        generate_csrf(), other, back, other, NAMES[other])


def init_app(app: Flask) -> None:
    """Flask-Babel with the reader's language, ``POST /language``, and for templates
    ``reader_lang()``, ``reasons_of(item)``, ``unmet_needs(teacher_id)`` and ``lang_switch()``."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "ru")
    babel.init_app(app, locale_selector=reader_lang)
    app.before_request(keep_choice)
    app.add_url_rule("/language", "choose_language", choose, methods=["POST"])
    app.jinja_env.globals.update(reader_lang=reader_lang, reasons_of=reasons_of,
                                 unmet_needs=unmet_needs, lang_switch=lang_switch)
