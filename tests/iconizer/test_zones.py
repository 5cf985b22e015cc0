import numpy as np
import pytest
import shapely

from iconizer.footprint import BODY_RADIUS_M, FOOTPRINT_SAMPLES, footprint_offsets_m
from iconizer.zones import NO_ZONE, ZoneIndex
from station import Floor, Zone


def parse_floor_for_test() -> Floor:
    """A 12 m x 10 m floor with a pillar and a notch in its south wall."""
    return Floor.model_validate(
        {"id": "f", "name": {"ja": "階", "en": "Floor"}, "size_m": [12.0, 10.0],
         "walkable_m": [[[0, 0], [5, 0], [5, 1], [7, 1], [7, 0], [12, 0], [12, 10], [0, 10]]],
         "obstacles_m": [[[3, 4], [4, 4], [4, 5], [3, 5]]]}
    )  # fmt: skip


def zone_for_test(zone_id: str, polygon_m: list) -> Zone:
    return Zone.model_validate(
        {"id": zone_id, "floor": "f", "name": {"ja": zone_id, "en": zone_id}, "kind": "walkway", "polygon_m": polygon_m}
    )


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


def test_a_lone_zone_of_any_shape_counts_the_points_inside_it():
    # One zone, a triangle: the count is the polygon's, not its bounding box's.
    index = ZoneIndex.build(parse_floor_for_test(), [zone_for_test("tri", [[1, 1], [9, 1], [1, 9]])])
    xy = [[2, 2], [4.9, 4.9], [5.1, 5.1], [8, 8], [0.5, 0.5]]
    np.testing.assert_array_equal(index.counts(xy), [2])
    np.testing.assert_array_equal(index.zone_index(xy), [0, 0, NO_ZONE, NO_ZONE, NO_ZONE])


def test_a_zone_needs_walkable_floor_however_small():
    floor = parse_floor_for_test()
    small = ZoneIndex.build(floor, [zone_for_test("kiosk", [[1, 1], [1.5, 1], [1.5, 1.5], [1, 1.5]])])
    np.testing.assert_allclose(small.walkable_area_m2, [0.25])
    with pytest.raises(ValueError, match="zone 'in-pillar' has no walkable area on floor 'f'"):
        ZoneIndex.build(floor, [zone_for_test("in-pillar", [[3.2, 4.2], [3.8, 4.2], [3.8, 4.8], [3.2, 4.8]])])


def test_walkable_areas_are_read_only(hall_index):
    with pytest.raises(ValueError, match="read-only"):
        hall_index.walkable_area_m2[0] = 1.0


def test_rejects_zone_of_other_floor(toy_layout):
    with pytest.raises(ValueError, match="is on floor 'platform'"):
        ZoneIndex.build(toy_layout.floor("hall"), toy_layout.zones)


def _disc_share(polygon, walkable, x, y, radius_m=BODY_RADIUS_M):
    """Exact area of the body's disc in the zone and on the floor, over its area on the floor (shapely maths)."""
    disc = shapely.Point(x, y).buffer(radius_m, quad_segs=512)
    on_floor = disc.intersection(walkable)
    if on_floor.area == 0:
        return disc.intersection(polygon).area / disc.area
    return on_floor.intersection(polygon).area / on_floor.area


# Sampled footprints are within this of the exact area (tests/iconizer/test_footprint.py).
SAMPLED = 0.08


def test_a_person_deep_inside_counts_whole(hall_index):
    np.testing.assert_array_equal(hall_index.occupancy([[2, 2], [15, 5], [16, 8]]), [1.0, 2.0])


@pytest.mark.parametrize("x_m", [9.75, 9.9, 10.0, 10.05, 10.2, 10.3])
def test_a_person_astride_the_shared_edge_counts_once_shared_by_area(hall_index, x_m):
    west, east = hall_index.occupancy([[x_m, 5.0]])
    assert west + east == pytest.approx(1.0)
    assert west == pytest.approx(_disc_share(hall_index.polygons[0], hall_index.walkable, x_m, 5.0), abs=SAMPLED)


