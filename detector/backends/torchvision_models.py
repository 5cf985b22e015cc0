"""torchvision's COCO detectors (person class) for sites with internet or a weights file.

Weights come from the torch hub cache (``weights="DEFAULT"`` downloads them there once) or from a
file path (``weights_path``). ``weights=None`` builds the network with random weights: only useful
to test the plumbing (this repository's tests do exactly that, since they run without internet).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from detector.pipeline import TiledDetector, scene_hints_from_options

COCO_PERSON = 1  # torchvision's COCO labels count background as 0


class TorchvisionNetwork:
    """A torchvision detection model as a :class:`detector.pipeline.Network`.

    Args:
        model: A torchvision detection model in eval mode (takes a list of CHW float RGB in [0, 1]).
        input_px: The side crops are resized to before the model (it resizes again internally).
        target_person_px: Person height, in input pixels, the model finds best.
    """

    def __init__(self, model: torch.nn.Module, *, input_px: int, target_person_px: float) -> None:
        self.model = model.eval()
        self.input_px = input_px
        self.target_person_px = target_person_px
        self.min_person_px = 0.6 * target_person_px

    @torch.inference_mode()
    def infer(self, crops_bgr: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per crop: person boxes xyxy in crop pixels and scores."""
        if not crops_bgr:
            return []
        tensors = [
            torch.from_numpy(np.ascontiguousarray(c[:, :, ::-1].transpose(2, 0, 1))).float() / 255.0 for c in crops_bgr
        ]
        outputs = self.model(tensors)
        results = []
        for out in outputs:
            person = out["labels"] == COCO_PERSON
            results.append((out["boxes"][person].double().numpy(), out["scores"][person].double().numpy()))
        return results


def _load(
    factory: Callable[..., torch.nn.Module], weights: str | None, weights_path: str | Path | None, **kwargs: Any
) -> torch.nn.Module:
    if weights_path is not None:
        model = factory(weights=None, weights_backbone=None, **kwargs)
        state = torch.load(Path(weights_path), map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        return model
    if weights is None:
        # Random weights: the plumbing runs, the detections mean nothing.
        return factory(weights=None, weights_backbone=None, **kwargs)
    return factory(weights=weights, **kwargs)


def _build(
    name: str,
    factory: Callable[..., torch.nn.Module],
    *,
    input_px: int,
    target_person_px: float,
    person_height_px: np.ndarray | None,
    floor_mask: np.ndarray | None,
    score_threshold: float,
    weights: str | None,
    weights_path: str | Path | None,
    max_tiles: int,
    **kwargs: Any,
) -> TiledDetector:
    model = _load(factory, weights, weights_path, **kwargs)
    return TiledDetector(
        network=TorchvisionNetwork(model, input_px=input_px, target_person_px=target_person_px),
        name=name,
        hints=scene_hints_from_options(person_height_px, floor_mask),
        score_threshold=score_threshold,
        max_tiles=max_tiles,
    )


def build_fasterrcnn_mobilenet(
    *,
    person_height_px: np.ndarray | None = None,
    floor_mask: np.ndarray | None = None,
    score_threshold: float = 0.5,
    weights: str | None = "DEFAULT",
    weights_path: str | Path | None = None,
    max_tiles: int = 16,
    **_unused: object,
) -> TiledDetector:
    """Faster R-CNN with a MobileNetV3-Large FPN backbone (torchvision, COCO)."""
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_fpn

    return _build(
        "torchvision-fasterrcnn-mobilenet",
        fasterrcnn_mobilenet_v3_large_fpn,
        input_px=800,
        target_person_px=96.0,
        person_height_px=person_height_px,
        floor_mask=floor_mask,
        score_threshold=score_threshold,
        weights=weights,
        weights_path=weights_path,
        max_tiles=max_tiles,
    )


def build_ssdlite(
    *,
    person_height_px: np.ndarray | None = None,
    floor_mask: np.ndarray | None = None,
    score_threshold: float = 0.4,
    weights: str | None = "DEFAULT",
    weights_path: str | Path | None = None,
    max_tiles: int = 32,
    **_unused: object,
) -> TiledDetector:
    """SSDLite320 with a MobileNetV3-Large backbone (torchvision, COCO)."""
    from torchvision.models.detection import ssdlite320_mobilenet_v3_large

    return _build(
        "torchvision-ssdlite",
        ssdlite320_mobilenet_v3_large,
        input_px=320,
        target_person_px=80.0,
        person_height_px=person_height_px,
        floor_mask=floor_mask,
        score_threshold=score_threshold,
        weights=weights,
        weights_path=weights_path,
        max_tiles=max_tiles,
    )
