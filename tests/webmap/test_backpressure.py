"""A client that stops reading gets at most ``max_backlog`` frames queued, the rest are dropped.

Engine.IO long-polling through the real server code (no sockets needed): a client that never
polls again is exactly a client too slow to take its frames.
"""

import json

import pytest

from webmap import WebSettings, create_app, hub_of


def polling_client(app):
    """Open an Engine.IO polling session, connect to /public and join demo-station."""
    http = app.test_client()
    handshake = http.get("/socket.io/?EIO=4&transport=polling").get_data(as_text=True)
    sid = json.loads(handshake[1:])["sid"]
    url = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    assert http.post(url, data="40/public,").status_code == 200
    assert http.get(url).get_data(as_text=True).startswith("40/public,")
    assert http.post(url, data='42/public,0["join",{"station":"demo-station"}]').status_code == 200
    assert '"ok":true' in http.get(url).get_data(as_text=True)
    return http, url


@pytest.mark.parametrize("max_backlog", [1, 3])
def test_slow_client_drops_frames_instead_of_queueing(tmp_path, demo_layout, users, wm, max_backlog):
    settings = WebSettings(data_dir=tmp_path, async_mode="threading", max_backlog=max_backlog)
    app, _sio = create_app(settings, layouts=[demo_layout], users=users, clock=lambda: wm.NOW)
    hub = hub_of(app)
    http, url = polling_client(app)
    frames = 10
    for i in range(frames):
        frame = wm.make_frame(demo_layout, "platform", dots=[[i + 0.25, 1.25]], timestamp_s=wm.NOW + i)
        hub.receive(wm.frames_message(demo_layout, [frame], timestamp_s=wm.NOW + i))
    dropped = hub.metrics.frames_dropped._value.get()
    assert dropped == frames - max_backlog
    # The client gets the frames that were queued, and the next frame once it caught up.
    body = http.get(url).get_data(as_text=True)
    assert body.count('"crowding"') == max_backlog
    last = wm.make_frame(demo_layout, "platform", dots=[[99.25, 1.25]], timestamp_s=wm.NOW + 99)
    hub.receive(wm.frames_message(demo_layout, [last], timestamp_s=wm.NOW + 99))
    assert "[99.2,1.2,1]" in http.get(url).get_data(as_text=True)
    assert hub.metrics.frames_dropped._value.get() == dropped
