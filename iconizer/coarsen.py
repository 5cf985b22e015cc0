"""Coarsen positions before they are published (PRIVACY.md P2), and shuffle their order.

Two methods, chosen per station; both publish nothing but the grid cell a position falls in:

- ``grid``: snap to the centre of a ``cell_m`` square grid anchored at the plan origin. A
  position moves by at most ``cell_m * sqrt(2) / 2``; a lone icon only jumps between cell centres.
- ``jitter``: a point of the same cell, drawn from the cell and a key that changes every
  ``JITTER_KEY_PERIOD_S``: the dots do not sit on a visible lattice, and a position moves by
  at most ``cell_m * sqrt(2)``.

Why jitter is derived from the cell and not drawn afresh every frame: fresh noise averages out.
A person standing still for a minute is published 60 times; the mean of 60 independently
jittered copies recovers the position to a couple of centimetres. Here the published point
depends only on the cell and the key, so every position within one cell gives the very same
dots, and averaging over many keys converges to the cell, never to the person.

Points are first clipped onto the plan, then coarsened, then clipped again (a cell at the edge
of the plan may reach past it); coarsening an already coarsened position gives it back
(``grid``), or another point of its cell (``jitter``), so the web tier can coarsen again what it
receives (defence in depth) without changing an honest frame.
"""

from __future__ import annotations

import hashlib
from typing import Literal

import numpy as np
import numpy.typing as npt

CoarsenMethod = Literal["grid", "jitter"]
COARSEN_METHODS = ("grid", "jitter")
JITTER_KEY_PERIOD_S = 600.0

_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_MASK_63 = (1 << 63) - 1


def max_coarsen_shift_m(cell_m: float, method: CoarsenMethod = "grid") -> float:
    """The largest distance a position can move: half a cell diagonal (grid), a whole one (jitter)."""
    diagonal_m = float(cell_m) * np.sqrt(2.0)
    return diagonal_m / 2.0 if method == "grid" else diagonal_m


def jitter_key(secret: bytes | int, timestamp_s: float, *, period_s: float = JITTER_KEY_PERIOD_S) -> int:
    """The jitter key of a frame: ``secret`` mixed with the number of the period ``timestamp_s`` is in.

    Args:
        secret: Kept by whoever coarsens (random per aggregator; the web processes derive one
            from their shared secret key, so that they all publish alike).
        timestamp_s: The frame's time, unix seconds.
        period_s: How long one key is used.

    Returns:
        A 63-bit key, the same for every frame of one period.
    """
    if not period_s > 0:
        raise ValueError(f"period_s must be positive, got {period_s}")
    material = secret.to_bytes(8, "little", signed=False) if isinstance(secret, int) else bytes(secret)
    period = int(np.floor(timestamp_s / period_s))
    digest = hashlib.blake2b(period.to_bytes(8, "little", signed=True), key=material[:64], digest_size=8).digest()
    return int.from_bytes(digest, "little") & _MASK_63


def _mix(z: np.ndarray) -> np.ndarray:
    # splitmix64's finaliser: every input bit flips about half the output bits. uint64 arrays wrap.
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def _unit(bits: np.ndarray) -> np.ndarray:
    # The top 53 bits as a float in [0, 1).
    return (bits >> _U64(11)).astype(np.float64) * (1.0 / (1 << 53))


def cell_offsets(cells: np.ndarray, key: int) -> np.ndarray:
    """A point in ``[0, 1)^2`` for each integer cell ``(n, 2)``, a function of the cell and ``key`` only."""
    ix = cells[:, 0].astype(np.int64).view(np.uint64)
    iy = cells[:, 1].astype(np.int64).view(np.uint64)
    first = _mix(ix * _GOLDEN ^ _mix(iy ^ _U64(key & _MASK_63)))
    second = _mix(first ^ _GOLDEN)
    return np.column_stack((_unit(first), _unit(second)))


def coarsen_positions(
    xy_m: npt.ArrayLike,
    *,
    cell_m: float,
    method: CoarsenMethod,
    key: int = 0,
    size_m: tuple[float, float] | None = None,
) -> np.ndarray:
    """Coarsened copy of ``xy_m``.

    Args:
        xy_m: Positions ``(n, 2)`` in metres.
        cell_m: Grid cell in metres, >= 0; 0 returns an unchanged (clipped) copy.
        method: ``"grid"`` or ``"jitter"``.
        key: The jitter key (:func:`jitter_key`); unused by ``grid``.
        size_m: Plan size ``(width, height)``; when given, positions are clipped onto the plan
            before and after coarsening.

    Returns:
        ``(n, 2)`` float positions in metres.
    """
    if method not in COARSEN_METHODS:
        raise ValueError(f"method must be one of {COARSEN_METHODS}, got {method!r}")
    if not np.isfinite(cell_m) or cell_m < 0:
        raise ValueError(f"cell_m must be finite and >= 0, got {cell_m}")
    xy = np.array(xy_m, dtype=np.float64).reshape(-1, 2)
    size = None if size_m is None else np.asarray(size_m, dtype=np.float64)
    if size is not None:
        np.clip(xy, 0.0, size, out=xy)
    if cell_m > 0:
        cells = np.floor(xy / cell_m)
        within = np.full_like(xy, 0.5) if method == "grid" else cell_offsets(cells, key)
        xy = (cells + within) * cell_m
    if size is not None:
        np.clip(xy, 0.0, size, out=xy)
    return xy


def shuffled(rng: np.random.Generator, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The same random permutation applied to every array (no stable dot order between frames)."""
    n = len(arrays[0])
    for array in arrays:
        if len(array) != n:
            raise ValueError(f"arrays must have equal length, got {[len(a) for a in arrays]}")
    order = rng.permutation(n)
    return tuple(array[order] for array in arrays)
