"""TemporalFilter on hand-made sequences: confirmation, bridging, resets, and what it forgets."""

from contextlib import nullcontext as does_not_raise

import numpy as np
import pytest

from detector.temporal import TemporalFilter, TemporalSettings, temporal_settings

FPS = 10.0


def person(x: float, y: float = 300.0, h: float = 80.0) -> list[float]:
    """A standing person's box with the foot point at ``(x, y)``."""
    return [x - 0.2 * h, y - h, x + 0.2 * h, y]


def step(
    filt: TemporalFilter, frame: int, boxes: list[list[float]], scores: list[float], strong: list[bool]
) -> tuple[np.ndarray, np.ndarray]:
    return filt.update(
        xyxy_px=np.array(boxes, dtype=float).reshape(-1, 4),
        scores=np.array(scores, dtype=float),
        strong=np.array(strong, dtype=bool),
        timestamp_s=100.0 + frame / FPS,
    )


def test_first_frame_reports_only_strong_detections() -> None:
    filt = TemporalFilter()
    xyxy, scores = step(filt, 0, [person(100), person(300)], [0.8, 0.3], [True, False])
    np.testing.assert_allclose(xyxy, [person(100)])
    np.testing.assert_allclose(scores, [0.8])


def test_weak_detection_continuing_a_strong_box_is_reported() -> None:
    filt = TemporalFilter()
    step(filt, 0, [person(100)], [0.8], [True])
    xyxy, scores = step(filt, 1, [person(104)], [0.35], [False])  # walked 4 px, scored low this frame
    np.testing.assert_allclose(xyxy, [person(104)])
    np.testing.assert_allclose(scores, [0.35])


def test_weak_clutter_is_never_confirmed_by_itself() -> None:
    # A shadow scoring just under the threshold in every frame never passed it: hysteresis keeps it out.
    filt = TemporalFilter()
    for frame in range(6):
        xyxy, _ = step(filt, frame, [person(200)], [0.4], [False])
        assert len(xyxy) == 0


def test_weak_clutter_is_confirmed_when_confirm_strong_is_zero() -> None:
    filt = TemporalFilter(TemporalSettings(confirm_strong=0, confirm_hits=2))
    assert len(step(filt, 0, [person(200)], [0.4], [False])[0]) == 0
    assert len(step(filt, 1, [person(200)], [0.4], [False])[0]) == 1


def test_one_missed_frame_is_bridged_at_the_predicted_place() -> None:
    filt = TemporalFilter(TemporalSettings(bridge_frames=1, bridge_min_hits=3, bridge_score_decay=0.5))
    for frame, x in enumerate((100, 110, 120)):  # 10 px a frame to the right
        step(filt, frame, [person(x)], [0.8], [True])
    xyxy, scores = step(filt, 3, [], [], [])
    np.testing.assert_allclose(xyxy, [person(130)], atol=1e-6)
    np.testing.assert_allclose(scores, [0.4])
    # A second miss in a row is not bridged with bridge_frames=1.
    assert len(step(filt, 4, [], [], [])[0]) == 0


def test_the_bridged_box_is_continued_when_the_person_reappears() -> None:
    filt = TemporalFilter(TemporalSettings(bridge_frames=1))
    for frame, x in enumerate((100, 110, 120)):
        step(filt, frame, [person(x)], [0.8], [True])
    step(filt, 3, [], [], [])
    # Weak again two frames later, where the person walked to: a continuation, so reported.
    xyxy, _ = step(filt, 4, [person(140)], [0.3], [False])
    np.testing.assert_allclose(xyxy, [person(140)])


def test_a_short_lived_box_is_not_bridged() -> None:
    filt = TemporalFilter(TemporalSettings(bridge_min_hits=3))
    step(filt, 0, [person(100)], [0.9], [True])
    step(filt, 1, [person(100)], [0.9], [True])
    assert len(step(filt, 2, [], [], [])[0]) == 0


def test_no_bridge_where_a_detection_already_covers_the_prediction() -> None:
    # The person is found again but too far to be associated (a jump): the old box must not double them.
    filt = TemporalFilter(TemporalSettings(bridge_min_hits=1, max_height_ratio=1.1))
    step(filt, 0, [person(100, h=80)], [0.9], [True])
    xyxy, _ = step(filt, 1, [person(100, h=100)], [0.9], [True])  # same place, height changed by 25 %
    assert len(xyxy) == 1


def test_strong_detections_take_boxes_before_weak_fragments() -> None:
    # A weak fragment nearer the predicted foot point must not steal the person's box from the strong detection.
    filt = TemporalFilter(TemporalSettings(bridge_min_hits=1))
    step(filt, 0, [person(100)], [0.9], [True])
    fragment = [96.0, 240.0, 112.0, 299.0]  # foot at (104, 299): nearer the old foot than the real one
    xyxy, _ = step(filt, 1, [person(108), fragment], [0.9, 0.35], [True, False])
    np.testing.assert_allclose(xyxy, [person(108)])


