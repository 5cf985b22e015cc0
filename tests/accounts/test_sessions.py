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
    user = f"ann-{uuid.uuid4().hex[:8]}"
    token = sessions.create(user, 60)
    if isinstance(sessions, RedisSessions):
        keys = [key.decode() for key in sessions.client.keys(REDIS_KEY_PREFIX + "*")]
        assert all(token not in key for key in keys)
        [key] = [k for k in keys if sessions.client.get(k) == user.encode()]
        assert 0 < sessions.client.ttl(key) <= 60
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
    user = f"ann-{uuid.uuid4().hex[:8]}"
    token = RedisSessions(client).create(user, 1)
    [key] = [k for k in client.keys(REDIS_KEY_PREFIX + "*") if client.get(k) == user.encode()]
    assert client.ttl(key) == 1
    client.delete(key)
    assert RedisSessions(client).user_of(token) is None


def test_memory_stays_bounded_under_a_flood_of_logins():
    sessions = MemorySessions(max_sessions=3)
    kept = [sessions.create(name, 60) for name in ("ann", "bob", "cy")]
    assert [sessions.user_of(token) for token in kept] == ["ann", "bob", "cy"], "three fit"
    newest = sessions.create("dee", 60)
    assert sessions.user_of(kept[0]) is None, "past the bound, the oldest session ends"
    assert [sessions.user_of(token) for token in (*kept[1:], newest)] == ["bob", "cy", "dee"]
    with pytest.raises(ValueError, match="max_sessions"):
        MemorySessions(max_sessions=0)


def test_one_session_is_a_valid_bound_and_ending_twice_is_harmless():
    sessions = MemorySessions(max_sessions=1)
    first = sessions.create("ann", 60)
    second = sessions.create("bob", 60)
    assert (sessions.user_of(first), sessions.user_of(second)) == (None, "bob")
    sessions.end(second)
    sessions.end(second)
    sessions.end("never issued")
    assert sessions.user_of(second) is None
