from contextlib import nullcontext

import numpy as np
import pytest

from iconizer.coarsen import coarsen_positions, max_coarsen_shift_m, shuffled


@pytest.mark.parametrize("method", ["grid", "jitter"])
@pytest.mark.parametrize("cell_m", [0.25, 0.5, 1.0])
def test_shift_is_bounded_and_nonzero(method, cell_m):
    rng = np.random.default_rng(1)
    xy = rng.uniform(1, 49, size=(2000, 2))
    out = coarsen_positions(xy, cell_m=cell_m, method=method, rng=rng)
    shift = np.linalg.norm(out - xy, axis=1)
    assert shift.max() <= max_coarsen_shift_m(cell_m) + 1e-9
    assert np.median(shift) > cell_m / 10  # positions really are moved


def test_grid_snaps_to_cell_centres():
    out = coarsen_positions([[0.1, 0.9], [1.26, 3.74]], cell_m=0.5, method="grid", rng=np.random.default_rng())
    np.testing.assert_allclose(out, [[0.25, 0.75], [1.25, 3.75]])


def test_jitter_differs_every_frame():
    rng = np.random.default_rng(2)
    xy = np.array([[5.0, 5.0]])
    a = coarsen_positions(xy, cell_m=0.5, method="jitter", rng=rng)
    b = coarsen_positions(xy, cell_m=0.5, method="jitter", rng=rng)
    assert not np.allclose(a, b)


def test_clipped_onto_plan():
    out = coarsen_positions([[9.99, 0.01]], cell_m=1.0, method="jitter", rng=np.random.default_rng(0), size_m=(10, 5))
    assert 0 <= out[0, 0] <= 10 and 0 <= out[0, 1] <= 5


@pytest.mark.parametrize(
    ("cell_m", "method", "expectation"),
    [
        (0.0, "grid", nullcontext()),
        (-1.0, "grid", pytest.raises(ValueError, match="cell_m")),
        (0.5, "hexagon", pytest.raises(ValueError, match="method")),
    ],
)
def test_validation(cell_m, method, expectation):
    with expectation:
        coarsen_positions([[1.0, 1.0]], cell_m=cell_m, method=method, rng=np.random.default_rng())


def test_shuffle_keeps_pairs_together_and_changes_order():
    rng = np.random.default_rng(4)
    xy = np.arange(200, dtype=float).reshape(100, 2)
    flags = xy[:, 0] % 4 == 0
    out_xy, out_flags = shuffled(rng, xy, flags)
    np.testing.assert_array_equal(out_flags, out_xy[:, 0] % 4 == 0)
    assert not np.array_equal(out_xy, xy)
    assert sorted(map(tuple, out_xy)) == sorted(map(tuple, xy))
