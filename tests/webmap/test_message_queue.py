"""Two web processes' worth of apps on a real Redis: a frame received by one reaches clients of the other."""

import base64
import json
import time
import uuid

import pytest
import redis
from prometheus_client import generate_latest

from bus.redis_link import socketio_channel
from station import StationLayout
from webmap import WebSettings, create_app, hub_of
from webmap.store import RedisLatestStore

pytestmark = pytest.mark.redis
REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own, shared by concurrent runs of this module


@pytest.fixture
def redis_url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("needs the Redis server on 127.0.0.1:6379 (scripts/services.sh starts one)")
    return REDIS_URL


@pytest.fixture
def run_layout(demo_layout) -> StationLayout:
    """The demo station under an id of this test alone: its keys in Redis never meet another run's."""
    station = demo_layout.station.model_copy(update={"id": f"demo-{uuid.uuid4().hex[:10]}"})
    return demo_layout.model_copy(update={"station": station})


def test_latest_frame_is_shared_through_redis(redis_url, wm, demo_layout):
    client = redis.Redis.from_url(redis_url)
    store = RedisLatestStore(client, ttl_s=30)
    station = f"test-{uuid.uuid4().hex[:8]}"
    assert store.get(station) is None
    store.put(station, {"station": station, "timestamp": 1.0, "floors": []})
    assert RedisLatestStore(redis.Redis.from_url(redis_url)).get(station)["timestamp"] == 1.0
    assert 0 < client.ttl(f"crowdmap:latest:{station}") <= 30
    client.delete(f"crowdmap:latest:{station}")


def polling_client(app, station: str):
    """A real Engine.IO long-polling client through the app's WSGI stack (the Socket.IO test client
    refuses to run with a message queue), joined to ``station``."""
    http = app.test_client()
    handshake = http.get("/socket.io/?EIO=4&transport=polling").get_data(as_text=True)
    sid = json.loads(handshake[1:])["sid"]
    url = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    http.post(url, data="40/public,")
    assert http.get(url).get_data(as_text=True).startswith("40/public,")
    http.post(url, data="42/public,0" + json.dumps(["join", {"station": station}], separators=(",", ":")))
    replies = ""
    for _ in range(5):  # the acknowledgement may come after the latest frame, in a later poll
        replies += http.get(url).get_data(as_text=True)
        if '"ok":true' in replies:
            return http, url
    raise AssertionError(f"join was not acknowledged: {replies[:200]}")


def test_a_frame_received_by_one_process_reaches_clients_of_another(tmp_path, redis_url, wm, run_layout, users):
    station = run_layout.station.id
    settings = WebSettings(data_dir=tmp_path, async_mode="threading", message_queue=redis_url)
    app_a, _ = create_app(settings, layouts=[run_layout], users=users, clock=lambda: wm.NOW)
    app_b, _ = create_app(settings, layouts=[run_layout], users=users, clock=lambda: wm.NOW)
    http, url = polling_client(app_b, station)
    frame = wm.make_frame(run_layout, "platform", dots=[[42.75, 7.25]], timestamp_s=wm.NOW)
    # B subscribes to the queue in a thread once its first client connected: retry, bounded,
    # until that subscription is live and A's broadcast arrives (the long-poll GET waits for it).
    body = ""
    for _ in range(20):
        hub_of(app_a).receive(wm.frames_message(run_layout, [frame]))
        body = http.get(url).get_data(as_text=True)
        if '"crowding"' in body:
            break
    assert '"dots":[[42.8,7.2,1]]' in body
    # Both apps share the latest frame through Redis: B answers REST with what A received.
    try:
        crowding = app_b.test_client().get(f"/api/v1/stations/{station}/crowding").get_json()
        assert crowding["floors"][0]["dots"] == [[42.8, 7.2, 1]]
    finally:
        redis.Redis.from_url(redis_url).delete(f"crowdmap:latest:{station}")


