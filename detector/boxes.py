"""Pairwise geometry of boxes ``(n, 4)`` as ``x0, y0, x1, y1`` pixels, written once for the detector's rules."""

from __future__ import annotations

import numpy as np


def areas(xyxy: np.ndarray) -> np.ndarray:
    """``(n,)`` areas of boxes ``(n, 4)`` (0 for an empty box)."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.clip(xyxy[:, 2] - xyxy[:, 0], 0, None) * np.clip(xyxy[:, 3] - xyxy[:, 1], 0, None)


def intersections(a_xyxy: np.ndarray, b_xyxy: np.ndarray) -> np.ndarray:
    """``(n, m)`` overlap areas of boxes ``(n, 4)`` with boxes ``(m, 4)``."""
    a = np.asarray(a_xyxy, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b_xyxy, dtype=np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    return np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)


def iou_matrix(a_xyxy: np.ndarray, b_xyxy: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union ``(n, m)`` of boxes ``(n, 4)`` and ``(m, 4)``."""
    inter = intersections(a_xyxy, b_xyxy)
    union = areas(a_xyxy)[:, None] + areas(b_xyxy)[None, :] - inter
    return inter / np.maximum(union, 1e-12)
