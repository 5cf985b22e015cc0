from contextlib import nullcontext as does_not_raise

import numpy as np
import pytest
import shapely

from homography.types import FloorPositions
from iconizer.fusion import FusedPositions, FusionSettings, cluster_reports, fuse


def make_positions(
    camera_id: str,
    xy: list[list[float]],
    *,
    sigma: float | list[float] = 0.1,
    confidence: float | list[float] = 0.9,
    floor_id: str = "hall",
    timestamp_s: float = 100.0,
) -> FloorPositions:
    n = len(xy)
    return FloorPositions(
        camera_id=camera_id,
        floor_id=floor_id,
        timestamp_s=timestamp_s,
        xy_m=np.asarray(xy, dtype=float).reshape(n, 2),
        confidence=np.broadcast_to(np.asarray(confidence, dtype=float), (n,)),
        sigma_m=np.broadcast_to(np.asarray(sigma, dtype=float), (n,)),
    )


def _sorted(xy: np.ndarray) -> np.ndarray:
    return xy[np.lexsort((xy[:, 1], xy[:, 0]))]


@pytest.mark.parametrize(
    ("positions", "expected_xy", "expected_cameras"),
    [
        # Two cameras see one person 0.2 m apart: one dot between them.
        ([make_positions("a", [[5.0, 5.0]]), make_positions("b", [[5.2, 5.0]])], [[5.1, 5.0]], [2]),
        # Two people 3 m apart seen by both cameras: two dots.
        (
            [make_positions("a", [[5.0, 5.0], [8.0, 5.0]]), make_positions("b", [[5.1, 5.0], [8.1, 5.0]])],
            [[5.05, 5.0], [8.05, 5.0]],
            [2, 2],
        ),
        # Camera a clearly sees two people 0.3 m apart; b sees one report between them: never one dot.
        (
            [make_positions("a", [[5.0, 5.0], [5.3, 5.0]]), make_positions("b", [[5.15, 5.0]])],
            None,
            [1, 2],
        ),
        # Seen by one camera only: still a dot.
        ([make_positions("a", [[1.0, 2.0]]), make_positions("b", [])], [[1.0, 2.0]], [1]),
        # Nobody.
        ([make_positions("a", []), make_positions("b", [])], [], []),
    ],
)
def test_fuse_one_dot_per_person(positions, expected_xy, expected_cameras) -> None:
    fused = fuse(positions, settings=FusionSettings(body_sigma_m=0.0))
    assert sorted(fused.n_cameras.tolist()) == sorted(expected_cameras)
    if expected_xy is not None:
        np.testing.assert_allclose(_sorted(fused.xy_m), np.asarray(expected_xy, dtype=float).reshape(-1, 2), atol=1e-9)


def test_weak_duplicates_of_one_camera_merge_but_clear_ones_do_not() -> None:
    weak = make_positions("a", [[5.0, 5.0], [5.2, 5.0]], confidence=[0.9, 0.3])
    assert len(fuse([weak])) == 1
    clear = make_positions("a", [[5.0, 5.0], [5.2, 5.0]], confidence=[0.9, 0.8])
    assert len(fuse([clear])) == 2


def test_the_closer_camera_weighs_more() -> None:
    near = make_positions("near", [[5.0, 5.0]], sigma=0.05)
    far = make_positions("far", [[5.6, 5.0]], sigma=0.5)
    fused = fuse([near, far], settings=FusionSettings(body_sigma_m=0.0))
    assert len(fused) == 1
    assert 5.0 < fused.xy_m[0, 0] < 5.02
    assert fused.sigma_m[0] < 0.05


def test_gate_follows_sigma() -> None:
    # 0.8 m apart: two people for precise cameras, one person for imprecise ones.
    precise = [make_positions("a", [[5.0, 5.0]], sigma=0.05), make_positions("b", [[5.8, 5.0]], sigma=0.05)]
    vague = [make_positions("a", [[5.0, 5.0]], sigma=0.5), make_positions("b", [[5.8, 5.0]], sigma=0.5)]
    settings = FusionSettings(body_sigma_m=0.0)
    assert len(fuse(precise, settings=settings)) == 2
    assert len(fuse(vague, settings=settings)) == 1


def test_complete_linkage_does_not_chain_a_queue() -> None:
    # A queue of people 0.5 m apart, each seen by alternating cameras: chaining would make one blob.
    cameras = [make_positions(f"c{i}", [[5.0 + 0.5 * i, 5.0]], sigma=0.1) for i in range(6)]
    assert len(fuse(cameras, settings=FusionSettings(body_sigma_m=0.0, gate_sigmas=2.0))) >= 3


def test_confidence_combines_evidence_and_timestamp_is_the_latest() -> None:
    fused = fuse(
        [
            make_positions("a", [[5.0, 5.0]], confidence=0.75, timestamp_s=1.0),
            make_positions("b", [[5.1, 5.0]], confidence=0.75, timestamp_s=2.0),
        ]
    )
    # Odds 3 and 3 make odds 9.
    np.testing.assert_allclose(fused.confidence, [0.9])
    assert fused.timestamp_s == 2.0
    assert fused.floor_id == "hall"


