"""Edge tier: one camera's frames become floor positions on the bus.

Frames (or, for the simulated station, simulated detections) exist only inside this process.
What leaves it is the encoded output of :func:`bus.codec.encode_positions` and
:func:`bus.codec.encode_camera_status`: numbers, never pixels of an image (PRIVACY.md P1).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bus.codec import encode_camera_status, encode_positions
from bus.embedded import Publisher
from detector.types import Detections
from homography.calibration import Calibration
from homography.positions import foot_points_to_floor
from homography.types import FloorPositions
from iconizer.types import CameraStatus
from station import Camera, Floor, StationLayout

log = logging.getLogger(__name__)

STATUS_INTERVAL_S = 1.0


def positions_from_detections(
    detections: Detections, *, calib: Calibration, floor: Floor, pixel_sigma_px: float
) -> FloorPositions:
    """The floor positions of a frame's detections (see :func:`homography.positions.foot_points_to_floor`)."""
    return foot_points_to_floor(
        foot_px=detections.foot_px,
        confidence=detections.confidence,
        calib=calib,
        floor=floor,
        camera_id=detections.camera_id,
        timestamp_s=detections.timestamp_s,
        pixel_sigma_px=pixel_sigma_px,
    )


class Observer(Protocol):
    """Where an edge worker's detections come from: a camera + detector, or the simulator."""

    def observe(self, now_s: float) -> Detections | None:
        """The newest detections, or None when no new frame arrived."""
        ...

    def status(self, now_s: float) -> CameraStatus:
        """The camera's health right now."""
        ...

    def close(self) -> None:
        """Release the camera."""
        ...


@dataclass
class EdgeWorker:
    """Runs one camera: observe, project, publish; reports health once a second."""

    station_id: str
    camera: Camera
    floor: Floor
    calib: Calibration
    observer: Observer
    publisher: Publisher
    clock: Callable[[], float] = time.time
    positions_sent: int = 0
    frames_seen: int = 0

    def step(self) -> bool:
        """Process at most one new observation; True when positions were published."""
        now = self.clock()
        detections = self.observer.observe(now)
        if detections is None:
            return False
        self.frames_seen += 1
        positions = positions_from_detections(
            detections, calib=self.calib, floor=self.floor, pixel_sigma_px=self.camera.pixel_sigma_px
        )
        self.publisher.publish(encode_positions(self.station_id, positions))
        self.positions_sent += len(positions)
        return True

    def report(self) -> CameraStatus:
        status = self.observer.status(self.clock())
        self.publisher.publish(encode_camera_status(self.station_id, status))
        return status

    def run(self, should_stop: Callable[[], bool]) -> None:
        """Loop until ``should_stop()``; a failing frame is logged and skipped, never fatal."""
        period_s = 1.0 / self.camera.target_fps
        next_status = 0.0
        try:
            while not should_stop():
                started = self.clock()
                try:
                    self.step()
                except Exception:  # a bad frame must not kill the camera's worker
                    log.exception("camera %s: frame failed; skipping it", self.camera.id)
                if started >= next_status:
                    self.report()
                    next_status = started + STATUS_INTERVAL_S
                time.sleep(max(0.0, period_s - (self.clock() - started)))
        finally:
            self.observer.close()
            dead = CameraStatus(self.camera.id, self.clock(), "dead", 0.0, math.inf, "edge_stopped")
            self.publisher.publish(encode_camera_status(self.station_id, dead))


def build_worker(
    layout: StationLayout,
    camera_id: str,
    calib: Calibration,
    publisher: Publisher,
    observer_factory: Callable[[StationLayout, Camera, Calibration], Observer],
) -> EdgeWorker:
    """An edge worker for one camera of a layout."""
    camera = layout.camera(camera_id)
    return EdgeWorker(
        station_id=layout.station.id,
        camera=camera,
        floor=layout.floor(camera.floor),
        calib=calib,
        observer=observer_factory(layout, camera, calib),
        publisher=publisher,
    )
