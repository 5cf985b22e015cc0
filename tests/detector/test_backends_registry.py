from contextlib import nullcontext as does_not_raise
from pathlib import Path

import cv2
import numpy as np
import pytest

import detector
from detector import BACKENDS, Detector, create_detector

PETS_VIDEO = Path(__file__).parents[2] / "../shared/data/pets2009_s2l1/vtest.avi"


def first_pets_frame() -> np.ndarray:
    capture = cv2.VideoCapture(str(PETS_VIDEO))
    ok, frame = capture.read()
    capture.release()
    assert ok, f"cannot read {PETS_VIDEO}"
    return frame


@pytest.mark.parametrize(
    ("name", "expectation"),
    [
        ("fake", does_not_raise()),
        ("hog", does_not_raise()),
        ("yolo", pytest.raises(ValueError, match=r"unknown detector 'yolo'; expected one of \['fake'")),
        ("", pytest.raises(ValueError, match="unknown detector")),
    ],
)
def test_create_detector_by_name(name: str, expectation) -> None:
    with expectation:
        assert isinstance(create_detector(name), Detector)


def test_registry_is_a_plain_dict_that_can_be_extended(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BACKENDS, "fake-alias", "detector.backends.fake:build")
    det = create_detector("fake-alias", xyxy_px=[[1, 2, 3, 4]])
    assert len(det.detect(np.zeros((10, 10, 3), np.uint8), camera_id="c", timestamp_s=1.0)) == 1


def test_import_detector_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, detector; detector.create_detector('fake'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert detector.DEFAULT_BACKEND in BACKENDS


@pytest.mark.parametrize(
    ("boxes", "frame_hw", "expected"),
    [
        ([[10, 10, 20, 40]], (100, 100), [[10, 10, 20, 40]]),
        ([[90, 10, 120, 40]], (100, 100), [[90, 10, 100, 40]]),  # clipped to the frame
        ([[110, 10, 120, 40]], (100, 100), np.zeros((0, 4))),  # wholly outside: dropped
        ([], (100, 100), np.zeros((0, 4))),
    ],
)
def test_fake_returns_given_boxes_clipped(boxes, frame_hw, expected) -> None:
    det = create_detector("fake", xyxy_px=boxes)
    out = det.detect(np.zeros((*frame_hw, 3), np.uint8), camera_id="cam", timestamp_s=5.0)
    np.testing.assert_allclose(out.xyxy_px, np.asarray(expected, dtype=float).reshape(-1, 4))
    assert out.camera_id == "cam"
    assert out.timestamp_s == 5.0


def test_hog_finds_people_on_a_real_pets_frame() -> None:
    frame = first_pets_frame()
    out = create_detector("hog").detect(frame, camera_id="view-001", timestamp_s=0.0)
    # Frame 1 of the ground truth has 7 people, 55-110 px tall; HOG is weak but finds several of them.
    assert 3 <= len(out) <= 12
    heights = out.height_px
    assert np.median(heights) > 40
    assert np.median(heights) < 160
