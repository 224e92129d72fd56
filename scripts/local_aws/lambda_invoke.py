"""Lambda Invoke for the local AWS: run the deployed zip in a subprocess, no Docker.

moto runs a function only in a Docker container built from a public image, which an offline machine cannot
pull, so an Invoke on moto returns an error instead of the handler's answer. Here moto's
``LambdaFunction._invoke_lambda`` is replaced, inside the moto server process, by execution environments
that behave as Lambda's do (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html):

- one subprocess per execution environment (``lambda_runtime_worker.py``), keyed by function, version and
  CodeSha256; it imports the handler once (init) and then serves invocations one at a time, so module-level
  caches live across warm invocations exactly as they do on Lambda. A busy environment makes the next
  concurrent invocation start another (a cold start); environments of a replaced version are never reused.
- the interpreter is the one the function's runtime names (``python3.12`` → a Python 3.12 found by
  ``scripts/find-python`` or ``LOCAL_AWS_LAMBDA_PYTHON``), started with ``-S`` (no site-packages): only the zip and
  the runtime's AWS SDK (boto3, botocore and their dependencies, taken from the server's own environment) are
  importable, so a dependency missing from the zip fails here as it fails on Lambda.
- the environment is the function's configured variables plus the ones Lambda reserves
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime):
  ``AWS_LAMBDA_FUNCTION_NAME``, ``..._VERSION``, ``..._MEMORY_SIZE``, ``AWS_LAMBDA_INITIALIZATION_TYPE``,
  ``_HANDLER``, ``_X_AMZN_TRACE_ID`` (per invocation), ``AWS_XRAY_CONTEXT_MISSING=LOG_ERROR`` and the region,
  and ``AWS_ENDPOINT_URL`` pointing back at this server, so the handler's AWS calls reach the local AWS.
- provisioned concurrency (with ``lambda_provisioned_concurrency.py``): when an alias's allocation turns READY,
  that many environments of the alias's version are initialized at once, in the background, with
  ``AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency``, as Lambda initializes them during allocation; an
  invocation of the alias takes a free one (no cold start, no Init Duration in its REPORT line) and spills
  over to an on-demand environment when all are busy. While a version move re-allocates, the alias's transient
  routing weights send its invocations to the previous version, as on Lambda.
- the function's timeout holds: an invocation that runs past it is ended, its environment discarded, and the
  caller gets ``Task timed out after N seconds`` as an unhandled error.
- what the invocation logged goes to CloudWatch Logs (``/aws/lambda/<name>``, stream
  ``YYYY/MM/DD/[version]id``), as Lambda writes it, with a ``REPORT`` line giving Duration and, on a cold
  start, Init Duration (https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html).

Errors follow Invoke's documented shape (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html): an
exception from the handler is the payload ``{"errorMessage", "errorType", "stackTrace"}`` with the header
``X-Amz-Function-Error: Unhandled``.
"""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORKER = Path(__file__).with_name("lambda_runtime_worker.py")
FIND_PYTHON = Path(__file__).resolve().parents[1] / "find-python"

# What the Lambda Python runtime provides besides the standard library: the AWS SDK and what it imports.
# Source: https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html ("The runtime includes the AWS SDK").
RUNTIME_SDK_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")

_state: dict[str, Any] = {"endpoint_url": None, "work_dir": None, "pc_store": None}


def configure(endpoint_url: str, work_dir: Path | None = None, pc_store: Any = None) -> None:
    """Tell the emulator where this moto server listens (for the handlers' AWS calls), where to unpack zips, and
    which provisioned-concurrency store to follow (``lambda_provisioned_concurrency.ProvisionedConcurrencyStore``)."""
    _state["endpoint_url"] = endpoint_url
    _state["work_dir"] = Path(work_dir or tempfile.mkdtemp(prefix="local-aws-lambda-"))
    _state["pc_store"] = pc_store
    if pc_store is not None:
        pc_store.on_ready.append(_prewarm)


class RuntimeUnavailable(Exception):
    """No interpreter for the function's runtime on this machine; the message names what to install or set."""


