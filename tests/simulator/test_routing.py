"""Where people go next: legs expand into walks, gate crossings, shops, exits and queues."""

import numpy as np
import pytest

from simulator import SimulationConfig
from simulator.crowd import Agent, CrowdArrays
from simulator.queues import build_service_points
from simulator.routing import Router
from simulator.simulation import plan_for
from simulator.timetable import Timetable
from station import StationLayout


@pytest.fixture
def router(demo_layout: StationLayout) -> Router:
    config = SimulationConfig()
    plan = plan_for(demo_layout, config)
    return Router(
        plan=plan,
        config=config,
        timetable=Timetable.of(config, len(plan.edges)),
        services=build_service_points(plan, config),
        arrays=CrowdArrays(),
        floor_ids=list(plan.floors),
        rng=np.random.default_rng(0),
    )


def person(router: Router, floor_id: str, xy: tuple[float, float], legs: list[tuple], origin=None) -> Agent:
    row = router.arrays.append(np.array(xy, dtype=np.float64), 1.3, router.floor_ids.index(floor_id))
    agent = Agent(uid=row, row=row, legs=legs, origin=origin)
    router.next_leg(agent, 0.0)
    return agent


def test_a_walk_across_the_gate_line_goes_through_a_gate_queue(router: Router) -> None:
    agent = person(router, "concourse", (20.0, 15.0), [("tolink", "platform"), ("board",)])
    # First the approach to the gates on the unpaid side ...
    line = router.plan.gates[0]
    side = router.plan.gate_between("concourse", np.array([20.0, 15.0]), np.array([55.0, 15.0]))[1]
    np.testing.assert_allclose(router.arrays.target[agent.row], line.approach_m[side])
    assert [leg[0] for leg in agent.legs][:2] == ["gate", "walk"]
    # ... there, a place in one of that side's lane queues.
    router.arrays.pos[agent.row] = line.approach_m[side]
    router.next_leg(agent, 1.0)
    assert agent.mode == "queue" and agent.server in router.services.gates[(0, side)]
    assert router.arrays.queued[agent.row]


def test_people_leave_by_another_exit_than_the_one_they_came_in_by(router: Router) -> None:
    west = next(p for p in router.plan.exits if p.label == "West exit")
    for _ in range(20):
        agent = person(router, "concourse", tuple(west.point_m), [("exit",)], origin=west)
        assert not np.allclose(router.arrays.target[agent.row], west.point_m)


def test_shop_visits_stay_on_their_side_of_the_gates(router: Router) -> None:
    inside_kiosk = next(p for p in router.plan.shops if p.label == "Kiosk inside the gates")
    for _ in range(10):
        agent = person(router, "concourse", (70.0, 25.0), [("shop",), ("exit",)])
        target = router.arrays.target[agent.row]
        assert np.linalg.norm(target - inside_kiosk.point_m) <= inside_kiosk.spread_m + 1e-9
        assert agent.legs[0][0] == "dwell"


def test_passengers_wait_at_a_door_of_the_next_train(router: Router) -> None:
    agent = person(router, "platform", (30.0, 10.0), [("board",)])
    assert agent.mode == "queue" and agent.server.kind == "door"
    assert agent.server.edge_index == router.timetable.next_track(0.0)


def test_a_person_with_nothing_left_to_do_is_gone_and_an_unknown_leg_is_an_error(router: Router) -> None:
    assert person(router, "concourse", (20.0, 15.0), []).mode == "gone"
    with pytest.raises(ValueError, match="unknown leg 'fly'"):
        person(router, "concourse", (20.0, 15.0), [("fly",)])
