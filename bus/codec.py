"""The bus codec: the only shapes allowed between tiers, validated at every receive.

Three message types cross the bus, as JSON objects:

- ``positions``     edge -> aggregator: one camera's floor positions (numbers only, PRIVACY.md P1).
- ``camera_status`` edge -> aggregator -> web: camera health, no image.
- ``icon_frames``   aggregator -> web: the anonymous dots and zone levels of every floor.

Decoding is strict: exact key sets, ids matching the layout's id pattern, finite numbers, and
bounded sizes. Whatever does not fit raises :class:`MessageError`; receivers drop and count it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from homography.types import FloorPositions
from iconizer.types import CAMERA_STATES, LOS_GRADES, CameraStatus, CrowdingLevel, IconFrame, ZoneState
from station import ID_PATTERN, is_id

WIRE_VERSION = 1
MAX_MESSAGE_BYTES = 512 * 1024
MAX_POINTS = 5000
MAX_FLOORS = 32
MAX_ZONES_PER_FLOOR = 256


class MessageError(ValueError):
    """A bus message that is malformed, oversized or outside the schema."""


@dataclass(frozen=True)
class PositionsMessage:
    station_id: str
    positions: FloorPositions


@dataclass(frozen=True)
class StatusMessage:
    station_id: str
    status: CameraStatus


@dataclass(frozen=True)
class StationFramesMessage:
    station_id: str
    timestamp: float
    frames: tuple[IconFrame, ...]


Message = PositionsMessage | StatusMessage | StationFramesMessage


def _round(values: np.ndarray, decimals: int) -> list[Any]:
    return np.round(values, decimals).tolist()


def _dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def encode_positions(station_id: str, positions: FloorPositions) -> bytes:
    """Serialise one camera's floor positions for the bus (millimetre precision)."""
    return _dumps(
        {
            "type": "positions",
            "v": WIRE_VERSION,
            "station": station_id,
            "camera": positions.camera_id,
            "floor": positions.floor_id,
            "t": positions.timestamp,
            "xy_m": _round(positions.xy_m, 3),
            "confidence": _round(positions.confidence, 3),
            "sigma_m": _round(positions.sigma_m, 3),
        }
    )


def encode_camera_status(station_id: str, status: CameraStatus) -> bytes:
    """Serialise a camera's health for the bus."""
    age = status.last_frame_age_s
    return _dumps(
        {
            "type": "camera_status",
            "v": WIRE_VERSION,
            "station": station_id,
            "camera": status.camera_id,
            "t": status.timestamp,
            "state": status.state,
            "fps": round(status.fps, 2),
            "last_frame_age_s": round(age, 2) if math.isfinite(age) else None,
            "error": status.error,
        }
    )


def frame_to_floor_mapping(frame: IconFrame) -> dict[str, Any]:
    """One floor of an icon frame as plain data: the shape shared by the bus and the public API."""
    moving = frame.moving.astype(np.float64)[:, None]
    return {
        "floor": frame.floor_id,
        "dots": _round(np.hstack((frame.dots_m, moving)), 2) if len(frame) else [],
        "zones": [
            {
                "id": zone.zone_id,
                "count": zone.count,
                "density_per_m2": round(zone.density_per_m2, 3),
                "level": int(zone.level),
                "los": zone.los,
                "stale": zone.stale,
            }
            for zone in frame.zones
        ],
    }


def encode_station_frames(station_id: str, frames: list[IconFrame], timestamp: float) -> bytes:
    """Serialise the icon frames of every floor of a station for the bus."""
    return _dumps(
        {
            "type": "icon_frames",
            "v": WIRE_VERSION,
            "station": station_id,
            "timestamp": timestamp,
            "floors": [frame_to_floor_mapping(frame) for frame in frames],
        }
    )


# ---- decoding -------------------------------------------------------------------------------

_KEYS = {
    "positions": {"type", "v", "station", "camera", "floor", "t", "xy_m", "confidence", "sigma_m"},
    "camera_status": {"type", "v", "station", "camera", "t", "state", "fps", "last_frame_age_s", "error"},
    "icon_frames": {"type", "v", "station", "timestamp", "floors"},
}
_FLOOR_KEYS = {"floor", "dots", "zones"}
_ZONE_KEYS = {"id", "count", "density_per_m2", "level", "los", "stale"}


def _exact_keys(mapping: Any, expected: set[str], where: str) -> dict[str, Any]:
    if not isinstance(mapping, dict):
        raise MessageError(f"{where}: expected an object, got {type(mapping).__name__}")
    keys = set(mapping)
    if keys != expected:
        extra, missing = sorted(keys - expected), sorted(expected - keys)
        raise MessageError(f"{where}: unexpected keys {extra}, missing keys {missing}")
    return mapping


def _ident(value: Any, where: str) -> str:
    if not is_id(value):
        raise MessageError(f"{where}: expected an id matching {ID_PATTERN}, got {str(value)[:40]!r}")
    return value


def _number(value: Any, where: str, *, low: float = -math.inf, high: float = math.inf) -> float:
    # bool is an int in Python; a flag where a number belongs is a schema error.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MessageError(f"{where}: expected a finite number, got {str(value)[:40]!r}")
    if not low <= value <= high:
        raise MessageError(f"{where}: expected a value in [{low}, {high}], got {value}")
    return float(value)


def _array(value: Any, where: str, width: int | None) -> np.ndarray:
    if not isinstance(value, list):
        raise MessageError(f"{where}: expected an array, got {type(value).__name__}")
    if len(value) > MAX_POINTS:
        raise MessageError(f"{where}: at most {MAX_POINTS} entries allowed, got {len(value)}")
    for item in value:
        row = item if width is not None else [item]
        if not isinstance(row, list) or (width is not None and len(row) != width):
            raise MessageError(f"{where}: expected rows of {width} numbers")
        for number in row:
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise MessageError(f"{where}: expected numbers only, got {type(number).__name__}")
    shape = (len(value), width) if width is not None else (len(value),)
    array = np.asarray(value, dtype=np.float64).reshape(shape)
    if not np.all(np.isfinite(array)):
        raise MessageError(f"{where}: expected finite numbers")
    return array


