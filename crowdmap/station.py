"""A station ready to run: its layout validated and every camera calibrated, before anything starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from station import Camera, StationLayout, load_layout, resolve_station_path

if TYPE_CHECKING:
    # Imported where cameras are calibrated only: the web tier loads layouts without OpenCV.
    from homography.calibration import Calibration


@dataclass(frozen=True)
class Station:
    """A validated layout with a fitted calibration for each of its cameras."""

    path: Path
    layout: StationLayout
    calibrations: dict[str, Calibration]

    @property
    def id(self) -> str:
        return self.layout.station.id

    def cameras(self, ids: list[str] | None = None) -> list[Camera]:
        """The named cameras (all when ``ids`` is None), failing on an unknown name."""
        if ids is None:
            return list(self.layout.cameras)
        return [self.layout.camera(camera_id) for camera_id in ids]


def load_station(name_or_path: str | None) -> Station:
    """Load and check a station; a bad layout or camera fails here, naming the file or camera.

    Raises:
        LayoutError: the layout is missing or invalid.
        CalibrationError: a camera's calibration cannot be trusted.
    """
    from homography.fitting import calibrate_camera

    path = resolve_station_path(name_or_path)
    layout = load_layout(path)
    calibrations = {camera.id: calibrate_camera(camera) for camera in layout.cameras}
    return Station(path=path, layout=layout, calibrations=calibrations)
