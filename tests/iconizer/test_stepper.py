import dataclasses
import json

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from bus.codec import encode_station_frames
from homography.types import FloorPositions
from iconizer.coarsen import max_coarsen_shift_m
from iconizer.counting import CountWindow
from iconizer.stepper import Iconizer, fuse_single_camera
from iconizer.types import CameraStatus, CrowdingLevel, IconFrame, ZoneState


def concatenate(sets):
    """Fusion for cameras whose views do not overlap (the toy hall's two halves)."""
    return np.concatenate([p.xy_m for p in sets]) if sets else np.zeros((0, 2))


@pytest.fixture
def iconizer(toy_layout):
    coverage = {"cam-w": box(0, 0, 10, 10), "cam-e": box(10, 0, 20, 10), "cam-p": box(0, 0, 30, 5)}
    return Iconizer(toy_layout, coverage=coverage, rng=np.random.default_rng(0), fuse=concatenate)


def _feed(iconizer, make_positions, t, west=(), east=(), platform=()):
    iconizer.ingest(make_positions("cam-w", "hall", t, list(west)))
    iconizer.ingest(make_positions("cam-e", "hall", t, list(east)))
    iconizer.ingest(make_positions("cam-p", "platform", t, list(platform)))
    return {frame.floor_id: frame for frame in iconizer.step(t)}


def test_one_frame_per_floor_with_every_zone(iconizer, make_positions):
    frames = _feed(iconizer, make_positions, 100.0, west=[[1, 1], [2, 2]], east=[[15, 5]], platform=[[3, 3]])
    assert list(frames) == ["hall", "platform"]
    hall = frames["hall"]
    assert [z.zone_id for z in hall.zones] == ["west", "east"]
    assert (hall.zone("west").count, hall.zone("east").count) == (2, 1)
    assert hall.zone("west").density_per_m2 == pytest.approx(2 / 96)  # pillar subtracted
    assert frames["platform"].zone("track1").count == 1
    assert all(f.timestamp_s == 100.0 for f in frames.values())
    assert len(hall) == 3


def test_frame_has_no_field_beyond_the_schema(iconizer, make_positions):
    assert [f.name for f in dataclasses.fields(IconFrame)] == [
        "station_id",
        "floor_id",
        "timestamp_s",
        "dots_m",
        "moving",
        "zones",
    ]
    assert [f.name for f in dataclasses.fields(ZoneState)] == [
        "zone_id",
        "count",
        "density_per_m2",
        "level",
        "los",
        "stale",
    ]
    frames = _feed(iconizer, make_positions, 100.0, west=[[1, 1]], east=[[15, 5]])
    hall = frames["hall"]
    assert hall.dots_m.shape == (2, 2) and hall.dots_m.dtype == np.float64
    assert hall.moving.shape == (2,) and hall.moving.dtype == bool
    # The published message holds exactly the schema's keys, and each dot only x, y, moving.
    payload = json.loads(encode_station_frames("toy", list(frames.values()), 100.0))
    assert set(payload) == {"type", "v", "station", "timestamp", "floors"}
    for floor in payload["floors"]:
        assert set(floor) == {"floor", "dots", "zones"}
        assert all(len(dot) == 3 for dot in floor["dots"])
        for zone in floor["zones"]:
            assert set(zone) == {"id", "count", "density_per_m2", "level", "los", "stale"}


@pytest.mark.parametrize("method", ["grid", "jitter"])
def test_raw_positions_never_leave(toy_layout, make_positions, method):
    rng = np.random.default_rng(5)
    west = rng.uniform(0.3, 9.7, size=(40, 2))
    iconizer = Iconizer(
        toy_layout, coverage={"cam-w": box(0, 0, 10, 10)}, rng=rng, fuse=fuse_single_camera, coarsen_method=method
    )
    iconizer.ingest(make_positions("cam-w", "hall", 1.0, west))
    dots = iconizer.step(1.0)[0].dots_m
    distances = np.linalg.norm(dots[:, None, :] - west[None, :, :], axis=2)
    assert distances.min() > 1e-6  # no raw position is published
    assert distances.min(axis=1).max() <= max_coarsen_shift_m(0.5, method) + 1e-9  # and each dot stays near one
    if method == "grid":
        np.testing.assert_allclose((dots / 0.5) % 1.0, 0.5)


