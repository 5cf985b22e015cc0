"""The bus codec: messages to JSON bytes and back, validated at every receive.

Three message types cross the bus (their schemas are :mod:`bus.schema`):

- ``positions``     edge -> aggregator: one camera's floor positions (numbers only, PRIVACY.md P1).
- ``camera_status`` edge -> aggregator -> web: camera health, no image.
- ``icon_frames``   aggregator -> web: the anonymous dots and zone levels of every floor.

Decoding is strict: exact key sets, ids matching the station id pattern, finite numbers, closed
sets and bounded sizes. Whatever does not fit, however it fails (not JSON, nested too deep, a
number too large, a wrong type), raises :class:`MessageError` naming the place and one stable
reason from :data:`REASONS`; receivers drop and count it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from bus.schema import (
    MAX_FLOORS,
    MAX_MESSAGE_BYTES,
    MAX_POINTS,
    MAX_ZONES_PER_FLOOR,
    WIRE,
    WIRE_VERSION,
    FramesWire,
    PositionsWire,
    StatusWire,
)
from homography.types import FloorPositions
from iconizer.types import CameraStatus, CrowdingLevel, IconFrame, ZoneState

__all__ = [
    "MAX_FLOORS",
    "MAX_MESSAGE_BYTES",
    "MAX_POINTS",
    "MAX_ZONES_PER_FLOOR",
    "REASONS",
    "WIRE_VERSION",
    "Message",
    "MessageError",
    "PositionsMessage",
    "StationFramesMessage",
    "StatusMessage",
    "decode_message",
    "encode_camera_status",
    "encode_positions",
    "encode_station_frames",
    "frame_to_floor_mapping",
]

# Why a message was refused. Stable names: tests and logs use them.
REASONS = (
    "too_large",  # over MAX_MESSAGE_BYTES
    "not_json",  # not UTF-8 JSON, nested too deep, a number out of range
    "not_an_object",  # JSON, but not an object
    "unknown_type",  # no "type", or one not in MESSAGE_TYPES
    "version",  # "v" is not WIRE_VERSION
    "unexpected_key",  # a key outside the schema
    "missing_key",  # a key of the schema is absent
    "wrong_type",  # e.g. a string, flag or array where a number belongs
    "not_finite",  # NaN or an infinity
    "out_of_range",  # a number outside its bounds
    "bad_id",  # an id not matching the station id pattern
    "not_in_set",  # a value outside a closed set (camera state, level of service)
    "too_many",  # an array over its size bound (points, floors, zones), or no floor at all
    "bad_row",  # a point or dot with the wrong number of values
    "moving_flag",  # a dot's moving flag other than 0 or 1
    "inconsistent",  # well-formed parts that do not fit together (array lengths, repeated zones)
)

_PYDANTIC_REASONS = {
    "json_invalid": "not_json",
    "json_type": "not_json",
    "model_type": "wrong_type",
    "model_attributes_type": "wrong_type",
    "dict_type": "wrong_type",
    "union_tag_invalid": "unknown_type",
    "union_tag_not_found": "unknown_type",
    "extra_forbidden": "unexpected_key",
    "missing": "missing_key",
    "finite_number": "not_finite",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "string_pattern_mismatch": "bad_id",
    "literal_error": "not_in_set",
    "moving_flag": "moving_flag",
}


class MessageError(ValueError):
    """A bus message that is malformed, oversized or outside the schema.

    Attributes:
        reason: Why, one of :data:`REASONS`.
        where: The offending place, e.g. ``floors[0].zones[2].level`` (empty for the whole message).
    """

    def __init__(self, reason: str, where: str, detail: str) -> None:
        super().__init__(f"{where}: {detail}" if where else detail)
        self.reason = reason
        self.where = where


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
    timestamp_s: float
    frames: tuple[IconFrame, ...]


Message = PositionsMessage | StatusMessage | StationFramesMessage


def _round(values: np.ndarray, decimals: int) -> list[Any]:
    return np.round(values, decimals).tolist()


def _dumps(payload: dict[str, Any]) -> bytes:
    # allow_nan=False: an encoder never writes NaN or Infinity, which are not JSON (what is sent is ids
    # and numbers only, so the bytes are plain ASCII). Not mutated: allow_nan=None, mutmut's one
    # mutant here, is the same as False (json tests it for truth), an equivalent mutant.
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()  # pragma: no mutate


# Positions leave the edge at decimetre precision: the fusion's smallest expected error is the
# body's own 0.15 m (iconizer.fusion.DEFAULT_BODY_SIGMA_M, added to every report), and rounding to
# 0.1 m adds a uniform error of 0.1 / sqrt(12) = 0.029 m per axis, 2 % of that sigma in quadrature.
# Finer digits would only describe a person more precisely than the map ever needs (PRIVACY.md P2).
POSITION_DECIMALS = 1


def encode_positions(station_id: str, positions: FloorPositions) -> bytes:
    """Serialise one camera's floor positions for the bus (decimetre precision, see ``POSITION_DECIMALS``)."""
    return _dumps(
        {
            "type": "positions",
            "v": WIRE_VERSION,
            "station": station_id,
            "camera": positions.camera_id,
            "floor": positions.floor_id,
            "t": positions.timestamp_s,
            "xy_m": _round(positions.xy_m, POSITION_DECIMALS),
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
            "t": status.timestamp_s,
            "state": status.state,
            "fps": round(status.fps, 2),
            "last_frame_age_s": round(age, 2) if math.isfinite(age) else None,
            "error": status.error,
        }
    )


