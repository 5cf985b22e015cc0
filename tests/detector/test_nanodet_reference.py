"""NanoDet from raw frames: ``create_detector("nanodet")`` against an independent reference pipeline.

The parity tests in ``test_nanodet.py`` feed the project's own preprocessing to both graphs, so they
cannot see a wrong resize, normalisation or channel order, nor a wrong decode or NMS. Here nothing
of ``detector/`` is used on the reference side: onnxruntime runs ``../shared/models/nanodet.onnx``
on an input prepared from NanoDet-m's documented conventions (BGR, ImageNet mean/std, the frame
letterboxed into the graph's 416x416 input, centred), decoded as its model card says (person
score per cell; 4 x 11 distance bins, softmax, expectation x stride from the cell centre) and
merged with OpenCV's NMS. Boxes from the product and the reference are then matched one to one.
"""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from detector import create_detector
from detector.boxes import iou_matrix
from detector.evaluation import load_mot_boxes, match_boxes

DATA = Path(__file__).parents[2] / "../shared/data/pets2009_s2l1"
REFERENCE = Path(__file__).parents[2] / "../shared/models/nanodet.onnx"

# NanoDet-m, as trained (nanodet's config: BGR images, these per-channel mean and std).
MEAN_BGR = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], dtype=np.float32)
SIDE_PX = 416
STRIDES = (8, 16, 32)
BINS = 11
SCORE = 0.5  # the product's whole-frame threshold
NMS_IOU = 0.5
# Graph outputs per stride: (class scores (1, cells, 80), distance bins (1, cells, 44)).
OUTPUTS = {
    8: ("Identity:0", "Identity_3:0"),
    16: ("Identity_1:0", "Identity_4:0"),
    32: ("Identity_2:0", "Identity_5:0"),
}
FRAMES = [0, 100, 200, 300, 399, 600]


