import json
from contextlib import nullcontext as does_not_raise

import numpy as np
import pytest

from iconizer.types import IconFrame
from webmap.payload import (
    COMPACT_ENCODING,
    broadcast_targets,
    compact_payload,
    encoded,
    floor_payload,
    floor_room,
    mark_stale,
    pack_dots,
    public_floor,
    public_payload,
    station_room,
    unpack_dots,
)


def test_public_payload_has_exactly_the_documented_shape(wm, demo_layout):
    frames = [
        wm.make_frame(demo_layout, "concourse", dots=[[1.04, 2.06], [3.0, 4.0]], moving=[True, False]),
        wm.make_frame(demo_layout, "platform"),
    ]
    payload = public_payload("demo-station", wm.NOW, frames)
    assert list(payload) == ["station", "timestamp", "floors"]
    assert [f["floor"] for f in payload["floors"]] == ["concourse", "platform"]
    concourse = payload["floors"][0]
    assert list(concourse) == ["floor", "dots", "zones"]
    assert concourse["dots"] == [[1, 2.1, 1], [3, 4, 0]]
    assert json.dumps(concourse["dots"]) == "[[1, 2.1, 1], [3, 4, 0]]", "whole metres are written without .0"
    assert [z["id"] for z in concourse["zones"]] == [z.id for z in demo_layout.zones_on("concourse")]
    for zone in concourse["zones"]:
        assert list(zone) == ["id", "count", "density_per_m2", "level", "los", "stale"]
    # JSON-ready: plain Python types only.
    json.dumps(payload, allow_nan=False)


def test_payload_copies_only_allow_listed_fields(wm, demo_layout):
    frame = wm.make_frame(demo_layout, "concourse", dots=[[1, 1]])
    # Even if someone attached extra data to a frame object, it is never read.
    object.__setattr__(frame, "track_ids", np.array([42]))
    payload = public_payload("demo-station", wm.NOW, [frame])
    assert "track_ids" not in json.dumps(payload)
    assert "42" not in json.dumps(payload["floors"][0]["dots"])


@pytest.mark.parametrize(
    ("station", "floors", "expectation"),
    [
        ("demo-station", ["concourse", "platform"], does_not_raise()),
        ("pets2009", ["concourse"], pytest.raises(ValueError, match="frame of station 'demo-station'")),
        ("demo-station", ["concourse", "concourse"], pytest.raises(ValueError, match="appears twice")),
    ],
)
def test_public_payload_refuses_mixed_frames(wm, demo_layout, station, floors, expectation):
    frames = [wm.make_frame(demo_layout, f) for f in floors]
    with expectation:
        public_payload(station, wm.NOW, frames)


@pytest.mark.parametrize(
    ("step_m", "expected", "expectation"),
    [
        (0.1, [12.3, 4.6], does_not_raise()),
        (0.01, [12.35, 4.56], does_not_raise()),
        (1.0, [12, 5], does_not_raise()),
        (0.25, None, pytest.raises(ValueError, match="power of ten")),
        (10.0, None, pytest.raises(ValueError, match=r"power of ten such as 0\.1 or 1\.0, got 10\.0$")),
        (0.0, None, pytest.raises(ValueError, match=r"got 0\.0$")),
        (-0.1, None, pytest.raises(ValueError, match=r"got -0\.1$")),
    ],
)
def test_dot_rounding(wm, demo_layout, step_m, expected, expectation):
    frame = wm.make_frame(demo_layout, "concourse", dots=[[12.3456, 4.5612]])
    with expectation:
        assert public_floor(frame, dot_step_m=step_m)["dots"][0][:2] == expected


def test_300_dots_encode_compactly(wm, demo_layout):
    rng = np.random.default_rng(1)
    # As the iconizer publishes them: snapped to its 0.5 m coarsening grid.
    dots = np.round(rng.uniform([0, 0], [80, 30], size=(300, 2)) * 2) / 2
    frame = wm.make_frame(demo_layout, "concourse", dots=dots, moving=rng.random(300) < 0.7)
    payload = public_payload("demo-station", wm.NOW, [frame])
    size = len(json.dumps(payload, separators=(",", ":")).encode())
    # 300 dots of "[xx.5,yy,m]" are about 11 bytes each; the zones add a few hundred bytes.
    assert size < 300 * 12 + 600, size
    assert len(payload["floors"][0]["dots"]) == 300