@pytest.mark.parametrize("method", ["grid", "jitter"])
def test_the_layout_chooses_the_coarsening(toy_layout, method):
    layout = toy_layout.model_copy(
        update={"publishing": toy_layout.publishing.model_copy(update={"coarsen_method": method})}
    )
    assert Iconizer(layout).coarsen_method == method
    assert Iconizer(layout, coarsen_method="grid").coarsen_method == "grid", "an explicit choice wins"


def test_dots_are_shuffled_every_frame(iconizer, make_positions):
    west = np.stack([np.arange(0.25, 10, 0.5), np.full(20, 8.25)], axis=1)  # already on cell centres
    orders = []
    for k in range(3):
        hall = _feed(iconizer, make_positions, 100.0 + k, west=west)["hall"]
        orders.append(hall.dots_m[:, 0].tolist())
    assert sorted(orders[0]) == sorted(orders[1]) == sorted(orders[2])
    assert orders[0] != orders[1] and orders[1] != orders[2]


@pytest.mark.parametrize(
    ("state", "east_stale"),
    [("live", False), ("reconnecting", True), ("stalled", True), ("dead", True)],
)
def test_zone_of_unhealthy_camera_is_stale_not_empty(iconizer, make_positions, state, east_stale):
    iconizer.update_camera(CameraStatus("cam-e", 99.0, state))
    hall = _feed(iconizer, make_positions, 100.0, west=[[1, 1]], east=[[15, 5]])["hall"]
    west = hall.zone("west")
    assert (west.count, west.level, west.los, west.stale) == (1, CrowdingLevel.QUIET, "A", False)
    assert west.density_per_m2 == pytest.approx(1 / 96)
    east = hall.zone("east")
    assert east.stale is east_stale
    if east_stale:
        assert (east.count, east.density_per_m2) == (0, 0.0)
        assert len(hall) == 1  # positions of an unhealthy camera are not used at all


def test_camera_without_fresh_positions_goes_stale_then_recovers(iconizer, make_positions):
    _feed(iconizer, make_positions, 100.0, west=[[1, 1]], east=[[15, 5]])
    iconizer.ingest(make_positions("cam-w", "hall", 104.0, [[1, 1]]))
    hall = iconizer.step(104.0)[0]  # cam-e's set is 4 s old: still fresh (stale_after_s = 5)
    assert not hall.zone("east").stale and hall.zone("east").count == 1
    iconizer.ingest(make_positions("cam-w", "hall", 105.5, [[1, 1]]))
    hall = iconizer.step(105.5)[0]
    assert hall.zone("east").stale and not hall.zone("west").stale
    iconizer.ingest(make_positions("cam-e", "hall", 106.0, [[15, 5], [16, 5]]))
    hall = iconizer.step(106.0)[0]
    assert not hall.zone("east").stale and hall.zone("east").count == 2


def test_zone_without_any_camera_is_stale(toy_layout, make_positions):
    iconizer = Iconizer(toy_layout, coverage={"cam-w": box(0, 0, 10, 10), "cam-e": box(0, 0, 9, 9)})
    iconizer.ingest(make_positions("cam-w", "hall", 1.0, [[1, 1]]))
    frames = iconizer.step(1.0)
    assert frames[0].zone("east").stale  # nobody covers east
    assert frames[1].zone("track1").stale  # cam-p never reported


def test_steady_crowd_at_a_threshold_keeps_its_level(toy_layout, make_positions):
    # west: 96 m2 walkway; 69 or 70 people (0.719 / 0.729 per m2) straddle the 0.72 busy/crowded bound.
    iconizer = Iconizer(
        toy_layout, coverage={"cam-w": box(0, 0, 10, 10), "cam-e": box(10, 0, 20, 10)}, fuse=concatenate
    )
    rng = np.random.default_rng(11)
    levels, raw_sides = [], []
    for k in range(200):
        n = 69 + k % 2
        xy = rng.uniform(0, 10, size=(n, 2))
        xy = xy[~((xy[:, 0] > 4) & (xy[:, 0] < 6) & (xy[:, 1] > 4) & (xy[:, 1] < 6))][:n]
        iconizer.ingest(make_positions("cam-w", "hall", float(k), xy))
        iconizer.ingest(make_positions("cam-e", "hall", float(k), []))
        west = iconizer.step(float(k))[0].zone("west")
        levels.append(west.level)
        raw_sides.append(west.count / 96 > 0.72)
    assert len(set(raw_sides)) == 2  # the crowd does cross the bound ...
    assert len(set(levels)) == 1  # ... and the level never flickers


