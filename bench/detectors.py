"""Every detector backend side by side on the PETS2009 clip, with the ONNX reference graphs as baseline.

Run from the project root (weights: ``crowdmap models pull``)::

    .venv/bin/python bench/detectors.py --step 5 --threads 2

Each backend runs in its own process (clean peak memory, its own thread setting) on the same frames:
PETS2009 S2.L1 View_001, ground-truth frames 1-400 every ``--step``th. Reported per backend: median ms
per frame (detector time alone), frames per second per camera, peak resident memory, precision,
recall, F1 (IoU >= 0.5 against gt_full_mot_dev.txt), median foot point error in pixels. The baselines
run the reference ONNX files (../shared/models) through onnxruntime with the same pre- and
post-processing, so the difference is the graph execution alone.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
from runs import run_row

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "../shared/data/pets2009_s2l1"
MODELS = ROOT / "../shared/models"
sys.path.insert(0, str(ROOT))

BACKENDS = [
    "onnxruntime-nanodet",
    "nanodet-416sq",
    "nanodet-fp32",
    "nanodet",
    "onnxruntime-pedssd",
    "ssdlite-ped-fp32",
    "ssdlite-ped",
    "hog",
    "torchvision-ssdlite",
    "torchvision-fasterrcnn-mobilenet",
]


def onnx_session(model: str, threads: int):
    """An onnxruntime CPU session of a reference graph in ``../shared/models`` with ``threads`` threads."""
    import onnxruntime as ort

    ort.disable_telemetry_events()  # never phone home (issue 11 item 11)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(MODELS / model), options, providers=["CPUExecutionProvider"])


class OnnxNanoDet:
    """The NanoDet reference ONNX graph through onnxruntime, with our pre- and post-processing."""

    target_person_px = 64.0
    min_person_px = 30.0

    def __init__(self, threads: int) -> None:
        self.session = onnx_session("nanodet.onnx", threads)
        self.names = [o.name for o in self.session.get_outputs()]
        self.input_px = 416

    def infer(self, crops):
        from detector.backends.nanodet import decode, preprocess_batch

        out = []
        for crop in crops:
            # The product's preprocessing (square 416 input, as the graph was exported).
            x = np.ascontiguousarray(preprocess_batch([crop], (416, 416), "meanstd_bgr").numpy())
            raw = dict(
                zip([n.split(":")[0] for n in self.names], self.session.run(self.names, {"input_1:0": x}), strict=True)
            )
            boxes, scores = decode(raw, 0, input_wh=(416, 416))
            sx, sy = crop.shape[1] / 416, crop.shape[0] / 416
            out.append((boxes * np.array([sx, sy, sx, sy]), scores))
        return out


class OnnxPedSsd:
    """The SSDLite pedestrian reference ONNX graph (post-NMS outputs) through onnxruntime."""

    target_person_px = 90.0
    min_person_px = 45.0

    def __init__(self, threads: int) -> None:
        self.session = onnx_session("pedssd.onnx", threads)
        self.input_px = 300

    def infer(self, crops):
        import cv2

        out = []
        for crop in crops:
            rgb = cv2.cvtColor(cv2.resize(crop, (300, 300)), cv2.COLOR_BGR2RGB)[None]
            num, scores, boxes, _ = self.session.run(
                ["num_detections:0", "detection_scores:0", "detection_boxes:0", "detection_classes:0"],
                {"image_tensor:0": rgb},
            )
            n = int(num[0])
            yxyx = boxes[0, :n].astype(np.float64)
            h, w = crop.shape[:2]
            out.append(
                (
                    np.column_stack((yxyx[:, 1] * w, yxyx[:, 0] * h, yxyx[:, 3] * w, yxyx[:, 2] * h)),
                    scores[0, :n].astype(np.float64),
                )
            )
        return out


def build(name: str, threads: int):
    from detector import create_detector
    from detector.pipeline import TiledDetector

    if name == "onnxruntime-nanodet":
        return TiledDetector(network=OnnxNanoDet(threads), name=name, score_threshold=0.5)
    if name == "onnxruntime-pedssd":
        return TiledDetector(network=OnnxPedSsd(threads), name=name, score_threshold=0.4)
    if name == "nanodet-416sq":  # the same 416x416 input and float32 numbers as the ONNX baseline
        return create_detector("nanodet", keep_aspect=False, precision="fp32")
    if name == "nanodet-fp32":  # the default input in float32 ("auto" picks bf16 where the CPU has it)
        return create_detector("nanodet", precision="fp32")
    if name == "ssdlite-ped-fp32":  # float32, the reference's numbers ("auto" picks bf16 where the CPU has it)
        return create_detector("ssdlite-ped", precision="fp32")
    if name.startswith("torchvision-"):
        return create_detector(name, weights=None)  # no internet here: random weights, timing only
    return create_detector(name)


def run_one(name: str, step: int, threads: int) -> dict:
    importlib.import_module("detector")  # before torch loads: it sets the thread wait policy, as in the product
    import cv2
    import torch

    from detector.evaluation import BoxScore, load_mot_boxes

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    detector = build(name, threads)
    truth = load_mot_boxes(DATA / "ground_truth/gt_full_mot_dev.txt")
    capture = cv2.VideoCapture(str(DATA / "vtest.avi"))
    frames = []
    for index in range(400):
        ok, frame = capture.read()
        if ok and index % step == 0:
            frames.append((index + 1, frame))
    capture.release()
    for _, frame in frames[:3]:  # warm-up: allocator, thread pools, tile plans
        detector.detect(frame, camera_id="bench", timestamp_s=0.0)
    score = BoxScore()
    times = []
    for number, frame in frames:
        began = time.perf_counter()
        found = detector.detect(frame, camera_id="bench", timestamp_s=float(number))
        times.append((time.perf_counter() - began) * 1000.0)
        score.add(found.xyxy_px, truth.get(number, np.zeros((0, 4))))
    summary = score.summary()
    ms = float(np.median(times))
    return {
        "backend": name,
        "ms_per_frame_median": ms,
        "fps_per_camera": 1000.0 / ms,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kb) / 1024.0,
        "precision": summary["precision"],
        "recall": summary["recall"],
        "f1": summary["f1"],
        "foot_error_px_median": summary["foot_error_px_median"],
        "frames": len(frames),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=5, help="every Nth frame of ground-truth frames 1-400")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backends", nargs="*", default=BACKENDS)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.step, args.threads)))
        return 0
    rows = []
    for name in args.backends:
        command = [sys.executable, __file__, "--one", name, "--step", str(args.step), "--threads", str(args.threads)]
        rows.append(run_row(command, "backend", name))
    baseline = {r["backend"]: r for r in rows if "error" not in r}
    print(
        "| backend | ms/frame (median) | fps/camera | vs ONNX ref | peak RSS MB | precision | recall | F1 | foot px |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        if "error" in row:
            print(f"| {row['backend']} | error: {row['error']} |||||||")
            continue
        reference = "onnxruntime-nanodet" if "nanodet" in row["backend"] else "onnxruntime-pedssd"
        ratio = (
            baseline[reference]["ms_per_frame_median"] / row["ms_per_frame_median"]
            if reference in baseline
            else float("nan")
        )
        foot = row["foot_error_px_median"]
        print(
            f"| {row['backend']} | {row['ms_per_frame_median']:.1f} | {row['fps_per_camera']:.1f} | "
            f"{ratio:.2f}x | {row['peak_rss_mb']:.0f} | {row['precision']:.3f} | {row['recall']:.3f} | "
            f"{row['f1']:.3f} | {foot if foot is None else round(foot, 2)} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