def frame_to_floor_mapping(frame: IconFrame) -> dict[str, Any]:
    """One floor of an icon frame as plain data: the shape shared by the bus and the public API."""
    return {
        "floor": frame.floor_id,
        # A dot is [x, y, 1 if moving else 0]; hstack makes the flag a float like the coordinates.
        "dots": _round(np.hstack((frame.dots_m, frame.moving[:, None])), 2),
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


def encode_station_frames(station_id: str, frames: list[IconFrame], timestamp_s: float) -> bytes:
    """Serialise the icon frames of every floor of a station for the bus."""
    return _dumps(
        {
            "type": "icon_frames",
            "v": WIRE_VERSION,
            "station": station_id,
            "timestamp": timestamp_s,
            "floors": [frame_to_floor_mapping(frame) for frame in frames],
        }
    )


# ---- decoding -------------------------------------------------------------------------------


def _place(loc: tuple[int | str, ...]) -> str:
    """``("icon_frames", "floors", 0, "dots", 3, 1)`` -> ``floors[0].dots[3][1]``.

    The first element of a location inside a message is always its type (the union's tag).
    """
    text = ""
    for part in loc[1:]:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _reason(error: dict[str, Any]) -> str:
    kind = error["type"]
    loc = error["loc"]
    if not loc and kind == "dict_type":
        return "not_an_object"
    if len(loc) == 2 and loc[1] == "v" and kind != "missing":
        return "version"
    if kind in ("too_long", "too_short"):
        return "bad_row" if (error.get("ctx") or {}).get("field_type") == "Tuple" else "too_many"
    if kind == "missing" and isinstance(loc[-1], int):
        return "bad_row"  # a point or dot short of values
    return _PYDANTIC_REASONS.get(kind, "wrong_type")


def _refusal(error: ValidationError) -> MessageError:
    # Only the location, the type and pydantic's message are used: never the offending input.
    first = error.errors()[0]
    reason, loc = _reason(first), first["loc"]
    if first["type"] == "missing" and reason == "bad_row":
        loc = loc[:-1]  # the row, not the value it lacks
    # pydantic's message names the rule, never the offending value's content beyond a number.
    return MessageError(reason, _place(loc), first["msg"])


def _positions(wire: PositionsWire) -> PositionsMessage:
    # The schema made every number a float, so the arrays are float64.
    xy = np.asarray(wire.xy_m).reshape(len(wire.xy_m), 2)
    positions = FloorPositions(
        camera_id=wire.camera,
        floor_id=wire.floor,
        timestamp_s=wire.t,
        xy_m=xy,
        confidence=np.asarray(wire.confidence),
        sigma_m=np.asarray(wire.sigma_m),
    )
    return PositionsMessage(wire.station, positions)


def _status(wire: StatusWire) -> StatusMessage:
    age = wire.last_frame_age_s
    status = CameraStatus(
        camera_id=wire.camera,
        timestamp_s=wire.t,
        state=wire.state,
        fps=wire.fps,
        last_frame_age_s=math.inf if age is None else age,
        error=wire.error,
    )
    return StatusMessage(wire.station, status)


def _frames(wire: FramesWire) -> StationFramesMessage:
    frames = []
    for floor in wire.floors:
        dots = np.asarray(floor.dots).reshape(len(floor.dots), 3)
        zones = tuple(
            ZoneState(
                zone_id=zone.id,
                count=zone.count,
                density_per_m2=zone.density_per_m2,
                level=CrowdingLevel(zone.level),
                los=zone.los,
                stale=zone.stale,
            )
            for zone in floor.zones
        )
        frames.append(
            IconFrame(
                station_id=wire.station,
                floor_id=floor.floor,
                timestamp_s=wire.timestamp,
                dots_m=dots[:, :2],
                moving=dots[:, 2] == 1,
                zones=zones,
            )
        )
    return StationFramesMessage(wire.station, wire.timestamp, tuple(frames))


def decode_message(raw: bytes | str, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """Parse and validate one bus message.

    Untrusted input fails only as :class:`MessageError`: pydantic's parser reports nesting too
    deep, numbers too long and invalid UTF-8 as validation errors, and the value types' own checks
    (array lengths, repeated zones) are caught here.

    Raises:
        MessageError: saying why the message was refused (one of :data:`REASONS`) and where.
    """
    if not isinstance(raw, bytes | str):
        raise MessageError("wrong_type", "", f"expected bytes or text, got {type(raw).__name__}")
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "replace"))
    if size > max_bytes:
        raise MessageError("too_large", "", f"message of {size} bytes exceeds the {max_bytes}-byte limit")
    try:
        # pydantic's own parser: too deep, too long a number, not UTF-8 are ValidationErrors too.
        wire = WIRE.validate_json(raw)
    except ValidationError as error:
        raise _refusal(error) from None
    try:
        if isinstance(wire, PositionsWire):
            return _positions(wire)
        if isinstance(wire, StatusWire):
            return _status(wire)
        return _frames(wire)
    except ValueError as error:
        raise MessageError("inconsistent", wire.type, str(error)) from None
