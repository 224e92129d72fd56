"""atlas_shared.tracing: lazy, patched only where asked, and harmless with no segment, no daemon or no SDK.

Patching is process-wide and cannot be undone, so the checks that patch run in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from atlas_shared import tracing
from tests.conftest import BASE_ENV, LAMBDA_SRC


def run_python(code: str, **env: str) -> dict:
    """Run ``code`` in a new interpreter with lambda_src on the path; it prints one JSON object."""
    environment = {**os.environ, **BASE_ENV, "PYTHONPATH": str(LAMBDA_SRC), **env}
    for name in ("LAMBDA_TASK_ROOT", "_X_AMZN_TRACE_ID"):
        if name not in env:
            environment.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_disabled_sdk_is_never_imported() -> None:
    out = run_python(
        """
        import json, sys
        from atlas_shared import tracing
        with tracing.subsegment("x") as sub:
            pass
        print(json.dumps({"sub": sub is None, "patched": tracing.patch_libraries(),
                          "imported": "aws_xray_sdk" in sys.modules}))
        """,
        AWS_XRAY_SDK_ENABLED="false",
    )
    assert out == {"sub": True, "patched": False, "imported": False}


def test_importing_the_module_does_not_import_the_sdk() -> None:
    out = run_python(
        """
        import json, sys
        from atlas_shared import tracing
        print(json.dumps({"imported": "aws_xray_sdk" in sys.modules}))
        """,
        AWS_XRAY_SDK_ENABLED="true",
    )
    assert out == {"imported": False}


def test_patch_covers_botocore_and_requests_only() -> None:
    out = run_python(
        """
        import json
        import botocore.client, requests, sqlite3
        from atlas_shared import tracing
        assert tracing.patch_libraries() and tracing.patch_libraries()
        from aws_xray_sdk.core import patcher, xray_recorder
        print(json.dumps({
            "patched": sorted(patcher._PATCHED_MODULES),
            "botocore": hasattr(botocore.client, "_xray_enabled"),
            "requests_wrapped": type(requests.Session.request).__name__,
            "context_missing": xray_recorder.context.context_missing,
        }))
        """,
        AWS_XRAY_SDK_ENABLED="true",
    )
    assert out["patched"] == ["botocore", "requests"]
    assert out["botocore"] is True and "Wrapper" in out["requests_wrapped"]
    assert out["context_missing"] == "IGNORE_ERROR"


def test_no_segment_and_no_daemon_is_fine() -> None:
    """Patched boto3 and requests calls and our subsegments work with nothing to send traces to."""
    out = run_python(
        """
        import json, logging, io
        buffer = io.StringIO()
        logging.basicConfig(stream=buffer, level=logging.WARNING)
        import boto3, botocore.stub
        from atlas_shared import tracing
        tracing.patch_libraries()
        client = boto3.client("dynamodb", region_name="us-west-2")
        with botocore.stub.Stubber(client) as stub:
            stub.add_response("list_tables", {"TableNames": []})
            with tracing.subsegment("work", table="t") as sub:
                client.list_tables()
        @tracing.traced("decorated")
        def double(x):
            return 2 * x
        print(json.dumps({"sub": sub is None, "value": double(21), "errors": buffer.getvalue()}))
        """,
        AWS_XRAY_SDK_ENABLED="true",
    )
    assert out == {"sub": True, "value": 42, "errors": ""}


@pytest.mark.parametrize("strategy", ["RUNTIME_ERROR", "runtime_error_typo", "LOG_ERROR"])
def test_no_context_missing_strategy_fails_a_call(strategy: str) -> None:
    """``AWS_XRAY_CONTEXT_MISSING=RUNTIME_ERROR`` would make every patched call raise with no segment open."""
    out = run_python(
        """
        import json
        import boto3, botocore.stub
        from atlas_shared import tracing
        patched = tracing.patch_libraries()
        from aws_xray_sdk.core import xray_recorder
        client = boto3.client("dynamodb", region_name="us-west-2")
        with botocore.stub.Stubber(client) as stub:
            stub.add_response("list_tables", {"TableNames": ["tbl"]})
            tables = client.list_tables()["TableNames"]
        print(json.dumps({"patched": patched, "tables": tables, "strategy": xray_recorder.context.context_missing}))
        """,
        AWS_XRAY_SDK_ENABLED="true",
        AWS_XRAY_CONTEXT_MISSING=strategy,
    )
    assert out["patched"] is True and out["tables"] == ["tbl"]
    assert out["strategy"] in ("LOG_ERROR", "IGNORE_ERROR")


def test_subsegments_are_recorded_under_a_segment() -> None:
    """With a segment open (as in Lambda), subsegments carry annotations and exceptions; no daemon needed."""
    out = run_python(
        """
        import json
        from atlas_shared import tracing
        recorder = tracing.get_recorder()
        segment = recorder.begin_segment("test")
        with tracing.subsegment("bedrock.invoke_model", model_id="m", max_tokens=150):
            pass
        try:
            with tracing.subsegment("salesforce.connect"):
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        subs = {s.name: s for s in segment.subsegments}
        result = {
            "names": sorted(subs),
            "annotations": subs["bedrock.invoke_model"].annotations,
            "fault": subs["salesforce.connect"].fault or subs["salesforce.connect"].error,
        }
        recorder.end_segment()  # sends over UDP to a daemon that isn't there: must not raise
        print(json.dumps(result))
        """,
        AWS_XRAY_SDK_ENABLED="true",
    )
    assert out["names"] == ["bedrock.invoke_model", "salesforce.connect"]
    assert out["annotations"] == {"model_id": "m", "max_tokens": 150}
    assert out["fault"] is True


def test_lambda_init_phase_opens_no_subsegment() -> None:
    out = run_python(
        """
        import json, io, logging
        buffer = io.StringIO()
        logging.basicConfig(stream=buffer, level=logging.WARNING)
        from atlas_shared import tracing
        with tracing.subsegment("during-init") as sub:
            pass
        print(json.dumps({"sub": sub is None, "warnings": buffer.getvalue()}))
        """,
        AWS_XRAY_SDK_ENABLED="true",
        LAMBDA_TASK_ROOT="/var/task",
    )
    assert out == {"sub": True, "warnings": ""}


def test_in_process_no_op_when_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_XRAY_SDK_ENABLED", "false")
    assert tracing.get_recorder() is None

    @tracing.traced("x")
    def add(a: int, b: int) -> int:
        return a + b

    assert add(1, 2) == 3
    with pytest.raises(ValueError), tracing.subsegment("y"):
        raise ValueError("propagates")
