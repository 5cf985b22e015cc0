"""Scoring what the public sees (``iconizer.evaluation``) on hand-made truths whose answers are known."""

import numpy as np
import pytest
from shapely.geometry import box

from iconizer.evaluation import (
    DOT_MATCH_RADIUS_M,
    StationScore,
    compare_step,
    dot_match_radius_covers,
    match_dots,
)
from iconizer.stepper import Iconizer
from iconizer.types import CrowdingLevel, IconFrame, ZoneState


def frame(dots, zones, floor="hall", t=0.0):
    """An IconFrame from dots ``[[x, y], ...]`` and zones ``{id: (count, level)}`` or ``{id: "stale"}``."""
    states = []
    for zone_id, state in zones.items():
        if state == "stale":
            states.append(ZoneState(zone_id, 0, 0.0, CrowdingLevel.QUIET, "A", stale=True))
        else:
            count, level = state
            states.append(ZoneState(zone_id, count, count / 100.0, CrowdingLevel(level), "A", stale=False))
    dots_m = np.asarray(dots, dtype=np.float64).reshape(-1, 2)
    return IconFrame("toy", floor, t, dots_m, np.zeros(len(dots_m), dtype=bool), tuple(states))


TRUTH_DOTS = [[1.25, 1.25], [3.75, 2.25], [15.25, 5.75]]
TRUTH = frame(TRUTH_DOTS, {"west": (2, 0), "east": (1, 0)})


def test_exact_hits_score_perfectly() -> None:
    score = StationScore()
    score.add([TRUTH], [TRUTH])
    result = score.summary()
    assert result["zone_count_mae"] == 0.0
    assert result["zone_count_bias"] == 0.0
    assert result["station_count_mae"] == 0.0
    assert result["level_agreement"] == 1.0
    assert (result["dot_precision"], result["dot_recall"]) == (1.0, 1.0)
    assert result["dot_error_m_median"] == 0.0
    assert (result["frames"], result["zone_frames"], result["matched_dots"]) == (1, 2, 3)


def test_a_missed_person() -> None:
    missed = frame(TRUTH_DOTS[:2], {"west": (2, 0), "east": (0, 0)})
    score = StationScore()
    score.add([missed], [TRUTH])
    result = score.summary()
    assert result["zone_count_mae"] == pytest.approx(0.5)  # one person wrong in one of two zones
    assert result["zone_count_bias"] == pytest.approx(-0.5)
    assert result["station_count_mae"] == 1.0
    assert result["dot_precision"] == 1.0
    assert result["dot_recall"] == pytest.approx(2 / 3)
    assert result["zones"]["east"] == {"count_mae": 1.0, "count_bias": -1.0, "level_agreement": 1.0, "frames": 1}


def test_a_false_dot() -> None:
    ghost = frame([*TRUTH_DOTS, [8.25, 8.25]], {"west": (3, 0), "east": (1, 0)})
    score = StationScore()
    score.add([ghost], [TRUTH])
    result = score.summary()
    assert result["zone_count_mae"] == pytest.approx(0.5)
    assert result["zone_count_bias"] == pytest.approx(0.5)
    assert result["station_count_mae"] == 1.0
    assert result["dot_precision"] == pytest.approx(3 / 4)
    assert result["dot_recall"] == 1.0


def test_level_disagreement_is_the_share_of_zone_frames() -> None:
    score = StationScore()
    score.add([frame(TRUTH_DOTS, {"west": (2, 1), "east": (1, 0)})], [TRUTH])  # west busy, truth quiet
    score.add([TRUTH], [TRUTH])
    result = score.summary()
    assert result["level_agreement"] == pytest.approx(3 / 4)
    assert result["zones"]["west"]["level_agreement"] == pytest.approx(1 / 2)
    assert result["zone_count_mae"] == 0.0  # same counts, different level: only the level is wrong


def test_stale_zones() -> None:
    # Stale in the truth too: nothing to score there. Stale in the pipeline only: 0 people, wrong level.
    truth = frame(TRUTH_DOTS, {"west": (2, 0), "east": "stale"})
    step = compare_step([frame(TRUTH_DOTS, {"west": "stale", "east": "stale"})], [truth])
    assert step.zone_ids == ("west",)
    assert step.count_error.tolist() == [-2]
    assert step.level_agrees.tolist() == [False]


@pytest.mark.parametrize(
    ("offset_m", "matched"),
    [(0.0, True), (0.5, True), (0.74, True), (0.76, False), (2.0, False)],
)
def test_dots_match_within_the_radius(offset_m: float, matched: bool) -> None:
    match = match_dots(dots_m=[[5.0 + offset_m, 5.0]], truth_m=[[5.0, 5.0]])
    assert match.matched == int(matched)
    assert DOT_MATCH_RADIUS_M == 0.75


