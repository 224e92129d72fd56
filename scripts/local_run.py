"""`make run`: apply examples/local to moto server and check the result (issue 2 section 1, steps 3 to 6).

Run after `python build.py` has written dist/manifest.json and the zips:

    .venv/bin/python scripts/local_run.py [--port 5000] [--keep-running] [--work-dir .cache/local-run]
    .venv/bin/python scripts/local_run.py --fixtures-only [--port 5000]   # moto and the bot only, to apply by hand

Stages, in order:

1. Start moto in server mode on 127.0.0.1 (a free port unless --port), through local_aws/moto_launcher.py,
   which makes moto's Lex V2 ids, ARNs and errors look like the real service. Its log goes to
   <work-dir>/moto.log. It is stopped at the end whatever happens, Ctrl-C included.
2. Create what "already exists" in a real account: the Lex V2 bot and its "Production" alias, with
   conversation logs, sentiment analysis and a second locale (local_aws/fixtures.py). The scenario table and
   the placeholder Salesforce secret are created by examples/local's own Terraform, to show their shape.
3. `terraform init` and `terraform apply` of examples/local through python-terraform (local_aws/terraform_cli.py),
   with fresh state (moto starts empty each run), passing moto's endpoint, the bot ids, the manifest path and
   this interpreter for the Lex code hook script. init uses a local provider mirror (`-plugin-dir`) when
   --plugin-dir, TF_PLUGIN_DIR or scripts/tf-plugin-dir names one, as the Makefile does.
4. A second `terraform plan -detailed-exitcode`: it must show no changes; otherwise the plan is printed and the
   run fails.
   The deploy waits' lines (routing weights cleared, provisioned concurrency READY, each with its seconds) are
   printed as the apply reports them.
5. Check: the apply waited for LexFulfillmentHandler's provisioned concurrency to be READY before it started
   moving the Lex code hook; then in moto with boto3: that provisioned concurrency is READY, the bot alias's code hook is LexFulfillmentHandler's live alias ARN and its other
   settings are as they were; each live alias points at the version Terraform reports; each function's code is
   the manifest's zip (CodeSha256 equals the manifest's base64 SHA-256).
6. Print a summary: per function its published version, alias, zip size and base64 SHA-256, then the Lex code
   hook ARN, the state machine ARN and the dashboard name.

While terraform runs, its output is condensed to a line per finished resource (``[12/47] <address> created
(2s)``), its 10-second "still creating" heartbeat and the plan's totals; the full output is in terraform.log.

Exit codes: 0 success, 1 a failed stage (the message says which and where its log is), 2 bad arguments or no
manifest, 130 interrupted. tests/e2e reuses `LocalRunSettings`, `local_stack` and `verify_stack`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPTS_DIR = Path(__file__).resolve().parent
if str(SCRIPTS_DIR) not in sys.path:
    sys.path.insert(0, str(SCRIPTS_DIR))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import BotoCoreError, ClientError  # noqa: E402

from local_aws.emulator import MotoServer  # noqa: E402
from local_aws.errors import FixtureError, LocalRunError, TerraformError, VerificationError  # noqa: E402
from local_aws.fixtures import LexFixture, bot_alias_problems, create_lex_fixture  # noqa: E402
from local_aws.terraform_cli import CommandResult, PlanResult, TerraformProgress, TerraformRunner  # noqa: E402

REPO_ROOT = SCRIPTS_DIR.parent
FUNCTION_NAMES = (
    "LexFulfillmentHandler",
    "GenerateDynamicScenarioHandler",
    "CreateLeadHandler",
    "InvokeOutboundCallHandler",
    "UpdateLeadHandler",
)
LEX_FUNCTION = "LexFulfillmentHandler"
LIVE_ALIAS = "live"
MOTO_ACCESS_KEY = "test"  # moto's documented dummy credentials; never real ones
# Environment that could send terraform or the code hook script to a real account or another endpoint.
UNSET_AWS_ENVIRONMENT = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ENDPOINT_URL",
)


class ManifestError(LocalRunError):
    """dist/manifest.json is missing or not the shape docs/contracts.md gives."""


@dataclass(frozen=True)
class LocalRunSettings:
    """Everything a local run depends on; `settings_from_args` builds it from flags and the environment.

    Attributes:
        example_dir: the Terraform root applied (examples/local).
        manifest_path: build.py's manifest (dist/manifest.json).
        work_dir: moto.log, terraform.log, the state file and TF_DATA_DIR go here (.cache/local-run).
        region: region moto pretends to be.
        port: moto's port; None picks a free one.
        python: interpreter for moto and for the Lex code hook script (needs boto3 and moto[server]).
        terraform_bin: terraform executable (from PATH by default).
        plugin_dir: `-plugin-dir` for init, or None to use the registry.
        keep_running: after the checks, or a failure, keep moto up until Ctrl-C (to poke at it with the AWS CLI).
        fixtures_only: only start moto and create the Lex V2 fixture (no terraform), for applying by hand.
    """

    example_dir: Path = REPO_ROOT / "examples" / "local"
    manifest_path: Path = REPO_ROOT / "dist" / "manifest.json"
    work_dir: Path = REPO_ROOT / ".cache" / "local-run"
    region: str = "us-east-1"
    port: int | None = None
    python: str = sys.executable
    terraform_bin: str = "terraform"
    plugin_dir: str | None = None
    keep_running: bool = False
    fixtures_only: bool = False

    @property
    def moto_log(self) -> Path:
        """moto server's stdout and stderr."""
        return self.work_dir / "moto.log"

    @property
    def terraform_log(self) -> Path:
        """Every terraform command and its output."""
        return self.work_dir / "terraform.log"

    @property
    def state_path(self) -> Path:
        """The run's local state file (deleted at the start of each run)."""
        return self.work_dir / "terraform.tfstate"


