"""NanoDet on a high concourse view and on PETS: today's detector against issue 13's starting point.

Run from the project root (weights: ``crowdmap models pull nanodet``; the baseline revision must be
in git)::

    .venv/bin/python bench/highview.py

The high view: Grand Central ``frame0_left.jpg`` (960x1080) with the operator heights of
docs/DETECTOR.md (feet at row 175 -> 50 px, row 765 -> 75 px). Only the left half of the frame
exists, so the whole 1920x1080 frame is built from the half and its mirror image side by side
(70-80 people, the issue's crowd size; its points are the 40 annotated ones and their mirrors).

Rows, each in its own process with ``--threads`` torch threads, in one run:

- ``baseline``: the whole detector package of ``--baseline-rev`` (d6fdcb5, issue 13's starting
  point: its tile plan, the TFJS interpreter in float32, per-crop numpy preprocessing, glibc's
  allocator as it comes), extracted with ``git archive`` and run from there;
- ``old-engine``: today's tile plan with that engine (the interpreter in float32, per-crop numpy
  preprocessing, allocator as it comes): the difference to ``baseline`` is the tile plan, the
  difference to the rows below the engine;
- ``fp32``: today's engine in float32 (lowered FX graph, batched preprocessing, freed memory kept
  for the next frame, ``detector/allocator.py``): the old engine's numbers;
- ``bf16``: the same in bfloat16 (``precision="bf16"``);
- ``default``: what ``create_detector("nanodet")`` builds (``precision="auto"``);
- ``compiled``: the default plus ``compiled=True`` (``torch.compile`` per input shape in the
  background); timed after the compiled code is ready, with the seconds that took (cold start);
- ``bf16-fp32-heads`` and ``bf16-fp32-stem`` (experiments, named with ``--engines``; not product
  options): bfloat16 with some convolutions kept in float32, to see whether scores near a threshold
  follow float32: the heads (per level, the convolution producing scores and box distributions and
  the one before it) or the stem (the first five convolutions, before the second downsampling);
- ``no-flip``, ``flip-far`` and ``flip-tiles``: the default with ``flip_tta="off"`` (no mirrored
  crops), ``"far"`` (the topmost band's strip also runs mirrored, the two raw outputs averaged per
  cell; what the default ``"auto"`` does on this view) or ``"tiles"`` (every strip);
- ``int8`` (only with ``--int8``, an experiment that the product does not ship): convolutions
  quantised with torch's x86 backend (``torch.ao`` FX graph mode, per-channel weights), heads kept
  in float, calibrated on PETS frames 401-550 and the Grand Central tiles.

On a shared machine wall times mean little: compare CPU time on one thread (``--threads 1``), or
use ``--interleaved``, which runs today's tile plan with every engine in one process on one thread
and alternates them frame by frame on the whole 1920x1080 frame and a PETS frame (default
settings), reporting CPU time (``time.process_time``) and ratios to the first engine: load then
falls on all alike (engines only: glibc's allocator stays as it comes for all).

Per engine: whole-frame seconds (wall and CPU, medians of ``--repeats`` after a warm-up), tiles,
recall and precision on the half and on the mirrored whole frame, PETS milliseconds per frame and
frames per second with the default settings (no calibration, every ``--pets-step``th frame of 1-400)
and PETS precision, recall, F1. Ratios are against ``baseline`` from the same run; the load average
is read before and after each row.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from runs import extract_revision, run_row

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "../shared/data"
sys.path.insert(0, str(ROOT))

ENGINES = ["baseline", "old-engine", "fp32", "bf16", "default", "compiled"]
MIXED = ("bf16-fp32-heads", "bf16-fp32-stem")
FLIPS = {"no-flip": "off", "flip-far": "far", "flip-tiles": "tiles"}
BASELINE_REV = "d6fdcb5"
FAR_ROW, FAR_PX, NEAR_ROW, NEAR_PX = 175, 50.0, 765, 75.0


def legacy_preprocess(crop_bgr: np.ndarray, input_wh: tuple[int, int]) -> np.ndarray:
    """The previous per-crop preprocessing (NanoDet mean/std, BGR), verbatim."""
    import cv2

    from detector.backends.nanodet import NORMALIZATION

    shrink = crop_bgr.shape[1] > input_wh[0]
    resized = cv2.resize(crop_bgr, input_wh, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    mean, std = NORMALIZATION["meanstd_bgr"]
    return ((resized.astype(np.float32) - mean) / std).transpose(2, 0, 1).copy()


class LegacyEngine:
    """The network's batches run as before issue 13: numpy preprocessing per crop, the interpreter."""

    def __init__(self, network) -> None:
        import torch

        self.network = network
        self.torch = torch

    def preprocess_batch(self, crops, input_wh):
        batch = np.stack([legacy_preprocess(c, input_wh) for c in crops])
        return self.torch.from_numpy(batch).contiguous(memory_format=self.torch.channels_last)

    def __call__(self, batch):
        return self.network.interpreter(input_1=batch)


