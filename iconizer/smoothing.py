"""Time-window mean of per-zone densities, so one frame's miss or double does not move a level.

Holds per-zone densities only (aggregates), never positions.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt


def window_arguments(size: int, window_s: float) -> tuple[int, float]:
    """A per-zone time window's ``(size, window_s)``, checked: ``size >= 0``, ``window_s`` finite and ``>= 0``.

    Raises:
        ValueError: naming the argument that is out of range.
    """
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    if not np.isfinite(window_s) or window_s < 0:
        raise ValueError(f"window_s must be finite and >= 0, got {window_s}")
    return size, float(window_s)


class WindowMean:
    """Mean over the last ``window_s`` seconds of a ``(z,)`` vector, skipping masked entries.

    An entry is skipped for a sample where ``valid`` is False (a stale zone): an unknown value
    must not pull the mean towards zero. A window of 0 returns the latest sample.

    Args:
        size: Number of entries ``z`` (zones).
        window_s: Window length in seconds, >= 0. Samples with ``t > now_s - window_s`` count.
    """

    def __init__(self, size: int, window_s: float) -> None:
        self.size, self.window_s = window_arguments(size, window_s)
        self._samples: deque[tuple[float, np.ndarray, np.ndarray]] = deque()

    def update(self, now_s: float, values: npt.ArrayLike, valid: npt.ArrayLike) -> np.ndarray:
        """Add the sample taken at ``now_s`` and return the windowed mean.

        Args:
            now_s: Sample time, seconds; must not go backwards.
            values: ``(z,)`` values (densities, persons/m2).
            valid: ``(z,)`` bool, False where the value is unknown.

        Returns:
            ``(z,)`` means; 0 where no valid sample lies in the window.
        """
        values = np.asarray(values, dtype=np.float64)
        valid = np.asarray(valid, dtype=bool)
        if values.shape != (self.size,) or valid.shape != (self.size,):
            raise ValueError(f"values and valid must have shape ({self.size},), got {values.shape} and {valid.shape}")
        if self._samples and now_s < self._samples[-1][0]:
            raise ValueError(f"now_s went backwards: {now_s} after {self._samples[-1][0]}")
        self._samples.append((now_s, values, valid))
        while self._samples and self._samples[0][0] <= now_s - self.window_s and len(self._samples) > 1:
            self._samples.popleft()
        stacked_values = np.stack([s[1] for s in self._samples])
        stacked_valid = np.stack([s[2] for s in self._samples])
        counts = stacked_valid.sum(axis=0)
        sums = np.where(stacked_valid, stacked_values, 0.0).sum(axis=0)
        return np.divide(sums, counts, out=np.zeros(self.size), where=counts > 0)

    def forget(self, valid: npt.ArrayLike) -> None:
        """Mark every stored sample invalid where ``valid`` is False (a zone that went stale).

        After a gap, a zone restarts from fresh samples instead of averaging across the outage.
        """
        keep = np.asarray(valid, dtype=bool)
        self._samples = deque((t, v, ok & keep) for t, v, ok in self._samples)