@dataclass
class LocalStack:
    """A moto server with the fixtures in it and a Terraform runner pointed at it (see `local_stack`).

    `variables()` gives the variables of examples/local for this moto; `apply()` and `plan()` pass them, with
    any overrides (e.g. ``functions={...}`` for a rollback, ``manifest_path=...`` for other zips).
    """

    settings: LocalRunSettings
    moto: MotoServer
    lex: LexFixture
    terraform: TerraformRunner
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def variables(self, **overrides: Any) -> dict[str, Any]:
        """examples/local's variables for this run, JSON-able; ``overrides`` replace or add variables."""
        base: dict[str, Any] = {
            "endpoint_url": self.moto.endpoint_url,
            "region": self.settings.region,
            "manifest_path": str(self.settings.manifest_path.resolve()),
            "lex_bot_id": self.lex.bot_id,
            "lex_bot_alias_id": self.lex.bot_alias_id,
            "lex_locale_ids": list(self.lex.locale_ids),
            "lex_code_hook_python": self.settings.python,
        }
        return {**base, **overrides}

    def apply(self, **overrides: Any) -> CommandResult:
        """`terraform apply` of examples/local (its output in ``.stdout``); raises TerraformError on failure."""
        return self.terraform.apply(self.variables(**overrides))

    def destroy(self, **overrides: Any) -> None:
        """`terraform apply -destroy` of examples/local; raises TerraformError on failure."""
        self.terraform.destroy(self.variables(**overrides))

    def plan(self, out: Path | None = None, **overrides: Any) -> PlanResult:
        """`terraform plan -detailed-exitcode`, optionally saved to ``out``."""
        return self.terraform.plan(self.variables(**overrides), out=out)

    def require_no_changes(self, **overrides: Any) -> None:
        """Raise TerraformError, with the plan, unless a plan with these variables shows no changes."""
        result = self.plan(**overrides)
        if result.has_changes:
            raise TerraformError(
                "the second `terraform plan` shows changes after apply (a perpetual diff); the plan:\n" + result.text,
                output=result.text,
            )

    def outputs(self) -> dict[str, Any]:
        """examples/local's outputs (name -> value)."""
        return self.terraform.outputs()

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` on this moto (cached per service)."""
        if service not in self._clients:
            self._clients[service] = moto_client(service, self.moto.endpoint_url, self.settings.region)
        return self._clients[service]


def moto_client(service: str, endpoint_url: str, region: str) -> Any:
    """A boto3 client for ``service`` on the moto server at ``endpoint_url``, with moto's dummy credentials."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=MOTO_ACCESS_KEY,
        aws_secret_access_key=MOTO_ACCESS_KEY,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
    )


def terraform_environment(settings: LocalRunSettings) -> dict[str, str]:
    """Environment for terraform and the Lex code hook script it runs: moto's dummy credentials and the region.

    The endpoint is not here: the provider takes it from examples/local's variables and the script from the
    module's ``lex_code_hook_environment``, so nothing else terraform starts is sent to moto by accident.
    """
    return {
        "AWS_ACCESS_KEY_ID": MOTO_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": MOTO_ACCESS_KEY,
        "AWS_REGION": settings.region,
        "AWS_DEFAULT_REGION": settings.region,
        # The code hook script waits for the alias to be Available; on moto there is nothing to wait for.
        "AWS_MAX_ATTEMPTS": "2",
    }


def read_manifest(path: Path) -> dict[str, Any]:
    """Read build.py's manifest and check it has the five functions.

    Returns:
        The manifest (docs/contracts.md "dist/manifest.json").

    Raises:
        ManifestError: missing file (run `python build.py` / `make build`), bad JSON, wrong schema_version or
            a missing function or field.
    """
    if not path.is_file():
        raise ManifestError(
            f"{path} does not exist: build the zips first with `make build` (or `.venv/bin/python build.py`)"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"cannot read {path}: {exc}; rebuild it with `python build.py`") from exc
    if manifest.get("schema_version") != 1:
        raise ManifestError(
            f"{path} has schema_version {manifest.get('schema_version')!r}; this script reads schema_version 1"
        )
    functions = manifest.get("functions") or {}
    for name in FUNCTION_NAMES:
        entry = functions.get(name)
        if not isinstance(entry, dict):
            raise ManifestError(f"{path} has no entry for {name}; run `python build.py` to build every function")
        for key in ("zip_path", "source_code_hash", "size_bytes"):
            if key not in entry:
                raise ManifestError(f"{path}: functions.{name} has no {key!r}; rebuild it with `python build.py`")
        if not (path.parent / entry["zip_path"]).is_file():
            raise ManifestError(f"{path}: {name}'s zip {entry['zip_path']} is missing; run `python build.py`")
    return dict(manifest)


PLUGIN_DIR_FINDER = SCRIPTS_DIR / "tf-plugin-dir"


def find_plugin_dir(environ: Mapping[str, str] = os.environ, finder: Path = PLUGIN_DIR_FINDER) -> str | None:
    """The provider mirror for ``terraform init -plugin-dir``, found as the Makefile finds it.

    TF_PLUGIN_DIR wins when it is set: a path is used as it is, an empty value means "use the registry" (the
    Makefile exports it empty when it found no mirror). When it is not set at all, as when this script is run
    directly, ``scripts/tf-plugin-dir`` looks in the usual places (/opt/tf-plugins, ~/.terraform.d/plugins, ...)
    for a folder holding ``registry.terraform.io/hashicorp/aws``.

    Returns:
        The mirror's path, or None to let init use the registry (no mirror found, or the finder failed).
    """
    if "TF_PLUGIN_DIR" in environ:
        return environ["TF_PLUGIN_DIR"] or None
    # The finder reads TF_PLUGIN_DIR and HOME itself: give it ``environ`` (over this process's PATH and the rest).
    env = {k: v for k, v in {**os.environ, **environ}.items() if k != "TF_PLUGIN_DIR"}
    try:
        found = subprocess.run([str(finder)], capture_output=True, text=True, env=env, check=False, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found.strip() or None


def settings_from_args(argv: list[str] | None = None, environ: Mapping[str, str] = os.environ) -> LocalRunSettings:
    """Parse the command line (defaults are what `make run` does); see `--help`.

    Environment: MOTO_PORT (default for --port), TF_PLUGIN_DIR (init's -plugin-dir; empty uses the registry;
    unset: found by scripts/tf-plugin-dir, see `find_plugin_dir`), TERRAFORM (terraform executable, default from
    PATH), LOCAL_RUN_KEEP_RUNNING=1 (as --keep-running).
    """
    parser = argparse.ArgumentParser(
        prog="local_run.py",
        description="Apply examples/local to moto server, check a second plan is empty, verify and summarise.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(environ["MOTO_PORT"]) if environ.get("MOTO_PORT") else None,
        help="moto's port (default: a free one; env MOTO_PORT)",
    )
    parser.add_argument("--region", default="us-east-1", help="region moto pretends to be (default: us-east-1)")
    parser.add_argument(
        "--manifest",
        type=Path,
        default=LocalRunSettings.manifest_path,
        help="build.py's manifest (default: dist/manifest.json)",
    )
    parser.add_argument(
        "--example-dir",
        type=Path,
        default=LocalRunSettings.example_dir,
        help="Terraform root to apply (default: examples/local)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=LocalRunSettings.work_dir,
        help="logs, state and TF_DATA_DIR (default: .cache/local-run)",
    )
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter for moto and the Lex code hook script (default: this one)"
    )
    parser.add_argument(
        "--terraform",
        default=environ.get("TERRAFORM") or "terraform",
        help="terraform executable (default: from PATH; env TERRAFORM)",
    )
    parser.add_argument(
        "--plugin-dir",
        help="provider mirror for `terraform init -plugin-dir` ('' for the registry; default: env TF_PLUGIN_DIR, "
        "else what scripts/tf-plugin-dir finds)",
    )
    parser.add_argument(
        "--fixtures-only",
        action="store_true",
        help="only start moto and create the Lex V2 bot and alias, print examples/local's variables, wait for Ctrl-C",
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        default=environ.get("LOCAL_RUN_KEEP_RUNNING", "") not in ("", "0", "false"),
        help="keep moto up after the checks until Ctrl-C (env LOCAL_RUN_KEEP_RUNNING=1)",
    )
    args = parser.parse_args(argv)
    if args.port is not None and not 0 < args.port < 65536:
        parser.error(f"--port {args.port} is not a TCP port")
    return LocalRunSettings(
        example_dir=args.example_dir.resolve(),
        manifest_path=args.manifest.resolve(),
        work_dir=args.work_dir.resolve(),
        region=args.region,
        port=args.port,
        python=args.python,
        terraform_bin=args.terraform,
        plugin_dir=(args.plugin_dir or None) if args.plugin_dir is not None else find_plugin_dir(environ),
        keep_running=args.keep_running,
        fixtures_only=args.fixtures_only,
    )


def _fresh_work_dir(settings: LocalRunSettings) -> None:
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    # moto starts empty, so any earlier state describes resources that no longer exist.
    for stale in (
        settings.state_path,
        settings.state_path.with_name("terraform.tfstate.backup"),
        settings.terraform_log,
    ):
        stale.unlink(missing_ok=True)
    for plan_file in settings.work_dir.glob("*.tfplan"):
        plan_file.unlink()


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


def _progress(line: str) -> None:
    """Terraform's condensed progress (local_aws.terraform_cli.TerraformProgress), printed as it comes."""
    print(line, flush=True)


@contextmanager
def local_stack(settings: LocalRunSettings, init: bool = True) -> Iterator[LocalStack]:
    """Start moto, create the Lex fixture and (unless ``init`` is False) init Terraform; yield the stack; always
    stop moto.

    Nothing is applied yet: call ``stack.apply()``.

    Raises:
        LocalRunError: terraform is not on PATH, moto does not start, the fixture or init fails.
    """
    if init and shutil.which(settings.terraform_bin) is None:
        raise TerraformError(
            f"terraform executable {settings.terraform_bin!r} not found: install Terraform >= 1.5 and put it on PATH"
        )
    _fresh_work_dir(settings)
    _step(f"starting moto server (log: {settings.moto_log})")
    with MotoServer(settings.python, settings.moto_log, port=settings.port) as moto:
        _step(f"moto answers on {moto.endpoint_url}; creating the Lex V2 bot and its Production alias")
        try:
            account_id = moto_client("sts", moto.endpoint_url, settings.region).get_caller_identity()["Account"]
        except (ClientError, BotoCoreError) as exc:
            raise FixtureError(f"moto does not answer STS GetCallerIdentity: {exc}") from exc
        lex = create_lex_fixture(
            moto_client("lexv2-models", moto.endpoint_url, settings.region), settings.region, account_id
        )
        runner = TerraformRunner(
            working_dir=settings.example_dir,
            state_path=settings.state_path,
            data_dir=settings.work_dir / "tf-data",
            log_path=settings.terraform_log,
            plugin_dir=settings.plugin_dir,
            terraform_bin=settings.terraform_bin,
            env=terraform_environment(settings),
            unset_env=UNSET_AWS_ENVIRONMENT,
            on_output=TerraformProgress(_progress),
        )
        if init:
            _step("terraform init" + (f" -plugin-dir={settings.plugin_dir}" if settings.plugin_dir else ""))
            runner.init()
        yield LocalStack(settings, moto, lex, runner)


def _call(description: str, fn: Any, **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise VerificationError(f"{description} failed in moto: {exc}") from exc


def verify_stack(stack: LocalStack, manifest: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
    """Check the applied stack in moto with boto3 (stage 5 of the module docstring).

    Raises:
        VerificationError: one line per problem found.
    """
    problems: list[str] = []
    lam = stack.client("lambda")
    names = outputs["lambda_function_names"]
    for key in FUNCTION_NAMES:
        name = names[key]
        alias = _call(f"GetAlias {name}:{LIVE_ALIAS}", lam.get_alias, FunctionName=name, Name=LIVE_ALIAS)
        if alias["FunctionVersion"] != str(outputs["lambda_alias_versions"][key]):
            problems.append(
                f"{name}: alias {LIVE_ALIAS} -> {alias['FunctionVersion']}, Terraform says {outputs['lambda_alias_versions'][key]}"
            )
        if alias["AliasArn"] != outputs["lambda_alias_arns"][key]:
            problems.append(
                f"{name}: alias ARN {alias['AliasArn']} differs from Terraform's {outputs['lambda_alias_arns'][key]}"
            )
        latest = _call(f"GetFunctionConfiguration {name}", lam.get_function_configuration, FunctionName=name)
        expected_hash = manifest["functions"][key]["source_code_hash"]
        if latest["CodeSha256"] != expected_hash:
            problems.append(f"{name}: deployed CodeSha256 {latest['CodeSha256']} is not the manifest's {expected_hash}")

    lex_name = names[LEX_FUNCTION]
    provisioned = _call(
        f"GetProvisionedConcurrencyConfig {lex_name}:{LIVE_ALIAS}",
        lam.get_provisioned_concurrency_config,
        FunctionName=lex_name,
        Qualifier=LIVE_ALIAS,
    )
    if provisioned["Status"] != "READY":
        problems.append(f"{lex_name}: provisioned concurrency is {provisioned['Status']}, not READY")

    lex_arn = outputs["lambda_alias_arns"][LEX_FUNCTION]
    if outputs.get("lex_code_hook_lambda_arn") != lex_arn:
        problems.append(
            f"lex_code_hook_lambda_arn output {outputs.get('lex_code_hook_lambda_arn')!r} is not {lex_arn!r}"
        )
    current = _call(
        "DescribeBotAlias",
        stack.client("lexv2-models").describe_bot_alias,
        botId=stack.lex.bot_id,
        botAliasId=stack.lex.bot_alias_id,
    )
    problems.extend(f"bot alias {stack.lex.bot_alias_id}: {p}" for p in bot_alias_problems(current, stack.lex, lex_arn))
    if problems:
        raise VerificationError("the applied stack does not check out in moto:\n  - " + "\n  - ".join(problems))


# What modules/lambda_function/scripts/alias_wait.py prints (through local-exec), and the line terraform prints
# when it starts pointing the Lex code hook.
_WAIT_MARKER = "alias_wait: "
_CODE_HOOK_START = "module.lex_code_hook[0].terraform_data.code_hook: Creating..."


def deploy_waits(apply_stdout: str) -> list[str]:
    """The deploy waits' own lines from a `terraform apply`'s output, in order, without terraform's prefix.

    E.g. ``alias_wait: provisioned concurrency on local-LexFulfillmentHandler:live is READY (waited 3.1 s)``.
    """
    return [line[line.index(_WAIT_MARKER) :].strip() for line in apply_stdout.splitlines() if _WAIT_MARKER in line]


def check_ready_before_code_hook(apply_stdout: str, function_name: str) -> None:
    """Check that the apply waited for READY on ``function_name``'s live alias before it moved the Lex code hook.

    Raises:
        VerificationError: no READY wait for the function, or the code hook started before it finished.
    """
    lines = apply_stdout.splitlines()
    ready = f"provisioned concurrency on {function_name}:{LIVE_ALIAS} is READY"
    ready_at = next((i for i, line in enumerate(lines) if _WAIT_MARKER in line and ready in line), None)
    if ready_at is None:
        raise VerificationError(f"the apply did not wait for {function_name}:{LIVE_ALIAS}'s provisioned concurrency")
    hook_at = next((i for i, line in enumerate(lines) if _CODE_HOOK_START in line), None)
    if hook_at is not None and hook_at < ready_at:
        raise VerificationError(
            f"the Lex code hook started moving before {function_name}:{LIVE_ALIAS}'s provisioned concurrency was READY"
        )


VALIDATE_PY = Path(__file__).resolve().parents[1] / "validate.py"


def run_validate(
    settings: LocalRunSettings, stack: LocalStack, outputs: Mapping[str, Any], conversations: int = 1
) -> None:
    """Run ``validate.py`` against the local stack, as a user runs it after an apply, with its output shown.

    The outputs go to a file (``--outputs``), the calls to moto (``--endpoint-url``) with moto's credentials;
    the local Lambda and Lex runtimes serve the smoke invocations and the conversation.

    Raises:
        LocalRunError: validate.py exited non-zero (its table above says which check failed).
    """
    outputs_path = settings.work_dir / "outputs.json"
    outputs_path.write_text(json.dumps(dict(outputs), indent=2), encoding="utf-8")
    env = {**os.environ, **terraform_environment(settings)}
    command = [
        settings.python,
        str(VALIDATE_PY),
        "--outputs",
        str(outputs_path),
        "--endpoint-url",
        stack.moto.endpoint_url,
        "--region",
        settings.region,
        "--since",
        "15",
        "--conversations",
        str(conversations),
    ]
    done = subprocess.run(command, env=env, check=False)
    if done.returncode != 0:
        raise LocalRunError(f"validate.py failed (exit {done.returncode}) against the local stack; see its table above")


def _human_size(size_bytes: int) -> str:
    """Decimal megabytes or kilobytes, as build.py prints them, so the two outputs agree."""
    if size_bytes >= 1_000_000:
        return f"{size_bytes / 1_000_000:.2f} MB"
    return f"{size_bytes / 1000:.1f} kB"


def format_summary(manifest: Mapping[str, Any], outputs: Mapping[str, Any]) -> str:
    """The summary table: one row per function (published version, alias -> version, zip size, base64 SHA-256),
    then the Lex code hook ARN, state machine ARN and dashboard name."""
    header = ("function", "published", "alias", "zip size", "sha256 (base64)")
    rows = [header]
    for key in FUNCTION_NAMES:
        entry = manifest["functions"][key]
        rows.append(
            (
                outputs["lambda_function_names"][key],
                str(outputs["lambda_published_versions"][key]),
                f"{LIVE_ALIAS} -> {outputs['lambda_alias_versions'][key]}",
                _human_size(int(entry["size_bytes"])),
                entry["source_code_hash"],
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += [
        "",
        f"Lex code hook:  {outputs.get('lex_code_hook_lambda_arn')}",
        f"State machine:  {outputs.get('state_machine_arn')}",
        f"Dashboard:      {outputs.get('dashboard_name')}",
    ]
    return "\n".join(lines)


def _wait_for_interrupt(moto: MotoServer, note: str) -> None:
    print(
        f"moto stays up on {moto.endpoint_url} ({note}); e.g. "
        f"`AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url {moto.endpoint_url} "
        "lambda list-functions`. Ctrl-C stops it.",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping moto", flush=True)


