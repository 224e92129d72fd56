"""A Secrets Manager cache with a TTL (Task 2).

The seed's handlers called ``GetSecretValue`` on every invocation (~300 ms). This cache keeps each secret
for ``SECRETS_CACHE_TTL_SECONDS`` (default 300 s; 0 disables caching) per container, and callers that learn
a secret went stale (Salesforce rejected the JWT: the key may have been rotated) refetch it with
``force_refresh=True``.

The TTL clock is wall time (``time.time``) rather than ``time.monotonic`` on purpose: a SnapStart snapshot
can be restored long after it was taken, and only wall time sees that gap.

Logs ``[CACHE] HIT|MISS|EXPIRED|STORE secret`` (see :mod:`atlas_shared.logs`); never the secret itself.
Source of the API: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import metrics
from .clients import error_code, get_client, is_client_error, require_time
from .exceptions import SecretError
from .logs import get_logger, log_cache_event
from .settings import get_settings

_logger = get_logger("secrets")


@dataclass(frozen=True, slots=True)
class _Entry:
    value: str
    fetched_at: float


class SecretCache:
    """Per-container cache of ``SecretString`` values keyed by secret ARN or name.

    Args:
        ttl_seconds: how long a fetched value is served before it is fetched again (0: never cached).
        client: a Secrets Manager client; default the shared one from :func:`atlas_shared.clients.get_client`.
        clock: returns epoch seconds; injectable for tests.
    """

    def __init__(
        self,
        *,
        ttl_seconds: float = 300,
        client: Any | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl_seconds < 0:
            raise ValueError("ttl_seconds must be >= 0")
        self.ttl_seconds = ttl_seconds
        self._client = client
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get_secret_string(self, secret_id: str, *, force_refresh: bool = False) -> str:
        """The secret's ``SecretString``, from the cache while it is younger than the TTL.

        Args:
            secret_id: secret ARN or name.
            force_refresh: skip the cache and fetch now (after an authentication failure).

        Raises:
            SecretError: the secret cannot be read (not found, access denied, throttled, no time left before the
                invocation's deadline) or holds only binary.
        """
        now = self._clock()
        entry = self._entries.get(secret_id)
        if entry is not None and not force_refresh:
            age = now - entry.fetched_at
            if 0 <= age < self.ttl_seconds:
                log_cache_event(_logger, "HIT", "secret", age_seconds=round(age, 3), secret_id=secret_id)
                return entry.value
            log_cache_event(_logger, "EXPIRED", "secret", age_seconds=round(age, 3), secret_id=secret_id)
        else:
            log_cache_event(
                _logger, "MISS", "secret", reason="force_refresh" if force_refresh else "empty", secret_id=secret_id
            )
        with self._lock:
            value = self._fetch(secret_id)
            self._entries[secret_id] = _Entry(value, self._clock())
        log_cache_event(_logger, "STORE", "secret", ttl_seconds=self.ttl_seconds, secret_id=secret_id)
        return value

    def get_secret_json(self, secret_id: str, *, force_refresh: bool = False) -> dict[str, Any]:
        """The secret's ``SecretString`` parsed as a JSON object.

        Raises:
            SecretError: as :meth:`get_secret_string`, or when the string is not a JSON object.
        """
        raw = self.get_secret_string(secret_id, force_refresh=force_refresh)
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            raise _permanent(SecretError(f"Secret {secret_id} is not JSON; store it as a JSON object")) from None
        if not isinstance(data, dict):
            raise _permanent(SecretError(f"Secret {secret_id} is JSON but not an object; store it as a JSON object"))
        return data

    def invalidate(self, secret_id: str | None = None) -> None:
        """Drop one cached secret, or all of them."""
        with self._lock:
            if secret_id is None:
                self._entries.clear()
            else:
                self._entries.pop(secret_id, None)

    def _fetch(self, secret_id: str) -> str:
        require_time("secretsmanager", f"GetSecretValue on {secret_id}", SecretError)
        client = self._client if self._client is not None else get_client("secretsmanager")
        metrics.put("SecretsManagerRead")
        try:
            response = client.get_secret_value(SecretId=secret_id)
        except Exception as exc:
            if not is_client_error(exc):
                raise
            code = error_code(exc)
            hint = _PERMANENT_ERRORS.get(code)
            error = SecretError(f"Could not read secret {secret_id} ({code}): {hint or 'retry later'}")
            raise (_permanent(error) if hint else error) from exc
        value = response.get("SecretString")
        if not isinstance(value, str):
            raise _permanent(SecretError(f"Secret {secret_id} has no SecretString; store the value as text (JSON)"))
        return value


# Errors only a change to the secret, its key policy or the function's role can fix, with what to change.
_PERMANENT_ERRORS = {
    "ResourceNotFoundException": "check SALESFORCE_SECRET_ARN",
    "AccessDeniedException": "grant secretsmanager:GetSecretValue on it to the function's role",
    "DecryptionFailure": "grant kms:Decrypt on the secret's KMS key to the function's role",
}


def _permanent(error: SecretError) -> SecretError:
    error.permanent = True
    return error


_default_cache: SecretCache | None = None


def get_secret_cache() -> SecretCache:
    """The container's shared cache, with the TTL from ``SECRETS_CACHE_TTL_SECONDS``."""
    global _default_cache
    if _default_cache is None:
        _default_cache = SecretCache(ttl_seconds=get_settings().secrets_cache_ttl_seconds)
    return _default_cache


def set_secret_cache(cache: SecretCache | None) -> None:
    """Replace the shared cache (tests inject one with a fake clock); ``None`` rebuilds it on next use."""
    global _default_cache
    _default_cache = cache
