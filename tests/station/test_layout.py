"""Every rule of the layout format, each written as the broken layout it stops and the exact message.

The messages are compared whole: a rule weakened or its wording lost fails here. A reader fixing a
layout sees one line naming the file, the field by its path of ids, and what is wrong.
"""

import json
from contextlib import nullcontext as does_not_raise
from typing import Any

import pytest

from station import (
    FRUIN_QUEUING_PER_M2,
    FRUIN_WALKWAY_PER_M2,
    NOTICE_TEXT_FIELDS,
    ContactDetails,
    LayoutError,
    parse_layout,
)

TEXT = {"ja": "テキスト", "en": "text"}
SQUARE = [[0, 0], [10, 0], [10, 10], [0, 10]]
MINIMAL: dict[str, Any] = {
    "format_version": 1,
    "station": {"id": "toy", "name": TEXT},
    "notice": {**{key: TEXT for key in NOTICE_TEXT_FIELDS}, "contact_details": {"email": "privacy@toy-station.jp"}},
    "floors": [
        {
            "id": "f1",
            "name": TEXT,
            "size_m": [10, 10],
            "walkable_m": [SQUARE],
            "obstacles_m": [[[4, 4], [6, 4], [6, 6], [4, 6]]],
        }
    ],
    "zones": [
        {"id": "west", "floor": "f1", "name": TEXT, "kind": "walkway", "polygon_m": [[0, 0], [5, 0], [5, 10], [0, 10]]},
        {
            "id": "east",
            "floor": "f1",
            "name": TEXT,
            "kind": "queuing",
            "polygon_m": [[5, 0], [10, 0], [10, 10], [5, 10]],
        },
    ],
    "cameras": [
        {
            "id": "cam",
            "floor": "f1",
            "source": "sim",
            "resolution_wh": [640, 480],
            "calibration": {"image_to_floor": [[0.01, 0, 0], [0, 0.01, 0], [0, 0, 1]]},
        }
    ],
}
K = [[800, 0, 320], [0, 800, 240], [0, 0, 1]]


def changed(path: list, value: object, base: dict | None = None) -> dict:
    """A copy of MINIMAL (or ``base``) with one field replaced (value None deletes it)."""
    # A JSON round trip, not deepcopy: MINIMAL shares its TEXT dict, and one change must touch one field.
    data = json.loads(json.dumps(MINIMAL if base is None else base))
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def with_second(kind: str, **fields: object) -> dict:
    """MINIMAL with a copy of its first floor/zone/camera appended, ``fields`` replaced."""
    data = json.loads(json.dumps(MINIMAL))
    data[kind].append({**json.loads(json.dumps(data[kind][0])), **fields})
    return data


def message(mapping: dict) -> str:
    with pytest.raises(LayoutError) as raised:
        parse_layout(mapping, source="toy.yaml")
    return str(raised.value)


def test_the_minimal_layout_loads() -> None:
    layout = parse_layout(MINIMAL, source="toy.yaml")
    assert [zone.id for zone in layout.zones] == ["west", "east"]


