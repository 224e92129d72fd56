"""Amazon Bedrock's control plane for the local AWS: GetFoundationModel, with each model's lifecycle.

moto 5.2 has no GetFoundationModel, which ``validate.py`` calls to check that the configured model is still
ACTIVE. The answer follows https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetFoundationModel.html
(``{"modelDetails": {"modelId", "modelArn", "providerName", "modelLifecycle": {"status"}, ...}}``).

The local AWS knows the models of the project's table (lambda_src/atlas_shared/models.json) and their
lifecycle there (taken from the model cards and https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html).
Any other id, a model past its end of life included, answers as Bedrock answers an unknown id:
``ValidationException`` "The provided model identifier is invalid." (HTTP 400).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

PATH = "{0}/foundation-models/(?P<modelIdentifier>[^/]+)$"
MODELS_TABLE = Path(__file__).resolve().parents[2] / "lambda_src" / "atlas_shared" / "models.json"


def lifecycle(model_id: str) -> str | None:
    """The table's lifecycle status of a foundation model (``ACTIVE``, ``LEGACY``), None when it is not listed."""
    entry = json.loads(MODELS_TABLE.read_text(encoding="utf-8"))["models"].get(model_id)
    return str(entry.get("lifecycle", "Active")).upper() if entry else None


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
    status = lifecycle(model_id)
    if status is None or status == "EOL":
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
