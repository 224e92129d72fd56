"""Every error the shared package and the handlers raise, in one hierarchy.

A Python Lambda function that raises reports the exception's class name as ``errorType``; Step Functions
matches ``Retry``/``Catch`` ``ErrorEquals`` against that name. So the names here are part of the workflow's
contract (see lambda_src/README.md): ``InvalidInputError`` must never be retried, while
``OutboundCallThrottledError`` and ``SalesforceUnavailableError`` are worth a retry with backoff.

Messages name what failed and what to do; they never include secrets, tokens, JWTs or private keys.
"""

from __future__ import annotations


class AtlasError(Exception):
    """Base class of every error raised by ``atlas_shared`` and the five handlers."""


class ConfigurationError(AtlasError):
    """An environment variable is missing or holds an invalid value.

    Attributes:
        variables: the environment variable names at fault, e.g. ``("SCENARIO_TABLE_NAME",)``.
    """

    def __init__(self, message: str, variables: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.variables = variables


class InvalidInputError(AtlasError, ValueError):
    """The Step Functions input (or a Lex event) is missing a field or holds an invalid value. Not retryable."""


class LexEventError(InvalidInputError):
    """The Lex V2 code hook event does not follow the Lex V2 Lambda input format."""


class SecretError(AtlasError):
    """A Secrets Manager secret could not be read, or its SecretString is not the expected JSON.

    Attributes:
        permanent: True when only a change can fix it (not found, access denied, no KMS decrypt, not a JSON
            object), False for a throttle, a timeout or no time left.
        retry_after_seconds: above 0 on a remembered failure (see :mod:`atlas_shared.salesforce`).
    """

    permanent: bool = False
    retry_after_seconds: float = 0.0


class SalesforceError(AtlasError):
    """Base class of Salesforce failures.

    Attributes:
        retry_after_seconds: above 0 on a remembered login failure (see :mod:`atlas_shared.salesforce`): no
            request was sent, and no login will be tried for this many seconds.
    """

    retry_after_seconds: float = 0.0


class SalesforceCredentialsError(SalesforceError):
    """The Salesforce secret lacks a field or holds an unusable private key (fix the secret, don't retry)."""


class SalesforceAuthError(SalesforceError):
    """Salesforce's token endpoint rejected the JWT bearer assertion (HTTP 4xx, e.g. ``invalid_grant``).

    Attributes:
        status: HTTP status of the token endpoint's answer.
        error: the OAuth ``error`` code, e.g. ``invalid_grant`` (never a token).
    """

    def __init__(self, message: str, *, status: int = 0, error: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error = error


class SalesforceUnavailableError(SalesforceError):
    """Salesforce did not answer, timed out or answered 5xx: a transient failure worth a retry.

    Attributes:
        status: HTTP status (0 when no answer arrived).
    """

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class SalesforceRequestError(SalesforceError):
    """A Salesforce REST call failed.

    Attributes:
        status: HTTP status (0 when unknown).
        error_code: Salesforce ``errorCode`` of the first error, e.g. ``NOT_FOUND``, ``DUPLICATES_DETECTED``.
    """

    def __init__(self, message: str, *, status: int = 0, error_code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class BedrockError(AtlasError):
    """``bedrock-runtime`` Converse or ConverseStream failed, returned no usable text, or had no time to run.

    Attributes:
        code: the AWS error code (``ThrottlingException``, ``ReadTimeoutError`` ...) or a short reason
            (``InvalidResponse``, ``EmptyResponse``, ``DeadlineExceeded``).
        retryable: the same request may succeed on another attempt within this invocation (throttling, 5xx,
            timeouts). The workflow retries every ``BedrockError`` regardless, after a backoff.
    """

    def __init__(self, message: str, *, code: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class InvocationDeadlineError(AtlasError):
    """Too little of the invocation's time is left for the next call (:mod:`atlas_shared.deadline`).

    The shared modules raise their dependency's own transient error instead, so that Step Functions sees a name
    it retries; this is the default for code that has no such error.
    """


class ScenarioStoreError(AtlasError):
    """The DynamoDB scenario table could not be read or written."""


class ScenarioGenerationError(AtlasError):
    """Bedrock's answer held no usable scenario (after every fallback)."""


class OutboundCallError(AtlasError):
    """Amazon Connect refused ``StartOutboundVoiceContact``.

    Attributes:
        code: the Connect error code, e.g. ``DestinationNotAllowedException``.
    """

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class OutboundCallThrottledError(OutboundCallError):
    """Connect throttled the call, hit a concurrency limit, failed internally or did not answer in time.

    Retry with backoff: the ClientToken makes it safe (Connect returns the first contact, never dials twice).
    """


class IdempotencyInProgressError(AtlasError):
    """Another delivery of the same workflow task (same ``idempotency_key``) is still running.

    Raised by :mod:`atlas_shared.idempotency` instead of doing the work a second time. Retry with backoff: once the
    first delivery finishes, the retry returns its stored result; if the first delivery crashed, its record stops
    counting as in progress at that invocation's timeout and the retry does the work (see that module).
    """


class IdempotencyStoreError(AtlasError):
    """The idempotency record could not be read or written in DynamoDB (or there was no time left to try).

    Transient: retry. When the task's work itself had already finished, the handler returns its result instead.
    """


class IdempotencyKeyReusedError(InvalidInputError):
    """The ``idempotency_key`` already served a task input that differs from this one (not retryable).

    Step Functions gives each execution its own name, so this means the key was reused by hand: use a new one.
    """
