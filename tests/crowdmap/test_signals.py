"""Stopping ``crowdmap demo`` the way operators and service managers do stops every process it started.

Before the fix, SIGTERM ended the parent at once and left its six edge workers, the aggregator and
the web server running (issue 11 item 7): cameras kept processing and publishing with nobody in
charge. SIGINT is what Ctrl-C sends; SIGKILL cannot be caught, so the children notice their parent
is gone and stop by themselves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.harness.localredis import free_port

pytestmark = pytest.mark.slow

CHILDREN = 8  # six simulated cameras, the aggregator, the web server
STARTUP_S = 180.0  # spawning eight interpreters on two shared cores
STOP_S = 60.0


def children_of(pid: int) -> set[int]:
    """Every live process whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["TERM", "INT", "KILL"])
def test_a_signal_to_the_demo_stops_every_child(tmp_path, signum) -> None:
    log = open(tmp_path / "demo.log", "wb")  # closed below, after the process
    demo = subprocess.Popen(
        [sys.executable, "-m", "crowdmap.cli", "demo", "--port", str(free_port()), "--data-dir", str(tmp_path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    children: set[int] = set()
    try:

        def all_started() -> bool:
            children.update(children_of(demo.pid))
            return len(children) >= CHILDREN

        assert wait_until(all_started, STARTUP_S), f"only {len(children)} children started"
        os.kill(demo.pid, signum)
        demo.wait(STOP_S)
        left = lambda: sorted(pid for pid in children if alive(pid))  # noqa: E731
        # A caught signal stops the children before the parent exits; after SIGKILL they notice
        # the parent is gone within a second and stop themselves.
        assert wait_until(lambda: not left(), 5.0 if signum != signal.SIGKILL else STOP_S), (
            f"children still running after {signal.Signals(signum).name}: {left()}\n"
            + (tmp_path / "demo.log").read_text(errors="replace")[-3000:]
        )
        if signum != signal.SIGKILL:
            assert demo.returncode == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(10)
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()
