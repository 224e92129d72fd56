"""AWS X-Ray, with the SDK imported lazily and every failure mode reduced to a no-op (Task 5).

* :func:`patch_libraries` patches ``boto3`` (the SDK patches botocore for it) and ``requests`` only — not
  ``patch_all()``, which would import and wrap every supported library it finds.
* :func:`subsegment` (context manager) and :func:`traced` (decorator) open a named subsegment, used around
  the Bedrock call and the Salesforce connection. Annotations must be str, int, float or bool.
* ``context_missing`` is ``IGNORE_ERROR`` unless ``AWS_XRAY_CONTEXT_MISSING`` says otherwise, so code runs
  with no segment and no daemon (tests, local runs, Lambda's init phase) without errors or noise. Tracing never
  fails a request, whatever that variable says: ``RUNTIME_ERROR`` (the SDK's patched boto3 and requests would
  raise ``SegmentNotFoundException`` through every AWS and Salesforce call when no segment exists) is turned
  into ``LOG_ERROR``, with one warning per container saying so.
* With ``AWS_XRAY_SDK_ENABLED=false``, or when ``aws_xray_sdk`` is not installed, everything is a no-op and
  the SDK is never imported.

Sources: https://docs.aws.amazon.com/xray/latest/devguide/xray-sdk-python-configuration.html and
https://docs.aws.amazon.com/lambda/latest/dg/python-tracing.html
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from .logs import get_logger

P = ParamSpec("P")
R = TypeVar("R")

PATCHED_MODULES = ("boto3", "requests")

_logger = get_logger("tracing")
_lock = threading.Lock()
_recorder: Any = None
_loaded = False
_patched = False


def sdk_enabled() -> bool:
    """False when ``AWS_XRAY_SDK_ENABLED`` is ``false``/``0``/``no`` (read on every call; cheap)."""
    return os.environ.get("AWS_XRAY_SDK_ENABLED", "true").strip().lower() not in ("false", "0", "no", "off")


def get_recorder() -> Any | None:
    """The configured ``xray_recorder``, importing the SDK on first use; ``None`` when disabled or missing."""
    global _recorder, _loaded
    if not sdk_enabled():
        return None
    if _loaded:
        return _recorder
    with _lock:
        if not _loaded:
            try:
                from aws_xray_sdk.core import xray_recorder
            except ImportError:
                _logger.debug("aws_xray_sdk is not installed; tracing is off")
                xray_recorder = None
            else:
                xray_recorder.configure(
                    context_missing=os.environ.get("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR"),
                    plugins=(),
                )
                _never_raise_on_missing_context(xray_recorder)
                if not os.environ.get("LAMBDA_TASK_ROOT"):
                    # Outside Lambda (tests, local runs) no segment ever exists, and the SDK would warn
                    # "No segment found" on every patched call. In Lambda every invocation has a segment.
                    logging.getLogger("aws_xray_sdk").setLevel(logging.ERROR)
            _recorder = xray_recorder
            _loaded = True
    return _recorder


def _never_raise_on_missing_context(recorder: Any) -> None:
    """Replace the SDK's ``RUNTIME_ERROR`` strategy by ``LOG_ERROR``: a missing segment must not fail the call.

    ``configure`` lets ``AWS_XRAY_CONTEXT_MISSING`` override its argument (the SDK reads the variable itself), so
    the strategy is set on the context after it, where the variable is no longer consulted.
    """
    context = getattr(recorder, "context", None)
    strategy = getattr(context, "context_missing", None)
    if context is None or strategy in (None, "LOG_ERROR", "IGNORE_ERROR"):  # None: Lambda's context, a no-op
        return
    try:
        context.context_missing = "LOG_ERROR"
    except Exception:  # an SDK whose context refuses the value: patching is skipped below, see patch_libraries
        _logger.debug("could not change context_missing", exc_info=True)
        return
    _logger.warning(
        "AWS_XRAY_CONTEXT_MISSING=%s would fail every call made without an X-Ray segment, or is not a strategy the "
        "SDK knows; using LOG_ERROR instead (tracing never fails a request)",
        str(strategy)[:40],
        extra={"event": "xray_context_missing_downgraded"},
    )


def _raises_on_missing_context(recorder: Any) -> bool:
    context = getattr(recorder, "context", None)
    return getattr(context, "context_missing", None) == "RUNTIME_ERROR"


def patch_libraries() -> bool:
    """Patch boto3 and requests for X-Ray once per container. Returns True when the patch is in place."""
    global _patched
    if _patched:
        return True
    recorder = get_recorder()
    if recorder is None:
        return False
    if _raises_on_missing_context(recorder):  # the strategy could not be changed: patching would fail calls
        _logger.warning("X-Ray context_missing is RUNTIME_ERROR; boto3 and requests are left unpatched")
        return False
    with _lock:
        if not _patched:
            from aws_xray_sdk.core import patch

            try:
                patch(PATCHED_MODULES)
            except Exception:  # an unexpected SDK failure must never stop a request
                _logger.warning("X-Ray patching failed; continuing without it", exc_info=True)
                return False
            _patched = True
    return True


def _open_segment(recorder: Any) -> bool:
    """True when a subsegment can be attached right now (an invocation's facade segment, or a test's segment)."""
    if os.environ.get("LAMBDA_TASK_ROOT") and not os.environ.get("_X_AMZN_TRACE_ID"):
        return False  # Lambda's init phase: the SDK would discard the subsegment with a warning
    try:
        return recorder.current_segment() is not None
    except Exception:
        return False


@contextmanager
def subsegment(name: str, **annotations: str | int | float | bool) -> Iterator[Any | None]:
    """Record the block as an X-Ray subsegment named ``name``; yields the subsegment or ``None``.

    An exception inside the block is recorded on the subsegment and re-raised. Tracing problems themselves
    are swallowed: they must never fail the work being traced.
    """
    recorder = get_recorder()
    if recorder is None or not _open_segment(recorder):
        yield None
        return
    try:
        current = recorder.begin_subsegment(name)
        for key, value in annotations.items():
            current.put_annotation(key, value)
    except Exception:
        _logger.debug("could not open subsegment %s", name, exc_info=True)
        yield None
        return
    try:
        yield current
    except BaseException as exc:
        try:
            import traceback

            current.add_exception(exc, traceback.extract_tb(exc.__traceback__))
        except Exception:
            pass
        raise
    finally:
        try:
            recorder.end_subsegment()
        except Exception:
            _logger.debug("could not close subsegment %s", name, exc_info=True)


def traced(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator form of :func:`subsegment`."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with subsegment(name):
                return func(*args, **kwargs)

        return wrapper

    return decorate


def reset_tracing() -> None:
    """Forget the recorder so the next call re-reads the environment (tests). Patches stay in place."""
    global _recorder, _loaded
    _recorder = None
    _loaded = False
