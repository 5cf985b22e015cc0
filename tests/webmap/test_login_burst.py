"""Issue 11 item 8, against the real gevent server: a burst of logins does not stall the map.

An argon2 check is CPU in C; on the server's one event-loop thread each one stopped every
websocket for its duration. The test measures counts, not times: how many join/ack round trips
a public client completes while a burst of logins is being checked. Each check is made slow on
purpose (the accounts' hashes carry argon2 parameters of about a second) so that a blocked loop
completes at most a round trip or two in that window, and a free one dozens.
"""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
import requests
import websocket
from argon2 import PasswordHasher

from accounts.users import UserStore

pytestmark = pytest.mark.slow
LOGINS = 4
SLOW_HASH = PasswordHasher(time_cost=24, memory_cost=65536, parallelism=1)  # about a second a check


@pytest.fixture(scope="module")
def live(tmp_path_factory, wm):
    data_dir = tmp_path_factory.mktemp("login-burst")
    UserStore(data_dir / "users.sqlite3", hasher=SLOW_HASH).add("sam", "the right password", "staff")
    # Plain HTTP on 127.0.0.1: this client (unlike a browser) sends no Secure cookie there.
    server = wm.LiveServer(wm.free_port(), data_dir, env={"CROWDMAP_COOKIE_SECURE": "0"})
    server.start()
    yield server
    server.stop()


def login_form(port: int) -> tuple[requests.Session, str]:
    browser = requests.Session()
    page = browser.get(f"http://127.0.0.1:{port}/login", timeout=30).text
    return browser, re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def test_frames_keep_flowing_while_logins_are_checked(live, wm, demo_layout):
    live.send(wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse", timestamp_s=time.time())]))
    ws = websocket.create_connection(f"ws://127.0.0.1:{live.port}/socket.io/?EIO=4&transport=websocket", timeout=30)
    assert ws.recv().startswith("0{")
    ws.send("40/public,")
    assert ws.recv().startswith("40/public,")
    forms = [login_form(live.port) for _ in range(LOGINS)]

    finished: list[int] = []

    def log_in(browser: requests.Session, token: str) -> None:
        response = browser.post(
            f"http://127.0.0.1:{live.port}/login",
            data={"username": "sam", "password": "a wrong password", "csrf_token": token},
            headers={"Referer": f"http://127.0.0.1:{live.port}/login"},
            timeout=120,
        )
        finished.append(response.status_code)

    threads = [threading.Thread(target=log_in, args=form) for form in forms]
    for thread in threads:
        thread.start()
    time.sleep(0.2)  # the requests have reached the server and their checks are running
    round_trips = frames = 0
    while not finished:  # until the first check is over: the loop is busy with hashes all along
        ws.send('42/public,0["join",{"station":"demo-station"}]')
        while True:  # the latest frame, then the acknowledgement
            packet = ws.recv()
            if packet == "2":
                ws.send("3")
            elif packet.startswith("42/public,"):
                frames += json.loads(packet[len("42/public,") :])[0] == "crowding"
            elif packet.startswith("43/public,0"):
                round_trips += 1
                break
    for thread in threads:
        thread.join(timeout=120)
    ws.close()
    assert finished == [401] * LOGINS, "each attempt was checked, none refused before its check"
    assert round_trips >= 10 and frames >= 10, f"{round_trips} round trips, {frames} frames during the logins"
