from contextlib import nullcontext as does_not_raise

import numpy as np
import pytest

from detector.scene import SceneHints
from detector.tiling import Tile, cut_at_bottom, cut_at_top, drop_cut_boxes, fragments, nms, plan_tiles, plausible


def linear_hints(height: int = 1080, width: int = 960, far: float = 25.0, near: float = 45.0) -> SceneHints:
    return SceneHints.from_near_far(
        image_wh=(width, height), far_row_px=100, far_height_px=far, near_row_px=1060, near_height_px=near
    )


@pytest.mark.parametrize(
    ("heights", "mask", "expectation"),
    [
        (np.full(10, 50.0), None, does_not_raise()),
        (np.full(10, np.nan), np.ones((10, 4), bool), does_not_raise()),  # a mask alone: no scale knowledge
        (np.full((10, 2), 50.0), None, pytest.raises(ValueError, match=r"shape \(H,\)")),
        (np.array([10.0, -1.0]), None, pytest.raises(ValueError, match="positive")),
        (np.array([10.0, np.inf]), None, pytest.raises(ValueError, match="infinity")),
        (
            np.full(10, 50.0),
            np.ones((9, 4), bool),
            pytest.raises(ValueError, match=r"floor_mask must have shape \(10, W\)"),
        ),
    ],
)
def test_scene_hints_validation(heights, mask, expectation) -> None:
    with expectation:
        hints = SceneHints(person_height_px=heights, floor_mask=mask)
        assert not hints.person_height_px.flags.writeable


@pytest.mark.parametrize(
    ("row", "expected"),
    [(100, 25.0), (1060, 45.0), (580, 35.0)],
)
def test_near_far_heights_are_linear_in_the_row(row: int, expected: float) -> None:
    assert linear_hints().expected_height_px([row])[0] == pytest.approx(expected)


def test_near_far_rejects_equal_rows() -> None:
    with pytest.raises(ValueError, match="must differ"):
        SceneHints.from_near_far(image_wh=(10, 10), near_row_px=5, near_height_px=5, far_row_px=5, far_height_px=2)


def test_homography_hints_grow_towards_the_camera() -> None:
    # PETS2009 View_001: a real image-to-ground homography; people nearer the camera (lower rows) look taller.
    from pathlib import Path

    matrix = np.loadtxt(
        Path(__file__).parents[2] / "../shared/data/pets2009_s2l1/calibration/H_image_to_ground_m_View001.txt"
    )
    hints = SceneHints.from_image_to_floor(image_to_floor=matrix, image_wh=(768, 576))
    heights = hints.person_height_px
    assert np.all(np.diff(heights[100:570]) > 0)
    # Ground truth boxes there are 60-110 px tall (boxes include some margin over the 1.7 m body).
    assert 40 < heights[250] < 90
    assert 80 < heights[450] < 140


def test_tiles_upscale_small_people_to_the_target_size() -> None:
    hints = linear_hints()
    tiles = plan_tiles(hints=hints, image_wh=(960, 1080), input_px=416, target_person_px=64)
    assert tiles, "small people need tiles"
    for tile in tiles:
        assert tile.width == tile.height or tile.x1 == 960 or tile.y1 == 1080
        expected = hints.expected_height_px([min(tile.y0 + 40, 1079)])[0]
        # A person in the middle of the tile appears close to the target height in the input.
        assert 0.5 * 64 < expected * 416 / tile.height < 1.6 * 64


def test_tiles_cover_every_floor_row_with_a_whole_person() -> None:
    hints = linear_hints()
    tiles = plan_tiles(hints=hints, image_wh=(960, 1080), input_px=416, target_person_px=64)
    for foot_row in range(100, 1080, 7):
        h = hints.expected_height_px([foot_row])[0]
        for x in range(0, 960, 50):
            box = (x - 0.2 * h, foot_row - h, x + 0.2 * h, foot_row)
            box = (max(box[0], 0), max(box[1], 0), min(box[2], 960), box[3])
            whole = [t for t in tiles if t.x0 <= box[0] and box[2] <= t.x1 and t.y0 <= box[1] and box[3] < t.y1 - 2]
            inside_frame_edge = [
                t for t in tiles if t.y1 == 1080 and t.x0 <= box[0] and box[2] <= t.x1 and t.y0 <= box[1]
            ]
            assert whole or inside_frame_edge, f"person with feet at ({x}, {foot_row}) is whole in no tile"


