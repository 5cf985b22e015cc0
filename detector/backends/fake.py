"""A deterministic detector for tests: returns the boxes it was given, for every frame."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from detector.types import Detections


class FakeDetector:
    """Returns the same boxes for every frame, clipped to the frame (a stand-in for a network in tests).

    Args:
        xyxy_px: Boxes ``(n, 4)`` in pixels.
        confidence: Scores ``(n,)``; 1.0 each when omitted.
    """

    def __init__(self, *, xyxy_px: npt.ArrayLike = (), confidence: npt.ArrayLike | None = None) -> None:
        boxes = np.asarray(xyxy_px, dtype=np.float64).reshape(-1, 4)
        scores = np.ones(len(boxes)) if confidence is None else np.asarray(confidence, dtype=np.float64)
        # Validate once at construction so a bad fake fails the test setup, not the first frame.
        Detections(camera_id="fake", timestamp_s=0.0, xyxy_px=boxes, confidence=scores)
        self.xyxy_px = boxes
        self.confidence = scores
        self.calls = 0

    def detect(self, frame_bgr: np.ndarray, *, camera_id: str, timestamp_s: float) -> Detections:
        """The configured boxes, clipped to this frame; boxes left empty by the clip are dropped."""
        if frame_bgr.ndim != 3:
            raise ValueError(f"frame_bgr must have shape (H, W, 3), got shape {frame_bgr.shape}")
        self.calls += 1
        height, width = frame_bgr.shape[:2]
        boxes = self.xyxy_px.copy()
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
        keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        return Detections(
            camera_id=camera_id, timestamp_s=timestamp_s, xyxy_px=boxes[keep], confidence=self.confidence[keep]
        )


def build(*, xyxy_px: npt.ArrayLike = (), confidence: npt.ArrayLike | None = None, **_ignored: object) -> FakeDetector:
    """Build a :class:`FakeDetector`; scene options the runtime passes to every backend are ignored."""
    return FakeDetector(xyxy_px=xyxy_px, confidence=confidence)
