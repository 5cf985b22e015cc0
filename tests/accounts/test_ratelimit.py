"""The login limiter's keys, windows and resets, in memory and in a real Redis."""

import uuid

import pytest
import redis

from accounts.ratelimit import Attempt, LoginRateLimiter, MemoryWindows, RedisWindows

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def windows(request):
    if request.param == "memory":
        yield MemoryWindows()
        return
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("needs the Redis server on 127.0.0.1:6379 (scripts/services.sh starts one)")
    yield RedisWindows(client)  # its keys are this run's own (see ``run``) and expire by themselves


@pytest.fixture
def run():
    # Names unique to this test run, so parallel runs against one Redis never share a window.
    return uuid.uuid4().hex[:8]


def limiter(windows, now, max_fails=3, user_max_fails=6):
    return LoginRateLimiter(max_fails, 60, user_max_fails=user_max_fails, windows=windows, clock=lambda: now[0])


def test_one_address_cannot_guess_many_names(windows, run):
    now = [1000.0]
    limits = limiter(windows, now)
    for name in ("ann", "bob", "cy"):
        assert limits.retry_after_s(Attempt(f"10.0.0.1-{run}", f"{name}-{run}")) == 0
        limits.record_failure(Attempt(f"10.0.0.1-{run}", f"{name}-{run}"))
        now[0] += 1
    assert limits.retry_after_s(Attempt(f"10.0.0.1-{run}", f"dee-{run}")) == pytest.approx(57)
    assert limits.retry_after_s(Attempt(f"10.0.0.2-{run}", f"ann-{run}")) == 0, "another address is not blocked"
    now[0] = 1061.0
    assert limits.retry_after_s(Attempt(f"10.0.0.1-{run}", f"dee-{run}")) == 0, "the oldest failure left the window"


def test_many_addresses_cannot_guess_one_name(windows, run):
    now = [1000.0]
    limits = limiter(windows, now)
    for i in range(6):  # one failure from each of 6 addresses: no address reaches its own limit
        limits.record_failure(Attempt(f"10.1.0.{i}-{run}", f"ann-{run}"))
    assert limits.retry_after_s(Attempt(f"10.1.0.99-{run}", f"ann-{run}")) == pytest.approx(60)
    assert limits.retry_after_s(Attempt(f"10.1.0.99-{run}", f"bob-{run}")) == 0


def test_someone_elses_failures_never_block_a_trusted_device(windows, run):
    now = [1000.0]
    limits = limiter(windows, now)
    for i in range(20):
        limits.record_failure(Attempt(f"10.2.0.{i}-{run}", f"ann-{run}"))
    assert limits.retry_after_s(Attempt(f"10.2.0.1-{run}", f"ann-{run}")) > 0
    device = Attempt(f"10.2.0.1-{run}", f"ann-{run}", device=f"dev-{run}")
    assert limits.retry_after_s(device) == 0, "the same address, even, with the user's device cookie"
    for _ in range(3):
        limits.record_failure(device)
    assert limits.retry_after_s(device) > 0, "a device is limited by its own failures"


def test_success_forgets_the_name_and_device_but_not_the_address(windows, run):
    now = [1000.0]
    limits = limiter(windows, now)
    for i in range(5):
        limits.record_failure(Attempt(f"10.3.0.{i}-{run}", f"ann-{run}"))
    limits.record_failure(Attempt(f"10.3.0.0-{run}", f"bob-{run}"))
    limits.record_failure(Attempt(f"10.3.0.0-{run}", f"bob-{run}"))
    limits.record_success(Attempt(f"10.3.0.0-{run}", f"ann-{run}"))
    for i in range(5):
        limits.record_failure(Attempt(f"10.3.1.{i}-{run}", f"ann-{run}"))
    assert limits.retry_after_s(Attempt(f"10.3.9.9-{run}", f"ann-{run}")) == 0, "5 failures since the success"
    assert limits.retry_after_s(Attempt(f"10.3.0.0-{run}", f"cy-{run}")) > 0, "the address kept its 3 failures"


def test_limits_are_validated():
    with pytest.raises(ValueError, match="max_fails >= 1"):
        LoginRateLimiter(0, 60)
    with pytest.raises(ValueError, match="window_s > 0"):
        LoginRateLimiter(3, 0)
    assert LoginRateLimiter(3, 60).user_max_fails == 12


