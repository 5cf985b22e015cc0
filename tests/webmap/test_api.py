import jsonschema
import pytest
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource

from history.aggregate import ZoneMinute
from history.store import open_store
from webmap import create_app, hub_of
from webmap.openapi import openapi_document


@pytest.fixture(scope="module")
def spec():
    document = openapi_document()
    validate_spec(document)  # the document itself is valid OpenAPI 3.1
    return document


def check(spec, response, path_template, status=200):
    """Validate a response against the schema the document gives for (path, GET, status)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    operation = spec["paths"][path_template]["get"]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    registry = Registry().with_resource(
        "urn:api", Resource.from_contents({**spec, "$schema": "https://json-schema.org/draft/2020-12/schema"})
    )
    resolved = {"$ref": "urn:api" + schema["$ref"]}
    jsonschema.Draft202012Validator(resolved, registry=registry).validate(response.get_json())
    return response.get_json()


def test_every_documented_path_answers_as_documented(web, wm, demo_layout, spec):
    app, _sio, hub = web
    hub.receive(
        wm.frames_message(
            demo_layout,
            [
                wm.make_frame(demo_layout, "concourse", dots=[[1.25, 2.75]], moving=[False]),
                wm.make_frame(demo_layout, "platform"),
            ],
        )
    )
    client = app.test_client()
    stations = check(spec, client.get("/api/v1/stations"), "/api/v1/stations")
    assert [s["id"] for s in stations["stations"]] == ["demo-station", "pets2009"]
    assert [f["id"] for f in stations["stations"][0]["floors"]] == ["concourse", "platform"]
    path = "/api/v1/stations/{station_id}/crowding"
    crowding = check(spec, client.get("/api/v1/stations/demo-station/crowding"), path)
    assert crowding == hub.store.get("demo-station")
    assert crowding["floors"][0]["dots"] == [[1.2, 2.8, 0]]  # a cell centre, to 0.1 m
    check(spec, client.get("/api/v1/stations/pets2009/crowding"), path)  # no frame yet
    check(spec, client.get("/api/v1/stations/nowhere/crowding"), path, 404)
    plan = check(spec, client.get("/api/v1/stations/demo-station/plan"), "/api/v1/stations/{station_id}/plan")
    assert plan["simulated"] is True
    check(
        spec,
        client.get("/api/v1/stations/demo-station/history?zone=concourse-west"),
        "/api/v1/stations/{station_id}/history",
    )
    check(
        spec,
        client.get("/api/v1/stations/demo-station/history?zone=nope"),
        "/api/v1/stations/{station_id}/history",
        400,
    )
    check(
        spec,
        client.get("/api/v1/stations/demo-station/history?zone=concourse-west&hours=100"),
        "/api/v1/stations/{station_id}/history",
        400,
    )
    check(spec, client.get("/api/v1/stations/demo-station/usual"), "/api/v1/stations/{station_id}/usual")
    served = client.get("/api/v1/openapi.json").get_json()
    assert served == spec


def test_no_data_then_stale(web, wm, demo_layout, clock):
    app, _sio, hub = web
    client = app.test_client()
    empty = client.get("/api/v1/stations/demo-station/crowding").get_json()
    assert empty["timestamp"] is None
    assert all(z["stale"] for f in empty["floors"] for z in f["zones"])
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse", dots=[[1, 2]])]))
    live = client.get("/api/v1/stations/demo-station/crowding").get_json()
    assert not any(z["stale"] for z in live["floors"][0]["zones"])
    clock[0] += demo_layout.publishing.stale_after_s + 1  # the feed stopped
    stale = client.get("/api/v1/stations/demo-station/crowding").get_json()
    assert stale["floors"][0]["dots"] == []
    assert all(z["stale"] for z in stale["floors"][0]["zones"])


@pytest.mark.parametrize(
    ("path", "cors", "cache"),
    [
        ("/api/v1/stations", True, "public, max-age=60"),
        ("/api/v1/stations/demo-station/crowding", True, "public, max-age=1"),
        ("/api/v1/stations/demo-station/plan", True, "public, max-age=300"),
        ("/api/v1/openapi.json", True, "public, max-age=3600"),
        ("/", False, "no-cache"),
        ("/privacy", False, "no-cache"),
        ("/login", False, "no-store"),
        ("/healthz", False, "no-store"),
    ],
)
def test_headers(web, path, cors, cache):
    app, _, _ = web
    response = app.test_client().get(path)
    assert response.status_code == 200
    assert ("Access-Control-Allow-Origin" in response.headers) is cors
    if cors:
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == cache
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_cors_preflight_and_staff_api_not_shared(web):
    app, _, _ = web
    client = app.test_client()
    preflight = client.options("/api/v1/stations/demo-station/crowding", headers={"Origin": "https://example.org"})
    assert preflight.status_code == 200  # Flask answers OPTIONS itself; the CORS headers are added to it
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    staff = client.get("/staff/api/stations/demo-station", headers={"Origin": "https://example.org"})
    assert "Access-Control-Allow-Origin" not in staff.headers


def test_plan_is_conditional(web):
    app, _, _ = web
    client = app.test_client()
    first = client.get("/api/v1/stations/demo-station/plan")
    again = client.get("/api/v1/stations/demo-station/plan", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_history_endpoints_serve_aggregates_from_the_store(tmp_path, settings, demo_layout, users, wm, spec):
    store = open_store(str(tmp_path / "history.sqlite3"))
    now = wm.NOW
    minute = int(now // 60 * 60)
    rows = [
        ZoneMinute("demo-station", "concourse-west", minute - 60 * k, 3.0, 5, 0.25, 0.4, 1, "B", 60, 0)
        for k in range(1, 4)
    ]
    # The same minute in each of the past three weeks: the usual day.
    rows += [
        ZoneMinute("demo-station", "concourse-west", minute - 7 * 86400 * w, 2.0, 3, 0.2, 0.3, 0, "A", 60, 0)
        for w in range(1, 4)
    ]
    store.write(rows)
    app, _ = create_app(settings, layouts=[demo_layout], users=users, history=store, clock=lambda: now)
    client = app.test_client()
    history = check(
        spec,
        client.get("/api/v1/stations/demo-station/history?zone=concourse-west"),
        "/api/v1/stations/{station_id}/history",
    )
    assert history["source"] == "history"
    assert [m["minute_start"] for m in history["minutes"]] == [minute - 180, minute - 120, minute - 60]
    assert set(history["minutes"][0]) == {
        "minute_start",
        "zone",
        "mean_count",
        "mean_density_per_m2",
        "peak_density_per_m2",
        "peak_level",
    }
    usual = check(spec, client.get("/api/v1/stations/demo-station/usual"), "/api/v1/stations/{station_id}/usual")
    by_zone = {z["id"]: (z["usual_density_per_m2"], z["busier_from_per_m2"]) for z in usual["zones"]}
    assert by_zone["concourse-west"] == (pytest.approx(0.2), pytest.approx(0.3)), "0.2 + 0.1 beats 1.3 x 0.2"
    assert by_zone["platform-east"] == (None, None)
    # How much history each value rests on, and how much it needs: the map says "not enough yet".
    assert usual["min_weeks"] == 2
    weeks = {z["id"]: z["usual_weeks"] for z in usual["zones"]}
    assert weeks["concourse-west"] == 3 and weeks["platform-east"] == 0


def test_plan_places_labels_in_their_zones_and_marks_uncovered_floor(settings, demo_layout, users, spec):
    from shapely.geometry import Point, Polygon

    from webmap.checks import CameraCheck, StationCheck

    # The cameras see only the western half of the concourse, and nothing of the platform.
    check_ = StationCheck(
        "demo-station",
        1.0,
        (CameraCheck("concourse-west", "concourse", "point_pairs", 6, 0.1, 0.2, 0.3, 0.5, 1200.0, None),),
        {"concourse": [[[[0, 0], [40, 0], [40, 30], [0, 30]]]]},
    )
    app, _ = create_app(settings, layouts=[demo_layout], users=users, checks=[check_])
    path = "/api/v1/stations/{station_id}/plan"
    plan = check(spec, app.test_client().get("/api/v1/stations/demo-station/plan"), path)
    for floor in plan["floors"]:
        for zone in floor["zones"]:
            assert Polygon(zone["polygon_m"]).contains(Point(zone["label_m"])), zone["id"]
    concourse, platform = plan["floors"]
    uncovered = sum(Polygon(rings[0], rings[1:]).area for rings in concourse["uncovered_m"])
    east_half = Polygon([(40, 0), (80, 0), (80, 30), (40, 30)])
    walkable_east = demo_layout.floor("concourse").walkable.intersection(east_half)
    assert uncovered == pytest.approx(walkable_east.area, rel=1e-3)
    assert sum(Polygon(r[0], r[1:]).area for r in platform["uncovered_m"]) == pytest.approx(
        demo_layout.floor("platform").walkable.area, rel=1e-3
    )
    # Floor geometry only: no camera id anywhere in the public plan.
    assert "concourse-west" not in str(concourse["uncovered_m"])
    # Without a check, nothing is known: null, not "all covered".
    app, _ = create_app(settings, layouts=[demo_layout], users=users)
    plan = check(spec, app.test_client().get("/api/v1/stations/demo-station/plan"), path)
    assert [floor["uncovered_m"] for floor in plan["floors"]] == [None, None]
    with pytest.raises(ValueError, match="not served"):
        create_app(settings, layouts=[demo_layout], users=users, checks=[check_, StationCheck("x", 1.0, ())])


def test_healthz_and_metrics(web, wm, demo_layout):
    app, _, hub = web
    client = app.test_client()
    hub.receive(b"{}")
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse")]))
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok"
    assert health["frame_age_s"] == {"demo-station": 0.0, "pets2009": None}
    metrics = client.get("/metrics")
    assert metrics.mimetype == "text/plain"
    text = metrics.get_data(as_text=True)
    assert 'crowdmap_web_messages_rejected_total{reason="invalid"} 1.0' in text
    assert 'crowdmap_web_messages_received_total{type="icon_frames"} 1.0' in text


def test_hub_of_and_the_notice_check(settings, demo_layout, users):
    from webmap import NoticeError

    broken = demo_layout.model_copy(
        update={
            "notice": demo_layout.notice.model_copy(
                update={"contact": demo_layout.notice.contact.model_copy(update={"en": "  "})}
            )
        }
    )
    with pytest.raises(NoticeError, match=r"empty notice fields \['notice.contact.en'\]"):
        create_app(settings, layouts=[broken], users=users)
    unreachable = demo_layout.model_copy(
        update={
            "notice": demo_layout.notice.model_copy(
                update={
                    "contact_details": demo_layout.notice.contact_details.model_copy(
                        update={"url": None, "email": None}
                    )
                }
            )
        }
    )
    with pytest.raises(NoticeError, match=r"empty notice fields \['notice.contact_details'\]"):
        create_app(settings, layouts=[unreachable], users=users)
    with pytest.raises(ValueError, match="at least one station"):
        create_app(settings, layouts=[], users=users)
    app, _ = create_app(settings, layouts=[demo_layout], users=users)
    assert list(hub_of(app).stations) == ["demo-station"]


def with_retention(layout, days, en, ja):
    retention = layout.notice.retention.model_copy(update={"en": en, "ja": ja})
    return layout.model_copy(
        update={
            "notice": layout.notice.model_copy(update={"retention": retention}),
            "publishing": layout.publishing.model_copy(update={"history_retention_days": days}),
        }
    )


@pytest.mark.parametrize(
    ("days", "en", "ja", "refused"),
    [
        (90, "Only per-area counts are kept, for 90 days.", "集計値のみ90日間保存します。", None),
        (30, "Counts are kept for a 30-day period.", "集計値を30日保存します。", None),
        (
            365,
            "Only per-area counts are kept, for 90 days.",
            "集計値のみ365日間保存します。",
            r"retention.en states \[90\]",
        ),
        (90, "Counts are kept for 90 days.", "集計値のみ9日間保存します。", r"retention.ja states \[9\]"),
        (90, "Counts are kept for 90 days, backups for 365 days.", "集計値のみ90日間保存します。", r"\[90, 365\]"),
        (90, "Counts are kept for three months.", "集計値のみ90日間保存します。", "states no day"),
    ],
)
def test_the_notice_must_state_the_retention_the_station_keeps(settings, demo_layout, users, days, en, ja, refused):
    """Issue 11 item 11: the notice's retention text is checked against history_retention_days."""
    from webmap import NoticeError

    layout = with_retention(demo_layout, days, en, ja)
    if refused is None:
        create_app(settings, layouts=[layout], users=users)
    else:
        with pytest.raises(NoticeError, match=refused):
            create_app(settings, layouts=[layout], users=users)


