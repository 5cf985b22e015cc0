"""What the web tier knows of a station's cameras without fitting them: a layout check's result.

Fitting a calibration needs OpenCV, which the publishing tier never loads (PRIVACY.md P1,
tests/test_architecture.py). The runtime fits the cameras elsewhere (``crowdmap.station_check``,
in its own process) and hands the web tier this plain result:

- per camera, its calibration kind and errors, for the operator's home page (login required);
- per floor, the floor area the cameras see together, as polygons in metres. The public map
  draws the walkable floor outside it as "not covered": floor geometry only, the union over all
  cameras, with no camera id, position or view (PRIVACY.md P1, P2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Ring = list[list[float]]
# Floor id -> polygons, each ``[exterior, hole, ...]``, each ring a list of ``[x_m, y_m]``.
Coverage = Mapping[str, list[list[Ring]]]


class CheckError(ValueError):
    """A station check's JSON is malformed; the message names the field."""


@dataclass(frozen=True)
class CameraCheck:
    """One camera's calibration as ``crowdmap layout check`` reports it.

    Attributes:
        camera_id: The camera.
        floor_id: Its floor.
        kind: ``point_pairs``, ``image_to_floor`` or ``camera_model``.
        pairs: Point pairs in its file (0 for the other kinds).
        rms_error_m: RMS residual of the fit, metres (None without pairs).
        max_residual_m: Largest residual, metres.
        loo_rms_error_m: RMS leave-one-out error, metres.
        max_error_m: The camera's limit (``calibration.max_error_m``).
        coverage_m2: Walkable floor it sees, square metres.
        error: Why its calibration cannot be trusted, or None.
        person_height_px: Smallest and largest height of a standing person on its floor, pixels
            (from the calibration), or None when it cannot tell.
        detector_in_range: Whether its detector finds people of those heights reliably on (nearly)
            every floor row, with its tiles; None when unknown.
        detector_summary: The same in one line for the operator, or None.
        zones: The zones it sees part of (a camera alert names them).
    """

    camera_id: str
    floor_id: str
    kind: str
    pairs: int
    rms_error_m: float | None
    max_residual_m: float | None
    loo_rms_error_m: float | None
    max_error_m: float
    coverage_m2: float | None
    error: str | None
    person_height_px: tuple[float, float] | None = None
    detector_in_range: bool | None = None
    detector_summary: str | None = None
    zones: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON)."""
        return {
            "zones": list(self.zones),
            "camera": self.camera_id,
            "floor": self.floor_id,
            "kind": self.kind,
            "pairs": self.pairs,
            "rms_error_m": self.rms_error_m,
            "max_residual_m": self.max_residual_m,
            "loo_rms_error_m": self.loo_rms_error_m,
            "max_error_m": self.max_error_m,
            "coverage_m2": self.coverage_m2,
            "error": self.error,
            "person_height_px": None if self.person_height_px is None else list(self.person_height_px),
            "detector_in_range": self.detector_in_range,
            "detector_summary": self.detector_summary,
        }


@dataclass(frozen=True)
class StationCheck:
    """The result of fitting every camera of one station.

    Attributes:
        station_id: The station.
        checked_at: When, unix seconds.
        cameras: One entry per camera of the layout.
        covered_m: Floor id -> the area all its cameras see together (see module docstring).
    """

    station_id: str
    checked_at: float
    cameras: tuple[CameraCheck, ...]
    covered_m: Coverage = field(default_factory=dict)

    @property
    def camera_zones(self) -> dict[str, tuple[str, ...]]:
        """Camera id -> the zones it sees part of (fitted cameras only)."""
        return {camera.camera_id: camera.zones for camera in self.cameras if camera.error is None}

    @property
    def ok(self) -> bool:
        """True when every camera's calibration can be trusted."""
        return all(camera.error is None for camera in self.cameras)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON), the inverse of :func:`check_from_dict`."""
        return {
            "station": self.station_id,
            "checked_at": self.checked_at,
            "cameras": [camera.to_dict() for camera in self.cameras],
            "covered_m": {floor: polygons for floor, polygons in self.covered_m.items()},
        }


def _number(value: Any, where: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CheckError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _text(value: Any, where: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise CheckError(f"{where}: expected text, got {type(value).__name__}")
    return value


def _flag(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise CheckError(f"{where}: expected true, false or null, got {value!r}")


def _range(value: Any, where: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise CheckError(f"{where}: expected [smallest, largest] or null, got {value!r}")
    low, high = (float(_number(v, where) or 0.0) for v in value)
    return low, high


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CheckError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _point(value: Any, where: str) -> list[float]:
    if not isinstance(value, list) or len(value) != 2:
        raise CheckError(f"{where}: a point must be [x_m, y_m], got {value!r}")
    return [float(_number(value[0], where) or 0.0), float(_number(value[1], where) or 0.0)]


def _polygons(value: Any, where: str) -> list[list[Ring]]:
    if not isinstance(value, list):
        raise CheckError(f"{where}: expected a list of polygons")
    out = []
    for i, rings in enumerate(value):
        if not isinstance(rings, list) or not rings:
            raise CheckError(f"{where}[{i}]: expected a list of rings")
        checked = []
        for k, ring in enumerate(rings):
            if not isinstance(ring, list) or len(ring) < 3:
                raise CheckError(f"{where}[{i}][{k}]: a ring needs 3 or more points")
            checked.append([_point(point, f"{where}[{i}][{k}]") for point in ring])
        out.append(checked)
    return out


def check_from_dict(data: Any) -> StationCheck:
    """Read a station check from plain data (what ``python -m crowdmap.station_check`` prints).

    Raises:
        CheckError: naming the malformed field.
    """
    if not isinstance(data, dict):
        raise CheckError(f"station check: expected a mapping, got {type(data).__name__}")
    cameras = []
    for i, row in enumerate(data.get("cameras") or []):
        where = f"cameras[{i}]"
        if not isinstance(row, dict):
            raise CheckError(f"{where}: expected a mapping")
        cameras.append(
            CameraCheck(
                camera_id=str(_text(row.get("camera"), f"{where}.camera")),
                floor_id=str(_text(row.get("floor"), f"{where}.floor")),
                kind=str(_text(row.get("kind"), f"{where}.kind")),
                pairs=int(_number(row.get("pairs"), f"{where}.pairs") or 0),
                rms_error_m=_number(row.get("rms_error_m"), f"{where}.rms_error_m", optional=True),
                max_residual_m=_number(row.get("max_residual_m"), f"{where}.max_residual_m", optional=True),
                loo_rms_error_m=_number(row.get("loo_rms_error_m"), f"{where}.loo_rms_error_m", optional=True),
                max_error_m=float(_number(row.get("max_error_m"), f"{where}.max_error_m") or 0.0),
                coverage_m2=_number(row.get("coverage_m2"), f"{where}.coverage_m2", optional=True),
                error=_text(row.get("error"), f"{where}.error", optional=True),
                person_height_px=_range(row.get("person_height_px"), f"{where}.person_height_px"),
                detector_in_range=_flag(row.get("detector_in_range"), f"{where}.detector_in_range"),
                detector_summary=_text(row.get("detector_summary"), f"{where}.detector_summary", optional=True),
                zones=tuple(str(_text(z, f"{where}.zones")) for z in _list(row.get("zones"), f"{where}.zones")),
            )
        )
    covered = data.get("covered_m")
    covered = {} if covered is None else covered
    if not isinstance(covered, dict):
        raise CheckError("covered_m: expected a mapping of floor id to polygons")
    return StationCheck(
        station_id=str(_text(data.get("station"), "station")),
        checked_at=float(_number(data.get("checked_at"), "checked_at") or 0.0),
        cameras=tuple(cameras),
        covered_m={str(floor): _polygons(polygons, f"covered_m.{floor}") for floor, polygons in covered.items()},
    )


def checks_by_station(checks: Sequence[StationCheck] | None) -> dict[str, StationCheck]:
    """Index checks by station id.

    Raises:
        ValueError: if a station is checked twice.
    """
    out: dict[str, StationCheck] = {}
    for check in checks or ():
        if check.station_id in out:
            raise ValueError(f"station {check.station_id!r} checked twice")
        out[check.station_id] = check
    return out
