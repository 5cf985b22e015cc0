"""Trains: when they stand at which track, when boarding is open, who steps off."""

import itertools

import numpy as np
import pytest

from simulator import SimulationConfig
from simulator.timetable import BOARDING_FROM_S, DOORS_OPEN_AFTER_S, Timetable, alighting

TIMETABLE = Timetable(interval_s=180.0, offset_s=60.0, dwell_s=30.0, tracks=2)


def test_trains_alternate_between_the_tracks_at_fixed_intervals() -> None:
    trains = TIMETABLE.arrivals_s(0.0, 1000.0)
    assert [t for t, _ in trains] == [60.0, 240.0, 420.0, 600.0, 780.0, 960.0]
    assert all(a != b for (_, a), (_, b) in itertools.pairwise(trains))


def test_arrivals_are_half_open_intervals_so_no_train_is_counted_twice() -> None:
    assert TIMETABLE.arrivals_s(60.0, 240.0) == [(60.0, 0)]
    assert TIMETABLE.arrivals_s(0.0, 60.0) == []
    # Cut anywhere, the pieces add up to the whole.
    pieces = TIMETABLE.arrivals_s(-500.0, 123.4) + TIMETABLE.arrivals_s(123.4, 2000.0)
    assert pieces == TIMETABLE.arrivals_s(-500.0, 2000.0)


def test_boarding_is_open_only_while_the_train_stands_at_its_track() -> None:
    arrival, track = TIMETABLE.arrivals_s(200.0, 400.0)[0]
    assert not TIMETABLE.boarding_open(track, arrival + BOARDING_FROM_S - 0.1)
    assert TIMETABLE.boarding_open(track, arrival + 10.0)
    assert not TIMETABLE.boarding_open(1 - track, arrival + 10.0)
    assert not TIMETABLE.boarding_open(track, arrival + TIMETABLE.dwell_s)


def test_passengers_head_for_the_next_train_they_can_still_catch() -> None:
    arrival, track = TIMETABLE.arrivals_s(200.0, 400.0)[0]
    assert TIMETABLE.next_track(arrival - 30.0) == track
    assert TIMETABLE.next_track(arrival + 5.0) == track
    # Too late for this one: wait on the other side.
    assert TIMETABLE.next_track(arrival + TIMETABLE.dwell_s - 1.0) == 1 - track


def test_a_config_gives_its_timetable() -> None:
    config = SimulationConfig(train_interval_s=120.0, train_offset_s=7.0, train_dwell_s=40.0)
    assert Timetable.of(config, 3) == Timetable(120.0, 7.0, 40.0, 3)


def test_people_step_off_through_every_door_once_the_doors_open() -> None:
    config = SimulationConfig()
    rng = np.random.default_rng(0)
    people = [p for _ in range(20) for p in alighting(config, 100.0, 10, rng)]
    times = np.array([t for t, _ in people])
    doors = np.array([d for _, d in people])
    assert len(people) / 20 == pytest.approx(config.alighting_mean, rel=0.05)
    assert times.min() >= 100.0 + DOORS_OPEN_AFTER_S
    assert times.max() <= 100.0 + DOORS_OPEN_AFTER_S + config.alight_spread_s
    assert set(doors.tolist()) == set(range(10))