def test_a_failure_leaves_the_window_exactly_window_s_later(windows, run):
    now = [1000.0]
    limits = limiter(windows, now, max_fails=1)
    limits.record_failure(Attempt(f"10.4.0.1-{run}", f"ann-{run}"))
    now[0] = 1059.999
    assert limits.retry_after_s(Attempt(f"10.4.0.1-{run}", f"bob-{run}")) > 0
    now[0] = 1060.0
    assert limits.retry_after_s(Attempt(f"10.4.0.1-{run}", f"bob-{run}")) == 0


def test_the_failures_go_into_the_given_windows(windows, run):
    limits = limiter(windows, [1000.0])
    limits.record_failure(Attempt(f"10.5.0.1-{run}", f"Ann-{run}"))
    assert windows.recent(f"addr:10.5.0.1-{run}", 1000.0, 60) == [1000.0]
    assert windows.recent(f"user:ann-{run}", 1000.0, 60) == [1000.0]


def test_a_name_counts_however_it_is_typed(windows, run):
    now = [1000.0]
    limits = limiter(windows, now, user_max_fails=3)
    for i, typed in enumerate((f"ann-{run}", f" ANN-{run}", f"Ann-{run} ")):
        limits.record_failure(Attempt(f"10.6.0.{i}-{run}", typed))
    assert limits.retry_after_s(Attempt(f"10.6.0.9-{run}", f"aNN-{run}")) > 0


def test_success_on_a_trusted_device_forgets_that_devices_failures(windows, run):
    now = [1000.0]
    limits = limiter(windows, now, max_fails=3)
    device = Attempt(f"10.7.0.1-{run}", f"ann-{run}", device=f"dev-{run}")
    for _ in range(2):
        limits.record_failure(device)
    limits.record_success(device)
    for _ in range(2):
        limits.record_failure(device)
    assert limits.retry_after_s(device) == 0, "2 failures since the success, 3 allowed"
    limits.record_failure(device)
    assert limits.retry_after_s(device) > 0


@pytest.mark.parametrize(
    ("max_fails", "user_max_fails", "window_s", "ok"),
    [(1, 1, 0.5, True), (0, 1, 60, False), (1, 0, 60, False), (1, 1, 0, False), (1, 1, -1, False)],
)
def test_each_limit_is_validated_alone(max_fails, user_max_fails, window_s, ok):
    if ok:
        LoginRateLimiter(max_fails, window_s, user_max_fails=user_max_fails)
    else:
        with pytest.raises(ValueError, match="need max_fails >= 1"):
            LoginRateLimiter(max_fails, window_s, user_max_fails=user_max_fails)


def test_memory_stays_bounded_under_a_flood_of_names():
    windows = MemoryWindows(max_keys=3)
    windows.add(["a", "b"], 1.0, 60)
    windows.add(["c"], 2.0, 60)
    windows.add(["a"], 3.0, 60)  # a key already held: nothing is forgotten
    assert [len(windows.recent(k, 3.0, 60)) for k in "abc"] == [2, 1, 1]
    windows.add(["d"], 4.0, 60)  # a fourth key: the oldest goes
    assert [windows.recent(k, 4.0, 60) for k in "abcd"] == [[], [1.0], [2.0], [4.0]]
    with pytest.raises(ValueError, match="max_keys"):
        MemoryWindows(max_keys=0)
    one = MemoryWindows(max_keys=1)
    one.add(["a"], 1.0, 60)
    one.add(["b"], 2.0, 60)
    assert (one.recent("a", 2.0, 60), one.recent("b", 2.0, 60)) == ([], [2.0])


@pytest.mark.redis
def test_redis_windows_expire_after_the_window_and_the_clock_skew(run):
    client = redis.Redis.from_url(REDIS_URL)
    windows = RedisWindows(client)
    windows.add([f"addr:ttl-{run}"], 1000.0, 300)
    assert client.ttl(RedisWindows.redis_key(f"addr:ttl-{run}")) in (359, 360)
    windows.add([f"addr:ttl-{run}"], 1400.0, 300)  # the first failure has left the window: it is gone
    assert client.zcard(RedisWindows.redis_key(f"addr:ttl-{run}")) == 1
    windows.clear([f"addr:ttl-{run}"])
    assert client.exists(RedisWindows.redis_key(f"addr:ttl-{run}")) == 0
