import json
import time

import pytest

from webmap.payload import COMPACT_ENCODING, unpack_dots


def crowding_events(client, namespace="/public"):
    return [e["args"][0] for e in client.get_received(namespace) if e["name"] == "crowding"]


def test_join_gets_the_latest_frame_at_once_then_every_frame(web, wm, demo_layout):
    app, sio, hub = web
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse", dots=[[5, 5]])]))
    client = sio.test_client(app, namespace="/public")
    ack = client.emit("join", {"station": "demo-station"}, namespace="/public", callback=True)
    assert ack == {"ok": True, "room": "station:demo-station"}
    assert crowding_events(client) == [hub.store.get("demo-station")]
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "platform", dots=[[6, 6]])]))
    [frame] = crowding_events(client)
    assert frame["floors"][0]["floor"] == "platform"


def test_floor_room_gets_only_its_floor_and_other_stations_nothing(web, wm, demo_layout, pets_layout):
    app, sio, hub = web
    platform = sio.test_client(app, namespace="/public")
    assert platform.emit("join", {"station": "demo-station", "floor": "platform"}, namespace="/public", callback=True)[
        "ok"
    ]
    pets = sio.test_client(app, namespace="/public")
    pets.emit("join", {"station": "pets2009"}, namespace="/public", callback=True)
    hub.receive(
        wm.frames_message(
            demo_layout,
            [
                wm.make_frame(demo_layout, "concourse", dots=[[5, 5]]),
                wm.make_frame(demo_layout, "platform", dots=[[7, 7], [8, 8]]),
            ],
        )
    )
    [frame] = crowding_events(platform)
    assert [f["floor"] for f in frame["floors"]] == ["platform"]
    assert len(frame["floors"][0]["dots"]) == 2
    assert crowding_events(pets) == []


@pytest.mark.parametrize("floor", [None, "concourse"])
def test_compact_clients_get_the_same_frames_with_packed_dots(web, wm, demo_layout, floor):
    app, sio, hub = web
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse", dots=[[5, 5.5]])]))
    compact, plain = sio.test_client(app, namespace="/public"), sio.test_client(app, namespace="/public")
    join = {"station": "demo-station"} | ({} if floor is None else {"floor": floor})
    ack = compact.emit("join", {**join, "encoding": "compact"}, namespace="/public", callback=True)
    assert ack["ok"] and ack["room"].endswith(":compact")
    plain.emit("join", join, namespace="/public", callback=True)
    dots = [[10.25, 2.75], [40.75, 12.25], [79.75, 0.25]]
    hub.receive(
        wm.frames_message(
            demo_layout,
            [
                wm.make_frame(demo_layout, "concourse", dots=dots, moving=[True, False, True]),
                wm.make_frame(demo_layout, "platform"),
            ],
        )
    )
    got, want = crowding_events(compact), crowding_events(plain)
    assert len(got) == len(want) == 2, "the latest frame on joining, then the new one"
    for packed, stable in zip(got, want, strict=True):
        assert packed["encoding"] == COMPACT_ENCODING and "encoding" not in stable
        assert [f["floor"] for f in packed["floors"]] == [f["floor"] for f in stable["floors"]]
        for a, b in zip(packed["floors"], stable["floors"], strict=True):
            assert unpack_dots(a["dots"]) == b["dots"] and a["zones"] == b["zones"]
    assert unpack_dots(got[-1]["floors"][0]["dots"]) == [[10.2, 2.8, 1], [40.8, 12.2, 0], [79.8, 0.2, 1]]


def test_joining_another_station_leaves_the_first(web, wm, demo_layout):
    app, sio, hub = web
    client = sio.test_client(app, namespace="/public")
    client.emit("join", {"station": "demo-station"}, namespace="/public", callback=True)
    client.emit("join", {"station": "pets2009"}, namespace="/public", callback=True)
    client.get_received("/public")
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse")]))
    assert crowding_events(client) == []


