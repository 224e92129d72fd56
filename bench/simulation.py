"""Latency simulation of LexFulfillmentHandler before and after Phase 1, in virtual time (issue 9, section 5).

No pass/fail and no AWS account. The project's real handler (``lambda_src/LexFulfillmentHandler``) answers
about 1,000 Lex V2 turns of about 100 phone calls, served by a pool of provisioned and on-demand containers the
way Lambda would serve them; every outbound call is answered by a fake at the transport level and counted:

* botocore: a ``before-send`` handler on boto3's default session answers DynamoDB ``GetItem``, Secrets Manager
  ``GetSecretValue`` and bedrock-runtime ``Converse`` / ``ConverseStream`` (a real ``application/
  vnd.amazon.eventstream`` body, so the handler's stop-at-N-sentences reading is what decides how many tokens
  were waited for);
* requests: ``HTTPAdapter.send`` answers the Salesforce token endpoint and REST API;
* anything else (another AWS operation, another URL, a botocore or socket connection that bypasses both) is
  an :class:`UnexpectedOutboundCall`, raised after the turn even when the handler swallowed it.

Each call's scenario item is written first by the real GenerateDynamicScenarioHandler (its PutItem is the
item later turns read; those workflow calls are reported apart from the turns). Each simulated container imports
the handler afresh with its own ``atlas_shared`` modules (swapped into
``sys.modules`` around each of its invocations), so the per-container caches (clients, secret, Salesforce
session, scenarios) behave as in Lambda; provisioned containers run the init-phase warm-up. Time is virtual:
a turn's latency is the sum of its calls' latencies from :data:`MODEL` (every figure overridable with
``--set name=value``), plus a cold start when it starts a container, plus our own compute (the process time
of the handler call, or ``compute_ms`` when set; the fakes answer instantly). A run is seeded, sleeps never, and
takes about two CPU-minutes for every variant (most of it the baseline's RS256 signing on every invocation).

Run::

    .venv/bin/python bench/simulation.py [--calls 100] [--seed 7] [--set ddb_ms_min=150] [--out-dir bench/results]

Writes ``simulation.json``, ``simulation.md`` and ``simulation.png`` to ``--out-dir``.

The BEFORE baseline is the plan's (/work/shared/seed/phase1-plan.txt, "Before Phase 1") applied to the same real
code by the harness: before each invocation the container's secret cache and Salesforce session are dropped and
the login runs (as the seed's ``get_sf_connection()`` did on every invocation: one GetSecretValue and one JWT
exchange, counted), the scenario is stripped from the inbound session attributes (so the handler reads DynamoDB
on every turn), ``BEDROCK_MAX_TOKENS=512``, Converse without streaming or a sentence stop, no provisioned
concurrency and a cold start on 30 % of turns (``before_cold_rate``). Both use the same Bedrock model figures, so
the comparison isolates Phase 1's tasks (the model change of issue 8 is not in it).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import heapq
import importlib
import importlib.util
import io
import json
import logging
import math
import os
import random
import socket
import statistics
import struct
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_SRC = ROOT / "lambda_src"
HANDLER_PATH = LAMBDA_SRC / "LexFulfillmentHandler" / "lambda_function.py"
SCENARIO_HANDLER_PATH = LAMBDA_SRC / "GenerateDynamicScenarioHandler" / "lambda_function.py"
EVENTS_DIR = ROOT / "tests" / "events"


def _bench_module(name: str) -> Any:
    """Load bench/<name>.py by path: bench/ is not a package, and putting it on sys.path would let its
    ``build.py`` shadow the repository's ``build.py`` for anything imported later in the same process."""
    spec = importlib.util.spec_from_file_location(f"atlas_bench_{name}", Path(__file__).resolve().parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


BEDROCK_ASSUMPTIONS = _bench_module("bedrock_latency").ASSUMPTIONS

# ----------------------------------------------------------------------------------------------- the model
# Every figure of the simulation, in one place. Latencies in ms, times in s. Override any with --set name=value.
MODEL: dict[str, Any] = {
    # The plan's own figures (/work/shared/seed/phase1-plan.txt).
    "cold_start_ms_min": 3000,  # Task 1: pointing Lex at provisioned concurrency saves "3 to 4 seconds"
    "cold_start_ms_max": 4000,
    "secretsmanager_ms": 300,  # Task 2: "Every invocation ... calls Secrets Manager API, adding 300ms"
    "ddb_ms_min": 100,  # Task 3: "-100 to -300ms per turn"
    "ddb_ms_max": 300,
    "before_cold_rate": 0.30,  # "Before Phase 1": "Cold start rate: 30%"
    "before_max_tokens": 512,  # Task 4: "Bedrock is configured to generate up to 512 tokens"
    # Salesforce: the plan gives no figure. Assumptions: a token request is a TLS round trip to
    # login.salesforce.com plus the org's JWT check; a Lead GET by id is one REST round trip.
    "sf_token_ms": 400,
    "sf_rest_ms": 150,
    "sf_session_timeout_s": 7200,  # Salesforce's default session timeout (Setup > Session Settings): 2 hours
    # Bedrock: bench/bedrock_latency.py's model (TTFT log-normal + output tokens / speed), its figures reused.
    # Published figures they sit within: artificialanalysis.ai (Claude 3.5 Haiku on Amazon Bedrock: TTFT 0.70-0.81 s
    # standard, 0.59-0.62 s latency-optimized; 65-101 output tokens/s) and learn.cloudbuckle.com (Claude Haiku 4.5
    # on Bedrock: 150-180 tokens/s). Pages in SOURCES.
    "ttft_median_s": BEDROCK_ASSUMPTIONS["ttft_median_s"],
    "ttft_p90_s": BEDROCK_ASSUMPTIONS["ttft_p90_s"],
    "tokens_per_s": BEDROCK_ASSUMPTIONS["tokens_per_s"],
    "tokens_per_s_sd": BEDROCK_ASSUMPTIONS["tokens_per_s_sd"],
    "tokens_per_sentence": BEDROCK_ASSUMPTIONS["tokens_per_sentence"],
    "tokens_per_sentence_sd": BEDROCK_ASSUMPTIONS["tokens_per_sentence_sd"],
    "sentences_p": BEDROCK_ASSUMPTIONS["sentences_p"],
    # Replies of a fixed token range instead (the plan's "most responses are 50-100 tokens"); 0 = use sentences_p.
    "reply_tokens_min": 0,
    "reply_tokens_max": 0,
    # Our own compute per turn: None = the measured process time of the handler call; a number = that many ms
    # (repeatable to the bit; the tests use it).
    "compute_ms": None,
    # Workload (ours; no source): arrivals, call shape, think time, the pool.
    "calls": 100,
    "arrivals_per_min": 1.0,  # Poisson
    "peak_factor": 3.0,  # arrival rate multiplier inside a peak
    "peak_starts_min": [20, 60],
    "peak_minutes": 10,
    "turns_min": 6,  # turns per call, uniform (a slot-filling exchange adds one)
    "turns_max": 13,
    "greeting_share": 0.5,  # calls that open with GreetingIntent; the rest open with a question
    "slot_share": 0.3,  # calls with one slot-filling exchange (a Delegate turn, then the slot's value)
    "think_median_s": 8.0,  # from the end of one turn to the next: the reply spoken, the caller's answer
    "think_p90_s": 15.0,
    "provisioned": 1,  # provisioned concurrency on the live alias (the module's default)
    "ondemand_idle_s": 600,  # an idle on-demand container is reclaimed after this (Lambda publishes no figure)
    "function_timeout_s": 30,
}
SOURCES = {
    "plan": "/work/shared/seed/phase1-plan.txt (Tasks 1-4 and 'Success Metrics')",
    "bedrock": [
        "bench/bedrock_latency.py ASSUMPTIONS",
        "https://artificialanalysis.ai/models/claude-3-5-haiku/providers",
        "https://learn.cloudbuckle.com/docs/claude-optimization/latency-factors",
    ],
    "salesforce_session": "https://help.salesforce.com/s/articleView?id=sf.admin_sessions.htm (Session Settings)",
    "eventstream": "https://docs.aws.amazon.com/lexv2/latest/dg/event-stream-encoding.html (the encoding ConverseStream uses)",
}

REGION = "us-west-2"
TABLE = "atlas-sim-scenarios"
SECRET = "atlas/sim-salesforce"
LOGIN_HOST = "login.salesforce.com"
INSTANCE_URL = "https://atlas-sim.my.salesforce.com"
EPOCH = 1_800_000_000.0  # virtual time 0, as epoch seconds (the secret cache's and the JWT's clock)
BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "sim",
    "AWS_SECRET_ACCESS_KEY": "sim",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_LAMBDA_FUNCTION_NAME": "LexFulfillmentHandler",
    "AWS_XRAY_SDK_ENABLED": "false",  # no daemon here; X-Ray would add no outbound HTTP call anyway
    "LOG_LEVEL": "WARNING",
    "SCENARIO_TABLE_NAME": TABLE,
    "SALESFORCE_SECRET_ARN": SECRET,
    "SECRETS_CACHE_TTL_SECONDS": "300",
    "CONVERSATION_HISTORY_TURNS": "6",
}
CLEARED_ENV = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "LAMBDA_TASK_ROOT", "_X_AMZN_TRACE_ID") + tuple(
    k for k in os.environ if k.startswith("BEDROCK_")
)
SERVICES = ("dynamodb", "secretsmanager", "salesforce_token", "salesforce_rest", "bedrock")
COMPONENTS = ("cold_start", *SERVICES, "compute")


