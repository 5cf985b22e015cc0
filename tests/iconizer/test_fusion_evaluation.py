"""The WILDTRACK fusion evaluation (``iconizer.fusion_evaluation``) on the real dataset."""

from pathlib import Path

import pytest

from iconizer.fusion_evaluation import Perturbation, evaluate_fusion

WILDTRACK = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "wildtrack"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("perturbation", "min_moda", "max_median_error_m"),
    [
        (Perturbation(), 0.95, 0.15),
        (Perturbation(noise_px=3.0, miss_rate=0.1, seed=1), 0.85, 0.15),
    ],
)
def test_wildtrack_fusion_meets_its_targets(perturbation, min_moda, max_median_error_m) -> None:
    report = evaluate_fusion(WILDTRACK, first=0, last=995, perturbation=perturbation)
    assert report["frames"] == 200
    assert report["moda"] >= min_moda
    assert report["position_error_m_median"] <= max_median_error_m
