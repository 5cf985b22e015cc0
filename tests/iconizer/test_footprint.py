import math

import numpy as np
import pytest
import shapely

from iconizer.footprint import BODY_RADIUS_M, FOOTPRINT_SAMPLES, footprint_offsets_m


def _exact_share(depth_m: float, radius_m: float) -> float:
    """The disc's area on the inner side of a straight edge ``depth_m`` from its centre (circular segment)."""
    u = min(1.0, max(-1.0, depth_m / radius_m))
    return 1.0 - (math.acos(u) - u * math.sqrt(1.0 - u * u)) / math.pi


def test_the_body_is_fruins_ellipse_as_a_disc() -> None:
    # 0.46 m x 0.61 m ellipse: 0.22 m2, the same area as the disc.
    assert math.pi * BODY_RADIUS_M**2 == pytest.approx(math.pi / 4 * 0.46 * 0.61)
    assert BODY_RADIUS_M == pytest.approx(0.265, abs=1e-3)


def test_the_points_lie_in_the_disc_and_stand_for_equal_areas() -> None:
    offsets = footprint_offsets_m(2.0)
    assert offsets.shape == (FOOTPRINT_SAMPLES, 2)
    radii = np.linalg.norm(offsets, axis=1)
    assert radii.max() < 2.0
    # Equal areas: the share of points within any radius r is the share of the area, (r / R)^2.
    for r in (0.5, 1.0, 1.5):
        assert np.count_nonzero(radii < r) / len(radii) == pytest.approx((r / 2.0) ** 2, abs=1.5 / len(radii))


def test_any_straight_edge_splits_the_points_as_it_splits_the_disc() -> None:
    offsets = footprint_offsets_m(1.0)
    worst = 0.0
    for angle in np.linspace(0.0, np.pi, 181):
        along = offsets @ np.array([math.cos(angle), math.sin(angle)])
        for depth in np.linspace(-1.1, 1.1, 111):
            worst = max(worst, abs(np.mean(along < depth) - _exact_share(depth, 1.0)))
    assert worst <= 0.08


def test_the_exact_share_is_shapelys_area() -> None:
    disc = shapely.Point(0, 0).buffer(1.0, quad_segs=1024)
    for depth in (-0.7, -0.2, 0.0, 0.4, 0.9):
        area = disc.intersection(shapely.box(-5, -5, depth, 5)).area / disc.area
        assert _exact_share(depth, 1.0) == pytest.approx(area, abs=1e-5)


def test_one_point_is_a_footprint_too() -> None:
    (point,) = footprint_offsets_m(1.0, samples=1)
    assert np.linalg.norm(point) == pytest.approx(np.sqrt(0.5))  # the middle of the disc's area


@pytest.mark.parametrize(
    ("radius_m", "samples"), [(0.0, 32), (-0.2, 32), (float("nan"), 32), (float("inf"), 32), (0.3, 0)]
)
def test_bad_arguments_are_named(radius_m: float, samples: int) -> None:
    with pytest.raises(ValueError, match=r"radius_m must be finite and positive|samples must be >= 1"):
        footprint_offsets_m(radius_m, samples)
