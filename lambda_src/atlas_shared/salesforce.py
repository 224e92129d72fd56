"""Salesforce: OAuth 2.0 JWT bearer login and one cached ``simple_salesforce.Salesforce`` per container.

Login (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm):

1. Read the secret ``{"client_id", "username", "private_key", "is_sandbox", "login_url"?}`` through the
   TTL cache (:mod:`atlas_shared.secrets`).
2. Sign a JWT with RS256: ``iss`` = client_id, ``sub`` = username, ``exp`` = now + 180 s as integer epoch
   seconds from ``time.time()`` (no local-time datetimes, so the machine's timezone cannot shift it), and
   ``aud`` = ``https://login.salesforce.com``, or ``https://test.salesforce.com`` when ``is_sandbox`` — always
   one of those two, whatever ``login_url`` (a My Domain host) says.
3. POST ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` and the assertion to
   ``<login_url or aud>/services/oauth2/token``; the answer gives ``access_token`` and ``instance_url``.
4. Build ``Salesforce(instance_url=..., session_id=access_token)`` and keep it for later invocations, so a
   warm invocation makes no token request at all.

Recovery, each exactly once:

* Token endpoint rejects the assertion (HTTP 400/401, e.g. ``invalid_grant``): the key or user may have been
  rotated, so re-read the secret with ``force_refresh`` and try again; a second rejection raises
  :class:`SalesforceAuthError` with what to check.
* A REST call answers ``INVALID_SESSION_ID`` (``SalesforceExpiredSession``, HTTP 401): log in again and
  retry the call once; a second failure propagates.

Failures that repeat are remembered (per container):

* **Back-off after a rejected login.** When the login fails for a reason only a person can fix (the assertion
  rejected even after re-reading the secret: wrong key, consumer not approved, user not pre-authorized; a
  secret that lacks a field or holds a key that cannot sign; a secret that is not there, not readable by the
  role or not JSON), the error is logged once, at ERROR, with what to
  fix, and remembered for :data:`AUTH_BACKOFF_SECONDS` (``SALESFORCE_AUTH_BACKOFF_SECONDS``). Within that window
  :meth:`SalesforceConnection.get` raises the remembered error again, of the same class (so Step Functions sees
  the same error name), without a secret read or a token request. The first login after the window re-reads the
  secret (``force_refresh``), so a rotated key or a fixed secret is picked up within one window; when it is
  rejected again the window starts over (no second token request). Without back-off, a wrong key cost two
  token requests and a secret read on every Lex turn.
* **An idle session is refreshed before it is used.** Salesforce ends a session after the org's (or the
  connected app's) session timeout of inactivity, and only moves the "last active" time when a request comes
  more than half the timeout after it (Setup > Session Settings, "Timeout value";
  https://help.salesforce.com/s/articleView?id=sf.admin_sessions.htm). The connection keeps that clock
  (``SALESFORCE_SESSION_TIMEOUT_MINUTES``): a session that may have expired is replaced by a new login before
  the REST call, instead of paying an ``INVALID_SESSION_ID`` round trip first. :meth:`SalesforceConnection.
  refresh_if_stale` does it ahead of need, on a turn with time to spare (LexFulfillmentHandler's greeting turn).

Every request (token, REST, the re-login and its retry) gets :data:`HTTP_TIMEOUT`, cut down to what the
invocation's deadline leaves (:mod:`atlas_shared.deadline`); with less than a second left it is not sent and
:class:`SalesforceUnavailableError` is raised, so a slow Salesforce never outlasts the Lambda timeout.

``simple_salesforce``, ``jwt`` and ``requests`` are imported on first use: they cost hundreds of
milliseconds, and many turns never reach Salesforce.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import deadline, metrics, tracing
from .exceptions import (
    AtlasError,
    SalesforceAuthError,
    SalesforceCredentialsError,
    SalesforceError,
    SalesforceRequestError,
    SalesforceUnavailableError,
    SecretError,
)
from .logs import get_logger, log_cache_event
from .secrets import SecretCache, get_secret_cache
from .settings import get_settings

T = TypeVar("T")

PRODUCTION_AUDIENCE = "https://login.salesforce.com"
SANDBOX_AUDIENCE = "https://test.salesforce.com"
TOKEN_PATH = "/services/oauth2/token"
JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_SECONDS = 180  # Salesforce accepts an exp at most 3 minutes ahead
AUTH_BACKOFF_SECONDS = 60  # default wait between login attempts after a rejection only a person can fix
SESSION_TIMEOUT_MINUTES = 120  # Salesforce's default session timeout (Setup > Session Settings)
SESSION_EXPIRY_MARGIN_SECONDS = 60  # treat a session as expired this long before Salesforce would
HTTP_TIMEOUT = (3.05, 10.0)  # (connect, read) seconds for every Salesforce request, when the deadline allows

_logger = get_logger("salesforce")


def request_timeout(timeout: Any = HTTP_TIMEOUT, *, action: str = "request") -> tuple[float, float]:
    """``timeout`` (a ``requests`` timeout: seconds, or ``(connect, read)``) cut to fit the invocation's deadline.

    Raises:
        SalesforceUnavailableError: too little time is left to send the request at all.
    """
    connect, read = (timeout, timeout) if isinstance(timeout, (int, float)) else timeout
    capped = deadline.current().capped_timeout((float(connect), float(read)))
    if capped is None:
        raise SalesforceUnavailableError(
            f"Salesforce {action} skipped: too little time is left before the invocation's deadline"
        )
    return capped


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


@dataclass(frozen=True, slots=True)
class SalesforceCredentials:
    """The JWT bearer credentials held in the Salesforce secret (docs/contracts.md).

    ``private_key`` is excluded from ``repr`` so it cannot leak through a log or a traceback.
    """

    client_id: str
    username: str
    private_key: str = field(repr=False)
    is_sandbox: bool = False
    login_url: str | None = None

    @classmethod
    def from_secret(cls, data: Mapping[str, Any], *, secret_id: str = "the Salesforce secret") -> SalesforceCredentials:
        """Validate the secret's JSON object.

        Raises:
            SalesforceCredentialsError: naming the missing or malformed keys (never their values).
        """
        missing = [
            k for k in ("client_id", "username", "private_key") if not isinstance(data.get(k), str) or not data[k]
        ]
        if missing:
            raise SalesforceCredentialsError(f"{secret_id} lacks {', '.join(missing)} (JWT bearer flow needs them)")
        private_key = str(data["private_key"])
        if "\\n" in private_key and "\n" not in private_key:
            private_key = private_key.replace("\\n", "\n")  # a PEM pasted with escaped newlines
        if "PRIVATE KEY-----" not in private_key:
            raise SalesforceCredentialsError(f"{secret_id}: private_key is not a PEM private key")
        login_url = data.get("login_url") or None
        if login_url is not None:
            login_url = str(login_url).strip().rstrip("/")
            if not login_url.startswith("https://"):
                raise SalesforceCredentialsError(f"{secret_id}: login_url must start with https://")
        return cls(
            client_id=str(data["client_id"]),
            username=str(data["username"]),
            private_key=private_key,
            is_sandbox=_truthy(data.get("is_sandbox", False)),
            login_url=login_url,
        )

    @property
    def audience(self) -> str:
        """The JWT ``aud``: login or test by ``is_sandbox``, never the My Domain host."""
        return SANDBOX_AUDIENCE if self.is_sandbox else PRODUCTION_AUDIENCE

    @property
    def token_url(self) -> str:
        """Where the assertion is posted: ``login_url`` (My Domain) when given, else the audience host."""
        return (self.login_url or self.audience) + TOKEN_PATH


def build_assertion(credentials: SalesforceCredentials, *, now: float) -> str:
    """The signed RS256 JWT for the bearer flow.

    Args:
        credentials: from the secret.
        now: epoch seconds (``time.time()``); ``exp`` is ``int(now) + 180``.

    Raises:
        SalesforceCredentialsError: the private key cannot sign (not an RSA PEM key).
    """
    import jwt

    claims = {
        "iss": credentials.client_id,
        "sub": credentials.username,
        "aud": credentials.audience,
        "exp": int(now) + JWT_LIFETIME_SECONDS,
    }
    try:
        return jwt.encode(claims, credentials.private_key, algorithm="RS256")
    except Exception:
        # No chaining: a key parser's message is not worth the risk of echoing key material.
        raise SalesforceCredentialsError(
            "private_key in the Salesforce secret cannot sign RS256 JWTs; store the connected app's PEM RSA key"
        ) from None


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A Salesforce session: ``access_token`` (hidden from repr) and the org's ``instance_url``."""

    access_token: str = field(repr=False)
    instance_url: str