@pytest.mark.parametrize(
    ("xy", "expected"),
    [
        ([0.05, 5.0], [1.0, 0.0]),  # against the hall's west wall
        ([3.9, 5.0], [1.0, 0.0]),  # against the pillar (an obstacle: a hole in the walkable floor)
        ([5.0, 5.0], [1.0, 0.0]),  # a foot point in the pillar's plan: its zone's person all the same
        ([19.9, 9.9], [0.0, 1.0]),  # in a corner
        ([-0.1, 5.0], [1.0, 0.0]),  # a hair beyond the wall: the person stands at it
        ([-1.0, 5.0], [0.0, 0.0]),  # well outside the floor and every zone
    ],
)
def test_a_person_against_a_wall_counts_whole(hall_index, xy, expected):
    np.testing.assert_allclose(hall_index.occupancy([xy]), expected, atol=1e-12)


@pytest.mark.parametrize("xy", [[10.0, 0.05], [10.1, 9.9], [9.8, 0.1]])
def test_where_a_zone_edge_meets_a_wall_the_person_still_counts_once(hall_index, xy):
    west, east = hall_index.occupancy([xy])
    assert west + east == pytest.approx(1.0)
    assert west == pytest.approx(_disc_share(hall_index.polygons[0], hall_index.walkable, *xy), abs=SAMPLED)


def test_floor_without_zone_takes_its_share(toy_layout):
    # The zone covers the west half of the hall only: half of someone on its open edge is outside it.
    index = ZoneIndex.build(toy_layout.floor("hall"), toy_layout.zones_on("hall")[:1])
    (west,) = index.occupancy([[10.0, 5.0]])
    assert west == pytest.approx(0.5, abs=SAMPLED)
    assert 0 < west < 1


def test_overlapping_zones_each_count_the_person(toy_layout):
    gate = Zone.model_validate(
        {"id": "gate", "floor": "hall", "name": {"ja": "改札", "en": "Gate"}, "kind": "walkway",
         "polygon_m": [[12, 2], [14, 2], [14, 4], [12, 4]]}
    )  # fmt: skip
    index = ZoneIndex.build(toy_layout.floor("hall"), [*toy_layout.zones_on("hall"), gate])
    west, east, in_gate = index.occupancy([[13, 3], [12, 3]])
    assert (west, east) == (0.0, 2.0)
    assert in_gate == pytest.approx(1.5, abs=SAMPLED)


def test_occupancy_matches_exact_disc_areas_on_random_points(hall_index):
    rng = np.random.default_rng(5)
    xy = rng.uniform([-0.4, -0.4], [20.4, 10.4], size=(400, 2))
    discs = shapely.buffer(shapely.points(xy), BODY_RADIUS_M, quad_segs=512)
    floor_share = shapely.area(shapely.intersection(discs, hall_index.walkable)) / shapely.area(discs)
    # A disc that touches the floor by less than one sample's area is sampled as wholly off it.
    clear = (floor_share == 0) | (floor_share > 1.5 / FOOTPRINT_SAMPLES)
    assert clear.mean() > 0.98
    expected = np.array([[_disc_share(p, hall_index.walkable, x, y) for p in hall_index.polygons] for x, y in xy])
    per_person = np.array([hall_index.occupancy([point]) for point in xy])
    np.testing.assert_allclose(per_person[clear], expected[clear], atol=SAMPLED)
    np.testing.assert_allclose(hall_index.occupancy(xy), per_person.sum(axis=0))
    # Nobody is counted more than once over the two abutting zones, nor lost on the floor.
    np.testing.assert_allclose(per_person.sum(axis=1)[clear & (floor_share > 0)], 1.0)


def test_radius_zero_counts_points(toy_layout, hall_index):
    points = ZoneIndex.build(toy_layout.floor("hall"), toy_layout.zones_on("hall"), body_radius_m=0.0)
    xy = [[1, 1], [10, 5], [9.99, 5], [25, 5], [5, 5]]
    np.testing.assert_array_equal(points.occupancy(xy), hall_index.counts(xy))
    assert points.occupancy(xy).dtype == np.float64
    np.testing.assert_array_equal(hall_index.occupancy(np.zeros((0, 2))), [0.0, 0.0])