# (broken layout, the whole message). Grouped by the model that holds the rule.
BROKEN = {
    # --- the file as a whole
    "format version": (changed(["format_version"], 2), "toy.yaml: format_version: expected 1, got 2"),
    "no format version": (changed(["format_version"], None), "toy.yaml: format_version: expected 1, got None"),
    "unknown top-level key": (
        changed(["colour"], "red"),
        "toy.yaml: colour: unknown field (not part of the layout format)",
    ),
    "no floors": (
        changed(["floors"], []),
        "toy.yaml: floors: List should have at least 1 item after validation, not 0",
    ),
    "no zones": (changed(["zones"], []), "toy.yaml: zones: List should have at least 1 item after validation, not 0"),
    # --- station
    "station id not an id": (
        changed(["station", "id"], "Toy Station"),
        "toy.yaml: station.id: must be an id: 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter "
        "or digit, got 'Toy Station'",
    ),
    "station id of 60 characters in quotes": (
        changed(["station", "id"], "X" * 58),
        "toy.yaml: station.id: must be an id: 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter "
        f"or digit, got '{'X' * 58}'",
    ),
    "station id too long to repeat": (
        changed(["station", "id"], "X" * 59),
        "toy.yaml: station.id: must be an id: 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter "
        "or digit",
    ),
    "station id too long": (
        changed(["station", "id"], "s" * 65),
        # The value is too long to repeat.
        "toy.yaml: station.id: must be an id: 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter "
        "or digit",
    ),
    "unknown station key": (
        changed(["station", "colour"], "red"),
        "toy.yaml: station.colour: unknown field (not part of the layout format)",
    ),
    "blank name": (changed(["station", "name", "en"], "   "), "toy.yaml: station.name.en: must not be blank"),
    "empty name": (changed(["station", "name", "ja"], ""), "toy.yaml: station.name.ja: must not be blank"),
    "name in one language": (
        changed(["station", "name"], {"en": "Toy"}),
        "toy.yaml: station.name.ja: required field is missing",
    ),
    # --- notice (PRIVACY.md P4)
    **{
        f"notice without {field}": (
            changed(["notice", field], None),
            f"toy.yaml: notice.{field}: required field is missing",
        )
        for field in (*NOTICE_TEXT_FIELDS, "contact_details")
    },
    "blank notice text": (
        changed(["notice", "purpose"], {"ja": " ", "en": "x"}),
        "toy.yaml: notice.purpose.ja: must not be blank",
    ),
    "no way to reach the contact": (
        changed(["notice", "contact_details"], {}),
        "toy.yaml: notice.contact_details: give at least one of url, email or phone: the public must be able to "
        "reach you",
    ),
    "contact url without scheme": (
        changed(["notice", "contact_details"], {"url": "www.toy-station.jp/contact"}),
        "toy.yaml: notice.contact_details.url: must be a web address starting with https:// or http://, got "
        "'www.toy-station.jp/contact'",
    ),
    "contact url of another scheme": (
        changed(["notice", "contact_details"], {"url": "ftp://toy-station.jp/"}),
        "toy.yaml: notice.contact_details.url: must be a web address starting with https:// or http://, got "
        "'ftp://toy-station.jp/'",
    ),
    "contact url without host": (
        changed(["notice", "contact_details"], {"url": "https:///contact"}),
        "toy.yaml: notice.contact_details.url: must be a web address starting with https:// or http://, got "
        "'https:///contact'",
    ),
    "contact url with a space": (
        changed(["notice", "contact_details"], {"url": "https://toy-station.jp/our contact"}),
        "toy.yaml: notice.contact_details.url: must be a web address starting with https:// or http://, got "
        "'https://toy-station.jp/our contact'",
    ),
    "contact email without domain": (
        changed(["notice", "contact_details"], {"email": "privacy@"}),
        "toy.yaml: notice.contact_details.email: must be an e-mail address such as privacy@station.example, got "
        "'privacy@'",
    ),
    "contact email without top-level domain": (
        changed(["notice", "contact_details"], {"email": "privacy@station"}),
        "toy.yaml: notice.contact_details.email: must be an e-mail address such as privacy@station.example, got "
        "'privacy@station'",
    ),
    "contact email with a space": (
        changed(["notice", "contact_details"], {"email": "station office@toy-station.jp"}),
        "toy.yaml: notice.contact_details.email: must be an e-mail address such as privacy@station.example, got "
        "'station office@toy-station.jp'",
    ),
    "contact phone with letters": (
        changed(["notice", "contact_details"], {"phone": "call the office"}),
        "toy.yaml: notice.contact_details.phone: must be a phone number of at least 6 digits (spaces, +, -, ( and ) "
        "allowed), got 'call the office'",
    ),
    "contact phone with words": (
        # Enough digits, but a number is dialled, not read: words around it belong in notice.contact.
        changed(["notice", "contact_details"], {"phone": "03 1234 5678 (weekdays)"}),
        "toy.yaml: notice.contact_details.phone: must be a phone number of at least 6 digits (spaces, +, -, ( and ) "
        "allowed), got '03 1234 5678 (weekdays)'",
    ),
    "contact phone too short": (
        changed(["notice", "contact_details"], {"phone": "+81 123"}),
        "toy.yaml: notice.contact_details.phone: must be a phone number of at least 6 digits (spaces, +, -, ( and ) "
        "allowed), got '+81 123'",
    ),
    "unknown contact way": (
        changed(["notice", "contact_details"], {"fax": "03-1234-5678"}),
        "toy.yaml: notice.contact_details.fax: unknown field (not part of the layout format)",
    ),
    # --- publishing
    "coarsening too coarse": (
        changed(["publishing"], {"coarsen_m": 5.01}),
        "toy.yaml: publishing.coarsen_m: Input should be less than or equal to 5, got 5.01",
    ),
    "coarsening method": (
        changed(["publishing"], {"coarsen_method": "blur"}),
        "toy.yaml: publishing.coarsen_method: Input should be 'grid' or 'jitter', got 'blur'",
    ),
    "frame interval zero": (
        changed(["publishing"], {"frame_interval_s": 0}),
        "toy.yaml: publishing.frame_interval_s: Input should be greater than 0, got 0",
    ),
    "frame interval over a minute": (
        changed(["publishing"], {"frame_interval_s": 61}),
        "toy.yaml: publishing.frame_interval_s: Input should be less than or equal to 60, got 61",
    ),
    "negative density window": (
        changed(["publishing"], {"density_window_s": -1}),
        "toy.yaml: publishing.density_window_s: Input should be greater than or equal to 0, got -1",
    ),
    "stale after zero": (
        changed(["publishing"], {"stale_after_s": 0}),
        "toy.yaml: publishing.stale_after_s: Input should be greater than 0, got 0",
    ),
    "no retention": (
        changed(["publishing"], {"history_retention_days": 0}),
        "toy.yaml: publishing.history_retention_days: Input should be greater than or equal to 1, got 0",
    ),
    "retention over ten years": (
        changed(["publishing"], {"history_retention_days": 3651}),
        "toy.yaml: publishing.history_retention_days: Input should be less than or equal to 3650, got 3651",
    ),
    # --- floors
    "duplicate floor ids": (
        with_second("floors", name={"ja": "二階", "en": "upstairs"}),
        "toy.yaml: floors: ids must be unique, got duplicates ['f1']",
    ),
    "floor id not an id": (
        changed(["floors", 0, "id"], "F 1"),
        "toy.yaml: floors[F 1].id: must be an id: 1 to 64 lower-case letters, digits, '-' or '_', starting with a "
        "letter or digit, got 'F 1'",
    ),
    "floor of zero width": (
        changed(["floors", 0, "size_m"], [0, 10]),
        "toy.yaml: floors[f1].size_m: must be positive width and height in metres, got (0.0, 10.0)",
    ),
    "floor of negative height": (
        changed(["floors", 0, "size_m"], [10, -1]),
        "toy.yaml: floors[f1].size_m: must be positive width and height in metres, got (10.0, -1.0)",
    ),
    "floor over 5 km": (
        changed(["floors", 0, "size_m"], [10, 5000.5]),
        "toy.yaml: floors[f1].size_m: a floor plan is at most 5000 m on a side, got (10.0, 5000.5)",
    ),
    "floor with one size": (changed(["floors", 0, "size_m"], [10]), "toy.yaml: floors[f1].size_m[1]: too few values"),
    "floor without walkable area": (
        changed(["floors", 0, "walkable_m"], []),
        "toy.yaml: floors[f1].walkable_m: List should have at least 1 item after validation, not 0",
    ),
    "walkable area beyond the plan": (
        changed(["floors", 0, "walkable_m"], [[[0, 0], [10.5, 0], [10, 10]]]),
        "toy.yaml: floors[f1].walkable_m[0]: extends beyond the plan (0..10.0 x 0..10.0 m)",
    ),
    "walkable area left of the plan": (
        changed(["floors", 0, "walkable_m"], [[[-0.1, 0], [10, 0], [10, 10]]]),
        "toy.yaml: floors[f1].walkable_m[0]: extends beyond the plan (0..10.0 x 0..10.0 m)",
    ),
    "walkable area above the plan": (
        changed(["floors", 0, "walkable_m"], [[[0, -0.1], [10, 0], [10, 10]]]),
        "toy.yaml: floors[f1].walkable_m[0]: extends beyond the plan (0..10.0 x 0..10.0 m)",
    ),
    "obstacle below the plan": (
        changed(["floors", 0, "obstacles_m"], [[[4, 4], [6, 4], [6, 10.1]]]),
        "toy.yaml: floors[f1].obstacles_m[0]: extends beyond the plan (0..10.0 x 0..10.0 m)",
    ),
    "walkable polygon of two points": (
        changed(["floors", 0, "walkable_m"], [SQUARE, [[0, 0], [1, 1]]]),
        "toy.yaml: floors[f1].walkable_m[1]: needs at least 3 points, got 2",
    ),
    "obstacle on one line": (
        changed(["floors", 0, "obstacles_m"], [[[1, 1], [2, 2], [3, 3]]]),
        "toy.yaml: floors[f1].obstacles_m[0]: has zero area: its 3 points lie on one line",
    ),
    "feature kind": (
        changed(["floors", 0, "features"], [{"kind": "fountain", "polygon_m": SQUARE}]),
        "toy.yaml: floors[f1].features[0].kind: Input should be 'gates', 'shop', 'stairs', 'escalator', 'elevator', "
        "'track', 'platform-edge', 'exit' or 'other', got 'fountain'",
    ),
    "feature crossing itself": (
        changed(["floors", 0, "features"], [{"kind": "shop", "polygon_m": [[0, 0], [2, 2], [2, 0], [0, 2]]}]),
        "toy.yaml: floors[f1].features[0].polygon_m: is not a valid polygon: Self-intersection[1 1]",
    ),
    "feature label in one language": (
        changed(["floors", 0, "features"], [{"kind": "shop", "label": {"ja": "店"}, "polygon_m": SQUARE}]),
        "toy.yaml: floors[f1].features[0].label.en: required field is missing",
    ),
    "plan image outside the layout folder": (
        changed(["floors", 0, "plan_image"], "../../etc/passwd.png"),
        "toy.yaml: floors[f1].plan_image: must be a path inside the layout folder, got '../../etc/passwd.png'",
    ),
    "plan image at an absolute path": (
        changed(["floors", 0, "plan_image"], "/srv/plan.svg"),
        "toy.yaml: floors[f1].plan_image: must be a path inside the layout folder, got '/srv/plan.svg'",
    ),
    "plan image of another type": (
        changed(["floors", 0, "plan_image"], "plans/f1.pdf"),
        "toy.yaml: floors[f1].plan_image: must be one of .svg, .png, .jpg, .jpeg, got 'plans/f1.pdf'",
    ),
    "landmark outside the plan": (
        changed(["floors", 0, "landmarks"], [{"label": TEXT, "point_m": [3, 14]}]),
        "toy.yaml: floors[f1].landmarks[0]: 'text' lies outside the plan (0..10.0 x 0..10.0 m)",
    ),
    "landmark left of the plan": (
        changed(["floors", 0, "landmarks"], [{"label": TEXT, "point_m": [-1, 4]}]),
        "toy.yaml: floors[f1].landmarks[0]: 'text' lies outside the plan (0..10.0 x 0..10.0 m)",
    ),
    "landmark without a point": (
        changed(["floors", 0, "landmarks"], [{"label": TEXT}]),
        "toy.yaml: floors[f1].landmarks[0].point_m: required field is missing",
    ),
    # --- zones
    "duplicate zone ids": (
        changed(["zones", 1, "id"], "west"),
        "toy.yaml: zones: ids must be unique, got duplicates ['west']",
    ),
    "zone on an unknown floor": (
        changed(["zones", 1, "floor"], "f9"),
        "toy.yaml: zones[east].floor: zone 'east' is on floor 'f9', expected one of ['f1']",
    ),
    "zone of two points": (
        changed(["zones", 0, "polygon_m"], [[0, 0], [5, 5]]),
        "toy.yaml: zones[west].polygon_m: needs at least 3 points, got 2",
    ),
    "zone on one line": (
        changed(["zones", 0, "polygon_m"], [[0, 0], [2, 2], [4, 4]]),
        "toy.yaml: zones[west].polygon_m: has zero area: its 3 points lie on one line",
    ),
    "zone of one repeated point": (
        changed(["zones", 0, "polygon_m"], [[1, 1], [1, 1], [1, 1], [1, 1]]),
        "toy.yaml: zones[west].polygon_m: has zero area: its 4 points lie on one line",
    ),
    "zone crossing itself": (
        changed(["zones", 0, "polygon_m"], [[0, 0], [5, 5], [5, 0], [0, 5]]),
        "toy.yaml: zones[west].polygon_m: is not a valid polygon: Self-intersection[2.5 2.5]",
    ),
    "zone outside its floor": (
        changed(["zones", 0, "polygon_m"], [[0, 0], [5, 0], [5, 10.5], [0, 10.5]]),
        "toy.yaml: zones[west].polygon_m: zone 'west' extends beyond its floor 'f1' (0..10.0 x 0..10.0 m)",
    ),
    "zone wholly outside its floor": (
        changed(["zones", 0, "polygon_m"], [[20, 20], [25, 20], [25, 25]]),
        "toy.yaml: zones[west].polygon_m: zone 'west' extends beyond its floor 'f1' (0..10.0 x 0..10.0 m)",
    ),
    "zone with no walkable area": (
        # Inside the plan, but all of it on the obstacle.
        changed(["zones", 0, "polygon_m"], [[4, 4], [6, 4], [6, 6], [4, 6]]),
        "toy.yaml: zones[west].polygon_m: zone 'west' has no walkable area on floor 'f1'",
    ),
    "zone kind": (
        changed(["zones", 0, "kind"], "platform"),
        "toy.yaml: zones[west].kind: Input should be 'walkway' or 'queuing', got 'platform'",
    ),
    "thresholds decreasing": (
        changed(["zones", 0, "thresholds"], {"public_per_m2": [1.0, 0.5, 2.0]}),
        "toy.yaml: zones[west].thresholds.public_per_m2: must be positive and strictly increasing, got [1.0, 0.5, 2.0]",
    ),
    "thresholds repeating": (
        changed(["zones", 0, "thresholds"], {"los_per_m2": [0.3, 0.4, 0.4, 1.0, 2.0]}),
        "toy.yaml: zones[west].thresholds.los_per_m2: must be positive and strictly increasing, got "
        "[0.3, 0.4, 0.4, 1.0, 2.0]",
    ),
    "thresholds starting at zero": (
        changed(["zones", 0, "thresholds"], {"public_per_m2": [0.0, 0.5, 2.0]}),
        "toy.yaml: zones[west].thresholds.public_per_m2: must be positive and strictly increasing, got [0.0, 0.5, 2.0]",
    ),
    "negative hysteresis": (
        changed(["zones", 0, "thresholds"], {"hysteresis_per_m2": -0.1}),
        "toy.yaml: zones[west].thresholds.hysteresis_per_m2: Input should be greater than or equal to 0, got -0.1",
    ),
    # --- cameras
    "duplicate camera ids": (
        with_second("cameras"),
        "toy.yaml: cameras: ids must be unique, got duplicates ['cam']",
    ),
    "camera on an unknown floor": (
        changed(["cameras", 0, "floor"], "roof"),
        "toy.yaml: cameras[cam].floor: camera 'cam' is on floor 'roof', expected one of ['f1']",
    ),
    "camera without source": (
        changed(["cameras", 0, "source"], ""),
        "toy.yaml: cameras[cam].source: String should have at least 1 character, got ''",
    ),
    "camera of zero resolution": (
        changed(["cameras", 0, "resolution_wh"], [640, 0]),
        "toy.yaml: cameras[cam].resolution_wh: must be positive width and height in pixels, got (640, 0)",
    ),
    "camera of negative resolution": (
        changed(["cameras", 0, "resolution_wh"], [-640, 480]),
        "toy.yaml: cameras[cam].resolution_wh: must be positive width and height in pixels, got (-640, 480)",
    ),
    "camera faster than 60 fps": (
        changed(["cameras", 0, "target_fps"], 61),
        "toy.yaml: cameras[cam].target_fps: Input should be less than or equal to 60, got 61",
    ),
    "camera with no pixel error": (
        changed(["cameras", 0, "pixel_sigma_px"], 0),
        "toy.yaml: cameras[cam].pixel_sigma_px: Input should be greater than 0, got 0",
    ),
    "calibration of no kind": (
        changed(["cameras", 0, "calibration"], {"max_error_m": 0.3}),
        "toy.yaml: cameras[cam].calibration: give exactly one of point_pairs, image_to_floor or camera_model, got none",
    ),
    "calibration of two kinds": (
        changed(
            ["cameras", 0, "calibration", "point_pairs"],
            [{"image_px": [0, 0], "floor_m": [0, 0]}] * 4,
        ),
        "toy.yaml: cameras[cam].calibration: give exactly one of point_pairs, image_to_floor or camera_model, "
        "got ['point_pairs', 'image_to_floor']",
    ),
    "distortion without a camera matrix": (
        changed(["cameras", 0, "calibration", "dist_coeffs"], [0.1, 0, 0, 0, 0]),
        "toy.yaml: cameras[cam].calibration.dist_coeffs: needs camera_matrix: lens distortion is relative to the "
        "intrinsics",
    ),
    "camera matrix without distortion": (
        changed(["cameras", 0, "calibration", "camera_matrix"], K),
        "toy.yaml: cameras[cam].calibration.camera_matrix: needs dist_coeffs (all zeros for a lens without distortion)",
    ),
    "too many distortion coefficients": (
        changed(
            ["cameras", 0, "calibration"],
            {
                "image_to_floor": MINIMAL["cameras"][0]["calibration"]["image_to_floor"],
                "camera_matrix": K,
                "dist_coeffs": [0.0] * 15,
            },
        ),
        "toy.yaml: cameras[cam].calibration.dist_coeffs: List should have at most 14 items after validation, not 15",
    ),
    "no error allowed": (
        changed(["cameras", 0, "calibration", "max_error_m"], 0),
        "toy.yaml: cameras[cam].calibration.max_error_m: Input should be greater than 0, got 0",
    ),
    "matrix row too short": (
        changed(["cameras", 0, "calibration", "image_to_floor"], [[1, 0, 0], [0, 1], [0, 0, 1]]),
        "toy.yaml: cameras[cam].calibration.image_to_floor[1][2]: too few values",
    ),
    "camera model with too many distortion coefficients": (
        changed(
            ["cameras", 0, "calibration"],
            {"camera_model": {"camera_matrix": K, "dist_coeffs": [0.0] * 15, "rvec": [0, 0, 0], "tvec_m": [0, 0, 5]}},
        ),
        "toy.yaml: cameras[cam].calibration.camera_model.dist_coeffs: List should have at most 14 items after "
        "validation, not 15",
    ),
}


