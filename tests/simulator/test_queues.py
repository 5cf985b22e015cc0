"""Where people wait: the demo station's queues, and how a queue lines up."""

import numpy as np
import pytest
import shapely

from simulator import SimulationConfig
from simulator.queues import Server, Turnstile, build_service_points
from simulator.simulation import plan_for
from station import StationLayout


@pytest.fixture(scope="module")
def services(demo_layout: StationLayout):
    config = SimulationConfig()
    return build_service_points(plan_for(demo_layout, config), config), config


def test_both_sides_of_a_gate_lane_share_one_turnstile(services) -> None:
    points, config = services
    inside, outside = points.gates[(0, 0)], points.gates[(0, 1)]
    assert len(inside) == len(outside) == 8
    for a, b in zip(inside, outside, strict=True):
        assert a.turnstile is b.turnstile
        assert a.service_s == config.gate_service_s
        # Each side queues at its own end and comes out at the other's.
        np.testing.assert_allclose(a.lane_exit_m, b.head_m)


def test_stairs_go_both_ways_and_the_escalator_only_up(services) -> None:
    points, config = services
    down = points.links[("concourse", "platform")]
    up = points.links[("platform", "concourse")]
    assert [s.kind for s in down] == ["stairs"]
    assert sorted(s.kind for s in up) == ["escalator", "stairs"]
    escalator = next(s for s in up if s.kind == "escalator")
    assert escalator.service_s == pytest.approx(1.0 / config.escalator_per_s)
    assert escalator.arrival is not None and escalator.arrival.floor_id == "concourse"


def test_every_train_door_has_a_queue_on_its_platform_edge(services) -> None:
    points, config = services
    assert len(points.doors) == 2
    for edge_index, doors in enumerate(points.doors):
        assert len(doors) == config.doors_per_side
        assert {s.edge_index for s in doors} == {edge_index}
    assert len(points.all) == 16 + 3 + 2 * config.doors_per_side
    assert all(server.field_id >= 0 for server in points.all)


def test_a_queue_lines_up_behind_its_head_filling_lines_from_the_middle() -> None:
    server = Server(
        kind="stairs",
        head_m=np.array([10.0, 5.0]),
        back_m=np.array([1.0, 0.0]),
        across_m=np.array([0.0, 1.0]),
        service_s=0.5,
        turnstile=Turnstile(),
        field_point_m=np.array([11.5, 5.0]),
        floor_id="f",
        lines=3,
        spacing_m=0.5,
        line_gap_m=0.6,
    )
    np.testing.assert_allclose(server.slots_m(5), [[10.0, 5.0], [10.0, 5.6], [10.0, 4.4], [10.5, 5.0], [10.5, 5.6]])
    server.queue.extend([object()] * 4)
    assert server.wait_s() == 2.0


def test_the_crowd_at_the_foot_of_the_stairs_fans_out_in_front_of_it_on_its_own_side(
    services, demo_layout: StationLayout
) -> None:
    points, config = services
    up = points.links[("platform", "concourse")]
    stairs = next(s for s in up if s.kind == "stairs")
    escalator = next(s for s in up if s.kind == "escalator")
    floor = demo_layout.floor("platform")
    for server, rival in ((stairs, escalator), (escalator, stairs)):
        places = server.places_m
        assert places is not None and len(places) >= 300
        gaps = np.linalg.norm(places - server.head_m, axis=1)
        assert np.all(np.diff(gaps) >= -1e-9), "nearest first"
        assert np.all((places - server.head_m) @ server.back_m >= -1e-9), "in front of the head"
        assert shapely.contains_xy(floor.walkable, places[:, 0], places[:, 1]).all()
        assert np.all(gaps < np.linalg.norm(places - rival.head_m, axis=1)), "on its own side"
        # Packed as the config says: nobody closer to a neighbour than the spacing.
        nearest = np.sort(np.linalg.norm(places[:, None] - places[None], axis=2), axis=1)[:, 1]
        np.testing.assert_allclose(nearest.min(), config.crowd_spacing_m, rtol=1e-6)
    # The first hundred fill the floor in front of the stairs, half a disc cut by the escalator's
    # crowd, rather than standing in six lines 9 m deep.
    first = stairs.places_m[:100] - stairs.head_m
    depth, lateral = first @ stairs.back_m, first @ stairs.across_m
    assert np.ptp(lateral) >= 4.5 and np.ptp(depth) <= 7.0


def test_people_waiting_for_a_train_leave_the_middle_of_the_door_free(services) -> None:
    points, _ = services
    door = points.doors[0][3]
    places = door.places_m
    lateral = (places - door.head_m) @ door.across_m
    assert np.abs(lateral).min() >= 0.8
    # The first at each side of the door is close enough to board.
    assert np.linalg.norm(places[0] - door.head_m) < door.serve_radius_m
    assert np.linalg.norm(places[1] - door.head_m) < door.serve_radius_m
