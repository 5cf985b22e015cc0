"""Error locations by ids (``station.errors``), on locations the bundled model does not produce today."""

import pytest
from pydantic import BaseModel, Field, ValidationError, model_validator

from station.errors import FieldError, describe, location


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
        (("calibration", "list[int]", 0), {}, "calibration[0]"),
        # Ids are looked up at every level, not only the first.
        (
            ("stations", 0, "floors", 1, "size_m"),
            {"stations": [{"id": "s1", "floors": [{"id": "a"}, {"id": "b"}]}]},
            "stations[s1].floors[b].size_m",
        ),
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


class Sample(BaseModel):
    code: str = Field(default="A1", pattern=r"^[A-Z][0-9]$")
    limit: int = 0

    @model_validator(mode="after")
    def _positive(self) -> "Sample":
        if self.limit < 0:
            raise ValueError("limit must not be negative")
        return self


def describe_of(data: dict) -> str:
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate(data)
    return describe(raised.value, data)


def test_a_pattern_other_than_the_id_keeps_pydantics_words() -> None:
    assert describe_of({"code": "a1"}) == "code: String should match pattern '^[A-Z][0-9]$', got 'a1'"


def test_an_error_of_the_whole_mapping_has_no_location_prefix() -> None:
    assert describe_of({"limit": -1}) == "limit must not be negative"
