"""The public "busier than usual" rule, decided once on the server (the map compares with its threshold)."""

import pytest

from webmap.history import MIN_USUAL_WEEKS, busier_from, usual_density


class Source:
    """A history source that knows one usual value."""

    def __init__(self, density_per_m2: float, weeks: int) -> None:
        self.density_per_m2, self.weeks, self.count = density_per_m2, weeks, 1.0

    def usual(self, station_id, zone_id, at_s):
        return self


@pytest.mark.parametrize(
    ("density", "usual", "weeks", "busier"),
    [
        (0.8, 0.4, 4, True),
        (0.45, 0.4, 4, False),  # not 30 % more
        (0.02, 0.01, 4, False),  # doubled but still nearly empty
        (0.11, 0.01, 4, True),  # 0.1 more and far above the ratio
        (0.8, 0.4, 1, False),  # one week is not "usual"
    ],
)
def test_busier_than_usual(density, usual, weeks, busier):
    threshold = busier_from(usual_density(Source(usual, weeks), "s", "z", 0.0))
    assert (threshold is not None and density >= threshold) is busier


def test_no_history_means_no_hint():
    assert usual_density(None, "s", "z", 0.0) is None
    assert busier_from(None) is None
    assert MIN_USUAL_WEEKS == 2
