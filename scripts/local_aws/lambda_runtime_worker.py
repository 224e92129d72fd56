"""One Lambda execution environment of the local AWS: runs a deployed zip's handler, docker-free.

Started by ``lambda_invoke.py`` (inside the moto server) with the function's unpacked zip as its working
directory and the environment Lambda would set. It imports the handler once (the init phase), then serves one
invocation per request, as an execution environment does:
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html

Protocol (one JSON object per line):

- file descriptor 1 (stdout) is the protocol channel; the handler's own prints and logs go to the log file
  given in ``LOCAL_AWS_LOG_FILE`` (fd 1 and 2 are pointed there before the handler is imported).
- first line out: ``{"ready": true, "initDurationMs": float, "initError": null | {...}}``.
- each line in: ``{"requestId": str, "event": any, "deadlineEpochMs": int, "traceId": str, "invokedArn": str}``.
- each line out: ``{"result": any}`` or ``{"error": {"errorType", "errorMessage", "stackTrace"}}``, plus
  ``"durationMs"`` and ``"log"`` (what the invocation wrote to the log file).

It imports nothing but the standard library before the handler, so what the handler needs must come from the
zip (or from the runtime's SDK, which the parent puts on ``PYTHONPATH``).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    """The parts of the Lambda context object the handlers use.

    Source: https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
    """

    def __init__(self, request_id: str, deadline_epoch_ms: int, invoked_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline_epoch_ms = deadline_epoch_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout ends this invocation."""
        return max(0, int(self._deadline_epoch_ms - time.time() * 1000))


def _error(exc: BaseException) -> dict[str, Any]:
    """Lambda's error shape for an exception that escaped the handler (errorType, errorMessage, stackTrace)."""
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def main() -> None:
    """Init the handler, then serve invocations from stdin until it closes."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    log_path = os.environ.pop("LOCAL_AWS_LOG_FILE")
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8")
    sys.stderr = os.fdopen(2, "w", buffering=1, encoding="utf-8")

    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    started = time.perf_counter()
    handler = None
    init_error = None
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as exc:  # the init error Lambda reports (Runtime.ImportModuleError and the like)
        init_error = _error(exc)
    init_ms = (time.perf_counter() - started) * 1000
    protocol.write(json.dumps({"ready": True, "initDurationMs": init_ms, "initError": init_error}) + "\n")

    for line in sys.stdin:
        request = json.loads(line)
        os.environ["_X_AMZN_TRACE_ID"] = request["traceId"]
        offset = os.lseek(log_fd, 0, os.SEEK_END)
        context = LambdaContext(request["requestId"], request["deadlineEpochMs"], request["invokedArn"])
        started = time.perf_counter()
        reply: dict[str, Any]
        try:
            if handler is None:  # Lambda answers every invocation of a failed init with the init error
                reply = {"error": init_error}
            else:
                reply = {"result": json.loads(json.dumps(handler(request["event"], context)))}
        except Exception as exc:
            reply = {"error": _error(exc)}
        reply["durationMs"] = (time.perf_counter() - started) * 1000
        sys.stdout.flush()
        sys.stderr.flush()
        with open(log_path, "rb") as log:
            log.seek(offset)
            reply["log"] = log.read().decode("utf-8", "replace")
        protocol.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
