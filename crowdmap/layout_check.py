"""``crowdmap layout check``'s work: load a layout, fit every camera, and say what cannot be trusted.

Composition-root code: it joins the station model with the geometry stage (fitting, coverage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class LayoutCheck:
    """What checking a layout found.

    Attributes:
        rows: One row per camera (``camera``, ``floor``, ``kind``, ``pairs``, ``rms_error_m``,
            ``max_residual_m``, ``loo_rms_error_m``, ``coverage_m2``, ``error``); empty when the
            layout does not load.
        error: Why the layout itself does not load, or None.
        warnings: What loads but should not go live (e.g. a contact on a domain reserved for examples).
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def failed_cameras(self) -> list[str]:
        """The cameras whose calibration cannot be trusted."""
        return [row["camera"] for row in self.rows if row["error"] is not None]


def check_layout(path: Path) -> LayoutCheck:
    """Load the layout at ``path`` and fit every camera."""
    from homography.calibration import CalibrationError
    from homography.coverage import coverage_polygon
    from homography.fitting import calibrate_camera
    from station import LayoutError, load_layout

    try:
        layout = load_layout(path)
    except LayoutError as error:
        return LayoutCheck(error=str(error))
    check = LayoutCheck()
    details = layout.notice.contact_details
    for name in details.placeholders():
        check.warnings.append(
            f"notice.contact_details.{name} {getattr(details, name)!r} is on a domain reserved for examples: "
            "it reaches nobody; put the station's real contact there before going live"
        )
    for camera in layout.cameras:
        row: dict[str, Any] = {
            "camera": camera.id,
            "floor": camera.floor,
            "kind": camera.calibration.kind,
            "pairs": len(camera.calibration.point_pairs or []),
            "rms_error_m": None,
            "max_residual_m": None,
            "loo_rms_error_m": None,
            "coverage_m2": None,
            "error": None,
        }
        check.rows.append(row)
        try:
            calib = calibrate_camera(camera)
        except CalibrationError as error:
            row["error"] = str(error)
            continue
        if len(calib.residuals_m):
            row["rms_error_m"] = calib.rms_error_m
            row["max_residual_m"] = calib.max_error_m
            row["loo_rms_error_m"] = calib.loo_rms_error_m
        row["coverage_m2"] = float(coverage_polygon(calib, layout.floor(camera.floor)).area)
    return check