def request_access_token(
    credentials: SalesforceCredentials, *, http: Any, clock: Callable[[], float] = time.time
) -> AccessToken:
    """Exchange a fresh JWT assertion for an access token.

    Args:
        credentials: from the secret.
        http: a ``requests.Session``.
        clock: epoch seconds for ``exp``.

    Raises:
        SalesforceAuthError: HTTP 4xx (``invalid_grant``, ``invalid_client_id`` ...).
        SalesforceUnavailableError: no answer, a timeout, or HTTP 5xx.
    """
    import requests

    url = credentials.token_url
    assertion = build_assertion(credentials, now=clock())
    metrics.put("SalesforceTokenExchange")
    try:
        response = http.post(
            url,
            data={"grant_type": JWT_BEARER_GRANT_TYPE, "assertion": assertion},
            headers={"Accept": "application/json"},
            timeout=request_timeout(action="token request"),
        )
    except requests.RequestException as exc:
        raise SalesforceUnavailableError(
            f"Salesforce token endpoint {url} did not answer: {type(exc).__name__}"
        ) from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code >= 500:
        raise SalesforceUnavailableError(
            f"Salesforce token endpoint {url} answered HTTP {response.status_code}", status=response.status_code
        )
    token, instance_url = body.get("access_token"), body.get("instance_url")
    if response.status_code != 200 or not token or not instance_url:
        error = str(body.get("error") or "unknown_error")
        description = str(body.get("error_description") or "")
        raise SalesforceAuthError(
            f"Salesforce token endpoint {url} rejected the JWT bearer assertion: HTTP {response.status_code} "
            f"{error} {description}".strip(),
            status=response.status_code,
            error=error,
        )
    return AccessToken(access_token=str(token), instance_url=str(instance_url).rstrip("/"))


