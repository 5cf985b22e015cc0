"""Running a detector over ground-truth data and scoring it: the work behind ``crowdmap eval detect``.

The scoring itself is :mod:`detector.evaluation` (pure functions over arrays); this module reads the
video or image, times each detection and feeds the scores. Foot points are projected to the floor
by a function the caller passes (``to_floor``), so this package stays free of the geometry stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from detector import Detector
from detector.evaluation import BoxScore, foot_points, point_score

# Pixel points (n, 2) -> floor points (n, 2) in metres, NaN where a point does not land on the floor.
ToFloor = Callable[[np.ndarray], np.ndarray]


def evaluate_video(
    detector: Detector,
    *,
    video: Path,
    truth: dict[int, np.ndarray],
    frames: tuple[int, int],
    camera_id: str,
    to_floor: ToFloor | None = None,
    on_frame: Callable[[], object] | None = None,
) -> dict[str, Any]:
    """Detect people in ground-truth frames ``frames`` (inclusive) of a video and score the boxes.

    Args:
        detector: The detector under test.
        video: The video file; its frame k (0-based) is ground-truth frame k + 1 (MOTChallenge).
        truth: Ground-truth boxes ``(n, 4)`` xyxy px per frame number (frames without people absent).
        frames: First and last ground-truth frame number to score.
        camera_id: Passed to the detector.
        to_floor: When given, foot points are also compared on the floor, in metres.
        on_frame: Called after each scored frame (progress display).

    Returns:
        :meth:`BoxScore.summary` plus ``frames_range``, ``ms_per_frame_median``, ``fps_per_camera`` and
        ``temporal`` (whether the detector confirmed detections over frames).

    Raises:
        ValueError: OpenCV cannot open the video, or it ends before the last frame.
    """
    import cv2

    start, stop = frames
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise ValueError(f"--video {video}: OpenCV cannot open it")
    # Frames carry their capture time in seconds (a temporal filter's clock); a file that states no
    # frame rate is taken as 25 frames per second.
    video_fps = capture.get(cv2.CAP_PROP_FPS)
    frame_period_s = 1.0 / video_fps if video_fps and video_fps > 0 else 1.0 / 25.0
    # Ground-truth frame k is video frame k - 1.
    capture.set(cv2.CAP_PROP_POS_FRAMES, start - 1)
    score = BoxScore()
    times_ms = []
    try:
        for number in range(start, stop + 1):
            ok, frame = capture.read()
            if not ok:
                raise ValueError(f"--video {video} ends before ground-truth frame {number}")
            began = time.perf_counter()
            found = detector.detect(frame, camera_id=camera_id, timestamp_s=(number - 1) * frame_period_s)
            times_ms.append((time.perf_counter() - began) * 1000.0)
            gt = truth.get(number, np.zeros((0, 4)))
            feet = (to_floor(found.foot_px), to_floor(foot_points(gt))) if to_floor is not None else (None, None)
            score.add(found.xyxy_px, gt, pred_feet_m=feet[0], gt_feet_m=feet[1])
            del frame  # frames live only as long as this loop step (PRIVACY.md P1)
            if on_frame is not None:
                on_frame()
    finally:
        capture.release()
    result: dict[str, Any] = score.summary()
    result.update(
        frames_range=[start, stop],
        ms_per_frame_median=float(np.median(times_ms)),
        fps_per_camera=1000.0 / float(np.median(times_ms)),
        temporal=getattr(detector, "temporal", None) is not None,
    )
    return result


def evaluate_image(
    detector: Detector, *, image_bgr: np.ndarray, points_px: np.ndarray, camera_id: str
) -> dict[str, Any]:
    """Detect people in one image and score the boxes against one point per person.

    The first detection is a warm-up (a tiling detector plans its tiles then) and is not timed.

    Returns:
        :func:`point_score` plus ``frames`` (1), ``ms_per_frame_median`` and ``tiles`` (the number of
        crops a tiling detector runs on this image; None for other detectors).
    """
    detector.detect(image_bgr, camera_id=camera_id, timestamp_s=0.0)
    began = time.perf_counter()
    found = detector.detect(image_bgr, camera_id=camera_id, timestamp_s=0.0)
    elapsed_ms = (time.perf_counter() - began) * 1000.0
    tiles = getattr(detector, "tiles_for", None)
    result: dict[str, Any] = point_score(found.xyxy_px, points_px)
    result.update(
        frames=1,
        temporal=getattr(detector, "temporal", None) is not None,
        ms_per_frame_median=elapsed_ms,
        tiles=len(tiles((image_bgr.shape[1], image_bgr.shape[0]))) if tiles else None,
    )
    return result
