"""Detector accuracy on the development data, today's code against a baseline revision, in one run.

Run from the project root (weights: ``crowdmap models pull``; the baseline revision must be in git)::

    .venv/bin/python bench/detector_accuracy.py                  # baseline d6fdcb5 (issue 13's state)
    .venv/bin/python bench/detector_accuracy.py --only gc         # one data set: pets, pets-station, gc

Every figure comes from ``crowdmap eval detect`` (one process per figure, ``--threads`` torch threads):

- ``pets``: PETS2009 View_001, no calibration (the default detector); frames 1-200 (where the defaults
  were chosen), 201-400 (held out) and 1-400 (both, summed from the two runs);
- ``pets-station``: the same with ``--station station_layouts/pets2009 --camera view-001`` (expected
  heights, floor mask, tiles);
- ``gc``: ``frame0_left.jpg`` with its 40 points and the operator heights 175:50,765:75.

Settings, each its own row: ``baseline`` = the detector package of ``--baseline-rev`` (extracted with
``git archive`` into a temporary folder and run from there, so it is that revision's code with its
own defaults); ``fp32`` = today's code in float32 (the baseline's arithmetic: the difference is the
detector's rules); ``default`` = today's defaults (bf16 where the CPU has it); ``no-split`` = today's
defaults without splitting stacked pairs (``--option split_stacked=false``: what that rule adds,
docs/DETECTOR.md); ``temporal`` = today's
defaults with ``--option temporal=true`` (video only); ``no-flip`` and ``flip-far`` (only with ``--flip``) = today's
defaults with ``--option flip_tta=off`` (no mirrored crops) or ``flip_tta=far`` (the topmost band's
strip always runs mirrored too, the raw outputs averaged per cell; the default ``auto`` does that only
where the band is at most half the frame's network input: on Grand Central, not on PETS). Each run
is a separate video pass, so a temporal row starts its filter afresh at the first frame of each part (frames 1 and 201).

Timing: the median ms per frame of each run, with the load average before and after it (the machine
may be shared: compare rows of one run, not runs).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from runs import combined_detect, extract_revision, run_eval

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / "../shared/data").resolve()
PETS_VIDEO = DATA / "pets2009_s2l1/vtest.avi"
PETS_GT = DATA / "pets2009_s2l1/ground_truth/gt_full_mot_dev.txt"
GC_IMAGE = DATA / "grand_central/frame0_left.jpg"
GC_POINTS = DATA / "grand_central/frame0_left_points.csv"
PARTS = ((1, 200), (201, 400))


def video_rows(name: str, tree: Path, extra: list[str], threads: int, station: list[str]) -> list[dict]:
    rows, parts = [], []
    for first, last in PARTS:
        argv = ["--video", str(PETS_VIDEO), "--gt", str(PETS_GT), "--frames", f"{first}:{last}", *station, *extra]
        result = run_eval(tree, "detect", argv, threads)
        parts.append(result)
        held_out = "held out" if first > 200 else "chosen on"
        rows.append({"setting": name, **result, "part": f"{first}-{last} ({held_out})"})
    rows.append({"setting": name, **combined_detect(parts), "part": "1-400 (both)"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-rev", default="d6fdcb5", help="git revision whose detector is the baseline")
    parser.add_argument("--only", choices=("pets", "pets-station", "gc"), action="append", help="data set(s) to run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-temporal", action="store_true", help="skip the temporal rows")
    parser.add_argument("--flip", action="store_true", help="add the no-flip and flip-far rows (flip TTA)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    sets = args.only or ["pets", "pets-station", "gc"]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="crowdmap-bench-") as tmp:
        baseline = extract_revision(args.baseline_rev, Path(tmp))
        settings = [
            (f"baseline {args.baseline_rev}", baseline, []),
            ("fp32", ROOT, ["--option", "precision=fp32"]),
            ("default", ROOT, []),
            ("no-split", ROOT, ["--option", "split_stacked=false"]),
        ]
        if args.flip:
            settings.append(("no-flip", ROOT, ["--option", "flip_tta=off"]))
            settings.append(("flip-far", ROOT, ["--option", "flip_tta=far"]))
        if not args.no_temporal:
            settings.append(("temporal", ROOT, ["--option", "temporal=true"]))
        for data in sets:
            for name, tree, extra in settings:
                if data == "pets":
                    rows += [{"data": data, **r} for r in video_rows(name, tree, extra, args.threads, [])]
                elif data == "pets-station":
                    layout = str(tree / "station_layouts/pets2009")
                    station = ["--station", layout, "--camera", "view-001"]
                    rows += [{"data": data, **r} for r in video_rows(name, tree, extra, args.threads, station)]
                elif name != "temporal":
                    argv = ["--image", str(GC_IMAGE), "--gt-points", str(GC_POINTS), "--person-height", "175:50,765:75"]
                    result = run_eval(tree, "detect", [*argv, *extra], args.threads)
                    rows.append({"data": data, "setting": name, **result, "part": "frame0_left"})
    if args.json:
        print(json.dumps(rows, indent=1, sort_keys=True))
        return
    print("| data | setting | part | precision | recall | F1 | tiles | ms/frame | load before-after |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        ms = f"{row['ms_per_frame_median']:.0f}" if "ms_per_frame_median" in row else ""
        load = f"{row['load_before']:.1f}-{row['load_after']:.1f}" if "load_before" in row else ""
        print(
            f"| {row['data']} | {row['setting']} | {row['part']} | {row['precision']:.3f} | {row['recall']:.3f} "
            f"| {row['f1']:.3f} | {row.get('tiles') or ''} | {ms} | {load} |"
        )


if __name__ == "__main__":
    main()
