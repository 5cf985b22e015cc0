"""Server-side session records, in memory and in a real Redis: a login is valid only while its record lives."""

import uuid

import pytest
import redis

from accounts.sessions import REDIS_KEY_PREFIX, MemorySessions, RedisSessions

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def sessions(request):
    if request.param == "memory":
        now = [100.0]
        store = MemorySessions(clock=lambda: now[0])
        store.advance = lambda s: now.__setitem__(0, now[0] + s)
        yield store
        return
    client = redis.Redis.from_url(REDIS_URL)
    store = RedisSessions(client)
    store.client = client
    yield store


def test_a_session_lives_until_it_ends(sessions):
    user = f"sam-{uuid.uuid4().hex[:6]}"
    token = sessions.create(user, 60)
    assert len(token) >= 40 and sessions.user_of(token) == user
    other = sessions.create(user, 60)
    assert other != token, "every login its own token"
    sessions.end(token)
    assert sessions.user_of(token) is None
    assert sessions.user_of(other) == user, "ending one session leaves the others"
    assert sessions.user_of("never issued") is None
    sessions.end(other)


def test_the_store_holds_digests_of_tokens_never_the_tokens(sessions):
    token = sessions.create("ann", 60)
    if isinstance(sessions, RedisSessions):
        keys = [key.decode() for key in sessions.client.keys(REDIS_KEY_PREFIX + "*")]
        assert all(token not in key for key in keys)
        assert 0 < sessions.client.ttl(next(k for k in keys if sessions.client.get(k) == b"ann")) <= 60
    else:
        assert token not in repr(sessions._live)
    sessions.end(token)


def test_a_session_ends_with_its_lifetime():
    now = [100.0]
    sessions = MemorySessions(clock=lambda: now[0])
    token = sessions.create("ann", 60)
    now[0] = 159.9
    assert sessions.user_of(token) == "ann"
    now[0] = 160.0
    assert sessions.user_of(token) is None
    now[0] = 100.0
    assert sessions.user_of(token) is None, "an expired record is gone, not hidden"


@pytest.mark.redis
def test_redis_sessions_expire_with_their_lifetime():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("needs the Redis server on 127.0.0.1:6379")
    token = RedisSessions(client).create("ann", 1)
    key = next(k for k in client.keys(REDIS_KEY_PREFIX + "*") if client.ttl(k) == 1)
    assert client.get(key) == b"ann"
    client.delete(key)
    assert RedisSessions(client).user_of(token) is None


def test_memory_stays_bounded_under_a_flood_of_logins():
    now = [100.0]
    sessions = MemorySessions(clock=lambda: now[0], max_sessions=3)
    first = sessions.create("ann", 10)
    now[0] = 200.0  # the first has expired
    kept = [sessions.create("bob", 60) for _ in range(3)]
    assert sessions.user_of(first) is None
    assert [sessions.user_of(token) for token in kept] == ["bob"] * 3
    newest = sessions.create("cy", 60)
    assert sessions.user_of(kept[0]) is None, "past the bound, the oldest session ends"
    assert sessions.user_of(newest) == "cy" and sessions.user_of(kept[2]) == "bob"
    with pytest.raises(ValueError, match="max_sessions"):
        MemorySessions(max_sessions=0)
