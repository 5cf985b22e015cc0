"""A camera's dots as many as its interval counted: a one-message miss is bridged from the interval.

Zone counts are the mean over a camera's messages of the last interval (``iconizer.counting``);
the dots are the camera's latest positions. When the latest message holds fewer people than the
interval's messages hold on average, the detector has most likely missed someone in that one
message (a person hidden for a frame, a pair boxed as one): the dots then show fewer people than
the counts say, and the number of dots flickers with every miss. :func:`bridge_misses` adds the
missing people at their latest earlier position within the interval, newest message first, taking
only positions farther than ``same_person_m`` from every position already shown (a nearer one may
be a person already there, who moved).

It never removes a dot (a message with more people than the mean keeps them all: a person who
just came into view is there) and never adds more than the rounded mean asks for. It keeps
nothing itself: the earlier messages are the iconizer's, for one interval (PRIVACY.md P3).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from homography.types import FloorPositions
from iconizer.counting import rounded_mean

# An earlier position this close to one already shown may be that person: not bridged. About the
# distance a walker covers in most of a one-second interval, and wider than two people side by side.
SAME_PERSON_M = 1.0


def bridge_misses(messages: Sequence[FloorPositions], *, same_person_m: float = SAME_PERSON_M) -> FloorPositions:
    """The newest of a camera's ``messages`` (oldest first, one interval) with its one-message misses bridged.

    The target is the rounded mean (halves up) of the messages' numbers of people. While the newest
    message shows fewer, positions of the earlier messages are added, newest message first and
    within a message by confidence: each one farther than ``same_person_m`` from every position
    shown so far. Positions of one message are different people (the detector merged its own
    duplicates), so several may come from the same message.

    Args:
        messages: One camera's messages of the interval, oldest first; at least one.
        same_person_m: Distance within which an earlier position may be someone already shown, metres.

    Returns:
        The newest message, unchanged when nothing is missing, else a copy with the bridged
        positions appended (their own confidence and sigma; the newest message's time).

    Raises:
        ValueError: no message, or a distance that is not positive.
    """
    if not messages:
        raise ValueError("bridge_misses needs at least one message")
    if not same_person_m > 0:
        raise ValueError(f"same_person_m must be positive, got {same_person_m}")
    newest = messages[-1]
    total = sum(len(m.xy_m) for m in messages)
    target = int(rounded_mean([total], len(messages))[0])
    missing = target - len(newest.xy_m)
    if missing <= 0:
        return newest
    xy, confidence, sigma = [newest.xy_m], [newest.confidence], [newest.sigma_m]
    shown = np.asarray(newest.xy_m, dtype=np.float64).reshape(-1, 2)
    for back in range(len(messages) - 2, -1, -1):
        earlier = messages[back]
        candidates = np.asarray(earlier.xy_m, dtype=np.float64).reshape(-1, 2)
        if len(candidates) == 0:
            continue
        free = np.flatnonzero(_farther_than(candidates, shown, same_person_m))
        if len(free) == 0:
            continue
        order = free[np.argsort(-np.asarray(earlier.confidence)[free], kind="stable")][:missing]
        xy.append(candidates[order])
        confidence.append(np.asarray(earlier.confidence)[order])
        sigma.append(np.asarray(earlier.sigma_m)[order])
        shown = np.vstack([shown, candidates[order]])
        missing -= len(order)
        if missing == 0:
            break
    if len(xy) == 1:
        return newest
    return FloorPositions(
        newest.camera_id,
        newest.floor_id,
        newest.timestamp_s,
        np.vstack(xy),
        np.concatenate(confidence),
        np.concatenate(sigma),
    )


def _farther_than(points: np.ndarray, others: np.ndarray, distance: float) -> np.ndarray:
    """``(m,)`` True where a point of ``points (m, 2)`` is farther than ``distance`` from all ``others (k, 2)``."""
    far = np.ones(len(points), dtype=bool)
    if len(others) == 0 or len(points) == 0:
        return far
    # A spatial index of what is shown: a few hundred people stay well under a millisecond.
    near, _ = shapely.STRtree(shapely.points(others)).query(
        shapely.points(points), predicate="dwithin", distance=distance
    )
    far[near] = False
    return far
