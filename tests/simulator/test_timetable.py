"""Trains: when they stand at which track, when boarding is open, who steps off."""

import itertools

import numpy as np
import pytest

from simulator import SimulationConfig
from simulator.timetable import DOORS_OPEN_AFTER_S, Timetable, alighting

TIMETABLE = Timetable(interval_s=180.0, offset_s=60.0, dwell_s=30.0, tracks=2, boarding_from_s=12.0)


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
    # People get off first.
    assert not TIMETABLE.boarding_open(track, arrival + 11.9)
    assert TIMETABLE.boarding_open(track, arrival + 15.0)
    assert not TIMETABLE.boarding_open(1 - track, arrival + 15.0)
    assert not TIMETABLE.boarding_open(track, arrival + TIMETABLE.dwell_s)


def test_passengers_head_for_the_next_train_they_can_still_catch() -> None:
    arrival, track = TIMETABLE.arrivals_s(200.0, 400.0)[0]
    assert TIMETABLE.next_track(arrival - 30.0) == track
    assert TIMETABLE.next_track(arrival + 5.0) == track
    # Too late for this one: wait on the other side.
    assert TIMETABLE.next_track(arrival + TIMETABLE.dwell_s - 1.0) == 1 - track


def test_a_config_gives_its_timetable_with_boarding_after_the_average_door_has_emptied() -> None:
    config = SimulationConfig(
        train_interval_s=120.0, train_offset_s=7.0, train_dwell_s=40.0, alighting_mean=200.0, doors_per_side=20
    )
    timetable = Timetable.of(config, 3)
    assert (timetable.interval_s, timetable.offset_s, timetable.dwell_s, timetable.tracks) == (120.0, 7.0, 40.0, 3)
    # 10 people a door, one every door_alight_s, after the doors open.
    alighting_s = 10 * config.door_alight_s
    assert DOORS_OPEN_AFTER_S + alighting_s < timetable.boarding_from_s < DOORS_OPEN_AFTER_S + alighting_s + 2.0


def test_people_step_off_door_by_door_one_every_door_alight_s() -> None:
    config = SimulationConfig()
    rng = np.random.default_rng(0)
    trains = [alighting(config, 100.0, 20, rng) for _ in range(20)]
    assert np.mean([len(t) for t in trains]) == pytest.approx(config.alighting_mean, rel=0.05)
    for people in trains:
        times = np.array([t for t, _ in people])
        doors = np.array([d for _, d in people])
        assert np.all(np.diff(times) >= 0), "in time order"
        assert set(doors.tolist()) == set(range(20))
        assert times.min() >= 100.0 + DOORS_OPEN_AFTER_S
        for door in range(20):
            at_door = np.sort(times[doors == door])
            # One person per door_alight_s, each with a delay of less than one such gap.
            assert at_door[0] < 100.0 + DOORS_OPEN_AFTER_S + config.door_alight_s
            assert np.all(np.diff(at_door) > 0)
            assert at_door[-1] < 100.0 + DOORS_OPEN_AFTER_S + len(at_door) * config.door_alight_s
            assert at_door[-1] >= 100.0 + DOORS_OPEN_AFTER_S + (len(at_door) - 1) * config.door_alight_s


def test_a_dwell_too_short_to_get_off_and_on_is_refused() -> None:
    with pytest.raises(ValueError, match="leaves no time to board"):
        SimulationConfig(alighting_mean=500.0, doors_per_side=10, door_alight_s=0.8, train_dwell_s=40.0)
