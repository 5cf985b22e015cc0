"""History stores to test against: SQLite and the local PostgreSQL (``tests.conftest.POSTGRES_URL``)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from history.store import open_store
from tests.conftest import POSTGRES_NOT_READY, POSTGRES_URL

# Everything a stored zone minute holds, in order: aggregates only, nothing that could hold a
# position, an identifier or an image (PRIVACY.md P3). Both the value type and the table must match.
AGGREGATE_FIELDS = (
    "station_id",
    "zone_id",
    "minute_s",
    "count_mean",
    "count_peak",
    "density_mean_per_m2",
    "density_peak_per_m2",
    "level",
    "los",
    "live_samples",
    "stale_samples",
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path}/history.db")
        yield s
        s.close()
        return
    # A table of its own per test, so parallel test runs on the shared database do not meet.
    table = f"zone_minutes_test_{uuid.uuid4().hex[:12]}"
    try:
        s = open_store(POSTGRES_URL, table=table)
    except psycopg.OperationalError as error:
        pytest.fail(POSTGRES_NOT_READY.format(error=error))
    yield s
    s.flush()
    s._connection.execute(f"DROP TABLE IF EXISTS {table}")
    s._connection.commit()
    s._connection.close()
