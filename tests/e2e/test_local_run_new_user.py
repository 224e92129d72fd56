"""What a new user meets running scripts/local_run.py directly (issue 6, section 6), without real terraform.

- Run directly, with no TF_PLUGIN_DIR, the script finds the provider mirror as the Makefile does
  (scripts/tf-plugin-dir) and passes it to `terraform init -plugin-dir`.
- A moto that cannot start says why on the failure line (e.g. "Address already in use"), not only its exit code.
- terraform's output is shown as it runs, condensed to a line per finished resource.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e_support import REPO_ROOT, local_run
from local_aws.emulator import MotoServer, log_cause
from local_aws.errors import EmulatorError
from local_aws.terraform_cli import TerraformProgress, TerraformRunner

SCRIPT = REPO_ROOT / "scripts" / "local_run.py"

# `terraform apply -no-color` of two resources, as Terraform 1.11 prints it (TF_IN_AUTOMATION=1).
APPLY_OUTPUT = """\

Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  + create

Terraform will perform the following actions:

  # terraform_data.fast will be created
  + resource "terraform_data" "fast" {
      + id     = (known after apply)
    }

Plan: 2 to add, 0 to change, 0 to destroy.
terraform_data.slow: Creating...
terraform_data.slow: Provisioning with 'local-exec'...
terraform_data.slow (local-exec): Executing: ["/bin/sh" "-c" "sleep 11; echo done"]
terraform_data.fast: Creating...
terraform_data.fast: Creation complete after 0s [id=a31a037d-5244-268c-d8ab-c2014f9d24bb]
terraform_data.slow: Still creating... [10s elapsed]
terraform_data.slow (local-exec): done
terraform_data.slow: Creation complete after 11s [id=f61354bf-d6f9-11e2-3597-7b1a83854e27]

Apply complete! Resources: 2 added, 0 changed, 0 destroyed.
"""


def write_executable(path: Path, source: str) -> Path:
    path.write_text(source)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


################################################################################
# Terraform progress
################################################################################


def test_apply_output_is_condensed_to_a_line_per_finished_resource() -> None:
    shown: list[str] = []
    progress = TerraformProgress(shown.append, indent="")

    for line in APPLY_OUTPUT.splitlines(keepends=True):
        progress(line)

    assert shown == [
        "Plan: 2 to add, 0 to change, 0 to destroy.",
        "[1/2] terraform_data.fast created (0s)",
        "... terraform_data.slow still creating (10s)",
        "[2/2] terraform_data.slow created (11s)",
        "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.",
    ]


def test_updates_replacements_and_plans_are_counted() -> None:
    shown: list[str] = []
    progress = TerraformProgress(shown.append, indent="")
    lines = [
        "Plan: 1 to add, 1 to change, 1 to destroy.",
        'module.m.aws_lambda_alias.live["A"]: Modifications complete after 1s [id=x]',
        "aws_iam_role.old: Destruction complete after 0s",
        "aws_iam_role.new: Still creating... [00m20s elapsed]",
        "aws_iam_role.new: Creation complete after 21s [id=y]",
        *[f"aws_x.r{i}: Refreshing state... [id={i}]" for i in range(12)],
        "No changes. Your infrastructure matches the configuration.",
    ]

    for line in lines:
        progress(line + "\n")

    assert shown == [
        "Plan: 1 to add, 1 to change, 1 to destroy.",
        '[1/3] module.m.aws_lambda_alias.live["A"] updated (1s)',
        "[2/3] aws_iam_role.old destroyed (0s)",
        "... aws_iam_role.new still creating (00m20s)",
        "[3/3] aws_iam_role.new created (21s)",
        "refreshed 10 resources",
        "No changes.",
    ]


def test_the_runner_streams_stdout_while_terraform_runs(tmp_path: Path) -> None:
    """The fake prints a line, then waits until the callback has seen it: that only ends if lines are streamed."""
    seen_flag = tmp_path / "seen"
    fake = write_executable(
        tmp_path / "terraform",
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import os, sys, time
            print("aws_x.a: Creation complete after 1s [id=a]", flush=True)
            deadline = time.monotonic() + 20
            while not os.path.exists({str(seen_flag)!r}):
                if time.monotonic() > deadline:
                    sys.exit(3)
                time.sleep(0.05)
            print("Apply complete! Resources: 1 added, 0 changed, 0 destroyed.", flush=True)
            """
        ),
    )
    lines: list[str] = []

    def on_output(line: str) -> None:
        lines.append(line)
        seen_flag.touch()

    runner = TerraformRunner(
        working_dir=tmp_path,
        state_path=tmp_path / "terraform.tfstate",
        data_dir=tmp_path / "tf-data",
        log_path=tmp_path / "terraform.log",
        terraform_bin=str(fake),
        on_output=on_output,
    )

    result = runner.apply({"a": 1})

    assert result.returncode == 0
    assert lines == [
        "aws_x.a: Creation complete after 1s [id=a]\n",
        "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.\n",
    ]
    assert result.stdout == "".join(lines)
    assert "Apply complete!" in (tmp_path / "terraform.log").read_text()


################################################################################
# The provider mirror
################################################################################


def test_a_set_tf_plugin_dir_wins_and_an_empty_one_means_the_registry(tmp_path: Path) -> None:
    never = write_executable(tmp_path / "finder", "#!/bin/sh\necho /should/not/run\n")

    assert local_run.find_plugin_dir({"TF_PLUGIN_DIR": "/opt/mirror"}, finder=never) == "/opt/mirror"
    assert local_run.find_plugin_dir({"TF_PLUGIN_DIR": ""}, finder=never) is None


