"""Keeping freed memory: a large freed block stays in the process for the next frame to reuse."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Allocate and touch a 64 MiB block, free it, and print how much of it the process still holds (MiB).
PROGRAM = """
import os, sys
import numpy as np
from detector.allocator import keep_freed_memory

def resident_mib():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

if sys.argv[1] == "keep":
    assert keep_freed_memory()
before = resident_mib()
block = np.ones(8 << 20)
del block
print(round(resident_mib() - before))
"""


def held_after_free_mib(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True, cwd=ROOT)
    return int(done.stdout.strip())


def test_a_freed_large_block_stays_in_the_process() -> None:
    # glibc as it comes unmaps a 64 MiB block on free (the next frame faults it in again, zeroed).
    assert held_after_free_mib("default") < 8
    assert held_after_free_mib("keep") > 56


def test_keeping_is_idempotent() -> None:
    from detector.allocator import keep_freed_memory

    assert keep_freed_memory() is keep_freed_memory()
