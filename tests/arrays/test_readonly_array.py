"""The one array validator behind every stage's value type."""

from contextlib import nullcontext as does_not_raise

import numpy as np
import pytest

from arrays import readonly_array


@pytest.mark.parametrize(
    ("values", "shape_tail", "kwargs", "expectation"),
    [
        ([[0, 0, 1, 1]], (4,), {}, does_not_raise()),
        ([], (4,), {}, does_not_raise()),
        (
            [[0, 0, 1]],
            (4,),
            {},
            pytest.raises(ValueError, match=r"^boxes must have shape \(n, 4\), got shape \(1, 3\)$"),
        ),
        (
            [0, 0, 1, 1],
            (4,),
            {},
            pytest.raises(ValueError, match=r"^boxes must have shape \(n, 4\), got shape \(4,\)$"),
        ),
        ([[1.0], [2.0]], (), {}, pytest.raises(ValueError, match=r"^boxes must have shape \(n\), got shape \(2, 1\)$")),
        ([np.nan], (), {}, pytest.raises(ValueError, match=r"^boxes must be finite, got NaN or infinity$")),
        ([np.inf], (), {}, pytest.raises(ValueError, match="must be finite")),
        ([np.nan], (), {"finite": False}, does_not_raise()),
        ([True, False], (), {"dtype": bool}, does_not_raise()),
    ],
)
def test_shapes_and_values_are_checked(values, shape_tail, kwargs, expectation) -> None:
    with expectation:
        out = readonly_array(values, "boxes", shape_tail, **kwargs)
        assert out.shape[1:] == shape_tail


def test_the_copy_is_read_only_and_detached() -> None:
    source = np.array([[1.0, 2.0]])
    out = readonly_array(source, "xy_m", (2,))
    source[0, 0] = 9.0
    assert out[0, 0] == 1.0
    assert not out.flags.writeable
    with pytest.raises(ValueError):
        out[0, 0] = 3.0


def test_empty_input_takes_the_expected_shape_and_type() -> None:
    out = readonly_array([], "ids", (), dtype=np.int64)
    assert out.shape == (0,) and out.dtype == np.int64