class UnexpectedOutboundCall(RuntimeError):
    """An outbound call the simulation has no fake for: it would have escaped uncounted."""


# ----------------------------------------------------------------------------------------------- variants


@dataclass(frozen=True)
class Variant:
    """One configuration to simulate: the plan's BEFORE rules or the project as built, plus settings."""

    name: str
    label: str
    before: bool = False
    env: dict[str, str] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)


AFTER_ENV = {"BEDROCK_MAX_TOKENS": "150", "BEDROCK_MAX_SENTENCES": "3", "BEDROCK_STREAM": "true"}


def variants(model: dict[str, Any]) -> list[Variant]:
    """The rows of the report: the plan's BEFORE, the project's defaults (AFTER), and options around the latter.

    The ``max_tokens`` rows run the project's code with Converse (no stream, so the whole reply is waited for, as
    in the plan's InvokeModel): only the cap and the reply length differ between them.
    """
    before_env = {"BEDROCK_MAX_TOKENS": str(model["before_max_tokens"]), "BEDROCK_STREAM": "false"}
    converse = {**AFTER_ENV, "BEDROCK_STREAM": "false"}
    plan_replies = {"reply_tokens_min": 50, "reply_tokens_max": 100}
    return [
        Variant("before", "before: the plan's baseline", before=True, env=before_env),
        Variant("after", "after: the project's defaults", env=AFTER_ENV),
        Variant("after_converse", "after, Converse (streaming off)", env=converse),
        Variant("after_stream_2", "after, stream, max_sentences 2", env={**AFTER_ENV, "BEDROCK_MAX_SENTENCES": "2"}),
        Variant("after_stream_1", "after, stream, max_sentences 1", env={**AFTER_ENV, "BEDROCK_MAX_SENTENCES": "1"}),
        Variant("after_provisioned_3", "after, provisioned concurrency 3", env=AFTER_ENV, model={"provisioned": 3}),
        Variant(
            "converse_512",
            "after, Converse, max_tokens 512",
            env={**converse, "BEDROCK_MAX_TOKENS": str(model["before_max_tokens"])},
        ),
        Variant(
            "converse_plan_replies_512",
            "after, Converse, 50-100-token replies, max_tokens 512",
            env={**converse, "BEDROCK_MAX_TOKENS": str(model["before_max_tokens"])},
            model=plan_replies,
        ),
        Variant(
            "converse_plan_replies_150",
            "after, Converse, 50-100-token replies, max_tokens 150",
            env=converse,
            model=plan_replies,
        ),
    ]


# ----------------------------------------------------------------------------------------------- workload


@dataclass
class TurnSpec:
    """One Lex turn: ``kind`` is greeting | question | slot_elicit | slot_fill."""

    kind: str
    transcript: str


@dataclass
class CallSpec:
    """One phone call: arrival (virtual s), its keys, its scenario item and its turns with think times (s)."""

    index: int
    arrival_s: float
    interaction_key: str
    lead_id: str
    scenario: str
    greeting: str
    turns: list[TurnSpec]
    think_s: list[float]


QUESTIONS = (
    "What does the premium plan include?",
    "How much does it cost per month?",
    "Can it connect to our CRM?",
    "Is there a free trial?",
    "How long does onboarding take?",
    "Who else in our industry uses it?",
    "What about data security?",
    "Sounds interesting, tell me more.",
    "Can you send me the details by email?",
    "What happens after the trial ends?",
)


def _lognormal(rng: random.Random, median: float, p90: float) -> float:
    sigma = math.log(p90 / median) / 1.2816 if p90 > median else 0.0
    return median * math.exp(rng.gauss(0, sigma))


