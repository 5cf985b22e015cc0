"""How simulated people move: a social-force model on a fixed step, with walls they slide along.

A pull towards each person's target (along a floor's flow field while far from it), a push from
people nearby (weaker from those behind), a push from walls, and steps into a wall cut down to
the component that stays clear. Pure numpy over the crowd's arrays; no randomness.
"""

from __future__ import annotations

import numpy as np

from simulator.crowd import CrowdArrays
from simulator.grid import FloorGrid
from simulator.plan import FloorPlan

# Social force: strength (m/s2) and range (m) of the push between people, their body radius.
PUSH_MPS2 = 2.0
PUSH_RANGE_M = 0.3
BODY_RADIUS_M = 0.25
# People react less to those behind them (0 = not at all, 1 = as much as to those in front).
BEHIND_WEIGHT = 0.4
INTERACTION_RANGE_M = 2.0
WALL_PUSH_MPS2 = 3.0
WALL_RANGE_M = 0.2
# Time to reach the desired velocity.
RELAX_S = 0.5
# Closer than this, people steer straight at their target instead of along the flow field.
DIRECT_RADIUS_M = 2.5
# People slow down within this distance of where they want to stand.
SLOW_RADIUS_M = 0.8
MAX_SPEED_FACTOR = 1.3
# Queue members this close to their place in the queue stand in it.
SETTLE_RADIUS_M = 1.0


def move_floor(arrays: CrowdArrays, rows: np.ndarray, plan: FloorPlan, dt: float) -> None:
    """Advance the people at ``rows`` (all on the floor of ``plan``) by one step of ``dt`` seconds.

    People walking through a gate lane (``ghost``) go straight at their target, pushing and
    pushed by nobody; people standing in their place in a queue hold it (the crowd flows round
    them) and shuffle forward when it moves; everyone else feels the pull, the crowd and the walls.
    """
    pos, vel, speed = arrays.pos[rows], arrays.vel[rows], arrays.speed[rows]
    to_target = arrays.target[rows] - pos
    distance = np.sqrt(np.einsum("ij,ij->i", to_target, to_target))
    heading = to_target / np.maximum(distance, 1e-9)[:, None]
    field_ids = arrays.field_id[rows]
    far = (field_ids >= 0) & (distance > DIRECT_RADIUS_M)
    if np.any(far):
        along, remaining = plan.fields.direction(field_ids=field_ids[far], points_m=pos[far])
        # Near the field's own target (a queue's approach, say) the real target may lie
        # elsewhere: from there on, straight at it.
        usable = (np.einsum("ij,ij->i", along, along) > 0.25) & (remaining > DIRECT_RADIUS_M)
        heading[np.flatnonzero(far)[usable]] = along[usable]
    desired = heading * (speed * np.clip(distance / SLOW_RADIUS_M, 0.0, 1.0))[:, None]
    ghost = arrays.ghost[rows]
    settled = arrays.queued[rows] & (distance < SETTLE_RADIUS_M)
    free = ~ghost & ~settled
    new_vel = desired.copy()
    if np.any(free):
        force = (desired[free] - vel[free]) / RELAX_S
        force += social_force(pos[free], heading[free], pos[~ghost])
        wall_distance, away = plan.grid.wall(pos[free])
        force += away * (WALL_PUSH_MPS2 * np.exp((BODY_RADIUS_M - wall_distance) / WALL_RANGE_M))[:, None]
        moved = vel[free] + force * dt
        norm = np.sqrt(np.einsum("ij,ij->i", moved, moved))
        limit = speed[free] * MAX_SPEED_FACTOR
        new_vel[free] = moved * np.minimum(1.0, limit / np.maximum(norm, 1e-9))[:, None]
    if np.any(settled):
        new_vel[settled] = (
            to_target[settled]
            * np.minimum(1.0 / RELAX_S, speed[settled] / np.maximum(distance[settled], 1e-9))[:, None]
        )
    arrays.pos[rows], arrays.vel[rows] = collide(plan.grid, pos, new_vel, dt)


def social_force(pos: np.ndarray, heading: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Push ``(m, 2)`` on people at ``pos`` ``(m, 2)`` heading ``(m, 2)`` from people at ``others`` ``(n, 2)``.

    Anyone at exactly the same spot (oneself) is skipped.
    """
    dx = pos[:, 0:1] - others[None, :, 0]
    dy = pos[:, 1:2] - others[None, :, 1]
    distance = np.sqrt(dx * dx + dy * dy)
    near = (distance < INTERACTION_RANGE_M) & (distance > 1e-9)
    if not np.any(near):
        return np.zeros_like(pos)
    rows, cols = np.nonzero(near)
    d = distance[rows, cols]
    nx, ny = dx[rows, cols] / d, dy[rows, cols] / d
    # Cosine of the angle between my heading and the direction to the other person.
    facing = -(nx * heading[rows, 0] + ny * heading[rows, 1])
    weight = BEHIND_WEIGHT + (1.0 - BEHIND_WEIGHT) * (1.0 + facing) / 2.0
    magnitude = PUSH_MPS2 * np.exp((2 * BODY_RADIUS_M - d) / PUSH_RANGE_M) * weight
    force = np.zeros_like(pos)
    np.add.at(force[:, 0], rows, magnitude * nx)
    np.add.at(force[:, 1], rows, magnitude * ny)
    return force


def collide(grid: FloorGrid, pos: np.ndarray, vel: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Move, sliding along walls: a step into a wall keeps only the component that stays clear."""
    proposed = pos + vel * dt
    ok = grid.is_walkable(proposed)
    if ok.all():
        return proposed, vel
    bad = np.flatnonzero(~ok)
    only_x = np.column_stack((proposed[bad, 0], pos[bad, 1]))
    only_y = np.column_stack((pos[bad, 0], proposed[bad, 1]))
    x_ok, y_ok = grid.is_walkable(only_x), grid.is_walkable(only_y)
    new_pos, new_vel = proposed.copy(), vel.copy()
    new_pos[bad] = np.where(x_ok[:, None], only_x, np.where(y_ok[:, None], only_y, pos[bad]))
    new_vel[bad] = np.where(x_ok[:, None], vel[bad] * [1.0, 0.0], np.where(y_ok[:, None], vel[bad] * [0.0, 1.0], 0.0))
    return new_pos, new_vel
