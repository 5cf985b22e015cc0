"""The camera being calibrated: its layout, its current calibration, and saving a new one.

A save fits the pairs again (a page cannot save what the server would reject), writes the
camera file with its previous version kept, reloads the whole layout from disk to prove the new
file loads and fits, puts the old file back if it does not, and appends an audit entry.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from calibrator.audit import AuditEntry, AuditLog
from calibrator.camera_file import SavedCameraFile, round_pairs, save_point_pairs
from calibrator.preview import FitPreview, preview_fit
from homography.calibration import Calibration, CalibrationError
from homography.fitting import calibrate_camera
from homography.projection import to_floor
from station import Camera, Floor, LayoutError, StationLayout, load_layout


class SaveRefused(ValueError):
    """The pairs cannot be saved; the message says why (the fit's own error, or a bad file)."""


@dataclass(frozen=True)
class SaveResult:
    """A saved calibration.

    Attributes:
        files: The rewritten camera file and its backup.
        preview: The accepted fit that was saved.
        entry: The audit entry written.
    """

    files: SavedCameraFile
    preview: FitPreview
    entry: AuditEntry


def calibration_kind(camera: Camera) -> str:
    """How a camera is calibrated: ``point_pairs``, ``image_to_floor`` or ``camera_model``."""
    return camera.calibration.kind


def _rms_distance(a_m: np.ndarray, b_m: np.ndarray) -> float | None:
    distances = np.linalg.norm(a_m - b_m, axis=1)
    finite = distances[np.isfinite(distances)]
    return float(np.sqrt(np.mean(finite**2))) if len(finite) == len(distances) and len(finite) else None


class CameraTarget:
    """One camera of one station layout folder, reloaded from disk after every save.

    Args:
        layout_dir: The station layout folder.
        camera_id: The camera to calibrate.

    Raises:
        LayoutError: if the layout does not load or has no such camera.
    """

    def __init__(self, layout_dir: str | Path, camera_id: str) -> None:
        self.layout_dir = Path(layout_dir)
        self.camera_id = camera_id
        self._lock = threading.Lock()
        self._layout = self._load()

    def _load(self) -> StationLayout:
        layout = load_layout(self.layout_dir)
        try:
            layout.camera(self.camera_id)
        except KeyError as error:
            raise LayoutError(f"{self.layout_dir}: {error.args[0]}") from None
        return layout

    @property
    def layout(self) -> StationLayout:
        """The layout as last loaded."""
        return self._layout

    @property
    def camera(self) -> Camera:
        """The camera as last loaded."""
        return self._layout.camera(self.camera_id)

    @property
    def floor(self) -> Floor:
        """The camera's floor."""
        return self._layout.floor(self.camera.floor)

    def current_calibration(self) -> tuple[Calibration | None, str | None]:
        """The camera's calibration as stored, or ``None`` and the reason it cannot be used."""
        try:
            return calibrate_camera(self.camera), None
        except CalibrationError as error:
            return None, str(error)

    def preview(self, image_px: np.ndarray, floor_m: np.ndarray) -> FitPreview:
        """Fit the pairs (rounded as they would be stored) against the current camera."""
        image, plan = round_pairs(image_px, floor_m)
        return preview_fit(image_px=image, floor_m=plan, camera=self.camera, floor=self.floor)

    def save(
        self, image_px: np.ndarray, floor_m: np.ndarray, *, user: str, audit: AuditLog, now: datetime
    ) -> SaveResult:
        """Save the pairs as the camera's calibration.

        Args:
            image_px: ``(n, 2)`` raw-image pixels.
            floor_m: ``(n, 2)`` plan metres.
            user: The operator saving.
            audit: Where the change is recorded.
            now: Time of the save (UTC).

        Raises:
            SaveRefused: the fit is rejected, or the saved layout would not load (the old file
                is then restored).
        """
        with self._lock:
            image, plan = round_pairs(image_px, floor_m)
            preview = preview_fit(image_px=image, floor_m=plan, camera=self.camera, floor=self.floor)
            if not preview.ok:
                raise SaveRefused(f"not saved: {preview.error}")
            old_camera = self.camera
            old_calib, _ = self.current_calibration()
            old_on_new = None
            if old_calib is not None:
                old_floor_m, _ = to_floor(points_px=image, calib=old_calib)
                old_on_new = _rms_distance(old_floor_m, plan)
            when = now.astimezone(UTC)
            note = f"{len(image)} point pairs saved by {user} at {when.isoformat(timespec='seconds')}"
            try:
                files = save_point_pairs(
                    layout_dir=self.layout_dir,
                    camera_id=self.camera_id,
                    image_px=image,
                    floor_m=plan,
                    now=when,
                    note=note,
                )
            except LayoutError as error:
                raise SaveRefused(f"not saved: {error}") from None
            try:
                reloaded = self._load()
                calibrate_camera(reloaded.camera(self.camera_id))
            except (LayoutError, CalibrationError) as error:
                # Never leave a station that fails at start: put the previous file back.
                files.camera_file.write_bytes(files.backup_file.read_bytes())
                raise SaveRefused(f"not saved: the layout would not load with it: {error}") from None
            self._layout = reloaded
            entry = AuditEntry(
                time_utc=when.isoformat(timespec="seconds"),
                user=user,
                station=reloaded.station.id,
                camera=self.camera_id,
                action="save_point_pairs",
                pair_count=len(image),
                old_kind=calibration_kind(old_camera),
                old_rms_error_m=old_calib.rms_error_m if old_calib is not None and len(old_calib.residuals_m) else None,
                old_on_new_pairs_rms_m=old_on_new,
                new_rms_error_m=preview.rms_error_m,
                new_loo_rms_error_m=preview.loo_rms_error_m,  # AuditEntry turns NaN into None
                camera_file=str(files.camera_file),
                backup_file=str(files.backup_file),
            )
            audit.append(entry)
            return SaveResult(files=files, preview=preview, entry=entry)
