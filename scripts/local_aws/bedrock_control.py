"""Amazon Bedrock's control plane for the local AWS: GetFoundationModel, with each model's lifecycle.

moto 5.2 has no GetFoundationModel, which ``validate.py`` calls to check that the configured model is still
ACTIVE. The answer follows https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetFoundationModel.html
(``{"modelDetails": {"modelId", "modelArn", "providerName", "modelLifecycle": {"status"}, ...}}``).

The local AWS cannot know Bedrock's catalogue. It answers ``ACTIVE`` for any well-formed model id except those
listed in :data:`LIFECYCLE`, taken from Bedrock's model lifecycle page
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html): a LEGACY model answers LEGACY, and
a model past its end of life answers as an unknown id does, ``ValidationException`` "The provided model
identifier is invalid." (HTTP 400).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

PATH = "{0}/foundation-models/(?P<modelIdentifier>[^/]+)$"
MODEL_ID = re.compile(r"^[a-z0-9-]+\.[A-Za-z0-9.:_-]+$")

# Model id -> lifecycle status that differs from ACTIVE; "EOL" is answered as an unknown model.
LIFECYCLE: dict[str, str] = {
    "anthropic.claude-3-5-sonnet-20240620-v1:0": "EOL",
    "anthropic.claude-3-sonnet-20240229-v1:0": "EOL",
    "anthropic.claude-v2:1": "EOL",
    "anthropic.claude-3-5-sonnet-20241022-v2:0": "EOL",
}


def _error(status: int, error_type: str, message: str) -> tuple[int, dict[str, str], str]:
    return (
        status,
        {"x-amzn-ErrorType": error_type, "content-type": "application/json"},
        json.dumps({"message": message}),
    )


def get_foundation_model(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    """moto route handler for GetFoundationModel (see the module docstring)."""
    match = re.search(PATH.format(""), full_url.split("?", 1)[0])
    model_id = unquote(match.group("modelIdentifier")) if match else ""
    if model_id.startswith("arn:") and ":foundation-model/" in model_id:
        model_id = model_id.split(":foundation-model/", 1)[1]
    status = LIFECYCLE.get(model_id, "ACTIVE")
    if not MODEL_ID.match(model_id) or status == "EOL":
        return _error(400, "ValidationException", "The provided model identifier is invalid.")
    region = re.search(r"/([a-z]{2}(-[a-z]+)+-\d)/bedrock/", headers.get("Authorization", ""))
    region_name = region.group(1) if region else "us-east-1"
    details = {
        "modelArn": f"arn:aws:bedrock:{region_name}::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": model_id,
        "providerName": model_id.split(".", 1)[0].capitalize(),
        "inputModalities": ["TEXT"],
        "outputModalities": ["TEXT"],
        "responseStreamingSupported": True,
        "inferenceTypesSupported": ["INFERENCE_PROFILE", "ON_DEMAND"],
        "modelLifecycle": {"status": status},
    }
    return 200, {"content-type": "application/json"}, json.dumps({"modelDetails": details})


def patch_bedrock_control() -> None:
    """Put the GetFoundationModel route ahead of moto's catch-all Bedrock route.

    Raises:
        RuntimeError: moto's bedrock.urls has no ``url_paths`` (a moto upgrade).
    """
    from moto.bedrock import urls

    if not isinstance(getattr(urls, "url_paths", None), dict):
        raise RuntimeError("moto.bedrock.urls has no url_paths; bedrock_control.py needs updating")
    urls.url_paths = {PATH: get_foundation_model, **urls.url_paths}
