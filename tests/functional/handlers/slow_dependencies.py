"""Dependencies that stall, for the deadline tests: no test here waits for real timeouts.

* :class:`FakeClock` and :class:`ClockedContext` — a Lambda context whose remaining time runs on a fake clock.
* :class:`SlowAwsClient` — stands in for a boto3 client; a ``"slow"`` or ``"hang"`` call moves the clock by the
  client's worst case (:func:`atlas_shared.clients.worst_case_seconds`: every attempt at its timeouts, plus
  backoff) and then answers or raises botocore's ``ReadTimeoutError``.
* :class:`SlowSalesforce` — a ``requests`` transport for the token endpoint and the Lead REST call; a ``"slow"``
  or ``"hang"`` request moves the clock by the ``(connect, read)`` timeout it was given, so the capping done by
  ``atlas_shared.salesforce`` is what decides how long it takes.
* :class:`HangingServer` — a real TCP endpoint that takes connections and never answers (a stalled endpoint).

Behaviours, per call, in order (the last one repeats): ``"ok"`` answers at once, ``"slow"`` answers when its
time is up, ``"hang"`` times out, ``"throttle"`` (AWS) answers ThrottlingException at once, ``"expired"``
(Salesforce REST) answers ``INVALID_SESSION_ID`` when its time is up.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from botocore.exceptions import ClientError, ReadTimeoutError

from atlas_shared import clients
from tests.conftest import ACCESS_TOKEN, INSTANCE_URL, LambdaContext, bedrock_payload


@dataclass
class FakeClock:
    """Seconds since the invocation started; only :meth:`advance` moves it."""

    now: float = 0.0

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class ClockedContext(LambdaContext):
    """A Lambda context for a function with ``timeout_seconds``, invoked at ``clock`` time 0."""

    clock: FakeClock = field(default_factory=FakeClock)
    timeout_seconds: float = 30.0

    def get_remaining_time_in_millis(self) -> int:
        return round((self.timeout_seconds - self.clock.now) * 1000)


class _Script:
    """Behaviours consumed one per call; the last repeats."""

    def __init__(self, behaviours: str | Sequence[str]) -> None:
        self._behaviours = [behaviours] if isinstance(behaviours, str) else list(behaviours)
        self.used: list[str] = []

    def next(self) -> str:
        behaviour = self._behaviours[min(len(self.used), len(self._behaviours) - 1)]
        self.used.append(behaviour)
        return behaviour


class SlowAwsClient:
    """A boto3 client stand-in: ``client.<operation>(**params)`` follows the script (see the module docstring).

    Args:
        clock: moved by the worst case of a ``service`` call for ``"slow"`` and ``"hang"``.
        service: the boto3 service name, e.g. ``"dynamodb"``.
        behaviours: the script.
        answers: operation name -> function of the call's params returning the response.
    """

    def __init__(
        self,
        clock: FakeClock,
        service: str,
        behaviours: str | Sequence[str],
        answers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]],
    ) -> None:
        self.clock = clock
        self.service = service
        self.script = _Script(behaviours)
        self.answers = answers
        self.calls: list[str] = []

    def __getattr__(self, operation: str) -> Callable[..., dict[str, Any]]:
        if operation not in self.answers:
            raise AttributeError(operation)

        def call(**params: Any) -> dict[str, Any]:
            self.calls.append(operation)
            behaviour = self.script.next()
            if behaviour in ("slow", "hang"):
                self.clock.advance(clients.worst_case_seconds(self.service))
            if behaviour == "hang":
                raise ReadTimeoutError(endpoint_url=f"https://{self.service}.us-west-2.amazonaws.com/")
            if behaviour == "throttle":
                error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
                raise ClientError({**error, "ResponseMetadata": {"HTTPStatusCode": 429}}, operation)
            return self.answers[operation](params)

        return call


def bedrock_answer(text: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A ``converse`` answer speaking ``text``."""

    def answer(_: dict[str, Any]) -> dict[str, Any]:
        return bedrock_payload(text)

    return answer


class SlowSalesforce(requests.adapters.BaseAdapter):
    """A ``requests`` transport answering Salesforce's token endpoint and ``GET .../sobjects/Lead/<id>``.

    ``timeouts`` records the ``(connect, read)`` timeout of every request, in order.
    """

    def __init__(
        self, clock: FakeClock, *, token: str | Sequence[str], lead: str | Sequence[str], record: dict[str, Any]
    ) -> None:
        super().__init__()
        self.clock = clock
        self.token = _Script(token)
        self.lead = _Script(lead)
        self.record = record
        self.timeouts: list[tuple[float, float]] = []
        self.urls: list[str] = []

    def mount_on(self, session: requests.Session) -> requests.Session:
        session.mount("https://", self)
        return session

    def send(self, request: requests.PreparedRequest, timeout: Any = None, **_: Any) -> requests.Response:  # type: ignore[override]
        assert isinstance(timeout, tuple), f"every Salesforce request needs a (connect, read) timeout, got {timeout!r}"
        self.timeouts.append(timeout)
        self.urls.append(str(request.url))
        is_token = "/services/oauth2/token" in str(request.url)
        behaviour = (self.token if is_token else self.lead).next()
        if behaviour in ("slow", "hang", "expired"):
            self.clock.advance(timeout[0] + timeout[1])
        if behaviour == "hang":
            raise requests.exceptions.ReadTimeout(f"{request.url} did not answer")
        if is_token:
            status, body = 200, {"access_token": ACCESS_TOKEN, "instance_url": INSTANCE_URL}
        elif behaviour == "expired":
            status, body = 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        else:
            status, body = 200, self.record
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.encoding = "utf-8"
        response.url = str(request.url)
        response.request = request
        return response

    def close(self) -> None:
        pass


class HangingServer:
    """A TCP server on 127.0.0.1 that never accepts or answers: the kernel completes each connection into the
    listen backlog, the client sends its request and waits until its read timeout.

    Attributes:
        connections: how many connections clients opened so far: one per attempt.
    """

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self._server.setblocking(False)
        self._accepted: list[socket.socket] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    @property
    def connections(self) -> int:
        while True:  # drain the backlog: every connection ever opened is there, answered or not
            try:
                connection, _ = self._server.accept()
            except BlockingIOError:
                return len(self._accepted)
            self._accepted.append(connection)

    def __enter__(self) -> HangingServer:
        return self

    def __exit__(self, *_: Any) -> None:
        for connection in self._accepted:
            connection.close()
        self._server.close()
