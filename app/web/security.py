"""What every response carries for its protection, and the sign-in rate limits.

- Cookies: the session cookie is HttpOnly, ``SameSite=Lax``, and ``Secure`` whenever the request
  came over HTTPS (behind a proxy, with ``PROFROUTE_TRUSTED_PROXIES`` set, as the proxy's
  ``X-Forwarded-Proto`` says). A session started by an LTI launch (marked
  :data:`LAUNCHED_SESSION`) is carried over HTTPS by a ``SameSite=None; Secure; Partitioned``
  cookie instead, so the pages after a launch in Moodle's iframe keep it (a browser sends no
  Lax cookie to a frame of another site, and keeps a third-party cookie only partitioned by
  the top site: CHIPS). Over plain HTTP it stays Lax: browsers refuse ``SameSite=None``
  without ``Secure``. When a response changes the kind, the cookie of the other kind (another
  cookie to the browser) is expired beside it.
- Headers on every response: ``Content-Security-Policy`` (this site only, no inline script or
  style; a view that needs another policy sets its own header, which is kept),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``, ``frame-ancestors``
  (this site, the origins in ``PROFROUTE_FRAME_ANCESTORS`` and those of the registered LTI
  platforms, read at most once a minute: ``app.lti.platforms.cached_frame_origins``;
  ``X-Frame-Options: SAMEORIGIN`` only while the list is empty), and
  ``Strict-Transport-Security`` over HTTPS.
- Rate limits (Flask-Limiter): failed sign-ins are counted per login and per client address in
  the app's own database (``rate_limit_counter``), so all workers share the count with no
  server of its own; ``PROFROUTE_RATELIMIT_STORAGE`` may name another storage (``redis://...``).
  A refusal is HTTP 429 saying, in Russian, when to try again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time

from flask import (
    Flask,
    current_app,
    has_request_context,
    jsonify,
    render_template,
    request,
    session,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.typing import ResponseReturnValue
from flask.wrappers import Request as FlaskRequest
from flask.wrappers import Response as FlaskResponse
from flask_babel import gettext as _
from flask_limiter import Limiter, RequestLimit
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.storage import Storage
from sqlalchemy import Row, case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from app import settings_of
from app.extensions import db
from app.lti.platforms import cached_frame_origins
from app.models.web import RateLimitCounter

DATABASE_STORAGE = "profroute-db://"
HSTS_SECONDS = 365 * 24 * 3600
HSTS_HEADER = f"max-age={HSTS_SECONDS}"
MAX_KEY = 255
LAUNCHED_SESSION = "profroute_lti"  # session key: the session was started by an LTI launch
_OPENED_LAUNCHED = "profroute.launched_cookie"  # environ key: the request came with such a cookie

limiter = Limiter(get_remote_address, storage_uri=DATABASE_STORAGE, strategy="fixed-window")


def init_security(app: Flask) -> None:
    """Trust the configured proxies, set the cookie flags, add the headers, bind the limiter."""
    settings = settings_of(app)
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    app.session_interface = SessionCookies()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:  # Flask's default: no attribute
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage or DATABASE_STORAGE)
    app.after_request(protect)
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many_attempts)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions whose cookie is ``Secure`` on any request made over HTTPS
    (``SESSION_COOKIE_SECURE`` forces it everywhere), and ``SameSite=None; Partitioned`` over
    HTTPS for a session an LTI launch started."""

    def open_session(self, app: Flask, request: FlaskRequest) -> SecureCookieSession | None:
        """The session of the request's cookie; notes whether it is a launched one."""
        opened = super().open_session(app, request)
        if opened is not None and LAUNCHED_SESSION in opened and request.is_secure:
            request.environ[_OPENED_LAUNCHED] = True
        return opened

    def get_cookie_secure(self, app: Flask) -> bool:
        """True when configured, or when this request came over HTTPS."""
        configured = bool(app.config["SESSION_COOKIE_SECURE"])
        return configured or (has_request_context() and request.is_secure)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        """``None`` for a launched session over HTTPS, else as configured (``Lax``)."""
        return "None" if _launched() else super().get_cookie_samesite(app)

    def get_cookie_partitioned(self, app: Flask) -> bool:
        """True for a launched session over HTTPS, else as configured (no)."""
        return _launched() or super().get_cookie_partitioned(app)

    def save_session(self, app: Flask, session: SessionMixin,
                     response: FlaskResponse) -> None:
        """Set the cookie; when its kind changed, expire the one of the other kind too."""
        opened = has_request_context() and bool(request.environ.get(_OPENED_LAUNCHED))
        if has_request_context() and request.is_secure and opened != _launched():
            response.delete_cookie(
                self.get_cookie_name(app), domain=self.get_cookie_domain(app),
                path=self.get_cookie_path(app), secure=True, httponly=True,
                partitioned=opened,
                samesite="None" if opened else super().get_cookie_samesite(app))
        super().save_session(app, session, response)


