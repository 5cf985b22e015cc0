"""The real pipeline on the first 100 frames of PETS2009 S2L1, from video file to a Socket.IO client.

Video -> detector (the default backend, scene hints from the calibration) -> foot points -> homography -> bus codec ->
aggregator (fusion, iconizer) -> bus codec -> web hub -> /public namespace. Only the clock is
the video's: one frame is a tenth of a second, one published frame per second of video. The dots
the client receives are matched one to one with the ground truth's people on the floor.
"""

from pathlib import Path

import numpy as np
import pytest
import shapely

from bus.codec import PositionsMessage, decode_message
from crowdmap.observers import make_observer_factory
from crowdmap.station import load_station
from crowdmap.tiers.aggregate import Aggregator
from crowdmap.tiers.edge import build_worker
from crowdmap.wiring import build_iconizer
from detector.evaluation import foot_points, load_mot_boxes
from homography.projection import to_floor
from iconizer.evaluation import DOT_MATCH_RADIUS_M, match_dots
from webmap import WebSettings, create_app, hub_of

ROOT = Path(__file__).resolve().parents[2]
PETS_VIDEO = ROOT.parent / "shared" / "data" / "pets2009_s2l1" / "vtest.avi"
PETS_GT = PETS_VIDEO.parent / "ground_truth" / "gt_full_mot_dev.txt"
FRAMES = 100
FRAME_S = 0.1

pytestmark = pytest.mark.slow


def test_pets_video_to_public_socketio_client(tmp_path: Path, make_publisher, model_root, monkeypatch) -> None:
    monkeypatch.setenv("CROWDMAP_MODEL_DIR", str(model_root))
    station = load_station(str(ROOT / "station_layouts" / "pets2009"))
    layout = station.layout
    clock = [1_700_000_000.0]

    edge_out = make_publisher()
    factory = make_observer_factory({"video": str(PETS_VIDEO), "realtime": False})
    worker = build_worker(layout, "view-001", station.calibrations["view-001"], edge_out, factory)
    worker.clock = lambda: clock[0]

    web_in = make_publisher()
    aggregator = Aggregator(layout, build_iconizer(station, seed=0), web_in, clock=lambda: clock[0])

    app, sio = create_app(
        WebSettings(data_dir=tmp_path, async_mode="threading"), layouts=[layout], clock=lambda: clock[0]
    )
    hub = hub_of(app)
    client = sio.test_client(app, namespace="/public")
    client.emit("join", {"station": "pets2009"}, namespace="/public")
    client.get_received("/public")

    sent_positions = []  # every positions message the edge sent, as the aggregator decoded it
    sent_before_tick = []  # how many of them the aggregator had at each tick
    for frame in range(FRAMES):
        clock[0] += FRAME_S
        worker.step()
        if frame % 10 == 0:
            worker.report()
        for raw in edge_out.sent:
            aggregator.handle(raw)
            message = decode_message(raw)
            if isinstance(message, PositionsMessage):
                sent_positions.append(message.positions)
        edge_out.sent.clear()
        if frame % 10 == 9:
            sent_before_tick.append(len(sent_positions))
            aggregator.tick(clock[0])
            for raw in web_in.sent:
                assert hub.receive(raw)
            web_in.sent.clear()
    worker.observer.close()

    assert worker.frames_seen == FRAMES
    assert aggregator.rejected == {}
    events = [e for e in client.get_received("/public") if e["name"] == "crowding"]
    assert len(events) == FRAMES // 10
    width_m, height_m = layout.floors[0].size_m
    cell_m = layout.publishing.coarsen_m
    zones = {zone.id: zone.polygon for zone in layout.zones}
    truth = load_mot_boxes(PETS_GT)
    calib = station.calibrations["view-001"]
    dots_seen = true_people = matched = 0
    for tick, event in enumerate(events):
        (payload,) = event["args"]
        (floor,) = payload["floors"]
        # The messages of the tick's interval: the last frame_interval_s of the camera's own clock.
        received = sent_positions[: sent_before_tick[tick]]
        newest_s = received[-1].timestamp_s
        interval = [p.xy_m for p in received if p.timestamp_s > newest_s - layout.publishing.frame_interval_s]
        # Read in order, the recording stamps frames with its own time: a second is ten frames
        # however fast the detector is (the one a second older may round to either side).
        assert len(interval) in (10, 11)
        dots = np.array(floor["dots"], dtype=float).reshape(-1, 3)
        # The tick publishes the positions of the frame just processed: video frame 10 * tick + 9,
        # ground-truth frame 10 * tick + 10; its people on the floor are their boxes' foot points.
        true_m, on_floor = to_floor(points_px=foot_points(truth[10 * tick + 10]), calib=calib, floor=layout.floors[0])
        match = match_dots(dots_m=dots[:, :2], truth_m=true_m[on_floor], radius_m=DOT_MATCH_RADIUS_M)
        dots_seen += match.dots
        true_people += match.truth_dots
        matched += match.matched
        assert np.all((dots[:, 0] >= 0) & (dots[:, 0] <= width_m) & (dots[:, 1] >= 0) & (dots[:, 1] <= height_m))
        for zone in floor["zones"]:
            polygon = zones[zone["id"]]
            # The count is the mean over the interval's messages, to the nearest person, halves up.
            per_message = [int(shapely.intersects_xy(polygon, xy[:, 0], xy[:, 1]).sum()) for xy in interval]
            assert zone["count"] == int(np.floor(sum(per_message) / len(per_message) + 0.5))
            inside = shapely.contains_xy(polygon, dots[:, 0], dots[:, 1])
            # The dots are the latest message's people, with up to `bridged` missed ones shown at
            # their last position of the interval (as many as the interval's rounded mean asks for),
            # fused (a weak report beside another may merge into its dot) and snapped to the
            # publishing grid: they differ from its count only by those, such merges and by dots
            # within half a cell's diagonal of the zone's edge.
            near_edge = shapely.distance(polygon.boundary, shapely.points(dots[:, :2])) <= cell_m * 0.71
            mean_people = sum(len(xy) for xy in interval) / len(interval)
            bridged = max(0, int(np.floor(mean_people + 0.5)) - len(received[-1]))
            merged = len(received[-1]) + bridged - len(dots)
            difference = per_message[-1] - int(inside.sum())
            assert -int(near_edge.sum()) - bridged <= difference <= int(near_edge.sum()) + merged
            assert zone["stale"] is False
    # Published dots against the true people, one to one within 0.75 m (a 0.5 m grid moves a dot up
    # to 0.35 m; the foot point's own error is about 0.15 m). Measured with the default detector:
    # 44 of 53 people matched, 44 of 49-51 dots (recall 0.83, precision 0.86-0.90). Losing a quarter of the
    # people, or publishing dots a metre off, fails.
    assert true_people >= 50  # 5-8 people a frame
    assert matched / true_people >= 0.7
    assert matched / dots_seen >= 0.7
