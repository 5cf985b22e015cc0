"""Aggregation tier: every camera's positions in, one icon frame per floor out, once a second.

Raw positions live only inside the iconizer's short window in this process; what goes on to
the publishing tier is the encoded icon frames and camera health (PRIVACY.md P1-P3).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bus.codec import (
    MessageError,
    PositionsMessage,
    StatusMessage,
    decode_message,
    encode_camera_status,
    encode_station_frames,
)
from bus.embedded import Publisher, Subscriber
from homography.types import FloorPositions
from iconizer.types import CameraStatus, IconFrame
from station import StationLayout

log = logging.getLogger(__name__)


class Stepper(Protocol):
    """The iconizer as the aggregator drives it (see :class:`iconizer.stepper.Iconizer`)."""

    def ingest(self, positions: FloorPositions) -> None: ...

    def update_camera(self, status: CameraStatus) -> None: ...

    def step(self, now_s: float) -> list[IconFrame]: ...


class FrameSink(Protocol):
    """Where finished frames are kept besides the bus, e.g. the history store."""

    def record(self, frames: list[IconFrame]) -> None: ...


@dataclass
class Aggregator:
    """Validates what the edges send, feeds the iconizer, and publishes its frames."""

    layout: StationLayout
    iconizer: Stepper
    publisher: Publisher
    sinks: list[FrameSink] = field(default_factory=list)
    clock: Callable[[], float] = time.time
    received: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    frames_published: int = 0

    def __post_init__(self) -> None:
        self._camera_floor = {camera.id: camera.floor for camera in self.layout.cameras}
        self._cameras = set(self._camera_floor)

    def handle(self, raw: bytes) -> None:
        """Take one raw bus message; anything outside the schema or the layout is dropped and counted.

        Never raises for what a message holds: one message must not stop the aggregator.
        """
        self.received += 1
        try:
            self._handle(raw)
        except Exception:  # a message the iconizer cannot take is a bug to fix, never a stopped map
            self._reject("handler_error", "dropped a message the aggregator failed to handle")
            log.exception("aggregator failed on a message")

    def _handle(self, raw: bytes) -> None:
        try:
            message = decode_message(raw)
        except MessageError as error:
            self._reject("schema", f"dropped a malformed message ({error.reason}): {error}")
            return
        if message.station_id != self.layout.station.id:
            self._reject("wrong_station", f"dropped a message for station {message.station_id!r}")
            return
        if isinstance(message, PositionsMessage):
            camera_id, floor_id = message.positions.camera_id, message.positions.floor_id
            if camera_id not in self._cameras:
                self._reject("unknown_camera", f"dropped positions from unknown camera {camera_id!r}")
                return
            if floor_id != self._camera_floor[camera_id]:
                self._reject("wrong_floor", f"dropped positions of camera {camera_id!r} for floor {floor_id!r}")
                return
            self.iconizer.ingest(message.positions)
        elif isinstance(message, StatusMessage):
            if message.status.camera_id not in self._cameras:
                self._reject("unknown_camera", f"dropped status of unknown camera {message.status.camera_id!r}")
                return
            self.iconizer.update_camera(message.status)
            self.publisher.publish(encode_camera_status(self.layout.station.id, message.status))
        else:
            # Icon frames flow out of the aggregator, never into it.
            self._reject("wrong_direction", "dropped an icon frame sent to the aggregator")

    def _reject(self, reason: str, text: str) -> None:
        self.rejected[reason] += 1
        log.warning("%s (%s rejected so far)", text, sum(self.rejected.values()))

    def tick(self, now_s: float) -> list[IconFrame]:
        """Publish the current frame of every floor and hand it to the sinks."""
        frames = self.iconizer.step(now_s)
        self.publisher.publish(encode_station_frames(self.layout.station.id, frames, now_s))
        self.frames_published += 1
        for sink in self.sinks:
            try:
                sink.record(frames)
            except Exception:  # a history outage must not stop the live map
                log.exception("could not record frames in %s", type(sink).__name__)
        return frames

    def run(self, subscriber: Subscriber, should_stop: Callable[[], bool]) -> None:
        """Receive until ``should_stop()``, ticking every ``frame_interval_s``."""
        interval_s = self.layout.publishing.frame_interval_s
        next_tick = self.clock() + interval_s
        while not should_stop():
            raw = subscriber.receive(timeout_s=max(0.0, min(0.2, next_tick - self.clock())))
            if raw is not None:
                self.handle(raw)
            now = self.clock()
            if now >= next_tick:
                self.tick(now)
                # Skip missed ticks instead of bursting to catch up.
                next_tick = max(next_tick + interval_s, now + interval_s / 2)
