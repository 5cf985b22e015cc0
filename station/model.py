"""The station model (layout format version 1): floors, zones, cameras, notice and publishing settings.

Every stage reads these validated, frozen pydantic models; nothing here knows about images,
projection or the web. Reading them from files is ``station.files``; the format is documented in
``docs/LAYOUT_FORMAT.md``.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from shapely.geometry import Polygon

from station.errors import FieldError
from station.ids import Id

FORMAT_VERSION = 1

# Fruin's level of service: upper density bound (persons/m2) of grades A..E; F is above E.
FRUIN_WALKWAY_PER_M2 = (0.31, 0.43, 0.72, 1.08, 2.17)
FRUIN_QUEUING_PER_M2 = (0.83, 1.08, 1.54, 3.57, 5.26)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Point = Annotated[tuple[float, float], Field(description="x, y")]


class Text(_Strict):
    """A text in both public languages."""

    ja: str
    en: str

    @field_validator("ja", "en")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class StationInfo(_Strict):
    id: Id
    name: Text
    simulated: bool = False
    timezone: str = "Asia/Tokyo"


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]*")
MIN_PHONE_DIGITS = 6
# Domains reserved for examples (RFC 2606, RFC 6761): a contact there reaches nobody.
PLACEHOLDER_DOMAINS = ("example.com", "example.net", "example.org", "example", "invalid", "test", "localhost")


def _reserved_for_examples(host: str) -> bool:
    name = host.lower().removesuffix(".")  # "example.org." is the same host as "example.org"
    return any(name == domain or name.endswith(f".{domain}") for domain in PLACEHOLDER_DOMAINS)


class ContactDetails(_Strict):
    """How a member of the public reaches whoever answers for the cameras: at least one way."""

    url: str | None = Field(default=None, description="a web page or form, https:// or http://")
    email: str | None = None
    phone: str | None = Field(default=None, description="digits, spaces, +, -, (, ), . or /; at least 6 digits")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname or any(c.isspace() for c in value):
            raise ValueError(f"must be a web address starting with https:// or http://, got {value!r}")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.fullmatch(value):
            raise ValueError(f"must be an e-mail address such as privacy@station.example, got {value!r}")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = sum(c.isdigit() for c in value)
        if not _PHONE.fullmatch(value) or digits < MIN_PHONE_DIGITS:
            raise ValueError(
                f"must be a phone number of at least {MIN_PHONE_DIGITS} digits (spaces, +, -, ( and ) allowed), "
                f"got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _at_least_one(self) -> ContactDetails:
        if self.url is None and self.email is None and self.phone is None:
            raise ValueError("give at least one of url, email or phone: the public must be able to reach you")
        return self

    def placeholders(self) -> list[str]:
        """The fields that point at a domain reserved for examples (they reach nobody)."""
        hosts = {}
        if self.url is not None:
            hosts["url"] = str(urlsplit(self.url).hostname)  # the validator made sure there is one
        if self.email is not None:
            hosts["email"] = self.email.split("@")[1]  # exactly one "@", by the validator
        return [name for name, host in hosts.items() if _reserved_for_examples(host)]


class Notice(_Strict):
    """The notice to the public required by PRIVACY.md P4; every field is mandatory.

    Where the cameras are is not written here: it follows from the layout's cameras (their floors
    and what each one covers), so the notice can never disagree with the cameras actually running.
    """

    operator: Text
    purpose: Text
    captured: Text
    retention: Text
    contact: Text = Field(description="who answers questions about the cameras: an office, a team")
    contact_details: ContactDetails
    open_data: Text = Field(description="that the crowding data is public and other sites may reuse it")
    data_requests: Text = Field(description="how to ask about data concerning oneself")


# The notice's texts, in the order a notice page shows them.
NOTICE_TEXT_FIELDS = ("operator", "purpose", "captured", "retention", "contact", "open_data", "data_requests")


# PRIVACY.md P2: published positions are coarsened to about half a metre. A finer cell is allowed
# only where the notice tells the public so (its ``captured`` text names the cell, both languages),
# and never below the public payload's own 0.1 m rounding.
MIN_COARSEN_M = 0.5
MIN_DECLARED_COARSEN_M = 0.1


def notice_states_cell(text: Text, cell_m: float) -> bool:
    """Whether both languages of ``text`` name ``cell_m``, in metres or centimetres (``0.3 m``, ``30 cm``)."""
    metres, centimetres = f"{cell_m:g}", f"{cell_m * 100:g}"
    forms = [f"{metres} m", f"{metres}m", f"{metres} メートル", f"{metres}メートル"]
    forms += [f"{centimetres} cm", f"{centimetres}cm", f"{centimetres} センチ", f"{centimetres}センチ"]
    return all(any(form in language for form in forms) for language in (text.ja, text.en))


class Publishing(_Strict):
    coarsen_m: float = Field(default=0.5, ge=0.0, le=5.0)
    coarsen_method: Literal["grid", "jitter"] = "grid"
    frame_interval_s: float = Field(default=1.0, gt=0.0, le=60.0)
    density_window_s: float = Field(default=10.0, ge=0.0, le=600.0)
    stale_after_s: float = Field(default=5.0, gt=0.0, le=600.0)
    history_retention_days: int = Field(default=90, ge=1, le=3650)


def _polygon(points: list[tuple[float, float]]) -> Polygon:
    """The polygon of ``points``, refused with a message when it encloses no area or crosses itself."""
    if len(points) < 3:
        raise ValueError(f"needs at least 3 points, got {len(points)}")
    polygon = Polygon(points)
    # Checked before validity: shapely calls points on one line invalid, which hides the plain cause.
    # (A bow tie also has zero signed area, but its hull does not: it is reported as invalid.)
    if polygon.convex_hull.area <= 0:
        raise ValueError(f"has zero area: its {len(points)} points lie on one line")
    if not polygon.is_valid:
        raise ValueError(f"is not a valid polygon: {shapely.is_valid_reason(polygon)}")
    return polygon


def _polygon_field(points: list[tuple[float, float]], path: str) -> Polygon:
    try:
        return _polygon(points)
    except ValueError as error:
        raise FieldError(path, str(error)) from None


class Feature(_Strict):
    """A labelled shape drawn on the plan (gate line, shop, stairs, track): display only."""

    kind: Literal["gates", "shop", "stairs", "escalator", "elevator", "track", "platform-edge", "exit", "other"]
    label: Text | None = None
    polygon_m: list[Point]

    @field_validator("polygon_m")
    @classmethod
    def _valid(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        _polygon(value)
        return value


PLAN_IMAGE_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg")


class Landmark(_Strict):
    """A named spot on the plan that is easy to find in a camera view.

    A lamp post's foot, a kerb corner, a gate end: shown to the operator in the calibration
    tool (never on the public pages), so plan points can be found for what the image shows.
    """

    label: Text
    point_m: Point


def _within(polygon: Polygon, size_m: tuple[float, float]) -> bool:
    """Whether ``polygon`` lies on a plan of ``size_m`` (its edges included)."""
    x0, y0, x1, y1 = polygon.bounds
    return x0 >= 0 and y0 >= 0 and x1 <= size_m[0] and y1 <= size_m[1]


# No station floor is 5 km across; the bound also keeps published coordinates within what the
# public map's packed encoding holds (webmap.payload: uint16 decimetres, 6,553.5 m).
MAX_FLOOR_SIZE_M = 5000.0


class Floor(_Strict):
    id: Id
    name: Text
    size_m: tuple[float, float]
    walkable_m: list[list[Point]] = Field(min_length=1)
    obstacles_m: list[list[Point]] = Field(default_factory=list)
    features: list[Feature] = Field(default_factory=list)
    plan_image: str | None = Field(
        default=None, description="drawing of the plan (SVG, PNG, JPEG), relative to the layout folder"
    )
    landmarks: list[Landmark] = Field(default_factory=list)

    @field_validator("plan_image")
    @classmethod
    def _plan_image(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = Path(value)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(f"must be a path inside the layout folder, got {value!r}")
        if path.suffix.lower() not in PLAN_IMAGE_SUFFIXES:
            raise ValueError(f"must be one of {', '.join(PLAN_IMAGE_SUFFIXES)}, got {value!r}")
        return value

    @field_validator("size_m")
    @classmethod
    def _positive(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] <= 0 or value[1] <= 0:
            raise ValueError(f"must be positive width and height in metres, got {value}")
        if max(value) > MAX_FLOOR_SIZE_M:
            raise ValueError(f"a floor plan is at most {MAX_FLOOR_SIZE_M:.0f} m on a side, got {value}")
        return value

    @model_validator(mode="after")
    def _inside_plan(self) -> Floor:
        width, height = self.size_m
        for kind in ("walkable_m", "obstacles_m"):
            for i, points in enumerate(getattr(self, kind)):
                polygon = _polygon_field(points, f"{kind}[{i}]")
                if not _within(polygon, self.size_m):
                    raise FieldError(f"{kind}[{i}]", f"extends beyond the plan (0..{width} x 0..{height} m)")
        for i, landmark in enumerate(self.landmarks):
            x, y = landmark.point_m
            if not (0 <= x <= width and 0 <= y <= height):
                raise FieldError(
                    f"landmarks[{i}]", f"{landmark.label.en!r} lies outside the plan (0..{width} x 0..{height} m)"
                )
        return self

    @property
    def walkable(self) -> shapely.Geometry:
        """Walkable floor area with obstacles removed."""
        area = shapely.union_all([Polygon(p) for p in self.walkable_m])
        if self.obstacles_m:
            area = area.difference(shapely.union_all([Polygon(p) for p in self.obstacles_m]))
        return area


class Thresholds(_Strict):
    """Per-zone overrides of the density bounds (persons/m2)."""

    los_per_m2: tuple[float, float, float, float, float] | None = None
    public_per_m2: tuple[float, float, float] | None = Field(
        default=None, description="density above which the public level becomes busy, crowded, very crowded"
    )
    hysteresis_per_m2: float | None = Field(default=None, ge=0.0)

    @field_validator("los_per_m2", "public_per_m2")
    @classmethod
    def _increasing(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is not None and (value[0] <= 0 or any(b <= a for a, b in itertools.pairwise(value))):
            raise ValueError(f"must be positive and strictly increasing, got {list(value)}")
        return value


class Zone(_Strict):
    id: Id
    floor: str
    name: Text
    kind: Literal["walkway", "queuing"]
    polygon_m: list[Point]
    thresholds: Thresholds = Field(default_factory=Thresholds)

    @field_validator("polygon_m")
    @classmethod
    def _valid(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        _polygon(value)
        return value

    @property
    def polygon(self) -> Polygon:
        return Polygon(self.polygon_m)

    @property
    def los_bounds_per_m2(self) -> tuple[float, float, float, float, float]:
        """Upper density bounds of LOS A..E for this zone."""
        if self.thresholds.los_per_m2 is not None:
            return self.thresholds.los_per_m2
        return FRUIN_WALKWAY_PER_M2 if self.kind == "walkway" else FRUIN_QUEUING_PER_M2

    @property
    def public_bounds_per_m2(self) -> tuple[float, float, float]:
        """Density above which the public level is busy, crowded, very crowded.

        By default the public scale follows the LOS: A-B quiet, C busy, D crowded, E-F very crowded.
        """
        if self.thresholds.public_per_m2 is not None:
            return self.thresholds.public_per_m2
        los = self.los_bounds_per_m2
        return (los[1], los[2], los[3])


class PointPair(_Strict):
    image_px: Point
    floor_m: Point


Matrix3 = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]


class CameraModel(_Strict):
    """A full pinhole camera with OpenCV distortion; world z = 0 is the floor.

    ``world_to_floor`` maps world ground coordinates (metres) to the floor plan (3x3, affine
    or similarity); identity when the world frame is the plan frame.
    """

    camera_matrix: Matrix3
    dist_coeffs: list[float] = Field(default_factory=list, max_length=14)
    rvec: tuple[float, float, float]
    tvec_m: tuple[float, float, float]
    world_to_floor: Matrix3 | None = None


class CalibrationSpec(_Strict):
    """How a camera maps to the floor: exactly one of point pairs, a matrix or a camera model."""

    point_pairs: list[PointPair] | None = None
    image_to_floor: Matrix3 | None = None
    camera_model: CameraModel | None = None
    camera_matrix: Matrix3 | None = Field(default=None, description="intrinsics for undistorting points")
    dist_coeffs: list[float] | None = Field(default=None, max_length=14)
    max_error_m: float = Field(default=0.5, gt=0.0)

    @property
    def kind(self) -> Literal["point_pairs", "image_to_floor", "camera_model"]:
        """Which of the three sources this calibration gives."""
        if self.point_pairs is not None:
            return "point_pairs"
        return "image_to_floor" if self.image_to_floor is not None else "camera_model"

    @model_validator(mode="after")
    def _exactly_one(self) -> CalibrationSpec:
        given = [k for k in ("point_pairs", "image_to_floor", "camera_model") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of point_pairs, image_to_floor or camera_model, got {given or 'none'}")
        if self.dist_coeffs is not None and self.camera_matrix is None:
            raise FieldError("dist_coeffs", "needs camera_matrix: lens distortion is relative to the intrinsics")
        if self.camera_matrix is not None and self.dist_coeffs is None:
            raise FieldError("camera_matrix", "needs dist_coeffs (all zeros for a lens without distortion)")
        return self


class Camera(_Strict):
    id: Id
    floor: str
    source: str = Field(
        min_length=1,
        description="'sim' (simulator), a file path, rtsp://, http://, 'usb:N', a folder, "
        "or '{video}' (given on the command line)",
    )
    resolution_wh: tuple[int, int]
    calibration: CalibrationSpec
    detector: dict[str, Any] = Field(default_factory=dict)
    target_fps: float = Field(default=10.0, gt=0.0, le=60.0)
    pixel_sigma_px: float = Field(default=3.0, gt=0.0, description="expected foot point error in pixels")

    @field_validator("resolution_wh")
    @classmethod
    def _positive(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] <= 0 or value[1] <= 0:
            raise ValueError(f"must be positive width and height in pixels, got {value}")
        return value


class StationLayout(_Strict):
    format_version: Literal[1]
    station: StationInfo
    notice: Notice
    publishing: Publishing = Field(default_factory=Publishing)
    floors: list[Floor] = Field(min_length=1)
    zones: list[Zone] = Field(min_length=1)
    cameras: list[Camera] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> StationLayout:
        for kind in ("floors", "zones", "cameras"):
            ids = [item.id for item in getattr(self, kind)]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise FieldError(kind, f"ids must be unique, got duplicates {duplicates}")
        floors = {floor.id: floor for floor in self.floors}
        for kind in ("zones", "cameras"):
            for item in getattr(self, kind):
                if item.floor not in floors:
                    raise FieldError(
                        f"{kind}[{item.id}].floor",
                        f"{kind[:-1]} {item.id!r} is on floor {item.floor!r}, expected one of {sorted(floors)}",
                    )
        for zone in self.zones:
            floor = floors[zone.floor]
            if not _within(zone.polygon, floor.size_m):
                width, height = floor.size_m
                raise FieldError(
                    f"zones[{zone.id}].polygon_m",
                    f"zone {zone.id!r} extends beyond its floor {floor.id!r} (0..{width} x 0..{height} m)",
                )
            if zone.polygon.intersection(floor.walkable).area <= 0:
                raise FieldError(
                    f"zones[{zone.id}].polygon_m", f"zone {zone.id!r} has no walkable area on floor {zone.floor!r}"
                )
        cell_m = self.publishing.coarsen_m
        if cell_m < MIN_COARSEN_M and (
            cell_m < MIN_DECLARED_COARSEN_M or not notice_states_cell(self.notice.captured, cell_m)
        ):
            raise FieldError(
                "publishing.coarsen_m",
                f"{cell_m:g} m is finer than allowed: positions are published coarsened to at least "
                f"{MIN_COARSEN_M:g} m (PRIVACY.md P2); a cell down to {MIN_DECLARED_COARSEN_M:g} m needs the "
                f"notice's 'captured' text to state it in both languages (e.g. '{cell_m:g} m')",
            )
        return self

    def floor(self, floor_id: str) -> Floor:
        for floor in self.floors:
            if floor.id == floor_id:
                return floor
        raise KeyError(f"no floor {floor_id!r}; floors are {[f.id for f in self.floors]}")

    def camera(self, camera_id: str) -> Camera:
        for camera in self.cameras:
            if camera.id == camera_id:
                return camera
        raise KeyError(f"no camera {camera_id!r}; cameras are {[c.id for c in self.cameras]}")

    def zones_on(self, floor_id: str) -> list[Zone]:
        return [zone for zone in self.zones if zone.floor == floor_id]
