#!/usr/bin/env python3
"""Prove a deploy worked: the plan's post-deployment checklist and success metrics as one command.

Build before apply (``python build.py``), validate after:

    python validate.py --chdir examples/prod                   # configuration, smoke, last hour's metrics
    python validate.py --outputs outputs.json --since 30       # from a saved `terraform output -json`
    python validate.py --chdir envs/prod --conversations 5     # also 5 conversations through the bot alias
    python validate.py --chdir envs/prod --before 2026-11-30T09:00 2026-11-30T10:00   # before/after table
    python validate.py --chdir envs/prod --json result.json    # the same results for a pipeline

Exit codes: 0 every check and target passed (warnings allowed); 1 a check or target failed (the table says
which); 2 bad input (no state, unreadable outputs, a bad window, no boto3).

The parts and their sources are described in ``post_deploy/__init__.py``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from post_deploy import checks, metrics, smoke
from post_deploy.aws import CallFailed, client_factory
from post_deploy.outputs import OutputsError, read_outputs
from post_deploy.report import Result, failed, format_table, to_json


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time (e.g. 2026-11-30T09:00)") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(description="Validate an applied AtlasEngine root.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--chdir", type=Path, default=None, help="root to read `terraform output -json` from (default: .)"
    )
    source.add_argument("--outputs", type=Path, default=None, help="a saved `terraform output -json` file")
    parser.add_argument("--region", default=None, help="AWS region (default: from the outputs' ARNs, else boto3's)")
    parser.add_argument("--endpoint-url", default=None, help="send every AWS call here (a local AWS)")
    parser.add_argument("--since", type=float, default=60.0, help="metrics window: the last N minutes (default 60)")
    parser.add_argument(
        "--before",
        nargs=2,
        type=_timestamp,
        metavar=("START", "END"),
        help="a comparison window (ISO 8601, UTC unless an offset is given)",
    )
    parser.add_argument(
        "--conversations",
        type=int,
        default=0,
        metavar="N",
        help="run N conversations through the bot alias (RecognizeText)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        choices=("configuration", "smoke", "metrics"),
        default=[],
        help="leave a part out (repeatable)",
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="FILE", help="also write the results as JSON ('-' for stdout)"
    )
    parser.add_argument("--terraform", default="terraform", help="terraform executable (default: terraform on PATH)")
    args = parser.parse_args(argv)
    if args.since <= 0:
        parser.error("--since must be a positive number of minutes")
    if args.conversations < 0:
        parser.error("--conversations must be 0 or more")
    if args.before and args.before[0] >= args.before[1]:
        parser.error("--before START must be earlier than END")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the parts, print the table (and JSON), return the exit code."""
    args = parse_args(argv)
    try:
        outputs = read_outputs(args.chdir, args.outputs, args.terraform)
        clients = client_factory(args.region or outputs.region, args.endpoint_url)
    except (OutputsError, CallFailed) as exc:
        print(f"validate: {exc}", file=sys.stderr)
        return 2

    results: list[Result] = []
    extra: dict[str, object] = {}
    if "configuration" not in args.skip:
        print("checking configuration ...", file=sys.stderr, flush=True)
        results += checks.run_configuration_checks(clients, outputs)
    if "smoke" not in args.skip:
        print("invoking the live alias ...", file=sys.stderr, flush=True)
        results += smoke.invoke_smoke(clients, outputs)
        if args.conversations:
            print(
                f"running {args.conversations} conversation(s) through the bot alias ...", file=sys.stderr, flush=True
            )
            runs = smoke.conversations(clients, outputs, args.conversations)
            results += smoke.conversation_results(runs)
            for i, run in enumerate(runs, 1):
                print(f"conversation {i} through the bot alias:\n{smoke.format_conversation(run)}")
            extra["conversations"] = [[t.__dict__ for t in run] for run in runs]
    if "metrics" not in args.skip:
        start, end = metrics.parse_window(args.since)
        try:
            figures = metrics.collect(clients, outputs, start, end)
            before = metrics.collect(clients, outputs, *args.before) if args.before else None
            results += metrics.metric_results(figures, metrics.Targets(), before)
        except CallFailed as exc:
            results.append(
                Result("metrics", "success metrics", "fail", str(exc), "grant the named action and run again")
            )

    print(format_table(results))
    if args.json is not None:
        document = to_json(results, extra)
        if str(args.json) == "-":
            print(document)
        else:
            args.json.write_text(document + "\n", encoding="utf-8")
    bad = failed(results)
    if bad:
        print(f"validate: FAILED: {', '.join(r.name for r in bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
