"""Label anchors and uncovered floor: pure geometry, with known answers."""

import pytest
from shapely.geometry import Point, Polygon, box

from webmap.plan_geometry import (
    free_area_m,
    label_anchor_m,
    polygons_to_rings,
    rings_to_geometry,
    uncovered_m,
)

# An L of 4 m wide corridors, a long one along the bottom and one up the right, around a notch.
L_SHAPE = Polygon([(0, 16), (36, 16), (36, 0), (40, 0), (40, 20), (0, 20)])
NOTCH = box(0, 0, 36, 16)


def test_anchor_of_an_l_lies_in_its_wide_arm_not_in_the_notch():
    anchor = Point(label_anchor_m(L_SHAPE))
    assert L_SHAPE.contains(anchor)
    assert not NOTCH.contains(anchor)
    # The centroid of this L lies in the notch: what the old map used.
    assert NOTCH.contains(L_SHAPE.centroid)
    # The bottom arm (40 x 4 m) has room for a wide label; the anchor is in it.
    assert 16 < anchor.y < 20


def test_anchor_of_a_long_corridor_is_its_middle():
    corridor = box(0, 0, 120, 11)
    x, y = label_anchor_m(corridor)
    assert x == pytest.approx(60, abs=1.0) and y == pytest.approx(5.5, abs=0.2)


def test_big_obstacles_push_the_anchor_aside_small_ones_do_not():
    zone = box(0, 0, 20, 10)
    kiosk = box(7, 2, 13, 8)
    column = box(9.7, 4.7, 10.3, 5.3)
    with_kiosk = Point(label_anchor_m(free_area_m(zone, [zone], [kiosk])))
    assert not kiosk.contains(with_kiosk) and zone.contains(with_kiosk)
    x, y = label_anchor_m(free_area_m(zone, [zone], [column]))
    assert (x, y) == pytest.approx((10, 5), abs=0.3)


def test_a_zone_cut_in_two_takes_the_roomier_part():
    zone = box(0, 0, 30, 10)
    wall = box(8, 0, 9, 10)  # 10 m2: big enough to cut
    x, _ = label_anchor_m(free_area_m(zone, [zone], [wall]))
    assert x > 9


def test_an_empty_free_area_is_an_error():
    with pytest.raises(ValueError, match="free area"):
        label_anchor_m(Polygon())


def test_rings_round_trip_with_holes():
    shape = box(0, 0, 10, 10).difference(box(4, 4, 6, 6)).union(box(20, 0, 22, 2))
    rings = polygons_to_rings(shape)
    assert len(rings) == 2 and sorted(len(r) for r in rings) == [1, 2]
    assert all(ring[0] != ring[-1] for polygon in rings for ring in polygon), "rings are open"
    assert rings_to_geometry(rings).symmetric_difference(shape).area == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize(("polygons", "message"), [([[]], "no rings"), ([[[[0, 0], [1, 1]]]], "3 or more")])
def test_bad_rings_are_refused(polygons, message):
    with pytest.raises(ValueError, match=message):
        rings_to_geometry(polygons)


def test_uncovered_is_walkable_minus_covered_without_slivers():
    walkable = box(0, 0, 20, 10)
    covered = box(0, 0, 15, 10).union(box(15, 0, 20, 9.98))  # leaves a 0.1 m2 sliver
    assert uncovered_m(walkable, covered).is_empty
    rest = uncovered_m(walkable, box(0, 0, 15, 10))
    assert rest.area == pytest.approx(50)
