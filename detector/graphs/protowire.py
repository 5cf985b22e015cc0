"""A minimal protobuf wire-format reader: enough to walk a TensorFlow GraphDef without TensorFlow.

Protobuf messages are sequences of (field number, wire type, value). This module decodes one level
at a time into ``field number -> list of raw values`` (ints for varints, bytes for length-delimited
fields, bytes for fixed-width fields); the caller knows which fields are sub-messages.
"""

from __future__ import annotations

import struct

import numpy as np

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


def read_varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Decode one varint at ``pos``; returns (value, next position).

    Raises:
        ValueError: The data ends inside the varint.
    """
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("protobuf data ends inside a varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def parse_fields(data: bytes | memoryview) -> dict[int, list[int | bytes]]:
    """One message level: field number -> raw values in order.

    Raises:
        ValueError: A wire type is unknown or a field runs past the end.
    """
    view = memoryview(data)
    fields: dict[int, list[int | bytes]] = {}
    pos = 0
    end = len(view)
    while pos < end:
        key, pos = read_varint(view, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == VARINT:
            value, pos = read_varint(view, pos)
        elif wire == LENGTH:
            length, pos = read_varint(view, pos)
            if pos + length > end:
                raise ValueError(f"protobuf field {number} runs past the end of its message")
            value = bytes(view[pos : pos + length])
            pos += length
        elif wire == FIXED64:
            value = bytes(view[pos : pos + 8])
            pos += 8
        elif wire == FIXED32:
            value = bytes(view[pos : pos + 4])
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} in field {number}")
        fields.setdefault(number, []).append(value)
    return fields


def signed64(value: int) -> int:
    """A varint read as int64 (two's complement)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def packed_varints(values: list[int | bytes]) -> list[int]:
    """A repeated varint field, packed (bytes) or not (ints), as signed 64-bit integers."""
    out: list[int] = []
    for value in values:
        if isinstance(value, int):
            out.append(signed64(value))
            continue
        pos = 0
        while pos < len(value):
            item, pos = read_varint(value, pos)
            out.append(signed64(item))
    return out


def packed_floats(values: list[int | bytes]) -> list[float]:
    """A repeated float field, packed or not."""
    out: list[float] = []
    for value in values:
        if isinstance(value, bytes):
            out.extend(np.frombuffer(value, dtype="<f4").tolist())
        else:  # a lone fixed32 arrives as bytes too; ints cannot occur for floats
            out.append(struct.unpack("<f", struct.pack("<I", value))[0])
    return out


def string(value: int | bytes) -> str:
    """A length-delimited field as UTF-8 text."""
    if not isinstance(value, bytes):
        raise ValueError(f"expected a string field, got varint {value}")
    return value.decode("utf-8")
