"""WCAG AA contrast of the map's text over every zone colour, computed from the shipped stylesheet."""

import itertools
import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[2] / "webmap" / "static" / "style.css").read_text()


def hex_rgb(value: str) -> tuple[float, float, float]:
    digits = value.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return tuple(int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))


def var(name: str) -> tuple[float, float, float]:
    return hex_rgb(re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{3,6}});", CSS).group(1))


def luminance(rgb) -> float:
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def blend(top, bottom, alpha: float):
    return tuple(alpha * t + (1 - alpha) * b for t, b in zip(top, bottom, strict=True))


ZONE_OPACITY = float(re.search(r"\.zone-area \{ fill-opacity: ([0-9.]+)", CSS).group(1))
WALKABLE = hex_rgb(re.search(r"\.walkable \{ fill: (#[0-9a-fA-F]{3,6})", CSS).group(1))


@pytest.mark.parametrize("fill", ["level-0", "level-1", "level-2", "level-3", "stale"])
def test_zone_labels_meet_aa_over_every_zone_fill(fill):
    background = blend(var(fill), WALKABLE, ZONE_OPACITY)
    # Labels are bold --ink text; 4.5:1 even without the white halo drawn around them.
    assert contrast(var("ink"), background) >= 4.5


@pytest.mark.parametrize(
    ("foreground", "background"),
    [("ink", "paper"), ("muted", "paper"), ("focus", "paper")],
)
def test_page_text_meets_aa(foreground, background):
    assert contrast(var(foreground), var(background)) >= 4.5


@pytest.mark.parametrize(
    ("selector", "text", "box"),
    [
        (".connection.lost", "#fff", "#7a1f00"),
        (".connection.restored", "#fff", "#0b5d1e"),
        (".simulation", "#fff", "#222"),
        ("a", "#004a99", "#fff"),
        (".error", "#8a0000", "#fff"),
        # Staff dashboard and operator page: a dead camera's card, the detector warning, and the
        # map's zoom buttons when they cannot zoom further (still readable).
        (".camera-error", "#8a0000", "#fbe9e4"),
        (".camera-detector.detector-warn", "#7a4100", "#fff"),
        (".zoom-controls button:disabled", "#767676", "#fff"),
    ],
)
def test_notices_and_links_meet_aa(selector, text, box):
    rule = re.search(re.escape(selector) + r" \{([^}]*)\}", CSS).group(1)
    assert text in rule or box in rule, f"{selector} no longer uses these colours: update the table"
    assert contrast(hex_rgb(text), hex_rgb(box)) >= 4.5


def test_palette_levels_are_distinct_in_lightness():
    # Colour-blind safety does not rest on hue alone: neighbouring levels differ in luminance too.
    lum = [luminance(var(f"level-{i}")) for i in range(4)]
    assert all(abs(a - b) > 0.05 for a, b in itertools.pairwise(lum))