def run(settings: LocalRunSettings) -> None:
    """Stages 1 to 6 of the module docstring. Raises LocalRunError on any failure.

    With ``settings.keep_running`` moto stays up after the checks, or after a failure, until Ctrl-C.
    """
    manifest = read_manifest(settings.manifest_path)
    with local_stack(settings) as stack:
        try:
            started = time.monotonic()
            _step("terraform apply examples/local")
            applied = stack.apply()
            for line in deploy_waits(applied.stdout):
                print(f"    {line}", flush=True)
            _step(f"applied in {time.monotonic() - started:.0f} s; second terraform plan (must show no changes)")
            stack.require_no_changes()
            outputs = stack.outputs()
            _step("checking Lambda aliases, code, provisioned concurrency and the Lex bot alias code hook in moto")
            check_ready_before_code_hook(applied.stdout, outputs["lambda_function_names"][LEX_FUNCTION])
            verify_stack(stack, manifest, outputs)
            _step("python validate.py against the local stack (configuration, smoke, a conversation, metrics)")
            run_validate(settings, stack, outputs)
        except LocalRunError as exc:
            if settings.keep_running:
                print(f"\nlocal run FAILED: {exc}", file=sys.stderr, flush=True)
                _wait_for_interrupt(stack.moto, f"kept after the failure; state: {settings.state_path}")
            raise
        print()
        print(format_summary(manifest, outputs))
        print()
        print(f"OK: applied, second plan empty, checks passed. Logs: {settings.work_dir}", flush=True)
        if settings.keep_running:
            _wait_for_interrupt(stack.moto, f"state: {settings.state_path}")
    _step("moto stopped")


def run_fixtures_only(settings: LocalRunSettings) -> None:
    """Start moto and create the Lex V2 bot and alias, print the variables examples/local needs, and wait for
    Ctrl-C; for applying examples/local by hand. Raises LocalRunError when moto or the fixture fails."""
    with local_stack(settings, init=False) as stack:
        print("\n# terraform.tfvars for examples/local")
        for name in ("endpoint_url", "lex_bot_id", "lex_bot_alias_id", "lex_code_hook_python"):
            print(f"{name} = {json.dumps(stack.variables()[name])}")
        print(flush=True)
        _wait_for_interrupt(stack.moto, "Lex V2 bot and alias created")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the process exit code (see the module docstring)."""
    settings = settings_from_args(argv)
    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so moto is stopped rather than orphaned.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if settings.fixtures_only:
            run_fixtures_only(settings)
        else:
            run(settings)
    except ManifestError as exc:
        print(f"local run: {exc}", file=sys.stderr)
        return 2
    except LocalRunError as exc:
        print(f"\nlocal run FAILED: {exc}", file=sys.stderr)
        print(f"logs: moto {settings.moto_log}, terraform {settings.terraform_log}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nlocal run interrupted; moto stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
