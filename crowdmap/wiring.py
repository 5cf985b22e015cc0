"""Composition of the stages into the aggregator and the web tier (no domain logic here)."""

from __future__ import annotations

import logging

import numpy as np

from bus.embedded import Publisher
from crowdmap.station import Station
from crowdmap.tiers.aggregate import Aggregator, FrameSink
from iconizer.footprint import BODY_RADIUS_M
from iconizer.stepper import Iconizer

log = logging.getLogger(__name__)


def camera_coverage(station: Station) -> dict:
    """Floor polygon each camera sees, so a dead camera makes only its own zones stale."""
    from homography.coverage import coverage_polygon

    return {
        camera.id: coverage_polygon(station.calibrations[camera.id], station.layout.floor(camera.floor))
        for camera in station.layout.cameras
    }


def build_iconizer(
    station: Station,
    *,
    seed: int | None = None,
    jitter_secret: int | None = None,
    count_window_s: float | None = None,
    bridge_misses: bool = True,
    body_radius_m: float = BODY_RADIUS_M,
) -> Iconizer:
    """The station's iconizer, with each camera's coverage (a random jitter secret unless one is given).

    ``count_window_s`` overrides the interval a zone's count is averaged over (the layout's
    ``frame_interval_s``; 0: the latest message), for evaluations that compare the two;
    ``bridge_misses=False`` shows each camera's latest message alone and ``body_radius_m=0``
    counts each person as a point (comparisons).
    """
    return Iconizer(
        station.layout,
        coverage=camera_coverage(station),
        rng=np.random.default_rng(seed),
        jitter_secret=jitter_secret,
        count_window_s=count_window_s,
        bridge_misses=bridge_misses,
        body_radius_m=body_radius_m,
    )


def open_history_sink(station: Station, history_url: str | None) -> FrameSink | None:
    """The history store as a frame sink, or None when history is switched off."""
    if not history_url:
        return None
    from history.recorder import HistoryRecorder
    from history.store import open_store

    return HistoryRecorder(station.layout, open_store(history_url))


def build_aggregator(station: Station, outbox: Publisher, *, history_url: str | None = None) -> Aggregator:
    """An aggregator for a station publishing to ``outbox``."""
    sink = open_history_sink(station, history_url)
    return Aggregator(
        layout=station.layout,
        iconizer=build_iconizer(station),
        publisher=outbox,
        sinks=[sink] if sink is not None else [],
    )
