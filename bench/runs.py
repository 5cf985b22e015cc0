"""How the benchmarks run what they measure: a row per child process, a baseline revision's tree, eval runs.

- :func:`run_row`: one row of a table measured in a process of its own (``detectors.py``, ``highview.py``).
- :func:`extract_revision`: the tree of a baseline revision, for a baseline row measured in the same run.
- :func:`run_eval`: one ``crowdmap eval ... --json`` process in a tree, with the load and CPU around it.
- :func:`combined_detect`, :func:`combined_station`: the figures of several parts from their counts.

A script in ``bench/`` imports it as ``import runs`` (a script's own folder is first on its path).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_row(command: list[str], key: str, name: str) -> dict[str, Any]:
    """Run ``command`` (a benchmark measuring one row) and read the JSON row it prints last.

    Returns:
        The row; ``{key: name, "error": its last standard-error line}`` when the process failed. The
        row is also printed to standard error at once, so a long run shows its progress.
    """
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        row = {key: name, "error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    else:
        row = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def extract_revision(rev: str, into: Path) -> Path:
    """The whole tree of git revision ``rev`` (its packages and layouts) unpacked under ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    target = into / rev
    target.mkdir(parents=True)
    archive_path = into / f"{rev}.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(target, filter="data")
    return target


def run_eval(tree: Path, command: str, argv: list[str], threads: int) -> dict[str, Any]:
    """One ``crowdmap eval COMMAND ARGV --threads T --json`` process with ``tree`` first on the path.

    Returns:
        Its JSON, plus ``load_before``/``load_after`` (1-minute load average around the run),
        ``wall_s`` and ``cpu_s`` (the process's user + system CPU seconds, model load included).

    Raises:
        SystemExit: the command failed; its last standard-error lines say why.
    """
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "crowdmap.cli", "eval", command, *argv, "--threads", str(threads), "--json"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
    )
    wall_s = time.monotonic() - began
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"eval {command} {' '.join(argv)} failed in {tree}:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    cpu_s = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    result.update(load_before=load_before, load_after=os.getloadavg()[0], wall_s=wall_s, cpu_s=cpu_s)
    return result


def combined_detect(parts: list[dict[str, Any]]) -> dict[str, float]:
    """Precision, recall and F1 of several ``eval detect`` video runs together, from their counts."""
    tp = sum(p["true_positives"] for p in parts)
    det = sum(p["detections"] for p in parts)
    gt = sum(p["ground_truth"] for p in parts)
    precision, recall = tp / det if det else 0.0, tp / gt if gt else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def combined_station(parts: list[dict[str, Any]]) -> dict[str, float | None]:
    """The figures of several ``eval station`` runs together, from their counts (each run started fresh)."""
    zone_frames = sum(p["zone_frames"] for p in parts)
    frames = sum(p["frames"] for p in parts)
    dots, truth, matched = (sum(p[k] for p in parts) for k in ("dots", "truth_dots", "matched_dots"))
    return {
        "zone_count_mae": sum(p["zone_count_mae"] * p["zone_frames"] for p in parts) / zone_frames,
        "zone_count_bias": sum(p["zone_count_bias"] * p["zone_frames"] for p in parts) / zone_frames,
        "station_count_mae": sum(p["station_count_mae"] * p["frames"] for p in parts) / frames,
        "dot_precision": matched / dots if dots else None,
        "dot_recall": matched / truth if truth else None,
    }