@functools.cache
def runtime_python(runtime: str) -> str:
    """The interpreter for a Lambda runtime name (``python3.12``).

    ``LOCAL_AWS_LAMBDA_PYTHON`` wins; otherwise this server's own interpreter when its version matches, else
    ``scripts/find-python``. The base interpreter is used rather than a virtualenv's, so the server's dev
    packages are not importable by the handler.

    Raises:
        RuntimeUnavailable: not a Python runtime, or no interpreter of that version.
    """
    if not runtime or not runtime.startswith("python"):
        raise RuntimeUnavailable(f"runtime {runtime!r} cannot run locally: only pythonX.Y runtimes are emulated")
    wanted = runtime.removeprefix("python")
    override = os.environ.get("LOCAL_AWS_LAMBDA_PYTHON")
    if override:
        return override
    if f"{sys.version_info.major}.{sys.version_info.minor}" == wanted:
        return getattr(sys, "_base_executable", sys.executable)
    found = subprocess.run([str(FIND_PYTHON)], capture_output=True, text=True, check=False).stdout.strip()
    if found:
        version = subprocess.run(
            [found, "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if version == wanted:
            return found
    raise RuntimeUnavailable(
        f"no Python {wanted} for runtime {runtime}: install it or set LOCAL_AWS_LAMBDA_PYTHON to its interpreter"
    )


@functools.cache
def runtime_sdk_dir() -> Path:
    """A folder holding only the runtime's SDK packages (links into this server's site-packages)."""
    import boto3

    site = Path(boto3.__file__).resolve().parents[1]
    sdk = Path(_state["work_dir"] or tempfile.mkdtemp()) / "runtime-sdk"
    sdk.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_SDK_PACKAGES:
        source = site / name
        target = sdk / name
        if source.exists() and not target.exists():
            target.symlink_to(source)
    return sdk


@dataclass
class Environment:
    """One execution environment: a worker subprocess serving one invocation at a time."""

    key: tuple[str, str, str]
    process: subprocess.Popen[str]
    log_group: str
    log_stream: str
    init_ms: float
    init_error: dict[str, Any] | None
    provisioned: bool = False
    invocations: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        """End the worker (a timed-out or replaced environment)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=5)


_pool_lock = threading.Lock()
_pool: dict[tuple[str, str, str], list[Environment]] = {}


def _code_dir(fn: Any) -> Path:
    target = Path(_state["work_dir"]) / "code" / fn.code_sha_256.replace("/", "_").replace("+", "-")
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent))
        with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
            archive.extractall(staging)
        try:
            staging.rename(target)
        except OSError:  # another thread unpacked the same code first
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _start(fn: Any, key: tuple[str, str, str], provisioned: bool = False) -> Environment:
    python = runtime_python(fn.run_time)
    code_dir = _code_dir(fn)
    stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[{fn.version}]{uuid.uuid4().hex}"
    log_file = Path(_state["work_dir"]) / "logs" / f"{fn.function_name}-{uuid.uuid4().hex}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": f"{code_dir}{os.pathsep}{runtime_sdk_dir()}",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "_HANDLER": fn.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": fn.logs_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency" if provisioned else "on-demand",
        "AWS_REGION": fn.region,
        "AWS_DEFAULT_REGION": fn.region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "LOCAL_AWS_LOG_FILE": str(log_file),
        **({"AWS_ENDPOINT_URL": _state["endpoint_url"]} if _state["endpoint_url"] else {}),
        **{k: str(v) for k, v in (fn.environment_vars or {}).items()},
    }
    process = subprocess.Popen(
        # -S: no site-packages of the interpreter; the zip and the SDK come in through PYTHONPATH only.
        [python, "-S", str(WORKER)],
        cwd=code_dir,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert process.stdout is not None
    ready = process.stdout.readline()
    if not ready:
        raise RuntimeUnavailable(f"the runtime for {fn.function_name} exited during init (see {log_file})")
    hello = json.loads(ready)
    return Environment(
        key=key,
        process=process,
        log_group=fn.logs_group_name,
        log_stream=stream,
        init_ms=float(hello["initDurationMs"]),
        init_error=hello.get("initError"),
        provisioned=provisioned,
    )


def _acquire(fn: Any) -> Environment:
    key = (f"{fn.region}:{fn.function_name}", str(fn.version), fn.code_sha_256)
    with _pool_lock:
        for stale_key in [k for k in _pool if k[0] == key[0] and k != key]:
            if stale_key[1] == key[1]:  # same version, new code ($LATEST updated): retire the old environments
                for environment in _pool.pop(stale_key):
                    environment.close()
        # A free pre-initialized (provisioned) environment first, then a warm on-demand one.
        for environment in sorted(_pool.get(key, []), key=lambda e: not e.provisioned):
            if environment.lock.acquire(blocking=False):
                return environment
    environment = _start(fn, key)
    print(
        f"local Lambda: new execution environment for {fn.function_name} version {fn.version} "
        f"(init {environment.init_ms:.0f} ms, {environment_count(key) + 1} for this version)",
        file=sys.stderr,
        flush=True,
    )
    environment.lock.acquire()
    with _pool_lock:
        _pool.setdefault(key, []).append(environment)
    return environment


def environment_count(key: tuple[str, str, str]) -> int:
    """How many execution environments serve ``key`` (function, version, CodeSha256) now."""
    with _pool_lock:
        return len(_pool.get(key, []))


def _discard(environment: Environment) -> None:
    with _pool_lock:
        members = _pool.get(environment.key, [])
        if environment in members:
            members.remove(environment)
    environment.close()


def _put_logs(fn: Any, environment: Environment, lines: list[str]) -> None:
    backend = fn.logs_backend
    backend.ensure_log_group(environment.log_group)
    group = backend.groups.get(environment.log_group)
    if group is not None and environment.log_stream not in group.streams:
        backend.create_log_stream(environment.log_group, environment.log_stream)
    now = int(time.time() * 1000)
    backend.put_log_events(
        environment.log_group,
        environment.log_stream,
        [{"timestamp": now, "message": line} for line in lines if line],
    )


def invoke(fn: Any, event: Any) -> tuple[str, bool, str]:
    """Run one invocation of ``fn`` (a moto LambdaFunction, already resolved to its version).

    Returns:
        ``(payload_json, errored, log_text)`` as moto's ``_invoke_lambda`` does: the handler's result as JSON,
        or Lambda's error object with ``errored`` True.
    """
    try:
        environment = _acquire(fn)
    except RuntimeUnavailable as exc:
        return json.dumps({"errorType": "Runtime.Unavailable", "errorMessage": str(exc)}), True, str(exc)
    cold = environment.invocations == 0 and not environment.provisioned
    request_id = str(uuid.uuid4())
    deadline_ms = int(time.time() * 1000) + int(fn.timeout) * 1000
    request = {
        "requestId": request_id,
        "event": event,
        "deadlineEpochMs": deadline_ms,
        "traceId": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=1",
        "invokedArn": fn.function_arn,
    }
    reply_holder: list[str] = []
    try:
        assert environment.process.stdin is not None and environment.process.stdout is not None
        environment.process.stdin.write(json.dumps(request) + "\n")
        environment.process.stdin.flush()
        reader = threading.Thread(target=lambda: reply_holder.append(environment.process.stdout.readline()))
        reader.daemon = True
        reader.start()
        reader.join(timeout=int(fn.timeout) + 0.5)
    except (BrokenPipeError, OSError):
        pass
    environment.invocations += 1
    if not reply_holder or not reply_holder[0]:
        timed_out = not reply_holder
        _discard(environment)
        message = (
            f"Task timed out after {int(fn.timeout):.2f} seconds"
            if timed_out
            else "Runtime exited without providing a reason"
        )
        error = {"errorType": "Sandbox.Timedout" if timed_out else "Runtime.ExitError", "errorMessage": message}
        _put_logs(fn, environment, [f"START RequestId: {request_id}", message, f"END RequestId: {request_id}"])
        return json.dumps(error), True, message
    reply = json.loads(reply_holder[0])
    if environment.init_error is not None:
        _discard(environment)  # Lambda runs init again in a fresh environment on the next invocation
    else:
        environment.lock.release()
    report = f"REPORT RequestId: {request_id}\tDuration: {reply['durationMs']:.2f} ms\tMemory Size: {fn.memory_size} MB"
    if cold:
        report += f"\tInit Duration: {environment.init_ms:.2f} ms"
    log_text = reply.get("log", "")
    _put_logs(
        fn,
        environment,
        [
            f"START RequestId: {request_id} Version: {fn.version}",
            *log_text.splitlines(),
            f"END RequestId: {request_id}",
            report,
        ],
    )
    if "error" in reply:
        return json.dumps(reply["error"]), True, log_text + report
    return json.dumps(reply["result"]), False, log_text + report


def _prewarm(qualified_arn: str, allocated: int) -> None:
    """Initialize ``allocated`` provisioned environments of the version an alias points at (a READY allocation)."""
    from moto.awslambda.models import lambda_backends

    parts = qualified_arn.split(":")
    region, account, name, qualifier = parts[3], parts[4], parts[6], parts[7]

    def warm() -> None:
        try:
            fn = lambda_backends[account][region].get_function(name, qualifier)
        except Exception as exc:  # the alias went away meanwhile
            print(f"local Lambda: cannot pre-warm {qualified_arn}: {exc}", file=sys.stderr, flush=True)
            return
        key = (f"{fn.region}:{fn.function_name}", str(fn.version), fn.code_sha_256)
        with _pool_lock:
            have = sum(1 for e in _pool.get(key, []) if e.provisioned)
        for _ in range(max(0, allocated - have)):
            try:
                environment = _start(fn, key, provisioned=True)
            except RuntimeUnavailable as exc:
                print(f"local Lambda: cannot pre-warm {qualified_arn}: {exc}", file=sys.stderr, flush=True)
                return
            with _pool_lock:
                _pool.setdefault(key, []).append(environment)
            print(
                f"local Lambda: provisioned environment for {fn.function_name} version {fn.version} "
                f"initialized ahead of traffic (init {environment.init_ms:.0f} ms)",
                file=sys.stderr,
                flush=True,
            )

    threading.Thread(target=warm, daemon=True).start()


def routed_qualifier(function_name: str, qualifier: str | None) -> str | None:
    """The version an invocation of ``qualifier`` runs: the previous one while a version move's transient
    weights are set on the alias (all traffic stays there, ``{previous: 1.0}``), else ``qualifier`` itself."""
    store = _state.get("pc_store")
    if store is None or not qualifier or qualifier.isdigit() or qualifier == "$LATEST":
        return qualifier
    for arn in list(store.configs):
        if arn.endswith(f":function:{function_name}:{qualifier}"):
            weights = store.transient_weights(arn)
            if weights:
                return next(iter(weights))
    return qualifier


def patch_lambda_invoke() -> None:
    """Replace moto's Docker-based ``LambdaFunction._invoke_lambda`` with :func:`invoke`, and mark a handler error
    ``Unhandled`` as Lambda does.

    Raises:
        RuntimeError: moto's LambdaFunction lacks ``_invoke_lambda``/``invoke`` (a moto upgrade).
    """
    from moto.awslambda import models

    function_class = models.LambdaFunction
    for attr in ("_invoke_lambda", "invoke"):
        if not hasattr(function_class, attr):
            raise RuntimeError(f"moto.awslambda.models.LambdaFunction has no {attr}; lambda_invoke.py needs updating")
    original_invoke = function_class.invoke

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        return invoke(self, event if event is not None else {})

    @functools.wraps(original_invoke)
    def invoke_unhandled(self: Any, body: str, request_headers: Any, response_headers: Any) -> Any:
        payload = original_invoke(self, body, request_headers, response_headers)
        if response_headers.get("x-amz-function-error") == "Handled":
            response_headers["x-amz-function-error"] = "Unhandled"
        return payload

    function_class._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    function_class.invoke = invoke_unhandled  # type: ignore[method-assign]

    backend_class = models.LambdaBackend
    original_backend_invoke = backend_class.invoke

    @functools.wraps(original_backend_invoke)
    def backend_invoke(self: Any, function_name: str, qualifier: str | None, *args: Any, **kwargs: Any) -> Any:
        name = function_name.split(":function:", 1)[-1]
        if ":" in name:  # a qualified ARN or name:qualifier
            name, qualifier = name.split(":", 1)
        return original_backend_invoke(self, name, routed_qualifier(name, qualifier), *args, **kwargs)

    backend_class.invoke = backend_invoke  # type: ignore[method-assign]

    # moto reads Invoke's qualifier as ``qualifier``, but botocore sends ``?Qualifier=``, so an invocation of an
    # alias or version ran $LATEST. Lambda honours it (API_Invoke.html, "Qualifier").
    from moto.awslambda import responses

    original_response_invoke = responses.LambdaResponse.invoke

    def invoke_with_qualifier(self: Any) -> Any:
        get_param = self._get_param

        def qualified(name: str, default: Any = None) -> Any:
            if name == "qualifier":
                return get_param("Qualifier", None) or get_param(name, default)
            return get_param(name, default)

        self._get_param = qualified
        return original_response_invoke(self)

    responses.LambdaResponse.invoke = invoke_with_qualifier  # type: ignore[method-assign]
