"""Coarsen positions before they are published (PRIVACY.md P2), and shuffle their order.

Two methods, chosen per station:

- ``grid``: snap to the centre of a ``cell_m`` square grid anchored at the plan origin. A
  position moves by at most ``cell_m * sqrt(2) / 2``; a lone icon only jumps between cell centres.
- ``jitter``: add uniform noise in ``[-cell_m/2, cell_m/2]`` on each axis, fresh every frame.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

CoarsenMethod = Literal["grid", "jitter"]
COARSEN_METHODS = ("grid", "jitter")


def max_coarsen_shift_m(cell_m: float) -> float:
    """The largest distance any position can move under either method (half a cell diagonal)."""
    return float(cell_m) * np.sqrt(2.0) / 2.0


def coarsen_positions(
    xy_m: npt.ArrayLike,
    *,
    cell_m: float,
    method: CoarsenMethod,
    rng: np.random.Generator,
    size_m: tuple[float, float] | None = None,
) -> np.ndarray:
    """Coarsened copy of ``xy_m``.

    Args:
        xy_m: Positions ``(n, 2)`` in metres.
        cell_m: Grid cell or jitter width in metres, >= 0; 0 returns an unchanged copy.
        method: ``"grid"`` or ``"jitter"``.
        rng: Randomness for ``jitter``.
        size_m: Plan size ``(width, height)``; when given, results are clipped onto the plan.

    Returns:
        ``(n, 2)`` float positions in metres.
    """
    if method not in COARSEN_METHODS:
        raise ValueError(f"method must be one of {COARSEN_METHODS}, got {method!r}")
    if not np.isfinite(cell_m) or cell_m < 0:
        raise ValueError(f"cell_m must be finite and >= 0, got {cell_m}")
    xy = np.array(xy_m, dtype=np.float64).reshape(-1, 2)
    if cell_m > 0:
        if method == "grid":
            xy = (np.floor(xy / cell_m) + 0.5) * cell_m
        else:
            xy = xy + rng.uniform(-cell_m / 2, cell_m / 2, size=xy.shape)
    if size_m is not None:
        np.clip(xy, 0.0, np.asarray(size_m, dtype=np.float64), out=xy)
    return xy


def shuffled(rng: np.random.Generator, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The same random permutation applied to every array (no stable dot order between frames)."""
    n = len(arrays[0])
    for array in arrays:
        if len(array) != n:
            raise ValueError(f"arrays must have equal length, got {[len(a) for a in arrays]}")
    order = rng.permutation(n)
    return tuple(array[order] for array in arrays)
