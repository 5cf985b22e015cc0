from contextlib import nullcontext

import numpy as np
import pytest

from iconizer.motion import MotionWindow, has_neighbour_within, pair_displacements_m


def _crowd(rng, n_walkers, n_standers, spacing_m):
    """Walkers and standers on a jittered grid, walkers with random headings at 1.0-1.6 m/s."""
    n = n_walkers + n_standers
    side = int(np.ceil(np.sqrt(n)))
    grid = np.stack(np.meshgrid(np.arange(side), np.arange(side)), axis=-1).reshape(-1, 2)[:n] * spacing_m
    start = grid + rng.uniform(-0.2, 0.2, size=grid.shape)
    heading = rng.uniform(0, 2 * np.pi, size=n)
    speed = np.where(np.arange(n) < n_walkers, rng.uniform(1.0, 1.6, size=n), 0.0)
    velocity = np.stack([np.cos(heading), np.sin(heading)], axis=1) * speed[:, None]
    return start, velocity, speed > 0


@pytest.mark.parametrize(
    ("method", "spacing_m", "min_accuracy"),
    [("nearest", 4.0, 0.99), ("mutual", 4.0, 0.99), ("mutual", 1.5, 0.85)],
)
def test_walkers_and_standers(method, spacing_m, min_accuracy):
    rng = np.random.default_rng(7)
    start, velocity, walking = _crowd(rng, 60, 60, spacing_m)
    motion = MotionWindow(window_s=1.0, method=method)
    accuracies = []
    for k in range(6):
        t = k * 0.5
        noise = rng.normal(0, 0.05, size=start.shape)  # a standing person's detector jitter
        order = rng.permutation(len(start))  # sets arrive in no stable order: no identity to read
        flags = motion.update(t, (start + velocity * t + noise)[order])
        if k >= 2:
            accuracies.append(np.mean(flags == walking[order]))
    assert min(accuracies) >= min_accuracy


def test_mutual_beats_nearest_in_a_dense_walking_crowd():
    rng = np.random.default_rng(8)
    start, velocity, _ = _crowd(rng, 100, 0, 1.2)
    before, now = start, start + velocity * 1.0
    recall = {method: np.mean(pair_displacements_m(now, before, method) > 0.5) for method in ("nearest", "mutual")}
    assert recall["mutual"] > recall["nearest"]


def test_nearest_never_exceeds_true_displacement():
    rng = np.random.default_rng(9)
    before = rng.uniform(0, 20, size=(80, 2))
    now = before + rng.normal(0, 1.0, size=before.shape)
    true = np.linalg.norm(now - before, axis=1)
    assert np.all(pair_displacements_m(now, before, "nearest") <= true + 1e-12)


def test_start_up_and_gaps_report_stopped():
    motion = MotionWindow(window_s=1.0, max_age_s=2.0)
    assert not motion.update(0.0, [[0.0, 0.0]]).any()  # nothing earlier: unknown -> stopped
    assert motion.update(1.0, [[1.5, 0.0]]).all()
    # after more than max_age_s without a set, the earlier sets are gone
    assert not motion.update(4.0, [[3.0, 0.0]]).any()


def test_empty_sets():
    motion = MotionWindow()
    assert motion.update(0.0, np.zeros((0, 2))).shape == (0,)
    assert not motion.update(1.0, [[1.0, 1.0]]).any()  # nobody before: cannot be called moving
    assert motion.update(2.0, np.zeros((0, 2))).shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "expectation"),
    [
        ({}, nullcontext()),
        ({"window_s": 3.0, "max_age_s": 2.0}, pytest.raises(ValueError, match="max_age_s")),
        ({"speed_threshold_m_s": 0.0}, pytest.raises(ValueError, match="speed_threshold_m_s")),
        ({"method": "hungarian"}, pytest.raises(ValueError, match="method")),
    ],
)
def test_validation(kwargs, expectation):
    with expectation:
        MotionWindow(**kwargs)


def test_time_must_not_go_backwards():
    motion = MotionWindow()
    motion.update(2.0, [[0.0, 0.0]])
    with pytest.raises(ValueError, match="backwards"):
        motion.update(1.0, [[0.0, 0.0]])


@pytest.mark.parametrize("radius_m", [0.1, 0.5, 1.3, 5.0])
@pytest.mark.parametrize(("n", "m"), [(0, 5), (5, 0), (1, 1), (300, 250)])
def test_fixed_radius_search_matches_brute_force(radius_m, n, m):
    rng = np.random.default_rng(n + m)
    now = rng.uniform(-20, 80, size=(n, 2))
    before = np.concatenate(
        [
            now[:m] + rng.normal(0, 1.0, size=(min(n, m), 2)),
            rng.uniform(-20, 80, (max(m - n, 0), 2)),
        ]
    )
    expected = (pair_displacements_m(now, before, "nearest") <= radius_m) if m else np.zeros(n, bool)
    np.testing.assert_array_equal(has_neighbour_within(now, before, radius_m), expected)


@pytest.mark.parametrize("layout", ["uniform", "dense", "queue-along-wall", "same-spot"])
def test_fixed_radius_search_on_crowd_shapes(layout):
    rng = np.random.default_rng(12)
    now = {
        "uniform": lambda: rng.uniform([0, 0], [100, 40], size=(300, 2)),
        "dense": lambda: rng.uniform([0, 0], [15, 10], size=(300, 2)),
        "queue-along-wall": lambda: np.column_stack([np.full(300, 0.1), rng.uniform(0, 40, 300)]),
        "same-spot": lambda: np.full((300, 2), 7.0),
    }[layout]()
    before = now + rng.normal(0, 0.6, size=now.shape)
    for radius_m in (0.3, 0.5, 1.2):
        expected = pair_displacements_m(now, before, "nearest") <= radius_m
        np.testing.assert_array_equal(has_neighbour_within(now, before, radius_m), expected)
