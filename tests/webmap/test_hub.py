import json
import queue
import threading

import numpy as np
import pytest

from bus.codec import encode_positions
from homography.types import FloorPositions
from iconizer.types import CameraStatus
from webmap.acks import MemoryAckStore
from webmap.hub import Hub
from webmap.metrics import WebMetrics
from webmap.store import MemoryLatestStore


def rejected(hub, reason):
    return hub.metrics.messages_rejected.labels(reason=reason)._value.get()


def test_valid_frames_are_stored_and_published(web, wm, demo_layout):
    app, sio, hub = web
    client = sio.test_client(app, namespace="/public")
    assert client.emit("join", {"station": "demo-station"}, namespace="/public", callback=True)["ok"]
    frames = [
        wm.make_frame(demo_layout, "concourse", dots=[[1.25, 2.25], [3.75, 4.75]]),
        wm.make_frame(demo_layout, "platform"),
    ]
    assert hub.receive(wm.frames_message(demo_layout, frames)) is True
    [event] = client.get_received("/public")
    assert event["name"] == "crowding"
    assert event["args"][0] == hub.store.get("demo-station")
    assert event["args"][0]["floors"][0]["dots"] == [[1.2, 2.2, 1], [3.8, 4.8, 1]]


def _positions(station):
    positions = FloorPositions(
        "concourse-west", "concourse", 1.0, np.array([[1.0, 2.0]]), np.array([0.9]), np.array([0.2])
    )
    return encode_positions(station, positions)


@pytest.mark.parametrize(
    ("make_raw", "reason"),
    [
        (lambda wm, layout: b"\xff\xd8\xff\xe0 JFIF image bytes", "invalid"),
        (lambda wm, layout: b"not json", "invalid"),
        (lambda wm, layout: b"x" * (600 * 1024), "invalid"),
        (
            lambda wm, layout: json.dumps(
                {
                    "type": "icon_frames",
                    "v": 1,
                    "station": "demo-station",
                    "timestamp": 1.0,
                    "floors": [{"floor": "concourse", "dots": [], "zones": [], "image": "base64..."}],
                }
            ).encode(),
            "invalid",
        ),
        (lambda wm, layout: _positions("demo-station"), "wrong-type"),
        (
            lambda wm, layout: wm.frames_message(
                wm.load_station("pets2009"), [wm.make_frame(wm.load_station("pets2009"), "ground")]
            ).replace(b'"pets2009"', b'"elsewhere"'),
            "unknown-station",
        ),
    ],
    ids=["jpeg", "not-json", "oversized", "extra-key", "positions", "unknown-station"],
)
def test_anything_else_is_dropped_and_counted(web, wm, demo_layout, make_raw, reason):
    app, sio, hub = web
    client = sio.test_client(app, namespace="/public")
    client.emit("join", {"station": "demo-station"}, namespace="/public", callback=True)
    assert hub.receive(make_raw(wm, demo_layout)) is False
    assert rejected(hub, reason) == 1
    assert client.get_received("/public") == []
    assert hub.store.get("demo-station") is None


def test_frames_must_match_the_layout(web, wm, demo_layout, pets_layout):
    _app, _sio, hub = web
    # PETS2009's floor inside a demo-station message: the floor is unknown there.
    foreign = wm.make_frame(pets_layout, "ground")
    raw = wm.frames_message(pets_layout, [foreign]).replace(b'"station":"pets2009"', b'"station":"demo-station"')
    assert hub.receive(raw) is False
    assert rejected(hub, "unknown-floor") == 1
    wrong_zone = wm.make_frame(demo_layout, "concourse")
    raw = wm.frames_message(demo_layout, [wrong_zone]).replace(b'"concourse-west"', b'"platform-west"')
    assert hub.receive(raw) is False
    assert rejected(hub, "unknown-zone") == 1


def test_a_floor_twice_is_dropped(web, wm, demo_layout):
    _app, _sio, hub = web
    frame = wm.make_frame(demo_layout, "platform")
    assert hub.receive(wm.frames_message(demo_layout, [frame, frame])) is False
    assert rejected(hub, "duplicate-floor") == 1


def test_camera_status_reaches_staff_health(web, wm, demo_layout):
    _app, _sio, hub = web
    status = CameraStatus("gates-inside", wm.NOW - 2, "stalled", fps=0.5, last_frame_age_s=7.25, error="no_new_frames")
    assert hub.receive(wm.status_message(demo_layout, status))
    health = {c["camera"]: c for c in hub.camera_health("demo-station")}
    assert health["gates-inside"] == {
        "camera": "gates-inside",
        "state": "stalled",
        "fps": 0.5,
        "last_frame_age_s": 7.2,
        "status_age_s": 2.0,
        "error": "no_new_frames",
        "error_text": {"en": "No new frames from the camera", "ja": "カメラから新しいフレームが届きません"},
    }
    assert health["platform-west"]["state"] == "unknown"
    unknown = CameraStatus("cam-x", wm.NOW, "live")
    assert hub.receive(wm.status_message(demo_layout, unknown)) is False
    assert rejected(hub, "unknown-camera") == 1


