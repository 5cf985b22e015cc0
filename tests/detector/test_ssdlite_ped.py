"""The pedestrian SSD through our GraphDef reader and torch, against the ONNX reference on real frames."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from detector import create_detector
from detector.backends.ssdlite_ped import SsdLitePedNetwork, legacy_resize
from detector.boxes import iou_matrix
from detector.graphs.graphdef import load_graphdef

DATA = Path(__file__).parents[2] / "../shared/data/pets2009_s2l1"
REFERENCE = Path(__file__).parents[2] / "../shared/models/pedssd.onnx"


def pets_frame(index: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(DATA / "vtest.avi"))
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = capture.read()
    capture.release()
    assert ok
    return frame


@pytest.fixture(scope="module")
def network(model_root: Path) -> SsdLitePedNetwork:
    torch.set_num_threads(2)
    return SsdLitePedNetwork(graph_path=model_root / "ssdlite-ped" / "frozen_inference_graph.pb", precision="fp32")


@pytest.mark.parametrize("frame_index", [0, 150, 399])
def test_detections_match_the_onnx_reference(network: SsdLitePedNetwork, frame_index: int) -> None:
    ort = pytest.importorskip("onnxruntime")  # a test-only dependency (pyproject [dev])
    ort.disable_telemetry_events()  # issue 11 item 11: never phone home
    frame = pets_frame(frame_index)
    session = ort.InferenceSession(str(REFERENCE), providers=["CPUExecutionProvider"])
    num, scores, boxes, _ = session.run(
        ["num_detections:0", "detection_scores:0", "detection_boxes:0", "detection_classes:0"],
        {"image_tensor:0": cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)[None]},
    )
    encodings, logits = network.raw(network.preprocess(frame)[None])
    ours_boxes, ours_scores = network.decode(encodings[0], logits[0])
    # The reference graph ends after NMS; compare every detection above 0.01 (below that, ties in
    # NMS order make the tail of the list arbitrary in both).
    reference = scores[0, : int(num[0])] >= 0.01
    assert reference.sum() >= 5
    for box, score in zip(boxes[0][reference], scores[0][reference], strict=True):
        distance = np.abs(ours_boxes - box).max(axis=1) + np.abs(ours_scores - score)
        assert distance.min() < 1e-3, f"reference detection {box} ({score:.4f}) has no twin"


@pytest.mark.parametrize(("size_in", "size_out"), [(576, 300), (100, 300), (300, 300)])
def test_legacy_resize_matches_tensorflow_1_sampling(size_in: int, size_out: int) -> None:
    ramp = np.tile(np.arange(size_in, dtype=np.float32)[:, None, None], (1, size_in, 1))
    out = legacy_resize(ramp, size_out)
    # TensorFlow 1 samples output row i at input row i * in / out (no half-pixel offset), clamped.
    expected = np.minimum(np.arange(size_out) * size_in / size_out, size_in - 1)
    np.testing.assert_allclose(out[:, 0, 0], expected, atol=1e-3)


def test_anchor_subgraph_is_evaluated_once_at_load(network: SsdLitePedNetwork) -> None:
    # SSD on 300x300 with six feature maps: 19x19x3 + (10x10 + 5x5 + 3x3 + 2x2 + 1x1) x 6 anchors.
    assert network.anchor_centre.shape == (1917, 2)
    assert np.all(network.anchor_size > 0)


def test_finds_people_on_a_pets_frame(model_root: Path) -> None:
    detector = create_detector("ssdlite-ped", model_dir=model_root)
    found = detector.detect(pets_frame(0), camera_id="view-001", timestamp_s=0.0)
    assert 2 <= len(found) <= 10


def test_bf16_finds_the_same_people_as_fp32(model_root: Path) -> None:
    fp32 = create_detector("ssdlite-ped", model_dir=model_root, precision="fp32")
    bf16 = create_detector("ssdlite-ped", model_dir=model_root, precision="bf16")
    for index in (0, 150, 399):
        frame = pets_frame(index)
        a = fp32.detect(frame, camera_id="view-001", timestamp_s=0.0)
        b = bf16.detect(frame, camera_id="view-001", timestamp_s=0.0)
        assert len(a) == len(b) >= 2
        assert iou_matrix(a.xyxy_px, b.xyxy_px).max(axis=1).min() > 0.9


def test_graphdef_nodes_and_constants_are_read(model_root: Path) -> None:
    graph = load_graphdef(model_root / "ssdlite-ped" / "frozen_inference_graph.pb")
    assert graph.inputs == ["image_tensor"]
    assert float(graph.consts["Preprocessor/mul/x"]) == pytest.approx(2 / 255)
