"""The Powertools files build.toml leaves out of the zips are never loaded by the idempotency record's code path.

build.toml drops most of aws-lambda-powertools from CreateLead, UpdateLead and InvokeOutboundCall (only the
Idempotency utility is used). The zip import check imports only the package's top level, so this test runs the
whole path here (a first delivery, a repeat answered from the record, an overlapping one refused, a failing one
deleting its record) and then checks every ``aws_lambda_powertools`` module loaded in this process against the
exclude globs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from atlas_shared import idempotency
from atlas_shared.exceptions import IdempotencyInProgressError
from lambda_build.config import discover_functions, load_config
from lambda_build.globs import GlobSet
from tests.conftest import LAMBDA_SRC, FakeAws, LambdaContext
from tests.functional.handlers.idempotency_support import Gate, run_in_thread

FUNCTIONS = ("CreateLeadHandler", "UpdateLeadHandler", "InvokeOutboundCallHandler")


def _exercise_the_path(context: LambdaContext) -> None:
    assert idempotency.run_once("Pack", "key-1", {"a": 1}, lambda: {"n": 1}, context=context) == {"n": 1}
    assert idempotency.run_once("Pack", "key-1", {"a": 1}, lambda: {"n": 2}, context=context) == {"n": 1}
    gate = Gate()
    thread, _ = run_in_thread(
        lambda: idempotency.run_once("Pack", "key-2", {}, lambda: (gate.hold(), {"n": 3})[1], context=context)
    )
    gate.wait_reached()
    with pytest.raises(IdempotencyInProgressError):
        idempotency.run_once("Pack", "key-2", {}, lambda: {"n": 4}, context=context)
    gate.release()
    thread.join(30)

    def fail() -> dict[str, int]:
        raise ValueError("the work failed")

    with pytest.raises(ValueError):
        idempotency.run_once("Pack", "key-3", {}, fail, context=context)


def test_excluded_powertools_files_are_never_loaded(aws: FakeAws, lambda_context: LambdaContext) -> None:
    _exercise_the_path(lambda_context)
    loaded = []
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] != "aws_lambda_powertools" or not getattr(module, "__file__", None):
            continue
        path = Path(module.__file__)  # .../site-packages/aws_lambda_powertools/...
        parts = path.parts[path.parts.index("aws_lambda_powertools") :]
        loaded.append("/".join(parts))
    assert any(p.startswith("aws_lambda_powertools/utilities/idempotency/") for p in loaded)

    configs = load_config(LAMBDA_SRC, discover_functions(LAMBDA_SRC))
    for function in FUNCTIONS:
        excluded = GlobSet(configs[function].exclude)
        assert any(p.startswith("aws_lambda_powertools/") for p in configs[function].exclude), function
        assert [p for p in loaded if excluded.match(p)] == [], function
