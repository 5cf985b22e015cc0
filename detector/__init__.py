"""Find people in camera frames; frames never leave this package's process (PRIVACY.md P1).

Backends are registered by name in :data:`BACKENDS` and imported lazily, so ``import detector`` needs
neither torch nor any weights::

    det = create_detector("nanodet", person_height_px=heights, floor_mask=mask)
    detections = det.detect(frame_bgr, camera_id="cam-1", timestamp_s=time.time())
"""

from __future__ import annotations

import importlib
import os
from typing import Protocol, runtime_checkable

import numpy as np

from detector.types import Detections

# Edge boxes run several cameras, so torch's OpenMP threads share cores with other processes;
# spinning while waiting for work then slows a frame from 0.15 s to 2.5-6 s on this 2-core machine
# (docs/BENCHMARKS.md). Sleeping waits cost little when idle. Effective only if set before torch
# loads; an explicit setting from the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# name -> "module:function"; the function takes the options as keywords and returns a Detector.
# A plain dict so tests and sites can add or swap backends (STYLE.md section 3).
BACKENDS: dict[str, str] = {
    "hog": "detector.backends.hog:build",
    "nanodet": "detector.backends.nanodet:build",
    "ssdlite-ped": "detector.backends.ssdlite_ped:build",
    "torchvision-fasterrcnn-mobilenet": "detector.backends.torchvision_models:build_fasterrcnn_mobilenet",
    "torchvision-ssdlite": "detector.backends.torchvision_models:build_ssdlite",
    "fake": "detector.backends.fake:build",
}

# The most accurate backend on the development data (docs/BENCHMARKS.md, "Detector").
DEFAULT_BACKEND = "nanodet"


@runtime_checkable
class Detector(Protocol):
    """Anything that turns one BGR frame into :class:`Detections`."""

    def detect(self, frame_bgr: np.ndarray, *, camera_id: str, timestamp_s: float) -> Detections:
        """Find the people in one frame.

        Args:
            frame_bgr: Image ``(H, W, 3)`` uint8, OpenCV channel order.
            camera_id: The camera that produced the frame.
            timestamp_s: Capture time, unix seconds.

        Returns:
            The people found, boxes in this frame's pixels.
        """
        ...


def create_detector(name: str, **options: object) -> Detector:
    """Build the backend registered as ``name``.

    Args:
        name: A key of :data:`BACKENDS`.
        **options: Passed to the backend's builder, e.g. ``score_threshold``, ``person_height_px``
            ``(H,)``, ``floor_mask`` ``(H, W)`` bool, ``model_dir``.

    Returns:
        A ready detector.

    Raises:
        ValueError: ``name`` is not registered, or an option is invalid for this backend.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown detector {name!r}; expected one of {sorted(BACKENDS)}")
    module_name, _, function_name = BACKENDS[name].partition(":")
    build = getattr(importlib.import_module(module_name), function_name)
    return build(**options)


__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Detections", "Detector", "create_detector"]