def reference_boxes(session, frame_bgr: np.ndarray, *, letterbox: bool) -> tuple[np.ndarray, np.ndarray]:
    """Person boxes ``(n, 4)`` xyxy in frame pixels and scores, from the ONNX graph alone.

    ``letterbox``: keep the frame's aspect and pad (centred, black) to 416x416; else stretch it to
    416x416. Both resize bilinearly, as NanoDet's own inference code does.
    """
    height, width = frame_bgr.shape[:2]
    if letterbox:
        scale_x = scale_y = min(SIDE_PX / width, SIDE_PX / height)
    else:
        scale_x, scale_y = SIDE_PX / width, SIDE_PX / height
    new_w, new_h = round(width * scale_x), round(height * scale_y)
    pad_x, pad_y = (SIDE_PX - new_w) // 2, (SIDE_PX - new_h) // 2
    canvas = np.zeros((SIDE_PX, SIDE_PX, 3), dtype=np.uint8)
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = cv2.resize(
        frame_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR
    )
    blob = ((canvas.astype(np.float32) - MEAN_BGR) / STD_BGR).transpose(2, 0, 1)[None]
    names = [name for pair in OUTPUTS.values() for name in pair]
    out = dict(zip(names, session.run(names, {"input_1:0": np.ascontiguousarray(blob)}), strict=True))
    boxes, scores = [], []
    for stride, (cls_name, reg_name) in OUTPUTS.items():
        cols = SIDE_PX // stride
        person = out[cls_name][0, :, 0]
        for cell in np.flatnonzero(person >= SCORE):
            cx, cy = (cell % cols + 0.5) * stride, (cell // cols + 0.5) * stride
            bins = out[reg_name][0, cell].reshape(4, BINS).astype(np.float64)
            prob = np.exp(bins - bins.max(axis=1, keepdims=True))
            prob /= prob.sum(axis=1, keepdims=True)
            left, top, right, bottom = prob @ np.arange(BINS) * stride
            boxes.append([cx - left, cy - top, cx + right, cy + bottom])
            scores.append(float(person[cell]))
    if not boxes:
        return np.zeros((0, 4)), np.zeros(0)
    xyxy = (np.asarray(boxes) - [pad_x, pad_y, pad_x, pad_y]) / [scale_x, scale_y, scale_x, scale_y]
    xywh = [[x0, y0, x1 - x0, y1 - y0] for x0, y0, x1, y1 in xyxy.tolist()]
    keep = np.asarray(cv2.dnn.NMSBoxes(xywh, scores, SCORE, NMS_IOU), dtype=np.int64).reshape(-1)
    return xyxy[keep], np.asarray(scores)[keep]


def compare(detector, frames: dict[int, np.ndarray], reference: dict) -> dict[str, float]:
    """Product boxes against the reference's, matched one to one (IoU >= 0.5), over all frames."""
    ours = theirs = 0
    ious, score_diffs, coord_diffs = [], [], []
    for index, frame in frames.items():
        found = detector.detect(frame, camera_id="view-001", timestamp_s=float(index))
        boxes, scores = reference[index]
        pairs = match_boxes(found.xyxy_px, boxes, iou_threshold=0.5)
        ours += len(found)
        theirs += len(boxes)
        a, b = pairs[:, 0], pairs[:, 1]
        ious.extend(iou_matrix(found.xyxy_px, boxes)[a, b].tolist())
        score_diffs.extend(np.abs(found.confidence[a] - scores[b]).tolist())
        coord_diffs.extend(np.abs(found.xyxy_px[a] - boxes[b]).max(axis=1).tolist())
    return {
        "ours": ours,
        "theirs": theirs,
        "matched": len(ious),
        "iou_median": float(np.median(ious)) if ious else 0.0,
        "score_diff_median": float(np.median(score_diffs)) if ious else np.inf,
        "coord_diff_px_max": float(np.max(coord_diffs)) if ious else np.inf,
    }


@pytest.fixture(scope="module")
def frames() -> dict[int, np.ndarray]:
    capture = cv2.VideoCapture(str(DATA / "vtest.avi"))
    out = {}
    for index in range(max(FRAMES) + 1):
        ok, frame = capture.read()
        assert ok
        if index in FRAMES:
            out[index] = frame
    capture.release()
    return out


@pytest.fixture(scope="module")
def session():
    ort = pytest.importorskip("onnxruntime")  # a test-only dependency (pyproject [dev])
    ort.disable_telemetry_events()  # issue 11 item 11: never phone home
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(str(REFERENCE), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def stretched(session, frames) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    return {index: reference_boxes(session, frame, letterbox=False) for index, frame in frames.items()}


@pytest.fixture(scope="module")
def letterboxed(session, frames) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    return {index: reference_boxes(session, frame, letterbox=True) for index, frame in frames.items()}


# Measured on these frames (6 frames, 31 reference boxes): the product fed the same 416x416 stretch
# differs from the reference by its area interpolation only: scores 0.005 apart (median), corners
# within 1.3 px. Feeding RGB instead of BGR moves the scores 0.037 (median) and corners up to 6 px;
# RGB / 255 (the npm package's convention) 0.099 and loses 2 boxes.
@pytest.mark.slow
def test_same_input_size_same_boxes_and_scores(model_root: Path, frames, stretched) -> None:
    torch.set_num_threads(2)
    detector = create_detector("nanodet", model_dir=model_root, keep_aspect=False)
    result = compare(detector, frames, stretched)
    assert result["theirs"] >= 5 * len(frames)  # the reference finds the people (5-8 a frame)
    assert result["matched"] == result["ours"] == result["theirs"]
    assert result["iou_median"] >= 0.97
    assert result["score_diff_median"] <= 0.015
    assert result["coord_diff_px_max"] <= 3.0


# As shipped, the product keeps the frame's aspect (a 416x320 input, no padding) where the reference
# letterboxes into 416x416: the network sees each person at nearly the same scale, so the boxes
# agree (IoU 0.94 median, scores 0.011 apart), but not to the pixel.
@pytest.mark.slow
def test_default_detector_finds_the_reference_boxes(model_root: Path, frames, letterboxed) -> None:
    torch.set_num_threads(2)
    result = compare(create_detector("nanodet", model_dir=model_root), frames, letterboxed)
    assert result["matched"] >= 0.9 * max(result["ours"], result["theirs"])
    assert result["iou_median"] >= 0.9
    assert result["score_diff_median"] <= 0.02


def test_the_reference_pipeline_finds_the_annotated_people(frames, letterboxed, stretched) -> None:
    # The reference is an oracle only if it is right: against the ground truth of the annotated frames.
    truth = load_mot_boxes(DATA / "ground_truth/gt_full_mot_dev.txt")
    for reference in (letterboxed, stretched):
        found = true = matched = 0
        for index in (i for i in FRAMES if i + 1 in truth):
            boxes, _ = reference[index]
            found += len(boxes)
            true += len(truth[index + 1])
            matched += len(match_boxes(boxes, truth[index + 1]))
        assert matched >= 0.8 * true
        assert matched >= 0.8 * found
