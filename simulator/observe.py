"""What a simulated camera's person detector would report about the SIMULATED crowd.

Each person's foot point goes through the inverse of the camera's calibration into pixels; a box
of a plausible person size stands on it; then the imperfections of a real detector are added:
pixel noise, people missed (at random, when small, when hidden behind someone nearer), and the
odd false positive. Only people whose feet are in the image and in front of the camera count.

So everything downstream of the detector (projection, merging, zones, publishing) runs for real on
simulated input.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from detector.types import Detections
from homography.calibration import Calibration
from homography.projection import apply_homography, distort_px, to_floor, to_image, undistort_px
from simulator.simulation import Simulation
from station import Camera


@dataclass(frozen=True)
class DetectorModel:
    """How good the simulated detector is.

    Attributes:
        person_height_m: Mean height of a person.
        person_height_sd_m: Spread of heights.
        box_aspect: Box width over box height.
        miss_probability: Chance that a clearly visible person is missed.
        min_height_px: People shorter than this in the image are missed more and more often
            (never below 60% of it).
        occluded_fraction: A box covered this much by a nearer person's box counts as hidden.
        occluded_miss_probability: Chance that a hidden person is missed.
        false_positives_per_frame: Mean number of false detections per frame (Poisson).
        height_noise: Relative noise of box heights.
    """

    person_height_m: float = 1.7
    person_height_sd_m: float = 0.08
    box_aspect: float = 0.41
    miss_probability: float = 0.07
    min_height_px: float = 40.0
    occluded_fraction: float = 0.6
    occluded_miss_probability: float = 0.5
    false_positives_per_frame: float = 0.2
    height_noise: float = 0.05

    def __post_init__(self) -> None:
        for name in ("miss_probability", "occluded_fraction", "occluded_miss_probability"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        for name in ("person_height_m", "box_aspect", "min_height_px"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("person_height_sd_m", "false_positives_per_frame", "height_noise"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")


@dataclass(frozen=True)
class Observation:
    """Simulated detections with the ground truth behind them (for tests and evaluation).

    Attributes:
        detections: What the detector reports.
        truth_m: ``(n, 2)`` true floor position of each detection's person; NaN for false positives.
    """

    detections: Detections
    truth_m: np.ndarray


def _head_px(
    camera: Camera, calib: Calibration, points_m: np.ndarray, heights_m: np.ndarray, foot_px: np.ndarray
) -> np.ndarray:
    """Undistorted pixel ``(n, 2)`` of the top of each person's head."""
    model = camera.calibration.camera_model
    if model is None:
        # Without a full camera, scale by the homography: a person is as many pixels tall as
        # their height spans floor metres across the image at their feet.
        right, _ = apply_homography(points=foot_px + np.array([1.0, 0.0]), matrix=calib.image_to_floor)
        here, _ = apply_homography(points=foot_px, matrix=calib.image_to_floor)
        metres_per_px = np.linalg.norm(right - here, axis=1)
        return foot_px - np.column_stack((np.zeros(len(foot_px)), heights_m / np.maximum(metres_per_px, 1e-6)))
    rotation, _ = cv2.Rodrigues(np.asarray(model.rvec, dtype=np.float64))
    tvec = np.asarray(model.tvec_m, dtype=np.float64)
    world_to_floor = np.eye(3) if model.world_to_floor is None else np.asarray(model.world_to_floor, dtype=np.float64)
    ground, _ = apply_homography(points=points_m, matrix=np.linalg.inv(world_to_floor))
    # "Up" is the side of the floor the camera is on, whichever way the world's z points.
    up = np.sign((-rotation.T @ tvec)[2]) or 1.0
    heads = np.column_stack((ground, up * heights_m))
    camera_points = heads @ rotation.T + tvec
    intrinsics = np.asarray(model.camera_matrix, dtype=np.float64)
    pixels = camera_points @ intrinsics.T
    return pixels[:, :2] / np.maximum(pixels[:, 2:3], 1e-9)


def _covered_fraction(boxes: np.ndarray, nearer_first: np.ndarray) -> np.ndarray:
    """For each box ``(n, 4)``, the largest fraction of it covered by a single nearer box."""
    count = len(boxes)
    covered = np.zeros(count)
    if count < 2:
        return covered
    rank = np.empty(count, dtype=np.int64)
    rank[nearer_first] = np.arange(count)
    width = np.clip(
        np.minimum(boxes[:, None, 2], boxes[None, :, 2]) - np.maximum(boxes[:, None, 0], boxes[None, :, 0]), 0, None
    )
    height = np.clip(
        np.minimum(boxes[:, None, 3], boxes[None, :, 3]) - np.maximum(boxes[:, None, 1], boxes[None, :, 1]), 0, None
    )
    area = np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1e-9)
    fraction = width * height / area[:, None]
    fraction[rank[:, None] <= rank[None, :]] = 0.0  # only nearer people hide someone
    return fraction.max(axis=1)


