"""scripts/local_aws/bedrock_profiles.py: moto's stand-in for Bedrock GetInferenceProfile (issue 8).

The pure function first (what AWS answers for each kind of identifier), then one short-lived moto server
through moto_launcher.py, asked with boto3 as the Terraform provider asks it.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from e2e_support import local_run
from local_aws.bedrock_profiles import GEOGRAPHIES, get_inference_profile
from local_aws.emulator import MotoServer

HAIKU = "anthropic.claude-haiku-5-5"


def test_a_us_profile_lists_its_model_in_each_us_region() -> None:
    status, body = get_inference_profile(f"us.{HAIKU}", "us-west-2")
    assert status == 200 and body["type"] == "SYSTEM_DEFINED" and body["status"] == "ACTIVE"
    assert body["inferenceProfileArn"] == f"arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.{HAIKU}"
    assert [m["modelArn"] for m in body["models"]] == [
        f"arn:aws:bedrock:{r}::foundation-model/{HAIKU}" for r in GEOGRAPHIES["us"][1]
    ]


def test_the_profile_arn_is_accepted_in_its_own_region_only() -> None:
    arn = f"arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.{HAIKU}"
    assert get_inference_profile(arn, "us-west-2")[0] == 200
    assert get_inference_profile(arn.replace(":", "%3A").replace("/", "%2F"), "us-west-2")[0] == 200
    assert get_inference_profile(arn, "us-east-1")[0] == 404


@pytest.mark.parametrize(
    ("identifier", "region", "status"),
    [
        (f"us.{HAIKU}", "eu-west-1", 404),  # a US profile is not listed outside the US
        (f"eu.{HAIKU}", "eu-central-1", 200),
        (f"global.{HAIKU}", "ap-south-1", 200),
        ("us.anthropic.claude-not-a-model", "us-west-2", 404),
        (HAIKU, "us-west-2", 404),  # a foundation model is not a profile
        ("arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/abc", "us-west-2", 404),
        ("us.bad id!", "us-west-2", 400),
    ],
)
def test_no_kinder_than_aws(identifier: str, region: str, status: int) -> None:
    code, body = get_inference_profile(identifier, region)
    assert code == status
    if status != 200:
        assert body["__type"] in ("ResourceNotFoundException", "ValidationException")


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with MotoServer(sys.executable, tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


def test_moto_answers_get_inference_profile(moto: MotoServer) -> None:
    bedrock = local_run.moto_client("bedrock", moto.endpoint_url, "us-west-2")
    profile = bedrock.get_inference_profile(inferenceProfileIdentifier=f"us.{HAIKU}")
    assert profile["inferenceProfileId"] == f"us.{HAIKU}" and len(profile["models"]) == 3
    with pytest.raises(ClientError) as caught:
        bedrock.get_inference_profile(inferenceProfileIdentifier="us.anthropic.claude-unknown")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
