"""The invocation's deadline: every outbound call of an invocation fits in the time Lambda gives it.

Lambda stops an invocation at the function's timeout, whatever it is doing. A Lex turn stopped that way is an
error for the caller; a Step Functions task stopped that way is a bare ``Sandbox.Timedout``. So before each
outbound call the shared package asks :func:`current` whether the call's worst case still fits:

* a boto3 call is started only when all its attempts at their timeouts, plus botocore's backoff, fit
  (:func:`atlas_shared.clients.require_time`);
* Bedrock gets one attempt per client call; :func:`atlas_shared.bedrock.invoke` retries a transient failure only
  when another full attempt fits;
* every Salesforce request gets its ``(connect, read)`` timeout cut down to the time left
  (:meth:`Deadline.capped_timeout`).

A call that can't fit is not started: the module raises its dependency's transient error (``BedrockError``,
``ScenarioStoreError``, ``SecretError``, ``SalesforceUnavailableError``, ``OutboundCallThrottledError``), which
the workflow retries and which a Lex turn answers without.

:func:`atlas_shared.runtime.entrypoint` opens a :func:`scope` for each invocation from
``context.get_remaining_time_in_millis()``, keeping :data:`SAFETY_MARGIN_SECONDS` back for building and returning
the response. A step that must leave time for a later one runs inside :func:`reserve`. Without a Lambda context
(a local run, most tests) the deadline is unbounded and only the clients' own timeouts apply.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from .exceptions import InvocationDeadlineError

# Kept back from every invocation for building the response, logging and returning it, and for the small
# overruns a timeout allows (a TLS handshake is bounded by the connect timeout per read, not in total).
SAFETY_MARGIN_SECONDS = 2.0
# A Salesforce request with less time than this is not worth starting.
MIN_REQUEST_SECONDS = 1.0


class Deadline:
    """How much of the invocation is left for outbound calls.

    Args:
        remaining: seconds until Lambda stops the invocation (read on every question, so it is always current);
            ``None`` for no limit.
        margin: seconds kept back at the end (:data:`SAFETY_MARGIN_SECONDS`).
    """

    def __init__(self, remaining: Callable[[], float] | None, *, margin: float = SAFETY_MARGIN_SECONDS) -> None:
        self._remaining = remaining
        self._margin = margin

    @classmethod
    def from_context(cls, context: Any, *, margin: float = SAFETY_MARGIN_SECONDS) -> Deadline:
        """The deadline of a Lambda invocation, from ``context.get_remaining_time_in_millis()`` (ms).

        A context without that method (local runs, tests) gives an unbounded deadline.
        """
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        if not callable(remaining_ms):
            return cls(None)
        return cls(lambda: float(remaining_ms()) / 1000.0, margin=margin)

    @property
    def bounded(self) -> bool:
        """False when there is no limit (no Lambda context)."""
        return self._remaining is not None

    def remaining(self) -> float:
        """Seconds left for outbound calls (after the margin and any reserve); ``inf`` when unbounded.

        May be zero or negative when the time is up.
        """
        if self._remaining is None:
            return math.inf
        return self._remaining() - self._margin

    def fits(self, seconds: float) -> bool:
        """True when a call that may take ``seconds`` ends before the deadline."""
        return seconds <= self.remaining()

    def require(self, seconds: float, what: str, error: Callable[[str], Exception] = InvocationDeadlineError) -> None:
        """Raise ``error(message)`` unless ``what`` (which may take ``seconds``) fits.

        Args:
            seconds: the call's worst case.
            what: words for the message, e.g. ``"DynamoDB GetItem"``.
            error: builds the exception, e.g. ``ScenarioStoreError``: the dependency's transient error.
        """
        if not self.fits(seconds):
            raise error(
                f"{what} skipped: it may take {seconds:.1f} s and {max(self.remaining(), 0.0):.1f} s are left "
                "before the invocation's deadline"
            )

    def capped_timeout(self, timeout: tuple[float, float]) -> tuple[float, float] | None:
        """A ``requests`` ``(connect, read)`` timeout that ends before the deadline, or ``None`` when too little is left.

        ``timeout`` is returned as is when its sum fits; otherwise both parts shrink in proportion to the time
        left. ``None`` when less than :data:`MIN_REQUEST_SECONDS` is left.
        """
        connect, read = timeout
        left = self.remaining()
        if connect + read <= left:
            return timeout
        if left < MIN_REQUEST_SECONDS:
            return None
        scale = left / (connect + read)
        return connect * scale, read * scale

    def reserving(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` earlier than this one: the time a later step is promised."""
        if self._remaining is None or seconds <= 0:
            return self
        return Deadline(self._remaining, margin=self._margin + seconds)


UNBOUNDED = Deadline(None)
_current: ContextVar[Deadline] = ContextVar("atlas_deadline", default=UNBOUNDED)


def current() -> Deadline:
    """The deadline of the invocation in progress (unbounded outside one)."""
    return _current.get()


@contextlib.contextmanager
def scope(deadline: Deadline) -> Iterator[Deadline]:
    """Make ``deadline`` :func:`current` inside the ``with`` block."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


@contextlib.contextmanager
def reserve(seconds: float) -> Iterator[Deadline]:
    """Inside the block, calls must leave ``seconds`` unused for a step that comes after it.

    E.g. a Lex turn's lookups run inside ``reserve(<one Bedrock attempt>)``, so a slow DynamoDB or Salesforce
    cannot crowd out the reply.
    """
    with scope(current().reserving(seconds)) as reserved:
        yield reserved
