"""The public payloads as pydantic models: the one description of what the public may receive.

Every REST answer of ``/api/v1`` and every Socket.IO event on ``/public`` has a model here. The
OpenAPI document (:mod:`webmap.openapi`) is generated from them, the tests validate every
response against that document, and the web tier validates each ``/public`` event against its
model where it is sent (:mod:`webmap.emit_guard`), whatever path it took to get there.

The models are strict (no string-to-number or number-to-bool coercion), refuse unknown keys,
take finite numbers only and bound every size. Validation reads JSON text
(:func:`validate_crowding`), exactly what goes on the wire: a value JSON cannot carry (bytes, a
NaN) never passes. The serializers (:mod:`webmap.payload`) build plain dicts and lists, which
keeps the JSON byte for byte what it was; the models check it, they do not rebuild it.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError, model_validator

from bus.schema import MAX_DENSITY_PER_M2, MAX_FLOORS, MAX_POINTS, MAX_ZONES_PER_FLOOR, FiniteFloat, PointM, TimestampS
from station.ids import Id
from station.model import MAX_FLOOR_SIZE_M

COMPACT_ENCODING = "compact-1"
PACKED_PER_M = 10  # packed units per metre: the payload's own 0.1 m rounding, so packing loses nothing
# base64 of MAX_POINTS uint16 pairs and their moving bits.
MAX_PACKED_CHARS = 4 * -(-(4 * MAX_POINTS + -(-MAX_POINTS // 8)) // 3)

# A coordinate on a plan as published: metres from the plan's origin, on the plan.
PlanCoordinateM = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_FLOOR_SIZE_M)]
MovingBit = Annotated[StrictInt, Field(ge=0, le=1)]
PublicDot = Annotated[
    tuple[PlanCoordinateM, PlanCoordinateM, MovingBit],
    Field(description="[x_m, y_m, moving 0 or 1] of one person, rounded to 0.1 m; whole metres as integers"),
]
Level = Annotated[StrictInt, Field(ge=0, le=3, description="0 quiet, 1 busy, 2 crowded, 3 very crowded")]
Polygon = Annotated[list[PointM], Field(min_length=3)]


class _Public(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Error(_Public):
    """The request was refused; the message says why."""

    error: StrictStr


class Text(_Public):
    """A text in both public languages."""

    ja: StrictStr
    en: StrictStr


class FloorEntry(_Public):
    """A floor of a station, by id and name."""

    id: Id
    name: Text


class StationEntry(_Public):
    """A station served here, with its floors."""

    id: Id
    name: Text
    floors: list[FloorEntry]


class StationList(_Public):
    """Every station served here."""

    stations: list[StationEntry]


class ZoneCrowding(_Public):
    """One zone's crowding in a frame."""

    id: Id
    count: Annotated[StrictInt, Field(ge=0, le=MAX_POINTS)]
    density_per_m2: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_DENSITY_PER_M2)]
    level: Level
    los: Annotated[Literal["A", "B", "C", "D", "E", "F"], Field(description="Fruin level of service")]
    stale: Annotated[StrictBool, Field(description="no live camera covers the zone: count and level are unknown")]


class FloorCrowding(_Public):
    """One floor of a frame: anonymous dots, in no stable order, and its zones."""

    floor: Id
    dots: Annotated[list[PublicDot], Field(max_length=MAX_POINTS)]
    zones: Annotated[list[ZoneCrowding], Field(max_length=MAX_ZONES_PER_FLOOR)]


class Crowding(_Public):
    """The latest frame of a station; also the payload of the Socket.IO event `crowding` on /public."""

    station: Id
    timestamp: Annotated[TimestampS | None, Field(description="unix seconds; null before the first frame")]
    floors: Annotated[list[FloorCrowding], Field(max_length=MAX_FLOORS)]