def build_workload(model: dict[str, Any], seed: int) -> list[CallSpec]:
    """``model["calls"]`` calls: Poisson arrivals with peaks, openings, slot exchanges and think times (seeded)."""
    rng = random.Random(f"workload:{seed}")
    calls: list[CallSpec] = []
    peak_rate = model["arrivals_per_min"] * model["peak_factor"]
    max_rate = max(model["arrivals_per_min"], peak_rate) / 60.0
    t = 0.0
    while len(calls) < model["calls"]:
        t += rng.expovariate(max_rate)  # thinning: a non-homogeneous Poisson process
        minute = t / 60.0
        in_peak = any(start <= minute < start + model["peak_minutes"] for start in model["peak_starts_min"])
        rate = (peak_rate if in_peak else model["arrivals_per_min"]) / 60.0
        if rng.random() > rate / max_rate:
            continue
        index = len(calls)
        turns: list[TurnSpec] = []
        if rng.random() < model["greeting_share"]:
            turns.append(TurnSpec("greeting", "hello"))
        count = rng.randint(model["turns_min"], model["turns_max"])
        while len(turns) < count:
            turns.append(TurnSpec("question", rng.choice(QUESTIONS)))
        if rng.random() < model["slot_share"]:
            at = rng.randint(1, len(turns) - 1)
            turns[at:at] = [
                TurnSpec("slot_elicit", "can you call me back later"),
                TurnSpec("slot_fill", "tomorrow at ten"),
            ]
        name = f"Lead{index:03d}"
        calls.append(
            CallSpec(
                index=index,
                arrival_s=t,
                interaction_key=f"{rng.getrandbits(128):032x}",
                lead_id=f"00Q5g{index:010d}AAA",
                scenario=(
                    f"{name} is head of operations at Company {index} and downloaded the pricing guide. "
                    "Offer the premium plan: priority support, CRM integration, a 30-day trial. " * rng.randint(2, 6)
                ).strip(),
                greeting=f"Hi, this is Sam from Atlas, calling about the pricing guide you downloaded, {name}!",
                turns=turns,
                think_s=[_lognormal(rng, model["think_median_s"], model["think_p90_s"]) for _ in turns],
            )
        )
    return calls


def _template(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


TEMPLATES = {
    "greeting": _template("lex_greeting_first_turn"),
    "question": _template("lex_question_turn"),
    "slot_elicit": _template("lex_slot_elicitation"),
}


def build_event(call: CallSpec, turn: TurnSpec, session_attributes: dict[str, str]) -> dict[str, Any]:
    """A Lex V2 code hook event shaped like tests/events/*.json, carrying the previous turn's session attributes.

    Amazon Connect passes the call's ``interactionKey`` as a request attribute on every turn.
    """
    kind = "slot_elicit" if turn.kind == "slot_fill" else turn.kind
    event = copy.deepcopy(TEMPLATES[kind])
    event["sessionId"] = f"sim-call-{call.index:03d}"
    event["inputTranscript"] = turn.transcript
    event["transcriptions"][0]["transcription"] = turn.transcript
    event["sessionState"]["sessionAttributes"] = dict(session_attributes)
    event["requestAttributes"] = {
        "interactionKey": call.interaction_key,
        "x-amz-lex:accept-content-types": "PlainText",
    }
    if turn.kind == "slot_fill":
        value = {"value": {"originalValue": turn.transcript, "interpretedValue": "2026-12-02", "resolvedValues": []}}
        event["invocationSource"] = "FulfillmentCodeHook"
        event.pop("proposedNextState", None)
        event["sessionState"]["intent"]["slots"] = {"CallbackDate": value}
        event["sessionState"]["intent"]["state"] = "ReadyForFulfillment"
        event["interpretations"][0]["intent"]["slots"] = {"CallbackDate": value}
    return event


# ----------------------------------------------------------------------------------------------- transport


def _eventstream_message(event_type: str, payload: dict[str, Any]) -> bytes:
    """One ``application/vnd.amazon.eventstream`` message: prelude, string headers, JSON payload, CRC32s."""
    headers = b""
    for name, value in ((":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")):
        raw = value.encode()
        headers += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(raw)) + raw
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + headers + body
    return message + struct.pack(">I", zlib.crc32(message) & 0xFFFFFFFF)


