"""A small adapter over python-terraform 0.10.1 that runs exactly the terraform commands the local run needs.

python-terraform (https://github.com/beelit94/python-terraform) is old, and its convenience methods build
command lines that modern Terraform (1.5+) reads differently from what its docstrings suggest. Its quirks,
and what this adapter does about each:

- ``Terraform.apply()`` sends ``-auto-approve=false`` unless ``skip_plan=True``; with ``-input=false`` an apply
  then stops at the approval prompt. The adapter calls ``cmd("apply", ..., auto_approve=IsFlagged)``.
- ``Terraform.init()`` adds ``-reconfigure -backend=true`` and the constructor's apply/plan defaults
  (``-var-file``, ``-state``, ``-target``), which init does not take. The adapter builds init's flags itself.
- ``Terraform.plan()`` always adds ``-detailed-exitcode``: exit 0 is "no changes", 2 is "changes", 1 an error.
  The adapter returns that as a ``PlanResult`` instead of treating 2 as a failure.
- A dict option becomes a temporary ``.tfvars.json`` file (deleted after the command), which is the right
  way to pass maps and objects; a list repeats the flag; True/False become ``true``/``false``;
  ``IsFlagged`` is a bare flag; None is left out; ``_`` in an option name becomes ``-``.
- ``Terraform.output()`` returns None on any error and drops stderr. The adapter runs ``output -json`` itself.
- A ``synchronous`` keyword leaks into the command line as ``-synchronous=...``; it is never used here.
- The child process gets a copy of ``os.environ`` at call time and there is no ``env`` argument, so the adapter
  sets its extra environment around each call and restores it afterwards.

Every command's output is appended to ``log_path`` (it can hold plan text; it never holds secrets, because
the local stack has none).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, Terraform

from local_aws.errors import TerraformError


@dataclass(frozen=True)
class CommandResult:
    """One terraform run: its exit code, captured stdout and stderr, and wall time in seconds."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float


@dataclass(frozen=True)
class PlanResult:
    """``terraform plan -detailed-exitcode``: ``has_changes`` is True on exit 2; ``text`` is the plan's stdout."""

    has_changes: bool
    text: str


