"""Per-model facts for Bedrock Converse: one data table, ``models.json`` beside this file.

The same JSON is read by the root Terraform module at plan time (``local.bedrock_models`` in main.tf), so a fact
such as a model's maximum output tokens or whether it takes a prompt-cache point is written down once. Each entry
names the model card it came from (``source``).

Model ids (https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html,
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html, ``modelId``):

* foundation-model id ``anthropic.claude-haiku-5-5``;
* system-defined (cross-Region) inference profile id: a geography prefix (:data:`PROFILE_PREFIXES`) plus the
  foundation-model id, ``us.anthropic.claude-haiku-5-5``;
* an ARN of a foundation model, an inference profile, an application inference profile or a provisioned model.

:func:`base_model_id` finds the foundation model behind the first two forms and behind foundation-model and
inference-profile ARNs. For an application inference profile or provisioned model the ARN does not say; the
Terraform module asks Bedrock (GetInferenceProfile) and passes the answer as ``BEDROCK_BASE_MODEL_ID``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

TABLE_PATH = Path(__file__).with_name("models.json")

# Geography prefixes of system-defined inference profiles (inference-profiles-support.html). "global" routes to
# any commercial Region; the others stay inside their geography.
PROFILE_PREFIXES = frozenset({"us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"})

_ARN = re.compile(
    r"^arn:aws[a-z-]*:bedrock:(?P<region>[a-z0-9-]*):(?P<account>\d{12})?:"
    r"(?P<kind>foundation-model|inference-profile|application-inference-profile|provisioned-model)/(?P<name>.+)$"
)


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """One row of ``models.json`` (field meanings in the file's ``_comment``).

    ``known`` is False for a model the table does not list: then the conservative defaults apply (4,096 output
    tokens at most, no cache point, no latency-optimized inference, no extra request fields, topK not sent).
    """

    model_id: str
    family: str = "unknown"
    max_output_tokens: int = 4096
    prompt_cache_min_tokens: int | None = None
    latency_optimized_regions: tuple[str, ...] = ()
    request_fields: dict[str, Any] = field(default_factory=dict)
    top_k_field: str | None = None
    temperature_and_top_p: bool = False
    lifecycle: str = "unknown"
    source: str = ""
    known: bool = False

    @property
    def prompt_caching(self) -> bool:
        """True when the model takes a ``cachePoint`` block."""
        return self.prompt_cache_min_tokens is not None


@cache
def table() -> dict[str, ModelFacts]:
    """Every model in ``models.json``, by foundation-model id (read once per container).

    Raises:
        ValueError: the file is not the expected shape (a broken edit fails the cold start, and the unit tests).
    """
    raw = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
    models = raw.get("models")
    if not isinstance(models, dict) or not models:
        raise ValueError(f"{TABLE_PATH.name} has no 'models' object")
    result: dict[str, ModelFacts] = {}
    for model_id, row in models.items():
        if not isinstance(row, dict) or not isinstance(row.get("max_output_tokens"), int):
            raise ValueError(f"{TABLE_PATH.name}: {model_id} needs an integer max_output_tokens")
        result[model_id] = ModelFacts(
            model_id=model_id,
            family=str(row["family"]),
            max_output_tokens=row["max_output_tokens"],
            prompt_cache_min_tokens=row.get("prompt_cache_min_tokens"),
            latency_optimized_regions=tuple(row.get("latency_optimized_regions") or ()),
            request_fields=dict(row.get("request_fields") or {}),
            top_k_field=row.get("top_k_field"),
            temperature_and_top_p=bool(row.get("temperature_and_top_p")),
            lifecycle=str(row.get("lifecycle", "unknown")),
            source=str(row.get("source", "")),
            known=True,
        )
    return result


def base_model_id(model_id: str) -> str | None:
    """The foundation-model id behind ``model_id``, or None when only Bedrock can tell (see the module docstring).

    ``us.anthropic.claude-haiku-5-5`` -> ``anthropic.claude-haiku-5-5``; an inference-profile or foundation-model
    ARN -> its last path segment without the geography prefix; an application inference profile or provisioned
    model ARN -> None.
    """
    match = _ARN.match(model_id)
    if match:
        if match["kind"] not in ("foundation-model", "inference-profile"):
            return None
        model_id = match["name"]
    prefix, _, rest = model_id.partition(".")
    return rest if prefix in PROFILE_PREFIXES and rest else model_id


def facts_for(model_id: str, base_id: str | None = None) -> ModelFacts:
    """The table's row for ``base_id`` (or the model behind ``model_id``); conservative defaults when unlisted."""
    key = base_id or base_model_id(model_id) or model_id
    return table().get(key) or ModelFacts(model_id=key)
