"""torchvision backends: plumbing only. This machine has no internet outside package registries, so
the COCO weights cannot be fetched; random weights test that frames go in and Detections come out."""

from pathlib import Path

import numpy as np
import pytest
import torch

from detector import create_detector
from detector.types import Detections


@pytest.mark.parametrize("name", ["torchvision-ssdlite", "torchvision-fasterrcnn-mobilenet"])
def test_random_weights_run_end_to_end(name: str) -> None:
    torch.manual_seed(0)
    detector = create_detector(name, weights=None, score_threshold=0.0)
    frame = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    found = detector.detect(frame, camera_id="cam", timestamp_s=3.0)
    assert isinstance(found, Detections)
    assert found.camera_id == "cam"
    assert np.all(found.xyxy_px[:, 2] <= 320)


def test_weights_from_a_file(tmp_path: Path) -> None:
    from torchvision.models.detection import ssdlite320_mobilenet_v3_large

    torch.manual_seed(1)
    model = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)
    path = tmp_path / "ssdlite.pt"
    torch.save(model.state_dict(), path)
    detector = create_detector("torchvision-ssdlite", weights_path=str(path))
    loaded = detector.network.model.state_dict()
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded[key], value)
