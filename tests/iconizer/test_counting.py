import numpy as np
import pytest

from iconizer.counting import CountWindow, rounded_mean


def test_three_messages_of_two_three_and_four_people_average_to_three() -> None:
    window = CountWindow(2, 1.0)
    for t, n in ((0.1, 2), (0.2, 3), (0.3, 4)):
        window.add(t, [n, 0])
    assert window.messages == 3
    assert window.sums.tolist() == [9, 0]
    assert rounded_mean(window.sums, window.messages).tolist() == [3, 0]


def test_the_window_is_the_last_interval_of_the_cameras_own_clock() -> None:
    window = CountWindow(1, 1.0)
    window.add(100.0, [10])
    window.add(100.5, [2])
    window.add(101.0, [2])  # 100.0 is exactly one interval older: out (a message counts after newest - window)
    assert (window.messages, window.sums.tolist()) == (2, [4])
    window.add(101.2, [5])
    assert (window.messages, window.sums.tolist()) == (3, [9])
    window.add(101.6, [1])
    assert (window.messages, window.sums.tolist()) == (3, [8])  # 100.5 left


def test_the_newest_message_always_counts() -> None:
    window = CountWindow(1, 0.0)
    window.add(1.0, [3])
    window.add(1.0, [4])  # same instant: a window of 0 keeps the latest only
    window.add(2.0, [5])
    assert (window.messages, window.sums.tolist()) == (1, [5])
    slow = CountWindow(1, 1.0)
    slow.add(0.0, [1])
    slow.add(5.0, [7])  # a camera slower than one message per interval: its latest message
    assert (slow.messages, slow.sums.tolist()) == (1, [7])


def test_fractional_persons_average_and_round_halves_up() -> None:
    # A person astride a zone edge counts a share in each zone (iconizer.footprint).
    window = CountWindow(2, 1.0)
    for t, west in ((0.1, 0.3), (0.2, 0.2), (0.3, 1.0)):
        window.add(t, [west, 1.0 - west])
    np.testing.assert_allclose(window.sums, [1.5, 1.5])
    assert rounded_mean(window.sums, window.messages).tolist() == [1, 1]  # 0.5 each: halves up
    assert rounded_mean([0.3 + 0.2], 1).tolist() == [1]  # 0.49999999999999994 is the half
    assert rounded_mean([1.49], 1).tolist() == [1]
    assert rounded_mean([0.499], 1).tolist() == [0]


def test_a_message_gone_leaves_nothing_behind() -> None:
    # A running sum would keep the rounding error of a large count long after it left the window.
    window = CountWindow(1, 1.0)
    window.add(0.0, [1e9 + 0.3])
    for k in range(10):
        window.add(5.0 + k / 10, [0.1])
    assert window.messages == 10
    assert window.sums[0] == pytest.approx(1.0, abs=1e-12)


def test_a_message_kept_is_not_changed_by_its_sender() -> None:
    window = CountWindow(1, 1.0)
    counts = np.array([2.0])
    window.add(0.0, counts)
    counts[0] = 50.0
    assert window.sums.tolist() == [2.0]


def test_sums_are_a_copy() -> None:
    window = CountWindow(1, 1.0)
    window.add(0.0, [2])
    window.sums[0] = 99
    assert window.sums.tolist() == [2]


@pytest.mark.parametrize(
    ("sums", "messages", "expected"),
    [
        ([0, 1, 2, 3, 4, 5], 2, [0, 1, 1, 2, 2, 3]),  # halves up: 0.5 -> 1, 1.5 -> 2, 2.5 -> 3
        ([7, 8, 10, 11], 3, [2, 3, 3, 4]),  # 2.33 -> 2, 2.67 -> 3, 3.33 -> 3, 3.67 -> 4
        ([9, 25], [3, 10], [3, 3]),  # a message count per zone
        ([0, 3], 1, [0, 3]),
    ],
)
def test_rounded_mean(sums, messages, expected) -> None:
    counts = rounded_mean(np.array(sums), np.array(messages))
    assert counts.tolist() == expected
    assert counts.dtype == np.int64  # whole persons, as the public schema carries them


def test_a_floor_without_zones_has_an_empty_window() -> None:
    window = CountWindow(0, 1.0)
    window.add(0.0, [])
    assert (window.messages, window.sums.shape) == (1, (0,))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: CountWindow(-1, 1.0), "size"),
        (lambda: CountWindow(1, -0.5), "window_s"),
        (lambda: CountWindow(1, float("inf")), "window_s"),
        (lambda: CountWindow(2, 1.0).add(0.0, [1]), r"\(2,\) finite non-negative persons, got \[1\]"),
        (lambda: CountWindow(1, 1.0).add(0.0, [-1]), "non-negative"),
        (lambda: CountWindow(1, 1.0).add(0.0, [-0.25]), "non-negative"),
        (lambda: CountWindow(1, 1.0).add(0.0, [float("nan")]), "finite non-negative"),
        (lambda: CountWindow(1, 1.0).add(0.0, [float("inf")]), "finite non-negative"),
        (lambda: rounded_mean([float("nan")], [1]), "finite non-negative sums"),
        (lambda: rounded_mean([-0.5], [1]), "finite non-negative sums"),
        (lambda: CountWindow(1, 1.0).add(float("nan"), [1]), "finite"),
        (lambda: rounded_mean([1], [0]), "^rounded_mean needs finite non-negative sums and positive message counts$"),
    ],
)
def test_bad_input_is_named(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_an_older_message_is_refused() -> None:
    window = CountWindow(1, 1.0)
    window.add(2.0, [1])
    with pytest.raises(ValueError, match=r"^message at 1.5 is older than the newest, 2.0$"):
        window.add(1.5, [1])
