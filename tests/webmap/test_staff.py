import csv
import io

from history.aggregate import ZoneMinute
from history.store import open_store
from iconizer.types import CameraStatus
from webmap import create_app


def https(client, method, path, **kwargs):
    headers = {"Referer": "https://localhost/staff", **kwargs.pop("headers", {})}
    return client.open(path, method=method, base_url="https://localhost", headers=headers, **kwargs)


def test_alert_raised_then_acknowledged_with_csrf(web, wm, demo_layout):
    app, _sio, hub = web
    client = app.test_client()
    wm.login(client, "sam", wm.STAFF_PASSWORD)
    hub.receive(
        wm.frames_message(
            demo_layout,
            [wm.make_frame(demo_layout, "concourse", levels={"ticket-gates": 2}, densities={"ticket-gates": 1.7})],
        )
    )
    state = https(client, "GET", "/staff/api/stations/demo-station").get_json()
    [alert] = state["alerts"]
    assert (alert["zone"], alert["level"], alert["active"], alert["acknowledged_by"]) == ("ticket-gates", 2, True, None)
    url = f"/staff/alerts/demo-station/{alert['id']}/ack"
    assert https(client, "POST", url).status_code == 400, "no CSRF token: refused"
    token = wm.csrf_from(https(client, "GET", "/staff").get_data(as_text=True))
    acked = https(client, "POST", url, headers={"X-CSRFToken": token})
    assert acked.status_code == 200
    assert acked.get_json()["acknowledged_by"] == "sam"
    assert https(client, "GET", "/staff/api/stations/demo-station").get_json()["alerts"][0]["acknowledged_by"] == "sam"
    assert (
        https(client, "POST", "/staff/alerts/demo-station/gates@1.000/ack", headers={"X-CSRFToken": token}).status_code
        == 404
    )


def test_anonymous_ack_is_refused(web, wm, demo_layout):
    app, _, hub = web
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse", levels={"ticket-gates": 3})]))
    response = app.test_client().post(f"/staff/alerts/demo-station/{hub.alerts('demo-station')[0]['id']}/ack")
    assert response.status_code in (302, 400)
    assert hub.alerts("demo-station")[0]["acknowledged_by"] is None


def test_station_state_has_density_los_trend_and_camera_health(web, wm, demo_layout):
    app, _, hub = web
    client = app.test_client()
    wm.login(client, "sam", wm.STAFF_PASSWORD)
    hub.receive(
        wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse", densities={"concourse-west": 0.35})])
    )
    hub.receive(wm.status_message(demo_layout, CameraStatus("gates-inside", wm.NOW, "dead", error="stream_lost")))
    state = https(client, "GET", "/staff/api/stations/demo-station").get_json()
    zones = {z["id"]: z for z in state["zones"]}
    assert zones["concourse-west"]["trend"][0]["mean_density_per_m2"] == 0.35
    assert zones["concourse-west"]["los_bounds_per_m2"] == [0.31, 0.43, 0.72, 1.08, 2.17]
    latest_zones = {z["id"]: z for z in state["latest"]["floors"][0]["zones"]}
    assert latest_zones["concourse-west"]["density_per_m2"] == 0.35
    cameras = {c["camera"]: c for c in state["cameras"]}
    assert cameras["gates-inside"]["state"] == "dead" and cameras["gates-inside"]["error"] == "stream_lost"


def test_csv_export_without_history_uses_the_recent_hour(web, wm, demo_layout):
    app, _, hub = web
    client = app.test_client()
    wm.login(client, "sam", wm.STAFF_PASSWORD)
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse")]))
    response = https(client, "GET", "/staff/export.csv?station=demo-station")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["zone"] for r in rows} == {z.id for z in demo_layout.zones_on("concourse")}
    assert set(rows[0]) == {
        "minute_start",
        "zone",
        "mean_count",
        "mean_density_per_m2",
        "peak_density_per_m2",
        "peak_level",
    }


def test_csv_export_and_day_from_the_history_store(tmp_path, settings, demo_layout, users, wm):
    store = open_store(str(tmp_path / "history.sqlite3"))
    minute = int(wm.NOW // 60 * 60)
    store.write([ZoneMinute("demo-station", "concourse-west", minute - 60, 3.0, 5, 0.25, 0.4, 1, "B", 60, 0)])
    app, _ = create_app(settings, layouts=[demo_layout], users=users, history=store, clock=lambda: wm.NOW)
    client = app.test_client()
    wm.login(client, "sam", wm.STAFF_PASSWORD)
    text = https(client, "GET", "/staff/export.csv?station=demo-station").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["zone_id"], r["density_mean_per_m2"]) for r in rows] == [("concourse-west", "0.2500")]
    assert "x_m" not in text and "dots" not in text
    assert https(client, "GET", "/staff/export.csv?day=yesterday").status_code == 400
    day = https(client, "GET", "/staff/api/stations/demo-station/day").get_json()
    west = next(z for z in day["zones"] if z["id"] == "concourse-west")
    assert len(west["today"]) == 24 and len(west["usual"]) == 24
    assert 0.25 in west["today"]


def test_alerts_and_acknowledgements_survive_a_restart(settings, demo_layout, users, wm):
    """One web process, no Redis: alerts live in the data folder's SQLite file."""
    app, _ = create_app(settings, layouts=[demo_layout], users=users, clock=lambda: wm.NOW)
    hub = app.extensions["crowdmap_hub"]
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse", levels={"ticket-gates": 3})]))
    hub.receive(wm.status_message(demo_layout, CameraStatus("platform-east", wm.NOW, "dead", error="stream_lost")))
    [camera, zone] = hub.alerts("demo-station")
    assert (camera["kind"], camera["camera"], zone["kind"], zone["zone"]) == (
        "camera",
        "platform-east",
        "zone",
        "ticket-gates",
    )
    hub.acknowledge("demo-station", zone["id"], "sam")
    # A new process on the same data folder: the same alerts, the acknowledgement included.
    again, _ = create_app(settings, layouts=[demo_layout], users=users, clock=lambda: wm.NOW + 60)
    client = again.test_client()
    wm.login(client, "sam", wm.STAFF_PASSWORD)
    alerts = https(client, "GET", "/staff/api/stations/demo-station").get_json()["alerts"]
    assert [a["id"] for a in alerts] == [camera["id"], zone["id"]]
    assert alerts[1]["acknowledged_by"] == "sam" and alerts[0]["active"]
    # The camera comes back: the restored alert clears.
    again.extensions["crowdmap_hub"].receive(
        wm.status_message(demo_layout, CameraStatus("platform-east", wm.NOW + 61, "live", 10.0, 0.1))
    )
    by_id = {a["id"]: a for a in again.extensions["crowdmap_hub"].alerts("demo-station")}
    assert not by_id[camera["id"]]["active"] and by_id[zone["id"]]["active"]