def test_mark_stale_drops_dots_and_marks_every_zone(wm, demo_layout):
    payload = public_payload("demo-station", wm.NOW, [wm.make_frame(demo_layout, "concourse", dots=[[1, 1]])])
    stale = mark_stale(payload)
    zones = [{**zone, "stale": True} for zone in payload["floors"][0]["zones"]]
    assert stale == {
        "station": "demo-station",
        "timestamp": wm.NOW,
        "floors": [{"floor": "concourse", "dots": [], "zones": zones}],
    }
    assert payload["floors"][0]["dots"] == [[1, 1, 1]], "the original is unchanged"


def test_zone_numbers_and_the_timestamp_are_written_as_documented(wm, demo_layout):
    frame = wm.make_frame(demo_layout, "concourse", densities={"concourse-west": 0.42671}, stale=["ticket-gates"])
    payload = public_payload("demo-station", 1_795_000_000.12345, [frame], dot_step_m=1.0)
    assert payload["timestamp"] == 1_795_000_000.123
    zones = {z["id"]: z for z in payload["floors"][0]["zones"]}
    assert zones["concourse-west"]["density_per_m2"] == 0.43
    assert zones["ticket-gates"]["stale"] is True and zones["concourse-west"]["stale"] is False
    whole = public_payload(
        "demo-station", wm.NOW, [wm.make_frame(demo_layout, "concourse", dots=[[12.34, 4.56]])], dot_step_m=1.0
    )
    assert whole["floors"][0]["dots"] == [[12, 5, 1]], "the step reaches every floor"


def test_floor_payload_and_broadcast_targets(wm, demo_layout):
    frames = [wm.make_frame(demo_layout, "concourse", dots=[[1, 1]]), wm.make_frame(demo_layout, "platform")]
    payload = public_payload("demo-station", wm.NOW, frames)
    assert floor_payload(payload, "platform")["floors"] == [payload["floors"][1]]
    assert floor_payload(payload, "roof") is None
    targets = dict(broadcast_targets(payload))
    assert set(targets) == {
        station_room("demo-station"),
        floor_room("demo-station", "concourse"),
        floor_room("demo-station", "platform"),
        station_room("demo-station", "compact"),
        floor_room("demo-station", "concourse", "compact"),
        floor_room("demo-station", "platform", "compact"),
    }
    assert targets[station_room("demo-station")] is payload, "the stable payload goes out as it is stored"
    assert targets[floor_room("demo-station", "concourse")]["floors"] == [payload["floors"][0]]
    compact = targets[station_room("demo-station", "compact")]
    assert compact == encoded(payload, "compact")
    assert targets[floor_room("demo-station", "platform", "compact")] == encoded(payload, "compact", "platform")
    # A client that joined with the plain encoding gets the dots as lists, never packed.
    assert encoded(payload, "json") is payload
    assert encoded(payload, "json", "concourse")["floors"][0]["dots"] == [[1, 1, 1]]


def test_rooms_of_encodings_are_distinct_and_unknown_encodings_refused():
    assert station_room("s") == "station:s"
    assert station_room("s", "compact") == "station:s:compact"
    assert floor_room("s", "f", "compact") == "station:s:floor:f:compact"
    with pytest.raises(ValueError, match="unknown encoding 'msgpack'"):
        station_room("s", "msgpack")
    with pytest.raises(ValueError, match="unknown encoding"):
        encoded({"station": "s", "timestamp": 0.0, "floors": []}, "xml")


