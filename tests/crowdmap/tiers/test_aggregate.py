import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from bus.codec import StationFramesMessage, StatusMessage, decode_message, encode_camera_status, encode_positions
from bus.embedded import QueueTopic
from crowdmap.station import load_station
from crowdmap.tiers.aggregate import Aggregator
from homography.types import FloorPositions
from iconizer.stepper import Iconizer
from iconizer.types import CameraStatus

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def pets_aggregator(make_publisher):
    station = load_station(str(ROOT / "station_layouts" / "pets2009"))
    outbox = make_publisher()
    iconizer = Iconizer(station.layout, rng=np.random.default_rng(1), coarsen_m=0.0)
    return Aggregator(station.layout, iconizer, outbox, clock=lambda: 100.0), outbox


def test_positions_become_an_icon_frame_with_matching_zone_counts(pets_aggregator) -> None:
    aggregator, outbox = pets_aggregator
    xy = np.array([[5.0, 18.0], [6.0, 20.0], [12.0, 10.0], [20.0, 10.0]])
    live = CameraStatus("view-001", 99.5, "live", 10.0, 0.1)
    aggregator.handle(encode_camera_status("pets2009", live))
    aggregator.handle(
        encode_positions("pets2009", FloorPositions("view-001", "ground", 99.9, xy, [0.9] * 4, [0.1] * 4))
    )
    aggregator.tick(100.0)
    frames = [m for m in map(decode_message, outbox.sent) if isinstance(m, StationFramesMessage)]
    assert len(frames) == 1
    (frame,) = frames[0].frames
    assert len(frame) == 4
    layout = aggregator.layout
    for zone in layout.zones:
        inside = int(shapely.contains_xy(zone.polygon, frame.dots_m[:, 0], frame.dots_m[:, 1]).sum())
        assert frame.zone(zone.id).count == inside
    assert [frame.zone(z).count for z in ("lawn", "road", "forecourt")] == [2, 1, 1]
    # Camera health is forwarded to the web tier as well.
    assert any(isinstance(decode_message(raw), StatusMessage) for raw in outbox.sent)


def test_a_tick_publishes_each_zones_mean_over_the_messages_since_the_interval_began(pets_aggregator) -> None:
    # A camera at 10 messages a second: the lawn holds 2, 3 and 4 people in three of them.
    aggregator, outbox = pets_aggregator
    lawn = [[5.0, 18.0], [6.0, 20.0], [7.0, 19.0], [5.5, 21.0]]
    for t, n in ((99.7, 2), (99.8, 3), (99.9, 4)):
        positions = FloorPositions("view-001", "ground", t, np.array(lawn[:n]), [0.9] * n, [0.1] * n)
        aggregator.handle(encode_positions("pets2009", positions))
    aggregator.tick(100.0)
    (message,) = [m for m in map(decode_message, outbox.sent) if isinstance(m, StationFramesMessage)]
    (frame,) = message.frames
    lawn_state = frame.zone("lawn")
    assert (lawn_state.count, len(frame)) == (3, 4)  # the mean count; the dots are the latest message
    layout = aggregator.layout
    zone = next(z for z in layout.zones if z.id == "lawn")
    walkable_m2 = zone.polygon.intersection(layout.floor(zone.floor).walkable).area
    # The same mean per walkable m2 (the wire carries densities to 0.001).
    assert lawn_state.density_per_m2 == pytest.approx(3.0 / walkable_m2, abs=5e-4)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "schema"),
        (json.dumps({"type": "positions", "v": 1, "station": "pets2009", "image": "..."}).encode(), "schema"),
        (encode_positions("other", FloorPositions("view-001", "ground", 1.0, [[1, 1]], [1], [1])), "wrong_station"),
        (encode_positions("pets2009", FloorPositions("cam-x", "ground", 1.0, [[1, 1]], [1], [1])), "unknown_camera"),
    ],
)
def test_garbage_is_dropped_and_counted(pets_aggregator, raw: bytes, reason: str) -> None:
    aggregator, outbox = pets_aggregator
    aggregator.handle(raw)
    assert aggregator.rejected[reason] == 1
    assert outbox.sent == []


