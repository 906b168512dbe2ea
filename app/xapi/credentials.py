"""HTTP basic credentials of the Moodle sites that send xAPI statements to ProfRoute.

Only a hash of each secret is stored (werkzeug's ``generate_password_hash``); the secret is
shown once, when the credential is created.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.xapi import LrsCredential
from app.xapi.store import XapiStoreError

_VERIFIED: dict[tuple[int, str], bytes] = {}  # (credential, hash) -> HMAC of the secret
_PEPPER = secrets.token_bytes(32)


class CredentialError(ValueError):
    """Raised when a credential cannot be created or found (bad site URL, unknown key)."""


class NotAuthenticated(XapiStoreError):
    """Raised when the basic-auth credential is missing, unknown, wrong or inactive."""

    code = 401


def create_credential(site_url: str, name: str = "") -> tuple[LrsCredential, str]:
    """Create an active credential for a Moodle site; the secret is returned, never stored.

    :raise CredentialError: the site URL is not an http(s) URL.
    """
    site_url = site_url.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", site_url):
        raise CredentialError(f"site URL must be the Moodle wwwroot (http[s]://…): {site_url}")
    secret = secrets.token_urlsafe(32)
    credential = LrsCredential(site_url=site_url, name=name or site_url,
                               key=secrets.token_hex(10), active=True,
                               secret_hash=generate_password_hash(secret))
    db.session.add(credential)
    db.session.commit()
    return credential, secret


def list_credentials() -> list[LrsCredential]:
    """Every credential, oldest first."""
    return list(db.session.scalars(select(LrsCredential).order_by(LrsCredential.id)))


def set_credential_active(key: str, active: bool) -> LrsCredential:
    """Activate or deactivate a credential.

    :raise CredentialError: no credential has this key.
    """
    credential = db.session.scalars(select(LrsCredential).filter_by(key=key)).first()
    if credential is None:
        raise CredentialError(f"no LRS credential with key {key}")
    credential.active = active
    db.session.commit()
    return credential


def authenticate(key: str | None, secret: str | None) -> LrsCredential:
    """The active credential of this key and secret.

    A verified secret is remembered (as an HMAC) for the life of the process, so the slow
    password hash is not computed for every request; the row is still read every time.

    :raise NotAuthenticated: no credential, unknown key, wrong secret or inactive credential.
    """
    if not key or not secret:
        raise NotAuthenticated("HTTP basic credentials are required")
    credential = db.session.scalars(select(LrsCredential).filter_by(key=key)).first()
    if credential is None or not credential.active:
        raise NotAuthenticated("unknown or inactive credential")
    mark = hmac.new(_PEPPER, secret.encode(), hashlib.sha256).digest()
    slot = (credential.id, credential.secret_hash)
    if not hmac.compare_digest(_VERIFIED.get(slot, b""), mark):
        if not check_password_hash(credential.secret_hash, secret):
            raise NotAuthenticated("wrong secret")
        if len(_VERIFIED) > 1024:
            _VERIFIED.clear()
        _VERIFIED[slot] = mark
    return credential