def test_compact_payload_keeps_everything_but_packs_the_dots(wm, demo_layout):
    rng = np.random.default_rng(3)
    xy = np.round(rng.uniform([0, 0], [80, 30], size=(300, 2)) * 2) / 2
    moving = rng.random(300) < 0.7
    frames = [
        wm.make_frame(demo_layout, "concourse", dots=xy.tolist(), moving=moving.tolist()),
        wm.make_frame(demo_layout, "platform"),
    ]
    payload = public_payload("demo-station", wm.NOW, frames)
    compact = compact_payload(payload)
    assert compact["encoding"] == COMPACT_ENCODING
    # Nothing beyond the allow-listed payload (P1, P2): the same keys, the dots only re-encoded.
    assert list(compact) == ["station", "timestamp", "encoding", "floors"]
    assert all(list(f) == ["floor", "dots", "zones"] for f in compact["floors"])
    assert all(set(f["dots"]) == {"count", "per_m", "packed"} for f in compact["floors"])
    assert [f["zones"] for f in compact["floors"]] == [f["zones"] for f in payload["floors"]]
    assert compact["floors"][1]["dots"] == {"count": 0, "per_m": 10, "packed": ""}
    assert unpack_dots(compact["floors"][0]["dots"]) == payload["floors"][0]["dots"], "lossless at 0.1 m"
    size = len(json.dumps(compact, separators=(",", ":")))
    assert size < 0.65 * len(json.dumps(payload, separators=(",", ":")))
    assert payload["floors"][0]["dots"][0] == [_whole(v) for v in payload["floors"][0]["dots"][0]], "not mutated"


def _whole(value):
    return int(value) if float(value).is_integer() else value


def test_packed_layout_is_the_documented_one():
    # Two dots: (12.5 m, 3 m, moving), (0.1 m, 6553.5 m, stopped): uint16 LE x,y pairs, then LSB-first bits.
    packed = pack_dots([[12.5, 3, 1], [0.1, 6553.5, 0]])
    raw = __import__("base64").b64decode(packed["packed"])
    assert raw == bytes([125, 0, 30, 0, 1, 0, 0xFF, 0xFF, 0b01])
    assert packed["count"] == 2 and packed["per_m"] == 10


@pytest.mark.parametrize("count", [0, 1, 7, 8, 9, 16])
def test_the_moving_bits_take_whole_bytes_for_any_number_of_dots(count):
    # x, y as two uint16 each (4 bytes a dot), then one bit a dot rounded up to whole bytes.
    dots = [[0.5 * i, 1.0, i % 2] for i in range(count)]
    packed = pack_dots(dots)
    assert len(__import__("base64").b64decode(packed["packed"])) == 4 * count + (count + 7) // 8
    assert unpack_dots(packed) == [[x if x % 1 else int(x), 1, m] for x, _, m in dots]


def test_packing_clips_to_the_representable_range():
    assert unpack_dots(pack_dots([[-0.2, 7000.0, 1]])) == [[0, 6553.5, 1]]


def test_unpacking_refuses_a_truncated_blob():
    good = pack_dots([[1, 2, 1], [3, 4, 0]])
    with pytest.raises(ValueError, match="2 dots need 9 bytes, got 8"):
        unpack_dots({**good, "packed": __import__("base64").b64encode(b"\0" * 8).decode()})
    with pytest.raises(ValueError):  # not base64 at all: refused, not read around
        unpack_dots({**good, "packed": good["packed"][:4] + "!" + good["packed"][4:]})
    with pytest.raises(ValueError, match=r"per_m 0"):
        unpack_dots({**good, "per_m": 0})


def test_any_whole_number_of_units_per_metre_unpacks():
    assert unpack_dots(pack_dots([[7, 3, 1]], per_m=1)) == [[7, 3, 1]]
    assert unpack_dots(pack_dots([[7.25, 3.5, 0]], per_m=4)) == [[7.25, 3.5, 0]]


def test_empty_frame(demo_layout, wm):
    frame = IconFrame("demo-station", "platform", wm.NOW, np.zeros((0, 2)), np.zeros(0, bool), ())
    assert public_floor(frame) == {"floor": "platform", "dots": [], "zones": []}
