"""The bus message schemas: exactly what may cross between the tiers, as pydantic models.

Three message types, told apart by their ``type`` field:

- :class:`PositionsWire`  (``positions``)      edge -> aggregator: one camera's floor positions.
- :class:`StatusWire`     (``camera_status``)  edge -> aggregator -> web: a camera's health.
- :class:`FramesWire`     (``icon_frames``)    aggregator -> web: anonymous dots and zone levels.

Every model refuses unknown keys and needs every key (``extra="forbid"``, no defaults), is strict
(no string-to-number or number-to-bool coercion; a flag where a number belongs is refused), takes
finite numbers only, and bounds every size. The constrained types here (:data:`FiniteFloat`,
:data:`PointM`, ...) are the ones the public payload's models (``webmap``) share.

A rule broken is a :class:`pydantic.ValidationError`; :mod:`bus.codec` turns it into a
:class:`bus.codec.MessageError` with a stable reason.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, TypeAdapter
from pydantic_core import PydanticCustomError

from iconizer.types import CAMERA_ERRORS, CAMERA_STATES, LOS_GRADES
from station.ids import Id

WIRE_VERSION = 1
MAX_MESSAGE_BYTES = 512 * 1024
MAX_POINTS = 5000
MAX_FLOORS = 32
MAX_ZONES_PER_FLOOR = 256
MAX_FPS = 1000.0
MAX_DENSITY_PER_M2 = 100.0
MAX_LEVEL = 3

# A JSON number that is a real, finite value: never NaN or an infinity, never true/false.
FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
TimestampS = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
# A point on a floor plan, metres: exactly two finite numbers.
PointM = tuple[FiniteFloat, FiniteFloat]


def _moving_flag(value: float) -> float:
    if value not in (0.0, 1.0):
        raise PydanticCustomError("moving_flag", "the moving flag must be 0 or 1, got {value}", {"value": value})
    return value


MovingFlag = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_moving_flag)]
# An anonymous dot as published: x, y in metres and 1 when moving, 0 when stopped.
DotM = tuple[FiniteFloat, FiniteFloat, MovingFlag]
WireVersion = Annotated[StrictInt, Field(ge=WIRE_VERSION, le=WIRE_VERSION)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PositionsWire(_Wire):
    """One camera's floor positions (metres), with each one's confidence and expected error."""

    type: Literal["positions"]
    v: WireVersion
    station: Id
    camera: Id
    floor: Id
    t: TimestampS
    xy_m: Annotated[list[PointM], Field(max_length=MAX_POINTS)]
    confidence: Annotated[list[FiniteFloat], Field(max_length=MAX_POINTS)]
    sigma_m: Annotated[list[FiniteFloat], Field(max_length=MAX_POINTS)]


class StatusWire(_Wire):
    """A camera's health: a state and an error code from closed sets, and numbers."""

    type: Literal["camera_status"]
    v: WireVersion
    station: Id
    camera: Id
    t: TimestampS
    state: Literal[CAMERA_STATES]  # type: ignore[valid-type]  # the tuple of names is the closed set
    fps: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_FPS)]
    last_frame_age_s: NonNegativeFloat | None
    error: Literal[tuple(CAMERA_ERRORS)]  # type: ignore[valid-type]  # a code, never free text


class ZoneWire(_Wire):
    """One zone's crowding in a frame."""

    id: Id
    count: Annotated[StrictInt, Field(ge=0, le=MAX_POINTS)]
    density_per_m2: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_DENSITY_PER_M2)]
    level: Annotated[StrictInt, Field(ge=0, le=MAX_LEVEL)]
    los: Literal[LOS_GRADES]  # type: ignore[valid-type]
    stale: StrictBool


class FloorWire(_Wire):
    """One floor of a station frame: its dots and its zones."""

    floor: Id
    dots: Annotated[list[DotM], Field(max_length=MAX_POINTS)]
    zones: Annotated[list[ZoneWire], Field(max_length=MAX_ZONES_PER_FLOOR)]


class FramesWire(_Wire):
    """The icon frames of every floor of a station at one instant."""

    type: Literal["icon_frames"]
    v: WireVersion
    station: Id
    timestamp: TimestampS
    floors: Annotated[list[FloorWire], Field(min_length=1, max_length=MAX_FLOORS)]


MESSAGE_TYPES = ("positions", "camera_status", "icon_frames")
AnyWire = Annotated[PositionsWire | StatusWire | FramesWire, Field(discriminator="type")]
WIRE = TypeAdapter(AnyWire)
