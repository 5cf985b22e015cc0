from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from history.usual import Usual, past_week_slots, usual_from_weeks


def test_slots_are_same_local_weekday_and_time():
    at = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # a Monday, 08:00
    slots = past_week_slots(at.timestamp(), weeks=3, slot_s=600, timezone="Asia/Tokyo")
    for k, (start, end) in enumerate(slots, start=1):
        centre = datetime.fromtimestamp((start + end) / 2, ZoneInfo("Asia/Tokyo"))
        assert (centre.weekday(), centre.hour, centre.minute) == (0, 8, 0)
        assert (at - centre).days == 7 * k
        assert end - start == 600


def test_slots_keep_wall_clock_across_dst():
    at = datetime(2026, 10, 29, 8, 0, tzinfo=ZoneInfo("Europe/London"))  # clocks went back on 25 Oct
    ((start, end),) = past_week_slots(at.timestamp(), weeks=1, slot_s=60, timezone="Europe/London")
    centre = datetime.fromtimestamp((start + end) / 2, ZoneInfo("Europe/London"))
    assert (centre.hour, centre.minute) == (8, 0)
    assert at.timestamp() - (start + end) / 2 == 7 * 86400 + 3600


@pytest.mark.parametrize(
    ("per_week", "expected"),
    [([], None), ([(0.2, 4.0)], Usual(0.2, 4.0, 1)), ([(0.1, 1.0), (0.9, 9.0), (0.3, 3.0)], Usual(0.3, 3.0, 3))],
)
def test_median_of_weeks(per_week, expected):
    assert usual_from_weeks(per_week) == expected
