"""``crowdmap eval``: score the pipeline's stages on real data, one subcommand per module.

``eval detect`` is ``crowdmap.commands.evaluate_detect``, ``eval fusion``
``crowdmap.commands.evaluate_fusion``, ``eval station`` ``crowdmap.commands.evaluate_station``; each
is added by one small function returned by ``_eval_parsers()`` (the place to add another). What
``detect`` and ``station`` share is ``crowdmap.commands._eval_args``.

The JSON printed with ``--json`` is a stable interface (outside checks rely on its keys).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

# Imported before anything loads torch: it sets torch's OpenMP wait policy for shared cores.
import detector as _detector_package  # noqa: F401


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crowdmap eval`` and its subcommands."""
    parser = subparsers.add_parser(
        "eval",
        help="score detector, fusion and what the public sees on real data",
        description=(
            "Score the pipeline's stages against ground truth: 'detect' a person detector on a video with "
            "ground-truth boxes or an image with one point per person, 'fusion' multi-camera projection and "
            "fusion on WILDTRACK, 'station' what the public sees (zone counts, levels, dots) on a recorded camera. "
            "With --json each prints one JSON object whose keys stay stable."
        ),
    )
    eval_subparsers = parser.add_subparsers(dest="eval_command", required=True)
    for add_parser in _eval_parsers():
        add_parser(eval_subparsers)


def _eval_parsers() -> list[Callable[[argparse._SubParsersAction], Any]]:
    """The functions that each add one ``eval`` subcommand (the place to add another one)."""
    from crowdmap.commands.evaluate_detect import add_detect_parser
    from crowdmap.commands.evaluate_fusion import add_fusion_parser
    from crowdmap.commands.evaluate_station import add_station_parser

    return [add_detect_parser, add_fusion_parser, add_station_parser]