class QuantisedEngine:
    """int8 convolutions via torch.ao FX graph mode quantisation (x86 backend); heads stay float."""

    def __init__(self, network, calibration) -> None:
        import copy

        import torch
        from torch.ao.quantization import get_default_qconfig_mapping
        from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

        torch.backends.quantized.engine = "x86"
        lowered = network.engine.module if network.engine.dtype == torch.float32 else None
        if lowered is None:
            raise ValueError("int8 needs the float32 lowered module")
        mapping = get_default_qconfig_mapping("x86")
        # The last convolution of each head feeds a split into scores and box distributions; those
        # stay float (quantising them turned PETS precision from 0.93 into 0.25).
        for node in lowered.graph.nodes:
            if node.op == "call_function" and node.target is torch.split:
                source = node.args[0]
                while source.op != "call_module":
                    source = source.args[0]
                mapping = mapping.set_module_name(source.target, None)
        mapping = mapping.set_object_type(torch.sigmoid, None).set_object_type(torch.split, None)
        prepared = prepare_fx(copy.deepcopy(lowered), mapping, example_inputs=(torch.zeros(1, 3, 64, 64),))
        with torch.inference_mode():
            for crops, input_wh in calibration:
                prepared(network.preprocess_batch(crops, input_wh))
        self.module = convert_fx(prepared)
        self.torch = torch

    def __call__(self, batch):
        with self.torch.inference_mode():
            return self.module(batch)


def mixed_precision(lowered, part: str):
    """A bfloat16 copy of the float32 lowered module with the convolutions of ``part`` kept in float32.

    ``part``: ``"heads"`` (per level, the convolution feeding the split into scores and box
    distributions, and the convolution before it) or ``"stem"`` (the first five convolutions). Every
    convolution's input is cast to that convolution's precision.
    """
    import copy

    import torch

    module = copy.deepcopy(lowered)
    convs = [
        n
        for n in module.graph.nodes
        if n.op == "call_module" and isinstance(module.get_submodule(n.target), torch.nn.Conv2d)
    ]
    if part == "stem":
        keep = {n.target for n in convs[:5]}
    else:
        keep = set()
        for node in module.graph.nodes:
            if node.op == "call_function" and node.target is torch.split:
                source = node.args[0]
                keep.add(source.target)
                previous = source.args[0]
                while previous.op != "call_module":
                    previous = previous.args[0]
                keep.add(previous.target)
    for node in convs:
        dtype = torch.float32 if node.target in keep else torch.bfloat16
        module.get_submodule(node.target).to(dtype)
        with module.graph.inserting_before(node):
            cast = module.graph.call_method("to", (node.args[0], dtype))
        node.args = (cast, *node.args[1:])
    module.recompile()
    return module.eval().requires_grad_(False)


def use_mixed(detectors, engine: str) -> None:
    """Give the detectors (built in float32) the mixed module of ``engine``; inputs stay float32."""
    module = mixed_precision(detectors[0].network.engine.module, engine.rsplit("-", 1)[1])
    for det in detectors:
        det.network.engine.module = module
        det.network.engine.precision = engine


def pets_frames(step: int, last: int = 400) -> list[tuple[int, np.ndarray]]:
    import cv2

    capture = cv2.VideoCapture(str(DATA / "pets2009_s2l1/vtest.avi"))
    frames = []
    for index in range(last):
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0:
            frames.append((index + 1, frame))
    capture.release()
    return frames


