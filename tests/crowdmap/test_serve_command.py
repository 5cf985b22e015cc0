"""``crowdmap serve`` as an operator runs it: a real process against a private Redis.

- ``--history``: the web process reads the per-zone aggregates of a SQLite or PostgreSQL store
  (its REST history and usual day come from there, not from the last hour it saw itself).
- ``--ops-port``: every metric (cameras, relay, bus) on localhost for Prometheus, while the
  anonymous ``/metrics`` of the web port shows the public view only (issue 11 item 11).
"""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest

from history.aggregate import ZoneMinute
from history.store import open_store
from tests.conftest import POSTGRES_NOT_READY, POSTGRES_URL, postgres_database_url
from tests.harness.localstation import LocalStation, StationProcess, wait_for

STATION = "demo-station"
STARTUP_S = 120.0  # a loaded two-core machine: the process imports gevent, Flask and the layout


@pytest.fixture
def station(start_local_station) -> LocalStation:
    return start_local_station(STATION)


def started(process: StationProcess, station: LocalStation) -> StationProcess:
    logs = lambda: "\n".join(f"--- {p.name}\n{p.log_tail()}" for p in station.processes)  # noqa: E731
    wait_for(lambda: process.get("/healthz")[0] == 200, timeout_s=STARTUP_S, what=f"{process.name}", logs=logs)
    return process


def get_json(process: StationProcess, path: str) -> dict:
    status, body = process.get(path)
    assert status == 200, (path, status, body[:200])
    return json.loads(body)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def history_url(request, tmp_path):
    """An empty history store: a SQLite file, or a database of its own on the local PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/history.sqlite3"
        return
    name = f"crowdmap_serve_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as error:
        pytest.fail(POSTGRES_NOT_READY.format(error=error))
    yield postgres_database_url(name)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_serve_answers_history_and_usual_from_its_store(station, history_url):
    minute = int(time.time() // 60 * 60)
    rows = [ZoneMinute(STATION, "concourse-west", minute - 60 * k, 3.0, 5, 0.25, 0.4, 1, "B", 60, 0) for k in (3, 2, 1)]
    # The same minute in each of the past three weeks: the usual day.
    rows += [
        ZoneMinute(STATION, "concourse-west", minute - 7 * 86400 * w, 2.0, 3, 0.2, 0.3, 0, "A", 60, 0)
        for w in (1, 2, 3)
    ]
    with open_store(history_url) as store:
        store.write(rows)
    web = started(station.serve("web-1", "--history", history_url), station)
    history = get_json(web, f"/api/v1/stations/{STATION}/history?zone=concourse-west&hours=1")
    assert history["source"] == "history", "from the store, not from what this process saw"
    assert [m["minute_start"] for m in history["minutes"]] == [minute - 180, minute - 120, minute - 60]
    assert {m["mean_density_per_m2"] for m in history["minutes"]} == {0.25}
    usual = {z["id"]: z for z in get_json(web, f"/api/v1/stations/{STATION}/usual")["zones"]}
    assert usual["concourse-west"]["usual_density_per_m2"] == pytest.approx(0.2, abs=0.01)
    assert usual["concourse-west"]["usual_weeks"] == 3
    assert usual["platform-east"]["usual_density_per_m2"] is None


def test_serve_without_a_store_answers_from_the_last_hour(station):
    web = started(station.serve("web-1"), station)
    history = get_json(web, f"/api/v1/stations/{STATION}/history?zone=concourse-west&hours=1")
    assert history == {"station": STATION, "zone": "concourse-west", "source": "recent", "minutes": []}


def test_every_metric_is_on_the_ops_address_and_only_the_public_view_on_the_web_port(station):
    web = started(station.serve("web-1"), station)
    wait_for(lambda: web.get("/metrics", port=web.ops_port)[0] == 200, timeout_s=30, what="the ops endpoint")
    full = web.get("/metrics", port=web.ops_port)[1].decode()
    public = web.get("/metrics")[1].decode()
    assert "crowdmap_web_relay_leader" in full and "crowdmap_bus_received_total" in full
    assert "crowdmap_web_relay_leader" not in public and "crowdmap_bus_" not in public
    assert "crowdmap_web_messages_rejected_total" in public or "crowdmap_web_clients" in public
    # The ops /healthz reports the frames relay, which answers 503 until its loop has started.
    wait_for(lambda: web.get("/healthz", port=web.ops_port)[0] == 200, timeout_s=30, what="the relay's health")
