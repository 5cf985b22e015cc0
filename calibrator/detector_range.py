"""How tall people look in a camera's view, and whether its detector finds people that size.

For the operator (``crowdmap layout check`` and the calibration tool). The calibration gives the
expected height of a standing person whose feet are on each image row
(:func:`homography.scene.person_height_px_per_row`); the detector's measured working range and its
tile plan for the camera (:mod:`detector.reliability`) say on which of those rows a person is shown
to the network at a size it finds reliably, by the whole-frame pass or by a tile. Floor rows where
no crop does are where people will be missed or found unreliably: too far away (too small even in
a tile) or too close (too large).

The operator reads it as one line in Japanese or English, built from these numbers with the
phrases of ``calibrator.i18n.DETECTOR_RANGE_TEXTS`` (a problem is a code, not free text).

Pure: numpy, the calibration and the detector's measurements; no network is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from calibrator.i18n import DETECTOR_RANGE_TEXTS
from detector.reliability import plan_for, reliable_person_height_px, reliable_rows
from homography.calibration import Calibration
from homography.pose import PoseError
from homography.scene import floor_mask_px, person_height_px_per_row
from station import Camera, Floor
from station.languages import LANGUAGES

# Why a camera's range can be unknown: its calibration implies no camera pose, no image row sees the
# walkable floor, or nobody measured the backend's working range (texts: calibrator.i18n).
PROBLEMS = ("pose_unknown", "no_floor_rows", "backend_unmeasured")
# A camera is "in range" when the detector is reliable on at least this share of its floor rows:
# a handful of rows at a tile's seam do not make a camera unusable.
IN_RANGE_SHARE = 0.95


@dataclass(frozen=True)
class DetectorRange:
    """A camera's people sizes against its detector's reliable range.

    Attributes:
        camera_id: The camera.
        backend: The detector backend it runs.
        person_height_px: Smallest and largest expected person height over the rows that see
            walkable floor, pixels; None when the calibration cannot tell (``problem`` says why).
        reliable_px: Person heights the backend finds reliably in the whole-frame pass, in this
            camera's pixels; tiles extend it to smaller people. None for an unmeasured backend.
        floor_rows: Image rows that see walkable floor.
        reliable_rows: Of those, rows where some crop (whole frame or tile) shows a person at a
            reliable size.
        unreliable_spans: ``(first_row, last_row, smallest_px, largest_px)`` of each run of floor rows
            where it does not, with the expected person heights there.
        crops: Crops the detector runs per frame (whole frame plus tiles).
        problem: Why the range is unknown (one of :data:`PROBLEMS`), or None.
        problem_detail: The error behind ``problem`` in its own (English) words, or "".
    """

    camera_id: str
    backend: str
    person_height_px: tuple[float, float] | None
    reliable_px: tuple[float, float] | None
    floor_rows: int
    reliable_rows: int
    unreliable_spans: tuple[tuple[int, int, float, float], ...]
    crops: int
    problem: str | None = None
    problem_detail: str = ""

    def __post_init__(self) -> None:
        if self.problem is not None and self.problem not in PROBLEMS:
            raise ValueError(f"problem must be one of {PROBLEMS}, got {self.problem!r}")

    @property
    def reliable_share(self) -> float | None:
        """Share of floor rows where the detector is reliable (None when unknown)."""
        if self.problem is not None or not self.floor_rows:
            return None
        return self.reliable_rows / self.floor_rows

    @property
    def in_range(self) -> bool | None:
        """True when the detector is reliable on nearly all floor rows; None when unknown."""
        share = self.reliable_share
        return None if share is None else share >= IN_RANGE_SHARE

    def summary(self, lang: str = "en") -> str:
        """One line for the operator, in ``lang`` (``ja`` or ``en``)."""
        words = DETECTOR_RANGE_TEXTS[lang]
        parts = []
        if self.person_height_px is not None:
            low, high = self.person_height_px
            parts.append(words["people"].format(low=low, high=high))
        if self.problem is not None:
            parts.append(words[self.problem].format(detail=self.problem_detail, backend=self.backend))
            return words["sep"].join(parts)
        tiles = self.crops - 1
        reliable = words["reliable_one" if tiles == 1 else "reliable_many"]
        parts.append(reliable.format(backend=self.backend, share=self.reliable_share or 0.0, tiles=tiles))
        if self.unreliable_spans:
            spans = words["join"].join(
                words["span" if a != b else "row"].format(first=a, last=b, low=lo, high=hi)
                for a, b, lo, hi in self.unreliable_spans[:3]
            )
            hidden = len(self.unreliable_spans) - 3
            more = words["more"].format(count=hidden) if hidden > 0 else ""
            parts.append(words["not_on"].format(spans=spans, more=more))
        return words["sep"].join(parts)

    def summaries(self) -> dict[str, str]:
        """The line in every language: ``{"ja": ..., "en": ...}``."""
        return {lang: self.summary(lang) for lang in LANGUAGES}

    def as_json(self) -> dict:
        """Plain numbers for the calibration tool's page."""
        return {
            "camera": self.camera_id,
            "backend": self.backend,
            "person_height_px": _pair(self.person_height_px),
            "reliable_px": _pair(self.reliable_px),
            "floor_rows": self.floor_rows,
            "reliable_rows": self.reliable_rows,
            "reliable_share": None if self.reliable_share is None else round(self.reliable_share, 3),
            "in_range": self.in_range,
            "unreliable_spans": [[a, b, round(lo, 1), round(hi, 1)] for a, b, lo, hi in self.unreliable_spans],
            "crops": self.crops,
            "problem": None if self.problem is None else self.problem_text(),
            "problem_code": self.problem,
            "summary": self.summary(),
            "summary_text": self.summaries(),
        }

    def problem_text(self) -> str:
        """The problem in English, as the layout check prints it."""
        if self.problem is None:
            return ""
        return DETECTOR_RANGE_TEXTS["en"][self.problem].format(detail=self.problem_detail, backend=self.backend)


