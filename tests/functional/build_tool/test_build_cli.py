"""build.py end to end on a fixture repository: output lines, exit codes, --check, --function, errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_build import BuildPaths
from lambda_build.errors import PipError
from lambda_build.pip import PipRequest
from lambda_build.testing import FakeDistribution, FakePipRunner, write_files
from lambda_build.workspace import DistLock

REPO_ROOT = Path(__file__).resolve().parents[3]
RunCli = Callable[..., tuple[int, str, str]]
HANDLER = "import atlas_shared\n\n\ndef lambda_handler(event, context):\n    return {'ok': atlas_shared.VALUE}\n"
LINE = re.compile(
    r"^(?P<name>\S+) +(?P<status>built|reused) +(?P<mb>\d+\.\d\d) MB  "
    r"sha256:(?P<sha>[A-Za-z0-9+/]{43}=) +(?P<s>\d+\.\d\d) s$"
)


def _args(repo: BuildPaths, *extra: str) -> list[str]:
    return ["--root", str(repo.src_dir.parent), "--jobs", "1", *extra]


def test_one_progress_line_per_function_then_reuse(repo: BuildPaths, fake_pip: FakePipRunner, run_cli: RunCli) -> None:
    code, out, err = run_cli(_args(repo), pip_runner=fake_pip)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert [LINE.match(line)["name"] for line in lines] == ["FnA", "FnB"]  # type: ignore[index]
    assert {LINE.match(line)["status"] for line in lines} == {"built"}  # type: ignore[index]
    manifest = json.loads(repo.manifest.read_text())["functions"]
    assert LINE.match(lines[0])["sha"] == manifest["FnA"]["source_code_hash"]  # type: ignore[index]
    code, out, _ = run_cli(_args(repo), pip_runner=fake_pip)
    assert code == 0
    assert [LINE.match(line)["status"] for line in out.splitlines()] == ["reused", "reused"]  # type: ignore[index]


def test_check_exit_codes_and_reasons(repo: BuildPaths, fake_pip: FakePipRunner, run_cli: RunCli) -> None:
    code, _, err = run_cli(_args(repo, "--check"), pip_runner=fake_pip)
    assert code == 1
    assert "stale: FnA: no entry in manifest.json" in err and "stale: FnB:" in err
    assert not repo.dist_dir.exists()
    run_cli(_args(repo), pip_runner=fake_pip)
    code, out, _ = run_cli(_args(repo, "--check"), pip_runner=fake_pip)
    assert (code, out.strip()) == (0, "up to date: all functions")
    (repo.src_dir / "FnB" / "lambda_function.py").write_text("X = 2\n")
    code, _, err = run_cli(_args(repo, "--check"), pip_runner=fake_pip)
    assert code == 1
    assert "stale: FnB: inputs changed since the last build (content hash differs)" in err
    assert "FnA" not in err
    code, _, _ = run_cli(_args(repo, "--check", "--function", "FnA"), pip_runner=fake_pip)
    assert code == 0
    assert fake_pip.actions("install") and len(fake_pip.actions("install")) == 1  # --check never ran pip


def test_function_option_and_unknown_function(repo: BuildPaths, fake_pip: FakePipRunner, run_cli: RunCli) -> None:
    code, out, _ = run_cli(_args(repo, "--function", "FnB"), pip_runner=fake_pip)
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["FnB"]
    assert not (repo.dist_dir / "FnA.zip").exists()
    code, out, err = run_cli(_args(repo, "--function", "Nope"), pip_runner=fake_pip)
    assert code == 1 and out == ""
    assert err.strip() == "error: Nope: no function folder lambda_src/Nope/\n  -> choose one of: FnA, FnB"


def test_errors_name_the_function_and_what_to_do(repo: BuildPaths, fake_pip: FakePipRunner, run_cli: RunCli) -> None:
    (repo.src_dir / "FnA" / "requirements.txt").write_text("tinylib\n")
    code, out, err = run_cli(_args(repo), pip_runner=fake_pip)
    assert code == 1
    assert "FnB" in out  # the other function still builds
    assert "error: FnA: lambda_src/FnA/requirements.txt line 1: 'tinylib' is not pinned to one exact version" in err
    assert "-> pin it exactly, e.g. tinylib==<version>" in err
    assert "1 function(s) failed" in err


def test_pip_failure_shows_pips_last_lines(repo: BuildPaths, run_cli: RunCli) -> None:
    failing = FakePipRunner([], fail_with="ERROR: No matching distribution found for tinylib==1.0.0")
    code, _, err = run_cli(_args(repo), pip_runner=failing)
    assert code == 1
    assert "error: FnA: pip download failed" in err
    assert "ERROR: No matching distribution found for tinylib==1.0.0" in err


def test_wrong_architecture_in_build_toml_is_caught(repo: BuildPaths, fake_pip: FakePipRunner, run_cli: RunCli) -> None:
    (repo.src_dir / "build.toml").write_text('[functions.FnA]\narchitecture = "arm64"\n')
    code, _, err = run_cli(_args(repo), pip_runner=fake_pip)
    assert code == 1
    assert "error: FnA: shared objects not built for Lambda arm64" in err
    assert "tinylib/_c.cpython-312-x86_64-linux-gnu.so: ELF for x86_64" in err
    (repo.src_dir / "build.toml").write_text('[functions.FnA]\narchitecture = "sparc"\n')
    code, _, err = run_cli(_args(repo), pip_runner=fake_pip)
    assert code == 1 and "error: FnA: unknown architecture 'sparc'" in err


def test_missing_handler(repo: BuildPaths, fake_pip: FakePipRunner, run_cli: RunCli) -> None:
    (repo.src_dir / "FnA" / "lambda_function.py").unlink()
    code, _, err = run_cli(_args(repo), pip_runner=fake_pip)
    assert code == 1
    assert "error: FnA: lambda_src/FnA/ has requirements.txt but no lambda_function.py" in err


def test_script_entry_point_check_mode_in_a_subprocess(
    repo: BuildPaths, fake_pip: FakePipRunner, run_cli: RunCli
) -> None:
    run_cli(_args(repo), pip_runner=fake_pip)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    command = [sys.executable, str(REPO_ROOT / "build.py"), "--root", str(repo.src_dir.parent), "--check"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "up to date: all functions")
    (repo.dist_dir / "FnB.zip").unlink()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 1 and "stale: FnB: FnB.zip is missing" in done.stderr
    usage = subprocess.run([*command, "--jobs", "0"], capture_output=True, text=True, env=env, check=False)
    assert usage.returncode == 2 and "--jobs must be at least 1" in usage.stderr


def test_two_checkouts_give_identical_manifests(tmp_path: Path, fake_pip: FakePipRunner, run_cli: RunCli) -> None:
    files = {
        "atlas_shared/__init__.py": "VALUE = 1\n",
        "FnA/lambda_function.py": "def lambda_handler(e, c):\n    return 1\n",
        "FnA/requirements.txt": "tinylib==1.0.0\n",
    }
    write_files(tmp_path / "one" / "lambda_src", files, mtime=1e9)
    previous = os.umask(0o027)
    try:
        write_files(tmp_path / "two" / "x" / "lambda_src", files, order=list(reversed(files)), mtime=2e9)
        assert run_cli(["--root", str(tmp_path / "two" / "x")], pip_runner=fake_pip)[0] == 0
    finally:
        os.umask(previous)
    assert run_cli(["--root", str(tmp_path / "one")], pip_runner=fake_pip)[0] == 0
    one = (tmp_path / "one" / "dist" / "manifest.json").read_bytes()
    two = (tmp_path / "two" / "x" / "dist" / "manifest.json").read_bytes()
    assert one == two


class SignallingPip(FakePipRunner):
    """Sends this process ``sig`` while "installing" (a Ctrl-C, or CI cancelling the job), then waits to be stopped."""

    def __init__(self, distributions: list[FakeDistribution], sig: int) -> None:
        super().__init__(distributions)
        self.sig = sig
        self.terminated = threading.Event()

    def install(self, request: PipRequest) -> None:
        os.kill(os.getpid(), self.sig)
        self.terminated.wait(timeout=60)
        raise PipError("pip stopped", function=request.function)

    def terminate(self) -> None:
        self.terminated.set()


@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")])
def test_an_interrupt_exits_with_one_line_and_leaves_dist_consistent(
    repo: BuildPaths, fake_pip: FakePipRunner, run_cli: RunCli, sig: int, code: int, name: str
) -> None:
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("this test runner handles SIGINT itself")
    assert run_cli(_args(repo), pip_runner=fake_pip)[0] == 0
    before = {p.name: p.read_bytes() for p in repo.dist_dir.iterdir()}
    (repo.src_dir / "FnA" / "requirements.txt").write_text("tinylib==1.0.0  # changed\n")
    shutil.rmtree(repo.cache_dir / "deps")  # so FnA's build runs pip again
    (repo.src_dir / "FnB" / "lambda_function.py").write_text(HANDLER + "# changed\n")
    previous_term = signal.getsignal(signal.SIGTERM)
    code_seen, out, err = run_cli(_args(repo), pip_runner=SignallingPip(list(fake_pip.index.values()), sig))
    assert signal.getsignal(signal.SIGTERM) == previous_term  # main() put the handlers back
    assert code_seen == code
    assert out == ""  # FnA (first, sequential) was interrupted, FnB never started
    assert err.splitlines() == [
        f"build.py: interrupted by {name}; published before the stop: none; every zip left in dist/ matches its "
        "manifest entry or has none (run build.py again to finish)"
    ]
    assert {p.name: p.read_bytes() for p in repo.dist_dir.iterdir()} == before


def test_a_dist_that_is_a_file_is_a_one_line_error(repo: BuildPaths, fake_pip: FakePipRunner, run_cli: RunCli) -> None:
    target = repo.src_dir.parent / "dist.txt"
    target.write_text("")
    code, out, err = run_cli(_args(repo, "--dist", str(target)), pip_runner=fake_pip)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: --dist {target} is a file, not a folder\n  -> ")


def test_a_second_build_py_waits_for_the_first_and_says_so(tmp_path: Path) -> None:
    write_files(
        tmp_path / "lambda_src",
        {"atlas_shared/__init__.py": "", "FnA/lambda_function.py": HANDLER, "FnB/lambda_function.py": HANDLER},
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    command = [sys.executable, str(REPO_ROOT / "build.py"), "--root", str(tmp_path), "--function", "FnA"]
    with DistLock(tmp_path / "dist"):  # the first build, still running
        waiting = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert waiting.stderr is not None
        first_line = waiting.stderr.readline()  # blocks until the second build reports that it waits
    stdout, stderr = waiting.communicate(timeout=120)
    assert first_line == (
        f"note: another build.py (pid {os.getpid()}) is building into {tmp_path / 'dist'}; waiting for it to finish\n"
    )
    assert waiting.returncode == 0 and stderr == ""
    assert stdout.split()[:2] == ["FnA", "built"]


def test_progress_line_says_when_a_zip_ships_without_bytecode(
    repo: BuildPaths, fake_pip: FakePipRunner, run_cli: RunCli
) -> None:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    other = "python3.13" if here == "3.12" else "python3.12"
    (repo.src_dir / "build.toml").write_text(f'[functions.FnB]\nruntime = "{other}"\n')
    code, out, err = run_cli(_args(repo), pip_runner=fake_pip)
    assert (code, err) == (0, "")
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines["FnB"].endswith(f"  no bytecode (build Python {here} is not the runtime's {other[6:]})")
    if here == "3.12":
        assert LINE.match("FnA " + lines["FnA"])  # bytecode built: the line is unchanged
