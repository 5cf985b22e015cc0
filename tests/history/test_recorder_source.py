import numpy as np
import pytest

from history.recorder import HistoryRecorder
from history.source import StoreHistorySource
from history.store import open_store
from iconizer.types import IconFrame, ZoneState
from station import load_layout

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


def test_source_passes_series_and_takes_usual_in_station_time(tmp_path):
    import io
    from datetime import datetime
    from zoneinfo import ZoneInfo

    store = open_store(str(tmp_path / "h.db"))
    new_york = ZoneInfo("America/New_York")
    at = datetime(2026, 11, 9, 8, 0, tzinfo=new_york).timestamp()  # Monday 08:00 in New York
    # The three Mondays before at 08:00 New York time; clocks went back on 1 November in between.
    for week, day in ((3, datetime(2026, 10, 19)), (2, datetime(2026, 10, 26)), (1, datetime(2026, 11, 2))):
        store.record(frames_at(day.replace(hour=8, tzinfo=new_york).timestamp(), density=0.1 * week))
        store.flush()
    store.record(frames_at(at))
    store.flush()
    source = StoreHistorySource(store, timezone="America/New_York")
    (row,) = source.series("pets2009", "lawn", at // 60 * 60, at + 60)
    assert (row.zone_id, row.density_mean_per_m2, row.live_samples) == ("lawn", 0.1, 1)
    usual = source.usual("pets2009", "lawn", at)
    assert (usual.density_per_m2, usual.weeks) == (pytest.approx(0.2), 3)
    assert source.usual("pets2009", "nowhere", at) is None
    # Counted in a time zone without that DST change, the October Mondays are an hour off: missed.
    assert StoreHistorySource(store, timezone="Asia/Tokyo").usual("pets2009", "lawn", at).weeks == 1
    out = io.StringIO()
    assert source.export_csv(out, "pets2009", at - 60, at + 60, "lawn") == 1


def test_source_satisfies_the_web_tier_protocol():
    from webmap.history import HistorySource, minute_row, usual_density

    store = open_store("sqlite:///:memory:")
    source: HistorySource = StoreHistorySource(store)
    store.record(frames_at(T0))
    store.flush()
    assert minute_row(source.series("pets2009", "lawn", T0, T0 + 60)[0])["mean_density_per_m2"] == 0.1
    assert usual_density(source, "pets2009", "lawn", T0) is None  # no past weeks


def test_one_web_process_reads_each_station_from_its_own_store(tmp_path):
    import io

    from history.source import StationHistories

    pets = open_store(str(tmp_path / "history-pets2009.db"))
    pets.record(frames_at(T0, density=0.3))
    pets.record(frames_at(T0 + 61))
    other = open_store(str(tmp_path / "history-other.db"))
    histories = StationHistories({"pets2009": StoreHistorySource(pets), "other": StoreHistorySource(other)})
    (row,) = histories.series("pets2009", "lawn", T0 - 60, T0 + 60)
    assert row.density_mean_per_m2 == pytest.approx(0.3)
    # Another station's store holds none of these minutes, and a station without a store has none.
    assert histories.series("other", "lawn", T0 - 60, T0 + 60) == []
    assert histories.series("nowhere", "lawn", T0 - 60, T0 + 60) == []
    assert histories.usual("nowhere", "lawn", T0) is None
    out = io.StringIO()
    assert histories.export_csv(out, "pets2009", T0 - 60, T0 + 60) == 3
    assert histories.export_csv(io.StringIO(), "nowhere", T0 - 60, T0 + 60) == 0