def test_pump_drains_a_queue_until_stopped(web, wm, demo_layout):
    _app, _sio, hub = web
    inbox = queue.Queue()
    stop = threading.Event()
    inbox.put(b"garbage")
    inbox.put(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "platform")]))

    def sleep(_seconds):
        # Called only when the inbox is empty: both messages were handled, so stop.
        stop.set()

    hub.pump(inbox, stop, sleep=sleep)
    assert hub.store.get("demo-station")["floors"][0]["floor"] == "platform"
    assert rejected(hub, "invalid") == 1


class RecordingEmitter:
    def __init__(self):
        self.events = []

    def emit(self, event, data, namespace=None, to=None):
        self.events.append((event, data, namespace, to))


def test_alerts_sent_to_staff_carry_acknowledgements_made_through_another_hub(wm, demo_layout):
    acks = MemoryAckStore()
    emitters = [RecordingEmitter(), RecordingEmitter()]
    hubs = [
        Hub([demo_layout], MemoryLatestStore(), emitter, WebMetrics(), clock=lambda: wm.NOW, acks=acks)
        for emitter in emitters
    ]
    crowded = wm.make_frame(demo_layout, "concourse", levels={"ticket-gates": 2}, densities={"ticket-gates": 1.7})
    for hub in hubs:
        hub.receive(wm.frames_message(demo_layout, [crowded]))
    [alert] = hubs[0].alerts("demo-station")
    hubs[0].acknowledge("demo-station", alert["id"], "sam")
    worse = wm.make_frame(demo_layout, "concourse", levels={"ticket-gates": 3}, densities={"ticket-gates": 2.5})
    hubs[1].receive(wm.frames_message(demo_layout, [worse], timestamp_s=wm.NOW + 1))
    sent = [data for event, data, namespace, _ in emitters[1].events if event == "alert"]
    assert [(a["id"], a["level"], a["acknowledged_by"]) for a in sent] == [
        (alert["id"], 2, None),
        (alert["id"], 3, "sam"),
    ]


def with_dots(wm, layout, floor_id, dots):
    """A frames message whose dots are exactly ``dots`` (the codec's encoder would round them)."""
    message = json.loads(wm.frames_message(layout, [wm.make_frame(layout, floor_id)]))
    message["floors"][0]["dots"] = [[x, y, 1] for x, y in dots]
    return json.dumps(message).encode()


def test_a_frame_with_fine_dots_is_published_on_the_stations_grid(web, wm, demo_layout):
    """Issue 11 item 5: an injected frame with 4-decimal dots was published with one decimal."""
    app, sio, hub = web
    client = sio.test_client(app, namespace="/public")
    client.emit("join", {"station": "demo-station"}, namespace="/public", callback=True)
    fine = [[12.3456, 7.8912], [40.0001, 0.2499], [79.9999, 29.9]]
    assert hub.receive(with_dots(wm, demo_layout, "concourse", fine))
    [event] = client.get_received("/public")
    dots = event["args"][0]["floors"][0]["dots"]
    # demo-station: grid, 0.5 m; each dot is the centre of its cell, written to 0.1 m.
    assert dots == [[12.2, 7.8, 1], [40.2, 0.2, 1], [79.8, 29.8, 1]]
    assert hub.latest("demo-station")["floors"][0]["dots"] == dots


def test_a_jitter_station_publishes_a_point_of_each_cell_whatever_the_position_within_it(wm, demo_layout):
    layout = demo_layout.model_copy(
        update={"publishing": demo_layout.publishing.model_copy(update={"coarsen_method": "jitter"})}
    )
    hub = Hub([layout], MemoryLatestStore(), None, WebMetrics(), clock=lambda: wm.NOW, jitter_secret=b"k" * 32)
    published = []
    for dots in ([[12.2601, 7.5112]], [[12.4999, 7.9876]]):  # two positions in one 0.5 m cell
        assert hub.receive(with_dots(wm, layout, "concourse", dots))
        published.append(hub.latest("demo-station")["floors"][0]["dots"])
    assert published[0] == published[1], "the position within the cell is not published"
    [[x, y, _]] = published[0]
    assert 12.0 <= x <= 12.5 and 7.5 <= y <= 8.0


def test_a_latest_frame_that_fails_the_schema_is_never_served(web, wm, demo_layout):
    app, _, hub = web
    hub.store.put("demo-station", {"station": "demo-station", "timestamp": wm.NOW, "floors": [], "image": "b64"})
    assert hub.latest("demo-station") is None
    assert rejected(hub, "latest-invalid") == 1
    crowding = app.test_client().get("/api/v1/stations/demo-station/crowding").get_json()
    assert "image" not in crowding and crowding["timestamp"] is None
