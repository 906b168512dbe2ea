"""pylti1p3 bound to ProfRoute: registrations from the database, launch values in the
database (keyed by the browser's ``lti1p3-session-id`` cookie), a nonce used once, and an
id_token checked strictly (signature by the platform's JWKS, iss, aud, exp, iat).

pylti1p3 checks the nonce before the signature and never forgets a nonce; :class:`Launch`
checks the signature first and consumes the nonce, so a replayed id_token is refused. Its two
cookies (state, browser id) are ``SameSite=None; Secure; Partitioned`` over HTTPS
(:class:`PartitionedCookies`), so a launch in Moodle's iframe keeps them where browsers block
third-party cookies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, cast

import jwt
import requests
from pylti1p3.contrib.flask import (
    FlaskCookieService,
    FlaskMessageLaunch,
    FlaskRequest,
    FlaskSessionService,
)
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.lti.platforms import find_platform, has_deployment
from app.models.assessment import utcnow
from app.models.lti import URL_LENGTH, LtiLaunchValue, LtiPlatform

JWKS_TIMEOUT = 10.0  # seconds to fetch a platform's key set
LEEWAY = 30  # seconds of clock difference allowed on exp and iat (Moodle gives 60 s)
ALGORITHMS = ("RS256", "RS384", "RS512")
VALUE_LIFETIME = 600  # seconds a state or nonce stays usable
KEY_SET_LIFETIME = 3600  # seconds a platform's fetched key set is reused by every worker
KEY_SET_REFETCH = 60  # an unknown kid fetches the key set again at most once this often
MAX_CLAIM = 255  # characters of sub and deployment_id (the columns that keep them)
DEPLOYMENT_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"


class DatabaseToolConf(ToolConfAbstract[Any]):
    """Registrations and deployments from ``lti_platform``; an issuer may have many clients."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        """Never: every lookup goes by issuer and client id."""
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        """Always (see :meth:`check_iss_has_one_client`)."""
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        """The issuer's only registration (pylti1p3 asks this only of one-client issuers)."""
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(self, iss: str, client_id: str | None, *args: Any,
                                    **kwargs: Any) -> Registration:
        """The registration of the issuer and client id, or None (pylti1p3 then refuses)."""
        platform = find_platform(iss, client_id) if iss else None
        return _registration(platform) if platform else None  # type: ignore[return-value]

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        """Unused: see :meth:`check_iss_has_one_client`."""
        return None

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str,
                                  *args: Any, **kwargs: Any) -> Deployment | None:
        """The deployment if the platform registered its id."""
        platform = find_platform(iss, client_id)
        if platform is None or not has_deployment(platform, deployment_id):
            return None
        return Deployment().set_deployment_id(deployment_id)


class DatabaseStorage(LaunchDataStorage[Any]):
    """Launch values in ``lti_launch_value``, each with an expiry; one browser's values are
    prefixed by its ``lti1p3-session-id`` cookie (set at login, required at launch)."""

    def can_set_keys_expiration(self) -> bool:
        """Values expire."""
        return True

    def get_value(self, key: str) -> Any:
        """The value, if set and not expired."""
        row = db.session.get(LtiLaunchValue, self._prepare_key(key))
        return row.value if row is not None and _aware(row.expires_at) > utcnow() else None

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        """Keep a value for ``exp`` seconds (:data:`VALUE_LIFETIME` by default)."""
        expires = utcnow() + dt.timedelta(seconds=exp or VALUE_LIFETIME)
        db.session.merge(LtiLaunchValue(key=self._prepare_key(key), value=value,
                                        expires_at=expires))

    def check_value(self, key: str) -> bool:
        """Whether an unexpired value is set."""
        return self.get_value(key) is not None

    def consume(self, key: str) -> bool:
        """Delete the value; True only for the one caller that found it unexpired."""
        deleted = db.session.execute(delete(LtiLaunchValue).where(
            LtiLaunchValue.key == self._prepare_key(key),
            LtiLaunchValue.expires_at > utcnow()))
        db.session.commit()
        return bool(getattr(deleted, "rowcount", 0) == 1)


class PartitionedCookies(FlaskCookieService):
    """pylti1p3's cookies, also ``Partitioned`` (CHIPS) over HTTPS: a browser blocking
    third-party cookies keeps them in the frame of the site that framed the launch."""

    def update_response(self, response: Any) -> None:
        """Set the cookies the login or launch asked for (pylti1p3's flags, plus the
        partition over HTTPS)."""
        secure = bool(cast(FlaskRequest, self._request).is_secure())
        cookies = cast(dict[str, dict[str, Any]], self._cookie_data_to_set)
        for key, cookie in cookies.items():
            response.set_cookie(key=key, value=cookie["value"], max_age=cookie["exp"],
                                secure=secure, path="/", httponly=True,
                                samesite="None" if secure else None, partitioned=secure)


class SingleUseNonces(FlaskSessionService):
    """The session service whose nonce check forgets the nonce (a second check fails)."""

    def check_nonce(self, nonce: str) -> bool:
        """True once for a nonce this browser's login issued."""
        storage = self.data_storage
        return isinstance(storage, DatabaseStorage) and storage.consume(
            self._get_key("nonce", nonce))


