"""What the public sees on PETS2009 View_001, today's code against a baseline revision, in one run.

Run from the project root (weights: ``crowdmap models pull``; the baseline revision must be in git)::

    .venv/bin/python bench/public_view.py --baseline-rev REV            # eval station + eval detect rows
    .venv/bin/python bench/public_view.py --baseline-rev REV --threads 1 --no-detect

Every row is one ``crowdmap eval station`` (and ``crowdmap eval detect --station``) process on
``station_layouts/pets2009`` camera ``view-001``: frames 1-200 (where rules were chosen), 201-400
(held out), and 1-400 combined from the two runs' counts (zone-frames and frames are equal in both,
so the MAEs are the means of the two parts; dot precision/recall and F1 from the summed counts).
``baseline`` is the whole tree of ``--baseline-rev`` (``git archive`` into a temporary folder, run
from there: that revision's code and layouts); ``today`` is this tree.

Timing columns: the detector's median wall ms per frame as the command reports it, and the CPU
seconds the whole ``eval detect`` process used per frame (decoding, model load and start included;
with ``--threads 1`` this is the fair comparison on a shared machine), with the load average before
and after each run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from runs import combined_detect, combined_station, extract_revision, run_eval

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / "../shared/data").resolve()
VIDEO = DATA / "pets2009_s2l1/vtest.avi"
GT = DATA / "pets2009_s2l1/ground_truth/gt_full_mot_dev.txt"
PARTS = ((1, 200), (201, 400))


def run_pets(tree: Path, command: str, first: int, last: int, threads: int) -> dict:
    """``crowdmap eval COMMAND`` on the PETS station camera, frames ``first``-``last``, with CPU s per frame."""
    argv = ["--station", str(tree / "station_layouts/pets2009"), "--camera", "view-001", "--video", str(VIDEO),
            "--gt", str(GT), "--frames", f"{first}:{last}"]  # fmt: skip
    result = run_eval(tree, command, argv, threads)
    result["cpu_s_per_frame"] = result["cpu_s"] / (last - first + 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-rev", required=True, help="git revision whose tree is the baseline")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-detect", action="store_true", help="skip the eval detect rows")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="crowdmap-bench-") as tmp:
        settings = [(f"baseline {args.baseline_rev}", extract_revision(args.baseline_rev, Path(tmp))), ("today", ROOT)]
        for name, tree in settings:
            station_parts, detect_parts = [], []
            for first, last in PARTS:
                part = f"{first}-{last} ({'held out' if first > 200 else 'chosen on'})"
                station = run_pets(tree, "station", first, last, args.threads)
                detect = {} if args.no_detect else run_pets(tree, "detect", first, last, args.threads)
                station_parts.append(station)
                detect_parts.append(detect)
                rows.append({"setting": name, "part": part, "station": station, "detect": detect})
            both_detect = {} if args.no_detect else combined_detect(detect_parts)
            rows.append(
                {"setting": name, "part": "1-400", "station": combined_station(station_parts), "detect": both_detect}
            )
    if args.json:
        print(json.dumps(rows, indent=1, sort_keys=True))
        return
    print(
        "| setting | frames | zone_count_mae | zone_count_bias | station_count_mae | dot_precision | dot_recall "
        "| detector F1 | detector ms/frame | eval detect CPU s/frame | load before-after |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        s, d = row["station"], row["detect"]
        f1 = f"{d['f1']:.3f}" if "f1" in d else ""
        ms = f"{d['ms_per_frame_median']:.0f}" if "ms_per_frame_median" in d else ""
        cpu = f"{d['cpu_s_per_frame']:.3f}" if "cpu_s_per_frame" in d else ""
        load = f"{s['load_before']:.1f}-{(d or s)['load_after']:.1f}" if "load_before" in s else ""
        print(
            f"| {row['setting']} | {row['part']} | {s['zone_count_mae']:.3f} | {s['zone_count_bias']:+.3f} "
            f"| {s['station_count_mae']:.3f} | {s['dot_precision']:.3f} | {s['dot_recall']:.3f} | {f1} | {ms} | {cpu} "
            f"| {load} |"
        )


if __name__ == "__main__":
    main()
