import pytest

from station import is_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("view-001", True),
        ("a", True),
        ("gates_inside", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("", False),
        ("-leading-dash", False),
        ("Upper", False),
        ("has space", False),
        ("trailing-newline\n", False),  # `re.match` with `$` accepts this; ids go into URLs and logs
        ("ドア", False),
        (7, False),
        (None, False),
    ],
)
def test_is_id(value: object, expected: bool) -> None:
    assert is_id(value) is expected
