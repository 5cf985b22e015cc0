import struct

import pytest

from detector.graphs.protowire import packed_floats, packed_varints, parse_fields, read_varint


@pytest.mark.parametrize(
    ("data", "value"),
    [(b"\x00", 0), (b"\x01", 1), (b"\xac\x02", 300), (b"\xff\xff\xff\xff\x0f", 2**32 - 1)],
)
def test_read_varint(data: bytes, value: int) -> None:
    assert read_varint(data, 0) == (value, len(data))


def test_parse_fields_mixed_message() -> None:
    # field 1 varint 150, field 2 string "hi", field 3 fixed32 1.5
    data = b"\x08\x96\x01" + b"\x12\x02hi" + b"\x1d" + struct.pack("<f", 1.5)
    fields = parse_fields(data)
    assert fields[1] == [150]
    assert fields[2] == [b"hi"]
    assert packed_floats(fields[3]) == [1.5]


def test_packed_varints_and_negative_numbers() -> None:
    minus_one = b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"
    assert packed_varints([b"\x03" + minus_one]) == [3, -1]


def test_truncated_field_is_an_error() -> None:
    with pytest.raises(ValueError, match="runs past the end"):
        parse_fields(b"\x12\x05hi")