@contextmanager
def _environment(extra: Mapping[str, str], remove: tuple[str, ...]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*extra, *remove)}
    try:
        for k in remove:
            os.environ.pop(k, None)
        os.environ.update(extra)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class TerraformRunner:
    """Runs terraform in one configuration directory with its own data directory and state file.

    Args:
        working_dir: the root configuration (e.g. examples/local).
        state_path: local state file; a separate one per run keeps runs against a fresh moto independent.
        data_dir: TF_DATA_DIR (providers and modules), kept out of the configuration directory so that the
            local run never touches what a user's own ``terraform init`` there left behind.
        log_path: file every command's output is appended to.
        plugin_dir: ``-plugin-dir`` for init (a filesystem mirror of hashicorp/aws); None uses the registry.
        terraform_bin: the terraform executable; "terraform" finds it on PATH.
        env: extra environment for terraform and the provisioners it runs (e.g. AWS_ACCESS_KEY_ID=test).
        unset_env: environment variables removed for terraform's process (e.g. AWS_PROFILE).
    """

    def __init__(
        self,
        working_dir: Path,
        state_path: Path,
        data_dir: Path,
        log_path: Path,
        plugin_dir: str | None = None,
        terraform_bin: str = "terraform",
        env: Mapping[str, str] | None = None,
        unset_env: tuple[str, ...] = (),
    ) -> None:
        self.working_dir = working_dir
        self.state_path = state_path
        self.data_dir = data_dir
        self.log_path = log_path
        self.plugin_dir = plugin_dir or None
        self.env = {"TF_DATA_DIR": str(data_dir), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", **(env or {})}
        self.unset_env = unset_env
        self._tf = Terraform(working_dir=str(working_dir), terraform_bin_path=terraform_bin)

    def run(
        self, command: str, *args: str, check: bool = True, ok_codes: tuple[int, ...] = (0,), **options: Any
    ) -> CommandResult:
        """Run ``terraform <command> [options] [args]`` through python-terraform and log it.

        ``options`` follow python-terraform's conventions (see the module docstring).

        Raises:
            TerraformError: the exit code is not in ``ok_codes`` and ``check`` is True; the message holds the
                command and the tail of stderr, ``.output`` the full stdout and stderr.
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        shown = " ".join(
            shlex.quote(p) for p in self._tf.generate_cmd_string(command, *args, **_without_dicts(options))
        )
        started = time.monotonic()
        with _environment(self.env, self.unset_env), warnings.catch_warnings():
            # python-terraform calls the deprecated Logger.warn on every non-zero exit (exit 2 included).
            warnings.filterwarnings("ignore", "The 'warn' method is deprecated", DeprecationWarning)
            try:
                code, out, err = self._tf.cmd(command, *args, capture_output=True, **options)
            except FileNotFoundError as exc:
                raise TerraformError(
                    f"terraform executable not found ({exc.filename}); install Terraform >= 1.5 and put it on PATH"
                ) from exc
        result = CommandResult(int(code), out or "", err or "", time.monotonic() - started)
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"\n$ {shown}  (in {self.working_dir}, exit {result.returncode}, {result.seconds:.1f} s)\n")
            log.write(result.stdout)
            log.write(result.stderr)
        if check and result.returncode not in ok_codes:
            stderr = _CLI_CONFIG_WARNING.sub("", result.stderr).strip()
            tail = "\n".join((stderr or result.stdout.strip()).splitlines()[-40:])
            raise TerraformError(
                f"`terraform {command}` failed with exit code {result.returncode} (full log: {self.log_path}):\n{tail}",
                output=result.stdout + result.stderr,
            )
        return result

    def init(self) -> CommandResult:
        """``terraform init -input=false -no-color [-plugin-dir=DIR]`` (local backend, no upgrade)."""
        return self.run("init", input=False, no_color=IsFlagged, plugin_dir=self.plugin_dir)

    def apply(self, variables: Mapping[str, Any]) -> CommandResult:
        """``terraform apply -auto-approve`` with ``variables`` (any JSON-able values) against this state file."""
        return self.run(
            "apply",
            input=False,
            no_color=IsFlagged,
            auto_approve=IsFlagged,
            state=str(self.state_path),
            var=dict(variables),
        )

    def plan(self, variables: Mapping[str, Any], out: Path | None = None) -> PlanResult:
        """``terraform plan -detailed-exitcode``; returns whether it has changes and its text.

        Args:
            variables: as for ``apply``.
            out: optional plan file to write, for ``show_plan``.
        """
        result = self.run(
            "plan",
            ok_codes=(0, 2),
            input=False,
            no_color=IsFlagged,
            detailed_exitcode=IsFlagged,
            state=str(self.state_path),
            out=str(out) if out else None,
            var=dict(variables),
        )
        return PlanResult(has_changes=result.returncode == 2, text=result.stdout)

    def show_plan(self, plan_file: Path) -> dict[str, Any]:
        """``terraform show -json PLAN``: the plan as Terraform's JSON output format (``resource_changes`` etc.)."""
        result = self.run("show", str(plan_file), no_color=IsFlagged, json=IsFlagged)
        return dict(json.loads(result.stdout))

    def outputs(self) -> dict[str, Any]:
        """``terraform output -json``: output name -> value (the ``value`` field of each output)."""
        result = self.run("output", no_color=IsFlagged, json=IsFlagged, state=str(self.state_path))
        return {name: o["value"] for name, o in json.loads(result.stdout or "{}").items()}


# Printed on every command when ~/.terraformrc is absent; harmless, and it would crowd out the real error.
_CLI_CONFIG_WARNING = re.compile(
    r"There are some problems with the CLI configuration:\s*╷.*?Unable to open CLI configuration file.*?╵\n?", re.S
)


def _without_dicts(options: Mapping[str, Any]) -> dict[str, Any]:
    # generate_cmd_string writes a temp file for each dict; for the logged command line a placeholder is enough.
    return {k: ("<vars.tfvars.json>" if isinstance(v, dict) else v) for k, v in options.items()}