def test_density_is_smoothed_over_the_window(toy_layout, make_positions):
    mapping_layout = toy_layout.model_copy(
        update={"publishing": toy_layout.publishing.model_copy(update={"density_window_s": 3.0})}
    )
    iconizer = Iconizer(
        mapping_layout, coverage={"cam-w": box(0, 0, 10, 10), "cam-e": box(10, 0, 20, 10)}, fuse=concatenate
    )
    densities = []
    for k, n in enumerate([10, 10, 10, 40]):
        iconizer.ingest(make_positions("cam-w", "hall", float(k), np.tile([[1.0, 1.0]], (n, 1))))
        iconizer.ingest(make_positions("cam-e", "hall", float(k), []))
        densities.append(iconizer.step(float(k))[0].zone("west").density_per_m2)
    assert densities[3] == pytest.approx((10 + 10 + 40) / 3 / 96)


def test_moving_flags_follow_walkers(iconizer, make_positions):
    standers = np.array([[2.0, 2.0], [2.0, 8.0], [8.0, 2.0]])
    walker0 = np.array([[1.0, 5.0]])
    for k in range(4):
        t = 100.0 + k
        west = np.vstack([standers, walker0 + np.array([1.3 * k, 0.0])])
        hall = _feed(iconizer, make_positions, t, west=west)["hall"]
    assert hall.moving.sum() == 1
    moving_dot = hall.dots_m[hall.moving][0]
    assert np.linalg.norm(moving_dot - (walker0[0] + [3.9, 0.0])) < 0.5


@pytest.mark.parametrize(
    ("positions", "match"),
    [
        (FloorPositions.empty("cam-x", "hall", 1.0), "not in the layout"),
        (FloorPositions.empty("cam-w", "platform", 1.0), "is on floor 'hall'"),
    ],
)
def test_ingest_errors(iconizer, positions, match):
    with pytest.raises(ValueError, match=match):
        iconizer.ingest(positions)


def test_several_cameras_without_fusion_are_refused(toy_layout, make_positions):
    iconizer = Iconizer(toy_layout, fuse=fuse_single_camera)
    iconizer.ingest(make_positions("cam-w", "hall", 1.0, [[1, 1]]))
    iconizer.ingest(make_positions("cam-e", "hall", 1.0, [[1, 1]]))
    with pytest.raises(ValueError, match=r"needs iconizer\.fusion\.fuse"):
        iconizer.step(1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"coverage": {"cam-x": shapely.Point(0, 0).buffer(1)}}, "not in the layout"),
        ({"coarsen_m": -1.0}, "coarsen_m"),
        ({"coarsen_method": "blur"}, "coarsen_method"),
    ],
)
def test_constructor_errors(toy_layout, kwargs, match):
    with pytest.raises(ValueError, match=match):
        Iconizer(toy_layout, **kwargs)


def test_time_must_not_go_backwards(iconizer):
    iconizer.step(10.0)
    with pytest.raises(ValueError, match="backwards"):
        iconizer.step(9.0)


def test_older_positions_do_not_replace_newer(iconizer, make_positions):
    iconizer.ingest(make_positions("cam-w", "hall", 10.0, [[1, 1], [2, 2]]))
    iconizer.ingest(make_positions("cam-w", "hall", 9.0, [[1, 1]]))
    assert iconizer.step(10.0)[0].zone("west").count == 2


def test_default_fusion_counts_overlapping_cameras_once(toy_layout, make_positions):
    # Both hall cameras see the whole hall (no coverage given) and report the same three people,
    # a few centimetres apart: iconizer.fusion.fuse must merge them, not sum the cameras.
    iconizer = Iconizer(toy_layout, rng=np.random.default_rng(0))
    people = np.array([[2.0, 2.0], [12.0, 3.0], [15.0, 8.0]])
    iconizer.ingest(make_positions("cam-w", "hall", 5.0, people))
    iconizer.ingest(make_positions("cam-e", "hall", 5.0, people + 0.05))
    hall = iconizer.step(5.0)[0]
    assert (hall.zone("west").count, hall.zone("east").count, len(hall)) == (1, 2, 3)


def test_station_with_zero_coarsening_is_refused(toy_layout):
    layout = toy_layout.model_copy(update={"publishing": toy_layout.publishing.model_copy(update={"coarsen_m": 0.0})})
    with pytest.raises(ValueError, match=r"publishing\.coarsen_m is 0\.0"):
        Iconizer(layout)
    assert Iconizer(layout, coarsen_m=0.0).coarsen_m == 0.0  # explicit, for ground-truth evaluations


