import pytest

from webmap.trend import RecentTrend


def test_trend_aggregates_per_minute_and_forgets_old_minutes(wm):
    trend = RecentTrend(minutes=2)
    for t, density in [(0, 0.2), (30, 0.4), (60, 1.0), (130, 0.5)]:
        trend.update([wm.make_zone("z", 1, density), wm.make_zone("s", 0, 9.0, stale=True)], float(t))
    series = trend.series("z")
    assert [m.minute_start for m in series] == [60.0, 120.0]
    assert series[0].mean_density_per_m2 == pytest.approx(1.0)
    assert trend.series("s") == [], "stale zones add nothing"


def test_trend_means(wm):
    trend = RecentTrend()
    trend.update([wm.make_zone("z", 1, 0.2, count=2)], 0.0)
    trend.update([wm.make_zone("z", 2, 0.6, count=4)], 10.0)
    [minute] = trend.series("z")
    assert (minute.mean_density_per_m2, minute.peak_density_per_m2, minute.peak_level, minute.frames) == (
        pytest.approx(0.4),
        0.6,
        2,
        2,
    )