def _pair(pair: tuple[float, float] | None) -> list[float] | None:
    return None if pair is None else [round(pair[0], 1), round(pair[1], 1)]


def _spans(rows: np.ndarray, heights: np.ndarray) -> tuple[tuple[int, int, float, float], ...]:
    """Runs of consecutive row indices ``rows`` with the expected heights along each."""
    if len(rows) == 0:
        return ()
    breaks = np.flatnonzero(np.diff(rows) > 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(rows) - 1]))
    out = []
    for s, e in zip(starts, ends, strict=True):
        span = heights[rows[s] : rows[e] + 1]
        out.append((int(rows[s]), int(rows[e]), float(np.nanmin(span)), float(np.nanmax(span))))
    return tuple(out)


def camera_detector_range(
    *, camera: Camera, calib: Calibration, floor: Floor, backend: str | None = None
) -> DetectorRange:
    """The expected person heights of a camera against its detector's reliable range.

    Args:
        camera: The camera; its ``detector`` options (``backend``, ``input_px``, ``max_tiles``) apply.
        calib: Its calibration.
        floor: Its floor.
        backend: Overrides the camera's backend.

    Returns:
        The range; ``problem`` set (never an exception) when the calibration implies no camera pose
        or the backend's range was never measured.
    """
    from detector import DEFAULT_BACKEND

    options = dict(camera.detector)
    name = str(backend or options.get("backend") or DEFAULT_BACKEND)
    input_px = options.get("input_px")
    max_tiles = int(options.get("max_tiles", 48))
    image_wh = calib.resolution_wh
    empty = DetectorRange(camera.id, name, None, None, 0, 0, (), 1)
    try:
        heights = person_height_px_per_row(calib, floor)
    except PoseError as error:
        return replace(empty, problem="pose_unknown", problem_detail=str(error))
    floor_rows = np.isfinite(heights)
    if not floor_rows.any():
        return replace(empty, problem="no_floor_rows")
    people = (float(np.nanmin(heights)), float(np.nanmax(heights)))
    try:
        reliable_px = reliable_person_height_px(name, image_wh=image_wh, input_px=input_px)
    except ValueError as error:
        return replace(empty, person_height_px=people, problem="backend_unmeasured", problem_detail=str(error))
    mask = floor_mask_px(calib, floor)
    ok = reliable_rows(
        name, person_height_px=heights, image_wh=image_wh, floor_mask=mask, input_px=input_px, max_tiles=max_tiles
    )
    crops = plan_for(
        name, person_height_px=heights, image_wh=image_wh, floor_mask=mask, input_px=input_px, max_tiles=max_tiles
    )
    return DetectorRange(
        camera_id=camera.id,
        backend=name,
        person_height_px=people,
        reliable_px=reliable_px,
        floor_rows=int(floor_rows.sum()),
        reliable_rows=int((ok & floor_rows).sum()),
        unreliable_spans=_spans(np.flatnonzero(floor_rows & ~ok), heights),
        crops=len(crops),
    )
