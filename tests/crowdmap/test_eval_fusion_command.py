"""``crowdmap eval fusion``: the stable JSON interface on the real WILDTRACK data, and its argument checks."""

import argparse
import json
from pathlib import Path

import pytest

from crowdmap.commands.evaluate_fusion import add_fusion_parser

WILDTRACK = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "wildtrack"


def _eval_parser():

    parser = argparse.ArgumentParser(prog="crowdmap eval")
    add_fusion_parser(parser.add_subparsers(dest="what", required=True))
    return parser


def test_eval_fusion_command_prints_json_scores(capsys) -> None:
    args = _eval_parser().parse_args(
        [
            "fusion",
            "--wildtrack",
            str(WILDTRACK),
            "--frames",
            "0:45",
            "--noise-px",
            "1",
            "--miss-rate",
            "0.05",
            "--json",
        ]
    )
    assert args.handler(args) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("moda", "modp", "precision", "recall", "count_mae", "position_error_m_median"):
        assert isinstance(report[key], float)
    assert report["frames"] == 10 and (report["first_frame"], report["last_frame"]) == (0, 45)


@pytest.mark.parametrize("frames", ["10", "5:1", "a:b", "-1:4"])
def test_eval_fusion_rejects_bad_frame_ranges(frames: str) -> None:
    with pytest.raises(SystemExit):
        _eval_parser().parse_args(["fusion", "--wildtrack", str(WILDTRACK), "--frames", frames])