EXPECTED = 'expected {"station": id}, optionally with "floor": id and "encoding"'


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"station": "nowhere"}, "unknown station; stations are ['demo-station', 'pets2009']"),
        ({"station": 7}, "unknown station; stations are ['demo-station', 'pets2009']"),
        ({"station": "demo-station", "floor": "roof"}, "unknown floor; floors are ['concourse', 'platform']"),
        ({"station": "demo-station", "floor": ["concourse"]}, "unknown floor; floors are ['concourse', 'platform']"),
        ({"station": "demo-station", "camera": "x"}, EXPECTED),
        ({"station": "demo-station", "encoding": "msgpack"}, "unknown encoding; encodings are ['json', 'compact']"),
        ("demo-station", EXPECTED),
        (None, EXPECTED),
    ],
)
def test_bad_join_is_refused_with_a_reason(web, data, error):
    app, sio, _ = web
    client = sio.test_client(app, namespace="/public")
    ack = client.emit("join", data, namespace="/public", callback=True)
    assert ack == {"ok": False, "error": error}


@pytest.mark.parametrize("namespace", ["/staff", "/operator"])
def test_private_namespaces_refuse_anonymous_clients(web, namespace):
    app, sio, _ = web
    client = sio.test_client(app, namespace=namespace)
    assert not client.is_connected(namespace)


def test_staff_namespace_accepts_a_logged_in_user(web, wm, demo_layout):
    app, sio, hub = web
    http = app.test_client()
    wm.login(http, "sam", wm.STAFF_PASSWORD)
    # The Socket.IO handshake comes over HTTPS like the login, so the Secure cookie goes with it.
    client = sio.test_client(app, namespace="/staff", flask_test_client=http, headers={"X-Forwarded-Proto": "https"})
    if not client.is_connected("/staff"):
        pytest.fail("a logged-in staff user must be able to connect to /staff")
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse", levels={"ticket-gates": 3})]))
    names = [e["name"] for e in client.get_received("/staff")]
    assert names == ["crowding", "alert"]
    operator = sio.test_client(app, namespace="/operator", flask_test_client=http)
    assert not operator.is_connected("/operator"), "staff are not operators"


def test_connected_clients_are_counted(web):
    app, sio, _ = web
    client = sio.test_client(app, namespace="/public")
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'crowdmap_web_clients{namespace="/public"} 1.0' in text
    client.disconnect(namespace="/public")
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'crowdmap_web_clients{namespace="/public"} 0.0' in text


