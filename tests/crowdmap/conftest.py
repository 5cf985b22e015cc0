"""Builders shared by the runtime tests."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import redis

SHARED_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class ListPublisher:
    """A bus topic that keeps what is published, in order."""

    sent: list[bytes] = field(default_factory=list)

    def publish(self, raw: bytes) -> bool:
        self.sent.append(raw)
        return True


@pytest.fixture
def make_publisher() -> Callable[[], ListPublisher]:
    return ListPublisher


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    """The shared Redis on 127.0.0.1:6379 (``scripts/services.sh`` starts one where none runs)."""
    client = redis.Redis.from_url(SHARED_REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379; start it with scripts/services.sh")
    yield client
    client.close()