def test_large_people_need_no_tiles() -> None:
    hints = SceneHints(person_height_px=np.full(576, 200.0))
    assert plan_tiles(hints=hints, image_wh=(768, 576), input_px=416, target_person_px=64) == []


def test_floor_mask_limits_tiles_to_the_floor() -> None:
    mask = np.zeros((1080, 960), bool)
    mask[600:, 500:] = True
    hints = SceneHints(person_height_px=linear_hints().person_height_px, floor_mask=mask)
    tiles = plan_tiles(hints=hints, image_wh=(960, 1080), input_px=416, target_person_px=64)
    assert tiles
    assert all(t.x1 > 480 and t.y1 > 560 for t in tiles)


def test_plan_rejects_hints_for_another_frame_size() -> None:
    with pytest.raises(ValueError, match="1080 rows but the frame has 720"):
        plan_tiles(hints=linear_hints(), image_wh=(960, 720), input_px=416, target_person_px=64)


@pytest.mark.parametrize(
    ("box", "kept"),
    [
        ([150, 150, 180, 220], True),  # well inside
        ([99, 150, 130, 220], False),  # cut by the inner left edge
        ([270, 150, 299.5, 220], False),  # cut by the inner right edge
        ([150, 250, 180, 299], False),  # cut by the inner bottom edge
        ([150, 100, 180, 150], True),  # touching the top: kept (a tall person may fit no tile)
    ],
)
def test_boxes_cut_by_inner_tile_edges_are_dropped(box, kept) -> None:
    tile = Tile(100, 100, 300, 300)
    assert drop_cut_boxes(np.array([box], float), tile, (1000, 1000))[0] == kept


def test_boxes_at_the_frame_border_are_kept() -> None:
    tile = Tile(0, 0, 200, 200)
    assert drop_cut_boxes(np.array([[0, 0, 20, 199.5]], float), tile, (200, 200))[0]


@pytest.mark.parametrize(
    ("boxes", "scores", "expected"),
    [
        ([[0, 0, 10, 20], [1, 0, 11, 20]], [0.9, 0.8], [0]),  # duplicates
        ([[0, 0, 10, 20], [20, 0, 30, 20]], [0.9, 0.8], [0, 1]),  # separate people
        ([[0, 0, 10, 20], [0, 0, 10, 8]], [0.9, 0.95], [1, 0]),  # low IoU, but neither contains the other enough
        ([[0, 0, 10, 20], [1, 1, 9, 12]], [0.9, 0.5], [0]),  # a fragment inside a whole person
    ],
)
def test_nms_with_containment(boxes, scores, expected) -> None:
    kept = nms(np.array(boxes, float), np.array(scores), iou_threshold=0.5, containment_threshold=0.85)
    assert kept.tolist() == expected


def test_implausible_sizes_and_off_floor_feet_are_dropped() -> None:
    mask = np.zeros((1080, 960), bool)
    mask[:, :800] = True
    hints = SceneHints(person_height_px=linear_hints().person_height_px, floor_mask=mask)
    boxes = np.array(
        [
            [100, 500, 115, 535],  # 35 px at row 535: about right
            [100, 500, 115, 510],  # 10 px at row 510: too small
            [100, 300, 180, 535],  # 235 px: too tall
            [850, 500, 865, 535],  # feet off the floor
        ],
        float,
    )
    assert plausible(boxes, hints).tolist() == [True, False, False, False]


@pytest.mark.parametrize(
    ("box", "cut"),
    [
        ([150, 100, 180, 160], True),  # top on the tile's top edge
        ([150, 104, 180, 160], True),  # within a tenth of its height (6 px) of it: the network's imprecision
        ([150, 110, 180, 160], False),  # well inside
        ([150, 150, 180, 250], False),
    ],
)
def test_cut_at_top_marks_boxes_on_an_inner_top_edge(box, cut) -> None:
    assert cut_at_top(np.array([box], float), Tile(100, 100, 300, 300))[0] == cut


def test_nothing_is_cut_at_the_frame_top() -> None:
    assert not cut_at_top(np.array([[150, 0, 180, 60]], float), Tile(100, 0, 300, 300))[0]


@pytest.mark.parametrize(
    ("box", "kept"),
    [
        ([100, 1050, 115, 1080], True),  # 30 px at the bottom edge: a person whose legs leave the frame
        ([100, 0, 115, 10], True),  # 10 px at the top edge (23 px expected): the head leaves the frame
        ([100, 1040, 115, 1070], False),  # 30 px inside the frame at row 1070 (44 px expected): a fragment
        ([100, 900, 115, 1080], False),  # too tall even at the edge
    ],
)
def test_boxes_cut_by_the_frame_may_be_short(box, kept) -> None:
    hints = linear_hints()
    assert plausible(np.array([box], float), hints, min_ratio=0.75)[0] == kept


