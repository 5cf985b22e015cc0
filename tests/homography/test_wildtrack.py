from contextlib import nullcontext as does_not_raise

import numpy as np
import pytest

from homography.opencv_xml import OpenCvXmlError, read_opencv_node, read_opencv_xml
from homography.projection import to_floor
from homography.wildtrack import (
    WILDTRACK_CAMERAS,
    WildtrackError,
    load_wildtrack_camera,
    load_wildtrack_frames,
    position_id_to_ground_m,
)
from tests.homography.conftest import WILDTRACK, wildtrack_calibration


def test_frames_load_with_positions_and_boxes() -> None:
    frames = load_wildtrack_frames(WILDTRACK, 0, 995)
    assert len(frames) == 200
    assert [f.frame for f in frames[:3]] == [0, 5, 10]
    assert max(len(f) for f in frames) == 40
    first = frames[0]
    assert first.boxes_px.shape == (7, len(first), 4)
    # Frame 0, person 122: positionID 456826, seen by camera 0 at x 1510..1561.
    row = first.person_id.tolist().index(122)
    np.testing.assert_allclose(first.ground_m[row], [5.65, 14.775], atol=1e-9)
    np.testing.assert_allclose(first.boxes_px[0, row], [1510, 139, 1561, 299])


@pytest.mark.parametrize(("position_id", "ground_m"), [(0, (-3.0, -9.0)), (479, (8.975, -9.0)), (480, (-3.0, -8.975))])
def test_position_ids_decode_to_metres(position_id: int, ground_m: tuple[float, float]) -> None:
    np.testing.assert_allclose(position_id_to_ground_m(np.array([position_id]))[0], ground_m)


@pytest.mark.parametrize("camera", WILDTRACK_CAMERAS)
def test_camera_model_matches_the_dataset_homography(camera: str) -> None:
    model = load_wildtrack_camera(WILDTRACK, camera, world_to_floor=None)
    expected = np.loadtxt(WILDTRACK / "homographies" / f"H_image_to_ground_m_{camera}.txt")
    calib = wildtrack_calibration(camera)
    # The stored calibration maps to the plan (world + 3 m, + 9 m); undo that shift to compare.
    world = np.array([[1.0, 0.0, -3.0], [0.0, 1.0, -9.0], [0.0, 0.0, 1.0]]) @ calib.image_to_floor
    np.testing.assert_allclose(world / world[2, 2], expected, rtol=1e-6, atol=1e-9)
    assert model.tvec_m[2] > 5.0  # centimetres became metres


@pytest.mark.parametrize("camera", WILDTRACK_CAMERAS)
def test_ground_truth_feet_project_near_the_true_positions(camera: str) -> None:
    index = WILDTRACK_CAMERAS.index(camera)
    calib = wildtrack_calibration(camera)
    errors = []
    for frame in load_wildtrack_frames(WILDTRACK, 0, 995):
        boxes = frame.boxes_px[index]
        seen = np.all(np.isfinite(boxes), axis=1)
        feet = np.column_stack(((boxes[seen, 0] + boxes[seen, 2]) / 2.0, boxes[seen, 3]))
        xy, valid = to_floor(points_px=feet, calib=calib)
        assert valid.all()
        errors.append(np.linalg.norm(xy - (frame.ground_m[seen] + [3.0, 9.0]), axis=1))
    # The boxes' bottom centre is the body's near edge, about a body radius from its centre.
    assert np.median(np.concatenate(errors)) < 0.15


@pytest.mark.parametrize(
    ("call", "expectation"),
    [
        (
            lambda: load_wildtrack_camera(WILDTRACK, "CVLab9"),
            pytest.raises(WildtrackError, match="unknown WILDTRACK camera"),
        ),
        (
            lambda: load_wildtrack_frames(WILDTRACK, 2000, 3000),
            pytest.raises(WildtrackError, match="no annotated frame"),
        ),
        (lambda: load_wildtrack_frames(WILDTRACK / "missing"), pytest.raises(WildtrackError, match="no such folder")),
        (lambda: load_wildtrack_camera(WILDTRACK, "IDIAP3", undistorted=False), does_not_raise()),
    ],
)
def test_wildtrack_errors_name_the_problem(call, expectation) -> None:
    with expectation:
        call()


def test_opencv_xml_reads_matrices_and_bare_numbers(tmp_path) -> None:
    path = tmp_path / "calib.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<opencv_storage>\n<rvec> 1 2\n 3 </rvec>\n'
        '<camera_matrix type_id="opencv-matrix"><rows>2</rows><cols>2</cols><dt>d</dt>'
        "<data>1 2 3 4</data></camera_matrix>\n"
        "<name>cam</name>\n</opencv_storage>\n"
    )
    nodes = read_opencv_xml(path)
    np.testing.assert_array_equal(nodes["rvec"], [1, 2, 3])
    np.testing.assert_array_equal(nodes["camera_matrix"], [[1, 2], [3, 4]])
    with pytest.raises(OpenCvXmlError, match=r"no numeric node <name>; found \['camera_matrix', 'rvec'\]"):
        read_opencv_node(path, "name")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "<opencv_storage><m type_id='opencv-matrix'><rows>2</rows><cols>2</cols>"
            "<data>1 2 3</data></m></opencv_storage>",
            "expected 2x2",
        ),
        ("<opencv_storage><rvec>1 2 3</rvec>", "not valid XML"),
        ("<opencv_storage><rvec>1 2 3</rvec></opencv_storage>", r"no numeric node <tvec>; found \['rvec'\]"),
    ],
)
def test_opencv_xml_errors_name_file_and_node(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(text)
    with pytest.raises(OpenCvXmlError, match=message):
        read_opencv_node(path, "tvec")