class _RawStream:
    """The ``raw`` of a botocore ``AWSResponse``: yields chunks lazily and counts how many were read."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read = 0
        self.closed = False

    def stream(self, **_: Any) -> Iterator[bytes]:
        for chunk in self.chunks:
            if self.closed:
                return
            self.read += 1
            yield chunk

    def read_all(self) -> bytes:
        return b"".join(self.stream())

    def close(self) -> None:
        self.closed = True


@dataclass
class Reply:
    """A sampled Bedrock reply: sentence token counts, TTFT (s) and output speed (tokens/s)."""

    sentence_tokens: list[int]
    ttft_s: float
    tokens_per_s: float


def sample_reply(model: dict[str, Any], rng: random.Random) -> Reply:
    """bench/bedrock_latency.py's reply model (or a fixed token range when ``reply_tokens_max`` is set)."""
    ttft = _lognormal(rng, model["ttft_median_s"], model["ttft_p90_s"])
    speed = max(20.0, rng.gauss(model["tokens_per_s"], model["tokens_per_s_sd"]))
    if model["reply_tokens_max"]:
        total = rng.randint(model["reply_tokens_min"], model["reply_tokens_max"])
        count = max(1, round(total / model["tokens_per_sentence"]))
        sizes = [total // count + (1 if i < total % count else 0) for i in range(count)]
    else:
        count = rng.choices(range(1, len(model["sentences_p"]) + 1), weights=model["sentences_p"])[0]
        sizes = [
            max(3, round(rng.gauss(model["tokens_per_sentence"], model["tokens_per_sentence_sd"])))
            for _ in range(count)
        ]
    return Reply(sizes, ttft, speed)


def _sentence(tokens: int, index: int) -> str:
    words = max(2, round(tokens * 0.75))  # ~0.75 English words per token
    return " ".join(["Premium"] + ["plan"] * (words - 2) + [f"detail{index}."])


@dataclass
class CallRecord:
    service: str
    operation: str
    ms: float
    stream: _RawStream | None = None
    stream_tokens: list[int] = field(default_factory=list)
    reply: Reply | None = None


class Transport:
    """The fakes below botocore and requests, the virtual clock, and the record of every call.

    Use as a context manager: it installs the fakes and guards and removes them on exit.
    """

    def __init__(self, model: dict[str, Any], seed: int) -> None:
        self.model = model
        self.seed = seed
        self.now = 0.0  # virtual seconds
        self.records: list[CallRecord] = []
        self.violations: list[str] = []
        self.turn_key = "init"
        self.scenarios: dict[str, dict[str, Any]] = {}
        self.leads: dict[str, dict[str, str]] = {}
        self.secret = ""
        self.sessions: dict[str, float] = {}  # access token -> last use (virtual s)
        self._latency_rng = random.Random(f"latency:{seed}")
        self._saved: list[tuple[Any, str, Any]] = []
        self._saved_session: Any = None
        self.scenario_reply: str | None = None  # set while GenerateDynamicScenarioHandler writes the items

    # -- clock and records
    def clock(self) -> float:
        return EPOCH + self.now

    def _record(self, service: str, operation: str, ms: float, **extra: Any) -> CallRecord:
        record = CallRecord(service, operation, ms, **extra)
        self.records.append(record)
        self.now += ms / 1000.0
        return record

    def _violation(self, what: str) -> UnexpectedOutboundCall:
        self.violations.append(what)
        return UnexpectedOutboundCall(f"unexpected outbound call: {what}")

    def take(self) -> list[CallRecord]:
        """The calls since the last take; a ConverseStream's latency is settled from what the handler read."""
        records, self.records = self.records, []
        for record in records:
            if record.stream is not None and record.reply is not None:
                # chunk 0 is messageStart; then one contentBlockDelta per sentence
                sentences = max(0, min(record.stream.read - 1, len(record.stream_tokens)))
                record.ms = 1000.0 * (
                    record.reply.ttft_s + sum(record.stream_tokens[:sentences]) / record.reply.tokens_per_s
                )
                self.now += record.ms / 1000.0
        return records

    # -- botocore
    def before_send(self, request: Any, event_name: str = "", **_: Any) -> Any:
        """botocore ``before-send.<service>.<Operation>``: answer the request (an ``AWSResponse``) or raise.

        DynamoDB GetItem returns the call's scenario item (docs/contracts.md shape), Secrets Manager
        GetSecretValue the JWT bearer secret, Bedrock a sampled reply (:meth:`_bedrock`); each is recorded with its
        latency from :data:`MODEL`. Anything else is an :class:`UnexpectedOutboundCall`.
        """
        from botocore.awsrequest import AWSResponse

        parts = event_name.split(".")
        service, operation = parts[1], parts[2]
        body = json.loads(request.body or b"{}") if request.body else {}
        headers = {"x-amzn-RequestId": "sim", "Content-Type": "application/x-amz-json-1.0"}
        if (service, operation) == ("dynamodb", "GetItem"):
            key = body["Key"]["PK"]["S"].removeprefix("INTERACTION#")
            item = self.scenarios.get(key)
            ms = self._latency_rng.uniform(self.model["ddb_ms_min"], self.model["ddb_ms_max"])
            self._record("dynamodb", operation, ms)
            if item and body.get("ProjectionExpression"):
                names = body.get("ExpressionAttributeNames") or {}
                wanted = {names.get(n.strip(), n.strip()) for n in body["ProjectionExpression"].split(",")}
                item = {k: v for k, v in item.items() if k in wanted}
            payload = {"Item": item} if item else {}
            return AWSResponse(request.url, 200, headers, _RawStream([json.dumps(payload).encode()]))
        if (service, operation) == ("dynamodb", "PutItem"):
            key = body["Item"]["PK"]["S"].removeprefix("INTERACTION#")
            self._record("dynamodb", operation, 0.0)  # the workflow's time is not a turn's; no latency draw
            if key in self.scenarios and "attribute_not_exists" in body.get("ConditionExpression", ""):
                error = {
                    "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                    "message": "The conditional request failed",
                }
                return AWSResponse(request.url, 400, headers, _RawStream([json.dumps(error).encode()]))
            self.scenarios[key] = body["Item"]
            return AWSResponse(request.url, 200, headers, _RawStream([b"{}"]))
        if (service, operation) == ("secrets-manager", "GetSecretValue"):
            self._record("secretsmanager", operation, self.model["secretsmanager_ms"])
            payload = {
                "ARN": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:{SECRET}-AbCdEf",
                "Name": SECRET,
                "VersionId": "sim-version",
                "SecretString": self.secret,
                "VersionStages": ["AWSCURRENT"],
                "CreatedDate": EPOCH,
            }
            headers["Content-Type"] = "application/x-amz-json-1.1"
            return AWSResponse(request.url, 200, headers, _RawStream([json.dumps(payload).encode()]))
        if service == "bedrock-runtime" and operation in ("Converse", "ConverseStream"):
            return self._bedrock(request, operation, body)
        raise self._violation(f"AWS {service} {operation}")

    def _bedrock(self, request: Any, operation: str, body: dict[str, Any]) -> Any:
        """Converse: the whole reply (cut at ``maxTokens``), latency TTFT + tokens / speed. ConverseStream: one
        ``contentBlockDelta`` per sentence; its latency is settled in :meth:`take` from the events actually read.
        The reply is sampled per turn (seed and turn key), so every variant gets the same reply for the same turn.
        """
        from botocore.awsrequest import AWSResponse

        if self.scenario_reply is not None:
            if operation != "Converse":
                raise self._violation(f"Bedrock {operation} while writing a scenario (the scenario needs Converse)")
            self._record("bedrock", operation, 0.0)  # the workflow's time is not a turn's
            payload = {
                "output": {"message": {"role": "assistant", "content": [{"text": self.scenario_reply}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 200, "outputTokens": 120, "totalTokens": 320},
                "metrics": {"latencyMs": 0},
            }
            return AWSResponse(
                request.url, 200, {"Content-Type": "application/json"}, _RawStream([json.dumps(payload).encode()])
            )
        reply = sample_reply(self.model, random.Random(f"reply:{self.seed}:{self.turn_key}"))
        max_tokens = int(body["inferenceConfig"]["maxTokens"])
        written, sentences, tokens = 0, [], []
        for i, size in enumerate(reply.sentence_tokens):
            if written + size > max_tokens:  # cut mid-sentence at max_tokens
                left = max_tokens - written
                if left > 0:
                    sentences.append(" ".join(_sentence(size, i).split()[: max(1, round(left * 0.75))]))
                    tokens.append(left)
                    written = max_tokens
                break
            sentences.append(_sentence(size, i))
            tokens.append(size)
            written += size
        stop = "max_tokens" if written < sum(reply.sentence_tokens) else "end_turn"
        usage = {"inputTokens": 400, "outputTokens": written, "totalTokens": 400 + written}
        if operation == "Converse":
            ms = 1000.0 * (reply.ttft_s + written / reply.tokens_per_s)
            self._record("bedrock", operation, ms, reply=reply)
            payload = {
                "output": {"message": {"role": "assistant", "content": [{"text": " ".join(sentences)}]}},
                "stopReason": stop,
                "usage": usage,
                "metrics": {"latencyMs": round(ms)},
            }
            return AWSResponse(
                request.url, 200, {"Content-Type": "application/json"}, _RawStream([json.dumps(payload).encode()])
            )
        chunks = [_eventstream_message("messageStart", {"role": "assistant"})]
        chunks += [
            _eventstream_message(
                "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": (" " if i else "") + text}}
            )
            for i, text in enumerate(sentences)
        ]
        chunks += [
            _eventstream_message("contentBlockStop", {"contentBlockIndex": 0}),
            _eventstream_message("messageStop", {"stopReason": stop}),
            _eventstream_message("metadata", {"usage": usage, "metrics": {"latencyMs": 0}}),
        ]
        raw = _RawStream(chunks)
        self.records.append(CallRecord("bedrock", operation, 0.0, stream=raw, stream_tokens=tokens, reply=reply))
        return AWSResponse(request.url, 200, {"Content-Type": "application/vnd.amazon.eventstream"}, raw)

    # -- requests
    def requests_send(self, adapter: Any, request: Any, **_: Any) -> Any:
        """``HTTPAdapter.send`` for Salesforce: the JWT bearer token request and Lead GETs by id.

        A session unused for ``sf_session_timeout_s`` answers HTTP 401 ``INVALID_SESSION_ID``. Any other URL or
        method is an :class:`UnexpectedOutboundCall`.
        """
        import requests

        url = urlsplit(request.url)
        origin = f"{url.scheme}://{url.netloc}"
        status, payload = 0, None
        if request.method == "POST" and url.netloc == LOGIN_HOST and url.path == "/services/oauth2/token":
            form = parse_qs(request.body if isinstance(request.body, str) else request.body.decode())
            if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or not form.get("assertion"):
                raise self._violation("Salesforce token request without a JWT bearer assertion")
            self._record("salesforce_token", "token", self.model["sf_token_ms"])
            token = f"00Dsim!{len(self.sessions):06d}"
            self.sessions[token] = self.now
            status, payload = 200, {"access_token": token, "instance_url": INSTANCE_URL, "token_type": "Bearer"}
        elif origin == INSTANCE_URL and url.path.startswith("/services/data/"):
            self._record("salesforce_rest", f"{request.method} {url.path.split('/')[-2]}", self.model["sf_rest_ms"])
            token = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
            last = self.sessions.get(token)
            if last is None or self.now - last > self.model["sf_session_timeout_s"]:
                status = 401
                payload = [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]
            else:
                self.sessions[token] = self.now
                lead_id = url.path.rsplit("/", 1)[-1]
                if request.method == "GET" and "/sobjects/Lead/" in url.path and lead_id in self.leads:
                    status, payload = 200, self.leads[lead_id]
                else:
                    raise self._violation(f"Salesforce {request.method} {url.path}")
        else:
            raise self._violation(f"HTTP {request.method} {origin}{url.path}")
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(payload).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        response.reason = "OK" if status == 200 else "Unauthorized"
        return response

    # -- install / remove
    def _patch(self, owner: Any, name: str, value: Any) -> None:
        self._saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def __enter__(self) -> Transport:
        import boto3
        import botocore.httpsession
        import requests.adapters

        transport = self
        # A default session of our own (the handler's clients come from it), so no credentials or region cached
        # by the caller's session leak in, and ours don't leak out: the caller's is put back on exit.
        self._saved_session = boto3.DEFAULT_SESSION
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register_first("before-send", self.before_send, unique_id="atlas-sim")

        def botocore_send(_session: Any, request: Any) -> Any:
            raise transport._violation(f"botocore HTTP {request.method} {request.url} (no fake answered it)")

        def requests_send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            return transport.requests_send(adapter, request, **kwargs)

        def no_socket(*args: Any, **_: Any) -> Any:
            raise transport._violation(f"socket connection to {args[1] if len(args) > 1 else args[0]}")

        self._patch(botocore.httpsession.URLLib3Session, "send", botocore_send)
        self._patch(requests.adapters.HTTPAdapter, "send", requests_send)
        self._patch(socket.socket, "connect", no_socket)
        self._patch(socket, "create_connection", no_socket)
        return self

    def __exit__(self, *exc: Any) -> None:
        import boto3

        boto3.DEFAULT_SESSION.events.unregister("before-send", unique_id="atlas-sim")
        boto3.DEFAULT_SESSION = self._saved_session
        while self._saved:
            owner, name, value = self._saved.pop()
            setattr(owner, name, value)


# ----------------------------------------------------------------------------------------------- containers


@dataclass
class Container:
    """One simulated execution environment: its own handler module and ``atlas_shared`` modules."""

    index: int
    provisioned: bool
    handler: Any
    modules: dict[str, Any]
    busy_until: float = 0.0
    last_used: float = 0.0
    invocations: int = 0


def _atlas_modules() -> dict[str, Any]:
    return {k: v for k, v in sys.modules.items() if k == "atlas_shared" or k.startswith("atlas_shared.")}


@contextlib.contextmanager
def _installed(container: Container) -> Iterator[None]:
    """Make ``container``'s atlas_shared modules the ones ``import`` finds, and keep what it imports lazily."""
    for name in _atlas_modules():
        del sys.modules[name]
    sys.modules.update(container.modules)
    try:
        yield
    finally:
        container.modules = _atlas_modules()


class _Context:
    """The parts of Lambda's context the handler reads; remaining time follows the virtual clock."""

    def __init__(self, transport: Transport, request_id: str, timeout_s: float) -> None:
        self.aws_request_id = request_id
        self._end = transport.now + timeout_s
        self._transport = transport

    def get_remaining_time_in_millis(self) -> int:
        return int((self._end - self._transport.now) * 1000)


def new_container(
    index: int, *, provisioned: bool, env: dict[str, str], transport: Transport, path: Path = HANDLER_PATH
) -> Container:
    """Import a handler afresh (Lambda's init phase) with fresh atlas_shared modules and a virtual-clock cache."""
    for name in _atlas_modules():
        del sys.modules[name]
    logging.getLogger("atlas").handlers.clear()  # each fresh logs module adds its own stdout handler
    os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"] = "provisioned-concurrency" if provisioned else "on-demand"
    os.environ.update(env)
    settings = importlib.import_module("atlas_shared.settings").get_settings()
    secrets = importlib.import_module("atlas_shared.secrets")
    secrets.set_secret_cache(secrets.SecretCache(ttl_seconds=settings.secrets_cache_ttl_seconds, clock=transport.clock))
    spec = importlib.util.spec_from_file_location(f"atlas_sim_{path.parent.name}_{index}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    transport.turn_key = f"init-{index}"
    spec.loader.exec_module(module)  # provisioned: the warm-up's calls land in transport.records
    return Container(index, provisioned, module.lambda_handler, _atlas_modules())


# ----------------------------------------------------------------------------------------------- one run


@dataclass
class TurnResult:
    call: int
    turn: int
    kind: str
    first: bool
    cold: bool
    provisioned: bool
    container: int
    start_s: float
    latency_ms: float
    components: dict[str, float]
    calls: dict[str, int]
    dialog_action: str
    reply_tokens: int  # what the model would write in full (0: no Bedrock call)
    intent_state: str


def _rsa_key() -> str:
    """A throwaway RSA key for the JWT (generated per run: the signature is real RS256 compute)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def write_scenarios(calls: list[CallSpec], transport: Transport) -> dict[str, int]:
    """Write each call's scenario item with the real GenerateDynamicScenarioHandler, as the workflow would.

    One on-demand container, the function's own settings, Bedrock answering the scenario JSON of the call; the
    item is whatever the handler's PutItem writes, and each call's ``interaction_key`` is the one it returns.
    Returns the calls it made (off every Lex turn, so not in the turn figures).
    """
    env = {**BASE_ENV, "AWS_LAMBDA_FUNCTION_NAME": "GenerateDynamicScenarioHandler"}
    saved = {k: os.environ.get(k) for k in os.environ if k.startswith("BEDROCK_")}
    for name in saved:
        del os.environ[name]
    try:
        container = new_container(-1, provisioned=False, env=env, transport=transport, path=SCENARIO_HANDLER_PATH)
        counts: Counter[str] = Counter()
        template = _template("sfn_generate_scenario")
        for call in calls:
            event = copy.deepcopy(template)
            event["lead"].update(
                {"FirstName": "Lee", "LastName": f"Lead{call.index:03d}", "Company": f"Company {call.index}"}
            )
            event["lead_id"] = call.lead_id
            event["idempotency_key"] = f"atlas-sim-{transport.seed}-{call.index:03d}"
            transport.turn_key = f"scenario-{call.index}"
            transport.scenario_reply = json.dumps({"scenario": call.scenario, "greeting": call.greeting})
            with _installed(container):
                output = container.handler(event, _Context(transport, f"sim-scenario-{call.index}", 60))
            call.interaction_key = output["interaction_key"]
            for record in transport.take():
                counts[f"{record.service}:{record.operation}"] += 1
            _raise_violations(transport)
    finally:
        transport.scenario_reply = None
        for name in [k for k in os.environ if k.startswith("BEDROCK_")]:
            del os.environ[name]
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    return dict(counts)


def run_variant(variant: Variant, base_model: dict[str, Any], seed: int, private_key: str) -> dict[str, Any]:
    """Serve the workload with ``variant``; returns per-turn results, init calls and the container count.

    Raises:
        UnexpectedOutboundCall: the handler (or its init) made a call no fake answers.
    """
    model = {**base_model, **variant.model}
    calls = build_workload(model, seed)
    saved_modules = _atlas_modules()
    saved_env = dict(os.environ)
    sink = io.StringIO()
    results: list[TurnResult] = []
    init_calls: Counter[str] = Counter()
    cold_rng = random.Random(f"cold:{seed}")
    cold_ms_rng = random.Random(f"cold-ms:{seed}")
    containers: list[Container] = []  # alive
    created: list[int] = []
    env = {**BASE_ENV, **variant.env}
    saved_bytecode = (sys.pycache_prefix, sys.dont_write_bytecode)
    atlas_logger = logging.getLogger("atlas")
    # The fresh logs modules set the atlas logger's level too: put back handlers, level and propagation, or a
    # later caller in this process (a test) would log at the simulation's level.
    saved_log_state = (atlas_logger.handlers[:], atlas_logger.level, atlas_logger.propagate)
    try:
        # Fresh imports per container read cached bytecode from .cache/ (never written next to lambda_src).
        sys.pycache_prefix, sys.dont_write_bytecode = str(ROOT / ".cache" / "pycache"), False
        for name in CLEARED_ENV:
            os.environ.pop(name, None)
        os.environ.update(env)
        sys.path.insert(0, str(LAMBDA_SRC))
        with Transport(model, seed) as transport, contextlib.redirect_stdout(sink):
            transport.secret = json.dumps(
                {"client_id": "sim", "username": "sim@example.com", "private_key": private_key, "is_sandbox": False}
            )
            workflow_calls = write_scenarios(calls, transport)
            for call in calls:
                transport.leads[call.lead_id] = {
                    "attributes": {"type": "Lead"},
                    "Id": call.lead_id,
                    "FirstName": "Lee",
                    "LastName": f"Lead{call.index:03d}",
                    "Company": f"Company {call.index}",
                    "Title": "Head of Operations",
                }

            def spawn(provisioned: bool) -> Container:
                container = new_container(len(created), provisioned=provisioned, env=env, transport=transport)
                containers.append(container)
                created.append(container.index)
                for record in transport.take():
                    init_calls[record.service] += 1
                _raise_violations(transport)
                return container

            for _ in range(0 if variant.before else model["provisioned"]):
                spawn(True)

            queue: list[tuple[float, int, int]] = [(call.arrival_s, call.index, 0) for call in calls]
            heapq.heapify(queue)
            attributes: dict[int, dict[str, str]] = {call.index: {} for call in calls}
            while queue:
                start, call_index, turn_index = heapq.heappop(queue)
                call, turn = calls[call_index], calls[call_index].turns[turn_index]
                # Lambda reclaims on-demand containers idle too long.
                containers[:] = [
                    c
                    for c in containers
                    if c.provisioned or c.busy_until > start or start - c.last_used < model["ondemand_idle_s"]
                ]
                free = [c for c in containers if c.busy_until <= start]
                force_cold = variant.before and cold_rng.random() < model["before_cold_rate"]
                container = None
                if not force_cold:
                    free.sort(key=lambda c: (not c.provisioned, -c.last_used, c.index))
                    container = free[0] if free else None
                cold = container is None
                transport.now = start
                if cold:
                    container = spawn(False)
                    cold_ms = cold_ms_rng.uniform(model["cold_start_ms_min"], model["cold_start_ms_max"])
                    transport.now = start + cold_ms / 1000.0
                else:
                    cold_ms = 0.0
                assert container is not None
                transport.turn_key = f"{call_index}:{turn_index}"
                event = build_event(call, turn, attributes[call_index])
                context = _Context(transport, f"sim-{call_index}-{turn_index}", model["function_timeout_s"])
                with _installed(container):
                    cpu = time.process_time()
                    if variant.before:
                        _before_rules(event)
                    response = container.handler(event, context)
                    cpu_ms = (time.process_time() - cpu) * 1000.0
                records = transport.take()
                _raise_violations(transport)
                compute = float(model["compute_ms"]) if model["compute_ms"] is not None else cpu_ms
                components = dict.fromkeys(COMPONENTS, 0.0)
                counts: dict[str, int] = dict.fromkeys(SERVICES, 0)
                components["cold_start"] = cold_ms
                components["compute"] = compute
                for record in records:
                    components[record.service] += record.ms
                    counts[record.service] += 1
                latency = sum(components.values())
                end = start + latency / 1000.0
                container.busy_until = container.last_used = end
                container.invocations += 1
                state = response["sessionState"]
                attributes[call_index] = dict(state.get("sessionAttributes") or {})
                results.append(
                    TurnResult(
                        call=call_index,
                        turn=turn_index,
                        kind=turn.kind,
                        first=turn_index == 0,
                        cold=cold,
                        provisioned=container.provisioned,
                        container=container.index,
                        start_s=start,
                        latency_ms=latency,
                        components=components,
                        calls=counts,
                        dialog_action=state["dialogAction"]["type"],
                        reply_tokens=sum(sum(r.reply.sentence_tokens) for r in records if r.reply is not None),
                        intent_state=(state.get("intent") or {}).get("state", ""),
                    )
                )
                if turn_index + 1 < len(call.turns):
                    heapq.heappush(queue, (end + call.think_s[turn_index], call_index, turn_index + 1))
    finally:
        sys.pycache_prefix, sys.dont_write_bytecode = saved_bytecode
        atlas_logger.handlers[:], saved_level, atlas_logger.propagate = saved_log_state
        atlas_logger.setLevel(saved_level)
        sys.path.remove(str(LAMBDA_SRC))
        for name in _atlas_modules():
            del sys.modules[name]
        sys.modules.update(saved_modules)
        os.environ.clear()
        os.environ.update(saved_env)
    levels = Counter(
        json.loads(line).get("level", "?") for line in sink.getvalue().splitlines() if line.startswith("{")
    )
    return {
        "variant": variant,
        "model": model,
        "calls": calls,
        "turns": results,
        "init_calls": dict(init_calls),
        "workflow_calls": workflow_calls,
        "containers": len(created),
        "log_levels": dict(levels),
    }


def _before_rules(event: dict[str, Any]) -> None:
    """The plan's BEFORE behaviour on the real code (see the module docstring), inside the invocation.

    Runs with the container's modules installed: its secret cache and Salesforce session are dropped and the
    login runs (one GetSecretValue, one token request), and the scenario leaves the session attributes.
    """
    from atlas_shared import salesforce, scenario, secrets

    secrets.get_secret_cache().invalidate()
    connection = salesforce.get_salesforce()
    connection.invalidate()
    connection.get()
    attributes = event["sessionState"]["sessionAttributes"]
    for name in (scenario.ATTR_SCENARIO, scenario.ATTR_GREETING, scenario.ATTR_SCENARIO_CACHE):
        attributes.pop(name, None)


def _raise_violations(transport: Transport) -> None:
    if transport.violations:
        found, transport.violations = transport.violations, []
        raise UnexpectedOutboundCall("unexpected outbound call(s): " + "; ".join(found))


# ----------------------------------------------------------------------------------------------- summary


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summarise(run: dict[str, Any]) -> dict[str, Any]:
    """The figures of one run: latency stats (ms), cold-start rate, calls per turn class and service, components."""
    turns: list[TurnResult] = run["turns"]
    latencies = [t.latency_ms for t in turns]
    classes = {
        "first_turn": [t for t in turns if t.first],
        "warm_turn": [t for t in turns if not t.first and not t.cold],
        "cold_turn": [t for t in turns if t.cold],
    }
    calls_per_turn = {
        name: {s: round(statistics.fmean(t.calls[s] for t in group), 3) if group else 0.0 for s in SERVICES}
        | {"turns": len(group)}
        for name, group in classes.items()
    }
    starts = sorted([(t.start_s, 1) for t in turns] + [(t.start_s + t.latency_ms / 1000, -1) for t in turns])
    busy = peak = 0
    for _, step in starts:
        busy += step
        peak = max(peak, busy)
    bedrock_turns = [t for t in turns if t.calls["bedrock"]]
    return {
        "label": run["variant"].label,
        "turns": len(turns),
        "calls": len(run["calls"]),
        "containers": run["containers"],
        "peak_concurrent_turns": peak,
        "latency_ms": {
            "mean": round(statistics.fmean(latencies), 1),
            "p50": round(_pct(latencies, 0.50), 1),
            "p99": round(_pct(latencies, 0.99), 1),
            "max": round(max(latencies), 1),
        },
        "cold_start_rate": round(sum(t.cold for t in turns) / len(turns), 4),
        "secrets_manager_share": round(sum(1 for t in turns if t.calls["secretsmanager"]) / len(turns), 4),
        "calls_per_turn": calls_per_turn,
        "component_mean_ms": {c: round(statistics.fmean(t.components[c] for t in turns), 1) for c in COMPONENTS},
        "bedrock_mean_ms_per_call": round(
            statistics.fmean(t.components["bedrock"] / t.calls["bedrock"] for t in bedrock_turns), 1
        )
        if bedrock_turns
        else 0.0,
        "init_calls": run["init_calls"],
        "workflow_calls": run["workflow_calls"],
        "dialog_actions": dict(Counter(t.dialog_action for t in turns)),
        "failed_turns": sum(1 for t in turns if t.intent_state == "Failed"),
        "reply_tokens_mean": round(statistics.fmean(t.reply_tokens for t in bedrock_turns), 1)
        if bedrock_turns
        else 0.0,
        "replies_over_150_tokens": round(sum(t.reply_tokens > 150 for t in bedrock_turns) / len(bedrock_turns), 4)
        if bedrock_turns
        else 0.0,
        "log_levels": run["log_levels"],
    }


def honesty(before: dict[str, Any], after: dict[str, Any], by_name: dict[str, dict[str, Any]]) -> list[str]:
    """Plain statements where the plan's figures do not add up, each derived from this run's figures."""
    notes = []
    mean_s = before["latency_ms"]["mean"] / 1000
    parts = ", ".join(f"{c} {v / 1000:.2f} s" for c, v in before["component_mean_ms"].items() if v >= 1)
    notes.append(
        f"With the plan's own latencies the baseline averages {mean_s:.2f} s (p99 {before['latency_ms']['p99'] / 1000:.2f} s),"
        f" not the plan's 9+ s (p99 12+ s): {parts}. Reaching 9 s would need about "
        f"{9 - mean_s:.1f} s more per turn than every cost the plan names."
    )
    pairs = [
        (by_name.get("converse_512"), by_name.get("after_converse"), "this model's replies"),
        (
            by_name.get("converse_plan_replies_512"),
            by_name.get("converse_plan_replies_150"),
            "the plan's 50-100-token replies",
        ),
    ]
    savings = [
        f"{long['component_mean_ms']['bedrock'] - short['component_mean_ms']['bedrock']:.0f} ms with {what} "
        f"(mean reply {long['reply_tokens_mean']:.0f} tokens; {100 * long['replies_over_150_tokens']:.1f} % over 150)"
        for long, short, what in pairs
        if long and short
    ]
    if savings:
        notes.append(
            "max_tokens 150 instead of 512 saves " + " and ".join(savings) + " of Bedrock time per turn: a cap the "
            "reply does not reach cannot make it shorter (the plan's Task 4 claims 0.5-1 s)."
        )
    notes.append(
        f"After: {after['latency_ms']['mean'] / 1000:.2f} s average, p99 {after['latency_ms']['p99'] / 1000:.2f} s, "
        f"against the plan's target of 3-5 s (p99 6-7 s): the turn is "
        f"{100 * after['component_mean_ms']['bedrock'] / after['latency_ms']['mean']:.0f} % Bedrock."
    )
    notes.append(
        f"Provisioned concurrency {int(after.get('provisioned', 0))} gives a cold-start rate of "
        f"{100 * after['cold_start_rate']:.2f} % at a peak of {after['peak_concurrent_turns']} concurrent turns, "
        "not the plan's 0 %."
    )
    return notes


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows ``(measure, before, after, after/before)`` for the Markdown table."""

    def ratio(a: float, b: float) -> str:
        return f"{b / a:.2f}" if a else "n/a"

    rows = []
    for key in ("mean", "p50", "p99"):
        a, b = before["latency_ms"][key], after["latency_ms"][key]
        rows.append((f"turn latency {key} (ms)", f"{a:.0f}", f"{b:.0f}", ratio(a, b)))
    for key, label in (
        ("cold_start_rate", "cold-start rate"),
        ("secrets_manager_share", "invocations calling Secrets Manager"),
    ):
        a, b = before[key], after[key]
        rows.append((label, f"{100 * a:.1f} %", f"{100 * b:.1f} %", ratio(a, b)))
    for cls in ("first_turn", "warm_turn"):
        for service in SERVICES:
            a, b = before["calls_per_turn"][cls][service], after["calls_per_turn"][cls][service]
            rows.append((f"{service} calls per {cls.replace('_', ' ')}", f"{a:.3f}", f"{b:.3f}", ratio(a, b)))
    for component in COMPONENTS:
        a, b = before["component_mean_ms"][component], after["component_mean_ms"][component]
        rows.append((f"mean {component} per turn (ms)", f"{a:.1f}", f"{b:.1f}", ratio(a, b)))
    return rows


def simulate(model: dict[str, Any], seed: int, names: list[str] | None = None) -> dict[str, Any]:
    """Run every variant (or those in ``names``) on one workload; returns the report as a JSON-ready dict."""
    key = _rsa_key()
    runs, summaries = {}, {}
    for variant in variants(model):
        if names and variant.name not in names:
            continue
        run = run_variant(variant, model, seed, key)
        summary = summarise(run)
        summary["provisioned"] = 0 if variant.before else run["model"]["provisioned"]
        summary["settings"] = {**variant.env, **variant.model}
        runs[variant.name] = run
        summaries[variant.name] = summary
    report: dict[str, Any] = {
        "seed": seed,
        "model": model,
        "sources": SOURCES,
        "variants": summaries,
    }
    if "before" in summaries and "after" in summaries:
        report["before_vs_after"] = [
            dict(zip(("measure", "before", "after", "after_over_before"), row, strict=True))
            for row in compare(summaries["before"], summaries["after"])
        ]
        report["plan_check"] = honesty(summaries["before"], summaries["after"], summaries)
    report["_latencies_ms"] = {name: [t.latency_ms for t in run["turns"]] for name, run in runs.items()}
    return report


# ----------------------------------------------------------------------------------------------- output


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: before/after table, Bedrock options, what the plan got wrong."""
    v = report["variants"]
    lines = []
    if "before_vs_after" in report:
        b, a = v["before"], v["after"]
        lines += [
            f"Simulated {a['turns']} turns of {a['calls']} calls (seed {report['seed']}); after: "
            f"{a['containers']} containers ({a['provisioned']} provisioned), peak {a['peak_concurrent_turns']} "
            f"concurrent turns; before: {b['containers']} containers.",
            "",
            "| measure | before (plan) | after (project) | after / before |",
            "| --- | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {r['measure']} | {r['before']} | {r['after']} | {r['after_over_before']} |"
            for r in report["before_vs_after"]
        ]
        lines.append("")
    lines += [
        "| variant | mean (ms) | p50 (ms) | p99 (ms) | Bedrock per call (ms) | cold starts | Secrets Manager |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in v.values():
        lat = s["latency_ms"]
        lines.append(
            f"| {s['label']} | {lat['mean']:.0f} | {lat['p50']:.0f} | {lat['p99']:.0f} | "
            f"{s['bedrock_mean_ms_per_call']:.0f} | {100 * s['cold_start_rate']:.1f} % | "
            f"{100 * s['secrets_manager_share']:.1f} % |"
        )
    if report.get("plan_check"):
        lines += ["", "Where the plan's figures do not add up (derived from this run):", ""]
        lines += [f"- {note}" for note in report["plan_check"]]
    lines += [
        "",
        "Latency model and sources: `MODEL` in bench/simulation.py (every figure overridable with `--set`); "
        "all figures in simulation.json. Compute is the measured process time of each handler call.",
    ]
    return "\n".join(lines) + "\n"


def chart(report: dict[str, Any], path: Path) -> None:
    """PNG: mean time per component per variant (stacked bars), and the before/after latency distributions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    v = report["variants"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1.5, 1]})
    names = list(v)
    bottom = [0.0] * len(names)
    colors = ["#8c564b", "#1f77b4", "#ff7f0e", "#d62728", "#9467bd", "#2ca02c", "#7f7f7f"]
    for component, color in zip(COMPONENTS, colors, strict=True):
        values = [v[n]["component_mean_ms"][component] / 1000 for n in names]
        left.barh(names, values, left=bottom, color=color, label=component.replace("_", " "))
        bottom = [b + x for b, x in zip(bottom, values, strict=True)]
    for i in range(len(names)):
        left.text(bottom[i] + 0.03, i, f"{bottom[i]:.2f} s", va="center", fontsize=8)
    left.set_yticks(range(len(names)), [v[n]["label"] for n in names], fontsize=8)
    left.invert_yaxis()
    left.set_xlabel("mean turn latency (s), by component")
    left.legend(fontsize=7, loc="lower right")
    left.set_title("Where a turn's time goes (virtual time, plan's latencies)", fontsize=10)
    for name, style in (("before", "#d62728"), ("after", "#2ca02c")):
        data = sorted(report["_latencies_ms"].get(name, []))
        if data:
            ys = [(i + 1) / len(data) for i in range(len(data))]
            right.step([d / 1000 for d in data], ys, where="post", color=style, label=v[name]["label"])
            right.axvline(v[name]["latency_ms"]["p99"] / 1000, color=style, linestyle=":", linewidth=1)
    right.axvspan(9, 12, color="#d62728", alpha=0.08, label="plan: before 9+ s, p99 12+ s")
    right.axvspan(3, 5, color="#2ca02c", alpha=0.08, label="plan: after 3-5 s")
    right.set_xlabel("turn latency (s); dotted: p99")
    right.set_ylabel("share of turns")
    right.legend(fontsize=7, loc="lower right")
    right.set_title("Turn latency distribution", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def _parse_set(items: list[str], model: dict[str, Any]) -> dict[str, Any]:
    result = dict(model)
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or name not in model:
            raise SystemExit(f"--set {item!r}: expected name=value with a name from MODEL: {', '.join(model)}")
        try:
            result[name] = json.loads(raw)
        except json.JSONDecodeError:
            raise SystemExit(f"--set {item!r}: the value must be JSON (a number, list, null)") from None
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line (see the module docstring); returns the report written to ``--out-dir``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--calls", type=int, default=None, help="calls to simulate (default MODEL['calls'])")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a MODEL figure")
    parser.add_argument("--variant", action="append", default=None, help="only these variants (repeatable)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--no-chart", action="store_true")
    args = parser.parse_args(argv)
    model = _parse_set(args.set, MODEL)
    if args.calls is not None:
        model["calls"] = args.calls
    started = time.perf_counter()
    report = simulate(model, args.seed, args.variant)
    latencies = report.pop("_latencies_ms")
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "simulation.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out_dir / "simulation.md").write_text(markdown(report), encoding="utf-8")
    if not args.no_chart:
        chart({**report, "_latencies_ms": latencies}, args.out_dir / "simulation.png")
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
