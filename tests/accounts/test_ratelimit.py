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
    yield RedisWindows(client)
    client.delete(*client.keys("crowdmap:login-fails:*") or ["none"])


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