@pytest.mark.parametrize("radius_m", [0.1, 0.5, 1.5])
def test_other_radii_split_people_by_their_discs(toy_layout, radius_m):
    index = ZoneIndex.build(toy_layout.floor("hall"), toy_layout.zones_on("hall"), body_radius_m=radius_m)
    for x_m in (10.0 - 0.9 * radius_m, 10.0 - 0.3 * radius_m, 10.0 + 0.5 * radius_m, 10.0 - 1.05 * radius_m):
        west, east = index.occupancy([[x_m, 5.0]])
        assert west + east == pytest.approx(1.0)
        expected = _disc_share(index.polygons[0], index.walkable, x_m, 5.0, radius_m)
        assert west == pytest.approx(expected, abs=SAMPLED)


@pytest.mark.parametrize("radius_m", [-0.1, float("nan"), float("inf")])
def test_bad_radius_is_named(toy_layout, radius_m):
    with pytest.raises(ValueError, match="body_radius_m must be finite and >= 0"):
        ZoneIndex.build(toy_layout.floor("hall"), toy_layout.zones_on("hall"), body_radius_m=radius_m)


def _every_footprint_sampled(index, xy):
    """Occupancy with every person's disc sampled, none taken as clear of the edges: the rule written plainly."""
    offsets = footprint_offsets_m(index.body_radius_m)
    out = np.zeros(len(index))
    for x, y in xy:
        sx, sy = x + offsets[:, 0], y + offsets[:, 1]
        on_floor = shapely.intersects_xy(index.walkable, sx, sy)
        counted = on_floor if on_floor.any() else np.ones_like(on_floor)
        for z, polygon in enumerate(index.polygons):
            out[z] += np.count_nonzero(shapely.intersects_xy(polygon, sx, sy) & counted) / counted.sum()
    return out


@pytest.mark.parametrize("radius_m", [BODY_RADIUS_M, 0.8])
def test_only_discs_clear_of_every_edge_go_unsampled(radius_m):
    # Concave and sharp zones, overlapping zones, an obstacle and a wall with a notch: the quick
    # path (cores and reaches) must give what sampling everyone gives.
    floor = parse_floor_for_test()
    zones = [
        zone_for_test("ell", [[0, 0], [6, 0], [6, 2], [2, 2], [2, 8], [0, 8]]),
        zone_for_test("spike", [[6, 2], [12, 2.3], [6, 2.6]]),
        zone_for_test("rest", [[2, 2], [12, 2], [12, 10], [2, 10]]),
        zone_for_test("gate", [[7, 6], [9, 6], [9, 8], [7, 8]]),
        zone_for_test("wedge", [[7.5, 0], [12, 0], [12, 1.8]]),  # a slanted edge along unzoned floor
    ]
    index = ZoneIndex.build(floor, zones, body_radius_m=radius_m)
    rng = np.random.default_rng(11)
    # Around every corner (convex, reflex, the spike's tip), just inside and outside a body radius.
    corners = np.array(
        [[2, 2], [6, 2], [6, 0], [12, 2.3], [7, 6], [0, 8], [5, 1], [7, 1], [3, 4], [7.5, 0], [12, 1.8], [9.75, 0.9]]
    )
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    rings = [
        c + f * radius_m * np.column_stack([np.cos(angles), np.sin(angles)]) for c in corners for f in (0.97, 1.03)
    ]
    x_m = np.linspace(8, 11.5, 40)
    along_slant = np.vstack([np.column_stack([x_m, 0.4 * x_m - 3.0 + side]) for side in (-0.15, -0.05, 0.05, 0.15)])
    xy = np.vstack([rng.uniform([-1, -1], [13, 11], size=(600, 2)), *rings, along_slant])
    np.testing.assert_allclose(index.occupancy(xy), _every_footprint_sampled(index, xy), atol=1e-9)