def test_strips_are_one_crop_per_band_at_the_band_scale() -> None:
    hints = linear_hints()
    squares = plan_tiles(hints=hints, image_wh=(960, 1080), input_px=416, target_person_px=64)
    strips = plan_tiles(hints=hints, image_wh=(960, 1080), input_px=416, target_person_px=64, strips=True)
    assert len(strips) < len(squares)
    for strip in strips:
        assert (strip.x0, strip.x1) == (0, 960)  # the whole floor width, no sideways overlap
        assert strip.input_wh is not None and strip.input_wh[0] % 32 == 0 and strip.input_wh[1] % 32 == 0
        sx, sy = strip.input_wh[0] / strip.width, strip.input_wh[1] / strip.height
        assert sx == pytest.approx(sy, rel=0.1)  # aspect kept (to the nearest 32 px)
        # The person at the band's first foot row appears about target tall, as in a square tile.
        first_foot = min(strip.y0 + int(1.15 * hints.expected_height_px([strip.y0])[0]) + 1, 1079)
        assert 0.7 * 64 < hints.expected_height_px([first_foot])[0] * sy < 1.4 * 64
    # Fewer input pixels than the squares for the same rows.
    square_px = 416 * 416 * len(squares)
    assert sum(s.input_wh[0] * s.input_wh[1] for s in strips) < square_px


def test_strips_cover_every_floor_row_with_a_whole_person() -> None:
    hints = linear_hints()
    strips = plan_tiles(hints=hints, image_wh=(960, 1080), input_px=416, target_person_px=64, strips=True)
    for foot_row in range(100, 1080, 7):
        h = hints.expected_height_px([foot_row])[0]
        top = max(foot_row - h, 0)
        whole = [s for s in strips if s.y0 <= top and (foot_row < s.y1 - 2 or s.y1 == 1080)]
        assert whole, f"a person with feet on row {foot_row} is whole in no strip"


def test_the_last_strip_is_cut_short_not_slid_up() -> None:
    hints = SceneHints(person_height_px=np.full(500, 30.0))
    strips = plan_tiles(hints=hints, image_wh=(400, 500), input_px=416, target_person_px=64, strips=True)
    last = strips[-1]
    assert last.y1 == 500
    assert last.input_wh[1] < 416  # a short strip gets a short input, at the same scale
    assert all(b.y0 < a.y0 for a, b in zip(strips[1:], strips[:-1], strict=True))


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        # Expected height 40 px everywhere: a 20 px box half inside a 40 px person is their legs.
        ([[100, 60, 116, 100], [100, 80, 116, 100]], [False, True]),
        ([[100, 80, 116, 100]], [False]),  # short but alone: a child, or someone half hidden
        ([[100, 60, 116, 100], [130, 80, 146, 100]], [False, False]),  # short, beside a person, not inside
        ([[100, 60, 116, 100], [101, 61, 117, 101]], [False, False]),  # two full boxes
        ([[100, 60, 116, 100], [100, 72, 116, 100]], [False, False]),  # 28 px = 0.7 x 40: not short
    ],
)
def test_fragments_are_short_boxes_inside_a_full_one(boxes, expected) -> None:
    hints = SceneHints(person_height_px=np.full(200, 40.0))
    assert fragments(np.array(boxes, float), hints, short_ratio=0.7).tolist() == expected


def test_no_fragments_without_an_expected_height() -> None:
    hints = SceneHints(person_height_px=np.full(200, np.nan))
    assert fragments(np.array([[100, 60, 116, 100], [100, 80, 116, 100]], float), hints).tolist() == [False, False]


@pytest.mark.parametrize(
    ("box", "cut"),
    [([150, 150, 180, 299], True), ([150, 150, 180, 296], False), ([150, 150, 180, 290], False)],
)
def test_cut_at_bottom(box, cut) -> None:
    assert cut_at_bottom(np.array([box], float), Tile(100, 100, 300, 300), (1000, 1000))[0] == cut
    # The frame's own bottom edge cuts nothing: the person leaves the picture, no tile holds more of them.
    assert not cut_at_bottom(np.array([box], float), Tile(100, 100, 300, 300), (1000, 300))[0]
