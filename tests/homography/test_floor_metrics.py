import itertools

import numpy as np
import pytest

from homography.floor_metrics import linear_sum_assignment, match_points, score_frames


@pytest.mark.parametrize(("rows", "cols", "seed"), [(1, 1, 0), (3, 3, 1), (2, 5, 2), (5, 2, 3), (4, 4, 4), (6, 5, 5)])
def test_assignment_is_optimal(rows: int, cols: int, seed: int) -> None:
    cost = np.random.default_rng(seed).random((rows, cols))
    row_index, col_index = linear_sum_assignment(cost)
    assert len(row_index) == min(rows, cols) == len(set(col_index.tolist()))
    if rows <= cols:
        best = min(sum(cost[i, p[i]] for i in range(rows)) for p in itertools.permutations(range(cols), rows))
    else:
        best = min(sum(cost[p[j], j] for j in range(cols)) for p in itertools.permutations(range(rows), cols))
    assert cost[row_index, col_index].sum() == pytest.approx(best)


def test_matching_respects_the_radius_and_prefers_more_matches() -> None:
    predicted = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    truth = np.array([[0.45, 0.0], [1.3, 0.0], [9.0, 9.0]])
    p, t, d = match_points(predicted_m=predicted, truth_m=truth, max_distance_m=0.5)
    # Greedy nearest-first would pair predicted 1 with truth 0 (0.55 > 0.5 excluded) ... both match here.
    assert sorted(zip(p.tolist(), t.tolist(), strict=True)) == [(0, 0), (1, 1)]
    np.testing.assert_allclose(sorted(d), [0.3, 0.45])


def test_scores_on_a_known_case() -> None:
    frames = [
        (np.array([[0.0, 0.0], [3.0, 0.0]]), np.array([[0.25, 0.0], [3.0, 0.0]])),  # 2 TP
        (np.array([[0.0, 0.0], [7.0, 7.0]]), np.array([[0.0, 0.0], [2.0, 2.0], [4.0, 4.0]])),  # 1 TP, 1 FP, 2 FN
    ]
    scores = score_frames(frames, max_distance_m=0.5)
    assert (scores.true_positives, scores.false_positives, scores.false_negatives) == (3, 1, 2)
    assert scores.moda == pytest.approx(1 - 3 / 5)
    assert scores.precision == pytest.approx(3 / 4)
    assert scores.recall == pytest.approx(3 / 5)
    assert scores.count_mae == pytest.approx(0.5)
    assert scores.modp == pytest.approx((0.5 + 1 + 1) / 3)
    assert scores.position_error_m_median == pytest.approx(0.0)
