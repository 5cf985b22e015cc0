"""The station model: what a layout says (floors, zones, cameras, notice, publishing), validated.

It sits below every stage: detector-free, image-free, web-free. ``station.model`` holds the types,
``station.files`` reads layout folders, ``station.errors`` words their errors (one line, the file,
the field by its path of ids), ``station.bundled`` finds the layouts shipped in
``station_layouts/``, ``station.ids`` the one identifier type, ``station.languages`` the two
languages every text is written in and how a request chooses one.
"""

from station.bundled import DEFAULT_STATION, bundled, load_station_layout, resolve_station_path
from station.errors import LayoutError
from station.files import camera_to_mapping, load_layout, parse_layout, plan_image_path
from station.ids import ID_PATTERN, Id, is_id
from station.model import (
    FORMAT_VERSION,
    FRUIN_QUEUING_PER_M2,
    FRUIN_WALKWAY_PER_M2,
    MAX_FLOOR_SIZE_M,
    NOTICE_TEXT_FIELDS,
    CalibrationSpec,
    Camera,
    CameraModel,
    ContactDetails,
    Feature,
    Floor,
    Landmark,
    Notice,
    PointPair,
    Publishing,
    StationInfo,
    StationLayout,
    Text,
    Thresholds,
    Zone,
)

__all__ = [
    "DEFAULT_STATION",
    "FORMAT_VERSION",
    "FRUIN_QUEUING_PER_M2",
    "FRUIN_WALKWAY_PER_M2",
    "ID_PATTERN",
    "MAX_FLOOR_SIZE_M",
    "NOTICE_TEXT_FIELDS",
    "CalibrationSpec",
    "Camera",
    "CameraModel",
    "ContactDetails",
    "Feature",
    "Floor",
    "Id",
    "Landmark",
    "LayoutError",
    "Notice",
    "PointPair",
    "Publishing",
    "StationInfo",
    "StationLayout",
    "Text",
    "Thresholds",
    "Zone",
    "bundled",
    "camera_to_mapping",
    "is_id",
    "load_layout",
    "load_station_layout",
    "parse_layout",
    "plan_image_path",
    "resolve_station_path",
]