def _positions(data: dict[str, Any]) -> PositionsMessage:
    xy = _array(data["xy_m"], "xy_m", 2)
    confidence = _array(data["confidence"], "confidence", None)
    sigma = _array(data["sigma_m"], "sigma_m", None)
    try:
        positions = FloorPositions(
            camera_id=_ident(data["camera"], "camera"),
            floor_id=_ident(data["floor"], "floor"),
            timestamp=_number(data["t"], "t", low=0),
            xy_m=xy,
            confidence=confidence,
            sigma_m=sigma,
        )
    except ValueError as error:
        raise MessageError(f"positions: {error}") from None
    return PositionsMessage(_ident(data["station"], "station"), positions)


def _status(data: dict[str, Any]) -> StatusMessage:
    state, error = data["state"], data["error"]
    if state not in CAMERA_STATES:
        raise MessageError(f"state: expected one of {CAMERA_STATES}, got {str(state)[:40]!r}")
    if not isinstance(error, str) or len(error) > 300:
        raise MessageError("error: expected a string of at most 300 characters")
    age = data["last_frame_age_s"]
    status = CameraStatus(
        camera_id=_ident(data["camera"], "camera"),
        timestamp=_number(data["t"], "t", low=0),
        state=state,
        fps=_number(data["fps"], "fps", low=0, high=1000),
        last_frame_age_s=math.inf if age is None else _number(age, "last_frame_age_s", low=0),
        error=error,
    )
    return StatusMessage(_ident(data["station"], "station"), status)


def _zone(data: Any, where: str) -> ZoneState:
    zone = _exact_keys(data, _ZONE_KEYS, where)
    count, level, stale = zone["count"], zone["level"], zone["stale"]
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_POINTS:
        raise MessageError(f"{where}.count: expected an integer in [0, {MAX_POINTS}], got {str(count)[:20]!r}")
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 3:
        raise MessageError(f"{where}.level: expected an integer 0-3, got {str(level)[:20]!r}")
    if zone["los"] not in LOS_GRADES:
        raise MessageError(f"{where}.los: expected one of {LOS_GRADES}, got {str(zone['los'])[:20]!r}")
    if not isinstance(stale, bool):
        raise MessageError(f"{where}.stale: expected true or false")
    return ZoneState(
        zone_id=_ident(zone["id"], f"{where}.id"),
        count=count,
        density_per_m2=_number(zone["density_per_m2"], f"{where}.density_per_m2", low=0, high=100),
        level=CrowdingLevel(level),
        los=zone["los"],
        stale=stale,
    )


def _frames(data: dict[str, Any]) -> StationFramesMessage:
    station = _ident(data["station"], "station")
    timestamp = _number(data["timestamp"], "timestamp", low=0)
    floors = data["floors"]
    if not isinstance(floors, list) or not 0 < len(floors) <= MAX_FLOORS:
        raise MessageError(f"floors: expected 1 to {MAX_FLOORS} floors")
    frames = []
    for i, raw_floor in enumerate(floors):
        floor = _exact_keys(raw_floor, _FLOOR_KEYS, f"floors[{i}]")
        dots = _array(floor["dots"], f"floors[{i}].dots", 3)
        if np.any((dots[:, 2] != 0) & (dots[:, 2] != 1)):
            raise MessageError(f"floors[{i}].dots: the moving flag must be 0 or 1")
        zones = floor["zones"]
        if not isinstance(zones, list) or len(zones) > MAX_ZONES_PER_FLOOR:
            raise MessageError(f"floors[{i}].zones: expected at most {MAX_ZONES_PER_FLOOR} zones")
        try:
            frames.append(
                IconFrame(
                    station_id=station,
                    floor_id=_ident(floor["floor"], f"floors[{i}].floor"),
                    timestamp=timestamp,
                    dots_m=dots[:, :2],
                    moving=dots[:, 2] == 1,
                    zones=tuple(_zone(z, f"floors[{i}].zones[{j}]") for j, z in enumerate(zones)),
                )
            )
        except ValueError as error:
            if isinstance(error, MessageError):
                raise
            raise MessageError(f"floors[{i}]: {error}") from None
    return StationFramesMessage(station, timestamp, tuple(frames))


_DECODERS: dict[str, Callable[[dict[str, Any]], Message]] = {
    "positions": _positions,
    "camera_status": _status,
    "icon_frames": _frames,
}


def decode_message(raw: bytes | str, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """Parse and validate one bus message.

    Raises:
        MessageError: saying why the message was refused (size, JSON, type, keys or values).
    """
    if not isinstance(raw, bytes | str):
        raise MessageError(f"expected bytes or text, got {type(raw).__name__}")
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "replace"))
    if size > max_bytes:
        raise MessageError(f"message of {size} bytes exceeds the {max_bytes}-byte limit")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MessageError(f"not JSON: {str(error)[:80]}") from None
    if not isinstance(data, dict):
        raise MessageError(f"expected a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    if kind not in _DECODERS:
        raise MessageError(f"type: expected one of {sorted(_DECODERS)}, got {str(kind)[:40]!r}")
    _exact_keys(data, _KEYS[kind], kind)
    if data["v"] != WIRE_VERSION or isinstance(data["v"], bool):
        raise MessageError(f"v: expected {WIRE_VERSION}, got {str(data['v'])[:20]!r}")
    return _DECODERS[kind](data)
