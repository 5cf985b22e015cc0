import json
from contextlib import nullcontext as does_not_raise

import numpy as np
import pytest

from iconizer.types import IconFrame
from webmap.payload import (
    broadcast_targets,
    floor_payload,
    floor_room,
    mark_stale,
    public_floor,
    public_payload,
    station_room,
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
    assert stale["floors"][0]["dots"] == []
    assert all(z["stale"] for z in stale["floors"][0]["zones"])
    assert payload["floors"][0]["dots"] == [[1, 1, 1]], "the original is unchanged"


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
    }
    assert targets[station_room("demo-station")] is payload
    assert targets[floor_room("demo-station", "concourse")]["floors"] == [payload["floors"][0]]


def test_empty_frame(demo_layout, wm):
    frame = IconFrame("demo-station", "platform", wm.NOW, np.zeros((0, 2)), np.zeros(0, bool), ())
    assert public_floor(frame) == {"floor": "platform", "dots": [], "zones": []}
