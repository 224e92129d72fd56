"""Locks that let several build.py processes share one dist/ and one .cache/, and the cleanup they allow.

* ``DistLock``: an exclusive ``flock`` on ``dist/.lambda_build.lock`` held for a whole build, so two
  builds into one dist/ (``--function A`` and ``--function B`` at once) run one after the other and
  neither loses the other's manifest entry; the second waits, and is told whom it waits for.
* ``CacheLock``: a shared ``flock`` on ``.cache/.lambda_build.lock`` held by every build. A build that
  can briefly take it exclusively is the only one using the cache, so it removes the ``.tmp-*``
  folders that killed builds left behind (an installed tree is tens of MB); otherwise it leaves them.

``flock`` locks go away with the process, so a crashed build never leaves a stale lock behind. The lock
files themselves stay (deleting a lock file races with processes about to lock it). Linux and macOS only.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from lambda_build.errors import BuildError

LOCK_FILE = ".lambda_build.lock"
# Folders of the cache whose ``.tmp-*`` children are in-progress work (deps.prepare_dependencies,
# deps.fetch_wheels, importcheck.ensure_runtime_site).
CACHE_WORK_FOLDERS = ("deps", "wheels", "runtime-python")
TEMP_FOLDER_PREFIX = ".tmp-"


def refuse_file(path: Path, option: str) -> None:
    """Raise ``BuildError`` when ``path`` exists but is not a folder (a mistyped ``--dist``)."""
    if path.exists() and not path.is_dir():
        raise BuildError(
            f"{option} {path} is a file, not a folder",
            hint=f"pass a folder for {option} (it is created if missing), or move the file away",
        )


def ensure_folder(path: Path, option: str) -> None:
    """Create ``path`` if needed; a clear error when it is a file or cannot be created.

    Args:
        path: the folder.
        option: the command-line option that sets it (``--dist``), for the message.

    Raises:
        BuildError: ``path`` exists and is not a folder, or cannot be created.
    """
    refuse_file(path, option)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(
            f"cannot create the {option} folder {path}: {exc.strerror or exc}",
            hint=f"pass a writable folder for {option}",
        ) from exc


class DistLock:
    """Exclusive lock on a dist/ folder for the duration of a ``with`` block.

    Args:
        dist_dir: the folder (created if missing).
        on_wait: called once with a message when another process holds the lock and this one waits.
    """

    def __init__(self, dist_dir: Path, on_wait: Callable[[str], None] | None = None) -> None:
        self.dist_dir = dist_dir
        self.on_wait = on_wait
        self._fd: int | None = None

    def __enter__(self) -> DistLock:
        ensure_folder(self.dist_dir, "--dist")
        path = self.dist_dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                if self.on_wait is not None:
                    self.on_wait(
                        f"another build.py (pid {holder}) is building into {self.dist_dir}; waiting for it to finish"
                    )
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None


class CacheLock:
    """Shared lock on a cache folder; on entry, removes stale temp folders if no other build holds it.

    Attributes:
        removed: the temp folders removed on entry.
    """

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.removed: list[Path] = []
        self._fd: int | None = None

    def __enter__(self) -> CacheLock:
        ensure_folder(self.cache_dir, "--cache-dir")
        fd = os.open(self.cache_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another build is using the cache: its temp folders may be live
            else:
                self.removed = remove_stale_temp_folders(self.cache_dir)
            fcntl.flock(fd, fcntl.LOCK_SH)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def remove_stale_temp_folders(cache_dir: Path) -> list[Path]:
    """Delete ``.tmp-*`` under the cache's work folders; call only while no other build runs."""
    removed: list[Path] = []
    for folder in CACHE_WORK_FOLDERS:
        parent = cache_dir / folder
        if not parent.is_dir():
            continue
        for leftover in sorted(parent.glob(f"{TEMP_FOLDER_PREFIX}*")):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed
