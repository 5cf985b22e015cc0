"""The aggregation step: every camera's positions in, one anonymous IconFrame per floor out.

:class:`Iconizer` is pure: it reads no clock (every call carries its time), opens no file or
socket, and keeps raw positions only as long as they can still be used (``stale_after_s`` for a
camera's latest set, one interval for its earlier messages, a couple of seconds for motion). Each
message is counted per zone as it is ingested, each person by the share of their body's footprint
inside the zone (``iconizer.footprint``). What leaves it is an :class:`IconFrame`:
coarsened, shuffled dots with a moving flag (the latest positions, with a one-message miss
bridged from the interval), and per-zone counts (the mean over the interval's messages) and levels.
"""

from __future__ import annotations

import math
import secrets
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from homography.types import FloorPositions
from iconizer.bridging import bridge_misses
from iconizer.coarsen import COARSEN_METHODS, CoarsenMethod, coarsen_positions, jitter_key, shuffled
from iconizer.counting import CountWindow, rounded_mean
from iconizer.footprint import BODY_RADIUS_M
from iconizer.fusion import fuse as fuse_cameras
from iconizer.levels import DEFAULT_HYSTERESIS_PER_M2, FloorGrader
from iconizer.motion import MotionWindow, PairingMethod
from iconizer.smoothing import WindowMean
from iconizer.types import CameraStatus, CrowdingLevel, IconFrame, ZoneState
from iconizer.zones import ZoneIndex
from station import StationLayout

# Returns an object with ``xy_m`` (n, 2) metres (FloorPositions, FusedPositions) or an (n, 2) array.
FuseFunction = Callable[[Sequence[FloorPositions]], object]


def fuse_single_camera(positions: Sequence[FloorPositions]) -> FloorPositions:
    """Fusion for a floor seen by one camera: its positions, unchanged.

    The exact identity used by evaluations on single-camera ground truth. Summing cameras would
    count a person twice where views overlap, so several cameras on one floor are refused here
    rather than miscounted.

    Raises:
        ValueError: when positions of more than one camera are given.
    """
    cameras = sorted({p.camera_id for p in positions})
    if len(cameras) > 1:
        raise ValueError(
            f"floor {positions[0].floor_id!r} has live positions from cameras {cameras}; merging several "
            "cameras needs iconizer.fusion.fuse"
        )
    return positions[-1]


def _fused_xy_m(fused: object) -> np.ndarray:
    """The ``(n, 2)`` positions of a fusion result.

    Anything with ``xy_m`` (FloorPositions, ``iconizer.fusion.FusedPositions``) or an array.
    """
    xy = np.asarray(fused.xy_m if hasattr(fused, "xy_m") else fused, dtype=np.float64)
    if xy.size == 0:
        return xy.reshape(0, 2)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"fuse must return positions with xy_m or an (n, 2) array, got shape {xy.shape}")
    return xy


@dataclass
class _FloorState:
    """Everything the iconizer keeps per floor between steps."""

    floor_id: str
    size_m: tuple[float, float]
    index: ZoneIndex
    grader: FloorGrader
    smoother: WindowMean
    motion: MotionWindow
    camera_ids: tuple[str, ...]
    covers: np.ndarray
    stale_before: np.ndarray