def _new_http_session() -> Any:
    """A ``requests.Session`` whose every request gets :data:`HTTP_TIMEOUT` (or its own), capped by the deadline."""
    import requests

    class _TimeoutSession(requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            kwargs["timeout"] = request_timeout(kwargs.get("timeout") or HTTP_TIMEOUT, action=f"{method} request")
            return super().request(method, url, *args, **kwargs)

    return _TimeoutSession()


def _error_details(content: Any) -> tuple[str, str]:
    """``(errorCode, message)`` of the first error in a Salesforce REST error body."""
    first = content[0] if isinstance(content, list) and content else content
    if isinstance(first, dict):
        return str(first.get("errorCode") or first.get("error") or ""), str(first.get("message") or "")
    return "", str(first or "")[:300]


def is_invalid_session(exc: BaseException) -> bool:
    """True when a simple_salesforce error means the session expired (``INVALID_SESSION_ID``, HTTP 401)."""
    from simple_salesforce.exceptions import SalesforceError as LibraryError
    from simple_salesforce.exceptions import SalesforceExpiredSession

    if isinstance(exc, SalesforceExpiredSession):
        return True
    return isinstance(exc, LibraryError) and _error_details(exc.content)[0] == "INVALID_SESSION_ID"


def translate_error(exc: BaseException, action: str) -> Exception:
    """Map a simple_salesforce or requests failure to :class:`SalesforceRequestError`/``UnavailableError``.

    An :class:`AtlasError` is returned as it is.
    """
    import requests
    from simple_salesforce.exceptions import SalesforceError as LibraryError

    if isinstance(exc, AtlasError):  # already ours, e.g. a request the deadline left no time for
        return exc
    if isinstance(exc, LibraryError):
        code, message = _error_details(exc.content)
        if exc.status >= 500:
            return SalesforceUnavailableError(
                f"Salesforce {action} failed: HTTP {exc.status} {code}", status=exc.status
            )
        return SalesforceRequestError(
            f"Salesforce {action} failed: HTTP {exc.status} {code}: {message}".rstrip(": "),
            status=exc.status,
            error_code=code,
        )
    if isinstance(exc, requests.RequestException):
        return SalesforceUnavailableError(f"Salesforce {action} did not answer: {type(exc).__name__}")
    return SalesforceRequestError(f"Salesforce {action} failed: {type(exc).__name__}")


class SalesforceConnection:
    """One JWT-authenticated ``simple_salesforce.Salesforce``, reused across invocations of a container.

    Args:
        secret_id: ARN or name of the Salesforce secret.
        secret_cache: where the secret is read; default the container's shared :class:`SecretCache`.
        clock: epoch seconds for the JWT ``exp``, the login back-off and the session's idle clock; injectable.
        http_session_factory: builds the ``requests.Session`` used for the token request and REST calls.
        api_version: Salesforce REST API version, e.g. ``"59.0"``.
        auth_backoff_seconds: how long a login failure only a person can fix is remembered (0: never).
        session_timeout_minutes: the org's (or connected app's) session timeout; see the module docstring.
    """

    def __init__(
        self,
        secret_id: str,
        *,
        secret_cache: SecretCache | None = None,
        clock: Callable[[], float] = time.time,
        http_session_factory: Callable[[], Any] = _new_http_session,
        api_version: str = "59.0",
        auth_backoff_seconds: float = AUTH_BACKOFF_SECONDS,
        session_timeout_minutes: int = SESSION_TIMEOUT_MINUTES,
    ) -> None:
        self.secret_id = secret_id
        self.api_version = api_version
        self.auth_backoff_seconds = auth_backoff_seconds
        self.session_timeout_seconds = session_timeout_minutes * 60
        self._secret_cache = secret_cache
        self._clock = clock
        self._http_session_factory = http_session_factory
        self._http: Any = None
        self._sf: Any = None
        self._active_at = 0.0  # Salesforce's "last active" time of the session, as far as we can tell
        self._rejected: SalesforceError | SecretError | None = None  # the remembered login failure ...
        self._rejected_at = 0.0  # ... and when it happened
        self._logged_rejection = ""  # the last rejection logged at ERROR, so a repeat isn't logged again
        self._lock = threading.RLock()

    @property
    def connected(self) -> bool:
        """True when a session is cached (the next :meth:`get` makes no request unless the session went stale)."""
        return self._sf is not None

    @property
    def stale(self) -> bool:
        """True when a session is cached but Salesforce may have ended it for inactivity."""
        if self._sf is None:
            return False
        expires_at = self._active_at + self.session_timeout_seconds - SESSION_EXPIRY_MARGIN_SECONDS
        return self._clock() >= expires_at

    @property
    def backing_off(self) -> bool:
        """True while a remembered login failure stops new login attempts."""
        return self._backoff_remaining() > 0

    def get(self) -> Any:
        """The cached ``simple_salesforce.Salesforce``, logging in first when there is none or it went stale.

        Raises:
            SalesforceAuthError: the assertion was rejected twice (before and after re-reading the secret), or
                such a rejection is remembered (``retry_after_seconds > 0``: no request was sent).
            SalesforceCredentialsError: the secret is incomplete or its key cannot sign (remembered likewise).
            SalesforceUnavailableError: the token endpoint did not answer.
            SecretError: the secret cannot be read.
        """
        sf = self._sf
        if sf is not None and not self.stale:
            log_cache_event(_logger, "HIT", "salesforce_session")
            return sf
        with self._lock:
            if self._sf is not None and self.stale:
                idle = self._clock() - self._active_at
                log_cache_event(_logger, "EXPIRED", "salesforce_session", reason="idle", idle_seconds=round(idle))
                self._sf = None
            if self._sf is None:
                self._raise_if_backing_off()
                log_cache_event(_logger, "MISS", "salesforce_session")
                with tracing.subsegment("salesforce.connect"):
                    self._sf = self._login()
                self._active_at = self._clock()
                log_cache_event(_logger, "STORE", "salesforce_session", instance_url=self._sf.sf_instance)
            return self._sf

    def refresh_if_stale(self) -> bool:
        """Log in again now when the cached session may have expired for inactivity.

        For a moment when nobody waits on the answer (a greeting turn), so that the next turn that needs
        Salesforce finds a live session. A connection that never logged in is left alone (this container may
        never need Salesforce). Never raises: a failure is logged and left for that turn.

        Returns:
            True when a live session is cached.
        """
        if not self.stale:
            return self._sf is not None
        try:
            self.get()
        except AtlasError as exc:
            _logger.warning(
                "Salesforce session refresh failed; the next turn that needs it will try again",
                extra={"event": "salesforce_refresh_failed", "error_type": type(exc).__name__, "error": str(exc)},
            )
            return False
        return True

    def invalidate(self) -> None:
        """Forget the session and any remembered login failure; the next :meth:`get` logs in again."""
        with self._lock:
            self._sf = None
            self._rejected = None

    def call(self, operation: Callable[[Any], T], *, action: str = "request") -> T:
        """Run ``operation(sf)`` with the cached session; on ``INVALID_SESSION_ID`` log in once and retry once.

        Args:
            operation: e.g. ``lambda sf: sf.Lead.get(lead_id)``.
            action: words for errors and logs, e.g. ``"Lead lookup"``.

        Raises:
            SalesforceRequestError: Salesforce answered with an error (``.status``, ``.error_code``).
            SalesforceUnavailableError: no answer, a timeout or HTTP 5xx.
            plus the login errors of :meth:`get`.
        """
        sf = self.get()
        try:
            return self._run(operation, sf)
        except Exception as exc:
            if not is_invalid_session(exc):
                raise translate_error(exc, action) from exc
            log_cache_event(_logger, "EXPIRED", "salesforce_session", reason="INVALID_SESSION_ID", operation=action)
            metrics.put("SalesforceRelogin")
            with self._lock:
                if self._sf is sf:
                    self._sf = None
        sf = self.get()
        try:
            return self._run(operation, sf)
        except Exception as exc:
            raise translate_error(exc, action) from exc

    def _run(self, operation: Callable[[Any], T], sf: Any) -> T:
        """``operation(sf)``, moving the session's "last active" time the way Salesforce does when it succeeds."""
        result = operation(sf)
        now = self._clock()
        if self._sf is sf and now - self._active_at >= self.session_timeout_seconds / 2:
            self._active_at = now
        return result

    def _backoff_remaining(self) -> float:
        if self._rejected is None or self.auth_backoff_seconds <= 0:
            return 0.0
        elapsed = self._clock() - self._rejected_at
        if elapsed < 0:  # the clock went back (a restored snapshot): don't wait forever
            return 0.0
        return max(self.auth_backoff_seconds - elapsed, 0.0)

    def _raise_if_backing_off(self) -> None:
        remaining = self._backoff_remaining()
        if remaining <= 0:
            return
        remembered = self._rejected
        assert remembered is not None
        log_cache_event(
            _logger, "HIT", "salesforce_login_failure", error_type=type(remembered).__name__, retry_in=round(remaining)
        )
        raise _repeat(remembered, remaining)

    def _remember(self, error: SalesforceError | SecretError) -> None:
        """Remember a login failure only a person can fix, and log it at ERROR once (until it changes)."""
        self._rejected, self._rejected_at = error, self._clock()
        message = str(error)
        if message == self._logged_rejection:
            _logger.info(
                "Salesforce login still fails; next attempt in %s s",
                self.auth_backoff_seconds,
                extra={"event": "salesforce_login_backoff", "error_type": type(error).__name__},
            )
            return
        self._logged_rejection = message
        _logger.error(
            "Salesforce login failed: %s. No new login attempt for %s s; the first one after that re-reads the "
            "secret, so a fixed key or connected app is picked up then",
            message,
            self.auth_backoff_seconds,
            extra={"event": "salesforce_login_rejected", "error_type": type(error).__name__},
        )

    def _credentials(self, *, force_refresh: bool) -> SalesforceCredentials:
        cache = self._secret_cache or get_secret_cache()
        data = cache.get_secret_json(self.secret_id, force_refresh=force_refresh)
        return SalesforceCredentials.from_secret(data, secret_id=f"Secret {self.secret_id}")

    def _login(self) -> Any:
        from simple_salesforce.api import Salesforce

        if self._http is None:
            self._http = self._http_session_factory()
        # After a remembered failure, the secret is re-read first: the fix is most likely a new key in it.
        after_failure = self._rejected is not None
        try:
            credentials = self._credentials(force_refresh=after_failure)
            try:
                token = request_access_token(credentials, http=self._http, clock=self._clock)
            except SalesforceAuthError as first:
                if after_failure:
                    raise _with_advice(first) from None
                _logger.warning(
                    "Salesforce rejected the JWT (%s); re-reading the secret once in case it was rotated",
                    first.error,
                    extra={"event": "salesforce_auth_retry", "status": first.status},
                )
                credentials = self._credentials(force_refresh=True)
                try:
                    token = request_access_token(credentials, http=self._http, clock=self._clock)
                except SalesforceAuthError as second:
                    raise _with_advice(second) from None
        except (SalesforceAuthError, SalesforceCredentialsError) as exc:
            self._remember(exc)
            raise
        except SecretError as exc:
            if exc.permanent:  # not found, access denied, no KMS decrypt, not JSON: no point reading it every turn
                self._remember(exc)
            raise
        self._rejected = None
        self._logged_rejection = ""
        _logger.info(
            "Salesforce login succeeded", extra={"event": "salesforce_login", "instance_url": token.instance_url}
        )
        return Salesforce(
            instance_url=token.instance_url, session_id=token.access_token, version=self.api_version, session=self._http
        )


def _with_advice(rejected: SalesforceAuthError) -> SalesforceAuthError:
    """The token endpoint's rejection, with what to check."""
    return SalesforceAuthError(
        f"{rejected} (still rejected after re-reading the secret: check that client_id is the connected "
        "app's consumer key, the user is pre-authorized for the app, the app's certificate matches "
        "private_key, and is_sandbox matches the org)",
        status=rejected.status,
        error=rejected.error,
    )


def _repeat(remembered: SalesforceError | SecretError, remaining: float) -> SalesforceError | SecretError:
    """A fresh exception of the remembered one's class, saying no request was sent and when the next try comes."""
    message = f"{remembered} [remembered; no login attempt for another {remaining:.0f} s]"
    repeat: SalesforceError | SecretError
    if isinstance(remembered, SalesforceAuthError):
        repeat = SalesforceAuthError(message, status=remembered.status, error=remembered.error)
    else:
        repeat = type(remembered)(message)
        if isinstance(repeat, SecretError):
            repeat.permanent = True
    repeat.retry_after_seconds = remaining
    return repeat


_default_connection: SalesforceConnection | None = None
_default_lock = threading.Lock()


def get_salesforce() -> SalesforceConnection:
    """The container's shared connection, for ``SALESFORCE_SECRET_ARN``.

    Raises:
        ConfigurationError: SALESFORCE_SECRET_ARN is not set.
    """
    global _default_connection
    if _default_connection is None:
        with _default_lock:
            if _default_connection is None:
                settings = get_settings().require("SALESFORCE_SECRET_ARN")
                assert settings.salesforce_secret_arn is not None
                _default_connection = SalesforceConnection(
                    settings.salesforce_secret_arn,
                    api_version=settings.salesforce_api_version,
                    auth_backoff_seconds=settings.salesforce_auth_backoff_seconds,
                    session_timeout_minutes=settings.salesforce_session_timeout_minutes,
                )
    return _default_connection


def set_salesforce(connection: SalesforceConnection | None) -> None:
    """Replace the shared connection (tests); ``None`` rebuilds it from settings on next use."""
    global _default_connection
    _default_connection = connection
