import numpy as np
import pytest

from iconizer.smoothing import WindowMean


def test_mean_over_window_drops_old_samples():
    mean = WindowMean(2, window_s=3.0)
    np.testing.assert_allclose(mean.update(0.0, [1.0, 0.0], [True, True]), [1.0, 0.0])
    np.testing.assert_allclose(mean.update(1.0, [3.0, 2.0], [True, True]), [2.0, 1.0])
    np.testing.assert_allclose(mean.update(2.0, [5.0, 4.0], [True, True]), [3.0, 2.0])
    # t=0 leaves the window (only t > now - 3 counts)
    np.testing.assert_allclose(mean.update(3.0, [7.0, 6.0], [True, True]), [5.0, 4.0])


def test_invalid_samples_do_not_pull_towards_zero():
    mean = WindowMean(2, window_s=10.0)
    mean.update(0.0, [1.0, 1.0], [True, True])
    out = mean.update(1.0, [0.0, 0.0], [True, False])
    np.testing.assert_allclose(out, [0.5, 1.0])


def test_forget_restarts_a_zone():
    mean = WindowMean(1, window_s=10.0)
    mean.update(0.0, [4.0], [True])
    mean.forget([False])
    np.testing.assert_allclose(mean.update(1.0, [1.0], [True]), [1.0])


def test_zero_window_is_latest_sample():
    mean = WindowMean(1, window_s=0.0)
    mean.update(0.0, [4.0], [True])
    np.testing.assert_allclose(mean.update(1.0, [1.0], [True]), [1.0])


@pytest.mark.parametrize(
    ("values", "valid", "match"),
    [([1.0], [True, True], "shape"), ([1.0, 2.0, 3.0], [True, True], "shape")],
)
def test_shape_errors(values, valid, match):
    with pytest.raises(ValueError, match=match):
        WindowMean(2, 1.0).update(0.0, values, valid)


def test_time_must_not_go_backwards():
    mean = WindowMean(1, 1.0)
    mean.update(5.0, [1.0], [True])
    with pytest.raises(ValueError, match="backwards"):
        mean.update(4.0, [1.0], [True])
