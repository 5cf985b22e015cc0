import numpy as np
import pytest
import shapely

from homography.calibration import Calibration
from homography.coverage import coverage_polygon, floor_coverage, zone_coverage_fraction
from homography.fitting import calibrate_camera
from homography.pose import PoseError, camera_centre_m, estimate_focal_px, projection_from_homography, roll_deg
from homography.projection import to_floor
from homography.scene import floor_mask_px, floor_projection, person_height_px_per_row
from homography.wildtrack import WILDTRACK_CAMERAS, load_wildtrack_frames, wildtrack_floor
from station import load_layout
from tests.homography.conftest import PETS, PETS_LAYOUT, ROOT, make_floor, wildtrack_calibration
from tests.homography.conftest import WILDTRACK as WILDTRACK_DIR

# WILDTRACK's boxes were drawn around 1.8 m tall cylinders standing on the annotated positions.
WILDTRACK_BOX_HEIGHT_M = 1.8


@pytest.mark.parametrize("camera", WILDTRACK_CAMERAS)
def test_a_homography_alone_recovers_focal_length_and_camera_position(camera: str) -> None:
    calib = wildtrack_calibration(camera)
    lifted, focal = projection_from_homography(image_to_floor=calib.image_to_floor, resolution_wh=calib.resolution_wh)
    assert focal.source == "homography"
    assert focal.focal_px == pytest.approx(calib.camera_matrix[0, 0], rel=0.05)
    true_centre = camera_centre_m(calib.floor_to_image_3d)
    assert 1.5 < true_centre[2] < 3.5  # the cameras hang 1.7-3.4 m up, height measured upwards
    np.testing.assert_allclose(camera_centre_m(lifted), true_centre, atol=0.7)


def test_a_camera_looking_straight_down_gets_the_nominal_focal_length() -> None:
    # Fronto-parallel: a pure scaling, no perspective, so the homography says nothing of the lens.
    focal = estimate_focal_px(
        floor_to_image=np.diag([100.0, 100.0, 1.0]), principal_point_px=(320.0, 240.0), width_px=640
    )
    assert focal.source == "nominal"
    assert focal.focal_px == pytest.approx(320.0 / np.tan(np.radians(30.0)))


def _box_height_ratios(camera: str, heights_px: np.ndarray) -> np.ndarray:
    index = WILDTRACK_CAMERAS.index(camera)
    ratios = []
    for frame in load_wildtrack_frames(WILDTRACK_DIR, 0, 995):
        boxes = frame.boxes_px[index]
        boxes = boxes[np.all(np.isfinite(boxes), axis=1) & (boxes[:, 3] >= 0) & (boxes[:, 3] < 1080)]
        ratios.append(heights_px[boxes[:, 3].astype(int)] / (boxes[:, 3] - boxes[:, 1]))
    return np.concatenate(ratios)


@pytest.mark.parametrize("camera", ["CVLab1", "CVLab2", "IDIAP1", "IDIAP2"])
@pytest.mark.parametrize("from_model", [True, False])
def test_person_height_per_row_matches_the_boxes(camera: str, from_model: bool) -> None:
    calib = wildtrack_calibration(camera)
    if not from_model:  # the same camera known only by its homography
        calib = Calibration(calib.image_to_floor, calib.resolution_wh)
    heights = person_height_px_per_row(calib, wildtrack_floor(), WILDTRACK_BOX_HEIGHT_M)
    assert heights.shape == (1080,)
    ratios = _box_height_ratios(camera, heights)
    assert np.isfinite(ratios).mean() > 0.95
    assert np.nanmedian(ratios) == pytest.approx(1.0, abs=0.05 if from_model else 0.08)


def test_person_height_on_pets_from_its_homography() -> None:
    layout = load_layout(PETS_LAYOUT)
    calib = calibrate_camera(layout.cameras[0])
    heights = person_height_px_per_row(calib, layout.floor("ground"))
    boxes = np.loadtxt(PETS / "ground_truth" / "gt_full_mot_dev.txt", delimiter=",")
    foot_row = np.clip((boxes[:, 3] + boxes[:, 5]).astype(int), 0, 575)
    ratio = heights[foot_row] / boxes[:, 5]
    assert np.nanmedian(ratio) == pytest.approx(1.0, abs=0.15)
    # Above the horizon no floor is seen: NaN, never a height.
    assert np.isnan(heights[0])
    assert np.all(heights[np.isfinite(heights)] > 0)


