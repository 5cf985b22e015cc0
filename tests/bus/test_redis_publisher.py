"""The Redis publisher's promises, each as the fault it survives: bounded memory, no late messages,
no busy waiting, every drop counted, a thread that outlives refusals, a process that can still exit."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

import pytest
import redis

from bus.backoff import Backoff
from bus.redis_link import MAX_RETENTION_S, MESSAGE_FIELD
from bus.redis_publisher import RedisStreamPublisher, refusal_reason
from tests.bus.conftest import URL, messages
from tests.harness.localredis import LocalRedis, free_port

pytestmark = pytest.mark.redis
FAST = (0.05, 0.1, 0.2)


def nowhere() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


def test_only_encoded_bytes_are_published() -> None:
    publisher = RedisStreamPublisher(nowhere(), "crowdmap:x:positions", maxlen=10)
    with pytest.raises(TypeError, match=r"^the bus carries encoded bytes only, got str$"):
        publisher.publish('{"type": "positions"}')  # type: ignore[arg-type]
    publisher.close(timeout_s=0.1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"maxlen": 0}, "maxlen and buffer_messages must be >= 1 and max_age_s > 0, got 0, 256, 30.0"),
        ({"buffer_messages": 0}, "maxlen and buffer_messages must be >= 1 and max_age_s > 0, got 10, 0, 30.0"),
        ({"max_age_s": 0.0}, "maxlen and buffer_messages must be >= 1 and max_age_s > 0, got 10, 256, 0.0"),
        ({"retention_s": 0.0}, f"retention_s must lie in (0, {MAX_RETENTION_S}] seconds, got 0.0"),
        ({"retention_s": MAX_RETENTION_S + 0.5}, "retention_s must lie in"),
    ],
)
def test_settings_outside_their_ranges_are_refused(options, message) -> None:
    with pytest.raises(ValueError) as caught:
        RedisStreamPublisher(nowhere(), "crowdmap:x:positions", **{"maxlen": 10, **options})
    assert str(caught.value).startswith(message)


def test_the_smallest_settings_are_accepted() -> None:
    publisher = RedisStreamPublisher(
        nowhere(), "crowdmap:x:positions", maxlen=1, buffer_messages=1, max_age_s=0.001, retention_s=MAX_RETENTION_S
    )
    publisher.close(timeout_s=0.1)


def test_with_redis_away_the_buffer_keeps_exactly_the_newest_and_counts_the_rest() -> None:
    publisher = RedisStreamPublisher(
        nowhere(), "crowdmap:x:positions", maxlen=100, buffer_messages=32, backoff=Backoff((30.0,))
    )
    publisher.publish(b"first")
    assert not publisher.flush(timeout_s=0.5)  # the first attempt failed; the next is 30 s away
    assert publisher.link.errors == 1 and publisher.link.last_error.startswith("ConnectionError")
    for raw in messages(499):
        assert publisher.publish(raw)
    assert publisher.buffered == 32
    assert publisher.dropped == 500 - 32 and publisher.sent == 0
    publisher.close(timeout_s=0.2)
    assert publisher.dropped == 500 and publisher.buffered == 0
    # A closed publisher takes nothing more, and counts each refusal once.
    assert [publisher.publish(b"late") for _ in range(3)] == [False] * 3
    assert publisher.dropped == 503


def test_messages_too_old_when_redis_returns_are_dropped_not_sent_late(tmp_path) -> None:
    server = LocalRedis(tmp_path / "redis")  # its port is chosen; it is not running yet
    publisher = RedisStreamPublisher(server.url, "crowdmap:late:positions", maxlen=100, max_age_s=0.5,
                                     backoff=Backoff(FAST))  # fmt: skip
    try:
        for raw in messages(3, "old"):
            publisher.publish(raw)
        time.sleep(0.8)  # retries fail meanwhile; the messages keep their own age
        server.start()
        for raw in messages(2, "new"):
            publisher.publish(raw)
        assert publisher.flush(timeout_s=10.0)
        assert (publisher.sent, publisher.dropped) == (2, 3)
        client = redis.Redis.from_url(server.url)
        assert [fields[MESSAGE_FIELD] for _, fields in client.xrange("crowdmap:late:positions")] == messages(2, "new")
        assert publisher.link.connected and publisher.link.errors >= 1
        client.close()
    finally:
        publisher.close(timeout_s=0.5)
        server.stop()


def thread_cpu_s(thread: threading.Thread) -> float:
    """CPU seconds one thread has used (Linux): a busy loop shows even on a loaded machine."""
    assert thread.ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def test_an_idle_publisher_does_not_spin(stream) -> None:
    # Waiting for messages, and waiting out a backoff, both sleep: a busy loop would burn a core.
    idle = RedisStreamPublisher(URL, stream, maxlen=100)
    assert idle.buffered == 0
    idle.publish(b"one")
    assert idle.flush(timeout_s=10.0) and idle.buffered == 0
    waiting = RedisStreamPublisher(nowhere(), "crowdmap:x:positions", maxlen=10, backoff=Backoff((30.0,)))
    waiting.publish(b"waits")
    assert not waiting.flush(timeout_s=0.3)
    threads = [idle._thread, waiting._thread]
    before = [thread_cpu_s(thread) for thread in threads]
    time.sleep(1.0)
    used = [thread_cpu_s(thread) - start for thread, start in zip(threads, before, strict=True)]
    assert max(used) < 0.05, used
    idle.close()
    waiting.close(timeout_s=0.1)


def test_refusals_accumulate_and_are_logged_with_their_cause(tmp_path, caplog) -> None:
    server = LocalRedis(tmp_path / "redis")
    server.start()
    admin = redis.Redis.from_url(server.url)
    admin.set("ballast", b"x" * 2_000_000)
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", "1mb")
    publisher = RedisStreamPublisher(server.url, "crowdmap:oom:positions", maxlen=100)
    try:
        with caplog.at_level(logging.ERROR, logger="bus.redis_publisher"):
            for batch in (messages(2), messages(3)):
                for raw in batch:
                    publisher.publish(raw)
                assert publisher.flush(timeout_s=10.0)
        assert (publisher.refused, publisher.dropped, publisher.sent) == (5, 5, 0)
        lines = [r.getMessage() for r in caplog.records if r.name == "bus.redis_publisher"]
        # The cause, never the command: Redis's pipeline error quotes the command, i.e. the positions.
        assert lines == [
            "redis refused 2 messages for crowdmap:oom:positions (OutOfMemoryError: command not allowed when used "
            "memory > 'maxmemory'.); dropped",
            "redis refused 3 messages for crowdmap:oom:positions (OutOfMemoryError: command not allowed when used "
            "memory > 'maxmemory'.); dropped",
        ]
    finally:
        publisher.close(timeout_s=0.5)
        admin.close()
        server.stop()


def test_a_process_that_never_closes_its_publisher_still_exits() -> None:
    # The sending thread is a daemon: a forgotten close() must not keep an edge process alive.
    # The child imports the same code as this process (sys.path), mutated or not.
    script = (
        "from bus.redis_publisher import RedisStreamPublisher\n"
        f"p = RedisStreamPublisher({nowhere()!r}, 'crowdmap:x:positions', maxlen=10)\n"
        "p.publish(b'x')\n"
        "print('done')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0 and result.stdout.strip() == "done"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("NOPERM User crowdmap-edge has no permissions to run the 'xadd' command", "NOPERM User crowdmap-edge has no "
         "permissions to run the 'xadd' command"),
        ("Command # 1 (XADD s * m {\"xy_m\":[[1.2,3.4]]}) of pipeline caused error: OOM command not allowed",
         "OOM command not allowed"),
        # A payload that carries the marker itself cannot push its own text into the log.
        ('Command # 1 (XADD s * m {"x":"caused error: [[1.2,3.4]]"}) of pipeline caused error: OOM', "OOM"),
    ],
)  # fmt: skip
def test_a_refusal_is_logged_by_its_reason_never_by_its_command(text: str, reason: str) -> None:
    assert refusal_reason(redis.ResponseError(text)) == reason
