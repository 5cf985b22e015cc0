"""Read numbers from OpenCV's XML storage files (``cv::FileStorage`` output and hand-written variants).

OpenCV's own reader refuses files such as WILDTRACK's extrinsics, whose ``<rvec>`` and ``<tvec>``
hold bare numbers instead of ``type_id="opencv-matrix"`` nodes, so this module parses both forms
with the standard library. It only reads files: no geometry.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np


class OpenCvXmlError(ValueError):
    """An OpenCV XML file is missing, malformed, or lacks the requested node; the message names both."""


def _numbers(text: str | None, where: str) -> np.ndarray:
    try:
        return np.array([float(token) for token in (text or "").split()], dtype=np.float64)
    except ValueError:
        raise OpenCvXmlError(f"{where}: expected whitespace-separated numbers, got {text!r}") from None


def read_opencv_xml(path: str | Path) -> dict[str, np.ndarray]:
    """All numeric top-level nodes of an OpenCV XML storage file.

    ``opencv-matrix`` nodes are reshaped to ``(rows, cols)``; nodes holding bare numbers come back
    as 1-D arrays. Nodes holding neither are skipped.

    Args:
        path: The ``.xml`` file.

    Returns:
        Node name -> float64 array.

    Raises:
        OpenCvXmlError: The file cannot be read or parsed, or a matrix's data does not fill
            ``rows x cols``.
    """
    path = Path(path)
    try:
        root = ElementTree.parse(path).getroot()
    except OSError as error:
        raise OpenCvXmlError(f"{path}: cannot read: {error.strerror}") from None
    except ElementTree.ParseError as error:
        raise OpenCvXmlError(f"{path}: not valid XML: {error}") from None
    nodes: dict[str, np.ndarray] = {}
    for node in root:
        where = f"{path}: <{node.tag}>"
        data = node.find("data")
        if data is not None:
            values = _numbers(data.text, where)
            rows = int(_numbers(node.findtext("rows"), where + " rows")[0])
            cols = int(_numbers(node.findtext("cols"), where + " cols")[0])
            if values.size != rows * cols:
                raise OpenCvXmlError(f"{where}: expected {rows}x{cols} = {rows * cols} numbers, got {values.size}")
            nodes[node.tag] = values.reshape(rows, cols)
        elif node.text and node.text.strip():
            try:
                nodes[node.tag] = _numbers(node.text, where)
            except OpenCvXmlError:
                continue  # a string node (a name, a date): not a number, not an error
    return nodes


def read_opencv_node(path: str | Path, name: str) -> np.ndarray:
    """One numeric node of an OpenCV XML file (see :func:`read_opencv_xml`).

    Raises:
        OpenCvXmlError: naming the file and the missing node.
    """
    nodes = read_opencv_xml(path)
    if name not in nodes:
        raise OpenCvXmlError(f"{path}: no numeric node <{name}>; found {sorted(nodes)}")
    return nodes[name]
