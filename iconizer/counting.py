"""Zone counts over a camera's last interval of messages, so one frame's detection noise does not show.

A camera sends its positions several times a second; the aggregator publishes once per
``frame_interval_s``. Counting only the latest message shows every missed or doubled detection of
that one instant. Instead each message is counted per zone as it arrives (one vectorised zone
query; persons by the share of their footprint inside the zone, ``iconizer.footprint``, so a
message's count may be fractional) and a step publishes the mean over the camera's messages of
the last interval, rounded to the whole persons the public schema carries.

Holds per-zone counts of one interval only (aggregates of positions, never a position, an order
or an identity; PRIVACY.md P2/P3).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

from iconizer.smoothing import window_arguments


class CountWindow:
    """Per-zone counts of one camera's messages within ``window_s`` of its newest message.

    The window is measured on the camera's own clock (message timestamps), anchored on its newest
    message: clock offsets between an edge and the aggregator do not empty it, and a camera that
    stalls keeps its last interval until the iconizer drops it as stale. A message counts while
    ``timestamp_s > newest_s - window_s``; the newest always counts, so a window of 0 (or a camera
    slower than one message per window) gives the latest message's counts.

    Args:
        size: Number of zones ``z`` on the camera's floor.
        window_s: Interval length, seconds, >= 0.
    """

    def __init__(self, size: int, window_s: float) -> None:
        self.size, self.window_s = window_arguments(size, window_s)
        self._messages: deque[tuple[float, np.ndarray]] = deque()

    def add(self, timestamp_s: float, counts: npt.ArrayLike) -> None:
        """Count one message: ``(z,)`` persons per zone at ``timestamp_s`` (camera clock, seconds).

        Raises:
            ValueError: counts of another shape, negative or not finite, or a message older than the
                newest (the iconizer ignores those before they get here).
        """
        values = np.array(counts, dtype=np.float64)
        if values.shape != (self.size,) or not np.all(np.isfinite(values) & (values >= 0)):
            raise ValueError(
                f"counts must be ({self.size},) finite non-negative persons, got {np.asarray(counts).tolist()}"
            )
        if not math.isfinite(timestamp_s):
            raise ValueError(f"timestamp_s must be finite, got {timestamp_s}")
        if self._messages and timestamp_s < self._messages[-1][0]:
            raise ValueError(f"message at {timestamp_s} is older than the newest, {self._messages[-1][0]}")
        self._messages.append((timestamp_s, values))
        oldest_kept_after_s = timestamp_s - self.window_s
        while len(self._messages) > 1 and self._messages[0][0] <= oldest_kept_after_s:
            self._messages.popleft()

    @property
    def messages(self) -> int:
        """Messages in the window (at least 1 once one was added)."""
        return len(self._messages)

    @property
    def sums(self) -> np.ndarray:
        """``(z,)`` persons per zone summed over the window's messages (a new array).

        Summed afresh from the window's few messages rather than kept as a running sum, which
        would gather rounding error over days of fractional adds and removes.
        """
        return np.sum([values for _, values in self._messages], axis=0, initial=0.0, dtype=np.float64).reshape(
            self.size
        )


# Fractional persons summed in floating point may land a hair under a half (0.3 + 0.2 ->
# 0.49999999999999994); this much is taken as the half itself. Far below any real share of a person.
_HALF_TOLERANCE = 1e-9


def rounded_mean(sums: npt.ArrayLike, messages: npt.ArrayLike) -> np.ndarray:
    """``sums / messages`` to the nearest whole person, halves up.

    Halves up (2.5 -> 3) rather than to even: the same mean always gives the same count, whatever
    its integer part. Whole-person sums give exact answers; fractional ones within
    ``_HALF_TOLERANCE`` of a half round up.

    Args:
        sums: ``(z,)`` non-negative sums of persons (whole or fractional).
        messages: ``(z,)`` or scalar positive message counts.

    Returns:
        ``(z,)`` int64 counts.
    """
    total = np.asarray(sums, dtype=np.float64)
    n = np.broadcast_to(np.asarray(messages, dtype=np.int64), total.shape)
    if np.any(n <= 0) or np.any(~np.isfinite(total)) or np.any(total < 0):
        raise ValueError("rounded_mean needs finite non-negative sums and positive message counts")
    return np.floor(total / n + 0.5 + _HALF_TOLERANCE).astype(np.int64)
