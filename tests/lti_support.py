"""A test LTI 1.3 platform: a real RSA key, its JWKS served over HTTP on 127.0.0.1, and
id_tokens signed as Moodle signs them (claims as mod/lti builds them)."""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient
from jwcrypto.jwk import JWK

ISSUER = "https://moodle.example.test"
CLIENT_ID = "pr0fr0ute-client"
DEPLOYMENT_ID = "1"
TOOL = "https://profroute.example.test"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
SITE_ADMIN = ("http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
              "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator")


@functools.cache
def platform_key() -> tuple[str, str]:
    """The test platform's key (one per test run: making RSA keys is slow)."""
    return rsa_key()


def rsa_key() -> tuple[str, str]:
    """A fresh RSA private key (PEM) and its JWK thumbprint (kid)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, JWK.from_pem(pem.encode()).thumbprint()


@dataclass
class Platform:
    """The platform: its key, the URL of its key set, and how it signs."""

    keyset_url: str
    private_pem: str
    kid: str
    fetched: list[str] = field(default_factory=list)
    keyset: str = ""  # the JWKS text served now (a test may rotate it)

    def rotate(self) -> None:
        """A new key (and kid) signs from now on; the key set serves only the new one."""
        self.private_pem, self.kid = rsa_key()
        self.keyset = keyset_of(self.private_pem, self.kid)

    def claims(self, sub: str, roles: tuple[str, ...], nonce: str, **changes: Any
               ) -> dict[str, Any]:
        """A resource-link launch's claims as Moodle 4.x sends them (exp = iat + 60)."""
        now = int(time.time())
        body: dict[str, Any] = {
            "nonce": nonce, "iat": now, "exp": now + 60, "iss": ISSUER, "aud": CLIENT_ID,
            "sub": sub, "given_name": "Анна", "family_name": "Петрова",
            "name": "Анна Петрова", "email": "petrova@example.test",
            LTI + "deployment_id": DEPLOYMENT_ID,
            LTI + "message_type": "LtiResourceLinkRequest", LTI + "version": "1.3.0",
            LTI + "target_link_uri": TOOL + "/lti/launch",
            LTI + "resource_link": {"id": "7", "title": "ProfRoute"},
            LTI + "context": {"id": "2", "label": "diag-2026", "title": "Диагностика"},
            LTI + "roles": list(roles),
            LTI + "lis": {"person_sourcedid": "", "course_section_sourcedid": ""},
        }
        body.update(changes)
        return body

    def sign(self, claims: dict[str, Any], pem: str | None = None, kid: str | None = None
             ) -> str:
        """The id_token: the claims signed RS256 with the platform's key (or another)."""
        return jwt.encode(claims, pem or self.private_pem, algorithm="RS256",
                          headers={"kid": kid or self.kid})


def keyset_of(pem: str, kid: str) -> str:
    """The JWKS text publishing the public half of ``pem`` under ``kid``."""
    public = json.loads(JWK.from_pem(pem.encode()).export_public())
    return json.dumps({"keys": [{**public, "kid": kid, "alg": "RS256", "use": "sig"}]})


@contextlib.contextmanager
def running_platform(keyset: str | None = None) -> Iterator[Platform]:
    """The platform with its JWKS (or the ``keyset`` text given) served on a free port of
    127.0.0.1 until the block ends."""
    pem, kid = platform_key()
    platform = Platform("", pem, kid, keyset=keyset or keyset_of(pem, kid))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            platform.fetched.append(self.path)
            body = platform.keyset.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        platform.keyset_url = f"http://127.0.0.1:{server.server_port}/mod/lti/certs.php"
        yield platform
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def login_initiation(client: FlaskClient, *, iss: str = ISSUER, client_id: str = CLIENT_ID
                     ) -> tuple[str, str, Any]:
    """Moodle's third-party login initiation (a form POST); the state, nonce and the answer."""
    answer = client.post("/lti/login", base_url=TOOL, data={
        "iss": iss, "target_link_uri": TOOL + "/lti/launch", "login_hint": "5",
        "lti_message_hint": json.dumps({"cmid": 7, "launchid": str(uuid.uuid4())}),
        "client_id": client_id, "lti_deployment_id": DEPLOYMENT_ID})
    if answer.status_code != 302:
        return "", "", answer
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return query["state"][0], query["nonce"][0], answer


def launch(client: FlaskClient, id_token: str, state: str | None) -> Any:
    """Moodle's auth.php posting the id_token back to the redirect URI."""
    data = {"id_token": id_token} if state is None else {"id_token": id_token, "state": state}
    return client.post("/lti/launch", base_url=TOOL, data=data)
