"""What ``eval detect`` and ``eval station`` share: frames, the detector's settings, the printed result.

Both run a camera's detector over a recording with ground truth, so they take ``--frames``,
``--backend``, ``--option``, ``--threads`` and ``--json`` alike and print their figures the same way.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """``--frames``, ``--backend``, ``--option`` (repeatable), ``--threads`` and ``--json``."""
    parser.add_argument("--frames", default=None, help="A:B, ground-truth frame numbers to score, inclusive")
    parser.add_argument("--backend", default=None, help="detector backend (default: the camera's, else the default)")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="detector option overriding the camera's (VALUE parsed as JSON when it can be), repeatable",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the edge box's cores per camera)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def parse_frames(text: str) -> tuple[int, int]:
    """``"A:B"`` -> ``(A, B)`` inclusive, 1 <= A <= B.

    Raises:
        ValueError: Not two integers, or out of order.
    """
    first, sep, last = text.partition(":")
    try:
        start, stop = int(first), int(last)
    except ValueError:
        raise ValueError(f"--frames must be A:B with integers, got {text!r}") from None
    if not sep or start < 1 or stop < start:
        raise ValueError(f"--frames must be A:B with 1 <= A <= B, got {text!r}")
    return start, stop


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``--option KEY=VALUE`` pairs -> detector options, each VALUE read as JSON where it is JSON.

    Raises:
        ValueError: A pair without ``=`` or without a key.
    """
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--option must be KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def print_result(result: dict[str, Any], *, as_json: bool, key_width: int) -> None:
    """One JSON object (a stable interface: sorted keys), or one ``key: value`` line per figure."""
    if as_json:
        print(json.dumps(result, sort_keys=True))
    else:
        for key, value in sorted(result.items()):
            print(f"{key:>{key_width}}: {value}")
