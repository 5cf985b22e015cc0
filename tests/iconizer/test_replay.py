"""Replay real trajectories through the iconizer: PETS2009 ground truth and Grand Central."""

from pathlib import Path

import numpy as np
import pytest
import shapely

from homography.fitting import calibrate_camera
from homography.projection import to_floor
from homography.types import FloorPositions
from iconizer.coarsen import max_coarsen_shift_m
from iconizer.footprint import BODY_RADIUS_M, footprint_offsets_m
from iconizer.motion import MotionWindow
from iconizer.stepper import Iconizer, fuse_single_camera
from station import load_layout

DATA = Path("../shared/data")
PETS_GT = DATA / "pets2009_s2l1/ground_truth/gt_full_ground_dev.csv"
GC_POINTS = DATA / "grand_central/all_points.csv"
PETS_FPS = 7.0  # S2L1 was recorded at about 7 frames per second
GC_FPS = 25.0  # Grand Central annotations: every 20th frame of a 25 fps video (0.8 s apart)
GC_FRAMES = 1000  # first 1000 annotated frames (13 minutes), enough people and fast enough


def _pets():
    """(frame, id, plan xy) of the PETS ground truth on the pets2009 plan (x = X + 16, y = 10 - Y)."""
    d = np.loadtxt(PETS_GT, delimiter=",", skiprows=1)
    return d[:, 0].astype(int), d[:, 1].astype(int), np.column_stack([d[:, 4] + 16.0, 10.0 - d[:, 5]])


def _grand_central(layout, n_frames):
    """(frame, id, plan xy) of the Grand Central annotations projected through the layout camera."""
    d = np.loadtxt(GC_POINTS, delimiter=",", skiprows=1, dtype=np.int64)
    d = d[d[:, 0] < n_frames * 20]
    xy, valid = to_floor(points_px=d[:, 2:4].astype(float), calib=calibrate_camera(layout.cameras[0]))
    return d[valid, 0], d[valid, 1], xy[valid]


def _replay(layout, frames, xy, fps, rng_seed=0):
    """Step once per annotated frame; yield (time, raw positions, the floor's IconFrame)."""
    camera = layout.cameras[0]
    iconizer = Iconizer(layout, rng=np.random.default_rng(rng_seed), fuse=fuse_single_camera)
    for f in np.unique(frames):
        raw = xy[frames == f]
        t = 1_790_000_000 + f / fps
        iconizer.ingest(FloorPositions(camera.id, camera.floor, t, raw, np.ones(len(raw)), np.full(len(raw), 0.3)))
        (frame,) = iconizer.step(t)
        yield t, raw, frame


def _footprint_counts(zones, walkable, xy, radius_m):
    """Persons per zone by footprint share: every person's disc points tested against every zone.

    Not the iconizer's query (an STRtree, and only people near an edge sampled): each zone and the
    floor are asked directly about all the points.
    """
    offsets = footprint_offsets_m(radius_m)
    sx = (xy[:, 0, None] + offsets[None, :, 0]).ravel()
    sy = (xy[:, 1, None] + offsets[None, :, 1]).ravel()
    on_floor = shapely.intersects_xy(walkable, sx, sy).reshape(len(xy), len(offsets))
    counted = on_floor | ~on_floor.any(axis=1, keepdims=True)  # a disc wholly off the floor: all its points
    counts = {}
    for zone_id, polygon in zones.items():
        inside = shapely.intersects_xy(polygon, sx, sy).reshape(len(xy), len(offsets))
        counts[zone_id] = float(np.sum((inside & counted).sum(axis=1) / counted.sum(axis=1)))
    return counts


def _near_edge(zone_polygon, xy, distance_m):
    return shapely.dwithin(zone_polygon.boundary, shapely.points(xy), distance_m)


