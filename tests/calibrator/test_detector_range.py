"""What the operator is told about a camera's people sizes and its detector's reliable range."""

from dataclasses import replace

import pytest

from calibrator.detector_range import IN_RANGE_SHARE, camera_detector_range
from crowdmap.station import load_station


@pytest.fixture(scope="module")
def pets():
    return load_station("pets2009")


def pets_range(pets, **detector_options):
    camera = pets.layout.cameras[0].model_copy(update={"detector": detector_options})
    return camera_detector_range(
        camera=camera, calib=pets.calibrations[camera.id], floor=pets.layout.floor(camera.floor)
    )


def test_pets_view_people_sizes_and_the_rows_the_detector_covers(pets) -> None:
    result = pets_range(pets)
    # View-001: the far edge of the plan at row 106 (people about 40 px), the bottom row about 130 px.
    low, high = result.person_height_px
    assert 35 < low < 50 and 110 < high < 150
    assert result.backend == "nanodet"
    assert result.crops >= 2  # the whole frame and tiles for the far rows
    # Every floor row is either reliable or inside one of the reported spans.
    assert result.reliable_rows + sum(b - a + 1 for a, b, _, _ in result.unreliable_spans) == result.floor_rows
    assert result.reliable_share >= IN_RANGE_SHARE and result.in_range is True
    text = result.summary()
    assert text.startswith(f"people {low:.0f}-{high:.0f} px tall; nanodet reliable on")
    assert result.as_json()["summary"] == text
    # The same numbers in Japanese, for the Japanese calibration tool.
    japanese = result.summary("ja")
    assert japanese.startswith(f"人の高さは {low:.0f}〜{high:.0f} px。nanodet が確実に人を見つけるのは床の写る行の")
    assert result.as_json()["summary_text"] == {"ja": japanese, "en": text}


def test_without_tiles_the_far_people_are_out_of_range(pets) -> None:
    whole = pets_range(pets, max_tiles=0)
    assert whole.crops == 1
    assert whole.in_range is False
    # The whole-frame pass needs people of about 74 px and more (40 px in a 416 px input of a 768 px frame).
    assert whole.reliable_px[0] == pytest.approx(40 * 768 / 416)
    (first, _last, smallest, largest), *_ = whole.unreliable_spans
    assert first == 106 and smallest < whole.reliable_px[0] and largest <= whole.reliable_px[0] + 1
    assert "not on rows 106-" in whole.summary()
    assert "106〜" in whole.summary("ja") and whole.summary("ja").endswith("では確実ではありません")


def test_an_unmeasured_backend_is_said_not_guessed(pets) -> None:
    result = pets_range(pets, backend="hog")
    assert result.in_range is None and result.reliable_share is None
    assert result.person_height_px is not None  # the view itself is still described
    assert "no reliable person-height measurement for backend 'hog'" in result.summary()
    assert result.as_json()["problem_code"] == "backend_unmeasured"
    assert result.summary("ja").endswith("検出器 hog が確実に見つけられる人の大きさは測定されていません")


def test_a_homography_that_implies_no_camera_gives_no_heights() -> None:
    station = load_station("grand-central")
    camera = station.layout.cameras[0]
    result = camera_detector_range(
        camera=camera, calib=station.calibrations[camera.id], floor=station.layout.floor(camera.floor)
    )
    assert result.person_height_px is None and result.in_range is None
    assert result.summary().startswith("person heights unknown: the homography implies a camera rolled")
    assert result.as_json()["problem"] == result.summary() and result.as_json()["problem_code"] == "pose_unknown"
    assert result.summary("ja") == "人の高さが分かりません(この校正からはカメラの位置が求まりません)"


def test_more_than_three_gaps_are_counted_not_listed(pets) -> None:
    many = replace(pets_range(pets), unreliable_spans=((1, 2, 40.0, 41.0), (5, 5, 42.0, 42.0), (8, 9, 43.0, 44.0),
                                                       (12, 13, 45.0, 46.0), (20, 21, 47.0, 48.0)))  # fmt: skip
    assert many.summary().endswith("not on rows 1-2 (40-41 px), row 5 (42 px), rows 8-9 (43-44 px) and 2 more")
    assert many.summary("ja").endswith(
        "1〜2 行目(40〜41 px)、5 行目(42 px)、8〜9 行目(43〜44 px) ほか 2 か所では確実ではありません"
    )


def test_a_problem_is_one_of_the_known_ones(pets) -> None:
    with pytest.raises(ValueError, match="problem must be one of"):
        replace(pets_range(pets), problem="the camera is sad")
