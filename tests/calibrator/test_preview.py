import numpy as np
import pytest

from calibrator.preview import (
    FitPreview,
    camera_intrinsics,
    floor_grid_px,
    grid_step_for,
    number_from_one,
    preview_fit,
    preview_to_json,
)
from homography.fitting import calibrate_camera
from homography.projection import to_floor, to_image
from station import Camera, Floor, load_layout

PETS_LAYOUT = "station_layouts/pets2009"


@pytest.fixture(scope="module")
def pets():
    layout = load_layout(PETS_LAYOUT)
    camera = layout.camera("view-001")
    return camera, layout.floor("ground"), calibrate_camera(camera)


def floor_of(size_m):
    width, height = size_m
    return Floor(
        id="f",
        name={"ja": "床", "en": "floor"},
        size_m=size_m,
        walkable_m=[[(0, 0), (width, 0), (width, height), (0, height)]],
    )


@pytest.mark.parametrize(
    ("size_m", "expected_step_m"),
    [
        ((10.0, 5.0), 1.0),
        ((28.0, 28.0), 1.0),
        ((40.0, 12.0), 1.0),
        ((84.0, 37.0), 5.0),
        ((300.0, 50.0), 10.0),
        ((5000.0, 10.0), 50.0),
    ],
)
def test_grid_step_keeps_the_drawing_readable(size_m, expected_step_m):
    assert grid_step_for(floor_of(size_m)) == expected_step_m


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "fit error 0.8 m RMS exceeds the 0.5 m limit; worst points: #4 2.01 m, #0 0.6 m",
            "fit error 0.8 m RMS exceeds the 0.5 m limit; worst points: #5 2.01 m, #1 0.6 m",
        ),
        (
            "image_px points [0, 1, 2] are collinear; with 4 pairs no three may lie on a line",
            "image_px points [1, 2, 3] are collinear; with 4 pairs no three may lie on a line",
        ),
        ("image_px points [3] fall above the fitted horizon", "image_px points [4] fall above the fitted horizon"),
        ("need at least 4 point pairs, got 3", "need at least 4 point pairs, got 3"),
    ],
)
def test_messages_number_pairs_like_the_page(message, expected):
    assert number_from_one(message) == expected


def test_grid_lines_land_on_whole_metres(pets):
    _, floor, official = pets
    lines = floor_grid_px(calib=official, floor=floor, step_m=1.0)
    assert len(lines) > 30
    for line in lines:
        assert np.all((line >= 0) & (line <= [768, 576]))
        back, valid = to_floor(points_px=line, calib=official)
        assert valid.all()
        off_x = np.abs(back[:, 0] - np.round(back[:, 0])).max()
        off_y = np.abs(back[:, 1] - np.round(back[:, 1])).max()
        # Each polyline is a line of constant x or constant y, on a whole metre.
        assert min(off_x, off_y) < 0.02


def test_grid_of_a_bad_step_is_refused(pets):
    _, floor, official = pets
    with pytest.raises(ValueError, match="step_m must be positive"):
        floor_grid_px(calib=official, floor=floor, step_m=0.0)


def distorted_demo_camera(k1):
    """The demo station's concourse-west camera with a barrel-distorted lens."""
    layout = load_layout("station_layouts/demo-station")
    mapping = layout.camera("concourse-west").model_dump(mode="json", exclude_none=True)
    mapping["calibration"]["camera_model"]["dist_coeffs"] = [k1, 0.02, 0.0, 0.0, 0.0]
    return Camera.model_validate(mapping), layout.floor("concourse")


def test_intrinsics_come_from_the_camera_model():
    camera, _ = distorted_demo_camera(-0.25)
    matrix, coeffs = camera_intrinsics(camera)
    assert matrix.tolist() == [list(row) for row in camera.calibration.camera_model.camera_matrix]
    assert coeffs.tolist() == [-0.25, 0.02, 0.0, 0.0, 0.0]


def test_intrinsics_of_a_plain_homography_are_none(pets):
    camera, _, _ = pets
    assert camera_intrinsics(camera) == (None, None)