class PackedDots(_Public):
    """Dots packed for the compact encoding.

    `packed` is base64 of `count` little-endian uint16 pairs x, y in units of 1/per_m metre, then
    one moving bit per dot, least significant bit first.
    """

    count: Annotated[StrictInt, Field(ge=0, le=MAX_POINTS)]
    per_m: Literal[PACKED_PER_M]  # type: ignore[valid-type]
    packed: Annotated[StrictStr, Field(max_length=MAX_PACKED_CHARS, pattern=r"^[A-Za-z0-9+/]*={0,2}$")]

    @model_validator(mode="after")
    def _holds_count_dots(self) -> PackedDots:
        try:
            raw = base64.b64decode(self.packed, validate=True)
        except binascii.Error as error:
            raise ValueError(f"packed is not base64: {error}") from None
        expected = 4 * self.count + -(-self.count // 8)
        if len(raw) != expected:
            raise ValueError(f"{self.count} packed dots take {expected} bytes, got {len(raw)}")
        return self


class CompactFloor(_Public):
    """One floor of a compact frame: its dots packed."""

    floor: Id
    dots: PackedDots
    zones: Annotated[list[ZoneCrowding], Field(max_length=MAX_ZONES_PER_FLOOR)]


class CompactCrowding(_Public):
    """The `crowding` event for clients that joined with "encoding": "compact" (Socket.IO only)."""

    station: Id
    timestamp: TimestampS
    encoding: Literal[COMPACT_ENCODING]  # type: ignore[valid-type]
    floors: Annotated[list[CompactFloor], Field(max_length=MAX_FLOORS)]


class PlanFeature(_Public):
    """A labelled shape drawn on the plan (display only)."""

    kind: StrictStr
    label: Text | None
    polygon_m: Polygon


class PlanZone(_Public):
    """A zone of a floor, metres."""

    id: Id
    name: Text
    kind: Literal["walkway", "queuing"]
    polygon_m: Polygon
    label_m: Annotated[
        PointM,
        Field(
            description="Where the zone's label goes: the middle of its largest free area (pole of "
            "inaccessibility), inside the zone."
        ),
    ]


class PlanFloor(_Public):
    """A floor's geometry, metres (origin top-left, y down)."""

    id: Id
    name: Text
    size_m: PointM
    walkable_m: list[Polygon]
    obstacles_m: list[Polygon]
    features: list[PlanFeature]
    zones: list[PlanZone]
    uncovered_m: Annotated[
        list[Annotated[list[Polygon], Field(min_length=1)]] | None,
        Field(
            description="Walkable floor no camera sees (null: unknown). Polygons, each a list of rings "
            "(exterior first, then holes), each ring [x_m, y_m] points. Floor geometry only: the union over "
            "all cameras, no camera ids."
        ),
    ]


class Plan(_Public):
    """A station's floor plans and zones, for drawing the map."""

    station: Id
    name: Text
    simulated: StrictBool
    frame_interval_s: FiniteFloat
    stale_after_s: FiniteFloat
    floors: list[PlanFloor]


NonNegative = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]


class HistoryMinute(_Public):
    """One zone's aggregates over one minute."""

    minute_start: FiniteFloat
    zone: Id
    mean_count: NonNegative
    mean_density_per_m2: NonNegative
    peak_density_per_m2: NonNegative
    peak_level: Level


class History(_Public):
    """Per-minute aggregates of one zone; never positions (PRIVACY.md P3)."""

    station: Id
    zone: Id
    source: Literal["history", "recent"]
    minutes: list[HistoryMinute]


class UsualZone(_Public):
    """A zone's usual density now, and from which density it reads "busier than usual"."""

    id: Id
    usual_weeks: Annotated[
        StrictInt, Field(ge=0, description="Past weeks with history at this weekday and time of day.")
    ]
    usual_density_per_m2: NonNegative | None
    busier_from_per_m2: Annotated[
        NonNegative | None, Field(description="Density from which the zone reads 'busier than usual'.")
    ]


class Usual(_Public):
    """The usual density of each zone at this weekday and time of day."""

    station: Id
    timestamp: FiniteFloat
    min_weeks: Annotated[
        StrictInt, Field(ge=1, description="Past weeks of history a usual value needs; below it the values are null.")
    ]
    zones: list[UsualZone]


# Every model the OpenAPI document lists, by the name it has there.
COMPONENTS: tuple[type[_Public], ...] = (
    Error,
    StationList,
    ZoneCrowding,
    Crowding,
    CompactCrowding,
    Plan,
    History,
    Usual,
)


def to_json(data: Any) -> str:
    """``data`` as the JSON text a client receives (refusing what JSON cannot carry).

    Raises:
        TypeError: for bytes or any other value JSON has no form for.
        ValueError: for NaN or an infinity.
    """
    # Not mutated: allow_nan=None, mutmut's mutant here, is the same as False (json tests the flag
    # for truth), an equivalent mutant.
    return json.dumps(data, separators=(",", ":"), allow_nan=False)  # pragma: no mutate


def check(model: type[_Public], data: Any) -> str | None:
    """Why ``data`` is not a valid ``model`` as JSON, or ``None`` when it is."""
    try:
        model.model_validate_json(to_json(data))
    except (TypeError, ValueError) as error:
        if isinstance(error, ValidationError):
            first = error.errors()[0]
            return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
        return f"not JSON: {type(error).__name__}"
    return None
