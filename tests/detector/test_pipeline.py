"""TiledDetector: tiles merged without duplicates or losses, using a network that sees exactly what is in a crop."""

from collections.abc import Sequence

import numpy as np
import pytest

from detector.pipeline import TiledDetector
from detector.scene import SceneHints


class OracleNetwork:
    """Finds every person whose box overlaps the crop, cut to the crop, as a perfect network would.

    Crops are views into one frame, so their origin in the frame is recovered from their memory offset.
    """

    input_px = 416
    target_person_px = 64.0
    min_person_px = 51.2

    def __init__(self, frame: np.ndarray, people_xyxy: np.ndarray) -> None:
        self.frame = frame
        self.people = people_xyxy
        self.crops_seen = 0

    def infer(self, crops_bgr: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        row_bytes = self.frame.strides[0]
        for crop in crops_bgr:
            self.crops_seen += 1
            offset = crop.__array_interface__["data"][0] - self.frame.__array_interface__["data"][0]
            y0, x0 = offset // row_bytes, (offset % row_bytes) // self.frame.strides[1]
            h, w = crop.shape[:2]
            boxes = self.people - np.array([x0, y0, x0, y0])
            cut = np.column_stack(
                (
                    np.clip(boxes[:, 0], 0, w),
                    np.clip(boxes[:, 1], 0, h),
                    np.clip(boxes[:, 2], 0, w),
                    np.clip(boxes[:, 3], 0, h),
                )
            )
            visible = (cut[:, 2] - cut[:, 0] > 2) & (cut[:, 3] - cut[:, 1] > 2)
            out.append((cut[visible], np.full(int(visible.sum()), 0.9)))
        return out


def crowd(hints: SceneHints, width: int, rng: np.random.Generator, count: int) -> np.ndarray:
    rows = np.flatnonzero(np.isfinite(hints.person_height_px))
    people = []
    while len(people) < count:
        foot_y = float(rng.choice(rows))
        h = float(hints.person_height_px[int(foot_y)])
        x = float(rng.uniform(0.3 * h, width - 0.3 * h))
        box = np.array([x - 0.2 * h, foot_y - h, x + 0.2 * h, foot_y])
        if box[1] < 0:
            continue
        # Keep people apart, so a correct merge must return each exactly once.
        if all(abs(box[0] - p[0]) > 0.5 * h or abs(box[3] - p[3]) > 0.3 * h for p in people):
            people.append(box)
    return np.array(people)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tiles_merge_to_each_person_exactly_once(seed: int) -> None:
    hints = SceneHints.from_near_far(
        image_wh=(960, 1080), far_row_px=175, far_height_px=30, near_row_px=1079, near_height_px=60
    )
    frame = np.zeros((1080, 960, 3), np.uint8)
    people = crowd(hints, 960, np.random.default_rng(seed), 40)
    network = OracleNetwork(frame, people)
    detector = TiledDetector(
        network=network, name="oracle", hints=hints, whole_frame_pass=False, filter_implausible=False
    )
    found = detector.detect(frame, camera_id="c", timestamp=0.0)
    assert len(detector.tiles_for((960, 1080))) > 4
    assert len(found) == len(people)
    # Each person comes back whole (from the tile that holds them entirely).
    order = np.lexsort((found.xyxy_px[:, 0], found.xyxy_px[:, 3]))
    expected = people[np.lexsort((people[:, 0], people[:, 3]))]
    np.testing.assert_allclose(found.xyxy_px[order], expected, atol=1e-6)


def test_without_hints_the_whole_frame_runs_once() -> None:
    frame = np.zeros((576, 768, 3), np.uint8)
    people = np.array([[100.0, 100.0, 130.0, 180.0]])
    network = OracleNetwork(frame, people)
    detector = TiledDetector(network=network, name="oracle")
    found = detector.detect(frame, camera_id="c", timestamp=0.0)
    assert network.crops_seen == 1
    np.testing.assert_allclose(found.xyxy_px, people)


def test_hints_for_another_frame_size_are_an_error() -> None:
    hints = SceneHints(person_height_px=np.full(100, 30.0))
    frame = np.zeros((50, 50, 3), np.uint8)
    detector = TiledDetector(network=OracleNetwork(frame, np.zeros((0, 4))), name="oracle", hints=hints)
    with pytest.raises(ValueError, match="100 rows but the frame has 50"):
        detector.detect(frame, camera_id="c", timestamp=0.0)


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"score_threshold": 1.5}, "score_threshold"), ({"nms_iou": 0.0}, "nms_iou")]
)
def test_invalid_thresholds(kwargs: dict, match: str) -> None:
    frame = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(ValueError, match=match):
        TiledDetector(network=OracleNetwork(frame, np.zeros((0, 4))), name="oracle", **kwargs)
