"""Station checks as the web tier reads them: plain data in, clear errors for malformed data."""

import pytest

from webmap.checks import CameraCheck, CheckError, StationCheck, check_from_dict, checks_by_station

GOOD = StationCheck(
    "demo-station",
    1_795_000_000.0,
    (
        CameraCheck(
            "a",
            "concourse",
            "point_pairs",
            6,
            0.05,
            0.09,
            0.12,
            0.5,
            800.0,
            None,
            (41.0, 131.0),
            True,
            "people 41-131 px",
        ),
        CameraCheck("b", "concourse", "point_pairs", 3, None, None, None, 0.5, None, "need at least 4 point pairs"),
    ),
    {"concourse": [[[[0.0, 0.0], [10.0, 0.0], [10.0, 5.0]]]]},
)


def test_round_trip():
    assert check_from_dict(GOOD.to_dict()) == GOOD
    assert not GOOD.ok
    assert check_from_dict({**GOOD.to_dict(), "cameras": GOOD.to_dict()["cameras"][:1]}).ok


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"station": 3}, r"station: expected text"),
        ({"checked_at": "noon"}, r"checked_at: expected a finite number"),
        ({"cameras": [{"camera": "a"}]}, r"cameras\[0\].floor: expected text"),
        ({"covered_m": {"concourse": [[[[0, 0], [1, 1]]]]}}, r"covered_m.concourse\[0\]\[0\]: a ring needs 3"),
        ({"covered_m": {"concourse": [[[[0, 0], [1, 1], [2]]]]}}, r"a point must be \[x_m, y_m\]"),
        ({"covered_m": {"concourse": [[[[0, 0], [1, 1], [2, float("nan")]]]]}}, "finite number"),
        ({"covered_m": []}, "covered_m: expected a mapping"),
        ({"cameras": [{**GOOD.to_dict()["cameras"][0], "detector_in_range": "yes"}]}, r"detector_in_range: expected"),
        ({"cameras": [{**GOOD.to_dict()["cameras"][0], "person_height_px": [41]}]}, r"person_height_px: expected"),
        ({"cameras": [{**GOOD.to_dict()["cameras"][0], "detector_summary": 7}]}, r"detector_summary: expected text"),
    ],
)
def test_malformed_checks_name_the_field(change, message):
    with pytest.raises(CheckError, match=message):
        check_from_dict({**GOOD.to_dict(), **change})


def test_checks_by_station_refuses_duplicates():
    assert checks_by_station([GOOD]) == {"demo-station": GOOD}
    with pytest.raises(ValueError, match="checked twice"):
        checks_by_station([GOOD, GOOD])
