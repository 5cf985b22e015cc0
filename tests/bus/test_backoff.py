"""The one backoff: growing waits, reset by a success, or by a healthy period for loops that crash."""

import pytest

from bus.backoff import CAMERA_RECONNECT_S, HEALTHY_AFTER_S, LOOP_RESTART_S, RECONNECT_S, RESTART_S, Backoff


@pytest.mark.parametrize(
    ("failures", "expected_delay_s"),
    [(1, 0.1), (2, 0.25), (3, 0.5), (6, 5.0), (20, 5.0)],
)
def test_backoff_grows_then_stays_at_its_longest_delay(failures, expected_delay_s):
    backoff = Backoff()
    delays = [backoff.failed(now_s=100.0) for _ in range(failures)]
    assert delays[-1] == expected_delay_s
    assert not backoff.ready(100.0) and backoff.ready(100.0 + expected_delay_s)
    backoff.succeeded()
    assert backoff.ready(100.0) and backoff.failed(100.0) == 0.1


def test_a_crash_after_a_healthy_period_waits_the_shortest_time_again() -> None:
    # The aggregator crashed three times in a row (waits 0.5, 1, 2 s), then ran for a healthy minute:
    # its next crash must not inherit the 5 s of the old outage.
    backoff = Backoff(LOOP_RESTART_S, reset_after_s=HEALTHY_AFTER_S)
    assert [backoff.failed(t) for t in (0.0, 0.5, 1.5)] == [0.5, 1.0, 2.0]
    restarted_s = backoff.next_try_s
    assert backoff.failed(restarted_s + HEALTHY_AFTER_S - 1.0) == 5.0  # not healthy long enough
    assert backoff.failed(backoff.next_try_s + HEALTHY_AFTER_S) == 0.5  # healthy a minute: from the start
    assert backoff.failures == 1


def test_without_a_reset_period_failures_keep_growing() -> None:
    backoff = Backoff(LOOP_RESTART_S)
    assert [backoff.failed(t) for t in (0.0, 1000.0, 2000.0)] == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("delays_s", [(), (0.5, 0.0), (-1.0,)])
def test_delays_must_be_positive(delays_s) -> None:
    with pytest.raises(ValueError, match="delays_s"):
        Backoff(delays_s)


def test_the_reset_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="reset_after_s"):
        Backoff(RESTART_S, reset_after_s=0.0)


def test_the_tables_grow() -> None:
    for table in (RECONNECT_S, RESTART_S, CAMERA_RECONNECT_S, LOOP_RESTART_S):
        assert list(table) == sorted(table) and table[0] > 0


def test_waiting_counts_down_to_the_next_try() -> None:
    backoff = Backoff(RESTART_S)
    assert backoff.wait_s(5.0) == 0.0 and backoff.ready(5.0)
    backoff.failed(10.0)
    assert backoff.wait_s(10.25) == pytest.approx(0.75)
    assert backoff.wait_s(12.0) == 0.0