class Launch(FlaskMessageLaunch):
    """A resource-link launch, validated in a safe order, storing no launch data."""

    def validate(self) -> Launch:
        """State, format, registration, signature and claims, deployment, nonce, message.

        :raise LtiException: the first check that fails, with its reason.
        """
        if self._restored:
            raise LtiException("Can't validate restored launch")
        self._validated = True
        try:
            (self.validate_state().validate_jwt_format().validate_registration()
             .validate_jwt_signature().validate_deployment().validate_nonce()
             .validate_message())
        except Exception:
            self._validated = False
            raise
        return self

    def validate_jwt_format(self) -> Launch:
        """Three parts of JSON objects, with the claims the lookups need as strings."""
        super().validate_jwt_format()
        header, body = self._jwt.get("header"), self._jwt.get("body")
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise LtiException("Invalid JWT format: header and claims must be JSON objects")
        aud = body.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        limits = {"iss": URL_LENGTH, "sub": MAX_CLAIM, DEPLOYMENT_CLAIM: MAX_CLAIM}
        for claim, limit in limits.items():
            value = body.get(claim)
            if not isinstance(value, str) or not 0 < len(value) <= limit:
                raise LtiException(f"id_token claim {claim} must be a string of 1 to {limit} "
                                   "characters")
        if not audiences or not all(isinstance(a, str) and a for a in audiences):
            raise LtiException("id_token needs aud as a string or a list of strings")
        return self

    def get_public_key(self) -> tuple[str, str]:
        """The platform's key named by the token's kid (a malformed key set is refused).

        The key set comes from the cache of :meth:`fetch_public_key` when it holds one. A kid
        the cached set lacks means the platform may have rotated its keys: the set is fetched
        again, but at most once per :data:`KEY_SET_REFETCH` seconds and URL, so tokens with
        made-up kids cannot make the tool hammer the platform.
        """
        try:
            try:
                return super().get_public_key()
            except LtiException as err:
                registration = self._registration
                url = registration.get_key_set_url() if registration else None
                if str(err) != "Unable to find public key" or not url \
                        or not _refetch_allowed(url):
                    raise
                self._fresh_key_set = True
                registration.set_key_set(None)  # type: ignore[union-attr, arg-type]
                return super().get_public_key()
        except (KeyError, TypeError, AttributeError) as err:
            raise LtiException(f"the platform's key set is malformed ({err!r})") from err

    def fetch_public_key(self, key_set_url: str) -> Any:
        """The platform's key set: the one cached for the URL, else fetched (with a timeout)
        and cached for :data:`KEY_SET_LIFETIME` seconds when it is well formed."""
        key = _key_set_key(key_set_url)
        if not getattr(self, "_fresh_key_set", False):
            cached = DatabaseStorage().get_value(key)  # no browser id: one set per URL
            if cached is not None:
                return cached
        key_set = super().fetch_public_key(key_set_url)
        if isinstance(key_set, dict) and isinstance(key_set.get("keys"), list) \
                and all(isinstance(k, dict) for k in key_set["keys"]):
            _keep(key, key_set, KEY_SET_LIFETIME)
        return key_set

    def validate_jwt_signature(self) -> Launch:
        """The platform's key signed the token; iss, aud (and azp), exp, iat are right."""
        alg = self._jwt.get("header", {}).get("alg")
        if alg not in ALGORITHMS:
            raise LtiException(f"id_token algorithm {alg!r} is not one of {ALGORITHMS}")
        public_key, key_alg = self.get_public_key()
        registration = self._registration
        assert registration is not None
        try:
            claims = jwt.decode(
                self._get_id_token(), public_key, algorithms=[key_alg],
                audience=registration.get_client_id(), issuer=registration.get_issuer(),
                leeway=LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]})
        except jwt.InvalidTokenError as err:
            raise LtiException(f"Can't decode id_token: {err}") from err
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != aud[0]:
            raise LtiException("id_token has several audiences and no azp naming this tool")
        return self

    def save_launch_data(self) -> Launch:
        """Nothing kept: the launch signs the person in at once."""
        return self

    def claims(self) -> dict[str, Any]:
        """The validated id_token's claims."""
        return dict(self.get_launch_data())


def _key_set_key(key_set_url: str) -> str:
    return "key-set-" + hashlib.sha256(key_set_url.encode()).hexdigest()


def _refetch_allowed(key_set_url: str) -> bool:
    """True at most once per :data:`KEY_SET_REFETCH` seconds for a key set URL."""
    marker = "key-set-refetch-" + hashlib.sha256(key_set_url.encode()).hexdigest()
    return not DatabaseStorage().check_value(marker) and _keep(marker, True, KEY_SET_REFETCH)


def _keep(key: str, value: Any, lifetime: int) -> bool:
    """Store a value shared by every worker and commit it at once (a refused launch must not
    roll it back); False when another worker stored the same key first."""
    try:
        DatabaseStorage().set_value(key, value, lifetime)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def http_session() -> requests.Session:
    """The session that fetches platforms' key sets, with a timeout on every call."""
    return _TimeoutSession()


def platform_of(launch: Launch) -> LtiPlatform:
    """The registered platform a validated launch came from."""
    platform = find_platform(launch.get_iss(), launch.get_client_id())
    assert platform is not None  # validate_registration found it
    return platform


def forget_expired() -> int:
    """Delete launch values past their expiry; how many."""
    deleted = db.session.execute(delete(LtiLaunchValue).where(
        LtiLaunchValue.expires_at <= utcnow()))
    db.session.commit()
    return int(getattr(deleted, "rowcount", 0) or 0)


class _TimeoutSession(requests.Session):
    def request(self, method: str | bytes, url: str | bytes, *args: Any,  # type: ignore[override]
                **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", JWKS_TIMEOUT)
        return super().request(method, url, *args, **kwargs)


def _registration(platform: LtiPlatform) -> Registration:
    """The platform as pylti1p3 sees it. No tool key: ProfRoute calls none of the platform's
    services (grades, rosters), which is what pylti1p3 would sign with it."""
    return (Registration().set_issuer(platform.issuer).set_client_id(platform.client_id)
            .set_auth_login_url(platform.auth_login_url)
            .set_auth_token_url(platform.auth_token_url)
            .set_key_set_url(platform.key_set_url))


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives naive datetimes back: they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