def test_icon_frames_sent_to_the_aggregator_are_refused(pets_aggregator) -> None:
    aggregator, outbox = pets_aggregator
    aggregator.tick(100.0)
    frame_message = outbox.sent.pop()
    aggregator.handle(frame_message)
    assert aggregator.rejected["wrong_direction"] == 1


class BrokenSink:
    def record(self, frames) -> None:
        raise OSError("disk full")


def test_a_failing_history_sink_does_not_stop_publishing(pets_aggregator) -> None:
    aggregator, outbox = pets_aggregator
    aggregator.sinks.append(BrokenSink())
    aggregator.tick(100.0)
    aggregator.tick(101.0)
    assert aggregator.frames_published == 2
    assert len(outbox.sent) == 2


def test_positions_of_a_known_camera_for_another_floor_are_refused_not_raised(pets_aggregator) -> None:
    # Well-formed, from a camera of the layout, but for a floor the camera is not on: the iconizer
    # would raise on it, and in the one-process runtime that stopped the aggregator child.
    aggregator, outbox = pets_aggregator
    elsewhere = FloorPositions("view-001", "upstairs", 99.9, [[5.0, 18.0]], [0.9], [0.1])
    aggregator.handle(encode_positions("pets2009", elsewhere))
    assert aggregator.rejected == {"wrong_floor": 1}
    aggregator.tick(100.0)
    (frame,) = decode_message(outbox.sent[-1]).frames
    assert len(frame) == 0


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type":"positions","v":1,"station":"pets2009","t":' + b"9" * 5000 + b"}",
        b'{"type":"positions","v":1,"station":"pets2009","xy_m":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        json.dumps(
            {
                "type": "positions",
                "v": 1,
                "station": "pets2009",
                "camera": "view-001",
                "floor": "ground",
                "t": 10**400,
                "xy_m": [[1.0, 1.0]],
                "confidence": [0.9],
                "sigma_m": [0.1],
            }
        ).encode(),
    ],
    ids=["5000-digit number", "50000 nested brackets", "huge integer"],
)
def test_one_small_hostile_message_is_a_counted_rejection_not_a_stopped_aggregator(pets_aggregator, raw) -> None:
    aggregator, outbox = pets_aggregator
    aggregator.handle(raw)
    assert aggregator.rejected == {"schema": 1}
    aggregator.handle(
        encode_positions("pets2009", FloorPositions("view-001", "ground", 99.9, [[5.0, 18.0]], [0.9], [0.1]))
    )
    aggregator.tick(100.0)
    assert len(decode_message(outbox.sent[-1]).frames[0]) == 1


def test_a_message_the_iconizer_fails_on_is_counted_and_the_loop_goes_on(make_publisher) -> None:
    # Miswired on purpose: the aggregator checks against pets2009, its iconizer knows demo-station
    # only, so the iconizer raises on a message the aggregator let through.
    pets = load_station(str(ROOT / "station_layouts" / "pets2009"))
    demo = load_station("demo-station")
    outbox = make_publisher()
    aggregator = Aggregator(pets.layout, Iconizer(demo.layout, rng=np.random.default_rng(1)), outbox)
    topic = QueueTopic.create(capacity=8)
    topic.publish(encode_positions("pets2009", FloorPositions("view-001", "ground", 99.9, [[5.0, 18.0]], [0.9], [0.1])))
    ticks = []
    original_tick = aggregator.tick
    aggregator.tick = lambda now_s: ticks.append(original_tick(now_s))  # type: ignore[method-assign]
    aggregator.run(topic, should_stop=lambda: len(ticks) >= 2)
    assert aggregator.rejected == {"handler_error": 1}
    assert aggregator.frames_published == 2