def test_silent_covering_cameras_lower_confidence() -> None:
    everywhere = shapely.box(0.0, 0.0, 10.0, 10.0)
    west = shapely.box(0.0, 0.0, 4.0, 10.0)
    positions = [
        make_positions("a", [[2.0, 5.0], [7.0, 5.0]], confidence=0.9),
        make_positions("b", [], confidence=0.9),
        make_positions("c", [[2.1, 5.0]], confidence=0.9),
    ]
    coverage = {"a": everywhere, "b": west, "c": everywhere, "dead": everywhere}
    settings = FusionSettings(miss_probability=0.2)
    fused = fuse(positions, settings=settings, coverage=coverage)
    by_x = np.argsort(fused.xy_m[:, 0])
    # West dot: seen by a and c, b covers it but is silent: odds 9 * 9 * 0.2.
    # East dot: seen by a only, c covers it but is silent; b does not cover it and "dead" is not live.
    np.testing.assert_allclose(fused.confidence[by_x], [16.2 / 17.2, 1.8 / 2.8])
    dropped = fuse(positions, settings=FusionSettings(miss_probability=0.2, min_confidence=0.8), coverage=coverage)
    assert len(dropped) == 1 and dropped.n_cameras.tolist() == [2]


@pytest.mark.parametrize(
    ("positions", "floor_id", "expectation"),
    [
        ([make_positions("a", [[1.0, 1.0]])], None, does_not_raise()),
        ([], "hall", does_not_raise()),
        ([], None, pytest.raises(ValueError, match="exactly one floor")),
        (
            [make_positions("a", [[1.0, 1.0]]), make_positions("b", [], floor_id="platform")],
            None,
            pytest.raises(ValueError, match=r"\['hall', 'platform'\]"),
        ),
        ([make_positions("a", [[1.0, 1.0]])], "platform", pytest.raises(ValueError, match="exactly one floor")),
    ],
)
def test_fuse_checks_floors(positions, floor_id, expectation) -> None:
    with expectation:
        fuse(positions, floor_id=floor_id, timestamp_s=5.0)


@pytest.mark.parametrize(
    ("kwargs", "expectation"),
    [
        ({"xy_m": np.zeros((1, 2)), "confidence": [1.0], "sigma_m": [0.1], "n_cameras": [1]}, does_not_raise()),
        (
            {"xy_m": np.zeros((1, 2)), "confidence": [1.0, 1.0], "sigma_m": [0.1], "n_cameras": [1]},
            pytest.raises(ValueError, match="confidence must have shape"),
        ),
        (
            {"xy_m": np.zeros((1, 2)), "confidence": [1.0], "sigma_m": [0.1], "n_cameras": [0]},
            pytest.raises(ValueError, match="n_cameras"),
        ),
        (
            {"xy_m": np.zeros((1, 3)), "confidence": [1.0], "sigma_m": [0.1], "n_cameras": [1]},
            pytest.raises(ValueError, match=r"shape \(n, 2\)"),
        ),
    ],
)
def test_fused_positions_validate(kwargs, expectation) -> None:
    with expectation:
        fused = FusedPositions(floor_id="hall", timestamp_s=1.0, **kwargs)
        assert not fused.xy_m.flags.writeable


def test_cluster_labels_are_dense() -> None:
    labels = cluster_reports(
        xy_m=np.array([[0.0, 0.0], [10.0, 0.0], [0.1, 0.0]]),
        sigma_m=np.full(3, 0.1),
        camera=np.array([0, 0, 1]),
        confidence=np.ones(3),
    )
    assert labels.tolist() == [0, 1, 0]


def test_refinement_repairs_a_person_split_by_greedy_merging() -> None:
    # WILDTRACK frame 0 with 3 px noise: A at (3.88, 18.92) and B at (3.90, 18.55), 0.37 m apart.
    # Camera 5 reports B drifted towards A, which makes greedy merging split A in two.
    xy = np.array(
        [
            [3.90, 18.65], [3.92, 18.90], [3.82, 18.58], [3.80, 19.00], [3.85, 18.51], [3.88, 18.97],
            [3.93, 18.57], [3.92, 18.80], [3.81, 19.08], [4.03, 18.60], [3.85, 19.11],
        ]
    )  # fmt: skip
    camera = np.array([0, 0, 1, 1, 2, 2, 4, 5, 5, 6, 6])
    sigma = np.array([0.24, 0.24, 0.22, 0.22, 0.17, 0.17, 0.15, 0.34, 0.35, 0.18, 0.18])
    settings = FusionSettings(body_sigma_m=0.0)
    greedy = cluster_reports(xy_m=xy, sigma_m=sigma, camera=camera, confidence=np.ones(11), settings=settings)
    assert greedy.max() + 1 == 3
    positions = [
        make_positions(f"c{c}", xy[camera == c].tolist(), sigma=sigma[camera == c].tolist(), confidence=1.0)
        for c in np.unique(camera)
    ]
    fused = fuse(positions, settings=settings)
    assert len(fused) == 2
    truth = np.array([[3.88, 18.92], [3.90, 18.55]])
    distance = np.linalg.norm(fused.xy_m[:, None, :] - truth[None, :, :], axis=2)
    assert distance.min(axis=0).max() < 0.15
