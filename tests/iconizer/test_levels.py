from contextlib import nullcontext

import numpy as np
import pytest

from homography.layout import parse_layout
from iconizer.levels import DEFAULT_HYSTERESIS_PER_M2, HysteresisGrade, ZoneGrader, raw_grade
from iconizer.types import CrowdingLevel

WALKWAY = (0.31, 0.43, 0.72, 1.08, 2.17)
QUEUING = (0.83, 1.08, 1.54, 3.57, 5.26)


@pytest.mark.parametrize(
    ("density", "bounds", "grade"),
    [
        (0.0, WALKWAY, 0),
        (0.31, WALKWAY, 0),  # equal to a bound stays below it
        (0.32, WALKWAY, 1),
        (1.0, WALKWAY, 3),
        (3.0, WALKWAY, 5),
        (1.0, QUEUING, 1),
        (6.0, QUEUING, 5),
    ],
)
def test_raw_grade(density, bounds, grade):
    assert raw_grade(density, bounds) == grade


@pytest.mark.parametrize(
    ("bounds", "hysteresis", "expectation"),
    [
        ((0.3, 0.6), 0.1, nullcontext()),
        ((0.3, 0.3), 0.1, pytest.raises(ValueError, match="strictly increasing")),
        ((), 0.1, pytest.raises(ValueError, match="non-empty")),
        ((0.3,), -0.1, pytest.raises(ValueError, match="hysteresis_per_m2")),
    ],
)
def test_hysteresis_validation(bounds, hysteresis, expectation):
    with expectation:
        HysteresisGrade(bounds, hysteresis)


def test_steady_crowd_inside_band_never_changes_level():
    grade = HysteresisGrade(WALKWAY, 0.1)
    rng = np.random.default_rng(0)
    # A steady crowd around the C/D bound (0.72), wandering anywhere inside the +-0.05 band.
    densities = 0.72 + rng.uniform(-0.0499, 0.0499, size=2000)
    grades = {grade.update(d) for d in densities}
    assert len(grades) == 1


def test_same_crowd_without_hysteresis_flickers():
    grade = HysteresisGrade(WALKWAY, 0.0)
    densities = 0.72 + np.random.default_rng(0).uniform(-0.0499, 0.0499, size=2000)
    changes = np.count_nonzero(np.diff([grade.update(d) for d in densities]))
    assert changes > 100


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ([0.70, 0.76, 0.78, 0.68, 0.66], [2, 2, 3, 3, 2]),  # rises above 0.77, falls below 0.67
        ([0.80, 0.70, 0.68, 0.74], [3, 3, 3, 3]),
        ([0.0, 1.5, 0.0], [0, 4, 0]),  # big jumps cross several bounds at once
        ([0.72, 0.72], [2, 2]),
    ],
)
def test_hysteresis_transitions(sequence, expected):
    grade = HysteresisGrade(WALKWAY, 0.1)
    assert [grade.update(d) for d in sequence] == expected


def test_reset_takes_plain_grade_again():
    grade = HysteresisGrade(WALKWAY, 0.1)
    grade.update(0.80)
    assert grade.update(0.70) == 3
    grade.reset()
    assert grade.update(0.70) == 2


def _zone(**thresholds):
    mapping = {
        "format_version": 1,
        "station": {"id": "s", "name": {"ja": "駅", "en": "S"}},
        "notice": {k: {"ja": "x", "en": "x"} for k in ("operator", "purpose", "captured", "retention", "contact")},
        "floors": [
            {
                "id": "f",
                "name": {"ja": "f", "en": "f"},
                "size_m": [10, 10],
                "walkable_m": [[[0, 0], [10, 0], [10, 10], [0, 10]]],
            }
        ],
        "zones": [
            {
                "id": "z",
                "floor": "f",
                "name": {"ja": "z", "en": "z"},
                "kind": thresholds.pop("kind", "walkway"),
                "polygon_m": [[0, 0], [10, 0], [10, 10], [0, 10]],
                "thresholds": thresholds,
            }
        ],
    }
    return parse_layout(mapping).zones[0]


@pytest.mark.parametrize(
    ("zone_args", "density", "level", "los"),
    [
        ({}, 0.2, CrowdingLevel.QUIET, "A"),
        ({}, 0.5, CrowdingLevel.BUSY, "C"),
        ({}, 0.9, CrowdingLevel.CROWDED, "D"),
        ({}, 1.5, CrowdingLevel.VERY_CROWDED, "E"),
        ({"kind": "queuing"}, 1.5, CrowdingLevel.BUSY, "C"),
        ({"kind": "queuing"}, 0.5, CrowdingLevel.QUIET, "A"),
        ({"public_per_m2": [0.1, 0.2, 0.3]}, 0.25, CrowdingLevel.CROWDED, "A"),
        ({"los_per_m2": [1, 2, 3, 4, 5]}, 2.5, CrowdingLevel.BUSY, "C"),
    ],
)
def test_zone_grader_kind_and_overrides(zone_args, density, level, los):
    assert ZoneGrader.for_zone(_zone(**zone_args)).update(density) == (level, los)


@pytest.mark.parametrize(("zone_args", "band"), [({}, DEFAULT_HYSTERESIS_PER_M2), ({"hysteresis_per_m2": 0.2}, 0.2)])
def test_zone_grader_hysteresis_override(zone_args, band):
    grader = ZoneGrader.for_zone(_zone(**zone_args))
    assert grader.public.hysteresis_per_m2 == band
    assert grader.los.hysteresis_per_m2 == band
