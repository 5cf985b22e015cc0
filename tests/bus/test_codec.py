import json
import math
from contextlib import nullcontext as does_not_raise

import numpy as np
import pytest

from bus.codec import (
    MAX_POINTS,
    MessageError,
    PositionsMessage,
    StationFramesMessage,
    StatusMessage,
    decode_message,
    encode_camera_status,
    encode_positions,
    encode_station_frames,
)
from homography.types import FloorPositions
from iconizer.types import CameraStatus, IconFrame, ZoneState


def make_frame(n_dots: int = 3, floor: str = "concourse") -> IconFrame:
    rng = np.random.default_rng(0)
    return IconFrame(
        station_id="demo",
        floor_id=floor,
        timestamp=1000.0,
        dots_m=rng.uniform(0, 20, (n_dots, 2)),
        moving=rng.uniform(size=n_dots) > 0.5,
        zones=(ZoneState("gates", 2, 0.5, 1, "C", False), ZoneState("west", 0, 0.0, 0, "A", True)),
    )


def frames_payload(**override: object) -> dict:
    payload = json.loads(encode_station_frames("demo", [make_frame()], 1000.0))
    payload.update(override)
    return payload


def test_positions_round_trip() -> None:
    positions = FloorPositions("cam-1", "concourse", 12.5, [[1.0, 2.0], [3.25, 4.5]], [0.9, 0.8], [0.1, 0.2])
    message = decode_message(encode_positions("demo", positions))
    assert isinstance(message, PositionsMessage)
    assert message.station_id == "demo"
    np.testing.assert_allclose(message.positions.xy_m, positions.xy_m)
    np.testing.assert_allclose(message.positions.sigma_m, positions.sigma_m)


def test_status_round_trip_keeps_infinite_age() -> None:
    status = CameraStatus("cam-1", 5.0, "reconnecting", fps=0.0, error="stream ended")
    message = decode_message(encode_camera_status("demo", status))
    assert isinstance(message, StatusMessage)
    assert message.status.state == "reconnecting"
    assert math.isinf(message.status.last_frame_age_s)


def test_frames_round_trip() -> None:
    frame = make_frame(5)
    message = decode_message(encode_station_frames("demo", [frame], 1000.0))
    assert isinstance(message, StationFramesMessage)
    decoded = message.frames[0]
    np.testing.assert_allclose(decoded.dots_m, frame.dots_m, atol=0.01)
    np.testing.assert_array_equal(decoded.moving, frame.moving)
    assert decoded.zones == frame.zones


@pytest.mark.parametrize(
    ("raw", "expectation"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", pytest.raises(MessageError, match="not JSON")),
        (b"[1, 2, 3]", pytest.raises(MessageError, match="JSON object")),
        (json.dumps({"type": "frame_jpeg", "v": 1}), pytest.raises(MessageError, match="type")),
        (json.dumps(frames_payload(image="aGVsbG8=")), pytest.raises(MessageError, match="unexpected keys")),
        (json.dumps(frames_payload(v=2)), pytest.raises(MessageError, match="v: expected 1")),
        (json.dumps(frames_payload(station="../etc")), pytest.raises(MessageError, match="station")),
        (json.dumps(frames_payload(timestamp="now")), pytest.raises(MessageError, match="timestamp")),
        (
            json.dumps(frames_payload(floors=[{"floor": "c", "dots": [[1, 2, 0.5]], "zones": []}])),
            pytest.raises(MessageError, match="moving flag"),
        ),
        (
            json.dumps(frames_payload(floors=[{"floor": "c", "dots": [[1, 2, 0, 7]], "zones": []}])),
            pytest.raises(MessageError, match="rows of 3"),
        ),
        (
            json.dumps(frames_payload(floors=[{"floor": "c", "dots": [[1, "x", 0]], "zones": []}])),
            pytest.raises(MessageError, match="numbers only"),
        ),
        (
            json.dumps(frames_payload(floors=[{"floor": "c", "dots": [], "zones": [{"id": "z"}]}])),
            pytest.raises(MessageError, match="missing keys"),
        ),
        (
            json.dumps(frames_payload(floors=[{"floor": "c", "dots": [[0, 0, 1]] * (MAX_POINTS + 1), "zones": []}])),
            pytest.raises(MessageError, match="at most"),
        ),
        ("x" * 600_000, pytest.raises(MessageError, match="exceeds")),
        ('{"type": "positions", "v": 1, "t": NaN}', pytest.raises(MessageError)),
        (encode_station_frames("demo", [make_frame()], 1000.0), does_not_raise()),
    ],
)
def test_decode_refuses_everything_outside_the_schema(raw: bytes | str, expectation) -> None:
    with expectation:
        decode_message(raw)


def test_positions_with_mismatched_lengths_are_refused() -> None:
    payload = json.loads(encode_positions("demo", FloorPositions("cam-1", "f", 1.0, [[1.0, 2.0]], [0.5], [0.1])))
    payload["confidence"] = [0.5, 0.6]
    with pytest.raises(MessageError, match="confidence"):
        decode_message(json.dumps(payload))