def test_refit_by_points_keeps_the_lens_of_a_camera_model():
    camera, floor = distorted_demo_camera(-0.25)
    truth = calibrate_camera(camera)
    width, height = floor.size_m
    grid = np.array([[x, y] for x in np.linspace(1, width - 1, 9) for y in np.linspace(1, height - 1, 9)])
    image = to_image(points_m=grid, calib=truth, distorted=True)
    inside = np.all(np.isfinite(image), axis=1) & np.all(
        (image > 5) & (image < np.array(camera.resolution_wh) - 5), axis=1
    )
    assert inside.sum() >= 8
    preview = preview_fit(image_px=image[inside], floor_m=grid[inside], camera=camera, floor=floor)
    assert preview.ok, preview.error
    # Exact points through the true lens: a homography after undistortion fits them exactly.
    assert preview.rms_error_m < 0.01
    # The grid drawn back on the raw image bends with the lens, like the truth.
    for line in preview.grid_px[:10]:
        back, valid = to_floor(points_px=line, calib=truth)
        assert valid.all()
        assert (
            min(np.abs(back[:, 0] - np.round(back[:, 0])).max(), np.abs(back[:, 1] - np.round(back[:, 1])).max()) < 0.05
        )


def test_too_few_pairs_give_no_numbers(pets):
    camera, floor, _ = pets
    preview = preview_fit(image_px=[[10, 10], [20, 20]], floor_m=[[1, 1], [2, 2]], camera=camera, floor=floor)
    assert not preview.ok
    assert preview.error == "need at least 4 point pairs, got 2"
    data = preview_to_json(preview)
    assert data["residuals_m"] == [None, None]
    assert data["rms_error_m"] is None
    assert data["grid_px"] == []
    assert data["coverage_m"] == []


def test_unpaired_points_are_refused(pets):
    camera, floor, _ = pets
    with pytest.raises(ValueError, match="must pair up, got 3 and 2"):
        preview_fit(image_px=[[1, 1], [2, 2], [3, 3]], floor_m=[[1, 1], [2, 2]], camera=camera, floor=floor)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"residuals_m": np.zeros(3)}, "residuals_m must have shape"),
        ({"projected_floor_m": np.zeros((2, 3))}, "projected_floor_m must have shape"),
        ({"error": None}, "either an error or an accepted calibration"),
    ],
)
def test_fit_preview_validates_itself(fields, message):
    values = dict(
        pair_count=2,
        error="too few",
        residuals_m=np.zeros(2),
        loo_errors_m=np.zeros(2),
        rms_error_m=0.0,
        loo_rms_error_m=0.0,
        max_error_m=0.5,
        projected_floor_m=np.zeros((2, 2)),
        grid_step_m=1.0,
    )
    values.update(fields)
    with pytest.raises(ValueError, match=message):
        FitPreview(**values)


def test_an_accepted_fit_says_how_tall_people_look_and_where_the_detector_is_reliable(pets, six_pairs):
    camera, floor, _ = pets
    image_px, floor_m = six_pairs
    preview = preview_fit(image_px=image_px, floor_m=floor_m, camera=camera, floor=floor)
    assert preview.ok, preview.error
    data = preview_to_json(preview)["detector_range"]
    assert data["camera"] == "view-001" and data["backend"] == "nanodet"
    # Six honest pairs give nearly the stored calibration, so nearly its people sizes (41-131 px).
    low, high = data["person_height_px"]
    assert 35 < low < 50 and 110 < high < 150
    assert 0.9 <= data["reliable_share"] <= 1.0
    assert data["summary"].startswith("people ")
    assert data["summary_text"]["en"] == data["summary"] and data["summary_text"]["ja"].startswith("人の高さは ")


def test_a_rejected_fit_gives_no_detector_range(pets):
    camera, floor, _ = pets
    preview = preview_fit(image_px=[[10, 10], [20, 20]], floor_m=[[1, 1], [2, 2]], camera=camera, floor=floor)
    assert preview_to_json(preview)["detector_range"] is None
