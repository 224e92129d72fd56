"""A small adapter over python-terraform 0.10.1 that runs exactly the terraform commands the local run needs.

python-terraform (https://github.com/beelit94/python-terraform) is old, and its convenience methods build
command lines that modern Terraform (1.5+) reads differently from what its docstrings suggest. Its quirks,
and what this adapter does about each:

- ``Terraform.apply()`` sends ``-auto-approve=false`` unless ``skip_plan=True``; with ``-input=false`` an apply
  then stops at the approval prompt. The adapter builds ``apply ... auto_approve=IsFlagged`` (a bare
  ``-auto-approve``).
- ``Terraform.init()`` adds ``-reconfigure -backend=true`` and the constructor's apply/plan defaults
  (``-var-file``, ``-state``, ``-target``), which init does not take. The adapter builds init's flags itself.
- ``Terraform.plan()`` always adds ``-detailed-exitcode``: exit 0 is "no changes", 2 is "changes", 1 an error.
  The adapter returns that as a ``PlanResult`` instead of treating 2 as a failure.
- A dict option becomes a temporary ``.tfvars.json`` file (deleted after the command), which is the right
  way to pass maps and objects; a list repeats the flag; True/False become ``true``/``false``;
  ``IsFlagged`` is a bare flag; None is left out; ``_`` in an option name becomes ``-``.
- ``Terraform.output()`` returns None on any error and drops stderr. The adapter runs ``output -json`` itself.
- ``Terraform.cmd()`` either captures the output until the command ends (so a one-minute apply is silent) or
  hands the terminal the raw output; its ``synchronous=False`` way out leaks ``-synchronous=false`` into the
  command line and skips the temporary files' clean-up. It also has no ``env`` argument. So the adapter takes
  the command line from python-terraform's ``generate_cmd_string`` (its flag and var-file conventions above),
  runs it with ``subprocess.Popen`` and its own environment, streams stdout line by line to ``on_output``
  (e.g. ``TerraformProgress``, which condenses it to one line per finished resource) while capturing it, and
  deletes the temporary var files itself.

Every command's output is appended to ``log_path`` (it can hold plan text; it never holds secrets, because
the local stack has none).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
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


class TerraformProgress:
    """Condenses Terraform's human-readable output (``-no-color``) to a few progress lines; call it per line.

    Written, through ``write``, each with an indent:

    - ``Plan: N to add, M to change, K to destroy.`` and ``No changes.``, as they are;
    - one line per finished resource: ``[3/47] <address> created (2s)`` (``updated`` / ``destroyed``), counted
      against the plan's total;
    - Terraform's own ``Still creating... [10s elapsed]`` heartbeat (every 10 s per slow resource):
      ``... <address> still creating (10s)``;
    - every 10th ``Refreshing state...`` of a plan: ``refreshed 20 resources``;
    - the provider installs of init (``- Installed hashicorp/aws v5.100.0 ...``) and ``Apply complete! ...``.

    Everything else (the plan's resource diff, provisioner output, data source reads) is left out; it is all in
    the runner's log. Errors go to stderr, which is not fed here: the TerraformError message carries them.
    Line shapes: https://developer.hashicorp.com/terraform/internals/machine-readable-ui (the human-readable
    view prints the same hook messages).
    """

    _PLAN = re.compile(r"^(Plan: \d+ to add, \d+ to change, \d+ to destroy\.|No changes\.)")
    _COMPLETE = re.compile(
        r"^(?P<address>\S.*?): (?P<action>Creation|Modifications|Destruction) complete after (?P<took>\S+)"
    )
    _STILL = re.compile(
        r"^(?P<address>\S.*?): Still (?P<verb>creating|modifying|destroying)\.\.\. \[(?P<took>[^\]]+) elapsed\]"
    )
    _REFRESH = re.compile(r"^\S.*?: Refreshing state\.\.\.")
    _KEEP = re.compile(r"^(- Installed \S+|Apply complete!)")
    _DONE = {"Creation": "created", "Modifications": "updated", "Destruction": "destroyed"}

    def __init__(self, write: Callable[[str], object], indent: str = "    ") -> None:
        self.write = write
        self.indent = indent
        self.total: int | None = None
        self.finished = 0
        self.refreshed = 0

    def __call__(self, line: str) -> None:
        """Take one line of terraform's stdout (with or without its newline)."""
        line = line.rstrip("\n")
        if match := self._PLAN.match(line):
            counts = [int(n) for n in re.findall(r"\d+", match.group(0))]
            self.total = sum(counts) if counts else 0
            self.finished = 0
            self._out(match.group(0))
        elif match := self._COMPLETE.match(line):
            self.finished += 1
            of = f"/{self.total}" if self.total else ""
            done = self._DONE[match["action"]]
            self._out(f"[{self.finished}{of}] {match['address']} {done} ({match['took']})")
        elif match := self._STILL.match(line):
            self._out(f"... {match['address']} still {match['verb']} ({match['took']})")
        elif self._REFRESH.match(line):
            self.refreshed += 1
            if self.refreshed % 10 == 0:
                self._out(f"refreshed {self.refreshed} resources")
        elif self._KEEP.match(line):
            self._out(line)

    def _out(self, text: str) -> None:
        self.write(self.indent + text)


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
        on_output: called with each line of every command's stdout as it arrives (e.g. a
            ``TerraformProgress``); None prints nothing. Output is captured and logged either way.
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
        on_output: Callable[[str], object] | None = None,
    ) -> None:
        self.working_dir = working_dir
        self.state_path = state_path
        self.data_dir = data_dir
        self.log_path = log_path
        self.plugin_dir = plugin_dir or None
        self.env = {"TF_DATA_DIR": str(data_dir), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", **(env or {})}
        self.unset_env = unset_env
        self.on_output = on_output
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
        env = {k: v for k, v in os.environ.items() if k not in self.unset_env}
        env.update(self.env)
        started = time.monotonic()
        try:
            argv = self._tf.generate_cmd_string(command, *args, **options)  # writes a temp file per dict option
            code, out, err = self._stream(argv, env)
        except FileNotFoundError as exc:
            raise TerraformError(
                f"terraform executable not found ({exc.filename}); install Terraform >= 1.5 and put it on PATH"
            ) from exc
        finally:
            self._tf.temp_var_files.clean_up()
        result = CommandResult(code, out, err, time.monotonic() - started)
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

    def _stream(self, argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
        """Run ``argv`` in the working directory; feed stdout lines to ``on_output`` as they come; return
        (exit code, stdout, stderr). stderr is read on a thread so neither pipe can fill up and stall terraform."""
        with subprocess.Popen(
            argv,
            cwd=self.working_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        ) as process:
            assert process.stdout is not None and process.stderr is not None
            stderr_chunks: list[str] = []
            reader = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
            reader.start()
            stdout_lines: list[str] = []
            for line in process.stdout:
                stdout_lines.append(line)
                if self.on_output is not None:
                    self.on_output(line)
            code = process.wait()
            reader.join()
        return code, "".join(stdout_lines), "".join(stderr_chunks)

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

    def destroy(self, variables: Mapping[str, Any]) -> CommandResult:
        """``terraform apply -destroy -auto-approve`` with ``variables`` against this state file (destroy-time
        provisioners run, e.g. the Lex code hook's restore)."""
        return self.run(
            "apply",
            input=False,
            no_color=IsFlagged,
            auto_approve=IsFlagged,
            destroy=IsFlagged,
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
