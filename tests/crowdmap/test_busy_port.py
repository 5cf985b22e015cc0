"""A station whose port is taken says so in one line and exits non-zero, before announcing any URL.

Before the fix ``crowdmap demo`` printed its URL (someone else's server), then the web process's
traceback, and exited 0.
"""

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from crowdmap.embedded import port_problem
from crowdmap.webproc import listen_error

ROOT = Path(__file__).resolve().parents[2]
PETS_VIDEO = ROOT.parent / "shared" / "data" / "pets2009_s2l1" / "vtest.avi"


@pytest.fixture
def taken_port():
    """A port someone else's server listens on."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crowdmap.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_demo_on_a_busy_port_says_so_in_one_line_and_fails(taken_port: int, tmp_path) -> None:
    done = run_cli("demo", "--port", str(taken_port), "--duration", "5", "--data-dir", str(tmp_path))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == f"crowdmap: port {taken_port} is already in use\n"
    # Nothing was started, so nothing was stored either.
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not PETS_VIDEO.is_file(), reason="needs ../shared/data/pets2009_s2l1/vtest.avi")
def test_run_on_a_busy_port_says_so_in_one_line_and_fails(taken_port: int, tmp_path) -> None:
    done = run_cli(
        "run", "--station", "pets2009", "--video", str(PETS_VIDEO), "--port", str(taken_port),
        "--duration", "5", "--data-dir", str(tmp_path),
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"crowdmap: port {taken_port} is already in use\n"


def test_a_free_port_passes_the_check_and_a_taken_one_names_the_problem(taken_port: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert port_problem("127.0.0.1", free) is None
    assert port_problem("127.0.0.1", taken_port) == f"port {taken_port} is already in use"
    assert "unknown address 'no-such-host.invalid'" in port_problem("no-such-host.invalid", free)


def test_bind_errors_read_as_one_line_for_the_user() -> None:
    in_use = OSError(errno.EADDRINUSE, "Address already in use")
    denied = OSError(errno.EACCES, "Permission denied")
    assert listen_error("0.0.0.0", 8124, in_use) == "port 8124 is already in use"
    assert listen_error("0.0.0.0", 80, denied) == "cannot listen on 0.0.0.0:80: Permission denied"
