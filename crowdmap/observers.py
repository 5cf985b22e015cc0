"""Where an edge worker's detections come from: the simulator, or a real camera and detector.

Both live only inside the edge process. A real camera's frame goes from the source to the
detector and is dropped when ``observe`` returns; only the detections leave this module.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from detector.types import Detections
from homography.calibration import Calibration
from iconizer.types import CameraStatus
from station import Camera, StationLayout

if TYPE_CHECKING:
    from crowdmap.tiers.edge import Observer
    from detector import Detector
    from detector.sources import CameraSource

log = logging.getLogger(__name__)

# All edge processes of the demo station simulate the same crowd: same seed, same epoch.
DEFAULT_SEED = 2009


@dataclass
class SimulatedObserver:
    """Reports what a simulated camera's detector would see in the simulated station.

    The simulation runs on the station's clock: 0 at ``epoch_s`` (wall time), so every edge
    process with the same seed and epoch watches the same crowd, and trains arrive at
    ``first_train_after_s`` after the epoch and every ``train_interval_s`` after that. The
    simulation is built and warmed up at construction; with ``epoch_s`` None its clock starts
    later, with :meth:`start_clock` (the embedded station does so once all its processes are ready).
    """

    layout: StationLayout
    camera: Camera
    calib: Calibration
    seed: int
    epoch_s: float | None = None
    first_train_after_s: float | None = None
    _fps: float = 0.0
    _last_s: float = math.nan
    _sim: Any = field(init=False, repr=False)
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from simulator import Simulation, SimulationConfig

        config = SimulationConfig()
        if self.first_train_after_s is not None:
            offset_s = self.first_train_after_s % config.train_interval_s
            config = dataclasses.replace(config, train_offset_s=offset_s)
        self._sim = Simulation(self.layout, seed=self.seed, start_s=0.0, config=config)
        # Detection noise differs per camera but is reproducible.
        self._rng = np.random.default_rng([self.seed, sum(map(ord, self.camera.id))])

    def start_clock(self, epoch_s: float) -> None:
        """Start the simulation's clock: it reads 0 at wall time ``epoch_s``."""
        self.epoch_s = float(epoch_s)

    def observe(self, now_s: float) -> Detections | None:
        """The simulated detector's report at wall time ``now_s``.

        Raises:
            RuntimeError: the clock has not been started.
        """
        from simulator import observe

        if self.epoch_s is None:
            raise RuntimeError(f"camera {self.camera.id}: the simulation's clock has not been started")
        if math.isfinite(self._last_s) and now_s > self._last_s:
            self._fps = 0.8 * self._fps + 0.2 / (now_s - self._last_s)
        self._last_s = now_s
        detections = observe(self._sim, self.camera, self.calib, max(0.0, now_s - self.epoch_s), self._rng)
        return dataclasses.replace(detections, timestamp_s=float(now_s))

    def status(self, now_s: float) -> CameraStatus:
        age = now_s - self._last_s if math.isfinite(self._last_s) else math.inf
        return CameraStatus(self.camera.id, now_s, "live", self._fps, max(0.0, age), "")

    def close(self) -> None:
        pass


@dataclass
class CameraObserver:
    """Reads the newest frame of a real camera and runs the detector on it."""

    camera: Camera
    source: CameraSource
    detector: Detector

    def observe(self, now_s: float) -> Detections | None:
        frame = self.source.read()
        if frame is None:
            return None
        # The frame dies with this scope: it is never stored, logged or sent (PRIVACY.md P1).
        return self.detector.detect(frame.image_bgr, camera_id=self.camera.id, timestamp_s=frame.timestamp_s)

    def status(self, now_s: float) -> CameraStatus:
        health = self.source.health()
        return CameraStatus(
            camera_id=self.camera.id,
            timestamp_s=now_s,
            state=health.state,
            fps=health.fps,
            last_frame_age_s=health.last_frame_age_s,
            error=health.error_code,  # the code only: free text stays in this process
        )

    def close(self) -> None:
        self.source.close()


def scene_options(camera: Camera, calib: Calibration, layout: StationLayout) -> dict[str, Any]:
    """What the calibration tells the detector about this view: person size per row and floor mask.

    A calibration that implies no plausible camera pose (a hand-made homography, say) gives no
    person heights; the detector then relies on the floor mask and its own tiling.
    """
    from homography.pose import PoseError
    from homography.scene import floor_mask_px, person_height_px_per_row

    floor = layout.floor(camera.floor)
    options: dict[str, Any] = {"floor_mask": floor_mask_px(calib, floor)}
    try:
        options["person_height_px"] = person_height_px_per_row(calib, floor)
    except PoseError as error:
        log.warning("camera %s: no person heights from its calibration (%s)", camera.id, error)
    return options


def make_observer_factory(options: dict[str, Any]) -> Callable[[StationLayout, Camera, Calibration], Observer]:
    """A factory building the right observer for each camera of a layout.

    Options: ``video`` replaces a ``{video}`` source; ``backend`` overrides the camera's
    detector backend; ``seed`` and ``epoch_s`` set the simulation shared by all edge processes
    (without ``epoch_s`` its clock waits for ``SimulatedObserver.start_clock``), and
    ``first_train_after_s`` when its first train arrives after the epoch;
    ``realtime`` (default True) paces file sources like a live camera; ``loop`` (default False)
    plays a video file or image folder again from its start when it ends, instead of the camera
    going ``dead`` with ``recording_ended`` (the footage demo).
    """

    def build(layout: StationLayout, camera: Camera, calib: Calibration) -> Observer:
        if camera.source == "sim":
            first_train = options.get("first_train_after_s")
            return SimulatedObserver(
                layout,
                camera,
                calib,
                seed=int(options.get("seed", DEFAULT_SEED)),
                epoch_s=None if options.get("epoch_s") is None else float(options["epoch_s"]),
                first_train_after_s=None if first_train is None else float(first_train),
            )
        from detector import DEFAULT_BACKEND, create_detector
        from detector.sources import open_source

        spec = camera.source
        if spec == "{video}":
            if not options.get("video"):
                raise ValueError(f"camera {camera.id!r} reads '{{video}}': give the video with --video PATH")
            spec = str(options["video"])
        detector_options = dict(camera.detector)
        backend = str(options.get("backend") or detector_options.pop("backend", DEFAULT_BACKEND))
        detector_options.pop("backend", None)
        detector_options.update(scene_options(camera, calib, layout))
        detector = create_detector(backend, **detector_options)
        source = open_source(
            spec,
            target_fps=camera.target_fps,
            realtime=bool(options.get("realtime", True)),
            resolution_wh=camera.resolution_wh,
            loop=bool(options.get("loop", False)),
        )
        return CameraObserver(camera, source, detector)

    return build