def test_an_acknowledgement_made_through_one_process_shows_in_another(tmp_path, redis_url, wm, run_layout, users):
    station = run_layout.station.id
    client = redis.Redis.from_url(redis_url)
    client.delete(f"crowdmap:alert-acks:{station}", f"crowdmap:latest:{station}")
    settings = WebSettings(data_dir=tmp_path, async_mode="threading", message_queue=redis_url)
    apps = [create_app(settings, layouts=[run_layout], users=users, clock=lambda: wm.NOW)[0] for _ in range(2)]
    crowded = wm.make_frame(run_layout, "concourse", levels={"ticket-gates": 2}, densities={"ticket-gates": 1.7})
    for app in apps:  # every web process reads every frame from the stream
        hub_of(app).receive(wm.frames_message(run_layout, [crowded]))
    [alert_a], [alert_b] = (hub_of(app).alerts(station) for app in apps)
    assert alert_a["id"] == alert_b["id"], "both processes name the alert alike"
    try:
        hub_of(apps[0]).acknowledge(station, alert_a["id"], "sam")
        [seen] = hub_of(apps[1]).alerts(station)
        assert (seen["acknowledged_by"], seen["acknowledged_at"]) == ("sam", wm.NOW)
        # ... and keeps it when the alert worsens, which the other process announces to its staff.
        worse = wm.make_frame(run_layout, "concourse", levels={"ticket-gates": 3}, densities={"ticket-gates": 2.5})
        hub_of(apps[1]).receive(wm.frames_message(run_layout, [worse], timestamp_s=wm.NOW + 1))
        [now] = hub_of(apps[1]).alerts(station)
        assert (now["level"], now["acknowledged_by"]) == (3, "sam")
        assert 0 < client.ttl(f"crowdmap:alert-acks:{station}") <= 2 * 86400
    finally:
        client.delete(f"crowdmap:alert-acks:{station}", f"crowdmap:latest:{station}")


def test_sessions_and_login_failures_are_shared_by_every_web_process(tmp_path, redis_url, wm, demo_layout, users):
    """Logout through one process ends the session in all; failures through one count in all."""
    settings = WebSettings(
        data_dir=tmp_path, async_mode="threading", message_queue=redis_url, secret_key="k" * 32, login_max_fails=3
    )
    app_a, _ = create_app(settings, layouts=[demo_layout], users=users, clock=lambda: wm.NOW)
    app_b, _ = create_app(settings, layouts=[demo_layout], users=users, clock=lambda: wm.NOW)
    browser = app_a.test_client()
    assert wm.login(browser, "sam", wm.STAFF_PASSWORD).status_code == 302
    cookie = browser.get_cookie("crowdmap_session", domain="localhost").value
    other = app_b.test_client()
    other.set_cookie("crowdmap_session", cookie, domain="localhost")
    assert other.get("/staff", base_url="https://localhost").status_code == 200, "one session, any process"
    token = wm.csrf_from(browser.get("/staff", base_url="https://localhost").get_data(as_text=True))
    browser.post(
        "/logout", data={"csrf_token": token}, base_url="https://localhost", headers={"Referer": "https://localhost/"}
    )
    assert other.get("/staff", base_url="https://localhost").status_code == 302, "logged out in every process"

    address = f"192.0.2.1-{uuid.uuid4().hex[:8]}"  # this run's own window in the shared Redis

    def attempt(app, password):
        client = app.test_client()
        page = client.get("/login", base_url="https://localhost", environ_base={"REMOTE_ADDR": address})
        return client.post(
            "/login",
            data={"username": "ola", "password": password, "csrf_token": wm.csrf_from(page.get_data(as_text=True))},
            base_url="https://localhost",
            environ_base={"REMOTE_ADDR": address},
            headers={"Referer": "https://localhost/login"},
        ).status_code

    assert [attempt(app, "guess guess 1") for app in (app_a, app_b, app_a)] == [401, 401, 401]
    assert attempt(app_b, wm.OPERATOR_PASSWORD) == 429, "three failures over two processes reach the limit of 3"


def broadcasts_heard(client: redis.Redis, channel: str, send) -> int:
    """Messages published on ``channel`` while ``send()`` runs (pub/sub: every database hears them)."""
    listener = client.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(channel)
    listener.get_message(timeout=1.0)  # the subscription is live from here on
    send()
    heard = 0
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        if listener.get_message(timeout=0.2) is not None:
            heard += 1
    listener.close()
    return heard


@pytest.mark.parametrize(
    ("url_b", "deployment_b"),
    [("redis://127.0.0.1:6379/14", ""), ("redis://127.0.0.1:6379/15", "other-site")],
    ids=["another database", "another deployment"],
)
def test_two_deployments_sharing_a_redis_never_see_each_others_frames(
    tmp_path, redis_url, wm, run_layout, users, url_b, deployment_b
):
    # Issue 11 item 2: with one fixed channel, a frame of one installation reached the public map of
    # another that shared the Redis server, even on another database (pub/sub ignores them).
    station = run_layout.station.id
    ours = WebSettings(data_dir=tmp_path, async_mode="threading", message_queue=redis_url)
    app, _ = create_app(ours, layouts=[run_layout], users=users, clock=lambda: wm.NOW)
    frame = wm.make_frame(run_layout, "platform", dots=[[42.5, 7]], timestamp_s=wm.NOW)
    send = lambda: hub_of(app).receive(wm.frames_message(run_layout, [frame]))  # noqa: E731
    client = redis.Redis.from_url(url_b)
    try:
        # What this deployment's other web processes listen to hears the frame ...
        assert broadcasts_heard(client, socketio_channel(redis_url, [station]), send) >= 1
        # ... what the other deployment's web processes listen to does not.
        theirs = socketio_channel(url_b, [station], deployment_b)
        assert theirs != socketio_channel(redis_url, [station])
        assert broadcasts_heard(client, theirs, send) == 0
    finally:
        redis.Redis.from_url(redis_url).delete(f"crowdmap:latest:{station}")
        client.close()


