"""Bedrock ``GetInferenceProfile`` for moto server, which lacks it (moto 5.2 has no inference profiles).

The root module reads a system-defined inference profile through the provider's
``aws_bedrock_inference_profile`` data source (bedrock.tf) to grant the foundation model in every Region the
profile routes to. ``make run`` applies the module to moto with the default model, a US profile, so moto must
answer this call.

API: ``GET /inference-profiles/{inferenceProfileIdentifier}`` (an id or an ARN) answering
``{"inferenceProfileName", "description", "createdAt", "updatedAt", "inferenceProfileArn", "models":
[{"modelArn"}], "inferenceProfileId", "status": "ACTIVE", "type": "SYSTEM_DEFINED"}``; an unknown profile is
``ResourceNotFoundException`` (HTTP 404), a malformed identifier ``ValidationException`` (HTTP 400).
Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetInferenceProfile.html

What is emulated, and no more kindly than AWS:

- Only system-defined profiles ``<geography>.<foundation model>`` whose foundation model is in the project's
  table (lambda_src/atlas_shared/models.json), and only from a source Region inside the geography (a ``us.``
  profile is not found from eu-west-1, as in Bedrock, where each Region lists its own geography's profiles).
  Application inference profiles cannot be created locally, so every one is not found.
- Destination Regions per geography are a fixed sample taken from
  https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html (the real lists differ
  per model); the grant's shape, not its exact Region list, is what the local stack shows.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

MODELS_TABLE = Path(__file__).resolve().parents[2] / "lambda_src" / "atlas_shared" / "models.json"
ACCOUNT_ID = "123456789012"  # moto's default account
CREATED = datetime(2026, 10, 7, tzinfo=UTC).isoformat()

# geography prefix -> (source Regions that see the profile, destination Regions it routes to)
GEOGRAPHIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "us": (("us-east-1", "us-east-2", "us-west-1", "us-west-2"), ("us-east-1", "us-east-2", "us-west-2")),
    "us-gov": (("us-gov-west-1", "us-gov-east-1"), ("us-gov-west-1", "us-gov-east-1")),
    "eu": (
        ("eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "eu-south-1", "eu-south-2"),
        ("eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3"),
    ),
    "apac": (
        ("ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2"),
        ("ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2"),
    ),
    "jp": (("ap-northeast-1", "ap-northeast-3"), ("ap-northeast-1", "ap-northeast-3")),
    "au": (("ap-southeast-2", "ap-southeast-4"), ("ap-southeast-2", "ap-southeast-4")),
    "ca": (("ca-central-1", "ca-west-1"), ("ca-central-1", "ca-west-1")),
    "global": ((), ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "ap-northeast-1")),  # () = any source
}
_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<kind>[a-z-]+)/(?P<id>.+)$")
_REGION = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/bedrock/aws4_request")


def known_models() -> frozenset[str]:
    """Foundation-model ids of the project's models table."""
    return frozenset(json.loads(MODELS_TABLE.read_text(encoding="utf-8"))["models"])


def get_inference_profile(identifier: str, region: str, account_id: str = ACCOUNT_ID) -> tuple[int, dict[str, Any]]:
    """GetInferenceProfile's ``(HTTP status, JSON body)`` for ``identifier`` asked in ``region``."""
    identifier = unquote(identifier)
    profile_id = identifier
    match = _ARN.match(identifier)
    if match:
        if match["kind"] == "application-inference-profile":
            return _not_found(identifier)
        if match["kind"] != "inference-profile" or match["region"] != region or match["account"] != account_id:
            return _not_found(identifier)
        profile_id = match["id"]
    if not re.fullmatch(r"[a-zA-Z0-9-:.]{1,64}", profile_id):
        return 400, {
            "__type": "ValidationException",
            "message": f"1 validation error: inferenceProfileIdentifier '{identifier}' is malformed",
        }
    prefix, _, model_id = profile_id.partition(".")
    geography = GEOGRAPHIES.get(prefix)
    if geography is None or model_id not in known_models():
        return _not_found(identifier)
    sources, destinations = geography
    if sources and region not in sources:
        return _not_found(identifier)
    return 200, {
        "inferenceProfileName": f"{prefix.upper()} {model_id}",
        "description": f"Routes requests to {model_id} in {', '.join(destinations)}.",
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "inferenceProfileArn": f"arn:aws:bedrock:{region}:{account_id}:inference-profile/{profile_id}",
        "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model_id}"} for r in destinations],
        "inferenceProfileId": profile_id,
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }


def _not_found(identifier: str) -> tuple[int, dict[str, Any]]:
    return 404, {"__type": "ResourceNotFoundException", "message": f"Inference profile {identifier} not found."}


def _handler(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    """The moto URL handler: ``(status, headers, body)`` for a GET on ``/inference-profiles/<id>``."""
    path = full_url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    identifier = path.split("inference-profiles/", 1)[-1]
    match = _REGION.search(str(headers.get("Authorization", "")))
    status, body = get_inference_profile(identifier, match["region"] if match else "us-east-1")
    response_headers = {"Content-Type": "application/json"}
    if status != 200:
        response_headers["x-amzn-ErrorType"] = body["__type"]
    return status, response_headers, json.dumps(body)


def patch_bedrock_inference_profiles() -> None:
    """Route ``GET /inference-profiles/<id>`` of moto's bedrock service to :func:`get_inference_profile`.

    Raises:
        RuntimeError: moto's bedrock URL table is not where this expects it (a moto upgrade).
    """
    from moto.bedrock import urls

    if not isinstance(getattr(urls, "url_paths", None), dict):
        raise RuntimeError(
            "moto.bedrock.urls has no url_paths dict; scripts/local_aws/bedrock_profiles.py needs updating"
        )
    urls.url_paths["{0}/inference-profiles/(?P<inferenceProfileIdentifier>.+)$"] = _handler