class Iconizer:
    """Merges the cameras of a station and publishes anonymous dots and zone levels per floor.

    Args:
        layout: The station layout (floors, zones, cameras, publishing options).
        coverage: Floor polygon (metres) each camera sees, by camera id. A zone is covered by the
            cameras whose polygon overlaps it; a camera without an entry (or every camera, when
            ``coverage`` is None) covers every zone of its floor.
        rng: Randomness for shuffling and the jitter key's secret; a fresh unseeded generator by default.
        fuse: Merges the positions of the live cameras of one floor into one set of people;
            ``iconizer.fusion.fuse`` by default.
        coarsen_m: Coarsening cell in metres; ``layout.publishing.coarsen_m`` by default, which
            must then be positive (a station never publishes raw positions, PRIVACY.md P2). An
            explicit 0 is accepted for evaluations that compare dots with ground truth.
        coarsen_method: ``"grid"`` (snap to cell centres) or ``"jitter"``;
            ``layout.publishing.coarsen_method`` by default.
        motion_window_s: Time between the position sets compared for the moving flag.
        speed_threshold_m_s: Speed above which a dot is marked moving.
        motion_pairing: How positions are paired across the motion window (see ``iconizer.motion``).
        default_hysteresis_per_m2: Hysteresis band for zones that set none.
        jitter_secret: Secret of the ``jitter`` method's rotating key; random by default.
        count_window_s: Interval over which a zone's published count is the mean of its camera's
            messages; ``layout.publishing.frame_interval_s`` by default (what one published frame
            stands for). 0 publishes the latest message's counts.
        bridge_misses: When a camera's latest message holds fewer people than its messages of
            the interval hold on average, show the missing ones at their latest earlier position
            within the interval (``iconizer.bridging``), so the dots are as many as the interval
            counted. Needs a positive ``count_window_s``; False shows the latest message alone.
        body_radius_m: Radius of the body footprint a zone counts a person by
            (``iconizer.footprint``): someone astride a zone edge counts half in each zone. 0
            counts each position as a point, wholly in every zone holding it (for comparisons).
    """

    def __init__(
        self,
        layout: StationLayout,
        *,
        coverage: dict[str, shapely.Geometry] | None = None,
        rng: np.random.Generator | None = None,
        fuse: FuseFunction | None = None,
        coarsen_m: float | None = None,
        coarsen_method: CoarsenMethod | None = None,
        motion_window_s: float = 1.0,
        speed_threshold_m_s: float = 0.5,
        motion_pairing: PairingMethod = "nearest",
        default_hysteresis_per_m2: float = DEFAULT_HYSTERESIS_PER_M2,
        jitter_secret: int | None = None,
        count_window_s: float | None = None,
        bridge_misses: bool = True,
        body_radius_m: float = BODY_RADIUS_M,
    ) -> None:
        if coarsen_method is None:
            coarsen_method = layout.publishing.coarsen_method
        if coarsen_method not in COARSEN_METHODS:
            raise ValueError(f"coarsen_method must be one of {COARSEN_METHODS}, got {coarsen_method!r}")
        self.layout = layout
        self.station_id = layout.station.id
        if coarsen_m is None and layout.publishing.coarsen_m <= 0:
            raise ValueError(
                f"station {layout.station.id!r}: publishing.coarsen_m is {layout.publishing.coarsen_m}; it must be "
                "positive so that raw positions are never published (PRIVACY.md P2)"
            )
        self.coarsen_m = layout.publishing.coarsen_m if coarsen_m is None else float(coarsen_m)
        if not math.isfinite(self.coarsen_m) or self.coarsen_m < 0:
            raise ValueError(f"coarsen_m must be finite and >= 0, got {self.coarsen_m}")
        self.coarsen_method: CoarsenMethod = coarsen_method
        self.stale_after_s = layout.publishing.stale_after_s
        self.count_window_s = layout.publishing.frame_interval_s if count_window_s is None else float(count_window_s)
        if not math.isfinite(self.count_window_s) or self.count_window_s < 0:
            raise ValueError(f"count_window_s must be finite and >= 0, got {self.count_window_s}")
        self.bridge_misses = bool(bridge_misses) and self.count_window_s > 0
        self.body_radius_m = float(body_radius_m)  # checked by ZoneIndex.build
        self._rng = rng if rng is not None else np.random.default_rng()
        # This aggregator's own secret: the jitter of a cell cannot be predicted from outside.
        # Not drawn from ``rng``, whose stream seeded runs replay.
        self._jitter_secret = secrets.randbits(63) if jitter_secret is None else int(jitter_secret)
        self._fuse: FuseFunction = fuse if fuse is not None else fuse_cameras
        self._camera_floor = {camera.id: camera.floor for camera in layout.cameras}
        coverage = dict(coverage or {})
        unknown = sorted(set(coverage) - set(self._camera_floor))
        if unknown:
            raise ValueError(
                f"coverage names cameras {unknown} that are not in the layout {sorted(self._camera_floor)}"
            )
        self._floors: list[_FloorState] = []
        for floor in layout.floors:
            zones = layout.zones_on(floor.id)
            cameras = [c for c in layout.cameras if c.floor == floor.id]
            # covers[z, c]: camera c sees part of zone z; a zone is stale when no live camera covers it.
            covers = np.array(
                [
                    [c.id not in coverage or coverage[c.id].intersection(zone.polygon).area > 0 for c in cameras]
                    for zone in zones
                ],
                dtype=bool,
            ).reshape(len(zones), len(cameras))
            self._floors.append(
                _FloorState(
                    floor_id=floor.id,
                    size_m=floor.size_m,
                    index=ZoneIndex.build(floor, zones, self.body_radius_m),
                    grader=FloorGrader.for_zones(zones, default_hysteresis_per_m2),
                    smoother=WindowMean(len(zones), layout.publishing.density_window_s),
                    motion=MotionWindow(
                        window_s=motion_window_s,
                        speed_threshold_m_s=speed_threshold_m_s,
                        max_age_s=max(2.0, motion_window_s),
                        min_age_s=min(0.4, motion_window_s),
                        method=motion_pairing,
                    ),
                    camera_ids=tuple(c.id for c in cameras),
                    covers=covers,
                    stale_before=np.ones(len(zones), dtype=bool),
                )
            )
        self._floor_of = {floor.floor_id: floor for floor in self._floors}
        self._latest: dict[str, FloorPositions] = {}
        # Per camera: the per-zone counts of its messages over the last count_window_s.
        self._counts: dict[str, CountWindow] = {}
        # Per camera, with bridging: its messages of the last count_window_s, oldest first (P3).
        self._recent: dict[str, deque[FloorPositions]] = {}
        self._status: dict[str, CameraStatus] = {}
        self._last_step_s: float | None = None

    def ingest(self, positions: FloorPositions) -> None:
        """Count a camera's message per zone and keep its positions (replacing its previous set).

        The positions are counted (by body footprint, ``ZoneIndex.occupancy``) as the camera
        reports them: its detector has already merged its own duplicate boxes, and fusion is for
        merging cameras. A message older than the camera's latest is ignored.

        Raises:
            ValueError: if the camera is not in the layout or reports another floor than its own.
        """
        floor_id = self._camera_floor.get(positions.camera_id)
        if floor_id is None:
            raise ValueError(
                f"positions from camera {positions.camera_id!r}, which is not in the layout "
                f"{sorted(self._camera_floor)}"
            )
        if positions.floor_id != floor_id:
            raise ValueError(
                f"camera {positions.camera_id!r} is on floor {floor_id!r}, "
                f"got positions for floor {positions.floor_id!r}"
            )
        previous = self._latest.get(positions.camera_id)
        if previous is not None and positions.timestamp_s < previous.timestamp_s:
            return
        index = self._floor_of[floor_id].index
        window = self._counts.get(positions.camera_id)
        if window is None:
            window = self._counts[positions.camera_id] = CountWindow(len(index), self.count_window_s)
        window.add(positions.timestamp_s, index.occupancy(positions.xy_m))
        self._latest[positions.camera_id] = positions
        if self.bridge_misses:
            # The same messages as the count window: newer than newest - count_window_s.
            recent = self._recent.setdefault(positions.camera_id, deque())
            recent.append(positions)
            while len(recent) > 1 and recent[0].timestamp_s <= positions.timestamp_s - self.count_window_s:
                recent.popleft()

    def update_camera(self, status: CameraStatus) -> None:
        """Record a camera's health; a camera that is not ``live`` makes its zones stale."""
        if status.camera_id not in self._camera_floor:
            raise ValueError(
                f"status of camera {status.camera_id!r}, which is not in the layout {sorted(self._camera_floor)}"
            )
        previous = self._status.get(status.camera_id)
        if previous is None or status.timestamp_s >= previous.timestamp_s:
            self._status[status.camera_id] = status

    def live_cameras(self, now_s: float) -> frozenset[str]:
        """Cameras whose status is live (or not yet reported) and whose positions are fresh at ``now_s``."""
        live = set()
        for camera_id, positions in self._latest.items():
            status = self._status.get(camera_id)
            if (status is None or status.is_live) and now_s - positions.timestamp_s <= self.stale_after_s:
                live.add(camera_id)
        return frozenset(live)

    def step(self, now_s: float) -> list[IconFrame]:
        """One aggregation step: an IconFrame for every floor of the station, in layout order.

        Args:
            now_s: The frame time, unix seconds; must not go backwards between steps.
        """
        if not math.isfinite(now_s):
            raise ValueError(f"now_s must be finite, got {now_s}")
        if self._last_step_s is not None and now_s < self._last_step_s:
            raise ValueError(f"now_s went backwards: {now_s} after the previous step at {self._last_step_s}")
        self._last_step_s = now_s
        live = self.live_cameras(now_s)
        # Raw positions of cameras that are no longer usable are dropped, not kept (PRIVACY.md P3),
        # and so are their counts: a camera that comes back starts a fresh interval.
        for camera_id in [c for c in self._latest if c not in live]:
            del self._latest[camera_id], self._counts[camera_id]
            self._recent.pop(camera_id, None)
        return [self._step_floor(floor, now_s, live) for floor in self._floors]

    def _step_floor(self, floor: _FloorState, now_s: float, live: frozenset[str]) -> IconFrame:
        sets = [
            bridge_misses(self._recent[camera_id]) if camera_id in self._recent else p
            for camera_id, p in sorted(self._latest.items())
            if self._camera_floor[camera_id] == floor.floor_id
        ]
        xy_m = _fused_xy_m(self._fuse(sets)) if sets else np.zeros((0, 2))

        live_camera = np.array([c in live for c in floor.camera_ids], dtype=bool)
        covering = floor.covers & live_camera
        stale = ~covering.any(axis=1)
        sums, messages = self._zone_counts(floor, xy_m, covering)
        mean_count = sums / messages
        counts = rounded_mean(sums, messages)
        newly_stale = stale & ~floor.stale_before
        if newly_stale.any():
            floor.smoother.forget(~newly_stale)
        floor.stale_before = stale
        # The density is the same mean count per walkable square metre, then smoothed over the
        # density window: with a window no longer than the count's, count = density x area, rounded.
        density = floor.smoother.update(now_s, mean_count / floor.index.walkable_area_m2, ~stale)

        live_zone = ~stale
        levels, los = floor.grader.update(density, live_zone)
        zones = tuple(
            ZoneState(zone_id, int(counts[i]), float(density[i]), CrowdingLevel(levels[i]), los[i], stale=False)
            if live_zone[i]
            # Unknown, never empty: the flag is what the pages show; the numbers are placeholders.
            else ZoneState(zone_id, 0, 0.0, CrowdingLevel.QUIET, "A", stale=True)
            for i, zone_id in enumerate(floor.index.zone_ids)
        )

        moving = floor.motion.update(now_s, xy_m)
        dots_m = coarsen_positions(
            xy_m,
            cell_m=self.coarsen_m,
            method=self.coarsen_method,
            key=jitter_key(self._jitter_secret, now_s),
            size_m=floor.size_m,
        )
        dots_m, moving = shuffled(self._rng, dots_m, moving)
        return IconFrame(self.station_id, floor.floor_id, now_s, dots_m, moving, zones)

    def _zone_counts(self, floor: _FloorState, xy_m: np.ndarray, covering: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per zone, persons summed over messages and the number of messages ``(z,), (z,)``.

        A zone one live camera covers takes that camera's messages of the last interval. A zone
        several live cameras cover takes the count of the cameras' latest sets fused now (one
        message): averaging it over messages would need a fusion of the floor per message, each
        costing about as much as a whole step (docs/ICONIZER.md, "Counts over the interval").
        """
        cameras = covering.sum(axis=1)
        shared = cameras >= 2
        sums = floor.index.occupancy(xy_m) if shared.any() else np.zeros(len(cameras))
        messages = np.ones(len(cameras), dtype=np.int64)
        alone = cameras == 1
        for column, camera_id in enumerate(floor.camera_ids):
            mine = alone & covering[:, column]
            if mine.any():
                window = self._counts[camera_id]
                sums[mine] = window.sums[mine]
                messages[mine] = window.messages
        return sums, messages
