"""Wiring for ``crowdmap eval``: set a station's camera up as its edge would, for a stage's evaluation.

The scoring lives beside each stage (``detector.evaluation``, ``detector.evaluation_runs``,
``iconizer.fusion_evaluation``); this module only joins the station model, the calibration and
the detector, as the composition root does for a running station.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from crowdmap.station import Station
    from detector import Detector
    from homography.calibration import Calibration
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
        from homography.calibration import to_floor

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
