"""Platforms (Moodle sites) registered with the tool: added from the admin page or the CLI.

A Moodle site shows, for a tool it registered, its Platform ID (the issuer, Moodle's
``wwwroot``), the Client ID, the Deployment ID and three URLs under ``/mod/lti/``; left empty,
those URLs are taken from the issuer as Moodle builds them.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.common import audit
from app.extensions import db
from app.lti.exceptions import PlatformError
from app.models.lti import LtiDeployment, LtiPlatform

logger = logging.getLogger(__name__)
MOODLE_PATHS = {"auth_login_url": "/mod/lti/auth.php", "auth_token_url": "/mod/lti/token.php",
                "key_set_url": "/mod/lti/certs.php"}
FIELD_NAMES = {"auth_login_url": "Authentication request URL",
               "auth_token_url": "Access token URL", "key_set_url": "Public keyset URL"}
_DEPLOYMENT_SEPARATORS = re.compile(r"[\s,;]+")
ORIGINS_TTL = 60.0  # seconds another worker may go on framing with a stale list of platforms
ORIGINS_RETRY = 5.0  # seconds before an unreadable list is read again
_ORIGINS_CACHE = "profroute_lti_frame_origins"  # app.extensions key: (expires at, origins)


def add_platform(*, issuer: str, client_id: str, deployment_ids: str, name: str = "",
                 auth_login_url: str = "", auth_token_url: str = "",
                 key_set_url: str = "") -> LtiPlatform:
    """Register a platform; URLs left empty are Moodle's own under the issuer.

    Args:
        deployment_ids: one or more ids separated by blanks, commas or semicolons.

    :raise PlatformError: a URL is not http(s), no client or deployment id is given, or the
        issuer already has this client id.
    """
    issuer, client_id = issuer.strip().rstrip("/"), client_id.strip()
    _check_url("Platform ID (issuer)", issuer)
    urls = {"auth_login_url": auth_login_url.strip(), "auth_token_url": auth_token_url.strip(),
            "key_set_url": key_set_url.strip()}
    for field, value in urls.items():
        urls[field] = value or issuer + MOODLE_PATHS[field]
        _check_url(FIELD_NAMES[field], urls[field])
    deployments = sorted(set(filter(None, _DEPLOYMENT_SEPARATORS.split(deployment_ids))))
    if not client_id or len(client_id) > 255:
        raise PlatformError("Client ID is empty or longer than 255 characters: copy it from "
                            "Moodle's tool configuration details")
    if not deployments or any(len(d) > 255 for d in deployments):
        raise PlatformError("Deployment ID is missing (or longer than 255 characters): copy "
                            "it from Moodle's tool configuration details")
    if find_platform(issuer, client_id) is not None:
        raise PlatformError(f"platform {issuer} with client id {client_id!r} is already "
                            "registered")
    platform = LtiPlatform(name=name.strip() or urlsplit(issuer).netloc, issuer=issuer,
                           client_id=client_id, **urls,
                           deployments=[LtiDeployment(deployment_id=d) for d in deployments])
    db.session.add(platform)
    db.session.flush()
    audit.record("lti.platform.add", ("lti_platform", platform.id), {
        "issuer": issuer, "client_id": client_id, "deployments": deployments})
    db.session.commit()
    current_app.extensions.pop(_ORIGINS_CACHE, None)  # this worker frames it at once
    logger.info("LTI platform %s (client %s) registered", issuer, client_id)
    return platform


def list_platforms() -> list[LtiPlatform]:
    """Every registered platform, oldest first."""
    return list(db.session.scalars(select(LtiPlatform).order_by(LtiPlatform.id)))


def find_platform(issuer: str, client_id: str | None) -> LtiPlatform | None:
    """The platform of this issuer and client id; without a client id, the issuer's only one."""
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer.rstrip("/"))
    if client_id:
        return db.session.scalars(query.where(LtiPlatform.client_id == client_id)).first()
    found = list(db.session.scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None


def has_deployment(platform: LtiPlatform, deployment_id: str) -> bool:
    """Whether the platform registered this deployment id."""
    return any(d.deployment_id == deployment_id for d in platform.deployments)


def frame_origins() -> list[str]:
    """The origins (scheme://host[:port]) of the registered platforms, for ``frame-ancestors``."""
    return _origins((p.issuer, p.auth_login_url) for p in list_platforms())


def cached_frame_origins() -> list[str]:
    """:func:`frame_origins` as read at most :data:`ORIGINS_TTL` seconds ago by this app (a
    platform registered here shows at once, one registered by another worker within the TTL).

    Read on a connection of its own, apart from the request's session; if the database does
    not answer, the last list read (or none) is kept and read again :data:`ORIGINS_RETRY`
    seconds later.
    """
    cache = current_app.extensions
    expires_at, origins = cache.get(_ORIGINS_CACHE, (0.0, []))
    now = time.monotonic()
    if now < expires_at:
        return list(origins)
    lifetime = ORIGINS_TTL
    table = LtiPlatform.__table__
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(select(table.c.issuer, table.c.auth_login_url)).all()
    except SQLAlchemyError as err:
        logger.warning("LTI platforms unreadable for frame-ancestors (%s); keeping %s",
                       err.__class__.__name__, origins or "none")
        lifetime = ORIGINS_RETRY
    else:
        origins = _origins((row.issuer, row.auth_login_url) for row in rows)
    cache[_ORIGINS_CACHE] = (now + lifetime, origins)
    return list(origins)


def _origins(urls: Iterable[tuple[str, str]]) -> list[str]:
    found = set()
    for pair in urls:
        for url in pair:
            parts = urlsplit(url)
            found.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(found)


def _check_url(field: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 1024:
        raise PlatformError(f"{field} {url!r} is not an http(s) URL (at most 1024 characters), "
                            "e.g. https://moodle.example.ru")
