"""``crowdmap demo`` started as a user starts it, for end-to-end tests: a real process on a free port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.harness.localredis import free_port

ROOT = Path(__file__).resolve().parents[2]
CROWDMAP = Path(sys.executable).parent / "crowdmap"


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def public_frames(base: str, station: str, *, enough: Callable[[list[dict]], bool], timeout_s: float) -> list[dict]:
    """Join ``station`` on ``/public`` as a page does (websocket) and keep its crowding frames.

    Returns every frame received, once ``enough(frames)`` holds or ``timeout_s`` has passed.
    """
    import socketio

    received: list[dict] = []
    client = socketio.Client(reconnection=False)
    client.on("crowding", received.append, namespace="/public")
    client.connect(base, namespaces=["/public"], transports=["websocket"], wait_timeout=10)
    try:
        client.emit("join", {"station": station}, namespace="/public")
        deadline = time.monotonic() + timeout_s
        while not enough(received) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        client.disconnect()
    return received


class RunningDemo:
    """A running ``crowdmap demo``: its output lines, and answers of an API path once a second if asked."""

    def __init__(self, process: subprocess.Popen, base: str) -> None:
        self.process = process
        self.base = base
        self.lines: list[str] = []
        self.timeline: list[dict] = []
        self.url_seen = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if "public map at" in line:
                self.url_seen.set()

    def record(self, path: str) -> None:
        """Poll ``path`` (e.g. a station's crowding API) once a second into ``timeline`` until the demo exits."""

        def poll() -> None:
            while self.process.poll() is None:
                try:
                    self.timeline.append(get_json(f"{self.base}{path}"))
                except OSError:
                    pass
                time.sleep(1.0)

        threading.Thread(target=poll, daemon=True).start()


@contextmanager
def run_demo(
    arguments: list[str], *, data_dir: Path, start_timeout_s: float, env: Mapping[str, str] | None = None
) -> Iterator[RunningDemo]:
    """``crowdmap demo ARGUMENTS`` on a free port, yielded once it prints its URL; stopped with SIGINT after.

    Raises:
        TimeoutError: no URL within ``start_timeout_s``, with everything the demo printed.
    """
    port = free_port()
    process = subprocess.Popen(
        [str(CROWDMAP), "demo", *arguments, "--port", str(port), "--data-dir", str(data_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**(os.environ if env is None else env), "CROWDMAP_COOKIE_SECURE": "0", "PYTHONUNBUFFERED": "1"},
    )
    running = RunningDemo(process, f"http://127.0.0.1:{port}")
    try:
        if not running.url_seen.wait(start_timeout_s):
            raise TimeoutError(f"no URL within {start_timeout_s} s:\n{''.join(running.lines)}")
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        print("".join(running.lines))
