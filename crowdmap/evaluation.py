"""Wiring for ``crowdmap eval``: set a station's camera up as its edge would, for a stage's evaluation.

The scoring lives beside each stage (``detector.evaluation``, ``detector.evaluation_runs``,
``iconizer.fusion_evaluation``, ``iconizer.evaluation``); this module only joins the station model,
the calibration, the detector and the iconizer, as the composition root does for a running station.

``evaluate_station`` (``crowdmap eval station``) runs a recorded camera through the whole pipeline
the way it runs at the edge and in the aggregator: the camera source (:mod:`detector.sources`),
the camera's detector with its scene hints (:func:`camera_setup`), the foot points onto the floor
(:func:`homography.positions.foot_points_to_floor`), the bus codec, and the station's production
iconizer (:func:`crowdmap.wiring.build_iconizer`: coverage, fusion, smoothing, hysteresis,
coarsening), stepped at each frame's time. The truth is the same computation with the detector
replaced by the ground truth of the same frame: each true box becomes a detection (confidence 1)
whose bottom centre goes through the same calibration and codec into a second iconizer built the
same way. Whatever the iconizer does to the published numbers (smoothing lag, hysteresis,
coarsening) it does to both, so the scores measure what detection and projection lose, as the
public sees it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from iconizer.footprint import BODY_RADIUS_M

if TYPE_CHECKING:
    from crowdmap.station import Station
    from detector import Detector
    from homography.calibration import Calibration
    from homography.types import FloorPositions
    from station import Camera


@dataclass(frozen=True)
class CameraSetup:
    """One camera of a station as its edge runs it.

    Attributes:
        camera: The camera's layout entry.
        calib: Its fitted calibration.
        detector_options: The camera's detector options plus what the calibration tells the
            detector (floor mask, person height per row), without ``backend``.
        backend: The camera's own detector backend, if its layout names one.
    """

    camera: Camera
    calib: Calibration
    detector_options: dict[str, Any]
    backend: str | None

    def to_floor(self, points_px: np.ndarray) -> np.ndarray:
        """Pixel points ``(n, 2)`` of this camera -> floor points ``(n, 2)`` in metres, NaN off the floor."""
        from homography.projection import to_floor

        xy_m, valid = to_floor(points_px=points_px, calib=self.calib)
        return np.where(valid[:, None], xy_m, np.nan)


def camera_setup(station: Station, camera_id: str, station_name: str) -> CameraSetup:
    """The camera ``camera_id`` of a loaded station, with its scene options.

    Raises:
        ValueError: The station has no such camera (the message lists its cameras).
    """
    from crowdmap.observers import scene_options

    cameras = {c.id: c for c in station.layout.cameras}
    if camera_id not in cameras:
        raise ValueError(f"camera {camera_id!r} is not in station {station_name!r}; it has {sorted(cameras)}")
    camera = cameras[camera_id]
    calib = station.calibrations[camera.id]
    options = dict(camera.detector)
    backend = options.pop("backend", None)
    options.update(scene_options(camera, calib, station.layout))
    return CameraSetup(camera=camera, calib=calib, detector_options=options, backend=backend)


def build_detector(backend: str, options: dict[str, Any], *, threads: int) -> Detector:
    """The detector ``backend`` with ``options``, torch limited to ``threads`` threads (an edge box's share).

    Raises:
        ValueError: An unknown backend (the message lists the known ones) or bad options.
    """
    import torch

    from detector import create_detector

    torch.set_num_threads(max(1, threads))
    return create_detector(backend, **options)


def evaluate_station(
    station: Station,
    *,
    camera_id: str,
    video: Path,
    truth_boxes: Mapping[int, np.ndarray],
    frames: tuple[int, int],
    backend: str | None = None,
    detector_options: dict[str, Any] | None = None,
    threads: int = 2,
    seed: int = 0,
    detector: Detector | None = None,
    count_window_s: float | None = None,
    bridge_misses: bool = True,
    body_radius_m: float = BODY_RADIUS_M,
) -> dict[str, Any]:
    """Run the pipeline and the truth frame by frame over ``frames`` and score what each publishes.

    Args:
        station: The loaded station (layout and calibrations).
        camera_id: The camera the recording comes from.
        video: The recording; its frame ``k`` (0-based) is ground-truth frame ``k + 1``.
        truth_boxes: Ground-truth frame number -> true boxes ``(n, 4)`` xyxy, pixels.
        frames: First and last ground-truth frame to score, inclusive; both iconizers start fresh
            at the first one.
        backend: Detector backend (default: the camera's, else the default backend).
        detector_options: Backend options overriding the camera's (thresholds, a fake's boxes).
        threads: Torch threads (the edge box's cores for this camera).
        seed: Seed of both iconizers' shuffling and jitter.
        detector: A ready detector to run instead of building the camera's (``bench/pets_replay.py``
            replays cached network outputs through the real merge rules); ``backend`` then only names it.
        count_window_s: Interval over which both iconizers average zone counts (default: the
            layout's ``frame_interval_s``, as the aggregator does; 0: each step's latest frame).
        bridge_misses: Whether both iconizers bridge a camera's one-message misses in the dots
            (the aggregator does; False for comparisons).
        body_radius_m: Body footprint radius both iconizers count zones by (the aggregator's
            default; 0 counts each person as a point, for comparisons).

    Returns:
        The figures of :meth:`iconizer.evaluation.StationScore.summary`, plus ``backend``, ``fps``
        (the whole pipeline: decoding, detection, projection, iconizer step), ``detector_ms_median``,
        ``frame_interval_s``, ``frames_range``, ``station``, ``camera``, ``coarsen_m``,
        ``coarsen_method`` and ``body_radius_m``.

    Raises:
        ValueError: an unknown camera or backend, a recording that ends early.
        detector.sources.SourceError: the recording cannot be opened.
    """
    from bus.codec import PositionsMessage, decode_message, encode_positions
    from crowdmap.tiers.edge import positions_from_detections
    from crowdmap.wiring import build_iconizer
    from detector import DEFAULT_BACKEND
    from detector.sources import open_source
    from detector.types import Detections
    from iconizer.evaluation import DOT_MATCH_RADIUS_M, StationScore, dot_match_radius_covers

    start, stop = frames
    if not 1 <= start <= stop:
        raise ValueError(f"frames must be (A, B) with 1 <= A <= B, got {frames}")
    layout = station.layout
    setup = camera_setup(station, camera_id, layout.station.id)
    camera, calib = setup.camera, setup.calib
    floor = layout.floor(camera.floor)
    backend_name = backend or setup.backend or DEFAULT_BACKEND
    if detector is None:
        options = {**setup.detector_options, **(detector_options or {})}
        detector = build_detector(backend_name, options, threads=threads)
    # One jitter secret for both: the same position gives the same dot on both sides (coarsened alike).
    jitter_secret = secrets.randbits(63)
    pipeline = build_iconizer(
        station,
        seed=seed,
        jitter_secret=jitter_secret,
        count_window_s=count_window_s,
        bridge_misses=bridge_misses,
        body_radius_m=body_radius_m,
    )
    truth = build_iconizer(
        station,
        seed=seed + 1,
        jitter_secret=jitter_secret,
        count_window_s=count_window_s,
        bridge_misses=bridge_misses,
        body_radius_m=body_radius_m,
    )
    score = StationScore(radius_m=DOT_MATCH_RADIUS_M)

    def to_floor(found: Detections) -> FloorPositions:
        # Projected as the edge tier projects them.
        positions = positions_from_detections(found, calib=calib, floor=floor, pixel_sigma_px=camera.pixel_sigma_px)
        # What the aggregator's iconizer gets is what the bus carries (positions rounded for the wire).
        message = decode_message(encode_positions(layout.station.id, positions))
        if not isinstance(message, PositionsMessage):  # the codec gives back what it was given
            raise TypeError(f"the bus codec turned positions into {type(message).__name__}")
        return message.positions

    source = open_source(str(video), target_fps=camera.target_fps, realtime=False, resolution_wh=camera.resolution_wh)
    # Frames are as far apart as the recording says; a source that does not say runs at the camera's rate.
    interval_s = 1.0 / source.native_fps if source.native_fps > 0 else 1.0 / camera.target_fps
    pipeline_s = 0.0
    detector_ms: list[float] = []
    try:
        for number in range(1, stop + 1):
            began = time.perf_counter()
            frame = source.read()
            if frame is None:
                raise ValueError(f"{video} ends before ground-truth frame {number}")
            if number < start:
                continue
            now_s = (number - 1) * interval_s
            detect_began = time.perf_counter()
            found = detector.detect(frame.image_bgr, camera_id=camera.id, timestamp_s=now_s)
            detector_ms.append((time.perf_counter() - detect_began) * 1000.0)
            del frame  # the frame lives only as long as this loop step (PRIVACY.md P1)
            pipeline.ingest(to_floor(found))
            published = pipeline.step(now_s)
            pipeline_s += time.perf_counter() - began

            boxes = np.asarray(truth_boxes.get(number, np.zeros((0, 4))), dtype=np.float64).reshape(-1, 4)
            true_found = Detections(camera.id, now_s, xyxy_px=boxes, confidence=np.ones(len(boxes)))
            truth.ingest(to_floor(true_found))
            score.add(published, truth.step(now_s))
    finally:
        source.close()

    result: dict[str, Any] = score.summary()
    result.update(
        backend=backend_name,
        fps=score.frames / pipeline_s if pipeline_s > 0 else None,
        detector_ms_median=float(np.median(detector_ms)) if detector_ms else None,
        frame_interval_s=interval_s,
        frames_range=[start, stop],
        station=layout.station.id,
        camera=camera.id,
        coarsen_m=pipeline.coarsen_m,
        coarsen_method=pipeline.coarsen_method,
        body_radius_m=pipeline.body_radius_m,
        dot_match_radius_covers_coarsening=dot_match_radius_covers(pipeline.coarsen_m, pipeline.coarsen_method),
    )
    return result
