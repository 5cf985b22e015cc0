"""The homography stage's output: people on a floor plan, in metres."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arrays import readonly_array


@dataclass(frozen=True)
class FloorPositions:
    """People seen by one camera at one instant, on one floor's plan.

    Attributes:
        camera_id: The camera that saw them.
        floor_id: The floor whose plan the coordinates refer to.
        timestamp_s: Capture time, unix seconds.
        xy_m: Positions ``(n, 2)`` in metres, plan origin top-left, y down the plan.
        confidence: Detection scores ``(n,)`` in ``[0, 1]``.
        sigma_m: Expected position error ``(n,)`` in metres at each point, from the
            camera's pixel error propagated through its calibration; fusion gates on it.
    """

    camera_id: str
    floor_id: str
    timestamp_s: float
    xy_m: np.ndarray
    confidence: np.ndarray
    sigma_m: np.ndarray

    def __post_init__(self) -> None:
        xy = readonly_array(self.xy_m, "xy_m", (2,))
        n = len(xy)
        conf = readonly_array(self.confidence, "confidence", ())
        sigma = readonly_array(self.sigma_m, "sigma_m", ())
        for name, arr in (("confidence", conf), ("sigma_m", sigma)):
            if len(arr) != n:
                raise ValueError(f"{name} must have shape ({n},) to match xy_m, got shape {arr.shape}")
        if np.any((conf < 0) | (conf > 1)):
            raise ValueError(f"confidence must lie in [0, 1], got range [{conf.min():.3g}, {conf.max():.3g}]")
        if np.any(sigma <= 0):
            raise ValueError(f"sigma_m must be positive, got minimum {sigma.min():.3g}")
        if not self.camera_id or not self.floor_id:
            raise ValueError(f"camera_id and floor_id must be non-empty, got {self.camera_id!r}, {self.floor_id!r}")
        object.__setattr__(self, "xy_m", xy)
        object.__setattr__(self, "confidence", conf)
        object.__setattr__(self, "sigma_m", sigma)

    @classmethod
    def empty(cls, camera_id: str, floor_id: str, timestamp_s: float) -> FloorPositions:
        """Nobody seen."""
        return cls(camera_id, floor_id, timestamp_s, np.zeros((0, 2)), np.zeros(0), np.zeros(0))

    def __len__(self) -> int:
        return len(self.xy_m)

    def __getitem__(self, mask: npt.ArrayLike) -> FloorPositions:
        """Select positions with a boolean mask or an index array."""
        index = np.asarray(mask)
        return dataclasses.replace(
            self, xy_m=self.xy_m[index], confidence=self.confidence[index], sigma_m=self.sigma_m[index]
        )