def test_dots_match_one_to_one() -> None:
    # Two dots by one true person: one matches, the other is a false dot.
    match = match_dots(dots_m=[[5.0, 5.0], [5.2, 5.0]], truth_m=[[5.1, 5.0]])
    assert (match.dots, match.truth_dots, match.matched) == (2, 1, 1)
    # The matching maximises matches: the near dot goes to the person only it can reach.
    match = match_dots(dots_m=[[5.0, 5.0], [5.6, 5.0]], truth_m=[[5.5, 5.0], [4.3, 5.0]])
    assert match.matched == 2


def test_mismatched_steps_are_refused() -> None:
    with pytest.raises(ValueError, match="different floors"):
        compare_step([frame([], {"west": (0, 0)})], [frame([], {"west": (0, 0)}, floor="platform")])
    with pytest.raises(ValueError, match="different zones"):
        compare_step([frame([], {"west": (0, 0)})], [frame([], {"east": (0, 0)})])


def test_nothing_to_count_gives_null_not_nan() -> None:
    score = StationScore()
    score.add([frame([], {"west": "stale"})], [frame([], {"west": "stale"})])
    result = score.summary()
    assert result["zone_count_mae"] is None
    assert result["dot_precision"] is None and result["dot_recall"] is None
    assert result["dot_error_m_median"] is None
    assert result["station_count_mae"] == 0.0


def _iconizer(toy_layout, method: str, seed: int) -> Iconizer:
    # One camera sees the whole hall; the platform's camera sends nothing, so its zone is stale (not scored).
    # Both sides are coarsened alike: one jitter secret, as crowdmap eval station does.
    coverage = {"cam-w": box(0, 0, 20, 10), "cam-e": box(10, 0, 20, 10), "cam-p": box(0, 0, 30, 5)}
    return Iconizer(
        toy_layout, coverage=coverage, rng=np.random.default_rng(seed), coarsen_method=method, jitter_secret=42
    )


def _step(iconizer: Iconizer, make_positions, t: float, xy) -> list[IconFrame]:
    iconizer.ingest(make_positions("cam-w", "hall", t, xy))
    return iconizer.step(t)


def test_a_person_on_a_zone_border(toy_layout, make_positions) -> None:
    # The west/east border is x = 10. The truth stands on it and counts in both zones (a point on a
    # shared edge belongs to both); the pipeline puts the person 5 cm east: only east counts it.
    # Its published dot lands in the same 0.5 m cell: the dot is right, one zone count is not.
    truth, pipeline = _iconizer(toy_layout, "grid", 1), _iconizer(toy_layout, "grid", 2)
    score = StationScore()
    step = score.add(
        _step(pipeline, make_positions, 0.0, [[10.05, 5.0]]), _step(truth, make_positions, 0.0, [[10.0, 5.0]])
    )
    assert dict(zip(step.zone_ids, step.count_error.tolist(), strict=True)) == {"west": -1, "east": 0}
    result = score.summary()
    assert result["zone_count_mae"] == pytest.approx(1 / 2)
    assert result["dot_recall"] == 1.0 and result["dot_error_m_median"] == 0.0
    # 5 cm west instead: west is right, east misses the person, and the dot is one cell off (0.5 m): still a match.
    step = score.add(
        _step(pipeline, make_positions, 1.0, [[9.95, 5.0]]), _step(truth, make_positions, 1.0, [[10.0, 5.0]])
    )
    assert dict(zip(step.zone_ids, step.count_error.tolist(), strict=True)) == {"west": 0, "east": -1}
    assert step.dots[0].distances_m.tolist() == [pytest.approx(0.5)]


@pytest.mark.parametrize("method", ["grid", "jitter"])
def test_a_perfect_pipeline_scores_one_whatever_the_coarsening(toy_layout, make_positions, method: str) -> None:
    rng = np.random.default_rng(7)
    truth, pipeline = _iconizer(toy_layout, method, 1), _iconizer(toy_layout, method, 2)
    score = StationScore()
    for t in range(50):
        people = rng.uniform([0.2, 0.2], [19.8, 9.8], size=(6, 2))
        score.add(_step(pipeline, make_positions, float(t), people), _step(truth, make_positions, float(t), people))
    result = score.summary()
    assert (result["dot_precision"], result["dot_recall"], result["zone_count_mae"]) == (1.0, 1.0, 0.0)
    assert result["level_agreement"] == 1.0
    assert result["dot_error_m_median"] == 0.0  # one position, one dot on both sides


@pytest.mark.parametrize(
    ("cell_m", "method", "covers"),
    [(0.5, "grid", True), (0.52, "grid", True), (0.54, "grid", False), (1.0, "grid", False), (0.5, "jitter", False)],
)
def test_the_radius_covers_a_one_cell_slip(cell_m: float, method: str, covers: bool) -> None:
    # Grid: neighbouring cell centres are at most a cell diagonal apart (0.71 m for 0.5 m cells).
    # Jitter: points of two neighbouring cells may be two diagonals apart (1.41 m).
    assert dot_match_radius_covers(cell_m, method) is covers
