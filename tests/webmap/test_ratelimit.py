from webmap.ratelimit import LoginRateLimiter


def test_limit_per_key_with_sliding_window():
    now = [0.0]
    limiter = LoginRateLimiter(max_fails=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.retry_after_s("addr:1", "user:ann") == 0
        limiter.record_failure("addr:1", "user:ann")
        now[0] += 1
    assert limiter.retry_after_s("addr:1") == 57
    assert limiter.retry_after_s("user:ann") == 57
    assert limiter.retry_after_s("addr:2", "user:ann") == 57, "another address cannot keep guessing ann's password"
    assert limiter.retry_after_s("addr:1", "user:bob") == 57, "the same address cannot move on to other names"
    assert limiter.retry_after_s("addr:2", "user:bob") == 0
    now[0] = 61.0
    assert limiter.retry_after_s("addr:1", "user:ann") == 0, "the oldest failure left the window"


def test_reset_forgets_a_key():
    limiter = LoginRateLimiter(max_fails=1, window_s=60, clock=lambda: 0.0)
    limiter.record_failure("user:ann")
    assert limiter.retry_after_s("user:ann") > 0
    limiter.reset("user:ann")
    assert limiter.retry_after_s("user:ann") == 0
