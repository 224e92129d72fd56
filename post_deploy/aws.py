"""AWS calls of the validation: one client factory, and errors turned into what to do.

A call refused for want of a permission names the IAM action to grant (service prefix and operation, as the
Service Authorization Reference spells them: https://docs.aws.amazon.com/service-authorization/latest/reference/).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# botocore service name -> IAM service prefix, where they differ.
IAM_PREFIX = {"lexv2-models": "lex", "lexv2-runtime": "lex", "stepfunctions": "states", "bedrock-runtime": "bedrock"}
ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException"}

ClientFactory = Callable[[str], Any]


class CallFailed(Exception):
    """An AWS call failed; ``str()`` says which call, why, and what to do (the IAM action when access was denied)."""


def client_factory(region: str | None, endpoint_url: str | None = None) -> ClientFactory:
    """A function giving one cached boto3 client per service, in ``region`` (boto3's default when None).

    ``endpoint_url`` (or the ``AWS_ENDPOINT_URL`` environment variable, which boto3 reads itself) points every
    client at a local AWS.

    Raises:
        CallFailed: boto3 is not installed (it is needed on the machine that validates).
    """
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:
        raise CallFailed("validate.py needs boto3: pip install -r requirements-build.txt boto3") from exc
    clients: dict[str, Any] = {}
    config = Config(retries={"max_attempts": 4, "mode": "standard"}, read_timeout=40)

    def get(service: str) -> Any:
        if service not in clients:
            kwargs: dict[str, Any] = {"config": config}
            if region:
                kwargs["region_name"] = region
            if endpoint_url:
                kwargs["endpoint_url"] = endpoint_url
            clients[service] = boto3.client(service, **kwargs)
        return clients[service]

    return get


def call(clients: ClientFactory, service: str, operation: str, **params: Any) -> dict[str, Any]:
    """``clients(service).<operation>(**params)`` with botocore's errors turned into :class:`CallFailed`.

    Args:
        operation: the boto3 method name, e.g. ``get_alias``.

    Raises:
        CallFailed: the call failed; access denied names ``prefix:Operation`` to grant.
    """
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    client = clients(service)
    try:
        return getattr(client, operation)(**params)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        if code in ACCESS_DENIED:
            action = f"{IAM_PREFIX.get(service, service)}:{exc.operation_name}"
            raise CallFailed(
                f"{exc.operation_name} was denied: grant {action} to the identity running validate.py"
            ) from exc
        raise CallFailed(f"{exc.operation_name}: {code}: {message}") from exc
    except NoCredentialsError as exc:
        raise CallFailed(
            "no AWS credentials: set AWS_PROFILE or credentials for the account the root deploys to"
        ) from exc
    except BotoCoreError as exc:
        raise CallFailed(f"{service} {operation}: {exc}") from exc
    except Exception as exc:  # an answer botocore cannot parse: a check fails, the run goes on
        raise CallFailed(f"{service} {operation}: unexpected answer ({exc!r})") from exc