# --- Counts over the interval (docs/ICONIZER.md, "Counts over the interval") ---------------------------


def _people(n, x0=1.0, y=1.0):
    """``n`` people standing 0.5 m apart along a line from (x0, y)."""
    return [[x0 + 0.5 * k, y] for k in range(n)]


def _hall_iconizer(toy_layout, coverage=None, **kwargs):
    coverage = coverage or {"cam-w": box(0, 0, 10, 10), "cam-e": box(10, 0, 20, 10)}
    return Iconizer(toy_layout, coverage=coverage, rng=np.random.default_rng(0), fuse=concatenate, **kwargs)


def test_three_messages_of_two_three_and_four_people_publish_three(toy_layout, make_positions):
    iconizer = _hall_iconizer(toy_layout)
    for t, n in ((100.1, 2), (100.2, 3), (100.3, 4)):
        iconizer.ingest(make_positions("cam-w", "hall", t, _people(n)))
    iconizer.ingest(make_positions("cam-e", "hall", 100.3, []))
    hall = iconizer.step(100.3)[0]
    west = hall.zone("west")
    assert west.count == 3
    # The density is the same mean count per walkable m2 (96 m2: the pillar is not walkable).
    assert west.density_per_m2 == pytest.approx(3 / 96)
    assert len(hall) == 4  # the dots are the latest message's people, not a mean


def test_a_mean_between_two_whole_persons_rounds_halves_up_and_keeps_the_density_exact(toy_layout, make_positions):
    iconizer = _hall_iconizer(toy_layout)
    iconizer.ingest(make_positions("cam-e", "hall", 10.0, []))
    for t, n in ((10.0, 2), (10.5, 3)):
        iconizer.ingest(make_positions("cam-w", "hall", t, _people(n)))
    west = iconizer.step(10.5)[0].zone("west")
    assert (west.count, west.density_per_m2) == (3, pytest.approx(2.5 / 96))
    iconizer.ingest(make_positions("cam-w", "hall", 10.8, _people(2)))
    west = iconizer.step(10.8)[0].zone("west")  # 10.0 is still in (9.8, 10.8]: (2 + 3 + 2) / 3 = 2.33
    assert (west.count, west.density_per_m2) == (2, pytest.approx(7 / 3 / 96))
    # count = density x walkable area, rounded (the density window, 0 s here, is no longer than the count's)
    assert west.count == int(np.floor(west.density_per_m2 * 96 + 0.5))


def test_only_the_last_interval_of_each_cameras_messages_counts(toy_layout, make_positions):
    iconizer = _hall_iconizer(toy_layout)
    iconizer.ingest(make_positions("cam-w", "hall", 50.0, _people(12)))
    for t in (50.5, 51.0):
        iconizer.ingest(make_positions("cam-w", "hall", t, _people(1)))
    iconizer.ingest(make_positions("cam-e", "hall", 51.0, []))
    # The interval is the layout's frame_interval_s (1 s): the message at 50.0 is one interval old.
    assert toy_layout.publishing.frame_interval_s == 1.0
    assert iconizer.step(51.0)[0].zone("west").count == 1


def test_cameras_sending_at_different_rates_each_count_their_own_interval(toy_layout, make_positions):
    iconizer = _hall_iconizer(toy_layout)
    for k in range(10):  # cam-w at 10 messages a second: 1 person in 9 messages, 11 in one
        iconizer.ingest(make_positions("cam-w", "hall", 20.05 + 0.1 * k, _people(11 if k == 4 else 1)))
    iconizer.ingest(make_positions("cam-e", "hall", 19.5, _people(3, x0=11.0)))  # cam-e: one message, 0.5 s old
    hall = iconizer.step(20.0 + 1.0)[0]
    assert (hall.zone("west").count, hall.zone("east").count) == (2, 3)


def test_the_first_step_publishes_the_messages_it_has(toy_layout, make_positions):
    iconizer = _hall_iconizer(toy_layout)
    iconizer.ingest(make_positions("cam-w", "hall", 5.0, _people(4)))
    hall = iconizer.step(5.0)[0]
    assert hall.zone("west").count == 4 and hall.zone("east").stale  # cam-e has sent nothing yet