@pytest.mark.parametrize("station", ["pets2009", "grand-central"])
def test_zone_counts_match_ground_truth(station):
    layout = load_layout(f"station_layouts/{station}")
    if station == "pets2009":
        frames, _, xy = _pets()
        fps = PETS_FPS
    else:
        frames, _, xy = _grand_central(layout, GC_FRAMES)
        fps = GC_FPS
    zones = {zone.id: zone.polygon for zone in layout.zones}
    walkable = layout.floors[0].walkable
    shift_m = max_coarsen_shift_m(layout.publishing.coarsen_m)
    window_s = layout.publishing.frame_interval_s
    n_frames = exact_dot_zones = crossed = people_in_zones = averaged = bridged = dots = 0
    recent: list[tuple[float, dict[str, float]]] = []  # (time, footprint count per zone) of the last interval
    totals: list[tuple[float, int]] = []  # (time, people in view) of the last interval
    for t, raw, frame in _replay(layout, frames, xy, fps):
        n_frames += 1
        # Dots: the latest frame's people, and while the interval counted more on average (someone
        # just left the view) some of them at their last position, never more than that mean.
        totals = [(s, n) for s, n in totals if s > t - window_s] + [(t, len(raw))]
        target = int(np.floor(sum(n for _, n in totals) / len(totals) + 0.5))
        assert len(raw) <= len(frame) <= max(len(raw), target)
        bridged += len(frame) - len(raw)
        dots += len(frame)
        # Ground truth counts, by a direct point-in-polygon test (not the iconizer's STRtree).
        now = {z: int(np.count_nonzero(shapely.intersects_xy(p, raw[:, 0], raw[:, 1]))) for z, p in zones.items()}
        shares = _footprint_counts(zones, walkable, raw, BODY_RADIUS_M)
        recent = [(s, c) for s, c in recent if s > t - window_s] + [(t, shares)]
        for state in frame.zones:
            polygon = zones[state.zone_id]
            expected = now[state.zone_id]
            # The published count: the interval's mean of each frame's footprint count, halves rounded up.
            mean = sum(c[state.zone_id] for _, c in recent) / len(recent)
            assert state.count == int(np.floor(mean + 0.5 + 1e-9)) and not state.stale
            averaged += state.count != expected
            people_in_zones += expected
            if len(frame) > len(raw):
                continue  # the dot check below is for the latest frame's people only
            # What a viewer counts from the published dots: exact unless coarsening crossed the edge.
            dots_inside = int(np.count_nonzero(shapely.intersects_xy(polygon, frame.dots_m[:, 0], frame.dots_m[:, 1])))
            near = int(np.count_nonzero(_near_edge(polygon, raw, shift_m)))
            assert abs(dots_inside - expected) <= near
            exact_dot_zones += dots_inside == expected
            crossed += dots_inside != expected
    assert n_frames == len(np.unique(frames))
    assert averaged > 0  # the interval's mean does differ from the latest frame's count at times
    assert 0 < bridged < 0.05 * dots  # someone who just left the view, now and then
    assert people_in_zones >= 0.95 * len(xy)  # the zones do cover where people walk
    if station == "grand-central":
        # Zone edges lie on the 0.5 m grid, so snapping never moves a dot across one.
        assert crossed == 0
    else:
        assert exact_dot_zones > 0.95 * (exact_dot_zones + crossed)


def _motion_accuracy(frames, ids, xy, fps, step_frames, window_s):
    """Share of people whose identity-free moving flag matches their true speed (> 0.5 m/s)."""
    motion = MotionWindow(window_s=window_s, min_age_s=min(0.4, window_s), max_age_s=2.0)
    rng = np.random.default_rng(1)
    history, right, total = {}, 0, 0
    for f in np.unique(frames):
        m = np.flatnonzero(frames == f)
        m = m[rng.permutation(len(m))]  # the iconizer never sees a stable order or an id
        flags = motion.update(f / fps, xy[m])
        if f - step_frames in history:
            before = history[f - step_frames]
            known = np.array([i in before for i in ids[m]])
            true_xy_before = np.array([before[i] for i in ids[m][known]]).reshape(-1, 2)
            speed = np.linalg.norm(xy[m][known] - true_xy_before, axis=1) / (step_frames / fps)
            right += int(np.count_nonzero(flags[known] == (speed > 0.5)))
            total += int(np.count_nonzero(known))
        history[f] = dict(zip(ids[m].tolist(), xy[m], strict=True))
        history.pop(f - 5 * step_frames, None)
    return right / total, total


@pytest.mark.parametrize(("station", "min_accuracy"), [("pets2009", 0.98), ("grand-central", 0.94)])
def test_moving_flag_accuracy_on_real_trajectories(station, min_accuracy):
    if station == "pets2009":
        frames, ids, xy = _pets()
        accuracy, n = _motion_accuracy(frames, ids, xy, PETS_FPS, step_frames=7, window_s=1.0)
    else:
        frames, ids, xy = _grand_central(load_layout("station_layouts/grand-central"), GC_FRAMES)
        accuracy, n = _motion_accuracy(frames, ids, xy, GC_FPS, step_frames=20, window_s=0.8)
    assert n > 2000
    assert accuracy >= min_accuracy
