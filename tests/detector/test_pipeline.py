"""TiledDetector: tiles merged without duplicates or losses, using a network that sees exactly what is in a crop."""

from collections.abc import Sequence

import numpy as np
import pytest

from detector.pipeline import TiledDetector
from detector.scene import SceneHints
from detector.tiling import Tile


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
    found = detector.detect(frame, camera_id="c", timestamp_s=0.0)
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
    found = detector.detect(frame, camera_id="c", timestamp_s=0.0)
    assert network.crops_seen == 1
    np.testing.assert_allclose(found.xyxy_px, people)


def test_hints_for_another_frame_size_are_an_error() -> None:
    hints = SceneHints(person_height_px=np.full(100, 30.0))
    frame = np.zeros((50, 50, 3), np.uint8)
    detector = TiledDetector(network=OracleNetwork(frame, np.zeros((0, 4))), name="oracle", hints=hints)
    with pytest.raises(ValueError, match="100 rows but the frame has 50"):
        detector.detect(frame, camera_id="c", timestamp_s=0.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"score_threshold": 1.5}, "score_threshold"),
        ({"nms_iou": 0.0}, "nms_iou"),
        ({"side_cut_min_visible": 0.0}, "side_cut_min_visible must lie in"),
    ],
)
def test_invalid_thresholds(kwargs: dict, match: str) -> None:
    frame = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(ValueError, match=match):
        TiledDetector(network=OracleNetwork(frame, np.zeros((0, 4))), name="oracle", **kwargs)


