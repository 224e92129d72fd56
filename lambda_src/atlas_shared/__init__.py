"""Shared plumbing for the AtlasEngine Lambda functions, copied into every function's zip.

Feature modules (import what you use; each keeps its heavy dependencies lazy):

============  ===========================================================================================
settings      :class:`~atlas_shared.settings.Settings`, read from the environment once per container
logs          JSON log lines, ``[CACHE]`` events, secret redaction
runtime       :func:`~atlas_shared.runtime.bootstrap` (cold start, init warm-up) and ``entrypoint``
clients       boto3 clients built on first use, cached, injectable; timeouts and total attempts per service
deadline      the invocation's deadline: every outbound call fits the Lambda timeout
secrets       Secrets Manager cache with a TTL (Task 2)
salesforce    JWT bearer login and a cached ``simple_salesforce`` connection
bedrock       Bedrock Converse/ConverseStream for any model, replies cut to whole sentences (Task 4)
models        per-model facts (models.json), shared with the Terraform module
tracing       lazy AWS X-Ray: patch boto3/requests, subsegments (Task 5)
lex           Lex V2 code hook events and responses, always within Lex's format and limits
limits        Lex's limits and our budgets: one table, with sources
scenario      the per-call scenario store and where a turn finds it (Task 3)
session       what rides in the Lex session: history, lead context, the scenario cache, within budget
idempotency   exactly-once workflow tasks: an idempotency record in DynamoDB (Powertools)
exceptions    every error class, in one hierarchy
============  ===========================================================================================
"""

from __future__ import annotations

__version__ = "1.0.0"

__all__ = ["__version__", "reset_container_state"]


def reset_container_state() -> None:
    """Forget everything a container caches (settings, clients, secrets, Salesforce session, scenarios, logs).

    For tests, which emulate many cold starts in one process. Lambda itself never needs it.
    """
    from . import clients, idempotency, runtime, salesforce, scenario, secrets, settings, tracing

    settings.reset_settings()
    clients.reset_clients()
    secrets.set_secret_cache(None)
    salesforce.set_salesforce(None)
    scenario.container_cache.clear()
    tracing.reset_tracing()
    runtime.reset_runtime()
    idempotency.reset()
