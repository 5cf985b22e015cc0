"""NanoDet through our torch execution of its TFJS graph, against the ONNX reference on real frames."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from detector import create_detector
from detector.backends.nanodet import NanoDetNetwork, decode, preprocess_batch
from detector.boxes import iou_matrix
from detector.evaluation import load_mot_boxes, match_boxes
from detector.graphs.engine import GraphEngine, native_bf16, resolve_precision
from detector.graphs.lower import lower_tfjs, op_counts
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
    return NanoDetNetwork(model_json=model_root / "nanodet" / "nanodet.json", keep_aspect=False, precision="fp32")


@pytest.mark.parametrize("frame_index", [0, 200, 399])
def test_raw_outputs_match_the_onnx_reference(network: NanoDetNetwork, frame_index: int) -> None:
    ort = pytest.importorskip("onnxruntime")  # a test-only dependency (pyproject [dev])
    ort.disable_telemetry_events()  # issue 11 item 11: never phone home
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


@pytest.mark.parametrize("shape", [(3, 3, 416, 416), (1, 3, 224, 416), (2, 3, 416, 544)])
def test_lowered_graph_computes_exactly_what_the_interpreter_computes(
    network: NanoDetNetwork, shape: tuple[int, int, int, int]
) -> None:
    # Lowered once at a tiny size; every batch and input size must give the interpreter's numbers.
    x = torch.rand(shape, generator=torch.Generator().manual_seed(1)).contiguous(memory_format=torch.channels_last)
    expected = network.interpreter(input_1=x)
    with torch.inference_mode():
        got = network.engine.module(x)
    assert set(got) == set(expected)
    for name in expected:
        assert torch.equal(got[name], expected[name]), name


def test_lowering_removes_the_interpreters_layout_work(network: NanoDetNetwork) -> None:
    counts = op_counts(network.engine.module)
    # The interpreter transposes at every Transpose node and around every NHWC pool and resize.
    ops = [n.op for n in network.interpreter.graph.nodes]
    interpreted = ops.count("Transpose") + 2 * (ops.count("MaxPool") + ops.count("ResizeBilinear"))
    assert counts["Conv2d"] == 34
    assert "pad" not in counts  # the -inf pad before the max pool became the pool's padding
    assert counts["permute"] < interpreted / 2  # NHWC <-> NCHW pairs cancelled


def test_batched_preprocessing_is_the_per_crop_normalisation() -> None:
    frame = pets_frames([0])[0]
    crops = [frame[:300, :400], frame[100:500, 200:700]]
    batch = preprocess_batch(crops, (416, 320), "meanstd_bgr")
    assert batch.shape == (2, 3, 320, 416) and batch.is_contiguous(memory_format=torch.channels_last)
    for crop, got in zip(crops, batch, strict=True):
        resized = cv2.resize(
            crop, (416, 320), interpolation=cv2.INTER_AREA if crop.shape[1] > 416 else cv2.INTER_LINEAR
        )
        mean = np.array([103.53, 116.28, 123.675], np.float32)
        std = np.array([57.375, 57.12, 58.395], np.float32)
        np.testing.assert_array_equal(got.numpy(), ((resized.astype(np.float32) - mean) / std).transpose(2, 0, 1))
    rgb = preprocess_batch(crops[:1], (416, 320), "unit")[0].numpy()
    np.testing.assert_allclose(rgb[0], cv2.resize(crops[0], (416, 320))[:, :, 2] / 255.0, atol=1e-6)


def test_bf16_engine_finds_the_same_people_as_fp32(model_root: Path, network: NanoDetNetwork) -> None:
    half = GraphEngine(network.engine.module, precision="bf16")
    frames = pets_frames([0, 120, 399])
    batch = network.preprocess_batch(frames, (416, 416))
    full, reduced = network.engine(batch), half(batch)
    # bfloat16 keeps 8 bits of mantissa: sigmoid scores move by at most a few hundredths.
    scores = full["Identity"][..., 0], reduced["Identity"][..., 0]
    assert float((scores[0] - scores[1]).abs().max()) < 0.05
    fp32 = create_detector("nanodet", model_dir=model_root, precision="fp32")
    bf16 = create_detector("nanodet", model_dir=model_root, precision="bf16")
    for frame in frames:
        a = fp32.detect(frame, camera_id="view-001", timestamp_s=0.0).xyxy_px
        b = bf16.detect(frame, camera_id="view-001", timestamp_s=0.0).xyxy_px
        assert len(a) == len(b)
        assert iou_matrix(a, b).max(axis=1).min() > 0.9


@pytest.mark.slow  # torch.compile of the whole graph: tens of seconds on two idle cores, minutes under load
def test_compiled_engine_serves_while_compiling_then_gives_the_same_outputs(network: NanoDetNetwork) -> None:
    engine = GraphEngine(network.engine.module, precision="fp32", compiled=True)
    batch = network.preprocess_batch(pets_frames([0, 200]), (416, 320))
    served = engine(batch)  # answered by the uncompiled module; compilation starts in the background
    assert engine.wait_compiled(timeout_s=900)
    assert engine.compile_error is None
    assert engine.compiled_shapes() == [tuple(batch.shape)]
    compiled = engine(batch)
    reference = network.interpreter(input_1=batch)
    for name, expected in reference.items():
        assert torch.equal(served[name], expected), name
        torch.testing.assert_close(compiled[name], expected, atol=1e-4, rtol=0)
    for slot in range(2):
        boxes, scores = decode({k: v.numpy() for k, v in compiled.items()}, slot, input_wh=(416, 320))
        want_boxes, want_scores = decode({k: v.numpy() for k, v in reference.items()}, slot, input_wh=(416, 320))
        np.testing.assert_allclose(boxes, want_boxes, atol=1e-2)
        np.testing.assert_allclose(scores, want_scores, atol=1e-4)


def test_precision_auto_follows_the_cpu(tmp_path: Path) -> None:
    with_bf16, without = tmp_path / "bf16", tmp_path / "plain"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n")
    without.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n")
    assert native_bf16(with_bf16) and not native_bf16(without)
    assert not native_bf16(tmp_path / "missing")
    assert resolve_precision("auto") == ("bf16" if native_bf16() else "fp32")
    assert resolve_precision("fp32") == "fp32"
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("int4")


def test_lowering_needs_ops_it_knows(model_root: Path) -> None:
    graph = load_tfjs_graph(model_root / "nanodet" / "nanodet.json")
    module = TfjsModule(graph)
    module.graph.inputs = [*module.graph.inputs, "second"]
    with pytest.raises(ValueError, match="one input"):
        lower_tfjs(module, torch.zeros(2, 3, 64, 64))


def test_larger_inputs_scale_the_feature_pyramid(network: NanoDetNetwork) -> None:
    (frame,) = pets_frames([0])
    raw = network.raw(network.preprocess(frame, (544, 416))[None])
    # Stride 8 grid of a 544x416 input: 68 x 52 cells.
    assert raw["Identity"].shape == (1, 68 * 52, 80)


def test_finds_the_people_of_a_pets_frame(model_root: Path) -> None:
    detector = create_detector("nanodet", model_dir=model_root)
    (frame,) = pets_frames([0])
    found = detector.detect(frame, camera_id="view-001", timestamp_s=0.0)
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