def _launched() -> bool:
    """Whether this response carries a session an LTI launch started, over HTTPS."""
    return has_request_context() and request.is_secure and LAUNCHED_SESSION in session


def content_security_policy(frame_origins: list[str]) -> str:
    """The policy of every page: this site's own scripts, styles, images and forms only."""
    ancestors = " ".join(["'self'", *frame_origins])
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; "
            f"frame-ancestors {ancestors}")


_HEADERS_CACHE = "profroute.security_headers"


def _constant_headers() -> list[tuple[str, str]]:
    """The headers every answer gets, built once per (configured, registered) frame origins:
    the policy's text is not put together again on every request."""
    frame_ancestors = settings_of(current_app).frame_ancestors
    registered = tuple(cached_frame_origins())
    cache: dict[tuple[str, tuple[str, ...]], list[tuple[str, str]]] = (
        current_app.extensions.setdefault(_HEADERS_CACHE, {}))
    found = cache.get((frame_ancestors, registered))
    if found is None:
        configured = settings_of(current_app).frame_origins()
        origins = list(dict.fromkeys([*configured, *registered]))
        found = [("Content-Security-Policy", content_security_policy(origins)),
                 ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin")]
        if not origins:
            found.append(("X-Frame-Options", "SAMEORIGIN"))
        if len(cache) > 64:  # origins changed often: start again rather than grow
            cache.clear()
        cache[(frame_ancestors, registered)] = found
    return found


def protect(response: Response) -> Response:
    """Add the security headers (a header the view set itself is kept)."""
    headers = response.headers
    for name, value in _constant_headers():
        headers.setdefault(name, value)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS_HEADER)
    return response


def too_many_attempts(err: RateLimitExceeded) -> ResponseReturnValue:
    """HTTP 429 in Russian with the time to try again (and ``Retry-After``)."""
    current = limiter.current_limit
    wait = _seconds_left(current)
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
    minutes = max(1, math.ceil(wait / 60))
    message = _("Слишком много неудачных попыток входа. Повторите через %(minutes)s мин. "
                "(после %(at)s UTC) или попросите администратора сменить пароль.",
                minutes=minutes, at=at.strftime("%H:%M"))
    headers = {"Retry-After": str(wait)}
    if request.path.startswith("/api/"):
        body = {"code": 429, "status": "Too Many Requests", "message": message}
        return jsonify(body), 429, headers
    page = render_template("error.html", title=_("Вход временно закрыт"), message=message)
    return page, 429, headers


def _seconds_left(current: RequestLimit | None) -> int:
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


class DatabaseStorage(Storage):
    """Flask-Limiter's counters in the app's database: one row per key and window.

    Only the fixed-window strategy is supported. Each hit is one atomic upsert (SQLite and
    PostgreSQL: ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``) on its own connection,
    committed at once and apart from the request's session; expired rows are deleted as new
    windows start. Needs an app context (the current app's engine).
    """

    STORAGE_SCHEME = ["profroute-db"]

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits in the window of ``key``, opening a new window when none is
        open; the count so far."""
        key, now = _short(key), time.time()
        table = RateLimitCounter.__table__
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table).values(key=key, hits=amount, expires_at=now + expiry)
        expired = table.c.expires_at <= now
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"hits": case((expired, statement.excluded.hits), else_=table.c.hits + amount),
                  "expires_at": case((expired, statement.excluded.expires_at),
                                     else_=table.c.expires_at)},
        ).returning(table.c.hits)
        with db.engine.begin() as conn:
            conn.execute(delete(table).where(expired, table.c.key != key))
            hits = conn.execute(statement).scalar_one()
        return int(hits)

    def get(self, key: str) -> int:
        """The hits in the open window of ``key`` (0 when none is open)."""
        row = self._row(key)
        return int(row.hits) if row is not None else 0

    def get_expiry(self, key: str) -> float:
        """When the open window of ``key`` closes (now when none is open)."""
        row = self._row(key)
        return float(row.expires_at) if row is not None else time.time()

    def check(self) -> bool:
        """Whether the database answers."""
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter; how many there were."""
        with db.engine.begin() as conn:
            return conn.execute(delete(RateLimitCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        """Forget the counter of ``key``."""
        table = RateLimitCounter.__table__
        with db.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.key == _short(key)))

    def _row(self, key: str) -> Row[tuple[int, float]] | None:
        table = RateLimitCounter.__table__
        with db.engine.connect() as conn:
            return conn.execute(select(table.c.hits, table.c.expires_at).where(
                table.c.key == _short(key), table.c.expires_at > time.time())).first()


def _short(key: str) -> str:
    """Keys past the column's width are kept as their SHA-256 (a login may be long)."""
    if len(key) <= MAX_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
