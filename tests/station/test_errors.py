"""Error locations by ids (``station.errors``), on locations the bundled model does not produce today."""

import pytest

from station.errors import FieldError, location


@pytest.mark.parametrize(
    ("loc", "data", "expected"),
    [
        (("floors", 0, "size_m"), {"floors": [{"id": "concourse"}]}, "floors[concourse].size_m"),
        (("floors", 1, "size_m"), {"floors": [{"id": "a"}, {"name": "no id"}]}, "floors[1].size_m"),
        (("floors", 0, "size_m"), {"floors": [{"id": 7}]}, "floors[0].size_m"),  # not an id: the index
        (("floors", 0, "size_m"), {"floors": [{"id": ""}]}, "floors[0].size_m"),
        (("floors", 3), {"floors": []}, "floors[3]"),  # an index beyond the data
        (
            ("zones", 0, "polygon_m", 2, 1),
            {"zones": [{"id": "west", "polygon_m": [[0, 0]]}]},
            "zones[west].polygon_m[2][1]",
        ),
        # A union member's type name is pydantic's, not a place in the file.
        (("publishing", "function-after[_check(), float]", "x"), {}, "publishing.x"),
        (("calibration", "tuple[float, float]", 0), {}, "calibration[0]"),
        ((), {}, ""),
    ],
)
def test_a_location_names_list_items_by_id(loc: tuple, data: dict, expected: str) -> None:
    assert location(loc, data) == expected


def test_a_field_error_keeps_its_path_and_message_apart() -> None:
    error = FieldError("walkable_m[0]", "extends beyond the plan")
    assert (error.path, error.message, str(error)) == (
        "walkable_m[0]",
        "extends beyond the plan",
        "walkable_m[0]: extends beyond the plan",
    )
