"""Run a lowered graph on batches: the precision is chosen once, inputs stay in channels-last memory.

Precision ``"bf16"`` keeps weights and activations in bfloat16 (8 bits of mantissa instead of 23);
on CPUs with native bfloat16 dot products (AVX512-BF16, AMX) oneDNN's convolutions then run about
twice as fast, and NanoDet's detections on the development data did not change (docs/DETECTOR.md).
On CPUs without them bfloat16 is emulated and slower than float32, so ``"auto"`` picks it only
where the CPU reports those instructions.

With ``compiled=True`` the engine also compiles the module with ``torch.compile`` (inductor, weights
frozen into the code) for each input shape it meets, in a background thread: compiling takes tens
of seconds, and the uncompiled module serves every batch until the compiled one for its shape is
ready. A compilation that fails (no C++ compiler on the box, an inductor error) is logged once and
the uncompiled module goes on serving.
"""

from __future__ import annotations

import copy
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import fx

LOG = logging.getLogger(__name__)
PRECISIONS = ("auto", "fp32", "bf16")
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
# CPU flags (Linux /proc/cpuinfo) of instructions that compute bfloat16 dot products natively.
_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@functools.cache
def native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU computes bfloat16 dot products natively (False where it cannot tell)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_BF16_FLAGS & set(line.partition(":")[2].split()))
    return False


def resolve_precision(precision: str) -> str:
    """``"auto"`` -> ``"bf16"`` on CPUs with native bfloat16, else ``"fp32"``; others unchanged.

    Raises:
        ValueError: An unknown precision.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return "bf16" if native_bf16() else "fp32"
    return precision


class GraphEngine:
    """A lowered graph, ready to run batches at one precision.

    Args:
        lowered: The module from :func:`detector.graphs.lower.lower_tfjs` (not modified).
        precision: ``"fp32"`` (same numbers as the interpreter), ``"bf16"``, or ``"auto"``.
        compiled: Compile the module for each input shape in a background thread and use the
            compiled code once it is ready (see the module docstring).
    """

    def __init__(self, lowered: fx.GraphModule, *, precision: str = "auto", compiled: bool = False) -> None:
        self.precision = resolve_precision(precision)
        self.dtype = _DTYPES[self.precision]
        module = lowered if self.dtype == torch.float32 else copy.deepcopy(lowered).to(self.dtype)
        self.module = module.eval().requires_grad_(False)
        self.compiled = compiled
        self.compile_error: str | None = None
        self._ready: dict[tuple, Callable[[torch.Tensor], dict[str, torch.Tensor]]] = {}
        self._requested: set[tuple] = set()
        self._queue: queue.Queue[tuple[tuple, torch.Tensor]] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._optimized: Callable[[torch.Tensor], dict[str, torch.Tensor]] | None = None

    def __call__(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Outputs by name, float32, for a batch ``(B, C, H, W)`` (channels-last memory is fastest)."""
        x = batch.to(self.dtype)
        key = _signature(x)
        ready = self._ready.get(key)
        if ready is None and self.compiled and self.compile_error is None and key not in self._requested:
            self._request(key, x)
        if ready is not None:
            with torch.no_grad():  # compiled code with frozen weights runs under no_grad
                out = ready(x)
        else:
            with torch.inference_mode():
                out = self.module(x)
        return {name: value.float() for name, value in out.items()}

    def compiled_shapes(self) -> list[tuple[int, ...]]:
        """Input shapes whose compiled code is in use."""
        return [key[0] for key in self._ready]

    def wait_compiled(self, timeout_s: float | None = None) -> bool:
        """Block until every requested shape is compiled (or failed); True if none is pending."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)
        return self._queue.unfinished_tasks == 0

    def _request(self, key: tuple, x: torch.Tensor) -> None:
        self._requested.add(key)
        # An example with the same shape, dtype and memory layout; the frame's pixels stay here.
        self._queue.put((key, torch.zeros_like(x)))
        if self._worker is None:
            self._worker = threading.Thread(target=self._compile_loop, name="graph-compile", daemon=True)
            self._worker.start()

    def _compile_loop(self) -> None:
        while True:
            key, example = self._queue.get()
            try:
                if self.compile_error is None:
                    self._compile(key, example)
            finally:
                self._queue.task_done()

    def _compile(self, key: tuple, example: torch.Tensor) -> None:
        try:
            if self._optimized is None:
                # One optimised wrapper; each new shape adds a specialisation (dynamic=False: static
                # shapes give oneDNN's prepacked convolutions). Freezing folds the weights in.
                self._optimized = torch.compile(self.module, dynamic=False, options={"freezing": True})
            with torch.no_grad():
                self._optimized(example)
        except Exception as error:  # any compiler failure: the uncompiled module keeps serving
            self.compile_error = f"{type(error).__name__}: {error}"
            LOG.warning("torch.compile failed, the uncompiled graph keeps serving: %s", self.compile_error)
            return
        self._ready[key] = self._optimized


def _signature(x: torch.Tensor) -> tuple:
    return (tuple(x.shape), x.dtype, x.is_contiguous(memory_format=torch.channels_last))
