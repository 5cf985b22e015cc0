"""Long commands show progress to a person at a terminal, and stay quiet for scripts (issue 15)."""

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PETS = ROOT.parent / "shared" / "data" / "pets2009_s2l1"
EVAL = [
    "eval", "detect", "--video", str(PETS / "vtest.avi"), "--gt", str(PETS / "ground_truth" / "gt_full_mot_dev.txt"),
    "--frames", "1:4", "--backend", "fake", "--json",
]  # fmt: skip


def run(argv: list[str], *, stderr_is_a_terminal: bool) -> tuple[int, str, str]:
    """Run ``crowdmap argv`` with standard output a pipe and standard error a terminal (or a pipe)."""
    command = [sys.executable, "-m", "crowdmap.cli", *argv]
    if not stderr_is_a_terminal:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
        return done.returncode, done.stdout, done.stderr
    leader, follower = pty.openpty()
    # A terminal 100 columns wide, as a person's would be (a fresh pseudo-terminal has no size).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, cwd=ROOT)
    os.close(follower)
    err = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        err += chunk
    out = process.stdout.read()
    process.wait(300)
    os.close(leader)
    return process.returncode, out.decode(), err.decode(errors="replace")


def test_eval_shows_frames_done_on_a_terminal_and_keeps_stdout_pure_json() -> None:
    code, out, err = run(EVAL, stderr_is_a_terminal=True)
    assert code == 0
    assert json.loads(out)["frames"] == 4
    assert "eval detect" in err and "4/4" in err


def test_eval_is_quiet_for_a_script() -> None:
    code, out, err = run(EVAL, stderr_is_a_terminal=False)
    assert code == 0 and json.loads(out)["frames"] == 4
    assert err == ""


@pytest.mark.slow
def test_models_pull_shows_each_model(model_root: Path) -> None:
    code, out, err = run(["models", "--dir", str(model_root), "pull"], stderr_is_a_terminal=True)
    assert code == 0
    assert "models pull" in err and "2/2" in err
    assert out.count(str(model_root)) >= 2  # where each model's files are, on standard output