def test_floor_mask_marks_the_walkable_floor_only() -> None:
    calib = wildtrack_calibration("IDIAP1")
    floor = wildtrack_floor()
    mask = floor_mask_px(calib, floor)
    assert mask.shape == (1080, 1920) and mask.dtype == bool
    assert 0.3 < mask.mean() < 0.95
    assert not mask[0].any()  # the top row looks over the square's far edge
    # Every masked pixel's floor point lies in the coverage polygon (up to edge rounding).
    rows, cols = np.nonzero(mask[::40, ::40])
    xy, valid = to_floor(points_px=np.column_stack((cols * 40.0, rows * 40.0)), calib=calib)
    coverage = coverage_polygon(calib, floor, max_m_per_px=None).buffer(0.01)
    assert valid.all() and shapely.contains_xy(coverage, xy[:, 0], xy[:, 1]).all()


@pytest.mark.parametrize("camera", WILDTRACK_CAMERAS)
def test_coverage_holds_what_the_camera_sees(camera: str) -> None:
    index = WILDTRACK_CAMERAS.index(camera)
    coverage = coverage_polygon(wildtrack_calibration(camera, undistorted=False), wildtrack_floor())
    inside = []
    for frame in load_wildtrack_frames(WILDTRACK_DIR, 0, 995):
        seen = np.all(np.isfinite(frame.boxes_px[index]), axis=1)
        xy = frame.ground_m[seen] + [3.0, 9.0]
        inside.append(shapely.contains_xy(coverage, xy[:, 0], xy[:, 1]))
    # Misses are people whose feet are cut off by the image border while their body is boxed.
    assert np.concatenate(inside).mean() > 0.9
    assert coverage.area < wildtrack_floor().walkable.area


def test_seven_cameras_cover_the_whole_square() -> None:
    floor = wildtrack_floor()
    union = floor_coverage(coverage_polygon(wildtrack_calibration(c), floor) for c in WILDTRACK_CAMERAS)
    assert union.area == pytest.approx(floor.walkable.area, rel=1e-6)


def test_coverage_stops_where_pixels_get_too_coarse() -> None:
    calib = wildtrack_calibration("IDIAP2")
    floor = wildtrack_floor()
    everything = coverage_polygon(calib, floor, max_m_per_px=None)
    fine = coverage_polygon(calib, floor, max_m_per_px=0.1)
    assert fine.area < 0.6 * everything.area
    assert fine.buffer(1e-6).contains(fine)


def test_coverage_of_a_camera_facing_away_from_the_plan_is_empty() -> None:
    calib = wildtrack_calibration("CVLab1")
    # A plan 1 km away from where the camera looks.
    shifted = Calibration(
        np.array([[1.0, 0, 1000.0], [0, 1, 0], [0, 0, 1]]) @ calib.image_to_floor, calib.resolution_wh
    )
    assert coverage_polygon(shifted, make_floor(12.0, 36.0)).is_empty


def test_pets_coverage_and_zone_fractions() -> None:
    layout = load_layout(PETS_LAYOUT)
    floor = layout.floor("ground")
    coverage = coverage_polygon(calibrate_camera(layout.cameras[0]), floor)
    x0, y0, x1, y1 = coverage.bounds
    assert x0 >= 0 and y0 >= 0 and x1 <= 28 and y1 <= 28
    fractions = zone_coverage_fraction(coverage, layout.zones)
    assert set(fractions) == {"lawn", "road", "forecourt"}
    assert all(0.5 < f <= 1.0 for f in fractions.values())


@pytest.mark.parametrize("camera", WILDTRACK_CAMERAS)
def test_real_cameras_hang_level(camera: str) -> None:
    calib = wildtrack_calibration(camera)
    (bottom_m,), _ = to_floor(points_px=[[960.0, 1079.0]], calib=calib)
    lifted, _ = floor_projection(Calibration(calib.image_to_floor, calib.resolution_wh))
    for projection in (calib.floor_to_image_3d, lifted):
        assert abs(roll_deg(projection=projection, floor_point_m=bottom_m)) < 5.0


def test_a_hand_made_homography_gives_no_person_heights() -> None:
    # Grand Central's homography was made by hand from the concourse size: no level camera has it.
    layout = load_layout(ROOT / "station_layouts" / "grand-central")
    calib = calibrate_camera(layout.cameras[0])
    with pytest.raises(PoseError, match=r"rolled by -?[0-9]+ degrees"):
        person_height_px_per_row(calib, layout.floor(layout.cameras[0].floor))
    assert floor_mask_px(calib, layout.floor(layout.cameras[0].floor)).any()