def test_neighbours_walking_apart_are_not_swapped_into_duplicates() -> None:
    filt = TemporalFilter()
    step(filt, 0, [person(100), person(140)], [0.9, 0.9], [True, True])
    xyxy, _ = step(filt, 1, [person(96), person(146)], [0.9, 0.4], [True, False])
    np.testing.assert_allclose(xyxy, [person(96), person(146)])


def test_a_far_jump_starts_a_new_box() -> None:
    filt = TemporalFilter()
    step(filt, 0, [person(100)], [0.9], [True])
    # 200 px (2.5 heights) in a tenth of a second is nobody walking: the weak box is not a continuation.
    assert len(step(filt, 1, [person(300)], [0.4], [False])[0]) == 0


@pytest.mark.parametrize(
    ("second_timestamp", "reported"),
    [
        (100.1, 1),  # the next frame: continued
        (100.0, 0),  # the same timestamp again (a repeated still image): no evidence, start afresh
        (99.0, 0),  # time went backwards: start afresh
        (102.5, 0),  # more than max_gap_s later: start afresh
    ],
)
def test_repeated_old_or_late_frames_start_afresh(second_timestamp: float, reported: int) -> None:
    filt = TemporalFilter(TemporalSettings(max_gap_s=1.0))
    filt.update(xyxy_px=np.array([person(100)]), scores=np.array([0.9]), strong=np.array([True]), timestamp_s=100.0)
    xyxy, _ = filt.update(
        xyxy_px=np.array([person(101)]), scores=np.array([0.4]), strong=np.array([False]), timestamp_s=second_timestamp
    )
    assert len(xyxy) == reported


def test_nothing_outlives_the_bridge() -> None:
    # PRIVACY.md P2: state is forgotten within frames of a person leaving.
    filt = TemporalFilter(TemporalSettings(bridge_frames=2))
    for frame in range(4):
        step(filt, frame, [person(100)], [0.9], [True])
    for frame in range(4, 8):
        step(filt, frame, [], [], [])
    assert filt._boxes == []


def test_empty_frames_are_fine() -> None:
    filt = TemporalFilter()
    xyxy, scores = step(filt, 0, [], [], [])
    assert xyxy.shape == (0, 4) and scores.shape == (0,)


def test_mismatched_lengths_are_an_error() -> None:
    with pytest.raises(ValueError, match="same length, got 1, 2, 1"):
        TemporalFilter().update(
            xyxy_px=np.array([person(1)]), scores=np.array([0.5, 0.6]), strong=np.array([True]), timestamp_s=0.0
        )


@pytest.mark.parametrize(
    ("kwargs", "expectation"),
    [
        ({}, does_not_raise()),
        ({"confirm_hits": 0}, pytest.raises(ValueError, match="confirm_hits")),
        ({"confirm_strong": -1}, pytest.raises(ValueError, match="confirm_strong")),
        ({"bridge_frames": -1}, pytest.raises(ValueError, match="bridge_frames")),
        ({"bridge_min_hits": 0}, pytest.raises(ValueError, match="bridge_min_hits")),
        ({"bridge_score_decay": 0.0}, pytest.raises(ValueError, match="bridge_score_decay")),
        ({"max_distance": 0.0}, pytest.raises(ValueError, match="max_distance")),
        ({"max_height_ratio": 0.9}, pytest.raises(ValueError, match="max_height_ratio")),
        ({"max_gap_s": 0.0}, pytest.raises(ValueError, match="max_gap_s")),
        ({"strong_hits_to_report": 0}, pytest.raises(ValueError, match="strong_hits_to_report")),
    ],
)
def test_settings_validation(kwargs: dict, expectation) -> None:
    with expectation:
        TemporalSettings(**kwargs)


def test_every_new_box_can_be_confirmed_over_two_frames() -> None:
    filt = TemporalFilter(TemporalSettings(strong_hits_to_report=2))
    assert len(step(filt, 0, [person(100)], [0.9], [True])[0]) == 0  # seen once: not yet
    assert len(step(filt, 1, [person(104)], [0.9], [True])[0]) == 1
    assert len(step(filt, 2, [person(300)], [0.9], [True])[0]) == 0  # someone new elsewhere


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (False, None),
        (True, TemporalSettings()),
        ({"bridge_frames": 2}, TemporalSettings(bridge_frames=2)),
        (TemporalSettings(confirm_hits=3), TemporalSettings(confirm_hits=3)),
    ],
)
def test_temporal_option_values(value, expected) -> None:
    assert temporal_settings(value) == expected


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("yes", "true, false or a mapping"),
        ({"bridge": 1}, r"unknown settings \['bridge'\]"),
        ({"bridge_frames": -1}, "bridge_frames"),
    ],
)
def test_bad_temporal_option_values(value, match) -> None:
    with pytest.raises(ValueError, match=match):
        temporal_settings(value)
