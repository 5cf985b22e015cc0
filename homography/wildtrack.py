"""Read the WILDTRACK dataset's calibrations and ground truth (Chavdarova et al., CVPR 2018).

WILDTRACK is 7 overlapping cameras over a 12 m x 36 m square. Its files give, per camera, OpenCV
intrinsics (``intrinsic_zero`` for the undistorted frames, ``intrinsic_original`` with the lens
distortion) and extrinsics (``rvec``, ``tvec`` in centimetres), and per annotated frame each
person's ground position (a 2.5 cm grid index) and box in every camera that sees them.

This module only reads files into plain values; projecting and fusing is done elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arrays import readonly_array
from homography.opencv_xml import read_opencv_node
from station import CameraModel, Floor, Text

# viewNum 0..6 in the annotations, in the dataset's camera order (C1..C7).
WILDTRACK_CAMERAS = ("CVLab1", "CVLab2", "CVLab3", "CVLab4", "IDIAP1", "IDIAP2", "IDIAP3")
WILDTRACK_RESOLUTION_WH = (1920, 1080)
# positionID -> ground metres: a 480 x 1440 grid of 2.5 cm cells starting at (-3 m, -9 m).
_GRID_COLUMNS = 480
_GRID_STEP_M = 0.025
_GRID_ORIGIN_M = (-3.0, -9.0)
WILDTRACK_AREA_M = (12.0, 36.0)
# The plan puts its origin at the annotated area's corner, so plan = world + (3 m, 9 m).
WILDTRACK_WORLD_TO_PLAN = ((1.0, 0.0, 3.0), (0.0, 1.0, 9.0), (0.0, 0.0, 1.0))
_CM_PER_M = 100.0


class WildtrackError(ValueError):
    """A WILDTRACK file is missing or not in the expected format; the message names the file."""


def position_id_to_ground_m(position_id: np.ndarray) -> np.ndarray:
    """Ground positions ``(n, 2)`` in WILDTRACK world metres for grid indices ``(n,)``."""
    ids = np.asarray(position_id, dtype=np.int64)
    x = _GRID_ORIGIN_M[0] + _GRID_STEP_M * (ids % _GRID_COLUMNS)
    y = _GRID_ORIGIN_M[1] + _GRID_STEP_M * (ids // _GRID_COLUMNS)
    return np.column_stack((x, y)).astype(np.float64)


def wildtrack_floor() -> Floor:
    """The annotated 12 m x 36 m square as a floor plan (origin at its corner, see ``WILDTRACK_WORLD_TO_PLAN``)."""
    width, height = WILDTRACK_AREA_M
    return Floor(
        id="square",
        name=Text(ja="WILDTRACK 広場", en="WILDTRACK square"),
        size_m=(width, height),
        walkable_m=[[(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]],
    )


def load_wildtrack_camera(
    dataset_dir: str | Path,
    camera: str,
    *,
    undistorted: bool = True,
    world_to_floor: tuple[tuple[float, float, float], ...] | None = WILDTRACK_WORLD_TO_PLAN,
) -> CameraModel:
    """One camera's full model, in metres.

    Args:
        dataset_dir: The WILDTRACK folder (holding ``calibrations/``).
        camera: One of :data:`WILDTRACK_CAMERAS`.
        undistorted: True for ``intrinsic_zero`` (the undistorted frames the boxes refer to),
            False for ``intrinsic_original`` with its lens distortion.
        world_to_floor: Ground-to-plan transform stored in the model; None keeps world metres.

    Raises:
        WildtrackError: Unknown camera name. ``OpenCvXmlError`` for unreadable files.
    """
    if camera not in WILDTRACK_CAMERAS:
        raise WildtrackError(f"unknown WILDTRACK camera {camera!r}; expected one of {WILDTRACK_CAMERAS}")
    folder = Path(dataset_dir) / "calibrations"
    intrinsic_file = folder / ("intrinsic_zero" if undistorted else "intrinsic_original") / f"intr_{camera}.xml"
    extrinsic_file = folder / "extrinsic" / f"extr_{camera}.xml"
    camera_matrix = read_opencv_node(intrinsic_file, "camera_matrix")
    dist_coeffs = read_opencv_node(intrinsic_file, "distortion_coefficients").ravel()
    rvec = read_opencv_node(extrinsic_file, "rvec").ravel()
    tvec_cm = read_opencv_node(extrinsic_file, "tvec").ravel()
    if camera_matrix.shape != (3, 3) or rvec.shape != (3,) or tvec_cm.shape != (3,):
        raise WildtrackError(
            f"{camera}: expected a 3x3 camera_matrix and 3-vectors rvec, tvec; got "
            f"{camera_matrix.shape}, {rvec.shape}, {tvec_cm.shape}"
        )
    # Validated from plain lists: the model checks the shapes its tuple types declare.
    return CameraModel.model_validate(
        {
            "camera_matrix": camera_matrix.tolist(),
            "dist_coeffs": dist_coeffs.tolist(),
            "rvec": rvec.tolist(),
            "tvec_m": (tvec_cm / _CM_PER_M).tolist(),
            "world_to_floor": world_to_floor,
        }
    )


@dataclass(frozen=True)
class WildtrackFrame:
    """The ground truth of one annotated frame.

    Attributes:
        frame: WILDTRACK frame number (0, 5, 10, ...).
        person_id: Person identifiers ``(n,)``.
        ground_m: Ground positions ``(n, 2)`` in WILDTRACK world metres.
        boxes_px: ``(7, n, 4)`` boxes ``x_min, y_min, x_max, y_max`` per camera (in
            :data:`WILDTRACK_CAMERAS` order) in undistorted pixels; NaN where the camera does not see
            the person.
    """

    frame: int
    person_id: np.ndarray
    ground_m: np.ndarray
    boxes_px: np.ndarray

    def __post_init__(self) -> None:
        ground = readonly_array(self.ground_m, "ground_m", (2,))
        ids = readonly_array(self.person_id, "person_id", (), dtype=np.int64)
        boxes = np.array(self.boxes_px, dtype=np.float64, copy=True)
        expected = (len(WILDTRACK_CAMERAS), len(ground), 4)
        if boxes.size == 0:
            boxes = boxes.reshape(expected)
        if len(ids) != len(ground) or boxes.shape != expected:
            raise ValueError(
                f"person_id, boxes_px must match ground_m's {len(ground)} people: expected shapes "
                f"({len(ground)},), {expected}, got {ids.shape}, {boxes.shape}"
            )
        boxes.flags.writeable = False
        object.__setattr__(self, "ground_m", ground)
        object.__setattr__(self, "person_id", ids)
        object.__setattr__(self, "boxes_px", boxes)

    def __len__(self) -> int:
        return len(self.ground_m)


def _parse_frame(path: Path, frame: int) -> WildtrackFrame:
    try:
        people = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise WildtrackError(f"{path}: cannot read: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise WildtrackError(f"{path}: not valid JSON: {error}") from None
    boxes = np.full((len(WILDTRACK_CAMERAS), len(people), 4), np.nan)
    try:
        ids = [int(person["personID"]) for person in people]
        ground = position_id_to_ground_m(np.array([int(person["positionID"]) for person in people], dtype=np.int64))
        for i, person in enumerate(people):
            for view in person["views"]:
                box = [view["xmin"], view["ymin"], view["xmax"], view["ymax"]]
                # -1 in every field marks a camera that does not see this person.
                if min(box) == -1 and max(box) == -1:
                    continue
                boxes[int(view["viewNum"]), i] = box
    except (KeyError, TypeError, IndexError) as error:
        raise WildtrackError(f"{path}: unexpected annotation structure ({error!r})") from None
    return WildtrackFrame(frame=frame, person_id=np.array(ids), ground_m=ground.reshape(-1, 2), boxes_px=boxes)


def load_wildtrack_frames(dataset_dir: str | Path, first: int = 0, last: int = 1995) -> list[WildtrackFrame]:
    """Every annotated frame whose number lies in ``first..last`` (inclusive), in order.

    Raises:
        WildtrackError: No annotation folder, or no annotated frame in the range.
    """
    folder = Path(dataset_dir) / "ground_truth" / "annotations_positions"
    if not folder.is_dir():
        raise WildtrackError(f"{folder}: no such folder; expected WILDTRACK's ground_truth/annotations_positions")
    frames = []
    for path in sorted(folder.glob("*.json")):
        if not path.stem.isdigit():
            continue
        number = int(path.stem)
        if first <= number <= last:
            frames.append(_parse_frame(path, number))
    if not frames:
        raise WildtrackError(f"{folder}: no annotated frame in {first}..{last}")
    return frames