def queue_message(event, data, room, namespace="/public", binary=False):
    """A message as python-socketio's pub/sub managers publish it, from another host."""
    return json.dumps(
        {
            "method": "emit",
            "event": event,
            "data": data,
            "binary": binary,
            "namespace": namespace,
            "room": room,
            "skip_sid": None,
            "callback": None,
            "host_id": "not-a-web-process",
        }
    )


JPEG_B64 = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00 a camera still").decode()


def test_a_publish_on_the_message_queue_never_reaches_public_clients_unchecked(
    tmp_path, redis_url, wm, run_layout, users
):
    """Issue 11 item 2: a PUBLISH put extra keys and a JPEG attachment into /public clients."""
    station = run_layout.station.id
    settings = WebSettings(data_dir=tmp_path, async_mode="threading", message_queue=redis_url)
    app, sio = create_app(settings, layouts=[run_layout], users=users, clock=lambda: wm.NOW)
    manager = sio.server.manager
    http, url = polling_client(app, station)
    client = redis.Redis.from_url(redis_url)
    room = f"station:{station}"
    valid = {"station": station, "timestamp": wm.NOW, "floors": []}
    attacks = {
        "extra key": queue_message("crowding", [{**valid, "image": JPEG_B64}], room),
        "extra floor key": queue_message(
            "crowding", [{**valid, "floors": [{"floor": "concourse", "dots": [], "zones": [], "note": "x"}]}], room
        ),
        "binary attachment": queue_message(
            "crowding", [[{**valid, "still": {"_placeholder": True, "num": 0}}], JPEG_B64], room, binary=True
        ),
        "binary alone": queue_message("crowding", [[{"_placeholder": True, "num": 0}], JPEG_B64], room, binary=True),
        "another event": queue_message("message", ["see https://evil.example"], room),
        "every client": queue_message("crowding", [valid], None),
        "another station's room": queue_message("crowding", [{**valid, "station": "pets2009"}], room),
        "the root namespace": queue_message("crowding", [valid], room, namespace="/"),
        "binary to staff": queue_message(
            "camera", [[{"_placeholder": True, "num": 0}], JPEG_B64], station, namespace="/staff", binary=True
        ),
    }  # fmt: skip
    body = ""
    for _ in range(20):  # the app subscribes in a thread once its first client connected
        for message in attacks.values():
            client.publish(manager.channel, message)
        # Redis delivers a channel's messages in order: once this one arrives, the attacks came before it.
        client.publish(manager.channel, queue_message("crowding", [{**valid, "timestamp": wm.NOW + 1}], room))
        body = http.get(url).get_data(as_text=True)
        if '"crowding"' in body:
            break
    assert f'"timestamp":{wm.NOW + 1}' in body, "a frame that passes the schema goes through"
    assert body.count('"crowding"') == 1, body[:300]
    assert "image" not in body and "JFIF" not in body and JPEG_B64[:20] not in body and "evil" not in body
    metrics = generate_latest(app.extensions["crowdmap_metrics"].registry).decode()  # the staff view
    for namespace, reason in [("/public", "schema"), ("/public", "event"), ("/public", "room"), ("other", "namespace"),
                              ("/staff", "schema")]:  # fmt: skip
        assert f'crowdmap_web_emits_refused_total{{namespace="{namespace}",reason="{reason}"}}' in metrics


def test_a_latest_frame_written_into_redis_by_someone_else_is_not_served(tmp_path, redis_url, wm, run_layout, users):
    station = run_layout.station.id
    settings = WebSettings(data_dir=tmp_path, async_mode="threading", message_queue=redis_url)
    app, _ = create_app(settings, layouts=[run_layout], users=users, clock=lambda: wm.NOW)
    client = redis.Redis.from_url(redis_url)
    forged = {"station": station, "timestamp": wm.NOW, "floors": [], "still": JPEG_B64}
    client.set(f"crowdmap:latest:{station}", json.dumps(forged), ex=30)
    try:
        crowding = app.test_client().get(f"/api/v1/stations/{station}/crowding").get_json()
        assert "still" not in crowding and crowding["timestamp"] is None
    finally:
        client.delete(f"crowdmap:latest:{station}")
