"""How much of a person stands in a zone: a body's footprint on the floor, not a point.

A foot point says where a person stands to within a few pixels; a person covers about half a
metre of floor. Counting the point alone puts someone standing on the line between two zones
wholly in one of them, and a few pixels of detection scatter flip them to the other and back
(docs/BENCHMARKS.md, "Zone counts from body footprints"). Here each person is a disc of floor with
the area of Fruin's body ellipse, and a zone counts the share of that disc inside it: a half for
someone astride a straight edge, all of it for someone wholly inside. The disc is represented by
:data:`FOOTPRINT_SAMPLES` points of equal area, so a share is a count of points, whatever the
zone's shape (corners, walls meeting zone edges, obstacles): the shares of one person over
abutting zones add up to one. A zone's count is still a number of persons, and the public count
is that, averaged over the interval and rounded (``iconizer.counting``).

Pure functions over numpy arrays.
"""

from __future__ import annotations

import math

import numpy as np

# Fruin's body ellipse (Pedestrian Planning and Design, 1971): 0.46 m shoulder breadth by 0.61 m
# body depth, 0.22 m2. The disc of the same area has this radius. A property of people, not of a
# camera or a station: the same on every floor.
BODY_RADIUS_M = math.sqrt(0.46 * 0.61 / 4.0)

# Points standing for the disc: shares come in 1/32 steps and within 0.08 of the exact area
# (64 points: 0.05, for twice the cost near edges).
FOOTPRINT_SAMPLES = 32

_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))


def footprint_offsets_m(radius_m: float, samples: int = FOOTPRINT_SAMPLES) -> np.ndarray:
    """``(samples, 2)`` offsets from a person's position that cover a disc of ``radius_m`` evenly.

    A sunflower (Vogel) spiral: point ``i`` at radius ``radius_m * sqrt((i + 0.5) / samples)`` and
    angle ``i`` golden angles, so each point stands for the same area. With the default 32, the
    share of points on one side of any straight edge across the disc is within 0.08 of the exact
    share of its area (tests/iconizer/test_footprint.py).

    Raises:
        ValueError: a radius that is not finite and positive, or fewer than one sample.
    """
    if not (math.isfinite(radius_m) and radius_m > 0):
        raise ValueError(f"radius_m must be finite and positive, got {radius_m}")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    i = np.arange(samples)
    r = radius_m * np.sqrt((i + 0.5) / samples)
    angle = i * _GOLDEN_ANGLE
    return np.column_stack([r * np.cos(angle), r * np.sin(angle)])
