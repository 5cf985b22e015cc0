from contextlib import nullcontext

import numpy as np
import pytest

from iconizer.levels import DEFAULT_HYSTERESIS_PER_M2, FloorGrader, HysteresisGrades, raw_grades
from iconizer.types import CrowdingLevel
from station import NOTICE_TEXT_FIELDS, parse_layout

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
def test_raw_grades(density, bounds, grade):
    assert raw_grades([density], bounds).tolist() == [grade]


@pytest.mark.parametrize(
    ("bounds", "hysteresis", "expectation"),
    [
        ([(0.3, 0.6)], [0.1], nullcontext()),
        ([(0.3, 0.3)], [0.1], pytest.raises(ValueError, match="strictly increasing")),
        ([()], [0.1], pytest.raises(ValueError, match="non-empty")),
        ([(0.3,)], [-0.1], pytest.raises(ValueError, match="hysteresis_per_m2")),
        ([(0.3,), (0.4,)], [0.1], pytest.raises(ValueError, match="shape")),
    ],
)
def test_hysteresis_validation(bounds, hysteresis, expectation):
    with expectation:
        HysteresisGrades(bounds, hysteresis)


def test_steady_crowd_inside_band_never_changes_level():
    grades = HysteresisGrades([WALKWAY, QUEUING], [0.1, 0.1])
    rng = np.random.default_rng(0)
    # Steady crowds around the C/D bounds (0.72, 1.54), wandering anywhere inside the +-0.05 band.
    densities = np.array([0.72, 1.54]) + rng.uniform(-0.0499, 0.0499, size=(2000, 2))
    seen = {tuple(grades.update(d).tolist()) for d in densities}
    assert len(seen) == 1


def test_same_crowd_without_hysteresis_flickers():
    grades = HysteresisGrades([WALKWAY], [0.0])
    densities = 0.72 + np.random.default_rng(0).uniform(-0.0499, 0.0499, size=2000)
    changes = np.count_nonzero(np.diff([grades.update([d])[0] for d in densities]))
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
    grades = HysteresisGrades([WALKWAY], [0.1])
    assert [int(grades.update([d])[0]) for d in sequence] == expected


def test_reset_and_invalid_take_plain_grade_again():
    grades = HysteresisGrades([WALKWAY, WALKWAY], [0.1, 0.1])
    grades.update([0.80, 0.80])
    assert grades.update([0.70, 0.70]).tolist() == [3, 3]
    assert grades.update([0.70, 0.70], valid=[True, False]).tolist() == [3, 0]  # stale zone: forgotten
    assert grades.update([0.70, 0.70]).tolist() == [3, 2]
    grades.reset()
    assert grades.update([0.70, 0.70]).tolist() == [2, 2]


def _zone(**thresholds):
    mapping = {
        "format_version": 1,
        "station": {"id": "s", "name": {"ja": "駅", "en": "S"}},
        "notice": {
            **{k: {"ja": "x", "en": "x"} for k in NOTICE_TEXT_FIELDS},
            "contact_details": {"phone": "+81 3 0000 0000"},
        },
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
def test_floor_grader_kind_and_overrides(zone_args, density, level, los):
    levels, letters = FloorGrader.for_zones([_zone(**zone_args)]).update([density])
    assert (CrowdingLevel(levels[0]), letters[0]) == (level, los)


@pytest.mark.parametrize(("zone_args", "band"), [({}, DEFAULT_HYSTERESIS_PER_M2), ({"hysteresis_per_m2": 0.2}, 0.2)])
def test_floor_grader_hysteresis_override(zone_args, band):
    grader = FloorGrader.for_zones([_zone(**zone_args)])
    assert grader.public.hysteresis_per_m2.tolist() == [band]
    assert grader.los.hysteresis_per_m2.tolist() == [band]


def test_floor_without_zones():
    levels, letters = FloorGrader.for_zones([]).update(np.zeros(0))
    assert levels.shape == (0,) and letters == []
