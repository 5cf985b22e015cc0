"""The calibration audit log: one JSON line per saved calibration, never an image (PRIVACY.md P5).

Each entry says who changed which camera when, how many pairs the new fit has, and its error
against the old one. The file is only ever appended to, one ``write`` per entry under an
exclusive lock, so concurrent tools never interleave lines.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

# Every key an entry may have: the log is an allow list, so nothing else (least of all an image)
# can slip into it through a new field.
ENTRY_KEYS = (
    "time_utc",
    "user",
    "station",
    "camera",
    "action",
    "pair_count",
    "old_kind",
    "old_rms_error_m",
    "old_on_new_pairs_rms_m",
    "new_rms_error_m",
    "new_loo_rms_error_m",
    "camera_file",
    "backup_file",
)


@dataclass(frozen=True)
class AuditEntry:
    """One saved calibration.

    Attributes:
        time_utc: ISO 8601 time of the save, UTC.
        user: The operator's login name.
        station: Station id.
        camera: Camera id.
        action: What was done (``save_point_pairs``).
        pair_count: Point pairs in the new calibration.
        old_kind: How the camera was calibrated before: ``point_pairs``, ``image_to_floor`` or
            ``camera_model``.
        old_rms_error_m: The old fit's own RMS residual, metres; ``None`` when the old
            calibration was not fitted from pairs.
        old_on_new_pairs_rms_m: RMS distance, metres, between the new floor points and where the
            old calibration puts the new image points: how far the change moves the map.
            ``None`` when the old calibration could not be evaluated.
        new_rms_error_m: The new fit's RMS residual, metres.
        new_loo_rms_error_m: The new fit's leave-one-out RMS error, metres (``None`` for 4 pairs).
        camera_file: The rewritten camera file.
        backup_file: The previous version of the camera file.
    """

    time_utc: str
    user: str
    station: str
    camera: str
    action: str
    pair_count: int
    old_kind: str
    old_rms_error_m: float | None
    old_on_new_pairs_rms_m: float | None
    new_rms_error_m: float
    new_loo_rms_error_m: float | None
    camera_file: str
    backup_file: str

    def __post_init__(self) -> None:
        if self.pair_count < 0:
            raise ValueError(f"pair_count must be >= 0, got {self.pair_count}")
        for name in ("old_rms_error_m", "old_on_new_pairs_rms_m", "new_loo_rms_error_m"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                object.__setattr__(self, name, None)
        if not math.isfinite(self.new_rms_error_m):
            raise ValueError(f"new_rms_error_m must be finite, got {self.new_rms_error_m}")


class AuditLog:
    """An append-only JSON-lines file of :class:`AuditEntry`.

    Args:
        path: The log file; its folder is created if missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def append(self, entry: AuditEntry) -> None:
        """Append one entry as one line."""
        data = asdict(entry)
        if tuple(data) != ENTRY_KEYS:
            raise ValueError(f"audit entries have exactly the keys {ENTRY_KEYS}, got {tuple(data)}")
        line = (json.dumps(data, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[dict]:
        """Every entry so far, oldest first (empty when the file does not exist yet)."""
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
