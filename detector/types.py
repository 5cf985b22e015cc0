"""The detector's output: people found in one camera frame, in pixels."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arrays import readonly_array


@dataclass(frozen=True)
class Detections:
    """People detected in one frame of one camera.

    Attributes:
        camera_id: The camera that produced the frame.
        timestamp_s: Capture time of the frame, unix seconds.
        xyxy_px: Boxes ``(n, 4)`` as ``x_min, y_min, x_max, y_max`` in image pixels.
        confidence: Detection scores ``(n,)`` in ``[0, 1]``.
    """

    camera_id: str
    timestamp_s: float
    xyxy_px: np.ndarray
    confidence: np.ndarray

    def __post_init__(self) -> None:
        xyxy = readonly_array(self.xyxy_px, "xyxy_px", (4,))
        conf = readonly_array(self.confidence, "confidence", ())
        if len(conf) != len(xyxy):
            raise ValueError(f"confidence must have shape ({len(xyxy)},) to match xyxy_px, got shape {conf.shape}")
        if np.any((conf < 0) | (conf > 1)):
            raise ValueError(f"confidence must lie in [0, 1], got range [{conf.min():.3g}, {conf.max():.3g}]")
        if np.any(xyxy[:, 2] < xyxy[:, 0]) or np.any(xyxy[:, 3] < xyxy[:, 1]):
            raise ValueError("xyxy_px must have x_max >= x_min and y_max >= y_min for every box")
        if not self.camera_id:
            raise ValueError("camera_id must be a non-empty string, got ''")
        object.__setattr__(self, "xyxy_px", xyxy)
        object.__setattr__(self, "confidence", conf)

    @classmethod
    def empty(cls, camera_id: str, timestamp_s: float) -> Detections:
        """No people in this frame."""
        return cls(camera_id=camera_id, timestamp_s=timestamp_s, xyxy_px=np.zeros((0, 4)), confidence=np.zeros(0))

    def __len__(self) -> int:
        return len(self.xyxy_px)

    def __getitem__(self, mask: npt.ArrayLike) -> Detections:
        """Select detections with a boolean mask or an index array."""
        index = np.asarray(mask)
        return dataclasses.replace(self, xyxy_px=self.xyxy_px[index], confidence=self.confidence[index])

    @property
    def foot_px(self) -> np.ndarray:
        """Foot points ``(n, 2)``: the bottom centre of each box, in pixels (not undistorted)."""
        return np.column_stack(((self.xyxy_px[:, 0] + self.xyxy_px[:, 2]) / 2.0, self.xyxy_px[:, 3]))

    @property
    def height_px(self) -> np.ndarray:
        """Box heights ``(n,)`` in pixels."""
        return self.xyxy_px[:, 3] - self.xyxy_px[:, 1]
