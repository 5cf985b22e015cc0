"""Loading a station for the runtime: layout validated, every camera calibrated, before anything starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from homography.layout import Camera, LayoutError, StationLayout, load_layout
from station_layouts import DEFAULT_STATION, bundled

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


def resolve_station_path(name_or_path: str | None) -> Path:
    """A layout folder from a path, or from the name of a bundled layout."""
    if name_or_path is None:
        return bundled(DEFAULT_STATION)
    path = Path(name_or_path)
    if path.exists():
        return path
    try:
        return bundled(name_or_path)
    except FileNotFoundError as error:
        raise LayoutError(f"{name_or_path}: no such layout folder, and {error}") from None


def load_station_layout(name_or_path: str | None) -> StationLayout:
    """Only the layout of a station, for processes that need no calibration (the web tier)."""
    return load_layout(resolve_station_path(name_or_path))


def load_station(name_or_path: str | None) -> Station:
    """Load and check a station; a bad layout or camera fails here, naming the file or camera.

    Raises:
        LayoutError: the layout is missing or invalid.
        CalibrationError: a camera's calibration cannot be trusted.
    """
    from homography.calibration import calibrate_camera

    path = resolve_station_path(name_or_path)
    layout = load_layout(path)
    calibrations = {camera.id: calibrate_camera(camera) for camera in layout.cameras}
    return Station(path=path, layout=layout, calibrations=calibrations)
