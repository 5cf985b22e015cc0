"""Keep freed memory in the process: the network's large activations are reused, not faulted in anew.

A batch of 27 tiles makes activations of 20-80 MB. glibc serves blocks that large with ``mmap`` and
returns them to the kernel on ``free``, so every frame faults the same pages back in and the kernel
zeroes them: about a quarter of the detector's CPU time on a high view (docs/BENCHMARKS.md). Raising
glibc's mmap and trim thresholds (``mallopt(3)``) keeps those blocks in the heap, where the next
frame reuses them. The process then holds its peak memory instead of returning it between frames,
which is what a detector running frame after frame needs anyway.

The setting is process-wide and made once; on a C library without ``mallopt`` (musl, macOS) nothing
changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

LOG = logging.getLogger(__name__)

# mallopt(3) parameters (glibc <malloc.h>).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks below the mmap threshold come from the heap and stay there when freed. Older glibc refuses
# thresholds above 32 MiB (half its arena size); then the 32 MiB limit still keeps most activations.
HEAP_BLOCK_LIMITS_BYTES = (1 << 30, 32 << 20)


@functools.cache
def keep_freed_memory() -> bool:
    """Make glibc keep large freed blocks for reuse (once per process); True if it took effect."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    for limit in HEAP_BLOCK_LIMITS_BYTES:
        if mallopt(_M_MMAP_THRESHOLD, limit) and mallopt(_M_TRIM_THRESHOLD, limit):
            return True
    LOG.info("mallopt refused the heap thresholds; large blocks stay mmap-backed")
    return False
