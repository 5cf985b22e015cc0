import numpy as np
import pytest

from history.recorder import HistoryRecorder
from history.source import StoreHistorySource
from history.store import open_store
from homography.layout import load_layout
from iconizer.types import IconFrame, ZoneState

DAY = 86400
T0 = 1_795_000_020


@pytest.fixture
def layout():
    return load_layout("station_layouts/pets2009")


def frames_at(t, density=0.1, station="pets2009"):
    zones = tuple(ZoneState(z, 3, density, 0, "A", False) for z in ("lawn", "road", "forecourt"))
    return [IconFrame(station, "ground", t, np.zeros((0, 2)), np.zeros(0, bool), zones)]


def test_recorder_stores_and_purges_by_frame_time(layout, tmp_path):
    store = open_store(str(tmp_path / "h.db"))
    recorder = HistoryRecorder(layout, store)
    recorder.record(frames_at(T0))
    recorder.record(frames_at(T0 + 61))
    assert len(store.series("pets2009", "lawn", T0, T0 + 60)) == 1
    recorder.record(frames_at(T0 + 91 * DAY))  # the retention (90 days) has passed for minute T0
    assert store.series("pets2009", "lawn", T0, T0 + 60) == []
    assert recorder.purged_rows == 6  # minutes T0 and T0 + 60, three zones each
    recorder.close()


def test_recorder_refuses_other_station(layout, tmp_path):
    recorder = HistoryRecorder(layout, open_store(str(tmp_path / "h.db")))
    with pytest.raises(ValueError, match="station 'elsewhere'"):
        recorder.record(frames_at(T0, station="elsewhere"))


def test_source_rows_and_usual(tmp_path):
    store = open_store(str(tmp_path / "h.db"))
    for week in (3, 2, 1):  # in time order
        store.record(frames_at(T0 - week * 7 * DAY, density=0.1 * week))
        store.flush()
    store.record(frames_at(T0))
    store.flush()
    source = StoreHistorySource(store)
    (row,) = source.series("pets2009", "lawn", T0, T0 + 60)
    assert row == {
        "minute_start": T0,
        "zone": "lawn",
        "mean_count": 3.0,
        "mean_density_per_m2": 0.1,
        "peak_density_per_m2": 0.1,
        "peak_level": 0,
        "peak_count": 3,
        "los": "A",
        "stale": False,
    }
    assert source.usual("pets2009", "lawn", T0) == pytest.approx(0.2)
    assert source.usual("pets2009", "nowhere", T0) is None
