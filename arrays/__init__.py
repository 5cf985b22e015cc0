"""The one validator of the numpy arrays inside the stage value types (``Detections``, ``FloorPositions``...).

A leaf: numpy only, nothing of the project, so every stage may import it (``tests/test_architecture.py``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def readonly_array(
    array: npt.ArrayLike,
    name: str,
    shape_tail: tuple[int, ...],
    dtype: type = np.float64,
    *,
    finite: bool = True,
) -> np.ndarray:
    """A read-only copy of ``array`` with shape ``(n, *shape_tail)``, finite unless told otherwise.

    Args:
        array: The values; empty input becomes shape ``(0, *shape_tail)``.
        name: The field's name, for the error message.
        shape_tail: The shape after the first axis: ``(4,)`` for boxes, ``()`` for one value per row.
        dtype: The element type of the copy.
        finite: Refuse NaN and infinity (floating-point arrays only).

    Raises:
        ValueError: naming ``name`` with the expected and the actual shape, or the non-finite values.
    """
    out: np.ndarray = np.array(array, dtype=dtype, copy=True)
    if out.size == 0:
        out = out.reshape((0, *shape_tail))
    if out.ndim != 1 + len(shape_tail) or out.shape[1:] != shape_tail:
        expected = "(n" + "".join(f", {d}" for d in shape_tail) + ")"
        raise ValueError(f"{name} must have shape {expected}, got shape {out.shape}")
    if finite and out.dtype.kind == "f" and not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must be finite, got NaN or infinity")
    out.flags.writeable = False
    return out
