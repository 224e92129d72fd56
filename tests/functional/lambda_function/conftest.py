"""A moto server of its own (through scripts/local_aws/moto_launcher.py, as `make run` starts it) with a short
provisioned-concurrency allocation delay and a FAILED threshold, plus a function with a ``live`` alias in it."""

from __future__ import annotations

import io
import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
for _path in (REPO_ROOT / "scripts", REPO_ROOT / "modules" / "lambda_function" / "scripts", Path(__file__).parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from lambda_local_aws import ALLOCATION_SECONDS, FAIL_AT_OR_ABOVE, REGION, LiveAlias  # noqa: E402

from local_aws.emulator import MotoServer  # noqa: E402


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Endpoint of a moto server whose allocations take ALLOCATION_SECONDS and fail from FAIL_AT_OR_ABOVE up."""
    saved = {k: os.environ.get(k) for k in ("LOCAL_AWS_PC_ALLOCATION_SECONDS", "LOCAL_AWS_PC_FAIL_AT_OR_ABOVE")}
    os.environ["LOCAL_AWS_PC_ALLOCATION_SECONDS"] = str(ALLOCATION_SECONDS)
    os.environ["LOCAL_AWS_PC_FAIL_AT_OR_ABOVE"] = str(FAIL_AT_OR_ABOVE)
    try:
        with MotoServer(sys.executable, tmp_path_factory.mktemp("moto") / "moto.log") as moto:
            yield moto.endpoint_url
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", f"def lambda_handler(event, context):\n    return {text!r}\n")
    return buffer.getvalue()


@pytest.fixture
def live_alias(moto_endpoint: str, request: pytest.FixtureRequest) -> LiveAlias:
    """A fresh function (named after the test) with versions 1 and 2, ``live`` on 1, no provisioned concurrency."""
    kwargs = {
        "region_name": REGION,
        "endpoint_url": moto_endpoint,
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }
    iam = boto3.client("iam", **kwargs)
    lam = boto3.client("lambda", **kwargs)
    name = request.node.name.replace("[", "-").replace("]", "")[:64]
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": _zip("v1")},
        Publish=True,
    )
    lam.update_function_code(FunctionName=name, ZipFile=_zip("v2"), Publish=True)
    arn = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")["AliasArn"]
    return LiveAlias(client=lam, function_name=name, arn=arn)
