"""OpenCV's built-in HOG + linear SVM people detector: the zero-download fallback."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from detector.pipeline import TiledDetector, scene_hints_from_options


class HogNetwork:
    """The Dalal-Triggs people detector on one crop at a time.

    Its window is 64x128 with the person about 96 px tall inside, so the crop is resized to make
    people that tall: ``input_px`` is the side the longer crop edge is resized to.
    """

    target_person_px = 96.0
    min_person_px = 80.0  # the 64x128 window cannot find people much smaller than it expects

    def __init__(self, *, input_px: int = 1152, hit_threshold: float = 0.0) -> None:
        self.input_px = input_px
        self.hit_threshold = hit_threshold
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())  # type: ignore[attr-defined]

    def infer(self, crops_bgr: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per crop: boxes xyxy in crop pixels and scores squashed from SVM margins into [0, 1]."""
        out = []
        for crop in crops_bgr:
            scale = self.input_px / max(crop.shape[:2])
            image = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
            found, margins = self._hog.detectMultiScale(
                image, hitThreshold=self.hit_threshold, winStride=(8, 8), padding=(8, 8), scale=1.05
            )
            rects = np.asarray(found, dtype=np.float64).reshape(-1, 4)
            weights = np.asarray(margins, dtype=np.float64).reshape(-1)
            # The 64x128 window holds a person about 96 px tall and 40 px wide with margins all
            # round; trim to the person so the bottom edge is the foot point (on PETS every 20th
            # frame: F1 0.50 with a 10 %/6 % trim, 0.77 with this 20 %/10 % one).
            x, y, w, h = rects.T
            xyxy = np.column_stack((x + 0.2 * w, y + 0.1 * h, x + 0.8 * w, y + 0.9 * h)) / scale
            scores = 1.0 / (1.0 + np.exp(-2.0 * weights))  # margin 0 -> 0.5
            out.append((xyxy, scores))
        return out


def build(
    *,
    person_height_px: np.ndarray | None = None,
    floor_mask: np.ndarray | None = None,
    score_threshold: float = 0.75,
    input_px: int = 1152,
    max_tiles: int = 32,
    **_unused: object,
) -> TiledDetector:
    """Build the HOG detector; takes the scene options every backend takes."""
    return TiledDetector(
        network=HogNetwork(input_px=input_px),
        name="hog",
        hints=scene_hints_from_options(person_height_px, floor_mask),
        score_threshold=score_threshold,
        nms_iou=0.4,
        max_tiles=max_tiles,
    )
