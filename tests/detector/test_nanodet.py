"""NanoDet through our torch execution of its TFJS graph, against the ONNX reference on real frames."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from detector import create_detector
from detector.backends.nanodet import NanoDetNetwork
from detector.evaluation import load_mot_boxes, match_boxes
from detector.graphs.tfjs import TfjsModule, load_tfjs_graph

DATA = Path(__file__).parents[2] / "../shared/data/pets2009_s2l1"
REFERENCE = Path(__file__).parents[2] / "../shared/models/nanodet.onnx"


def pets_frames(indices: list[int]) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(DATA / "vtest.avi"))
    frames = []
    for index in range(max(indices) + 1):
        ok, frame = capture.read()
        assert ok
        if index in indices:
            frames.append(frame)
    capture.release()
    return frames


@pytest.fixture(scope="module")
def network(model_root: Path) -> NanoDetNetwork:
    torch.set_num_threads(2)
    return NanoDetNetwork(model_json=model_root / "nanodet" / "nanodet.json", keep_aspect=False)


@pytest.mark.parametrize("frame_index", [0, 200, 399])
def test_raw_outputs_match_the_onnx_reference(network: NanoDetNetwork, frame_index: int) -> None:
    ort = pytest.importorskip("onnxruntime")  # a test-only dependency (pyproject [dev])
    (frame,) = pets_frames([frame_index])
    batch = network.preprocess(frame, (416, 416))[None]
    session = ort.InferenceSession(str(REFERENCE), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    reference = dict(zip([n.split(":")[0] for n in names], session.run(names, {"input_1:0": batch}), strict=True))
    ours = network.raw(batch)
    assert set(ours) == set(reference)
    for name, expected in reference.items():
        np.testing.assert_allclose(ours[name], expected, atol=1e-3, rtol=0, err_msg=name)


def test_folding_changes_no_number(model_root: Path) -> None:
    graph = load_tfjs_graph(model_root / "nanodet" / "nanodet.json")
    plain, folded = TfjsModule(graph, fold_ops=False), TfjsModule(graph, fold_ops=True)
    assert len(folded.graph.nodes) < len(plain.graph.nodes) / 2
    x = torch.rand(1, 3, 416, 416, generator=torch.Generator().manual_seed(0))
    a, b = plain(input_1=x), folded(input_1=x)
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=1e-4, rtol=0)


def test_larger_inputs_scale_the_feature_pyramid(network: NanoDetNetwork) -> None:
    (frame,) = pets_frames([0])
    raw = network.raw(network.preprocess(frame, (544, 416))[None])
    # Stride 8 grid of a 544x416 input: 68 x 52 cells.
    assert raw["Identity"].shape == (1, 68 * 52, 80)


def test_finds_the_people_of_a_pets_frame(model_root: Path) -> None:
    detector = create_detector("nanodet", model_dir=model_root)
    (frame,) = pets_frames([0])
    found = detector.detect(frame, camera_id="view-001", timestamp=0.0)
    truth = load_mot_boxes(DATA / "ground_truth/gt_full_mot_dev.txt")[1]
    pairs = match_boxes(found.xyxy_px, truth)
    assert len(pairs) >= len(truth) - 1
    assert len(found) <= len(truth) + 2


def test_missing_weights_say_how_to_fetch_them(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="crowdmap models pull nanodet"):
        create_detector("nanodet", model_dir=tmp_path)


def test_unsupported_ops_fail_at_load_time(model_root: Path) -> None:
    graph = load_tfjs_graph(model_root / "nanodet" / "nanodet.json")
    graph.nodes[5].op = "Einsum"
    with pytest.raises(ValueError, match=r"unsupported ops \['Einsum'\]"):
        TfjsModule(graph)