def observe_with_truth(
    sim: Simulation,
    camera: Camera,
    calib: Calibration,
    timestamp_s: float,
    rng: np.random.Generator,
    model: DetectorModel | None = None,
) -> Observation:
    """Simulated detections of one camera at time ``timestamp_s``, with the true positions behind them.

    Advances ``sim`` to ``timestamp_s`` first. ``rng`` draws only the detector's noise, so cameras with
    their own generators do not disturb the crowd (which depends on the simulation's seed alone).
    """
    model = model or DetectorModel()
    sim.advance_to(timestamp_s)
    width, height = camera.resolution_wh
    points = sim.positions(camera.floor)
    heights = model.person_height_m + rng.normal(0.0, model.person_height_sd_m, len(points))
    # Raw pixels, lens distortion included; NaN for people behind the camera.
    foot = to_image(points_m=points, calib=calib, distorted=True)
    in_front = np.all(np.isfinite(foot), axis=1)
    with np.errstate(invalid="ignore"):
        in_image = (foot[:, 0] >= 0) & (foot[:, 0] < width) & (foot[:, 1] >= 0) & (foot[:, 1] < height)
    visible = np.flatnonzero(in_front & in_image)
    foot, points, heights = foot[visible], points[visible], heights[visible]
    head = (
        distort_px(
            points_px=_head_px(camera, calib, points, heights, undistort_px(points_px=foot, calib=calib)), calib=calib
        )
        if len(foot)
        else foot
    )
    box_height = np.maximum(foot[:, 1] - head[:, 1], 1.0) * (1.0 + rng.normal(0.0, model.height_noise, len(foot)))
    noisy_foot = foot + rng.normal(0.0, camera.pixel_sigma_px, foot.shape)
    boxes = np.column_stack(
        (
            noisy_foot[:, 0] - box_height * model.box_aspect / 2,
            noisy_foot[:, 1] - box_height,
            noisy_foot[:, 0] + box_height * model.box_aspect / 2,
            noisy_foot[:, 1],
        )
    )
    # Smallness and occlusion make detections fail; nearer people have their feet lower in the image.
    size_factor = np.clip((box_height - 0.6 * model.min_height_px) / (0.4 * model.min_height_px), 0.0, 1.0)
    hidden = _covered_fraction(boxes, np.argsort(-foot[:, 1], kind="stable")) >= model.occluded_fraction
    detect_probability = (1.0 - model.miss_probability) * size_factor
    detect_probability = np.where(
        hidden, detect_probability * (1.0 - model.occluded_miss_probability), detect_probability
    )
    found = rng.random(len(boxes)) < detect_probability
    confidence = np.clip(0.55 + 0.4 * size_factor + rng.normal(0.0, 0.08, len(boxes)), 0.3, 0.99)
    boxes, confidence, truth = boxes[found], confidence[found], points[found]
    false_boxes = _false_positives(camera, calib, rng, model)
    boxes = np.vstack((boxes, false_boxes))
    confidence = np.concatenate((confidence, rng.uniform(0.3, 0.7, len(false_boxes))))
    truth = np.vstack((truth, np.full((len(false_boxes), 2), np.nan)))
    boxes = np.column_stack(
        (
            np.clip(boxes[:, 0], 0, width - 1),
            np.clip(boxes[:, 1], 0, height - 1),
            np.clip(boxes[:, 2], 0, width - 1),
            np.clip(boxes[:, 3], 0, height - 1),
        )
    )
    # A detector's output order says nothing about who is who.
    order = rng.permutation(len(boxes))
    detections = Detections(
        camera_id=camera.id, timestamp_s=float(timestamp_s), xyxy_px=boxes[order], confidence=confidence[order]
    )
    return Observation(detections=detections, truth_m=truth[order])


def _false_positives(camera: Camera, calib: Calibration, rng: np.random.Generator, model: DetectorModel) -> np.ndarray:
    """Boxes ``(k, 4)`` of person size standing on random floor pixels where nobody is."""
    width, height = camera.resolution_wh
    count = rng.poisson(model.false_positives_per_frame)
    foot = np.column_stack((rng.uniform(0, width, count), rng.uniform(height * 0.4, height, count)))
    floor, valid = to_floor(points_px=foot, calib=calib)
    foot, floor = foot[valid], floor[valid]
    if not len(foot):
        return np.zeros((0, 4))
    heights = np.full(len(foot), model.person_height_m)
    head = distort_px(
        points_px=_head_px(camera, calib, floor, heights, undistort_px(points_px=foot, calib=calib)), calib=calib
    )
    box_height = np.maximum(foot[:, 1] - head[:, 1], 1.0)
    return np.column_stack(
        (
            foot[:, 0] - box_height * model.box_aspect / 2,
            foot[:, 1] - box_height,
            foot[:, 0] + box_height * model.box_aspect / 2,
            foot[:, 1],
        )
    )


def observe(
    sim: Simulation,
    camera: Camera,
    calib: Calibration,
    timestamp_s: float,
    rng: np.random.Generator,
    model: DetectorModel | None = None,
) -> Detections:
    """What ``camera``'s detector would report at ``timestamp_s`` about the simulated crowd.

    Args:
        sim: The station's simulation (advanced to ``timestamp_s`` here).
        camera: The camera, from the layout (its floor, resolution, pixel noise and, when given,
            its camera model for the height of people in the image).
        calib: Its calibration (``homography.fitting.calibrate_camera(camera)``).
        timestamp_s: Capture time; also the timestamp of the detections.
        rng: Source of the detector's noise (misses, pixel noise, false positives).
        model: How good the detector is.

    Returns:
        Boxes in pixels whose bottom centre is each person's foot point plus noise.
    """
    return observe_with_truth(sim, camera, calib, timestamp_s, rng, model).detections
