import numpy as np
import pytest
import shapely

from iconizer.zones import NO_ZONE, ZoneIndex


@pytest.fixture
def hall_index(toy_layout):
    return ZoneIndex.build(toy_layout.floor("hall"), toy_layout.zones_on("hall"))


def test_walkable_area_subtracts_obstacles(hall_index):
    # west is 10 x 10 with a 2 x 2 pillar; east has none
    np.testing.assert_allclose(hall_index.walkable_area_m2, [96.0, 100.0])


@pytest.mark.parametrize(
    ("xy", "expected_counts", "expected_index"),
    [
        ([], [0, 0], []),
        ([[1, 1], [2, 2], [15, 5]], [2, 1], [0, 0, 1]),
        ([[10, 5]], [1, 1], [0]),  # on the shared edge: counted in both, first zone for the index
        ([[25, 5], [-1, 3]], [0, 0], [NO_ZONE, NO_ZONE]),  # outside every zone
        ([[9.99, 5], [10.01, 5]], [1, 1], [0, 1]),
    ],
)
def test_counts_and_index(hall_index, xy, expected_counts, expected_index):
    np.testing.assert_array_equal(hall_index.counts(xy), expected_counts)
    np.testing.assert_array_equal(hall_index.zone_index(xy), expected_index)


def test_matches_per_point_shapely_on_random_points(hall_index):
    rng = np.random.default_rng(3)
    xy = rng.uniform([-2, -2], [22, 12], size=(500, 2))
    expected = [sum(p.intersects(shapely.Point(x, y)) for x, y in xy) for p in hall_index.polygons]
    np.testing.assert_array_equal(hall_index.counts(xy), expected)


def test_rejects_zone_of_other_floor(toy_layout):
    with pytest.raises(ValueError, match="is on floor 'platform'"):
        ZoneIndex.build(toy_layout.floor("hall"), toy_layout.zones)
