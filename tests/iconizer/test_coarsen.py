from contextlib import nullcontext

import numpy as np
import pytest

from iconizer.coarsen import JITTER_KEY_PERIOD_S, coarsen_positions, jitter_key, max_coarsen_shift_m, shuffled


@pytest.mark.parametrize("method", ["grid", "jitter"])
@pytest.mark.parametrize("cell_m", [0.25, 0.5, 1.0])
def test_shift_is_bounded_and_nonzero_and_stays_in_the_cell(method, cell_m):
    rng = np.random.default_rng(1)
    xy = rng.uniform(1, 49, size=(2000, 2))
    out = coarsen_positions(xy, cell_m=cell_m, method=method, key=12345)
    shift = np.linalg.norm(out - xy, axis=1)
    assert shift.max() <= max_coarsen_shift_m(cell_m, method) + 1e-9
    assert np.median(shift) > cell_m / 10  # positions really are moved
    np.testing.assert_array_equal(np.floor(out / cell_m), np.floor(xy / cell_m))


def test_grid_snaps_to_cell_centres():
    out = coarsen_positions([[0.1, 0.9], [1.26, 3.74]], cell_m=0.5, method="grid")
    np.testing.assert_allclose(out, [[0.25, 0.75], [1.25, 3.75]])


def test_jitter_is_no_lattice():
    xy = np.random.default_rng(3).uniform(0, 50, size=(500, 2))
    within = (coarsen_positions(xy, cell_m=0.5, method="jitter", key=7) / 0.5) % 1.0
    assert np.std(within) > 0.2, "dots spread over their cells (uniform: 0.29), not on their centres"


def stand_still(xy, frames, method, *, step_s=1.0, secret=99, cell_m=0.5):
    """What a person standing at ``xy`` is published as, once a second for ``frames`` seconds."""
    return np.concatenate(
        [
            coarsen_positions([xy], cell_m=cell_m, method=method, key=jitter_key(secret, 1_800_000_000.0 + k * step_s))
            for k in range(frames)
        ]
    )


@pytest.mark.parametrize("method", ["grid", "jitter"])
def test_averaging_a_standing_dot_does_not_recover_its_position(method):
    """Issue 11 item 3: 60 frames of a standing person, averaged, gave the position to 2-23 mm."""
    person = (12.07, 30.44)  # near a corner of its 0.5 m cell: the cell centre is 0.26 m away
    for frames, step_s in ((60, 1.0), (600, 60.0)):  # a minute; ten hours, across 60 keys
        mean = stand_still(person, frames, method, step_s=step_s).mean(axis=0)
        assert np.linalg.norm(mean - person) > 0.1, f"{frames} frames averaged give the position away"
    # The attack cannot do better than the cell: a neighbour in the same cell is published identically.
    np.testing.assert_array_equal(stand_still(person, 60, method), stand_still((12.41, 30.09), 60, method))


def test_the_jitter_key_rotates_slowly_and_depends_on_the_secret():
    t = 1_800_000_000.0  # a period boundary (a multiple of 600 s)
    assert jitter_key(1, t) == jitter_key(1, t + JITTER_KEY_PERIOD_S - 1)
    assert jitter_key(1, t) != jitter_key(1, t + JITTER_KEY_PERIOD_S)
    assert jitter_key(1, t) != jitter_key(2, t)
    assert jitter_key(b"web secret", t) != jitter_key(b"other secret", t)
    keys = {jitter_key(5, t + k * JITTER_KEY_PERIOD_S) for k in range(50)}
    assert len(keys) == 50
    a, b = (
        coarsen_positions([[3.3, 4.4]], cell_m=0.5, method="jitter", key=k)
        for k in (jitter_key(5, t), jitter_key(5, t + 600))
    )
    assert not np.allclose(a, b), "a new key moves the dot within its cell"


@pytest.mark.parametrize("method", ["grid", "jitter"])
def test_clipped_onto_plan_before_and_after(method):
    size = (10.0, 5.0)
    out = coarsen_positions([[9.99, 0.01], [-0.3, 5.2], [10.0, 5.0]], cell_m=1.0, method=method, key=3, size_m=size)
    assert np.all(out >= 0) and np.all(out <= size)
    if method == "grid":
        np.testing.assert_allclose(out, [[9.5, 0.5], [0.5, 5.0], [10.0, 5.0]])


@pytest.mark.parametrize("method", ["grid", "jitter"])
def test_coarsening_a_coarsened_position_keeps_its_cell(method):
    """The web tier coarsens again what it receives: an honest frame keeps its cells (grid: its dots)."""
    xy = np.random.default_rng(8).uniform(-1, 41, size=(1000, 2))
    once = coarsen_positions(xy, cell_m=0.5, method=method, key=11, size_m=(40.0, 20.0))
    twice = coarsen_positions(once, cell_m=0.5, method=method, key=22, size_m=(40.0, 20.0))
    if method == "grid":
        np.testing.assert_array_equal(twice, once)
    else:
        inside = np.all(once < (40.0, 20.0), axis=1)  # a dot clipped onto the far edge starts the next cell
        np.testing.assert_array_equal(np.floor(twice[inside] / 0.5), np.floor(once[inside] / 0.5))


@pytest.mark.parametrize(
    ("cell_m", "method", "expectation"),
    [
        (0.0, "grid", nullcontext()),
        (-1.0, "grid", pytest.raises(ValueError, match="cell_m")),
        (float("nan"), "grid", pytest.raises(ValueError, match="cell_m")),
        (0.5, "hexagon", pytest.raises(ValueError, match="method")),
    ],
)
def test_validation(cell_m, method, expectation):
    with expectation:
        coarsen_positions([[1.0, 1.0]], cell_m=cell_m, method=method)
    with pytest.raises(ValueError, match="period_s"):
        jitter_key(1, 0.0, period_s=0.0)


def test_shuffle_keeps_pairs_together_and_changes_order():
    rng = np.random.default_rng(4)
    xy = np.arange(200, dtype=float).reshape(100, 2)
    flags = xy[:, 0] % 4 == 0
    out_xy, out_flags = shuffled(rng, xy, flags)
    np.testing.assert_array_equal(out_flags, out_xy[:, 0] % 4 == 0)
    assert not np.array_equal(out_xy, xy)
    assert sorted(map(tuple, out_xy)) == sorted(map(tuple, xy))
    with pytest.raises(ValueError, match="equal length"):
        shuffled(rng, xy, flags[:3])
