"""How people move: the push between people, walls they slide along, the pull to the target."""

import numpy as np
import shapely

from simulator import forces
from simulator.crowd import CrowdArrays
from simulator.grid import FloorGrid, FlowFields
from simulator.plan import FloorPlan

ROOM = shapely.box(0.0, 0.0, 10.0, 6.0)


def room_plan() -> FloorPlan:
    targets = np.array([[9.0, 3.0]])
    return FloorPlan(
        floor_id="room",
        area=ROOM,
        grid=FloorGrid.build(area=ROOM, size_m=(10.0, 6.0)),
        fields=FlowFields.build(area=ROOM, size_m=(10.0, 6.0), targets_m=targets),
        field_targets_m=targets,
    )


def test_two_people_close_together_push_each_other_apart() -> None:
    pos = np.array([[0.0, 0.0], [0.4, 0.0]])
    heading = np.array([[0.0, 1.0], [0.0, 1.0]])
    push = forces.social_force(pos, heading, pos)
    assert push[0, 0] < 0 < push[1, 0]
    np.testing.assert_allclose(push[0], -push[1])
    np.testing.assert_allclose(push[:, 1], 0.0, atol=1e-12)


def test_nobody_is_pushed_by_people_out_of_range_or_by_themselves() -> None:
    me = np.array([[0.0, 0.0]])
    heading = np.array([[1.0, 0.0]])
    np.testing.assert_array_equal(forces.social_force(me, heading, me), 0.0)
    far = np.array([[forces.INTERACTION_RANGE_M + 0.01, 0.0]])
    np.testing.assert_array_equal(forces.social_force(me, heading, far), 0.0)


def test_people_react_less_to_those_behind_them() -> None:
    me = np.array([[0.0, 0.0]])
    heading = np.array([[1.0, 0.0]])
    ahead = forces.social_force(me, heading, np.array([[0.5, 0.0]]))
    behind = forces.social_force(me, heading, np.array([[-0.5, 0.0]]))
    assert np.linalg.norm(behind) == np.linalg.norm(ahead) * forces.BEHIND_WEIGHT


def test_a_step_into_a_wall_slides_along_it() -> None:
    grid = FloorGrid.build(area=ROOM, size_m=(10.0, 6.0))
    pos = np.array([[5.0, 0.05], [5.0, 3.0]])
    vel = np.array([[1.0, -1.0], [1.0, 0.0]])
    new_pos, new_vel = forces.collide(grid, pos, vel, 0.2)
    np.testing.assert_allclose(new_pos, [[5.2, 0.05], [5.2, 3.0]])
    np.testing.assert_allclose(new_vel, [[1.0, 0.0], [1.0, 0.0]])


def test_a_lone_walker_reaches_their_target_at_their_own_speed() -> None:
    plan = room_plan()
    arrays = CrowdArrays()
    row = arrays.append(np.array([1.0, 3.0]), 1.3, 0)
    arrays.target[row] = [9.0, 3.0]
    arrays.field_id[row] = 0
    for _ in range(25):
        forces.move_floor(arrays, np.array([row]), plan, 0.2)
    assert abs(np.linalg.norm(arrays.vel[row]) - 1.3) < 0.05
    assert 5.5 < arrays.pos[row, 0] < 7.5
    assert abs(arrays.pos[row, 1] - 3.0) < 0.1


def test_people_settled_in_a_queue_hold_their_place_when_others_crowd_them() -> None:
    plan = room_plan()
    arrays = CrowdArrays()
    standing = arrays.append(np.array([5.0, 3.0]), 1.3, 0)
    arrays.queued[standing] = True
    crowding = arrays.append(np.array([5.3, 3.0]), 1.3, 0)
    arrays.target[crowding] = [5.3, 3.0]
    forces.move_floor(arrays, np.array([standing, crowding]), plan, 0.2)
    np.testing.assert_allclose(arrays.pos[standing], [5.0, 3.0])
    assert arrays.pos[crowding, 0] > 5.3