def test_anonymous_metrics_say_nothing_about_cameras_staff_or_logins(web, wm, demo_layout):
    """Issue 11 item 11: anonymous /metrics listed camera ids and which were down."""
    from iconizer.types import CameraStatus

    app, sio, hub = web
    hub.receive(wm.status_message(demo_layout, CameraStatus("gates-inside", wm.NOW, "dead", error="stream_lost")))
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse")]))
    staff = app.test_client()
    wm.login(staff, "sam", wm.STAFF_PASSWORD)
    sio.test_client(app, namespace="/staff", flask_test_client=staff, headers={"X-Forwarded-Proto": "https"})
    sio.test_client(app, namespace="/public")
    anonymous = app.test_client().get("/metrics").get_data(as_text=True)
    for secret in ("gates-inside", "camera", "dead", "stream_lost", "logins", "/staff", "camera_status"):
        assert secret not in anonymous, secret
    assert 'crowdmap_web_clients{namespace="/public"} 1.0' in anonymous
    assert 'crowdmap_web_messages_received_total{type="icon_frames"} 1.0' in anonymous
    full = staff.get("/metrics", base_url="https://localhost").get_data(as_text=True)
    assert 'crowdmap_web_camera_live{camera="gates-inside",station="demo-station"} 0.0' in full
    assert 'crowdmap_web_logins_total{outcome="ok"} 1.0' in full
    assert 'crowdmap_web_clients{namespace="/staff"} 1.0' in full
