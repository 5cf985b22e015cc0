"""Pure serializers: what the public may see of an icon frame, and nothing else (PRIVACY.md P1, P2).

The public payload is the stable interface of issue 2, served both by
``GET /api/v1/stations/<id>/crowding`` and by the Socket.IO event ``crowding``::

    {"station": "demo-station", "timestamp": 1764300000.0,
     "floors": [{"floor": "concourse",
                 "dots": [[12.5, 3.0, 1], ...],          # x_m, y_m, moving 0/1, in no stable order
                 "zones": [{"id": "gates", "count": 14, "density_per_m2": 0.42,
                            "level": 1, "los": "B", "stale": false}, ...]}]}

Every field is copied by name from an allow list; nothing else of the frame is ever read. The
payloads' schemas, from which the OpenAPI document is generated, are :mod:`webmap.schemas`.
Dots are rounded to ``DOT_STEP_M`` (0.1 m), far finer than the iconizer's coarsening (about
0.5 m), and whole metres are written as integers: 300 coarsened dots on an 80 m floor are about
3.6 KB of JSON, 4.3 KB with the demo station's 8 zones (``bench/fanout.py`` prints it).

A Socket.IO client may instead join with ``"encoding": "compact"`` (the public map does) and
get the same payload with ``"encoding": "compact-1"`` and each floor's dots packed::

    "dots": {"count": 300, "per_m": 10, "packed": "<base64>"}

``packed`` holds ``count`` pairs of little-endian uint16 ``x, y`` in units of ``1/per_m`` metre,
then the moving flags, one bit per dot, least significant bit first. At 300 dots that is 2.6 KB
instead of 4.3 KB, and, what limits a fan-out, a browser parses it about eight times faster: one
string instead of 300 small arrays. Base64 in the JSON text rather than a Socket.IO binary
attachment, because an attachment travels as a second WebSocket message to every client.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from iconizer.types import IconFrame
from webmap.schemas import COMPACT_ENCODING, PACKED_PER_M

DOT_STEP_M = 0.1
PUBLIC_ZONE_FIELDS = ("id", "count", "density_per_m2", "level", "los", "stale")
ENCODINGS = ("json", "compact")
_PACKED_MAX = 0xFFFF  # uint16: 6,553.5 m, beyond any plan (layouts allow 5 km)


def _dot_decimals(step_m: float) -> int:
    if step_m > 0:
        decimals = round(-math.log10(step_m))
        if decimals >= 0 and math.isclose(10.0**-decimals, step_m):
            return decimals
    raise ValueError(f"dot_step_m must be a power of ten such as 0.1 or 1.0, got {step_m}")


def _compact(value: float) -> float | int:
    # Coarsened dots sit on a 0.5 m grid, so half the coordinates are whole metres: "12" instead
    # of "12.0" saves 2 bytes each, every frame, for every client. JSON readers see the same number.
    return int(value) if value.is_integer() else value


def public_floor(frame: IconFrame, *, dot_step_m: float = DOT_STEP_M) -> dict[str, Any]:
    """One floor of the public payload.

    Args:
        frame: The icon frame of the floor.
        dot_step_m: Rounding step of dot coordinates, metres (a power of ten).

    Returns:
        ``{"floor", "dots": [[x_m, y_m, moving_0_or_1], ...], "zones": [...]}``.
    """
    decimals = _dot_decimals(dot_step_m)
    xy = np.round(frame.dots_m, decimals).tolist()  # IconFrame: float64 (k, 2), with k moving flags
    moving = frame.moving.astype(int).tolist()
    return {
        "floor": str(frame.floor_id),
        "dots": [[_compact(x), _compact(y), moving[i]] for i, (x, y) in enumerate(xy)],
        "zones": [
            {
                "id": str(zone.zone_id),
                "count": int(zone.count),
                "density_per_m2": round(float(zone.density_per_m2), 2),
                "level": int(zone.level),
                "los": str(zone.los),
                "stale": bool(zone.stale),
            }
            for zone in frame.zones
        ],
    }


def public_payload(
    station_id: str, timestamp_s: float, frames: Iterable[IconFrame], *, dot_step_m: float = DOT_STEP_M
) -> dict[str, Any]:
    """The public crowding payload of one station (every floor).

    Args:
        station_id: The station.
        timestamp_s: Time of the frames, unix seconds.
        frames: One icon frame per floor; each must belong to ``station_id``.
        dot_step_m: Rounding step of dot coordinates, metres.

    Raises:
        ValueError: if a frame belongs to another station or a floor appears twice.
    """
    floors = []
    seen: set[str] = set()
    for frame in frames:
        if frame.station_id != station_id:
            raise ValueError(f"frame of station {frame.station_id!r} given for station {station_id!r}")
        if frame.floor_id in seen:
            raise ValueError(f"floor {frame.floor_id!r} appears twice in one station payload")
        seen.add(frame.floor_id)
        floors.append(public_floor(frame, dot_step_m=dot_step_m))
    return {"station": str(station_id), "timestamp": round(float(timestamp_s), 3), "floors": floors}


def pack_dots(dots: list[list[float | int]], *, per_m: int = PACKED_PER_M) -> dict[str, Any]:
    """Dots ``[[x_m, y_m, moving], ...]`` packed as described in the module docstring.

    Coordinates are clipped to ``0 .. 65535 / per_m`` metres: a coarsened dot on the edge of the
    plan can round a few centimetres past it, and no plan is larger.
    """
    table = np.asarray(dots).reshape(len(dots), 3)
    xy = np.clip(np.rint(table[:, :2] * per_m), 0, _PACKED_MAX).astype("<u2")
    moving = np.packbits(table[:, 2] != 0, bitorder="little")
    packed = base64.b64encode(xy.tobytes() + moving.tobytes()).decode()
    return {"count": len(table), "per_m": per_m, "packed": packed}


def unpack_dots(dots: dict[str, Any]) -> list[list[float | int]]:
    """The inverse of :func:`pack_dots` (what the public map's script does in the browser).

    Raises:
        ValueError: if the packed bytes do not hold ``count`` dots.
    """
    count, per_m = int(dots["count"]), int(dots["per_m"])
    raw = base64.b64decode(dots["packed"], validate=True)
    expected = 4 * count + (count + 7) // 8
    if len(raw) != expected or per_m < 1:
        raise ValueError(f"packed dots: {count} dots need {expected} bytes, got {len(raw)} (per_m {per_m})")
    xy = np.frombuffer(raw, dtype="<u2", count=2 * count).reshape(count, 2) / per_m
    moving = np.unpackbits(np.frombuffer(raw, dtype=np.uint8, offset=4 * count), bitorder="little")[:count]
    return [[_compact(float(x)), _compact(float(y)), int(moving[i])] for i, (x, y) in enumerate(xy)]


def compact_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with every floor's dots packed and ``"encoding": "compact-1"``."""
    return {
        "station": payload["station"],
        "timestamp": payload["timestamp"],
        "encoding": COMPACT_ENCODING,
        "floors": [{**floor, "dots": pack_dots(floor["dots"])} for floor in payload["floors"]],
    }


def floor_payload(payload: dict[str, Any], floor_id: str) -> dict[str, Any] | None:
    """The same payload restricted to one floor, or ``None`` if the floor is absent."""
    for floor in payload["floors"]:
        if floor["floor"] == floor_id:
            return {**payload, "floors": [floor]}
    return None


def _check_encoding(encoding: str) -> None:
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; expected one of {ENCODINGS}")


def encoded(payload: dict[str, Any], encoding: str, floor_id: str | None = None) -> dict[str, Any] | None:
    """The payload as a client that joined with ``encoding`` (and ``floor_id``) receives it."""
    _check_encoding(encoding)
    if floor_id is not None:
        single = floor_payload(payload, floor_id)
        if single is None:
            return None
        payload = single
    return compact_payload(payload) if encoding == "compact" else payload


def mark_stale(payload: dict[str, Any]) -> dict[str, Any]:
    """A copy for a feed that stopped: every zone stale, no dots (old dots would mislead)."""
    return {
        "station": payload["station"],
        "timestamp": payload["timestamp"],
        "floors": [
            {
                "floor": floor["floor"],
                "dots": [],
                "zones": [{**zone, "stale": True} for zone in floor["zones"]],
            }
            for floor in payload["floors"]
        ],
    }


def _suffix(encoding: str) -> str:
    _check_encoding(encoding)
    return "" if encoding == "json" else f":{encoding}"


def station_room(station_id: str, encoding: str = "json") -> str:
    """The Socket.IO room of every client watching a whole station in one encoding."""
    return f"station:{station_id}{_suffix(encoding)}"


def floor_room(station_id: str, floor_id: str, encoding: str = "json") -> str:
    """The Socket.IO room of clients watching one floor (smaller payloads for phones)."""
    return f"station:{station_id}:floor:{floor_id}{_suffix(encoding)}"


def broadcast_targets(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each room of the ``/public`` namespace with the payload it receives.

    The aggregator of a scale-out deployment emits exactly these through the Redis message
    queue, so every web process broadcasts the same frames.
    """
    station = payload["station"]
    compact = compact_payload(payload)  # packed once, shared by the station and floor rooms
    targets = []
    for encoding, whole in (("json", payload), ("compact", compact)):
        targets.append((station_room(station, encoding), whole))
        for floor in whole["floors"]:
            single = floor_payload(whole, floor["floor"])
            if single is not None:
                targets.append((floor_room(station, floor["floor"], encoding), single))
    return targets
