"""Helpers for the exactly-once tests: the idempotency records in moto, a gate to make two deliveries overlap,
a simulated crash, and thread-safe fakes of the Salesforce Lead REST API and of Amazon Connect.

* :class:`Crash` — a ``BaseException``: like a Lambda runtime killed mid-invocation (timeout, out of memory), it
  skips every ``except Exception`` (so nothing deletes or completes the idempotency record).
* :class:`Gate` — the first call through :meth:`Gate.hold` signals ``reached`` and waits for ``release``: the
  test runs a second delivery in between.
* :class:`LeadApi` — ``responses`` callbacks for Lead create, the SOQL duplicate check, the external-id upsert and
  the Lead update, safe to call from two threads, with an optional gate and crash per operation.
* :class:`FakeConnect` — a ``connect`` client stand-in whose ``start_outbound_voice_contact`` honours
  ``ClientToken`` as Connect documents it: the same token returns the first contact instead of placing another
  call (https://docs.aws.amazon.com/connect/latest/APIReference/API_StartOutboundVoiceContact.html).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import responses

from tests.conftest import TABLE_NAME, FakeAws, FakeSalesforce

EXTERNAL_ID_FIELD = "Atlas_Idempotency_Key__c"
WAIT_SECONDS = 20.0


class Crash(BaseException):
    """The runtime died here (Lambda timeout, out of memory): no ``except Exception`` sees it."""


class Gate:
    """Holds the first caller of :meth:`hold` until the test calls :meth:`release` (or ``WAIT_SECONDS`` pass)."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self._release = threading.Event()
        self._used = False
        self._lock = threading.Lock()

    def hold(self) -> None:
        with self._lock:
            first, self._used = not self._used, True
        if first:
            self.reached.set()
            self._release.wait(WAIT_SECONDS)

    def release(self) -> None:
        self._release.set()

    def wait_reached(self) -> None:
        assert self.reached.wait(WAIT_SECONDS), "the first delivery never reached the gate"


def run_in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Start ``target`` in a thread; the dict gets ``result`` or ``error`` when it ends."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = target()
        except BaseException as exc:  # a Crash included: the test inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


# --------------------------------------------------------------------------------------------- the records


def records(aws: FakeAws) -> list[dict[str, Any]]:
    """Every idempotency record in the table (``PK`` starting ``IDEMPOTENCY#``), as moto holds them."""
    items = aws.dynamodb.scan(TableName=TABLE_NAME)["Items"]
    return [item for item in items if item["PK"]["S"].startswith("IDEMPOTENCY#")]


def record(aws: FakeAws, task: str) -> dict[str, Any]:
    """The one record of ``task`` (its ``SK`` starts with ``<task>#``)."""
    (item,) = [item for item in records(aws) if item["SK"]["S"].startswith(f"{task}#")]
    return item


def record_key(aws: FakeAws, task: str) -> dict[str, Any]:
    item = record(aws, task)
    return {"PK": item["PK"], "SK": item["SK"]}


def expire_in_progress(aws: FakeAws, task: str) -> None:
    """Move the record's in-progress expiry into the past: the crashed invocation's timeout has passed."""
    aws.dynamodb.update_item(
        TableName=TABLE_NAME,
        Key=record_key(aws, task),
        UpdateExpression="SET InProgressExpiresAtMs = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time() * 1000) - 1000)}},
    )


# --------------------------------------------------------------------------------------------- Salesforce


