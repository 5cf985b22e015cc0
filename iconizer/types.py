"""The iconizer's output, the only thing the publishing tier ever sees.

An :class:`IconFrame` holds anonymous dots and per-zone crowding for one floor. It has no
boxes, no pixels, no identifiers and no attributes: that is what makes the iconizer the
privacy boundary (PRIVACY.md P1, P2).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from arrays import readonly_array

LOS_GRADES = ("A", "B", "C", "D", "E", "F")


class CrowdingLevel(enum.IntEnum):
    """The public 4-step scale, each with a word in both languages (never colour alone)."""

    QUIET = 0
    BUSY = 1
    CROWDED = 2
    VERY_CROWDED = 3

    @property
    def label_en(self) -> str:
        return ("quiet", "busy", "crowded", "very crowded")[self]

    @property
    def label_ja(self) -> str:
        return ("空いています", "やや混雑", "混雑", "大変混雑")[self]


@dataclass(frozen=True)
class ZoneState:
    """Crowding of one zone at one instant.

    Attributes:
        zone_id: The zone, as named in the station layout.
        count: People in the zone (fused across cameras).
        density_per_m2: Smoothed people per square metre of walkable area.
        level: Public crowding level.
        los: Fruin level of service, ``"A"`` to ``"F"``, for the zone's kind.
        stale: True when no live camera covers the zone; count and density are then
            unknown, never zero.
    """

    zone_id: str
    count: int
    density_per_m2: float
    level: CrowdingLevel
    los: str
    stale: bool

    def __post_init__(self) -> None:
        if not self.zone_id:
            raise ValueError("zone_id must be a non-empty string, got ''")
        if self.count < 0:
            raise ValueError(f"count must be >= 0, got {self.count}")
        if not math.isfinite(self.density_per_m2) or self.density_per_m2 < 0:
            raise ValueError(f"density_per_m2 must be finite and >= 0, got {self.density_per_m2}")
        if self.los not in LOS_GRADES:
            raise ValueError(f"los must be one of {LOS_GRADES}, got {self.los!r}")
        object.__setattr__(self, "level", CrowdingLevel(self.level))


@dataclass(frozen=True)
class IconFrame:
    """Anonymous dots and zone crowding for one floor of one station.

    Attributes:
        station_id: The station.
        floor_id: The floor whose plan the dots refer to.
        timestamp_s: Time of the frame, unix seconds.
        dots_m: Coarsened positions ``(k, 2)`` in metres, in no stable order.
        moving: Per dot ``(k,)``: True when the person was walking, False when standing.
        zones: The state of every zone on this floor.
    """

    station_id: str
    floor_id: str
    timestamp_s: float
    dots_m: np.ndarray
    moving: np.ndarray
    zones: tuple[ZoneState, ...]

    def __post_init__(self) -> None:
        dots = readonly_array(self.dots_m, "dots_m", (2,))
        moving = readonly_array(self.moving, "moving", (), dtype=bool)
        if len(moving) != len(dots):
            raise ValueError(f"moving must have shape ({len(dots)},) to match dots_m, got shape {moving.shape}")
        if not math.isfinite(self.timestamp_s):
            raise ValueError(f"timestamp_s must be finite, got {self.timestamp_s}")
        zones = tuple(self.zones)
        for zone in zones:
            if not isinstance(zone, ZoneState):
                raise ValueError(f"zones must hold ZoneState values, got {type(zone).__name__}")
        ids = [z.zone_id for z in zones]
        if len(set(ids)) != len(ids):
            raise ValueError(f"zones must have unique ids, got {ids}")
        object.__setattr__(self, "dots_m", dots)
        object.__setattr__(self, "moving", moving)
        object.__setattr__(self, "zones", zones)

    def __len__(self) -> int:
        return len(self.dots_m)

    def zone(self, zone_id: str) -> ZoneState:
        """The state of one zone, by id."""
        for zone in self.zones:
            if zone.zone_id == zone_id:
                return zone
        raise KeyError(f"no zone {zone_id!r} in frame; zones are {[z.zone_id for z in self.zones]}")


CAMERA_STATES = ("live", "reconnecting", "stalled", "dead")

# What may be wrong with a camera: a code from this closed set, each with a short fixed text in
# English and Japanese for the staff. Free text from the edge never crosses the bus (PRIVACY.md P1);
# the edge logs its details locally. "" means no error.
CAMERA_ERRORS: dict[str, tuple[str, str]] = {
    "": ("", ""),
    "stream_lost": ("Camera stream lost; reconnecting", "カメラの映像が途切れました。再接続中です"),
    "source_unavailable": ("Camera cannot be opened", "カメラを開けません"),
    "corrupt_frames": ("Corrupt frames skipped", "破損したフレームをスキップしています"),
    "resolution_changed": ("Camera resolution differs from its calibration", "カメラの解像度が校正時と異なります"),
    "no_new_frames": ("No new frames from the camera", "カメラから新しいフレームが届きません"),
    "recording_ended": ("Recording ended", "録画の再生が終わりました"),
    "worker_failed": ("Camera processing failed; restarting", "カメラの処理が失敗しました。再起動中です"),
    "edge_stopped": ("Edge process stopped", "エッジ処理が停止しました"),
    "edge_silent": ("No message from the edge process", "エッジ処理からの通信がありません"),
}


@dataclass(frozen=True)
class CameraStatus:
    """Health of one camera as its edge worker sees it; drives staleness and the staff view.

    Attributes:
        camera_id: The camera.
        timestamp_s: When the status was taken, unix seconds.
        state: ``live``, ``reconnecting``, ``stalled`` (no new frame lately) or ``dead``.
        fps: Frames processed per second over the last few seconds.
        last_frame_age_s: Seconds since the last good frame (infinity if none yet).
        error: The last error, a code of :data:`CAMERA_ERRORS` (never free text); empty when none.
    """

    camera_id: str
    timestamp_s: float
    state: str
    fps: float = 0.0
    last_frame_age_s: float = math.inf
    error: str = ""

    def __post_init__(self) -> None:
        if not self.camera_id:
            raise ValueError("camera_id must be a non-empty string, got ''")
        if self.state not in CAMERA_STATES:
            raise ValueError(f"state must be one of {CAMERA_STATES}, got {self.state!r}")
        if not math.isfinite(self.fps) or self.fps < 0:
            raise ValueError(f"fps must be finite and >= 0, got {self.fps}")
        if math.isnan(self.last_frame_age_s) or self.last_frame_age_s < 0:
            raise ValueError(f"last_frame_age_s must be >= 0, got {self.last_frame_age_s}")
        if self.error not in CAMERA_ERRORS:
            raise ValueError(f"error must be a code of CAMERA_ERRORS, got {self.error[:40]!r}")

    @property
    def is_live(self) -> bool:
        return self.state == "live"

    @property
    def error_text(self) -> dict[str, str]:
        """The error's fixed text for staff, ``{"en": ..., "ja": ...}``."""
        en, ja = CAMERA_ERRORS[self.error]
        return {"en": en, "ja": ja}