def metric(app, text):
    from prometheus_client import generate_latest

    for line in generate_latest(app.extensions["crowdmap_metrics"].registry).decode().splitlines():
        if line.startswith(text + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.parametrize("namespace", ["/public", "/staff"])
def test_client_sent_connect_and_disconnect_events_are_ignored_and_counted(web, wm, namespace, caplog):
    app, sio, _ = web
    http = app.test_client()
    wm.login(http, "sam", wm.STAFF_PASSWORD)
    client = sio.test_client(app, namespace=namespace, flask_test_client=http, headers={"X-Forwarded-Proto": "https"})
    assert client.is_connected(namespace)
    gauge = f'crowdmap_web_clients{{namespace="{namespace}"}}'
    for _ in range(3):
        client.emit("disconnect", namespace=namespace)
    assert metric(app, gauge) == 1.0, "three forged disconnects: still one client"
    for _ in range(3):
        client.emit("connect", namespace=namespace)
    assert metric(app, gauge) == 1.0, "three forged connects: still one client"
    assert metric(app, f'crowdmap_web_forged_events_total{{event="disconnect",namespace="{namespace}"}}') == 3
    assert metric(app, f'crowdmap_web_forged_events_total{{event="connect",namespace="{namespace}"}}') == 3
    if namespace == "/staff":
        assert len(sio.server.namespace_handlers["/staff"].admitted) == 1, "still checked"
    assert f"ignored a client-sent 'disconnect' event on {namespace}" in caplog.messages
    client.disconnect(namespace=namespace)
    assert metric(app, gauge) == 0.0
    if namespace == "/staff":
        assert sio.server.namespace_handlers["/staff"].admitted == {}


def test_a_removed_users_socket_is_disconnected_by_the_regular_check(web, wm, users):
    """The check runs by itself (every 2 s); this waits for it, bounded, instead of calling it."""
    app, sio, _ = web
    namespace = sio.server.namespace_handlers["/staff"]
    for round_ in range(2):  # the check stops with the last socket and starts again with the next
        http = app.test_client()
        users.add("kim", "kim's password 1", "staff")
        wm.login(http, "kim", "kim's password 1")
        client = sio.test_client(
            app, namespace="/staff", flask_test_client=http, headers={"X-Forwarded-Proto": "https"}
        )
        assert client.is_connected("/staff"), round_
        users.remove("kim")
        for _ in range(100):
            if not client.is_connected("/staff"):
                break
            time.sleep(0.1)
        assert not client.is_connected("/staff"), round_
        for _ in range(100):
            if not namespace._watching.is_set():
                break
            time.sleep(0.1)
        assert not namespace._watching.is_set(), "no socket left: the check stopped"


def test_leave_stops_the_frames_and_a_new_join_gets_the_newest_frame(web, wm, demo_layout):
    app, sio, hub = web
    client = sio.test_client(app, namespace="/public")
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse")]))
    client.emit("join", {"station": "demo-station"}, namespace="/public", callback=True)
    client.emit("leave", namespace="/public")
    client.get_received("/public")
    newer = wm.NOW + 5
    hub.receive(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse", timestamp_s=newer)], newer))
    assert crowding_events(client) == [], "left: nothing more"
    other = sio.test_client(app, namespace="/public")
    other.emit("join", {"station": "demo-station"}, namespace="/public", callback=True)
    assert [e["timestamp"] for e in crowding_events(other)] == [newer], "the newest frame, not a cached older one"


def test_an_anonymous_staff_connection_is_refused_on_the_wire_and_logged(web, caplog):
    app, _, _ = web
    http = app.test_client()
    sid = json.loads(http.get("/socket.io/?EIO=4&transport=polling").get_data(as_text=True)[1:])["sid"]
    url = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    with caplog.at_level("INFO", logger="webmap.namespaces"):
        http.post(url, data="40/staff,")
        assert http.get(url).get_data(as_text=True) == '44/staff,{"message":"login required"}'
    assert "refused an unauthenticated /staff connection from 127.0.0.1" in caplog.messages


def test_disconnections_say_why_in_the_log(web, wm, users, caplog):
    app, sio, _ = web
    caplog.set_level("INFO", logger="webmap.namespaces")
    namespace = sio.server.namespace_handlers["/staff"]
    http = app.test_client()
    wm.login(http, "sam", wm.STAFF_PASSWORD)
    sio.test_client(app, namespace="/staff", flask_test_client=http, headers={"X-Forwarded-Proto": "https"})
    token = wm.csrf_from(http.get("/staff", base_url="https://localhost").get_data(as_text=True))
    http.post(
        "/logout", data={"csrf_token": token}, base_url="https://localhost", headers={"Referer": "https://localhost/"}
    )
    assert "disconnected a /staff socket: its session ended" in caplog.messages
    other = app.test_client()
    wm.login(other, "ola", wm.OPERATOR_PASSWORD)
    sio.test_client(app, namespace="/staff", flask_test_client=other, headers={"X-Forwarded-Proto": "https"})
    users.remove("ola")
    namespace.recheck()
    assert "disconnected a /staff socket: its session is no longer valid" in caplog.messages
    namespace.forget("a socket it never admitted")  # harmless
    assert namespace.admitted == {}


def test_a_join_after_a_frame_gets_it_encoded_for_its_room_once(web, wm, demo_layout):
    app, sio, hub = web
    frames = [wm.make_frame(demo_layout, "concourse"), wm.make_frame(demo_layout, "platform", dots=[[3.25, 4.75]])]
    hub.receive(wm.frames_message(demo_layout, frames))
    public = sio.server.namespace_handlers["/public"]
    clients = [sio.test_client(app, namespace="/public") for _ in range(2)]
    for client in clients:
        client.emit("join", {"station": "demo-station", "floor": "platform"}, namespace="/public", callback=True)
    first, second = (crowding_events(client) for client in clients)
    assert first == second and [f["floor"] for f in first[0]["floors"]] == ["platform"]
    assert first[0]["floors"][0]["dots"] == [[3.2, 4.8, 1]]
    room = "station:demo-station:floor:platform"
    encoded_once = public._prepared[room][1]
    sio.test_client(app, namespace="/public").emit(
        "join", {"station": "demo-station", "floor": "platform"}, namespace="/public", callback=True
    )
    assert public._prepared[room][1] is encoded_once, "the third join reuses the encoding too"
