from contextlib import nullcontext

import numpy as np
import pytest

from history.aggregate import MinuteAggregator, ZoneMinute, minute_of
from iconizer.types import CrowdingLevel, IconFrame, ZoneState
from tests.history.conftest import AGGREGATE_FIELDS


def frame(t, *zones, station="toy"):
    return IconFrame(station, "hall", t, np.zeros((0, 2)), np.zeros(0, bool), tuple(zones))


def zone(zone_id, count, density, level=0, los="A", stale=False):
    return ZoneState(zone_id, count, density, level, los, stale)


@pytest.mark.parametrize(("t", "minute"), [(0.0, 0), (59.9, 0), (60.0, 60), (1_700_000_123.4, 1_700_000_100)])
def test_minute_of(t, minute):
    assert minute_of(t) == minute


def test_minute_closes_when_next_minute_starts():
    agg = MinuteAggregator("toy")
    assert agg.add([frame(60.0, zone("a", 2, 0.2, 0, "A")), frame(90.0, zone("a", 4, 0.6, 1, "C"))]) == []
    closed = agg.add([frame(120.0, zone("a", 1, 0.1))])
    assert closed == [ZoneMinute("toy", "a", 60, 3.0, 4, (0.2 + 0.6) / 2, 0.6, CrowdingLevel.BUSY, "C", 2, 0)]
    assert [m.minute_s for m in agg.flush()] == [120]


def test_stale_samples_do_not_count_as_empty():
    agg = MinuteAggregator("toy")
    agg.add([frame(0.0, zone("a", 6, 0.6)), frame(1.0, zone("a", 0, 0.0, stale=True))])
    (minute,) = agg.flush()
    assert (minute.count_mean, minute.density_mean_per_m2, minute.live_samples, minute.stale_samples) == (6, 0.6, 1, 1)
    assert not minute.stale


def test_fully_stale_minute_is_marked_stale():
    agg = MinuteAggregator("toy")
    agg.add([frame(0.0, zone("a", 0, 0.0, stale=True))])
    (minute,) = agg.flush()
    assert minute.stale and minute.live_samples == 0


def test_dots_are_never_read():
    # A frame full of dots aggregates exactly like one with none: positions do not enter history.
    busy = IconFrame("toy", "hall", 0.0, np.ones((50, 2)), np.ones(50, bool), (zone("a", 1, 0.1),))
    empty = frame(0.0, zone("a", 1, 0.1))
    a, b = MinuteAggregator("toy"), MinuteAggregator("toy")
    a.add([busy])
    b.add([empty])
    assert a.flush() == b.flush()
    assert tuple(ZoneMinute.__dataclass_fields__) == AGGREGATE_FIELDS


@pytest.mark.parametrize(
    ("frames", "expectation"),
    [
        ([frame(0.0, zone("a", 1, 0.1))], nullcontext()),
        ([frame(0.0, zone("a", 1, 0.1), station="other")], pytest.raises(ValueError, match="station 'other'")),
        ([frame(120.0), frame(30.0)], pytest.raises(ValueError, match="before the open minute")),
    ],
)
def test_errors(frames, expectation):
    with expectation:
        MinuteAggregator("toy").add(frames)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"minute_s": 61}, "multiple of 60"),
        ({"live_samples": 0, "stale_samples": 0}, "at least one sample"),
        ({"los": "G"}, "los"),
        ({"density_mean_per_m2": float("nan")}, "density_mean_per_m2"),
    ],
)
def test_zone_minute_validation(kwargs, match):
    fields = dict(
        station_id="toy",
        zone_id="a",
        minute_s=60,
        count_mean=1.0,
        count_peak=1,
        density_mean_per_m2=0.1,
        density_peak_per_m2=0.1,
        level=0,
        los="A",
        live_samples=1,
        stale_samples=0,
    )
    with pytest.raises(ValueError, match=match):
        ZoneMinute(**(fields | kwargs))