class ScriptedNetwork:
    """Returns, for each crop, the boxes (frame pixels) and scores scripted for that crop (origin and size)."""

    input_px = 416
    target_person_px = 64.0
    min_person_px = 51.2

    def __init__(self, frame: np.ndarray, by_tile: dict[Tile, list[tuple[list[float], float]]]) -> None:
        self.frame = frame
        self.by_tile = by_tile

    def infer(self, crops_bgr: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        row_bytes = self.frame.strides[0]
        for crop in crops_bgr:
            offset = crop.__array_interface__["data"][0] - self.frame.__array_interface__["data"][0]
            y0, x0 = offset // row_bytes, (offset % row_bytes) // self.frame.strides[1]
            found = self.by_tile.get(Tile(x0, y0, x0 + crop.shape[1], y0 + crop.shape[0]), [])
            boxes = np.array([b for b, _ in found], float).reshape(-1, 4) - np.array([x0, y0, x0, y0])
            out.append((boxes, np.array([s for _, s in found], float)))
        return out


def two_band_detector(by_tile: dict, **kwargs) -> tuple[TiledDetector, np.ndarray]:
    hints = SceneHints(person_height_px=np.full(400, 40.0))
    frame = np.zeros((400, 300, 3), np.uint8)
    detector = TiledDetector(
        network=ScriptedNetwork(frame, by_tile), name="scripted", hints=hints, whole_frame_pass=False, **kwargs
    )
    return detector, frame


def test_a_fragment_on_a_tile_top_does_not_suppress_the_whole_person_above() -> None:
    # Pick the two bands from the real plan, put a person whose legs reach into the second band.
    detector, frame = two_band_detector({})
    tiles = detector.tiles_for((300, 400))
    upper, lower = tiles[0], next(t for t in tiles if t.y0 > tiles[0].y0)
    person = [100.0, lower.y0 - 20.0, 116.0, lower.y0 + 20.0]  # 40 px, whole in the upper band
    legs = [100.0, lower.y0 + 0.5, 116.0, lower.y0 + 20.0]  # its lower half, cut by the lower tile's top
    detector.network.by_tile = {upper: [(person, 0.45)], lower: [(legs, 0.9)]}
    found = detector.detect(frame, camera_id="c", timestamp_s=0.0)
    np.testing.assert_allclose(found.xyxy_px, [person])


def test_a_weak_box_never_suppresses_a_strong_one() -> None:
    # The whole frame scores the person 0.45 (under its 0.5 threshold: weak); a tile scores them 0.35
    # (over the tiles' 0.3: strong). The strong box must survive the merge whatever the raw scores say.
    hints = SceneHints(person_height_px=np.full(400, 40.0))
    frame = np.zeros((400, 300, 3), np.uint8)
    detector = TiledDetector(
        network=ScriptedNetwork(frame, {}), name="scripted", hints=hints, score_threshold=0.5, tile_score_threshold=0.3
    )
    whole, tile = detector.tiles_for((300, 400))[:2]
    strong = [100.0, 60.0, 116.0, 100.0]
    weak = [101.0, 61.0, 117.0, 101.0]
    detector.network.by_tile = {whole: [(weak, 0.45)], tile: [(strong, 0.35)]}
    xyxy, _, is_strong = detector.merge(detector.run_network(frame), (300, 400), weak_score_factor=0.8)
    np.testing.assert_allclose(xyxy, [strong])
    assert is_strong.tolist() == [True]


def test_temporal_filter_runs_per_camera_and_only_when_asked() -> None:
    from detector.temporal import TemporalSettings

    plain, frame = two_band_detector({}, score_threshold=0.5, tile_score_threshold=0.5)
    tile = plain.tiles_for((300, 400))[0]
    person = [100.0, 60.0, 116.0, 100.0]
    smoothed, _ = two_band_detector(
        {}, score_threshold=0.5, tile_score_threshold=0.5, temporal=TemporalSettings(), weak_score_factor=0.6
    )
    for det in (plain, smoothed):
        det.network.frame = frame
    sequence = [0.8, 0.4, 0.8]  # the person scores under the threshold in the middle frame
    found = {"plain": [], "smoothed": [], "other camera": []}
    for number, score in enumerate(sequence):
        for det in (plain, smoothed):
            det.network.by_tile = {tile: [(person, score)]}
        found["plain"].append(len(plain.detect(frame, camera_id="a", timestamp_s=number * 0.1)))
        found["smoothed"].append(len(smoothed.detect(frame, camera_id="a", timestamp_s=number * 0.1)))
        if number == 1:  # a second camera's first frame: nothing to confirm the weak box with
            found["other camera"].append(len(smoothed.detect(frame, camera_id="b", timestamp_s=number * 0.1)))
    assert found == {"plain": [1, 0, 1], "smoothed": [1, 1, 1], "other camera": [0]}


class StripOracle(OracleNetwork):
    """The perfect network, taking any input size: the detector hands it strips with their sizes."""

    any_input_size = True

    def __init__(self, frame: np.ndarray, people_xyxy: np.ndarray) -> None:
        super().__init__(frame, people_xyxy)
        self.sizes: list[tuple[int, int] | None] = []

    def infer(self, crops_bgr, input_wh=None):
        self.sizes.extend(input_wh)
        return super().infer(crops_bgr)


@pytest.mark.parametrize("seed", [0, 1])
def test_strips_merge_to_each_person_exactly_once(seed: int) -> None:
    hints = SceneHints.from_near_far(
        image_wh=(960, 1080), far_row_px=175, far_height_px=30, near_row_px=1079, near_height_px=60
    )
    frame = np.zeros((1080, 960, 3), np.uint8)
    people = crowd(hints, 960, np.random.default_rng(seed), 40)
    network = StripOracle(frame, people)
    detector = TiledDetector(
        network=network, name="oracle", hints=hints, whole_frame_pass=False, filter_implausible=False
    )
    found = detector.detect(frame, camera_id="c", timestamp_s=0.0)
    tiles = detector.tiles_for((960, 1080))
    assert all(t.input_wh is not None and (t.x0, t.x1) == (0, 960) for t in tiles)
    assert network.sizes == [t.input_wh for t in tiles]
    assert len(found) == len(people)


def test_a_person_on_a_tile_bottom_edge_is_kept_when_the_band_below_misses_them() -> None:
    detector, frame = two_band_detector({})
    tiles = detector.tiles_for((300, 400))
    upper, lower = tiles[0], next(t for t in tiles if t.y0 > tiles[0].y0)
    on_edge = [100.0, upper.y1 - 38.0, 116.0, upper.y1 - 1.0]  # 37 px: nearly whole, feet on the edge
    detector.network.by_tile = {upper: [(on_edge, 0.8)], lower: []}
    np.testing.assert_allclose(detector.detect(frame, camera_id="c", timestamp_s=0.0).xyxy_px, [on_edge])
    # When the band below finds them whole, that box wins over the cut one, whatever the scores.
    whole = [100.0, upper.y1 - 38.0, 116.0, upper.y1 + 2.0]
    detector.network.by_tile = {upper: [(on_edge, 0.9)], lower: [(whole, 0.4)]}
    np.testing.assert_allclose(detector.detect(frame, camera_id="c", timestamp_s=0.0).xyxy_px, [whole])
    # Without the fallback the cut box goes.
    strict, _ = two_band_detector({}, keep_bottom_cut=False)
    strict.network.frame = frame
    strict.network.by_tile = {upper: [(on_edge, 0.8)], lower: []}
    assert len(strict.detect(frame, camera_id="c", timestamp_s=0.0)) == 0


def test_fragments_of_a_person_are_merged_away() -> None:
    detector, frame = two_band_detector({})
    tile = detector.tiles_for((300, 400))[0]
    person = [100.0, 60.0, 116.0, 100.0]
    legs = [101.0, 76.0, 118.0, 102.0]  # 26 px of an expected 40 (0.65), mostly inside the person: a fragment
    detector.network.by_tile = {tile: [(person, 0.5), (legs, 0.9)]}
    np.testing.assert_allclose(detector.detect(frame, camera_id="c", timestamp_s=0.0).xyxy_px, [person])


@pytest.mark.parametrize("complete_side_cuts", [True, False])
def test_a_person_cut_by_the_image_side_is_completed_or_dropped(complete_side_cuts: bool) -> None:
    # Expected height 40 px everywhere: a body is 0.41 x 40 = 16.4 px wide, its foot point half that
    # from the box's inner edge. 12 px visible: feet in view (the box reaches 4.4 px beyond the left
    # side); 6 px visible: feet outside the frame, the person goes.
    detector, frame = two_band_detector({}, complete_side_cuts=complete_side_cuts)
    tile = detector.tiles_for((300, 400))[0]
    in_view = [0.0, 60.0, 12.0, 100.0]
    feet_outside = [0.0, 160.0, 6.0, 200.0]
    detector.network.by_tile = {tile: [(in_view, 0.9), (feet_outside, 0.9)]}
    found = detector.detect(frame, camera_id="c", timestamp_s=0.0)
    if complete_side_cuts:
        np.testing.assert_allclose(found.xyxy_px, [[12.0 - 16.4, 60.0, 12.0, 100.0]])
        np.testing.assert_allclose(found.foot_px, [[12.0 - 8.2, 100.0]])
    else:
        np.testing.assert_allclose(found.xyxy_px, [in_view, feet_outside])


@pytest.mark.parametrize(
    ("halves_score", "split_stacked", "people"),
    [
        (0.25, True, 2),  # under the tile threshold 0.4 but above 0.6 of it: evidence for a second person
        (0.2, True, 1),  # under the evidence floor: the tall box stays one person
        (0.25, False, 1),  # the rule turned off
    ],
)
def test_a_stacked_pair_is_split_where_the_raw_output_holds_both(halves_score, split_stacked, people) -> None:
    detector, frame = two_band_detector({}, split_stacked=split_stacked)
    tile = detector.tiles_for((300, 400))[0]
    tall = [100.0, 36.0, 116.0, 100.0]  # 64 px where 40 are expected: 1.6 x
    upper, lower = [100.0, 36.0, 116.0, 72.0], [101.0, 60.0, 116.0, 100.0]
    detector.network.by_tile = {tile: [(tall, 0.5), (upper, halves_score), (lower, halves_score)]}
    found = detector.detect(frame, camera_id="c", timestamp_s=0.0)
    assert len(found) == people
    if people == 2:
        np.testing.assert_allclose(found.xyxy_px, [[100.0, 36.0, 116.0, 76.0], lower])
        np.testing.assert_allclose(found.confidence, [0.5, 0.5])  # the pair keeps the tall box's score