@pytest.mark.parametrize(("mapping", "expected"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_layout_is_refused_with_one_line_naming_the_field(mapping: dict, expected: str) -> None:
    assert message(mapping) == expected


# Edges of each range that must still load (the other side of the rules above).
ACCEPTED = {
    "coarsening at its limit": changed(["publishing"], {"coarsen_m": 5.0, "coarsen_method": "jitter"}),
    "frame interval of a minute": changed(["publishing"], {"frame_interval_s": 60}),
    "no density window": changed(["publishing"], {"density_window_s": 0}),
    "retention of ten years": changed(["publishing"], {"history_retention_days": 3650}),
    "retention of a day": changed(["publishing"], {"history_retention_days": 1}),
    "floor of 5 km": changed(["floors", 0, "size_m"], [10, 5000]),
    "walkable area on the plan's edges": changed(["floors", 0, "walkable_m"], [SQUARE]),
    "landmark on the plan's corner": changed(["floors", 0, "landmarks"], [{"label": TEXT, "point_m": [10, 10]}]),
    "zone on the plan's edges": changed(["zones", 1, "polygon_m"], [[5, 0], [10, 0], [10, 10], [5, 10]]),
    "zone partly on an obstacle": changed(["zones", 0, "polygon_m"], [[3, 3], [6, 3], [6, 6], [3, 6]]),
    "camera at 60 fps": changed(["cameras", 0, "target_fps"], 60),
    "no hysteresis": changed(["zones", 0, "thresholds"], {"hysteresis_per_m2": 0}),
    "plan image in a subfolder": changed(["floors", 0, "plan_image"], "plans/f1.SVG"),
    "contact by phone only": changed(["notice", "contact_details"], {"phone": "+81 (3) 1234-5678"}),
    "contact by web page only": changed(["notice", "contact_details"], {"url": "http://toy-station.jp/contact"}),
    "distortion with its camera matrix": changed(
        ["cameras", 0, "calibration"],
        {
            "image_to_floor": MINIMAL["cameras"][0]["calibration"]["image_to_floor"],
            "camera_matrix": K,
            "dist_coeffs": [0.0] * 14,
        },
    ),
    "floor-free layout without cameras": changed(["cameras"], []),
}


@pytest.mark.parametrize("mapping", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_the_edges_of_each_range_still_load(mapping: dict) -> None:
    with does_not_raise():
        parse_layout(mapping, source="toy.yaml")


def test_texts_are_stripped() -> None:
    layout = parse_layout(changed(["station", "name"], {"ja": " 駅 ", "en": "  Toy\n"}))
    assert (layout.station.name.ja, layout.station.name.en) == ("駅", "Toy")


def test_many_errors_are_counted_after_the_first_five() -> None:
    broken = json.loads(json.dumps(MINIMAL))
    for field in NOTICE_TEXT_FIELDS:
        del broken["notice"][field]
    assert message(broken) == (
        "toy.yaml: notice.operator: required field is missing; notice.purpose: required field is missing; "
        "notice.captured: required field is missing; notice.retention: required field is missing; "
        "notice.contact: required field is missing; and 2 more"
    )


def test_five_errors_are_all_shown_without_a_count() -> None:
    broken = json.loads(json.dumps(MINIMAL))
    for field in NOTICE_TEXT_FIELDS[:5]:
        del broken["notice"][field]
    assert message(broken) == (
        "toy.yaml: notice.operator: required field is missing; notice.purpose: required field is missing; "
        "notice.captured: required field is missing; notice.retention: required field is missing; "
        "notice.contact: required field is missing"
    )


def test_a_list_item_without_an_id_is_named_by_its_index() -> None:
    broken = changed(["zones", 0, "id"], None)
    assert message(broken) == "toy.yaml: zones[0].id: required field is missing"


def test_zone_defaults_follow_fruin_tables() -> None:
    layout = parse_layout(MINIMAL)
    west, east = layout.zones
    assert west.los_bounds_per_m2 == FRUIN_WALKWAY_PER_M2
    assert east.los_bounds_per_m2 == FRUIN_QUEUING_PER_M2
    # Public scale: quiet up to LOS B, busy in C, crowded in D, very crowded from E.
    assert east.public_bounds_per_m2 == FRUIN_QUEUING_PER_M2[1:4]
    assert west.public_bounds_per_m2 == FRUIN_WALKWAY_PER_M2[1:4]


def test_zone_thresholds_override_the_defaults() -> None:
    layout = parse_layout(
        changed(["zones", 0, "thresholds"], {"los_per_m2": [0.1, 0.2, 0.3, 0.4, 0.5], "public_per_m2": [1, 2, 3]})
    )
    assert layout.zones[0].los_bounds_per_m2 == (0.1, 0.2, 0.3, 0.4, 0.5)
    assert layout.zones[0].public_bounds_per_m2 == (1, 2, 3)
    only_los = parse_layout(changed(["zones", 0, "thresholds"], {"los_per_m2": [0.1, 0.2, 0.3, 0.4, 0.5]}))
    assert only_los.zones[0].public_bounds_per_m2 == (0.2, 0.3, 0.4)


def test_walkable_area_subtracts_obstacles() -> None:
    layout = parse_layout(MINIMAL)
    assert layout.floor("f1").walkable.area == pytest.approx(100 - 4)


def test_lookups_by_id_name_what_exists() -> None:
    layout = parse_layout(MINIMAL)
    assert layout.camera("cam").floor == "f1"
    assert [zone.id for zone in layout.zones_on("f1")] == ["west", "east"]
    with pytest.raises(KeyError, match=r"no floor 'f2'; floors are \['f1'\]"):
        layout.floor("f2")
    with pytest.raises(KeyError, match=r"no camera 'cam2'; cameras are \['cam'\]"):
        layout.camera("cam2")


@pytest.mark.parametrize(
    ("calibration", "kind"),
    [
        ({"image_to_floor": K}, "image_to_floor"),
        ({"point_pairs": [{"image_px": [0, 0], "floor_m": [0, 0]}]}, "point_pairs"),
        ({"camera_model": {"camera_matrix": K, "rvec": [0, 0, 0], "tvec_m": [0, 0, 5]}}, "camera_model"),
    ],
)
def test_a_calibration_says_its_kind(calibration: dict, kind: str) -> None:
    layout = parse_layout(changed(["cameras", 0, "calibration"], calibration))
    assert layout.cameras[0].calibration.kind == kind


def with_cell(cell_m: float, captured: dict | None = None) -> dict:
    data = changed(["publishing"], {"coarsen_m": cell_m})
    if captured is not None:
        data["notice"]["captured"] = captured
    return data


@pytest.mark.parametrize(
    ("mapping", "expectation"),
    [
        (with_cell(0.5), does_not_raise()),
        (with_cell(2.0), does_not_raise()),
        (
            with_cell(0.0),
            pytest.raises(LayoutError, match=r"publishing.coarsen_m: 0 m is finer than allowed: .*at least 0.5 m"),
        ),
        (
            with_cell(0.3),
            pytest.raises(
                LayoutError, match=r"publishing.coarsen_m: 0.3 m is finer than allowed: .*notice's 'captured' text"
            ),
        ),
        (
            with_cell(
                0.3, {"ja": "位置は30cm単位に丸めて表示します。", "en": "Positions are shown to the nearest 0.3 m."}
            ),
            does_not_raise(),
        ),
        (
            with_cell(0.3, {"ja": "位置は丸めて表示します。", "en": "Positions are shown to the nearest 0.3 m."}),
            pytest.raises(LayoutError, match="both languages"),
        ),
        (
            with_cell(0.05, {"ja": "5cm", "en": "0.05 m"}),
            pytest.raises(LayoutError, match=r"down to 0.1 m"),
        ),
    ],
    ids=["default", "coarser", "zero", "finer-unannounced", "finer-announced", "one-language", "below-rounding"],
)
def test_coarsening_has_a_floor_unless_the_notice_states_a_finer_cell(mapping: dict, expectation) -> None:
    """Issue 11 item 3: a layout asking for (nearly) raw positions is refused at load."""
    with expectation:
        parse_layout(mapping, source="toy.yaml")


@pytest.mark.parametrize(
    ("details", "placeholders"),
    [
        ({"email": "privacy@toy-station.jp", "url": "https://toy-station.jp/"}, []),
        ({"email": "privacy@example.org", "url": "https://www.example.com/contact"}, ["url", "email"]),
        ({"email": "privacy@station.example"}, ["email"]),
        ({"url": "https://contact.invalid/"}, ["url"]),
        ({"url": "http://localhost:8000/"}, ["url"]),
        ({"email": "a@notexample.org", "url": "https://example.org.jp/"}, []),
        ({"phone": "+81 3 1234 5678"}, []),
        ({"email": "PRIVACY@Example.ORG"}, ["email"]),  # domains are case-blind
        ({"url": "https://example.org./contact"}, ["url"]),  # a trailing dot names the same host
        ({"url": "https://example.org/", "email": "a@b.test"}, ["url", "email"]),
    ],
)
def test_contacts_on_example_domains_are_flagged_as_placeholders(details: dict, placeholders: list[str]) -> None:
    assert ContactDetails.model_validate(details).placeholders() == placeholders
