"""The bus codec as an attacker meets it: each rule of the schema, broken alone, with the reason it is refused.

Every case starts from a valid message and breaks exactly one thing, so a case passes only for
its own rule (a NaN refused because keys were missing would prove nothing). Boundaries are tested
from both sides: the largest allowed value passes, the next one is refused.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import numpy as np
import pytest

from bus.codec import (
    MAX_FLOORS,
    MAX_MESSAGE_BYTES,
    MAX_POINTS,
    MAX_ZONES_PER_FLOOR,
    REASONS,
    MessageError,
    PositionsMessage,
    StationFramesMessage,
    StatusMessage,
    decode_message,
    encode_camera_status,
    encode_positions,
    encode_station_frames,
)
from bus.schema import MAX_DENSITY_PER_M2, MAX_FPS, MAX_LEVEL
from detector.sources import SOURCE_ERROR_CODES
from homography.types import FloorPositions
from iconizer.types import CAMERA_ERRORS, CAMERA_STATES, LOS_GRADES, CameraStatus, IconFrame, ZoneState


def make_frame(n_dots: int = 3, floor: str = "concourse") -> IconFrame:
    rng = np.random.default_rng(0)
    return IconFrame(
        station_id="demo",
        floor_id=floor,
        timestamp_s=1000.0,
        dots_m=rng.uniform(0, 20, (n_dots, 2)),
        moving=np.array([True, False, True][:n_dots] + [False] * max(0, n_dots - 3)),
        zones=(ZoneState("gates", 2, 0.5, 1, "C", False), ZoneState("west", 0, 0.0, 0, "A", True)),
    )


def valid(kind: str) -> dict[str, Any]:
    """A valid message of each type, as plain data."""
    if kind == "positions":
        positions = FloorPositions("cam-1", "concourse", 12.5, [[1.0, 2.0], [3.25, 4.5]], [0.9, 0.8], [0.1, 0.2])
        return json.loads(encode_positions("demo", positions))
    if kind == "camera_status":
        return json.loads(encode_camera_status("demo", CameraStatus("cam-1", 5.0, "live", 12.5, 0.1, "")))
    return json.loads(encode_station_frames("demo", [make_frame()], 1000.0))


def changed(kind: str, path: tuple[Any, ...], value: Any) -> str:
    """A valid message of ``kind`` with the value at ``path`` replaced (``...`` deletes the key)."""
    message = copy.deepcopy(valid(kind))
    target = message
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    # allow_nan: the attacker's encoder is not ours; NaN and Infinity are valid to Python's json.
    return json.dumps(message, allow_nan=True)


def refusal(raw: bytes | str, **options: Any) -> tuple[str, str]:
    with pytest.raises(MessageError) as caught:
        decode_message(raw, **options)
    assert caught.value.reason in REASONS
    return caught.value.reason, caught.value.where


ZONE = ("floors", 0, "zones", 0)
DOT = ("floors", 0, "dots", 0)

# (kind, path, value, expected reason, expected place)
BROKEN = [
    # the envelope
    ("icon_frames", ("type",), "frame_jpeg", "unknown_type", ""),
    ("icon_frames", ("type",), ..., "unknown_type", ""),
    ("icon_frames", ("v",), 2, "version", "v"),
    ("icon_frames", ("v",), 0, "version", "v"),
    ("icon_frames", ("v",), True, "version", "v"),
    ("icon_frames", ("v",), 1.0, "version", "v"),
    ("icon_frames", ("v",), ..., "missing_key", "v"),
    ("icon_frames", ("image",), "aGVsbG8=", "unexpected_key", "image"),
    ("icon_frames", ("station",), "../etc", "bad_id", "station"),
    ("icon_frames", ("station",), "demo\n", "bad_id", "station"),
    ("icon_frames", ("station",), 7, "wrong_type", "station"),
    # icon frames
    ("icon_frames", ("timestamp",), "now", "wrong_type", "timestamp"),
    ("icon_frames", ("timestamp",), math.nan, "not_finite", "timestamp"),
    ("icon_frames", ("timestamp",), math.inf, "not_finite", "timestamp"),
    ("icon_frames", ("timestamp",), 10**400, "not_finite", "timestamp"),
    ("icon_frames", ("timestamp",), -1.0, "out_of_range", "timestamp"),
    ("icon_frames", ("timestamp",), True, "wrong_type", "timestamp"),
    ("icon_frames", ("floors",), [], "too_many", "floors"),
    ("icon_frames", ("floors",), {"floor": "c"}, "wrong_type", "floors"),
    ("icon_frames", ("floors", 0, "floor"), "C!", "bad_id", "floors[0].floor"),
    ("icon_frames", ("floors", 0, "jpeg"), "/9j/4AAQ", "unexpected_key", "floors[0].jpeg"),
    ("icon_frames", ("floors", 0, "zones"), ..., "missing_key", "floors[0].zones"),
    ("icon_frames", DOT, [1.0, 2.0, 0.5], "moving_flag", "floors[0].dots[0][2]"),
    ("icon_frames", DOT, [1.0, 2.0, -1.0], "moving_flag", "floors[0].dots[0][2]"),
    ("icon_frames", DOT, [1.0, 2.0, 0.0, 7.0], "bad_row", "floors[0].dots[0]"),
    ("icon_frames", DOT, [1.0, 2.0], "bad_row", "floors[0].dots[0]"),
    ("icon_frames", DOT, [1.0, "x", 0.0], "wrong_type", "floors[0].dots[0][1]"),
    ("icon_frames", DOT, [1.0, True, 0.0], "wrong_type", "floors[0].dots[0][1]"),
    ("icon_frames", DOT, [math.nan, 2.0, 0.0], "not_finite", "floors[0].dots[0][0]"),
    ("icon_frames", DOT, [1.0, math.inf, 1.0], "not_finite", "floors[0].dots[0][1]"),
    ("icon_frames", DOT, [1.0, 2.0, math.nan], "not_finite", "floors[0].dots[0][2]"),
    ("icon_frames", DOT, [1.0, 2.0, True], "wrong_type", "floors[0].dots[0][2]"),
    ("icon_frames", DOT, "1,2,0", "wrong_type", "floors[0].dots[0]"),
    ("icon_frames", (*ZONE, "id"), "Gates", "bad_id", "floors[0].zones[0].id"),
    ("icon_frames", (*ZONE, "count"), -1, "out_of_range", "floors[0].zones[0].count"),
    ("icon_frames", (*ZONE, "count"), MAX_POINTS + 1, "out_of_range", "floors[0].zones[0].count"),
    ("icon_frames", (*ZONE, "count"), 1.5, "wrong_type", "floors[0].zones[0].count"),
    ("icon_frames", (*ZONE, "count"), True, "wrong_type", "floors[0].zones[0].count"),
    ("icon_frames", (*ZONE, "density_per_m2"), -0.01, "out_of_range", "floors[0].zones[0].density_per_m2"),
    ("icon_frames", (*ZONE, "density_per_m2"), MAX_DENSITY_PER_M2 + 0.01, "out_of_range",
     "floors[0].zones[0].density_per_m2"),
    ("icon_frames", (*ZONE, "density_per_m2"), math.nan, "not_finite", "floors[0].zones[0].density_per_m2"),
    ("icon_frames", (*ZONE, "density_per_m2"), "0.5", "wrong_type", "floors[0].zones[0].density_per_m2"),
    ("icon_frames", (*ZONE, "level"), MAX_LEVEL + 1, "out_of_range", "floors[0].zones[0].level"),
    ("icon_frames", (*ZONE, "level"), -1, "out_of_range", "floors[0].zones[0].level"),
    ("icon_frames", (*ZONE, "level"), 1.0, "wrong_type", "floors[0].zones[0].level"),
    ("icon_frames", (*ZONE, "level"), True, "wrong_type", "floors[0].zones[0].level"),
    ("icon_frames", (*ZONE, "los"), "G", "not_in_set", "floors[0].zones[0].los"),
    ("icon_frames", (*ZONE, "los"), "a", "not_in_set", "floors[0].zones[0].los"),
    ("icon_frames", (*ZONE, "los"), 1, "not_in_set", "floors[0].zones[0].los"),
    ("icon_frames", (*ZONE, "stale"), 1, "wrong_type", "floors[0].zones[0].stale"),
    ("icon_frames", (*ZONE, "stale"), "true", "wrong_type", "floors[0].zones[0].stale"),
    ("icon_frames", (*ZONE, "stale"), None, "wrong_type", "floors[0].zones[0].stale"),
    ("icon_frames", (*ZONE, "name"), "Gates", "unexpected_key", "floors[0].zones[0].name"),
    ("icon_frames", (*ZONE, "los"), ..., "missing_key", "floors[0].zones[0].los"),
    ("icon_frames", ("floors", 0, "zones", 1, "id"), "gates", "inconsistent", "icon_frames"),
    # camera status
    ("camera_status", ("state",), "hacked", "not_in_set", "state"),
    ("camera_status", ("state",), "LIVE", "not_in_set", "state"),
    ("camera_status", ("state",), None, "not_in_set", "state"),
    # Issue 11 item 4: a base64 PNG in the error text once reached the staff dashboard.
    ("camera_status", ("error",), "iVBORw0KGgoAAAANSUhEUgAA", "not_in_set", "error"),
    ("camera_status", ("error",), "stream lost", "not_in_set", "error"),
    ("camera_status", ("error",), "Stream_lost", "not_in_set", "error"),
    ("camera_status", ("error",), 5, "not_in_set", "error"),
    ("camera_status", ("error",), None, "not_in_set", "error"),
    ("camera_status", ("fps",), -0.5, "out_of_range", "fps"),
    ("camera_status", ("fps",), MAX_FPS + 0.5, "out_of_range", "fps"),
    ("camera_status", ("fps",), math.nan, "not_finite", "fps"),
    ("camera_status", ("fps",), True, "wrong_type", "fps"),
    ("camera_status", ("last_frame_age_s",), -1.0, "out_of_range", "last_frame_age_s"),
    ("camera_status", ("last_frame_age_s",), math.inf, "not_finite", "last_frame_age_s"),
    ("camera_status", ("last_frame_age_s",), "old", "wrong_type", "last_frame_age_s"),
    ("camera_status", ("t",), -1.0, "out_of_range", "t"),
    ("camera_status", ("camera",), "../../cam", "bad_id", "camera"),
    ("camera_status", ("frame",), "/9j/4AAQ", "unexpected_key", "frame"),
    # positions
    ("positions", ("xy_m", 0), [1.0, 2.0, 3.0], "bad_row", "xy_m[0]"),
    ("positions", ("xy_m", 0), [1.0], "bad_row", "xy_m[0]"),
    ("positions", ("xy_m", 0), [1.0, math.nan], "not_finite", "xy_m[0][1]"),
    ("positions", ("xy_m", 0), [10**400, 1.0], "not_finite", "xy_m[0][0]"),
    ("positions", ("xy_m", 0), [1.0, False], "wrong_type", "xy_m[0][1]"),
    ("positions", ("confidence",), [0.5, math.inf], "not_finite", "confidence[1]"),
    ("positions", ("confidence",), [0.5, "0.5"], "wrong_type", "confidence[1]"),
    ("positions", ("sigma_m",), [0.1, math.nan], "not_finite", "sigma_m[1]"),
    ("positions", ("sigma_m",), [0.1, True], "wrong_type", "sigma_m[1]"),
    ("positions", ("confidence",), [0.5, 0.6, 0.7], "inconsistent", "positions"),
    ("positions", ("confidence",), [0.5, 1.5], "inconsistent", "positions"),
    ("positions", ("sigma_m",), [0.1, 0.0], "inconsistent", "positions"),
    ("positions", ("t",), math.nan, "not_finite", "t"),
    ("positions", ("t",), -0.5, "out_of_range", "t"),
    ("positions", ("camera",), "CAM", "bad_id", "camera"),
    ("positions", ("floor",), "", "bad_id", "floor"),
    ("positions", ("image",), "iVBORw0KGgo=", "unexpected_key", "image"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "path", "value", "reason", "where"), BROKEN)
def test_each_rule_broken_alone_is_refused_with_its_reason(kind, path, value, reason, where) -> None:
    assert refusal(changed(kind, path, value)) == (reason, where)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "not_json"),
        ("[1, 2, 3]", "not_an_object"),
        ('"a string"', "not_an_object"),
        ("{", "not_json"),
        # The attacks of issue 11 item 6: each once crashed the aggregator's loop.
        ('{"type":"positions","v":1,"t":' + "9" * 5000 + "}", "not_json"),
        ("[" * 50_000 + "]" * 50_000, "not_json"),
        ('{"type":"positions","floors":' + "[" * 50_000 + "]" * 50_000 + "}", "not_json"),
        ("x" * (MAX_MESSAGE_BYTES + 1), "too_large"),
    ],
)
def test_what_is_not_a_message_at_all_is_refused(raw: bytes | str, reason: str) -> None:
    assert refusal(raw) == (reason, "")


def test_only_bytes_or_text_are_decoded() -> None:
    assert refusal({"type": "positions"}) == ("wrong_type", "")  # type: ignore[arg-type]
    with pytest.raises(MessageError, match=r"^expected bytes or text, got dict$"):
        decode_message({"type": "positions"})  # type: ignore[arg-type]


def test_a_refusal_reads_as_place_and_rule() -> None:
    with pytest.raises(MessageError) as caught:
        decode_message(changed("icon_frames", (*ZONE, "level"), 4))
    assert str(caught.value) == "floors[0].zones[0].level: Input should be less than or equal to 3"
    with pytest.raises(MessageError) as caught:
        decode_message("x" * 20, max_bytes=10)
    assert str(caught.value) == "message of 20 bytes exceeds the 10-byte limit"
    with pytest.raises(MessageError) as caught:
        decode_message(changed("positions", ("confidence",), [0.5]))
    assert str(caught.value).startswith("positions: confidence must have shape (2,) to match xy_m")


def test_the_size_bound_counts_bytes_and_is_inclusive() -> None:
    raw = encode_station_frames("demo", [make_frame()], 1000.0)
    decode_message(raw, max_bytes=len(raw))
    assert refusal(raw, max_bytes=len(raw) - 1)[0] == "too_large"
    # Text is measured in UTF-8 bytes, not characters: 2 bytes per "é".
    text = json.dumps({"type": "camera_status", "pad": "é" * 400}, ensure_ascii=False)
    assert refusal(text, max_bytes=len(text) + 10)[0] == "too_large"


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        ("icon_frames", ("timestamp",), 0),
        ("icon_frames", (*ZONE, "count"), MAX_POINTS),
        ("icon_frames", (*ZONE, "count"), 0),
        ("icon_frames", (*ZONE, "level"), MAX_LEVEL),
        ("icon_frames", (*ZONE, "level"), 0),
        ("icon_frames", (*ZONE, "density_per_m2"), MAX_DENSITY_PER_M2),
        ("icon_frames", (*ZONE, "density_per_m2"), 0),
        ("icon_frames", DOT, [0, 0, 0]),
        ("icon_frames", DOT, [-3.5, 2, 1]),
        ("camera_status", ("fps",), MAX_FPS),
        ("camera_status", ("fps",), 0),
        ("camera_status", ("last_frame_age_s",), 0),
        ("camera_status", ("last_frame_age_s",), None),
        ("camera_status", ("t",), 0),
        ("positions", ("t",), 0),
        ("positions", ("confidence",), [0, 1]),
    ],
)
def test_the_edges_of_each_range_are_accepted(kind, path, value) -> None:
    decode_message(changed(kind, path, value))


@pytest.mark.parametrize("state", CAMERA_STATES)
def test_every_camera_state_of_the_closed_set_passes(state: str) -> None:
    message = decode_message(changed("camera_status", ("state",), state))
    assert isinstance(message, StatusMessage) and message.status.state == state


@pytest.mark.parametrize("code", CAMERA_ERRORS)
def test_every_camera_error_code_passes_with_its_fixed_texts(code: str) -> None:
    message = decode_message(changed("camera_status", ("error",), code))
    assert isinstance(message, StatusMessage) and message.status.error == code
    en, ja = CAMERA_ERRORS[code]
    assert message.status.error_text == {"en": en, "ja": ja}
    assert bool(en) == bool(ja) == bool(code) and len(en) <= 60 and len(ja) <= 40


def test_every_code_a_camera_source_reports_can_cross_the_bus() -> None:
    assert set(SOURCE_ERROR_CODES) <= set(CAMERA_ERRORS)


@pytest.mark.parametrize("los", LOS_GRADES)
def test_every_level_of_service_passes(los: str) -> None:
    message = decode_message(changed("icon_frames", (*ZONE, "los"), los))
    assert isinstance(message, StationFramesMessage) and message.frames[0].zones[0].los == los


def frames_with(floors: list[dict[str, Any]]) -> str:
    message = valid("icon_frames")
    message["floors"] = floors
    return json.dumps(message)


def zones(n: int) -> list[dict[str, Any]]:
    return [
        {"id": f"z{i}", "count": 0, "density_per_m2": 0.0, "level": 0, "los": "A", "stale": False} for i in range(n)
    ]


def test_size_bounds_hold_exactly() -> None:
    floor = {"floor": "c", "dots": [[1.0, 2.0, 1.0]] * MAX_POINTS, "zones": zones(MAX_ZONES_PER_FLOOR)}
    message = decode_message(frames_with([floor]))
    assert isinstance(message, StationFramesMessage)
    assert len(message.frames[0]) == MAX_POINTS and len(message.frames[0].zones) == MAX_ZONES_PER_FLOOR
    assert refusal(frames_with([{**floor, "dots": [[1.0, 2.0, 1.0]] * (MAX_POINTS + 1)}])) == (
        "too_many",
        "floors[0].dots",
    )
    assert refusal(frames_with([{**floor, "zones": zones(MAX_ZONES_PER_FLOOR + 1)}])) == ("too_many", "floors[0].zones")
    small = {"floor": "c", "dots": [], "zones": []}
    assert len(decode_message(frames_with([{**small, "floor": f"f{i}"} for i in range(MAX_FLOORS)])).frames) == (
        MAX_FLOORS
    )
    assert refusal(frames_with([{**small, "floor": f"f{i}"} for i in range(MAX_FLOORS + 1)])) == ("too_many", "floors")


@pytest.mark.parametrize("key", ["xy_m", "confidence", "sigma_m"])
def test_positions_arrays_are_bounded(key: str) -> None:
    row = [1.0, 2.0] if key == "xy_m" else 0.5
    n = MAX_POINTS + 1
    message = valid("positions")
    message.update(xy_m=[[1.0, 2.0]] * n, confidence=[0.5] * n, sigma_m=[0.5] * n)
    message[key] = [row] * n
    others = [k for k in ("xy_m", "confidence", "sigma_m") if k != key]
    for other in others:  # only the array under test is over the bound
        message[other] = message[other][:MAX_POINTS]
    assert refusal(json.dumps(message)) == ("too_many", key)
    message[key] = [row] * MAX_POINTS
    decode_message(json.dumps(message))


def test_positions_round_trip() -> None:
    positions = FloorPositions("cam-1", "concourse", 12.5, [[1.0, 2.0], [3.2, 4.5]], [0.9, 0.8], [0.1, 0.2])
    message = decode_message(encode_positions("demo", positions))
    assert isinstance(message, PositionsMessage)
    assert message.station_id == "demo" and message.positions.camera_id == "cam-1"
    assert message.positions.floor_id == "concourse" and message.positions.timestamp_s == 12.5
    np.testing.assert_allclose(message.positions.xy_m, positions.xy_m)
    np.testing.assert_allclose(message.positions.confidence, positions.confidence)
    np.testing.assert_allclose(message.positions.sigma_m, positions.sigma_m)


def test_empty_positions_round_trip() -> None:
    message = decode_message(encode_positions("demo", FloorPositions.empty("cam-1", "concourse", 3.0)))
    assert isinstance(message, PositionsMessage) and message.positions.xy_m.shape == (0, 2)


def test_status_round_trip() -> None:
    status = CameraStatus("cam-1", 5.0, "stalled", fps=3.5, last_frame_age_s=4.25, error="no_new_frames")
    message = decode_message(encode_camera_status("demo", status))
    assert isinstance(message, StatusMessage) and message.station_id == "demo"
    assert message.status == status


def test_an_encoder_never_writes_nan() -> None:
    # NaN is not JSON; a peer's parser may refuse or misread it. Timestamps are not checked by the type.
    with pytest.raises(ValueError, match="JSON compliant"):
        encode_positions("demo", FloorPositions("cam-1", "f", math.nan, [[1.0, 2.0]], [0.9], [0.2]))


def test_status_round_trip_keeps_infinite_age() -> None:
    status = CameraStatus("cam-1", 5.0, "reconnecting", fps=3.5, error="stream_lost")
    message = decode_message(encode_camera_status("demo", status))
    assert isinstance(message, StatusMessage)
    assert message.status == status
    assert math.isinf(message.status.last_frame_age_s)


def test_frames_round_trip() -> None:
    frame = make_frame(5)
    message = decode_message(encode_station_frames("demo", [frame, make_frame(0, "platform")], 1000.0))
    assert isinstance(message, StationFramesMessage)
    assert message.station_id == "demo" and message.timestamp_s == 1000.0
    decoded = message.frames[0]
    assert (decoded.station_id, decoded.floor_id, decoded.timestamp_s) == ("demo", "concourse", 1000.0)
    np.testing.assert_allclose(decoded.dots_m, frame.dots_m, atol=0.01)
    np.testing.assert_array_equal(decoded.moving, frame.moving)
    assert decoded.zones == frame.zones
    assert message.frames[1].dots_m.shape == (0, 2) and message.frames[1].floor_id == "platform"


def test_the_encoders_write_the_documented_wire_format() -> None:
    # The bytes other implementations rely on (wire version 1): key order, rounding, compact separators.
    positions = FloorPositions("cam-1", "f", 12.5, [[1.23456, 2.0]], [0.87654], [0.123456])
    assert encode_positions("demo", positions) == (
        b'{"type":"positions","v":1,"station":"demo","camera":"cam-1","floor":"f","t":12.5,'
        b'"xy_m":[[1.2,2.0]],"confidence":[0.877],"sigma_m":[0.123]}'
    )
    status = CameraStatus("cam-1", 5.0, "stalled", fps=12.3456, last_frame_age_s=3.14159, error="no_new_frames")
    assert encode_camera_status("demo", status) == (
        b'{"type":"camera_status","v":1,"station":"demo","camera":"cam-1","t":5.0,"state":"stalled",'
        b'"fps":12.35,"last_frame_age_s":3.14,"error":"no_new_frames"}'
    )
    frame = IconFrame("demo", "c", 9.0, [[1.234, 5.678]], [True], (ZoneState("z", 1, 0.12345, 2, "D", False),))
    assert encode_station_frames("demo", [frame], 9.0) == (
        b'{"type":"icon_frames","v":1,"station":"demo","timestamp":9.0,"floors":[{"floor":"c",'
        b'"dots":[[1.23,5.68,1.0]],"zones":[{"id":"z","count":1,"density_per_m2":0.123,"level":2,'
        b'"los":"D","stale":false}]}]}'
    )


def test_a_reader_of_the_positions_stream_learns_positions_to_the_decimetre_only() -> None:
    positions = FloorPositions("cam-1", "f", 1.0, [[12.34567, 7.891], [0.049, 3.05]], [0.9, 0.9], [0.2, 0.2])
    message = decode_message(encode_positions("demo", positions))
    assert message.positions.xy_m.tolist() == [[12.3, 7.9], [0.0, 3.0]]
    assert np.abs(message.positions.xy_m - positions.xy_m).max() <= 0.05 + 1e-9


def test_a_refusal_names_the_rule_not_the_payload() -> None:
    secret = "iVBORw0KGgo" * 20
    with pytest.raises(MessageError) as caught:
        decode_message(changed("camera_status", ("state",), secret))
    assert secret[:20] not in str(caught.value)


def test_the_documented_limits_hold() -> None:
    # The wire contract (docs/DEPLOYMENT.md, PRIVACY.md P1): raising a bound is a decision, not an edit.
    assert (MAX_MESSAGE_BYTES, MAX_POINTS, MAX_FLOORS, MAX_ZONES_PER_FLOOR) == (512 * 1024, 5000, 32, 256)
    assert (MAX_FPS, MAX_DENSITY_PER_M2, MAX_LEVEL) == (1000.0, 100.0, 3)
    assert CAMERA_STATES == ("live", "reconnecting", "stalled", "dead")
    assert LOS_GRADES == ("A", "B", "C", "D", "E", "F")
