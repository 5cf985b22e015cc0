"""Temporal consistency on the edge: confirm weak detections over consecutive frames, bridge short misses.

A single frame's detector output flickers: a person half hidden by a post scores 0.4 in one frame
and 0.6 in the next, and a shadow scores 0.45 once and never again. :class:`TemporalFilter` keeps,
for one camera, a short-lived association of boxes in image space:

- a *strong* detection (one that passes its single-frame threshold) is reported in its own frame;
- a *weak* detection (below that threshold but above a lower one) is reported only when it continues
  a box seen in the previous frames, so it is confirmed by at least two frames;
- a box reported in the previous frame and seen in at least ``bridge_min_hits`` frames that goes
  missing is reported at its predicted place for up to ``bridge_frames`` frames (a miss is bridged),
  with its score decayed.

PRIVACY.md P2: the association lives only inside this object, in the edge process that owns the
camera. It is keyed by nothing but box geometry, forgets a box after ``bridge_frames`` missed frames
and forgets everything when frames are more than ``max_gap_s`` apart (seconds at most). Nothing it
returns identifies anyone: only boxes and scores, in no stable order that could act as an id.
It holds no pixels and no appearance features.

The first frame (and every frame after a reset) is reported exactly as a single image would be:
strong detections only, since there is nothing yet to confirm a weak one with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from detector.boxes import iou_matrix


@dataclass(frozen=True)
class TemporalSettings:
    """How the filter confirms and bridges; the defaults suit 5-25 detector frames per second.

    Attributes:
        confirm_hits: Frames (this one included) a weak candidate's box must have been seen in before
            it is reported.
        strong_hits_to_report: Frames (this one included) a box must have been seen in before even a
            strong detection of it is reported: 2 confirms every new person over two frames (and
            reports them one frame late); 1 reports strong detections at once.
        confirm_strong: Frames in which that box must have been strong (passed its single-frame
            threshold); 0 lets a box made only of weak candidates be confirmed.
        bridge_frames: Missed frames a box is carried over at its predicted place (0: never).
        bridge_min_hits: Frames a box must have been seen in before a miss is bridged; a one-frame
            false positive is never prolonged.
        bridge_score_decay: Score factor per bridged frame (the evidence is older).
        max_distance: Largest foot-point distance between a box and its continuation, in the box's
            own heights per second of elapsed time; walking at 1.5 m/s a 1.7 m person moves about
            0.9 of their height per second.
        min_distance: Foot-point distance always accepted, in box heights (detector jitter).
        max_height_ratio: Largest ratio of heights between a box and its continuation.
        weak_min_iou: A weak candidate continues a box only if it overlaps the box's predicted place by
            at least this IoU (a strong one only needs the distance and height gates): weak evidence
            must agree closely, not just be nearby.
        max_gap_s: Frames further apart than this share nothing: the filter starts afresh.
    """

    confirm_hits: int = 2
    strong_hits_to_report: int = 1
    confirm_strong: int = 1
    bridge_frames: int = 1
    bridge_min_hits: int = 3
    bridge_score_decay: float = 0.8
    max_distance: float = 1.2
    min_distance: float = 0.25
    max_height_ratio: float = 1.5
    weak_min_iou: float = 0.5
    max_gap_s: float = 1.0

    def __post_init__(self) -> None:
        if self.confirm_hits < 1:
            raise ValueError(f"confirm_hits must be >= 1, got {self.confirm_hits}")
        if self.strong_hits_to_report < 1:
            raise ValueError(f"strong_hits_to_report must be >= 1, got {self.strong_hits_to_report}")
        if self.confirm_strong < 0:
            raise ValueError(f"confirm_strong must be >= 0, got {self.confirm_strong}")
        if self.bridge_frames < 0:
            raise ValueError(f"bridge_frames must be >= 0, got {self.bridge_frames}")
        if self.bridge_min_hits < 1:
            raise ValueError(f"bridge_min_hits must be >= 1, got {self.bridge_min_hits}")
        if not 0.0 < self.bridge_score_decay <= 1.0:
            raise ValueError(f"bridge_score_decay must lie in (0, 1], got {self.bridge_score_decay}")
        if self.max_distance <= 0 or self.min_distance < 0:
            raise ValueError(
                f"max_distance must be > 0 and min_distance >= 0, got {self.max_distance}, {self.min_distance}"
            )
        if self.max_height_ratio < 1.0:
            raise ValueError(f"max_height_ratio must be >= 1, got {self.max_height_ratio}")
        if self.max_gap_s <= 0:
            raise ValueError(f"max_gap_s must be > 0, got {self.max_gap_s}")


@dataclass
class _Box:
    """One box followed from frame to frame (internal; never leaves the filter)."""

    xyxy_px: np.ndarray
    score: float
    seen_at_s: float
    velocity_px_s: np.ndarray = field(default_factory=lambda: np.zeros(2))
    hits: int = 1
    strong_hits: int = 0
    missed: int = 0
    reported: bool = False


def _foot(xyxy_px: np.ndarray) -> np.ndarray:
    """Foot points ``(n, 2)`` (bottom centres) of boxes ``(n, 4)``."""
    return np.column_stack(((xyxy_px[:, 0] + xyxy_px[:, 2]) / 2.0, xyxy_px[:, 3]))


class TemporalFilter:
    """Short-lived image-space association for one camera (see the module docstring).

    Args:
        settings: Confirmation and bridging rules.
    """

    def __init__(self, settings: TemporalSettings | None = None) -> None:
        self.settings = settings or TemporalSettings()
        self._boxes: list[_Box] = []
        self._last_timestamp: float | None = None

    def reset(self) -> None:
        """Forget everything (a new scene, a gap in the stream, a repeated frame)."""
        self._boxes = []
        self._last_timestamp = None

    def update(
        self, *, xyxy_px: np.ndarray, scores: np.ndarray, strong: np.ndarray, timestamp_s: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Take one frame's candidates and return the boxes to report for it.

        Args:
            xyxy_px: Candidate boxes ``(n, 4)`` of this frame, pixels, after the detector's merge.
            scores: Their scores ``(n,)`` in [0, 1].
            strong: ``(n,)`` bool, True where a candidate passes its single-frame threshold.
            timestamp_s: Capture time of the frame, seconds; must increase from frame to frame (a frame
                that does not, or comes more than ``max_gap_s`` after the last, starts afresh).

        Returns:
            Reported boxes ``(k, 4)`` and scores ``(k,)``: the strong candidates, the weak ones that
            continue a recent box, and the bridged boxes at their predicted places.

        Raises:
            ValueError: The arrays' shapes disagree.
        """
        xyxy_px = np.asarray(xyxy_px, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        strong = np.asarray(strong, dtype=bool).reshape(-1)
        if not len(xyxy_px) == len(scores) == len(strong):
            lengths = f"{len(xyxy_px)}, {len(scores)}, {len(strong)}"
            raise ValueError(f"xyxy_px, scores and strong must have the same length, got {lengths}")
        settings = self.settings
        last = self._last_timestamp
        if last is None or not timestamp_s > last or timestamp_s - last > settings.max_gap_s:
            self.reset()
        self._last_timestamp = float(timestamp_s)

        elapsed_s = np.array([timestamp_s - b.seen_at_s for b in self._boxes])
        predicted = np.array(
            [b.xyxy_px + np.tile(b.velocity_px_s * e, 2) for b, e in zip(self._boxes, elapsed_s, strict=True)]
        ).reshape(-1, 4)
        # Strong candidates first, then weak ones for the boxes left (as ByteTrack does): a weak fragment
        # next to a person must not take that person's box and leave the strong detection unmatched.
        strong_index = np.flatnonzero(strong)
        weak_index = np.flatnonzero(~strong)
        if len(strong_index) and len(weak_index):
            # A weak box overlapping a strong one is a fragment or a shifted copy of that person.
            overlap = iou_matrix(xyxy_px[weak_index], xyxy_px[strong_index]).max(axis=1)
            weak_index = weak_index[overlap <= 0.3]
        pairs = [(b, int(strong_index[d])) for b, d in self._associate(predicted, elapsed_s, xyxy_px[strong_index])]
        left = np.array(sorted(set(range(len(self._boxes))) - {b for b, _ in pairs}), dtype=np.int64)
        pairs += [
            (int(left[b]), int(weak_index[d]))
            for b, d in self._associate(
                predicted[left], elapsed_s[left], xyxy_px[weak_index], min_iou=settings.weak_min_iou
            )
        ]
        box_of = {d: b for b, d in pairs}

        report_xyxy, report_scores = [], []
        next_boxes: list[_Box] = []
        for d in sorted([*strong_index.tolist(), *weak_index.tolist()]):
            if d in box_of:
                box = self._boxes[box_of[d]]
                step = (_foot(xyxy_px[d : d + 1]) - _foot(box.xyxy_px[None]))[0] / elapsed_s[box_of[d]]
                # Smoothed velocity: one detection's jitter should not throw a bridged box off.
                box.velocity_px_s = step if box.hits == 1 else 0.5 * box.velocity_px_s + 0.5 * step
                box.xyxy_px, box.score, box.seen_at_s = xyxy_px[d], float(scores[d]), float(timestamp_s)
                box.hits, box.missed = box.hits + 1, 0
            else:
                box = _Box(xyxy_px=xyxy_px[d], score=float(scores[d]), seen_at_s=float(timestamp_s))
            box.strong_hits += int(strong[d])
            # Hysteresis: a weak candidate is reported only as the continuation of a box that was strong
            # before and has been seen in enough frames; weak clutter that never passes a threshold stays out.
            box.reported = (bool(strong[d]) and box.hits >= settings.strong_hits_to_report) or (
                box.strong_hits >= settings.confirm_strong and box.hits >= settings.confirm_hits
            )
            if box.reported:
                report_xyxy.append(xyxy_px[d])
                report_scores.append(float(scores[d]))
            next_boxes.append(box)
        reported = np.asarray(report_xyxy, dtype=np.float64).reshape(-1, 4)
        matched = {b for b, _ in pairs}
        for index, box in enumerate(self._boxes):
            if index in matched:
                continue
            box.missed += 1
            bridge = (
                box.reported
                and box.hits >= settings.bridge_min_hits
                and box.missed <= settings.bridge_frames
                # A person found again nearby but not associated (a jump, a size change) is not doubled.
                and not np.any(iou_matrix(predicted[index], reported) > 0.3)
            )
            if bridge:
                box.score *= settings.bridge_score_decay
                report_xyxy.append(predicted[index])
                report_scores.append(box.score)
            box.reported = bridge
            # A box missed once is kept (reported only if bridged) so that the next frame can continue it.
            if box.missed <= max(settings.bridge_frames, 1):
                next_boxes.append(box)
        self._boxes = next_boxes
        return np.asarray(report_xyxy, dtype=np.float64).reshape(-1, 4), np.asarray(report_scores, dtype=np.float64)

    def _associate(
        self, predicted: np.ndarray, elapsed_s: np.ndarray, xyxy_px: np.ndarray, *, min_iou: float = 0.0
    ) -> list[tuple[int, int]]:
        """Greedy one-to-one pairs (box index, candidate index), nearest foot points first, within the gates."""
        if len(predicted) == 0 or len(xyxy_px) == 0:
            return []
        settings = self.settings
        box_h = np.maximum(predicted[:, 3] - predicted[:, 1], 1.0)
        det_h = np.maximum(xyxy_px[:, 3] - xyxy_px[:, 1], 1.0)
        distance = np.linalg.norm(_foot(predicted)[:, None, :] - _foot(xyxy_px)[None, :, :], axis=2) / box_h[:, None]
        # The longer since the last sighting, the farther the person may have walked.
        gate = settings.min_distance + settings.max_distance * elapsed_s[:, None]
        ratio = np.maximum(box_h[:, None] / det_h[None, :], det_h[None, :] / box_h[:, None])
        allowed = (distance <= gate) & (ratio <= settings.max_height_ratio)
        if min_iou > 0:
            allowed &= iou_matrix(predicted, xyxy_px) >= min_iou
        pairs: list[tuple[int, int]] = []
        used_b: set[int] = set()
        used_d: set[int] = set()
        for b, d in np.argwhere(allowed)[np.argsort(distance[allowed], kind="stable")]:
            if int(b) not in used_b and int(d) not in used_d:
                used_b.add(int(b))
                used_d.add(int(d))
                pairs.append((int(b), int(d)))
        return pairs


def temporal_settings(value: object) -> TemporalSettings | None:
    """A detector's ``temporal`` option as settings: False/None off, True the defaults, a mapping of fields.

    Raises:
        ValueError: Any other value, or a mapping with unknown or invalid fields.
    """
    if value is None or value is False:
        return None
    if value is True:
        return TemporalSettings()
    if isinstance(value, TemporalSettings):
        return value
    if isinstance(value, dict):
        fields = set(TemporalSettings.__dataclass_fields__)
        unknown = sorted(set(value) - fields)
        if unknown:
            raise ValueError(f"temporal: unknown settings {unknown}; expected some of {sorted(fields)}")
        return TemporalSettings(**value)
    raise ValueError(f"temporal must be true, false or a mapping of settings, got {value!r}")
