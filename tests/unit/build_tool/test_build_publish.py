"""Publishing zips with the manifest: consistency at every instant, interrupts, unexpected errors, locks."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_build import Builder, BuildError, BuildInterrupted, BuildPaths
from lambda_build.errors import ExcludeError, PipError
from lambda_build.hashing import filebase64sha256
from lambda_build.manifest import read_manifest
from lambda_build.pip import PipRequest
from lambda_build.testing import FakeDistribution, FakePipRunner
from lambda_build.workspace import CacheLock, DistLock

MakeRepo = Callable[..., BuildPaths]
BuilderFor = Callable[..., Builder]
HANDLER = "def lambda_handler(event, context):\n    return {}\n"


def inconsistencies(paths: BuildPaths) -> list[str]:
    """Manifest entries whose zip is missing or has other bytes (a zip without an entry is fine)."""
    problems = []
    for name, entry in read_manifest(paths.manifest).items():
        zip_path = paths.dist_dir / entry.zip_path
        if not zip_path.is_file():
            problems.append(f"{name}: zip missing")
        elif filebase64sha256(zip_path) != entry.source_code_hash:
            problems.append(f"{name}: zip and manifest entry disagree")
    return problems


def snapshot(paths: BuildPaths) -> dict[str, bytes]:
    """Every file in dist/ (but the lock) and its bytes."""
    return {p.name: p.read_bytes() for p in paths.dist_dir.iterdir() if p.name != ".lambda_build.lock"}


def _change_sources(paths: BuildPaths, *names: str) -> None:
    for name in names:
        with (paths.src_dir / name / "lambda_function.py").open("a") as handler:
            handler.write("# changed\n")


class InterruptingPip(FakePipRunner):
    """Presses Ctrl-C (SIGINT to this process) while "installing", then waits to be terminated."""

    def __init__(self, distributions: list[FakeDistribution], sig: int = signal.SIGINT) -> None:
        super().__init__(distributions)
        self.sig = sig
        self.terminated = threading.Event()

    def install(self, request: PipRequest) -> None:
        self.requests.append(("install", request))
        os.kill(os.getpid(), self.sig)
        self.terminated.wait(timeout=60)
        raise PipError("pip install stopped by a signal", function=request.function)

    def terminate(self) -> None:
        self.terminated.set()


@pytest.fixture
def interruptible() -> None:
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("this test runner handles SIGINT itself")


def test_every_state_on_disk_during_a_build_is_consistent(
    make_repo: MakeRepo, builder_for: BuilderFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = make_repo()
    builder_for(paths).build()
    old_entries = read_manifest(paths.manifest)
    _change_sources(paths, "FnA", "FnB")
    seen: list[list[str]] = []
    absent: list[str] = []
    real_replace = os.replace

    def observed_replace(source: str | Path, dest: str | Path) -> None:
        # Every rename is a moment a crash could freeze: a zip moved into place or a manifest written.
        real_replace(source, dest)
        seen.append(inconsistencies(paths))
        absent.extend(name for name in ("FnA", "FnB") if name not in read_manifest(paths.manifest))

    monkeypatch.setattr(os, "replace", observed_replace)
    report = builder_for(paths).build()
    assert report.ok and [r.status for r in report.results] == ["built", "built"]
    assert len(seen) == 6  # per function: manifest without its entry, the zip, the manifest with the new entry
    assert seen == [[]] * 6
    assert sorted(set(absent)) == ["FnA", "FnB"]  # each entry was briefly absent, never wrong
    new_entries = read_manifest(paths.manifest)
    assert all(new_entries[name] != old_entries[name] for name in ("FnA", "FnB"))
    assert inconsistencies(paths) == []


def test_an_unchanged_entry_is_never_dropped(
    make_repo: MakeRepo, builder_for: BuilderFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = make_repo()
    builder_for(paths).build()
    (paths.dist_dir / "FnB.zip").unlink()  # rebuilt with the same bytes: the entry stays valid throughout
    manifests: list[str] = []
    real_replace = os.replace

    def observed_replace(source: str | Path, dest: str | Path) -> None:
        real_replace(source, dest)
        manifests.append(paths.manifest.read_text())

    monkeypatch.setattr(os, "replace", observed_replace)
    report = builder_for(paths).build()
    assert {r.name: r.status for r in report.results} == {"FnA": "reused", "FnB": "built"}
    assert len(manifests) == 1 and report.manifest_written is False


def test_ctrl_c_stops_pip_and_pending_work_and_publishes_nothing_after_it(
    make_repo: MakeRepo,
    builder_for: BuilderFor,
    fake_dists: list[FakeDistribution],
    source_files: dict[str, str | bytes],
    interruptible: None,
) -> None:
    files = {
        **source_files,
        "FnC/lambda_function.py": HANDLER,
        "FnC/requirements.txt": "six==1.17.0\n",
        "FnD/lambda_function.py": HANDLER,
    }
    paths = make_repo(files=files)
    builder_for(paths).build("FnD")
    builder_for(paths).build("FnA")
    builder_for(paths).build("FnB")
    _change_sources(paths, "FnA", "FnB", "FnC", "FnD")
    before = snapshot(paths)
    pip = InterruptingPip(fake_dists)
    published: list[str] = []
    builder = Builder(paths, pip_runner=pip, jobs=1, on_result=lambda r: published.append(r.name))
    with pytest.raises(BuildInterrupted) as caught:
        builder.build()
    # Sequential order: FnA and FnB (installed tree cached: no pip) publish, FnC's pip is interrupted,
    # FnD never starts.
    assert caught.value.published == ["FnA", "FnB"] == published
    assert pip.terminated.is_set()
    assert [request.function for request in pip.actions("install")] == ["FnC"]
    after = snapshot(paths)
    assert sorted(after) == sorted(before)  # no temp file, no new file
    assert after["FnD.zip"] == before["FnD.zip"] and after["FnA.zip"] != before["FnA.zip"]
    entries = read_manifest(paths.manifest)
    assert sorted(entries) == ["FnA", "FnB", "FnD"]  # FnC was never built; FnD keeps its old entry
    assert inconsistencies(paths) == []
    assert [p.name for p in (paths.cache_dir / "deps").iterdir() if p.name.startswith(".tmp")] == []
    assert {s.function for s in builder_for(paths).check()} == {"FnC", "FnD"}


def test_a_zip_finished_after_ctrl_c_is_not_published(
    make_repo: MakeRepo, builder_for: BuilderFor, fake_dists: list[FakeDistribution], interruptible: None
) -> None:
    paths = make_repo()
    builder_for(paths).build()
    (paths.src_dir / "FnA" / "requirements.txt").write_text("tinylib==1.0.0\ndepone==1.2.0\nsix==1.17.0\n")
    _change_sources(paths, "FnB")
    before = snapshot(paths)
    pip = InterruptingPip(fake_dists)
    calls: dict[threading.Thread, int] = {}

    def clock() -> float:
        # Called when a function starts and once its zip is staged: hold FnB's finished zip until
        # FnA's pip has been stopped by the interrupt.
        thread = threading.current_thread()
        calls[thread] = calls.get(thread, 0) + 1
        if calls[thread] == 2:
            pip.terminated.wait(timeout=60)
        return 0.0

    with pytest.raises(BuildInterrupted) as caught:
        Builder(paths, pip_runner=pip, clock=clock, jobs=2).build()
    assert caught.value.published == []
    assert snapshot(paths) == before


def test_an_unexpected_exception_in_one_function_is_a_build_error_naming_it(
    make_repo: MakeRepo, builder_for: BuilderFor, fake_dists: list[FakeDistribution]
) -> None:
    paths = make_repo()
    builder_for(paths).build()
    (paths.src_dir / "FnA" / "requirements.txt").write_text("tinylib==1.0.0\ndepone==1.2.0\nsix==1.17.0\n")
    _change_sources(paths, "FnB")
    before = snapshot(paths)
    old_entries = read_manifest(paths.manifest)

    class BrokenPip(FakePipRunner):
        def install(self, request: PipRequest) -> None:
            raise RuntimeError("something nobody expected")

    report = builder_for(paths, BrokenPip(fake_dists)).build()
    assert [r.name for r in report.results] == ["FnB"]
    [error] = report.errors
    assert type(error) is BuildError and error.function == "FnA"
    assert str(error).startswith("FnA: unexpected RuntimeError at test_build_publish.py:")
    assert ": something nobody expected\n  -> its previous zip and manifest entry were kept" in str(error)
    entries = read_manifest(paths.manifest)
    assert entries["FnA"] == old_entries["FnA"] and (paths.dist_dir / "FnA.zip").read_bytes() == before["FnA.zip"]
    assert entries["FnB"] != old_entries["FnB"]
    assert inconsistencies(paths) == []


def test_an_exclude_removing_a_pinned_package_fails_that_function(make_repo: MakeRepo, builder_for: BuilderFor) -> None:
    paths = make_repo()
    builder_for(paths).build()
    before = snapshot(paths)
    (paths.src_dir / "build.toml").write_text('[functions.FnA]\nexclude = ["tinylib/data", "depone.py"]\n')
    report = builder_for(paths).build()
    [error] = report.errors
    assert isinstance(error, ExcludeError)
    assert "exclude glob 'depone.py' removes the whole top-level package depone of depone 1.2.0" in str(error)
    assert snapshot(paths) == before


def test_a_second_build_into_the_same_dist_waits_and_both_entries_survive(
    make_repo: MakeRepo, builder_for: BuilderFor, fake_dists: list[FakeDistribution]
) -> None:
    paths = make_repo()
    builder_for(paths).build()
    old_entries = read_manifest(paths.manifest)
    (paths.src_dir / "FnA" / "requirements.txt").write_text("tinylib==1.0.0\ndepone==1.2.0\nsix==1.17.0\n")
    _change_sources(paths, "FnB")
    entered, release = threading.Event(), threading.Event()

    class PausingPip(FakePipRunner):
        def install(self, request: PipRequest) -> None:
            entered.set()
            release.wait(timeout=30)
            super().install(request)

    first_reports = []
    first = threading.Thread(
        target=lambda: first_reports.append(builder_for(paths, PausingPip(fake_dists)).build("FnA"))
    )
    first.start()
    assert entered.wait(timeout=30)
    waits: list[str] = []

    def on_wait(message: str) -> None:
        waits.append(message)
        release.set()  # let the first build finish only once this one is waiting for it

    second = Builder(paths, pip_runner=FakePipRunner(fake_dists), jobs=1, on_wait=on_wait).build("FnB")
    first.join()
    assert waits == [
        f"another build.py (pid {os.getpid()}) is building into {paths.dist_dir}; waiting for it to finish"
    ]
    assert first_reports[0].ok and second.ok
    entries = read_manifest(paths.manifest)
    assert entries["FnA"] != old_entries["FnA"] and entries["FnB"] != old_entries["FnB"]
    assert inconsistencies(paths) == []


def test_stale_cache_temp_folders_are_removed_only_when_no_other_build_uses_the_cache(
    make_repo: MakeRepo, builder_for: BuilderFor
) -> None:
    paths = make_repo()
    leftovers = [paths.cache_dir / folder / ".tmp-killed" for folder in ("deps", "wheels", "runtime-python")]
    keep = paths.cache_dir / "deps" / "not-temp"
    with CacheLock(paths.cache_dir):  # another build, with another dist/, is using the cache...
        for leftover in leftovers:  # ...and these may be its work in progress
            (leftover / "site").mkdir(parents=True)
            (leftover / "site" / "big.so").write_bytes(b"\0" * 1024)
        keep.mkdir()
        report = builder_for(paths).build()
    assert report.ok and all(leftover.exists() for leftover in leftovers)
    report = builder_for(paths).build()
    assert not any(leftover.exists() for leftover in leftovers) and keep.exists()
    assert report.notes == [f"removed 3 unfinished temp folder(s) an interrupted build left in {paths.cache_dir}"]


@pytest.mark.parametrize("action", ["build", "check"])
def test_a_dist_that_is_a_file_is_a_clear_error(make_repo: MakeRepo, fake_pip: FakePipRunner, action: str) -> None:
    paths = make_repo()
    paths.dist_dir.write_text("not a folder")
    builder = Builder(paths, pip_runner=fake_pip)
    with pytest.raises(BuildError) as caught:
        getattr(builder, action)()
    assert str(caught.value) == (
        f"--dist {paths.dist_dir} is a file, not a folder\n"
        "  -> pass a folder for --dist (it is created if missing), or move the file away"
    )
    assert paths.dist_dir.read_text() == "not a folder"


def test_dist_lock_is_exclusive_between_holders(tmp_path: Path) -> None:
    waiting, acquired = threading.Event(), threading.Event()
    with DistLock(tmp_path / "dist"):
        thread = threading.Thread(
            target=lambda: _hold(DistLock(tmp_path / "dist", on_wait=lambda _: waiting.set()), acquired)
        )
        thread.start()
        assert waiting.wait(timeout=30)
        assert not acquired.is_set()
    thread.join()
    assert acquired.is_set()


def _hold(lock: DistLock, acquired: threading.Event) -> None:
    with lock:
        acquired.set()


def test_import_names_are_the_pinned_packages(make_repo: MakeRepo, builder_for: BuilderFor) -> None:
    paths = make_repo()
    builder = builder_for(paths)
    builder.build()
    assert builder.import_names("FnA") == {"depone": "depone==1.2.0", "tinylib": "tinylib==1.0.0"}
    assert builder.import_names("FnB") == {}
