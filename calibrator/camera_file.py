"""Write a camera's new point pairs into its layout file, keeping the previous version.

Only ``calibration`` changes: the point pairs replace whatever described the calibration before
(pairs, a matrix or a camera model), the lens (``camera_matrix``, ``dist_coeffs``) and
``max_error_m`` are kept, and every other key of the camera file stays as it was. The file's
leading comment block is kept too. Before the file is replaced, its exact previous bytes are
copied to ``cameras/history/<id>.<UTC time>.yaml``; the new file is written to a temporary file
and renamed over the old one, so a crash never leaves half a camera file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from station import ID_PATTERN, Camera, LayoutError, is_id

HISTORY_FOLDER = "history"
# The layout format's id pattern; checked here too because the id becomes part of a path.
# Clicks are no finer than this; rounding keeps the file readable and the saved fit identical
# to the previewed one (the page rounds the same way before previewing).
IMAGE_DECIMALS = 1
FLOOR_DECIMALS = 3


@dataclass(frozen=True)
class SavedCameraFile:
    """Where a save went.

    Attributes:
        camera_file: The rewritten ``cameras/<id>.yaml``.
        backup_file: The previous version, byte for byte.
    """

    camera_file: Path
    backup_file: Path


def camera_file_path(layout_dir: str | Path, camera_id: str) -> Path:
    """``<layout>/cameras/<id>.yaml``; the id must match the layout's id pattern (no paths)."""
    if not is_id(camera_id):
        raise LayoutError(f"camera id must match {ID_PATTERN}, got {camera_id!r}")
    return Path(layout_dir) / "cameras" / f"{camera_id}.yaml"


def round_pairs(image_px: np.ndarray, floor_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs as they will be stored: pixels to 0.1 px, metres to 1 mm."""
    return np.round(np.asarray(image_px, dtype=np.float64), IMAGE_DECIMALS), np.round(
        np.asarray(floor_m, dtype=np.float64), FLOOR_DECIMALS
    )


def with_point_pairs(camera: dict[str, Any], image_px: np.ndarray, floor_m: np.ndarray) -> dict[str, Any]:
    """A copy of a camera mapping whose calibration is the given point pairs.

    Args:
        camera: The camera file's mapping.
        image_px: ``(n, 2)`` raw-image pixels.
        floor_m: ``(n, 2)`` plan metres.

    Raises:
        LayoutError: if the result is not a valid camera.
    """
    image, plan = round_pairs(image_px, floor_m)
    old = dict(camera.get("calibration") or {})
    calibration: dict[str, Any] = {
        "point_pairs": [
            {"image_px": [float(u), float(v)], "floor_m": [float(x), float(y)]}
            for (u, v), (x, y) in zip(image.tolist(), plan.tolist(), strict=True)
        ]
    }
    model = old.get("camera_model") or {}
    if old.get("camera_matrix") is not None:
        calibration["camera_matrix"] = old["camera_matrix"]
        calibration["dist_coeffs"] = old["dist_coeffs"]
    elif model.get("dist_coeffs"):
        # The lens of a camera model stays: points are still undistorted before the homography.
        calibration["camera_matrix"] = model["camera_matrix"]
        calibration["dist_coeffs"] = model["dist_coeffs"]
    if "max_error_m" in old:
        calibration["max_error_m"] = old["max_error_m"]
    updated = dict(camera)
    updated["calibration"] = calibration
    try:
        Camera.model_validate(updated)
    except ValidationError as error:
        raise LayoutError(f"camera {camera.get('id')!r}: the new calibration is invalid: {error}") from None
    return updated


def _leading_comments(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return lines


def _backup_path(camera_file: Path, now: datetime) -> Path:
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    history = camera_file.parent / HISTORY_FOLDER
    candidate = history / f"{camera_file.stem}.{stamp}.yaml"
    counter = 1
    while candidate.exists():
        counter += 1
        candidate = history / f"{camera_file.stem}.{stamp}-{counter}.yaml"
    return candidate


def _write_exclusive(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: a backup is never overwritten, even by two saves in the same second.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _replace_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.saving")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def save_point_pairs(
    *,
    layout_dir: str | Path,
    camera_id: str,
    image_px: np.ndarray,
    floor_m: np.ndarray,
    now: datetime,
    note: str,
) -> SavedCameraFile:
    """Replace a camera's calibration by point pairs in its file, keeping the old file.

    Args:
        layout_dir: The station layout folder.
        camera_id: The camera; its file is ``cameras/<id>.yaml``.
        image_px: ``(n, 2)`` raw-image pixels.
        floor_m: ``(n, 2)`` plan metres.
        now: Time of the save, UTC (names the backup).
        note: One line recorded as a comment above the camera (who saved, when).

    Returns:
        The rewritten file and the backup.

    Raises:
        LayoutError: the camera file is missing, unreadable or not writable, or the result is
            not a valid camera.
    """
    camera_file = camera_file_path(layout_dir, camera_id)
    try:
        old_bytes = camera_file.read_bytes()
    except OSError as error:
        raise LayoutError(f"{camera_file}: cannot read: {error.strerror}") from None
    old_text = old_bytes.decode("utf-8")
    try:
        mapping = yaml.safe_load(old_text)
    except yaml.YAMLError as error:
        raise LayoutError(f"{camera_file}: not valid YAML: {error}") from None
    if not isinstance(mapping, dict):
        raise LayoutError(f"{camera_file}: expected a mapping at the top level, got {type(mapping).__name__}")
    updated = with_point_pairs(mapping, image_px, floor_m)
    comments = [line for line in _leading_comments(old_text) if not line.startswith("# calibration tool:")]
    comments.append(f"# calibration tool: {' '.join(note.split())}")
    body = yaml.safe_dump(updated, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)
    backup_file = _backup_path(camera_file, now)
    try:
        _write_exclusive(backup_file, old_bytes)
        _replace_atomically(camera_file, ("\n".join(comments) + "\n" + body).encode("utf-8"))
    except OSError as error:
        # A layout installed read-only (e.g. bundled in site-packages) cannot be calibrated in place.
        raise LayoutError(f"{error.filename or camera_file}: cannot write: {error.strerror}") from None
    return SavedCameraFile(camera_file=camera_file, backup_file=backup_file)