def test_without_tf_plugin_dir_the_finder_is_asked(tmp_path: Path) -> None:
    finder = write_executable(tmp_path / "finder", '#!/bin/sh\necho "$HOME/mirror"\n')
    silent = write_executable(tmp_path / "silent", "#!/bin/sh\nexit 0\n")

    assert local_run.find_plugin_dir({"HOME": str(tmp_path)}, finder=finder) == f"{tmp_path}/mirror"
    assert local_run.find_plugin_dir({}, finder=silent) is None
    assert local_run.find_plugin_dir({}, finder=tmp_path / "missing") is None


def test_the_real_finder_sees_a_mirror_under_home(tmp_path: Path) -> None:
    """scripts/tf-plugin-dir checks /opt/tf-plugins before ~/.terraform.d/plugins; either is a mirror."""
    (tmp_path / ".terraform.d" / "plugins" / "registry.terraform.io" / "hashicorp" / "aws").mkdir(parents=True)

    found = local_run.find_plugin_dir({"HOME": str(tmp_path)})

    assert found is not None
    assert Path(found, "registry.terraform.io", "hashicorp", "aws").is_dir()


def test_the_plugin_dir_flag_overrides_the_environment() -> None:
    assert local_run.settings_from_args(["--plugin-dir", "/m"], environ={"TF_PLUGIN_DIR": "/e"}).plugin_dir == "/m"
    assert local_run.settings_from_args(["--plugin-dir", ""], environ={"TF_PLUGIN_DIR": "/e"}).plugin_dir is None


################################################################################
# moto's failure cause
################################################################################


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_a_port_conflict_names_the_cause_on_the_failure_line(tmp_path: Path, taken_port: int) -> None:
    with pytest.raises(EmulatorError) as failure, MotoServer(sys.executable, tmp_path / "moto.log", port=taken_port):
        pass

    first_line = str(failure.value).splitlines()[0]
    assert f"port {taken_port}" in first_line
    assert "in use" in first_line
    assert str(tmp_path / "moto.log") in first_line


def test_log_cause_takes_the_exception_line_of_a_traceback(tmp_path: Path) -> None:
    log = tmp_path / "moto.log"
    log.write_text(
        "Traceback (most recent call last):\n"
        '  File "/x/moto_launcher.py", line 1, in <module>\n'
        "    patch_lexv2models()\n"
        "RuntimeError: moto.lexv2models.models has no 'uuid'; moto_launcher.py needs updating\n"
    )

    assert log_cause(log) == "RuntimeError: moto.lexv2models.models has no 'uuid'; moto_launcher.py needs updating"
    assert log_cause(tmp_path / "absent.log") == ""


################################################################################
# scripts/local_run.py run directly, as examples/local/README.md shows
################################################################################


def write_manifest(folder: Path) -> Path:
    functions = {}
    for name in local_run.FUNCTION_NAMES:
        (folder / f"{name}.zip").write_bytes(b"PK")
        functions[name] = {"zip_path": f"{name}.zip", "source_code_hash": "h=", "size_bytes": 1}
    path = folder / "manifest.json"
    path.write_text(json.dumps({"schema_version": 1, "functions": functions}))
    return path


def fake_terraform(tmp_path: Path) -> Path:
    """Records argv; init succeeds; apply prints APPLY_OUTPUT line by line and fails with an error on stderr."""
    (tmp_path / "apply.txt").write_text(APPLY_OUTPUT)
    return write_executable(
        tmp_path / "terraform",
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import json, sys
            with open({str(tmp_path / "calls.jsonl")!r}, "a") as log:
                log.write(json.dumps(sys.argv[1:]) + "\\n")
            if sys.argv[1] == "apply":
                for line in open({str(tmp_path / "apply.txt")!r}):
                    print(line, end="", flush=True)
                print("Error: fake apply failure", file=sys.stderr)
                sys.exit(1)
            """
        ),
    )


def test_run_directly_it_finds_the_mirror_and_shows_terraform_progress(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TF_PLUGIN_DIR"}
    expected_mirror = subprocess.run(
        [str(REPO_ROOT / "scripts" / "tf-plugin-dir")], env=env, capture_output=True, text=True, check=False
    ).stdout.strip()
    fake = fake_terraform(tmp_path)

    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--terraform",
            str(fake),
            "--manifest",
            str(write_manifest(tmp_path)),
            "--work-dir",
            str(tmp_path / "work"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    init = next(json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines() if '"init"' in line)
    if expected_mirror:
        assert f"-plugin-dir={expected_mirror}" in init
        assert f"terraform init -plugin-dir={expected_mirror}" in result.stdout
    else:
        assert not any(a.startswith("-plugin-dir") for a in init)
    assert "    [1/2] terraform_data.fast created (0s)" in result.stdout
    assert "    ... terraform_data.slow still creating (10s)" in result.stdout
    assert "# terraform_data.fast will be created" not in result.stdout
    assert "fake apply failure" in result.stderr


def test_run_directly_a_port_conflict_says_why(tmp_path: Path, taken_port: int) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--port",
            str(taken_port),
            "--terraform",
            str(fake_terraform(tmp_path)),
            "--manifest",
            str(write_manifest(tmp_path)),
            "--work-dir",
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1
    failure = next(line for line in result.stderr.splitlines() if "local run FAILED" in line)
    assert "moto server exited with code 1" in failure
    assert "Address already in use" in failure or "is in use by another program" in failure