def high_view() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(half 960x1080, whole 1920x1080 = half | mirror, the half's points, the whole frame's points)."""
    import cv2

    from detector.evaluation import load_points_csv

    half = cv2.imread(str(DATA / "grand_central/frame0_left.jpg"))
    if half is None:
        raise FileNotFoundError(f"{DATA / 'grand_central/frame0_left.jpg'} is missing")
    whole = np.ascontiguousarray(np.concatenate([half, half[:, ::-1]], axis=1))
    points = load_points_csv(DATA / "grand_central/frame0_left_points.csv")
    width = half.shape[1]
    mirrored = np.column_stack((2 * width - 1 - points[:, 0], points[:, 1]))
    return half, whole, points, np.concatenate([points, mirrored])


def build(engine: str, threads: int, hints_for, keep_freed_memory: bool | None = None):
    """(PETS detector, function image_wh -> high-view detector) for one engine.

    The old engine leaves glibc's allocator as it was before issue 13 unless told otherwise (the
    baseline's own code knows none of today's options and ignores them).
    """
    from detector import create_detector

    precision = {"old-engine": "fp32", "fp32": "fp32", "bf16": "bf16", "int8": "fp32"}.get(engine, "auto")
    precision = "fp32" if engine in MIXED else precision
    keep = engine != "old-engine" if keep_freed_memory is None else keep_freed_memory
    options = {"threads": threads, "precision": precision, "compiled": engine == "compiled", "keep_freed_memory": keep}
    if engine in FLIPS:
        options["flip_tta"] = FLIPS[engine]
    pets = create_detector("nanodet", **options)

    def high(image_wh: tuple[int, int]):
        return create_detector("nanodet", person_height_px=hints_for(image_wh).person_height_px, **options)

    return pets, high


def run_one(engine: str, threads: int, repeats: int, pets_step: int) -> dict:
    import cv2
    import torch

    import detector  # noqa: F401 - before torch's thread pools start: sets the OpenMP wait policy
    from detector.evaluation import BoxScore, load_mot_boxes, point_score
    from detector.scene import SceneHints

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    load_before = os.getloadavg()[0]

    def hints_for(image_wh: tuple[int, int]) -> SceneHints:
        return SceneHints.from_near_far(
            image_wh=image_wh, near_row_px=NEAR_ROW, near_height_px=NEAR_PX, far_row_px=FAR_ROW, far_height_px=FAR_PX
        )

    pets, high = build(engine, threads, hints_for)
    half, whole, half_points, whole_points = high_view()
    on_half, on_whole = high((half.shape[1], half.shape[0])), high((whole.shape[1], whole.shape[0]))
    frames = pets_frames(pets_step)
    detectors = (pets, on_half, on_whole)
    if engine == "old-engine":
        for det in detectors:
            det.network.engine = LegacyEngine(det.network)
            det.network.preprocess_batch = det.network.engine.preprocess_batch
    elif engine in MIXED:
        use_mixed(detectors, engine)
    elif engine == "int8":
        calibration = [([f], pets.network.input_wh_for((f.shape[1], f.shape[0]))) for _, f in pets_frames(10, 550)[40:]]
        tiles = on_half.tiles_for((half.shape[1], half.shape[0]))
        for tile in tiles[1:]:
            crop = half[tile.y0 : tile.y1, tile.x0 : tile.x1]
            size = getattr(tile, "input_wh", None) or pets.network.input_wh_for((crop.shape[1], crop.shape[0]))
            calibration.append(([crop], size))
        quantised = QuantisedEngine(pets.network, calibration)
        for det in detectors:
            det.network.engine = quantised

    # The baseline revision's detectors named the frame time ``timestamp`` (before the ``_s`` convention).
    time_kw = "timestamp_s" if "timestamp_s" in inspect.signature(pets.detect).parameters else "timestamp"

    def timed(det, frame):
        began, cpu = time.perf_counter(), time.process_time()
        found = det.detect(frame, camera_id="bench", **{time_kw: 0.0})
        return found, time.perf_counter() - began, time.process_time() - cpu

    result: dict = {
        "engine": engine,
        "threads": threads,
        "precision": "int8"
        if engine == "int8"
        else getattr(getattr(pets.network, "engine", None), "precision", "fp32"),
    }
    for name, det, image, points in (("half", on_half, half, half_points), ("whole", on_whole, whole, whole_points)):
        began = time.perf_counter()
        found, _, _ = timed(det, image)  # warm-up: tile plan, allocator, thread pool
        if engine == "compiled":  # the cold start: until every shape of this frame runs compiled code
            det.network.engine.wait_compiled()
            result[f"{name}_compile_s"] = time.perf_counter() - began
            result["compile_error"] = det.network.engine.compile_error
        walls, cpus = [], []
        for _ in range(repeats):
            found, wall, cpu = timed(det, image)
            walls.append(wall)
            cpus.append(cpu)
        score = point_score(found.xyxy_px, points)
        result[name] = {
            "s_median": float(np.median(walls)),
            "cpu_s_median": float(np.median(cpus)),
            "tiles": len(det.tiles_for((image.shape[1], image.shape[0]))),
            "recall": score["recall"],
            "precision": score["precision"],
            "detections": score["detections"],
            "points": score["points"],
        }
    truth = load_mot_boxes(DATA / "pets2009_s2l1/ground_truth/gt_full_mot_dev.txt")
    for _, frame in frames[:3]:
        timed(pets, frame)
    if engine == "compiled":
        pets.network.engine.wait_compiled()
    score, walls, cpus = BoxScore(), [], []
    for number, frame in frames:
        found, wall, cpu = timed(pets, frame)
        walls.append(wall)
        cpus.append(cpu)
        score.add(found.xyxy_px, truth.get(number, np.zeros((0, 4))))
    summary = score.summary()
    result["pets"] = {
        "ms_median": 1000 * float(np.median(walls)),
        "cpu_ms_median": 1000 * float(np.median(cpus)),
        "fps": 1.0 / float(np.median(walls)),
        "precision": summary["precision"],
        "recall": summary["recall"],
        "f1": summary["f1"],
        "frames": len(frames),
    }
    result["load_average"] = [load_before, os.getloadavg()[0]]
    return result


def interleaved(engines: list[str], rounds: int) -> str:
    """Every engine in this process, one thread, alternating frame by frame: CPU time and ratios.

    Engines only: glibc's allocator stays as it comes for all of them. Keeping freed memory
    (:mod:`detector.allocator`) pays when one detector's frames reuse one heap; engines interleaved
    in one thread share a heap and spoil each other's reuse, so measure it per process (the
    default mode, ``--threads 1`` on a shared machine).
    """
    import cv2
    import torch

    import detector  # noqa: F401 - before torch's thread pools start: sets the OpenMP wait policy
    from detector.scene import SceneHints

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    _, whole, _, _ = high_view()
    hints = SceneHints.from_near_far(
        image_wh=(whole.shape[1], whole.shape[0]),
        near_row_px=NEAR_ROW,
        near_height_px=NEAR_PX,
        far_row_px=FAR_ROW,
        far_height_px=FAR_PX,
    )
    pets_frame = pets_frames(10)[20][1]  # PETS frame 201: the default settings, whole frame only
    detectors, cold_s = {}, {}
    for engine in engines:
        pets, high = build(engine, 1, lambda _wh: hints, keep_freed_memory=False)
        det = high((whole.shape[1], whole.shape[0]))
        if engine == "old-engine":
            for one in (det, pets):
                one.network.engine = LegacyEngine(one.network)
                one.network.preprocess_batch = one.network.engine.preprocess_batch
        elif engine in MIXED:
            use_mixed((det, pets), engine)
        began = time.perf_counter()
        det.detect(whole, camera_id="bench", timestamp_s=0.0)
        pets.detect(pets_frame, camera_id="bench", timestamp_s=0.0)
        if engine == "compiled":
            det.network.engine.wait_compiled()
            pets.network.engine.wait_compiled()
        cold_s[engine] = time.perf_counter() - began
        detectors[engine] = (det, pets)

    def phase() -> dict[str, tuple[float, float, int]]:
        cpu: dict[str, list[float]] = {engine: [] for engine in engines}
        pets_cpu: dict[str, list[float]] = {engine: [] for engine in engines}
        found: dict[str, int] = {}
        for det, pets in detectors.values():  # warm-up: the allocator may have changed
            det.detect(whole, camera_id="bench", timestamp_s=0.0)
            pets.detect(pets_frame, camera_id="bench", timestamp_s=0.0)
        for _ in range(rounds):
            for engine, (det, pets) in detectors.items():
                began = time.process_time()
                found[engine] = len(det.detect(whole, camera_id="bench", timestamp_s=0.0))
                cpu[engine].append(time.process_time() - began)
                for _ in range(5):
                    began = time.process_time()
                    pets.detect(pets_frame, camera_id="bench", timestamp_s=0.0)
                    pets_cpu[engine].append(time.process_time() - began)
        return {e: (float(np.median(cpu[e])), float(np.median(pets_cpu[e])), found[e]) for e in engines}

    load_before = os.getloadavg()[0]
    results = phase()
    base, pets_base, _ = results[engines[0]]
    lines = [
        f"one thread, {rounds} rounds, load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}",
        f"| engine | whole 1920x1080 CPU s (median) | vs {engines[0]} | detections "
        f"| PETS CPU ms (median) | vs {engines[0]} | first frames s (cold start) |",
        "|---|---|---|---|---|---|---|",
    ]
    for engine in engines:
        median, pets_median, found = results[engine]
        lines.append(
            f"| {engine} | {median:.3f} | {base / median:.2f}x | {found} "
            f"| {1000 * pets_median:.1f} | {pets_base / pets_median:.2f}x | {cold_s[engine]:.1f} |"
        )
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    base = next((r for r in rows if r.get("engine") == "baseline" and "error" not in r), None)
    base = base or next((r for r in rows if "error" not in r), None)

    def ratio(row: dict, *key: str) -> str:
        if base is None:
            return "-"
        a, b = base, row
        for k in key:
            a, b = a[k], b[k]
        return f"{a / b:.2f}x"

    lines = [
        "| engine | precision | whole 1920x1080: s (wall) | CPU s | vs baseline (wall / CPU) | tiles "
        "| recall / precision (mirrored whole) | half 960x1080: s | recall / precision (40 points) "
        "| PETS ms/frame | fps | vs baseline | PETS P / R / F1 | load average (before, after) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['engine']} | error: {row['error']} |" + " |" * 12)
            continue
        w, h, p = row["whole"], row["half"], row["pets"]
        lines.append(
            f"| {row['engine']} | {row['precision']} | {w['s_median']:.3f} | {w['cpu_s_median']:.3f} | "
            f"{ratio(row, 'whole', 's_median')} / {ratio(row, 'whole', 'cpu_s_median')} | {w['tiles']} | "
            f"{w['recall']:.3f} / {w['precision']:.3f} | {h['s_median']:.3f} | "
            f"{h['recall']:.3f} / {h['precision']:.3f} | "
            f"{p['ms_median']:.1f} | {p['fps']:.1f} | {ratio(row, 'pets', 'ms_median')} | "
            f"{p['precision']:.3f} / {p['recall']:.3f} / {p['f1']:.3f} | "
            f"{row['load_average'][0]:.1f}, {row['load_average'][1]:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="*", default=ENGINES, help=f"any of {[*ENGINES, *MIXED, *FLIPS, 'int8']}")
    parser.add_argument("--int8", action="store_true", help="also run the int8 experiment")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="timed whole-frame passes per engine")
    parser.add_argument("--pets-step", type=int, default=10, help="every Nth PETS frame of 1-400")
    parser.add_argument("--interleaved", action="store_true", help="one process, one thread, CPU time")
    parser.add_argument("--rounds", type=int, default=3, help="alternations with --interleaved")
    parser.add_argument("--baseline-rev", default=BASELINE_REV, help="git revision of the baseline row")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tree", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.interleaved:
        print(interleaved([e for e in args.engines if e not in ("baseline", "int8")], args.rounds))
        return 0
    if args.one:
        if args.tree:  # the baseline: that revision's detector package comes first on the path
            sys.path.insert(0, args.tree)
        print(json.dumps(run_one(args.one, args.threads, args.repeats, args.pets_step)))
        return 0
    engines = [*args.engines, "int8"] if args.int8 and "int8" not in args.engines else args.engines
    rows = []
    scratch = tempfile.TemporaryDirectory(prefix="highview-")
    for engine in engines:
        command = [sys.executable, __file__, "--one", engine, "--threads", str(args.threads)]
        command += ["--repeats", str(args.repeats), "--pets-step", str(args.pets_step)]
        if engine == "baseline":
            command += ["--tree", str(extract_revision(args.baseline_rev, Path(scratch.name)))]
        rows.append(run_row(command, "engine", engine))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
