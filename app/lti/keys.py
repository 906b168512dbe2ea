"""The tool's RSA key pair: made on first use, kept in the database (never in the repository),
published as a JWKS for the platforms."""

from __future__ import annotations

import json
import logging
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.lti import LtiToolKey

logger = logging.getLogger(__name__)
KEY_BITS = 2048


def tool_key() -> LtiToolKey:
    """The tool's key (the oldest, should two workers have made one at once); made if none."""
    key = db.session.scalars(select(LtiToolKey).order_by(LtiToolKey.created_at)).first()
    if key is not None:
        return key
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
    key = LtiToolKey(kid=JWK.from_pem(pem.encode("ascii")).thumbprint(), private_pem=pem)
    db.session.add(key)
    try:
        db.session.commit()
    except IntegrityError:  # another worker stored this very key first: impossible, but safe
        db.session.rollback()
    logger.info("LTI tool key %s created", key.kid)
    return tool_key()


def jwks() -> dict[str, Any]:
    """Every tool key's public half as a JSON Web Key Set (RS256, signature use)."""
    tool_key()
    keys = []
    for key in db.session.scalars(select(LtiToolKey).order_by(LtiToolKey.created_at)):
        jwk = json.loads(JWK.from_pem(key.private_pem.encode("ascii")).export_public())
        keys.append({**jwk, "kid": key.kid, "alg": "RS256", "use": "sig"})
    return {"keys": keys}
