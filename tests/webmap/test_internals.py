"""The contracts of the private library parts the fan-out uses, and the public paths that replace them.

A failure here after an upgrade names the library and its version: read webmap/internals.py's
table, then either adapt the module to the new version or leave the private path off (the app
does so by itself when a contract fails, and keeps delivering through the public paths).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import engineio
import pytest
import socketio
from engineio import packet
from engineio.socket import Socket

from webmap import WebSettings, create_app, hub_of, internals

ROOT = Path(__file__).resolve().parents[2]


def test_every_contract_holds_for_the_installed_libraries():
    problems = internals.contract_problems()
    assert problems == (), "\n".join(problems)
    assert internals.usable()
    for library, version in internals.TESTED_WITH.items():
        assert internals.installed(library) == version, (
            f"{library} is now {internals.installed(library)}; the private parts were checked against {version}: "
            "rerun this file, then update TESTED_WITH and the table in webmap/internals.py"
        )


def test_a_broken_contract_names_the_library_and_its_version(monkeypatch):
    class RenamedQueue(Socket):
        """What an upgrade that renamed Socket.queue would look like."""

        def __init__(self, server, sid):
            super().__init__(server, sid)
            self.outbox = self.queue
            del self.queue

    monkeypatch.setattr(engineio.socket, "Socket", RenamedQueue)
    internals.contract_problems.cache_clear()
    try:
        [problem] = internals.contract_problems()
        assert problem.startswith(f"python-engineio {internals.installed('python-engineio')} (contract written for")
        assert "AttributeError" in problem
        assert not internals.usable()
    finally:
        monkeypatch.undo()
        internals.contract_problems.cache_clear()
    assert internals.usable()


def test_backlog_counts_a_real_clients_queue_and_is_none_when_unreadable():
    server = socketio.Server(async_mode="threading")
    sock = Socket(server.eio, "client-1")
    server.eio.sockets["client-1"] = sock
    assert internals.backlog(server, "client-1") == 0
    sock.send(packet.Packet(packet.MESSAGE, "a"))
    sock.send(packet.Packet(packet.MESSAGE, "b"))
    assert internals.backlog(server, "client-1") == 2
    assert internals.backlog(server, "gone") == 0
    del sock.queue  # as after an upgrade that moved the queue
    assert internals.backlog(server, "client-1") is None


def test_clear_client_does_what_basic_disconnect_does_after_its_scan():
    manager = socketio.Manager()
    manager.callbacks["sid-1"] = {0: None}
    manager.pending_connect["/public"] = ["sid-1", "sid-2"]
    manager.pending_disconnect["/public"] = ["sid-1"]
    assert internals.clear_client(manager, "sid-1", "/public")
    assert manager.callbacks == {}
    assert manager.pending_connect == {"/public": ["sid-2"]}
    assert manager.pending_disconnect == {}

    class Upgraded:
        def __init__(self):
            self.callbacks = {}  # but no pending_* tables any more

    assert internals.clear_client(Upgraded(), "sid-1", "/public") is False


def test_undecodable_messages_reach_the_handler_instead_of_a_traceback():
    server = socketio.Server(async_mode="threading")
    seen = []
    assert internals.catch_undecodable_messages(server, lambda sid, error: seen.append((sid, type(error).__name__)))
    handler = server.eio.handlers["message"]
    for garbage in ("garbage", '2/public,["join",{', "2/public," + "[" * 50_000 + "]" * 50_000):
        handler("eio-1", garbage)
    assert seen == [("eio-1", "ValueError"), ("eio-1", "JSONDecodeError"), ("eio-1", "RecursionError")]


def test_no_module_but_internals_touches_the_fenced_private_parts():
    fenced = {"_send_eio_packet", "_handle_eio_message", "raw_write", "sockets", "pending_connect",
              "pending_disconnect", "callbacks", "_set_socketio", "_get_socket"}  # fmt: skip
    problems = []
    for path in sorted((ROOT / "webmap").rglob("*.py")):
        if path.name == "internals.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in fenced:
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno} uses .{node.attr}")
    assert problems == []


# ---- the public paths deliver -----------------------------------------------------------------


def polling_client(app, encoding="json"):
    http = app.test_client()
    handshake = http.get("/socket.io/?EIO=4&transport=polling").get_data(as_text=True)
    sid = json.loads(handshake[1:])["sid"]
    url = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    http.post(url, data="40/public,")
    assert http.get(url).get_data(as_text=True).startswith("40/public,")
    http.post(url, data='42/public,0["join",' + json.dumps({"station": "demo-station", "encoding": encoding}) + "]")
    assert '"ok":true' in http.get(url).get_data(as_text=True)
    return http, url


@pytest.mark.parametrize("private", [True, False])
def test_without_the_private_parts_every_frame_still_reaches_every_client(tmp_path, demo_layout, users, wm, private):
    settings = WebSettings(data_dir=tmp_path, async_mode="threading", max_backlog=2, private_library_access=private)
    app, sio = create_app(settings, layouts=[demo_layout], users=users, clock=lambda: wm.NOW)
    assert sio.server.manager.private is private
    hub = hub_of(app)
    clients = [polling_client(app), polling_client(app, "compact")]
    for i in range(5):
        frame = wm.make_frame(demo_layout, "platform", dots=[[i + 0.25, 1.25]], timestamp_s=wm.NOW + i)
        hub.receive(wm.frames_message(demo_layout, [frame], timestamp_s=wm.NOW + i))
    for http, url in clients:
        body = http.get(url).get_data(as_text=True)
        # The private path bounds each client's backlog (2 here); the public one queues every frame.
        assert body.count('"crowding"') == (2 if private else 5)
    assert hub.metrics.frames_dropped._value.get() == (6 if private else 0)
