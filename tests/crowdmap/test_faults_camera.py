"""A camera stream that stalls, sends corrupt frames or changes resolution: the edge keeps running and says so.

``crowdmap edge`` runs the PETS2009 station's camera against a live MJPEG stream served by this
test over HTTP (synthetic grey frames, no people), read through ``detector.sources`` like any IP
camera, with the ``fake`` detector backend. The test drives the stream into each fault and
reads what the edge reports: the camera status messages it puts on the bus, and ``/metrics``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest
import redis

from bus.codec import PositionsMessage, StatusMessage, decode_message
from bus.redis_link import MESSAGE_FIELD, positions_stream
from tests.harness.localstation import StationProcess, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]

STATION = "pets2009"
CAMERA = "view-001"
CONFIGURED_WH = (768, 576)


class Stream:
    """An MJPEG-over-HTTP camera whose behaviour the test switches: good, stall, corrupt."""

    def __init__(self) -> None:
        self.mode = "good"
        self.size_wh = CONFIGURED_WH
        self.generation = 0  # bumping it ends every open connection (a camera reboot)
        stream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                generation = stream.generation
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                index = 0
                while generation == stream.generation:
                    if stream.mode == "stall":  # connected, nothing new
                        time.sleep(0.05)
                        continue
                    width, height = stream.size_wh
                    image = np.full((height, width, 3), 40 + (index * 5) % 200, dtype=np.uint8)
                    data = cv2.imencode(".jpg", image)[1].tobytes()
                    if stream.mode == "corrupt":
                        data = b"\xff\xd8\xff\xe0" + np.random.default_rng(index).bytes(len(data))
                    try:
                        self.wfile.write(
                            b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                        )
                        self.wfile.write(data + b"\r\n")
                    except OSError:
                        return
                    index += 1
                    time.sleep(0.1)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stream.mjpg"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def restart_with(self, size_wh: tuple[int, int]) -> None:
        self.size_wh = size_wh
        self.mode = "good"
        self.generation += 1

    def close(self) -> None:
        self.generation += 1
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stream() -> Iterator[Stream]:
    camera = Stream()
    yield camera
    camera.close()


class Reports:
    """The camera statuses the edge published, read back from the positions stream."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.last_id = b"0-0"
        self.statuses: list[StatusMessage] = []
        self.others: list[str] = []

    def poll(self) -> None:
        for _, entries in self.client.xread({positions_stream(STATION): self.last_id}, count=1000) or []:
            for entry_id, fields in entries:
                self.last_id = entry_id
                message = decode_message(fields[MESSAGE_FIELD])  # the edge only ever sends valid messages
                if isinstance(message, StatusMessage):
                    self.statuses.append(message)
                elif not isinstance(message, PositionsMessage):
                    self.others.append(type(message).__name__)

    def seen(self, state: str, error: str | None = None, after: int = 0) -> bool:
        self.poll()
        return any(
            m.status.state == state and error in (None, m.status.error) and m.status.camera_id == CAMERA
            for m in self.statuses[after:]
        )


def test_an_edge_rides_out_a_stalled_corrupt_and_resized_camera_stream(local_redis, start_local_station, stream):
    station = start_local_station(STATION)
    edge: StationProcess = station.edge("edge", [CAMERA], "--video", stream.url, "--backend", "fake")
    reports = Reports(local_redis.url)

    def wait(condition, what: str) -> None:
        wait_for(condition, timeout_s=120, what=what, logs=lambda: edge.log_tail(40))

    try:
        wait(lambda: reports.seen("live") and edge.metric("crowdmap_edge_frames_total") >= 5, "a live camera")
        # The operator sees how long the camera's detector takes per frame, next to its frame budget.
        assert edge.metric("crowdmap_edge_detector_seconds_count", camera=CAMERA) >= 5
        assert edge.metric("crowdmap_edge_detector_seconds_per_frame", camera=CAMERA) > 0
        assert edge.metric("crowdmap_edge_camera_frame_budget_seconds", camera=CAMERA) == pytest.approx(0.1)

        # 1. The stream stalls: connected, but no new frame.
        mark = len(reports.statuses)
        stream.mode = "stall"
        wait(lambda: reports.seen("stalled", after=mark), "a 'stalled' report")
        assert edge.metric("crowdmap_edge_camera_state", camera=CAMERA, state="stalled") == 1
        assert edge.get("/readyz")[0] == 503 and edge.get("/healthz")[0] == 200

        # 2. It comes back at another resolution (say, after a camera reboot): frames are resized
        # to the calibrated size, and the change is reported.
        mark = len(reports.statuses)
        frames_before = edge.metric("crowdmap_edge_frames_total")
        stream.restart_with((640, 480))
        wait(lambda: reports.seen("live", "resolution_changed", after=mark), "a resize report")
        wait(lambda: edge.metric("crowdmap_edge_frames_total") > frames_before + 5, "frames after the resize")

        # 3. Corrupt frames: the source drops them and reconnects; the edge reports it.
        mark = len(reports.statuses)
        stream.mode = "corrupt"
        wait(lambda: reports.seen("reconnecting", "stream_lost", after=mark), "a 'reconnecting' report")
        assert edge.get("/healthz")[0] == 200

        # 4. Good frames again: live again, without restarting the edge or its camera worker.
        mark = len(reports.statuses)
        stream.restart_with(CONFIGURED_WH)
        wait(lambda: reports.seen("live", after=mark), "live again")
        assert edge.alive()
        assert edge.metric("crowdmap_edge_worker_restarts_total") == 0
        assert reports.others == []  # positions and camera status, nothing else, ever left the edge

        # 5. A clean stop (SIGTERM from systemd) tells the aggregator at once that the camera is gone.
        assert edge.stop() == 0
        assert reports.seen("dead", "edge_stopped")
    finally:
        station.stop()
        reports.client.close()
