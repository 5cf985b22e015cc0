"""Ops endpoints and structured logs of the edge and aggregator processes."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from crowdmap.logging_setup import MAX_MESSAGE_CHARS, JsonFormatter, configure_logging, scrub
from crowdmap.tiers.ops import (
    Check,
    FunctionCollector,
    Heartbeat,
    OpsServer,
    camera_state_metric,
    counter,
    gauge,
    heartbeats_check,
    publisher_metrics,
    subscriber_metrics,
)
from iconizer.types import CAMERA_STATES, CameraStatus


class Clock:
    def __init__(self, now_s: float = 100.0) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize(
    ("silence_s", "alive"),
    [(0.0, True), (4.9, True), (5.0, True), (5.1, False), (1e6, False)],
)
def test_a_loop_counts_as_stuck_after_its_allowed_silence(silence_s, alive):
    clock = Clock()
    beat = Heartbeat("camera a", max_silence_s=5.0, clock=clock)
    assert not beat.alive()  # never beat yet
    beat.beat()
    clock.now_s += silence_s
    assert beat.alive() is alive


def test_liveness_names_the_stuck_loops():
    clock = Clock()
    beats = [Heartbeat("camera a", 5.0, clock), Heartbeat("camera b", 5.0, clock)]
    for beat in beats:
        beat.beat()
    assert heartbeats_check(beats).ok
    clock.now_s += 3.0
    beats[0].beat()
    clock.now_s += 3.0
    check = heartbeats_check(beats)
    assert not check.ok and check.detail["stuck"] == ["camera b"]
    assert not heartbeats_check([]).ok  # a process without loops is not alive


@pytest.mark.parametrize(("ok", "status"), [(True, 200), (False, 503)])
def test_ops_server_answers_health_readiness_and_metrics(ok, status):
    frames = {"n": 0}
    registry = CollectorRegistry(auto_describe=True)
    registry.register(
        FunctionCollector(
            lambda: [
                counter("crowdmap_edge_frames", "frames", {"camera": "gates-inside"}, frames["n"]),
                gauge("crowdmap_bus_connected", "link", None, 1.0),
            ]
        )
    )
    server = OpsServer(
        port=0,
        registry=registry,
        health=lambda: Check(ok, {"stuck": []}),
        ready=lambda: Check(ok, {"redis": ok}),
    ).start()
    try:
        assert get(server.port, "/healthz") == (status, json.dumps({"ok": ok, "stuck": []}).encode())
        code, body = get(server.port, "/readyz")
        assert code == status and json.loads(body) == {"ok": ok, "redis": ok}
        frames["n"] = 42  # read at scrape time, not when registered
        code, body = get(server.port, "/metrics")
        samples = {
            (s.name, tuple(s.labels.items())): s.value
            for family in text_string_to_metric_families(body.decode())
            for s in family.samples
        }
        assert code == 200
        assert samples[("crowdmap_edge_frames_total", (("camera", "gates-inside"),))] == 42
        assert samples[("crowdmap_bus_connected", ())] == 1.0
        assert get(server.port, "/nothing")[0] == 404
    finally:
        server.stop()


def test_a_failing_probe_answers_500_and_the_server_lives_on():
    def broken() -> Check:
        raise RuntimeError("probe bug")

    server = OpsServer(port=0, registry=CollectorRegistry(), health=broken, ready=broken).start()
    try:
        assert get(server.port, "/healthz")[0] == 500
        assert get(server.port, "/metrics")[0] == 200
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("connecting to redis://:s3cret@redis.internal:6379/0", "connecting to redis://:***@redis.internal:6379/0"),
        ("postgresql://crowd:s3cret@db/history failed", "postgresql://crowd:***@db/history failed"),
        ("camera gates-inside stalled", "camera gates-inside stalled"),
    ],
)
def test_log_lines_never_carry_passwords(text, expected):
    assert scrub(text) == expected


def test_log_lines_are_capped_so_a_payload_cannot_be_dumped_whole():
    payload = '{"xy_m": [' + ",".join(["[1.0,2.0]"] * 1000) + "]}"
    assert len(scrub(payload)) == MAX_MESSAGE_CHARS


def test_json_lines_carry_role_station_and_camera():
    formatter = JsonFormatter({"role": "edge", "station": "demo-station"})
    record = logging.LogRecord("crowdmap.edge", logging.WARNING, __file__, 1, "camera %s stalled", ("a",), None)
    record.camera = "gates-inside"
    line = json.loads(formatter.format(record))
    assert line["role"] == "edge" and line["station"] == "demo-station" and line["camera"] == "gates-inside"
    assert line["level"] == "WARNING" and line["msg"] == "camera a stalled" and line["t"].endswith("Z")


def test_configure_logging_refuses_an_unknown_format():
    with pytest.raises(ValueError, match="log format must be one of"):
        configure_logging(fmt="xml")


def samples_of(metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in metrics for s in family.samples}


def test_bus_metrics_read_each_counter_of_the_publisher_subscriber_and_link() -> None:
    link = SimpleNamespace(connected=True, reconnects=3, errors=7)
    publisher = SimpleNamespace(stream="s:positions", sent=10, dropped=2, refused=1, buffered=4, link=link)
    labels = (("role", "edge"), ("stream", "s:positions"))
    assert samples_of(publisher_metrics(publisher, "edge")) == {
        ("crowdmap_bus_sent_total", labels): 10.0,
        ("crowdmap_bus_dropped_total", labels): 2.0,
        ("crowdmap_bus_refused_total", labels): 1.0,
        ("crowdmap_bus_buffered", labels): 4.0,
        ("crowdmap_bus_connected", labels): 1.0,
        ("crowdmap_bus_reconnects_total", labels): 3.0,
        ("crowdmap_bus_errors_total", labels): 7.0,
    }
    down = SimpleNamespace(connected=False, reconnects=0, errors=2)
    subscriber = SimpleNamespace(stream="s:frames", received=9, malformed=1, expired=5, last_lag_s=0.25, link=down)
    labels = (("role", "serve"), ("stream", "s:frames"))
    assert samples_of(subscriber_metrics(subscriber, "serve")) == {
        ("crowdmap_bus_received_total", labels): 9.0,
        ("crowdmap_bus_malformed_entries_total", labels): 1.0,
        ("crowdmap_bus_expired_entries_total", labels): 5.0,
        ("crowdmap_bus_lag_seconds", labels): 0.25,
        ("crowdmap_bus_connected", labels): 0.0,
        ("crowdmap_bus_reconnects_total", labels): 0.0,
        ("crowdmap_bus_errors_total", labels): 2.0,
    }


def test_camera_state_is_one_for_the_last_reported_state_only() -> None:
    stalled = CameraStatus("a", 0.0, "stalled", 0.0, 3.0, "")
    samples = samples_of([camera_state_metric("m", "help", [("a", stalled), ("b", None)])])
    assert samples == {
        **{("m", (("camera", "a"), ("state", state))): float(state == "stalled") for state in CAMERA_STATES},
        **{("m", (("camera", "b"), ("state", state))): 0.0 for state in CAMERA_STATES},
    }
