"""A scale-out station on one box: ``crowdmap edge``, ``aggregate`` and ``serve`` as separate OS processes.

For the fault tests (the ``start_local_station`` fixture in ``tests/conftest.py``) and the soak
benchmark. Each process is the real command, started with the project's interpreter; its log goes
to a file in ``workdir``. Nothing here is used by the product at run time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.harness.localredis import free_port


@dataclass
class StationProcess:
    """One running ``crowdmap`` command.

    Attributes:
        name: Short name, also the log file's stem.
        argv: The command line after ``crowdmap``.
        port: Its HTTP port: the ops endpoints (edge, aggregate) or the web server (serve).
        ops_port: Where its ``/metrics`` are read: the ops endpoints (``port`` when not given; a
            web process's own ``/metrics`` show anonymous readers the public view only).
    """

    name: str
    argv: list[str]
    port: int
    log_path: Path
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None
    ops_port: int | None = None

    def start(self) -> StationProcess:
        """Start (or restart) the command; returns self."""
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "crowdmap.cli", *self.argv], stdout=log, stderr=subprocess.STDOUT, env=self.env
            )
        return self

    @property
    def pid(self) -> int:
        """The process id (the process must have been started)."""
        if self.popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.popen.pid

    def alive(self) -> bool:
        """True while the process runs."""
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process dies without any chance to clean up (a crash, an OOM kill)."""
        if self.popen is not None and self.alive():
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait(10)

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout_s``; returns the exit code."""
        if self.popen is None:
            return None
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout_s)
        return self.popen.returncode

    def log_tail(self, lines: int = 30) -> str:
        """The end of the process's log (for failure messages)."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def get(self, path: str, timeout_s: float = 5.0, port: int | None = None) -> tuple[int, bytes]:
        """GET ``http://127.0.0.1:<port><path>``: ``(status, body)``; ``(0, b"")`` when nothing answers."""
        try:
            url = f"http://127.0.0.1:{port or self.port}{path}"
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return 0, b""

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """This process's ``/metrics`` as ``{(sample name, sorted labels): value}``; empty when down."""
        status, body = self.get("/metrics", port=self.ops_port)
        if status != 200:
            return {}
        samples = {}
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples named ``name`` whose labels include ``labels`` (0 when absent)."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.metrics().items() if n == name and wanted <= set(ls))


@dataclass
class LocalStation:
    """Starts the processes of one station against one Redis.

    Args:
        station: Layout folder or bundled layout name.
        redis_url: The Redis all processes talk through.
        workdir: Folder for logs and the web tier's data (users, secret).
    """

    station: str
    redis_url: str
    workdir: Path
    processes: list[StationProcess] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            CROWDMAP_DATA_DIR=str(self.workdir / "web-data"),
            CROWDMAP_COOKIE_SECURE="0",
            CROWDMAP_LOG_FORMAT="json",
            PYTHONUNBUFFERED="1",
        )
        env.pop("CROWDMAP_REDIS_URL", None)
        return env

    def _add(self, name: str, argv: list[str], port: int) -> StationProcess:
        process = StationProcess(name, argv, port, self.workdir / f"{name}.log", self._env())
        self.processes.append(process)
        return process.start()

    def edge(self, name: str, cameras: list[str], *extra: str) -> StationProcess:
        """Start ``crowdmap edge`` for some cameras, with its ops endpoints on a free port."""
        port = free_port()
        argv = ["edge", "--station", self.station, "--cameras", ",".join(cameras), "--redis", self.redis_url,
                "--ops-port", str(port), *extra]  # fmt: skip
        return self._add(name, argv, port)

    def aggregate(self, name: str = "aggregate", *extra: str) -> StationProcess:
        """Start ``crowdmap aggregate`` with its ops endpoints on a free port."""
        port = free_port()
        argv = ["aggregate", "--station", self.station, "--redis", self.redis_url, "--ops-port", str(port), *extra]
        return self._add(name, argv, port)

    def serve(self, name: str, *extra: str) -> StationProcess:
        """Start ``crowdmap serve`` on a free port, with its ops endpoints (all metrics) on another."""
        port, ops_port = free_port(), free_port()
        process = self._add(name, ["serve", "--station", self.station, "--redis", self.redis_url, "--port", str(port),
                                   "--ops-port", str(ops_port), *extra], port)  # fmt: skip
        process.ops_port = ops_port
        return process

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL)."""
        for process in reversed(self.processes):
            process.stop()


def wait_for(condition: Callable[[], bool], *, timeout_s: float, what: str, logs: Callable[[], str] = str) -> None:
    """Poll ``condition`` until it holds.

    Raises:
        AssertionError: naming ``what`` (and showing ``logs()``) when ``timeout_s`` passes first.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up after {timeout_s:.0f} s waiting for {what}\n{logs()}")
