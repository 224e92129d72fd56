"""A moto server process on 127.0.0.1: started on a free port, waited for, and always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from local_aws.errors import EmulatorError

LAUNCHER = Path(__file__).with_name("moto_launcher.py")


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def log_cause(log_path: Path, max_chars: int = 300) -> str:
    """Why moto stopped, from the end of its log, for the one-line failure message.

    The last two top-level lines of the log (traceback frames, which are indented, and the "Traceback" header
    left out), joined by a space and cut to ``max_chars``; e.g. for a port conflict, werkzeug's "Address already
    in use" and "Port 5000 is in use by another program. Either identify and stop that program, or start the
    server with a different port."; for a crash, the exception line. Empty when the log is missing or empty.
    """
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    top_level = [
        line.strip()
        for line in lines[-20:]
        if line.strip() and not line[:1].isspace() and not line.startswith("Traceback (most recent call last)")
    ]
    cause = " ".join(top_level[-2:])
    return cause if len(cause) <= max_chars else cause[: max_chars - 3] + "..."


class MotoServer:
    """moto in server mode (via moto_launcher.py) as a context manager.

    ``with MotoServer(python, log_path) as moto: moto.endpoint_url`` starts the server, waits until it answers
    ``GET /moto-api/data.json``, and stops it on exit, including on an exception or Ctrl-C. Output goes to ``log_path``, never to the terminal.

    Args:
        python: interpreter with moto[server] installed (the dev virtualenv's).
        log_path: file that receives moto's stdout and stderr (created with its folder; truncated).
        host: address to bind; 127.0.0.1 keeps the emulator off the network.
        port: TCP port; None picks a free one.
        startup_timeout_s: seconds to wait for the first answer before giving up.

    Raises:
        EmulatorError: the process exits early or does not answer in time; the message names the log file.
    """

    def __init__(
        self,
        python: str,
        log_path: Path,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout_s: float = 30.0,
    ) -> None:
        self.python = python
        self.log_path = log_path
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        """Base URL every AWS client and the Terraform provider use, e.g. ``http://127.0.0.1:5123``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Start moto and block until it answers HTTP; see the class docstring for errors."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        # The local Lambda runtime (lambda_invoke.py) unpacks zips and keeps environment logs beside moto's log.
        env = {**os.environ, "MOTO_PORT": str(self.port), "LOCAL_AWS_WORK_DIR": str(self.log_path.parent / "lambda")}
        # A process group of its own, so stopping it also stops werkzeug's threads and nothing else of ours.
        self._process = subprocess.Popen(
            [self.python, str(LAUNCHER), "-H", self.host, "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                cause = log_cause(self.log_path)
                raise EmulatorError(
                    f"moto server exited with code {self._process.returncode} while starting on port {self.port}"
                    f"{': ' + cause if cause else ''}; see {self.log_path}"
                )
            if self.is_answering():
                return
            time.sleep(0.1)
        self.stop()
        raise EmulatorError(
            f"moto server did not answer on {self.endpoint_url} within {self.startup_timeout_s:.0f} s; see {self.log_path}"
        )

    def is_answering(self) -> bool:
        """True when moto's own API answers on the endpoint."""
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/data.json", timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout_s`` seconds). Safe to call twice."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
