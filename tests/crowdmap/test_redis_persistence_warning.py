"""``crowdmap edge`` and ``aggregate`` say loudly, at start, when Redis would write raw positions to disk."""

from __future__ import annotations

import json

import pytest

from tests.harness.localredis import LocalRedis
from tests.harness.localstation import LocalStation, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def warnings_in(log: str) -> list[str]:
    lines = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("level") == "WARNING" and record.get("msg", "").startswith("PRIVACY"):
            lines.append(record["msg"])
    return lines


@pytest.mark.parametrize("role", ["edge", "aggregate"])
def test_a_redis_with_snapshots_on_is_reported_at_start(tmp_path, role) -> None:
    server = LocalRedis(tmp_path / "redis", extra_args=("--save", "900 1"))
    server.start()
    station = LocalStation("demo-station", server.url, tmp_path / "station")
    try:
        process = station.edge("edge", ["gates-inside"]) if role == "edge" else station.aggregate()
        wait_for(lambda: warnings_in(process.log_tail(400)), timeout_s=180, what=f"the {role}'s warning",
                 logs=lambda: process.log_tail(40))  # fmt: skip
        (warning,) = warnings_in(process.log_tail(400))
        assert "RDB snapshots" in warning and "900 1" in warning and "DEPLOYMENT.md" in warning
    finally:
        station.stop()
        server.stop()
