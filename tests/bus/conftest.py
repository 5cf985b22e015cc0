"""What the bus tests share: the shared Redis's URL, a stream of the test's own, test messages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import SHARED_REDIS_URL

URL = SHARED_REDIS_URL


@pytest.fixture
def stream(client: redis.Redis) -> Iterator[str]:
    """A stream key of this test alone in the shared Redis, deleted afterwards."""
    key = f"crowdmap:test-{uuid.uuid4().hex[:12]}:positions"
    yield key
    client.delete(key)


def messages(n: int, prefix: str = "m") -> list[bytes]:
    """``n`` small distinct message bodies ``{"<prefix>":<i>}`` (the bus carries any bytes)."""
    return [f'{{"{prefix}":{i}}}'.encode() for i in range(n)]