def test_count_window_of_zero_publishes_the_latest_message(toy_layout, make_positions):
    iconizer = _hall_iconizer(toy_layout, count_window_s=0.0)
    for t, n in ((100.1, 2), (100.2, 3), (100.3, 7)):
        iconizer.ingest(make_positions("cam-w", "hall", t, _people(n)))
    iconizer.ingest(make_positions("cam-e", "hall", 100.3, []))
    assert iconizer.step(100.3)[0].zone("west").count == 7
    with pytest.raises(ValueError, match="count_window_s"):
        _hall_iconizer(toy_layout, count_window_s=-1.0)


def test_an_older_message_is_counted_no_more_than_its_positions_are_used(toy_layout, make_positions):
    iconizer = _hall_iconizer(toy_layout)
    iconizer.ingest(make_positions("cam-w", "hall", 10.0, _people(2)))
    iconizer.ingest(make_positions("cam-w", "hall", 9.9, _people(12)))  # late and out of order: ignored
    iconizer.ingest(make_positions("cam-e", "hall", 10.0, []))
    assert iconizer.step(10.0)[0].zone("west").count == 2


def test_a_camera_that_went_stale_starts_a_fresh_interval(toy_layout, make_positions):
    iconizer = _hall_iconizer(toy_layout)
    iconizer.ingest(make_positions("cam-w", "hall", 30.0, []))
    for t in (30.0, 30.2, 30.4):
        iconizer.ingest(make_positions("cam-e", "hall", t, _people(9, x0=11.0)))
    iconizer.update_camera(CameraStatus("cam-e", 30.5, "dead"))
    assert iconizer.step(30.6)[0].zone("east").stale
    iconizer.update_camera(CameraStatus("cam-e", 30.7, "live"))
    iconizer.ingest(make_positions("cam-e", "hall", 30.8, _people(1, x0=11.0)))
    iconizer.ingest(make_positions("cam-w", "hall", 30.8, []))
    hall = iconizer.step(30.8)[0]
    east = hall.zone("east")
    assert (east.stale, east.count) == (False, 1)  # the 9s before the outage are gone, not averaged in
    assert len(hall.dots_m) == 1  # nor bridged into the dots


def test_a_zone_several_live_cameras_cover_counts_their_latest_sets_fused(toy_layout, make_positions):
    # cam-w sees the whole hall, cam-e the east half: west has one camera, east two. Averaging east
    # over messages would need a fusion of both cameras per message; east takes the step's fusion.
    iconizer = _hall_iconizer(toy_layout, coverage={"cam-w": box(0, 0, 20, 10), "cam-e": box(10, 0, 20, 10)})
    for t, west, east in ((40.1, 2, 1), (40.2, 3, 1), (40.3, 4, 5)):
        iconizer.ingest(make_positions("cam-w", "hall", t, _people(west)))
        iconizer.ingest(make_positions("cam-e", "hall", t, _people(east, x0=11.0)))
    hall = iconizer.step(40.3)[0]
    assert (hall.zone("west").count, hall.zone("east").count) == (3, 5)
    iconizer.update_camera(CameraStatus("cam-w", 40.35, "stalled"))
    iconizer.ingest(make_positions("cam-e", "hall", 40.4, _people(1, x0=11.0)))
    # cam-w is out: east has one live camera again, and its messages of the interval count.
    assert iconizer.step(40.4)[0].zone("east").count == 2  # (1 + 1 + 5 + 1) / 4


def test_a_zone_one_camera_sees_counts_its_reports_as_the_detector_gave_them(toy_layout, make_positions):
    # Fusion merges cameras; one camera's detector has merged its own boxes already. A weak report
    # next to a clear one is (on real footage mostly) a second person, half hidden: the count keeps
    # it, while the dots are the floor's fused latest set as before.
    iconizer = Iconizer(toy_layout, coverage={"cam-w": box(0, 0, 10, 10)}, rng=np.random.default_rng(0))
    for k, t in enumerate((60.0, 60.25, 60.5, 60.75)):
        xy = [[3.0, 3.0], [3.3, 3.05]] if k % 2 else [[3.0, 3.0]]
        confidence = [0.9, 0.35][: len(xy)]
        iconizer.ingest(FloorPositions("cam-w", "hall", t, np.array(xy), np.array(confidence), np.full(len(xy), 0.2)))
    hall = iconizer.step(60.75)[0]
    assert hall.zone("west").count == 2  # (1 + 2 + 1 + 2) / 4 = 1.5, halves up
    assert len(hall) == 1  # the default fusion merges the weak report into its neighbour's dot