class LeadApi:
    """A stateful, thread-safe fake of the Lead sObject behind ``salesforce_api``.

    ``gates[op]`` holds the first ``op`` call after Salesforce has done it (``create``, ``upsert``, ``update``) or
    before it answers (``query``); ``crash_after`` names an operation whose first call is done and then
    :class:`Crash` es the calling delivery.
    """

    def __init__(self, salesforce_api: FakeSalesforce) -> None:
        self.leads: list[dict[str, Any]] = []
        self.operations: list[str] = []
        self.updates: list[tuple[str, dict[str, Any]]] = []
        self.gates: dict[str, Gate] = {}
        self.crash_after: str | None = None
        self._lock = threading.Lock()
        base = salesforce_api.data_url
        mock = salesforce_api.mock
        mock.add_callback(responses.POST, f"{base}/sobjects/Lead/", callback=self._create)
        mock.add_callback(responses.GET, re.compile(re.escape(f"{base}/query/") + r"\?.*"), callback=self._query)
        mock.add_callback(
            responses.PATCH,
            re.compile(re.escape(f"{base}/sobjects/Lead/{EXTERNAL_ID_FIELD}/") + ".+"),
            callback=self._upsert,
        )
        mock.add_callback(
            responses.PATCH,
            re.compile(re.escape(f"{base}/sobjects/Lead/") + r"[A-Za-z0-9]{15,18}$"),
            callback=self._update,
        )

    def _after(self, operation: str) -> None:
        if operation in self.gates:
            self.gates[operation].hold()
        if self.crash_after == operation:
            self.crash_after = None
            raise Crash(f"runtime died after the Lead {operation}")

    def _create(self, request: Any) -> tuple[int, dict[str, str], str]:
        with self._lock:
            self.operations.append("create")
            lead = {**json.loads(request.body), "Id": f"00Q5g00000Lead{len(self.leads):03d}A"}
            self.leads.append(lead)
        self._after("create")
        return 201, {}, json.dumps({"id": lead["Id"], "success": True, "errors": []})

    def _query(self, request: Any) -> tuple[int, dict[str, str], str]:
        soql = parse_qs(urlparse(request.url).query)["q"][0]
        with self._lock:
            self.operations.append("query")
            matches = [
                {"attributes": {"type": "Lead"}, "Id": lead["Id"]}
                for lead in self.leads
                if f"LastName = '{lead['LastName']}'" in soql
                and f"Phone = '{lead['Phone']}'" in soql
                and (f"Email = '{lead['Email']}'" in soql if lead.get("Email") else True)
            ]
        self._after("query")
        return 200, {}, json.dumps({"totalSize": len(matches), "done": True, "records": matches[:1]})

    def _upsert(self, request: Any) -> tuple[int, dict[str, str], str]:
        key = request.url.rsplit("/", 1)[1]
        body = json.loads(request.body)
        with self._lock:
            self.operations.append("upsert")
            existing = next((lead for lead in self.leads if lead.get(EXTERNAL_ID_FIELD) == key), None)
            if existing is not None:
                existing.update(body)
                status, lead, created = 200, existing, False
            else:
                lead = {**body, EXTERNAL_ID_FIELD: key, "Id": f"00Q5g00000Lead{len(self.leads):03d}A"}
                self.leads.append(lead)
                status, created = 201, True
        self._after("upsert")
        return status, {}, json.dumps({"id": lead["Id"], "success": True, "errors": [], "created": created})

    def _update(self, request: Any) -> tuple[int, dict[str, str], str]:
        lead_id = request.url.rsplit("/", 1)[1]
        with self._lock:
            self.operations.append("update")
            self.updates.append((lead_id, json.loads(request.body)))
        self._after("update")
        return 204, {}, ""


# --------------------------------------------------------------------------------------------- Connect


class FakeConnect:
    """``start_outbound_voice_contact`` with Connect's ClientToken semantics; thread-safe.

    ``dialled`` holds one entry per call actually placed; ``requests`` every request received. ``gate`` holds the
    first request after the call is placed; ``crash_after_dial`` makes the first request place the call and then
    :class:`Crash` the delivery.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.dialled: list[str] = []
        self._by_token: dict[str, str] = {}
        self.gate: Gate | None = None
        self.crash_after_dial = False
        self._lock = threading.Lock()

    def start_outbound_voice_contact(self, **request: Any) -> dict[str, Any]:
        for required in ("DestinationPhoneNumber", "ContactFlowId", "InstanceId", "ClientToken"):
            assert request.get(required), f"StartOutboundVoiceContact needs {required}"
        with self._lock:
            self.requests.append(request)
            token = request["ClientToken"]
            if token not in self._by_token:
                self._by_token[token] = f"contact-{len(self.dialled) + 1:04d}"
                self.dialled.append(request["DestinationPhoneNumber"])
            contact_id = self._by_token[token]
        if self.gate is not None:
            self.gate.hold()
        if self.crash_after_dial:
            self.crash_after_dial = False
            raise Crash("runtime died after Connect placed the call")
        return {"ContactId": contact_id}
