"""Pure serializers: what the public may see of an icon frame, and nothing else (PRIVACY.md P1, P2).

The public payload is the stable interface of issue 2, served both by
``GET /api/v1/stations/<id>/crowding`` and by the Socket.IO event ``crowding``::

    {"station": "demo-station", "timestamp": 1764300000.0,
     "floors": [{"floor": "concourse",
                 "dots": [[12.5, 3.0, 1], ...],          # x_m, y_m, moving 0/1, in no stable order
                 "zones": [{"id": "gates", "count": 14, "density_per_m2": 0.42,
                            "level": 1, "los": "B", "stale": false}, ...]}]}

Every field is copied by name from an allow list; nothing else of the frame is ever read.
Dots are rounded to ``DOT_STEP_M`` (0.1 m), far finer than the iconizer's coarsening (about
0.5 m), and whole metres are written as integers: 300 coarsened dots on an 80 m floor are about
3.6 KB of JSON, 4.3 KB with the demo station's 8 zones (``bench/fanout.py`` prints it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from iconizer.types import IconFrame

DOT_STEP_M = 0.1
PUBLIC_ZONE_FIELDS = ("id", "count", "density_per_m2", "level", "los", "stale")


def _dot_decimals(step_m: float) -> int:
    decimals = -math.log10(step_m)
    if step_m <= 0 or abs(decimals - round(decimals)) > 1e-9:
        raise ValueError(f"dot_step_m must be a power of ten such as 0.1 or 1.0, got {step_m}")
    return max(0, round(decimals))


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
    xy = np.round(np.asarray(frame.dots_m, dtype=np.float64), decimals).tolist()
    moving = [int(flag) for flag in np.asarray(frame.moving, dtype=bool)]
    return {
        "floor": str(frame.floor_id),
        "dots": [[_compact(x), _compact(y), m] for (x, y), m in zip(xy, moving, strict=True)],
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
    station_id: str, timestamp: float, frames: Iterable[IconFrame], *, dot_step_m: float = DOT_STEP_M
) -> dict[str, Any]:
    """The public crowding payload of one station (every floor).

    Args:
        station_id: The station.
        timestamp: Time of the frames, unix seconds.
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
    return {"station": str(station_id), "timestamp": round(float(timestamp), 3), "floors": floors}


def floor_payload(payload: dict[str, Any], floor_id: str) -> dict[str, Any] | None:
    """The same payload restricted to one floor, or ``None`` if the floor is absent."""
    for floor in payload["floors"]:
        if floor["floor"] == floor_id:
            return {"station": payload["station"], "timestamp": payload["timestamp"], "floors": [floor]}
    return None


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


def station_room(station_id: str) -> str:
    """The Socket.IO room of every client watching a whole station."""
    return f"station:{station_id}"


def floor_room(station_id: str, floor_id: str) -> str:
    """The Socket.IO room of clients watching one floor (smaller payloads for phones)."""
    return f"station:{station_id}:floor:{floor_id}"


def broadcast_targets(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each room of the ``/public`` namespace with the payload it receives.

    The aggregator of a scale-out deployment emits exactly these through the Redis message
    queue, so every web process broadcasts the same frames.
    """
    targets = [(station_room(payload["station"]), payload)]
    for floor in payload["floors"]:
        single = floor_payload(payload, floor["floor"])
        if single is not None:
            targets.append((floor_room(payload["station"], floor["floor"]), single))
    return targets