def _arrays_held(obj, seen=None):
    """Every numpy array reachable from ``obj`` through the iconizer's own objects and containers."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return [obj]
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, list | tuple | set | frozenset) or type(obj).__name__ == "deque":
        children = list(obj)
    elif type(obj).__module__.split(".")[0] in ("iconizer", "homography") and hasattr(obj, "__dict__"):
        children = list(vars(obj).values())
    else:
        return []
    return [a for child in children for a in _arrays_held(child, seen)]


def _held_after(iconizer, make_positions, seconds):
    """Messages of 5 positions every 0.1 s for ``seconds``; returns them and the float values the iconizer holds."""
    rng = np.random.default_rng(3)
    messages = [rng.uniform(0.5, 3.5, size=(5, 2)) + np.array([0.0, 6.0]) for _ in range(round(seconds / 0.1))]
    for k, xy in enumerate(messages):
        iconizer.ingest(make_positions("cam-w", "hall", 70.0 + 0.1 * k, xy))
    held = [a for a in _arrays_held(iconizer) if a.dtype.kind == "f"]
    return messages, np.concatenate([a.ravel() for a in held])


def test_without_bridging_only_counts_of_earlier_messages_are_kept(toy_layout, make_positions):
    # P3: what stays of a message once the next one arrives is its zone counts, nothing positional.
    iconizer = Iconizer(
        toy_layout, coverage={"cam-w": box(0, 0, 10, 10)}, rng=np.random.default_rng(0), bridge_misses=False
    )
    messages, values = _held_after(iconizer, make_positions, 1.0)
    for earlier in messages[:-1]:
        assert not np.isin(earlier.ravel(), values).any()
    assert np.isin(messages[-1].ravel(), values).all()  # the latest set, as before (and the walk finds it)
    windows = [w for w in vars(iconizer).values() if isinstance(w, dict)]
    assert any(isinstance(v, CountWindow) for d in windows for v in d.values())


def test_earlier_messages_positions_are_kept_for_one_interval_only(toy_layout, make_positions):
    # P3 with bridging (the default): a camera's messages of the last frame_interval_s, nothing older.
    iconizer = Iconizer(toy_layout, coverage={"cam-w": box(0, 0, 10, 10)}, rng=np.random.default_rng(0))
    assert iconizer.count_window_s == toy_layout.publishing.frame_interval_s == 1.0
    messages, values = _held_after(iconizer, make_positions, 3.0)  # newest at 72.9 s
    for k, xy in enumerate(messages):
        age_s = 0.1 * (len(messages) - 1 - k)
        if age_s > 1.05:
            assert not np.isin(xy.ravel(), values).any(), age_s
        elif age_s < 0.95:
            assert np.isin(xy.ravel(), values).all(), age_s
    windows = [w for w in vars(iconizer).values() if isinstance(w, dict)]
    assert any(isinstance(v, CountWindow) for d in windows for v in d.values())


@pytest.mark.parametrize(
    "coverage",
    [
        {"cam-w": box(0, 0, 20, 10), "cam-e": box(30, 30, 31, 31)},  # each zone: cam-w's messages
        {"cam-w": box(0, 0, 20, 10), "cam-e": box(0, 0, 20, 10)},  # each zone: both cameras fused
    ],
)
def test_a_person_on_a_zone_edge_counts_once_shared_between_the_zones(toy_layout, make_positions, coverage):
    on_edge = [[10.0, 3.0], [10.0, 5.0], [10.0, 7.0], [2.0, 2.0]]

    def counts(**kwargs):
        iconizer = _hall_iconizer(toy_layout, coverage=coverage, **kwargs)
        iconizer.ingest(make_positions("cam-w", "hall", 5.0, on_edge))
        iconizer.ingest(make_positions("cam-e", "hall", 5.0, []))
        hall = iconizer.step(5.0)[0]
        west, east = hall.zone("west"), hall.zone("east")
        return west.density_per_m2 * 96 + east.density_per_m2 * 100, (west.count, east.count)

    persons, published = counts()
    assert persons == pytest.approx(4.0)  # shares of a person add up to one person
    assert published == (3, 2)  # 1 + 3 halves in the west (2.5: halves up), 3 halves in the east
    # Counting points instead, a point on the edge is in both zones: everyone on it counted twice.
    points, published = counts(body_radius_m=0.0)
    assert points == pytest.approx(7.0)
    assert published == (4, 3)


def test_body_radius_must_be_finite_and_not_negative(toy_layout):
    for radius_m in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="body_radius_m must be finite and >= 0"):
            Iconizer(toy_layout, body_radius_m=radius_m)
