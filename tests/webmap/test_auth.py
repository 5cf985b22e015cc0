import time
from dataclasses import replace

import pytest
from prometheus_client import generate_latest

from webmap import create_app


def test_pages_redirect_to_login_without_a_session(web):
    app, _, _ = web
    client = app.test_client()
    for path in ("/staff", "/operator", "/staff/api/stations/demo-station", "/staff/export.csv"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=")


def test_login_sets_a_secure_http_only_cookie_and_opens_the_dashboard(web, wm):
    app, _, _ = web
    client = app.test_client()
    response = wm.login(client, "sam", wm.STAFF_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("crowdmap_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/staff", base_url="https://localhost")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    # Staff may not use operator tools.
    assert client.get("/operator", base_url="https://localhost").status_code == 403


def test_operator_sees_both(web, wm):
    app, _, _ = web
    client = app.test_client()
    wm.login(client, "ola", wm.OPERATOR_PASSWORD)
    assert client.get("/operator", base_url="https://localhost").status_code == 200
    assert client.get("/staff", base_url="https://localhost").status_code == 200


def test_login_form_needs_its_csrf_token(web):
    app, _, _ = web
    client = app.test_client()
    response = client.post(
        "/login", data={"username": "sam", "password": "staff password 1"}, base_url="https://localhost"
    )
    assert response.status_code == 400
    assert client.get("/staff", base_url="https://localhost").status_code == 302


def test_wrong_password_then_rate_limited(web, wm, settings):
    app, _, _ = web
    client = app.test_client()
    for _ in range(settings.login_max_fails):
        assert wm.login(client, "sam", "not the password").status_code == 401
    limited = wm.login(client, "sam", wm.STAFF_PASSWORD)
    assert limited.status_code == 429, "even the right password waits once the limit is reached"
    assert int(limited.headers["Retry-After"]) > 0
    assert "Too many" in limited.get_data(as_text=True) or "多すぎ" in limited.get_data(as_text=True)
    staff_view = generate_latest(app.extensions["crowdmap_metrics"].registry).decode()
    assert 'crowdmap_web_logins_total{outcome="limited"} 1.0' in staff_view
    assert "crowdmap_web_logins" not in app.test_client().get("/metrics").get_data(as_text=True), "not for anyone"


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [("/operator", "/operator"), ("https://evil.example/x", "/staff"), ("//evil.example", "/staff"), ("", "/staff")],
)
def test_login_never_redirects_off_site(web, wm, next_url, expected):
    app, _, _ = web
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost")
    token = wm.csrf_from(page.get_data(as_text=True))
    response = client.post(
        f"/login?next={next_url}",
        data={"username": "ola", "password": wm.OPERATOR_PASSWORD, "csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )
    assert response.headers["Location"] == expected


def test_logout_needs_a_post_with_csrf(web, wm):
    app, _, _ = web
    client = app.test_client()
    wm.login(client, "sam", wm.STAFF_PASSWORD)
    assert client.get("/logout", base_url="https://localhost").status_code == 405
    assert client.post("/logout", base_url="https://localhost").status_code == 400
    page = client.get("/staff", base_url="https://localhost").get_data(as_text=True)
    token = wm.csrf_from(page)
    assert (
        client.post(
            "/logout",
            data={"csrf_token": token},
            base_url="https://localhost",
            headers={"Referer": "https://localhost/login"},
        ).status_code
        == 302
    )
    assert client.get("/staff", base_url="https://localhost").status_code == 302


def test_removed_user_loses_the_session(web, wm, users):
    app, _, _ = web
    client = app.test_client()
    wm.login(client, "sam", wm.STAFF_PASSWORD)
    users.remove("sam")
    assert client.get("/staff", base_url="https://localhost").status_code == 302


# ---- issue 11 item 9: logout, removal and password change end access ------------------------------


def https(client, method, path, **kwargs):
    headers = {"Referer": "https://localhost/staff", **kwargs.pop("headers", {})}
    return client.open(path, method=method, base_url="https://localhost", headers=headers, **kwargs)


def replay(app, captured):
    """A second browser (the attacker's) holding a copy of a captured session cookie."""
    thief = app.test_client()
    thief.set_cookie("crowdmap_session", captured, domain="localhost")
    return thief


def staff_doors(app, client, hub, token):
    """What a staff cookie opens: the dashboard, the CSV export and an acknowledgement."""
    alert_id = hub.alerts("demo-station")[0]["id"]
    return (
        https(client, "GET", "/staff").status_code,
        https(client, "GET", "/staff/export.csv?station=demo-station").status_code,
        https(client, "POST", f"/staff/alerts/demo-station/{alert_id}/ack", headers={"X-CSRFToken": token}).status_code,
    )


def crowded(wm, demo_layout):
    return wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse", levels={"ticket-gates": 3})])


def test_a_cookie_captured_before_logout_opens_nothing_after_it(web, wm, demo_layout):
    app, _, hub = web
    hub.receive(crowded(wm, demo_layout))
    staff = app.test_client()
    wm.login(staff, "sam", wm.STAFF_PASSWORD)
    token = wm.csrf_from(https(staff, "GET", "/staff").get_data(as_text=True))
    captured = staff.get_cookie("crowdmap_session", domain="localhost").value
    assert staff_doors(app, replay(app, captured), hub, token) == (200, 200, 200), "the copy works while logged in"
    assert https(staff, "POST", "/logout", data={"csrf_token": token}).status_code == 302
    assert staff_doors(app, replay(app, captured), hub, token) == (302, 302, 302)
    assert hub.alerts("demo-station")[0]["acknowledged_by"] == "sam", "from before the logout only"


@pytest.mark.parametrize("end", ["remove", "set_password", "end_sessions"])
def test_removal_and_password_change_end_every_session(web, wm, demo_layout, users, end):
    app, _, hub = web
    hub.receive(crowded(wm, demo_layout))
    staff = app.test_client()
    wm.login(staff, "sam", wm.STAFF_PASSWORD)
    token = wm.csrf_from(https(staff, "GET", "/staff").get_data(as_text=True))
    captured = staff.get_cookie("crowdmap_session", domain="localhost").value
    {"remove": lambda: users.remove("sam"), "set_password": lambda: users.set_password("sam", "a new password 1"),
     "end_sessions": lambda: users.end_sessions("sam")}[end]()  # fmt: skip
    assert staff_doors(app, staff, hub, token) == (302, 302, 302)
    assert staff_doors(app, replay(app, captured), hub, token) == (302, 302, 302)
    if end != "remove":
        password = "a new password 1" if end == "set_password" else wm.STAFF_PASSWORD
        assert wm.login(staff, "sam", password).status_code == 302, "a new login works"
        assert https(staff, "GET", "/staff").status_code == 200


def staff_socket(app, sio, http):
    # The handshake comes over HTTPS like the login, so the Secure cookie goes with it.
    client = sio.test_client(app, namespace="/staff", flask_test_client=http, headers={"X-Forwarded-Proto": "https"})
    assert client.is_connected("/staff")
    return client


def test_logout_disconnects_the_sessions_sockets_at_once(web, wm):
    app, sio, _ = web
    http = app.test_client()
    wm.login(http, "sam", wm.STAFF_PASSWORD)
    socket = staff_socket(app, sio, http)
    other = app.test_client()
    wm.login(other, "ola", wm.OPERATOR_PASSWORD)
    bystander = staff_socket(app, sio, other)
    token = wm.csrf_from(https(http, "GET", "/staff").get_data(as_text=True))
    https(http, "POST", "/logout", data={"csrf_token": token})
    assert not socket.is_connected("/staff")
    assert bystander.is_connected("/staff"), "another session's socket stays"


@pytest.mark.parametrize("end", ["remove", "set_password"])
def test_a_removed_users_open_socket_is_disconnected_at_the_next_check(web, wm, users, end):
    app, sio, _ = web
    http = app.test_client()
    wm.login(http, "sam", wm.STAFF_PASSWORD)
    socket = staff_socket(app, sio, http)
    namespace = sio.server.namespace_handlers["/staff"]
    assert namespace.recheck() == 0
    users.remove("sam") if end == "remove" else users.set_password("sam", "a new password 1")
    assert namespace.recheck() == 1
    assert not socket.is_connected("/staff")
    assert namespace.admitted == {}


# ---- issue 11 item 10 / issue 14: the limiter's keys, no lockout through the proxy ----------------


def login_from(app, wm, name, password, address, *, client=None, forwarded_for=None):
    client = client or app.test_client()
    headers = {"Referer": "https://localhost/login"}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", base_url="https://localhost", environ_base=environ, headers=headers)
    token = wm.csrf_from(page.get_data(as_text=True))
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token},
        base_url="https://localhost",
        environ_base=environ,
        headers=headers,
    )


def test_someone_elses_failures_on_a_name_do_not_block_its_right_password_elsewhere(web, wm, settings):
    app, _, _ = web
    for _ in range(settings.login_max_fails):
        assert login_from(app, wm, "sam", "guess guess 1", "203.0.113.7").status_code == 401
    assert login_from(app, wm, "sam", wm.STAFF_PASSWORD, "203.0.113.7").status_code == 429, "the attacker waits"
    assert login_from(app, wm, "sam", wm.STAFF_PASSWORD, "198.51.100.20").status_code == 302, "sam does not"


def test_many_addresses_guessing_one_name_are_limited_per_user(web, wm, settings):
    app, _, _ = web
    for i in range(settings.login_user_max_fails):
        assert login_from(app, wm, "sam", "guess guess 1", f"203.0.113.{i}").status_code == 401
    assert login_from(app, wm, "sam", wm.STAFF_PASSWORD, "198.51.100.20").status_code == 429
    assert login_from(app, wm, "ola", wm.OPERATOR_PASSWORD, "198.51.100.20").status_code == 302, "other names are not"


def test_a_known_device_logs_in_while_its_user_name_is_under_attack(web, wm, settings):
    app, _, _ = web
    device = app.test_client()
    assert login_from(app, wm, "sam", wm.STAFF_PASSWORD, "198.51.100.20", client=device).status_code == 302
    for i in range(settings.login_user_max_fails):
        login_from(app, wm, "sam", "guess guess 1", f"203.0.113.{i}")
    assert login_from(app, wm, "sam", wm.STAFF_PASSWORD, "198.51.100.21").status_code == 429, "an unknown device waits"
    assert login_from(app, wm, "sam", wm.STAFF_PASSWORD, "198.51.100.20", client=device).status_code == 302


def test_a_successful_login_resets_the_user_names_failures(web, wm, settings):
    app, _, _ = web
    almost = settings.login_user_max_fails - 1
    for i in range(almost):
        login_from(app, wm, "sam", "guess guess 1", f"203.0.113.{i}")
    assert login_from(app, wm, "sam", wm.STAFF_PASSWORD, "198.51.100.20").status_code == 302
    for i in range(almost):
        login_from(app, wm, "sam", "guess guess 1", f"203.0.114.{i}")
    assert login_from(app, wm, "sam", wm.STAFF_PASSWORD, "198.51.100.30").status_code == 302


@pytest.mark.parametrize("hops", [0, 1])
def test_client_addresses_come_from_the_configured_number_of_proxies(settings, demo_layout, users, wm, hops):
    app, _ = create_app(replace(settings, proxy_hops=hops), layouts=[demo_layout], users=users)
    proxy = "10.0.0.2"  # every request arrives from the proxy
    for i in range(settings.login_max_fails):
        # An attacker adds their own X-Forwarded-For entry in front of the proxy's.
        response = login_from(app, wm, "ola", "guess guess 1", proxy, forwarded_for=f"192.0.2.{i}, 203.0.113.7")
        assert response.status_code == 401
    attacker_again = login_from(app, wm, "ola", "guess guess 1", proxy, forwarded_for="192.0.2.99, 203.0.113.7")
    assert attacker_again.status_code == 429, "a forged entry never buys a fresh address"
    colleague = login_from(app, wm, "sam", wm.STAFF_PASSWORD, proxy, forwarded_for="198.51.100.20")
    # Without the proxy configured everyone shares the proxy's address; with it, the colleague logs in.
    assert colleague.status_code == (429 if hops == 0 else 302)


# ---- issue 14: no session fixation; issue 11 item 11: CR/LF in next ---------------------------------


def test_tokens_of_the_session_before_login_are_worthless_after_it(web, wm):
    """A planted (fixated) anonymous session: whoever planted it knows its CSRF token."""
    app, _, _ = web
    client = app.test_client()
    planted = wm.csrf_from(client.get("/login", base_url="https://localhost").get_data(as_text=True))
    assert wm.login(client, "sam", wm.STAFF_PASSWORD).status_code == 302
    assert https(client, "POST", "/logout", data={"csrf_token": planted}).status_code == 400
    assert https(client, "GET", "/staff").status_code == 200


@pytest.mark.parametrize(
    "next_url", ["/staff%0d%0aSet-Cookie:%20x=1", "/staff%0AX-Injected:%201", "/\\evil.example", "/%09/evil.example"]
)
def test_control_characters_and_backslashes_in_next_give_a_safe_redirect(web, wm, next_url):
    app, _, _ = web
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost")
    token = wm.csrf_from(page.get_data(as_text=True))
    response = client.post(
        "/login?next=" + next_url,
        data={"username": "sam", "password": wm.STAFF_PASSWORD, "csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff"
    assert "X-Injected" not in response.headers


def test_a_session_that_cannot_be_checked_is_disconnected(web, wm, users, caplog):
    """Fail closed: with the account store unreadable, a staff socket is not kept on trust."""
    app, sio, _ = web
    http = app.test_client()
    wm.login(http, "sam", wm.STAFF_PASSWORD)
    socket = staff_socket(app, sio, http)
    users.path.unlink()
    users.path.mkdir()  # now a folder: SQLite cannot open it
    with caplog.at_level("WARNING", logger="webmap.namespaces"):
        assert sio.server.namespace_handlers["/staff"].recheck() == 1
    assert not socket.is_connected("/staff")
    assert "could not check a /staff session (OperationalError); disconnecting it" in caplog.messages


# ---- what else the login relies on (issue 14: each rule held by a test) ----------------------------


def test_a_session_from_before_server_side_records_is_refused_not_a_crash(web, wm):
    """A cookie a previous version issued names the user but holds no session token."""
    app, _, _ = web
    client = app.test_client()
    wm.login(client, "sam", wm.STAFF_PASSWORD)
    with client.session_transaction(base_url="https://localhost") as session:
        del session["_crowdmap_session"]
    assert https(client, "GET", "/staff").status_code == 302


def test_a_cookie_replayed_from_another_browser_is_dropped(web, wm):
    app, _, _ = web
    staff = app.test_client()
    wm.login(staff, "sam", wm.STAFF_PASSWORD)
    captured = staff.get_cookie("crowdmap_session", domain="localhost").value
    thief = replay(app, captured)
    assert https(thief, "GET", "/staff", headers={"User-Agent": "another browser/1.0"}).status_code == 302
    assert https(staff, "GET", "/staff").status_code == 200


@pytest.mark.parametrize(("age_s", "status"), [(12 * 3600 - 120, 302), (12 * 3600 + 120, 400)])
def test_a_form_token_lives_as_long_as_the_session(web, wm, age_s, status):
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class Then(TimestampSigner):
        def get_timestamp(self):
            return int(time.time() - age_s)

    app, _, _ = web
    client = app.test_client()
    wm.login(client, "sam", wm.STAFF_PASSWORD)
    https(client, "GET", "/staff")  # the page puts the form token's secret in the session
    with client.session_transaction(base_url="https://localhost") as session:
        raw = session["csrf_token"]
    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token", signer=Then).dumps(raw)
    assert https(client, "POST", "/logout", data={"csrf_token": old}).status_code == status


def test_the_dashboard_names_the_user_and_role(web, wm):
    app, _, _ = web
    client = app.test_client()
    wm.login(client, "ola", wm.OPERATOR_PASSWORD)
    page = https(client, "GET", "/staff?lang=en").get_data(as_text=True)
    assert "ola (operator)" in page


@pytest.mark.parametrize(
    ("next_url", "location"),
    [("/staff?q=a b", "/staff?q=a%20b"), ("/staff%7F", "/staff"), ("/operator", "/operator"), ("operator", "/staff")],
)
def test_next_keeps_a_plain_path_and_nothing_else(web, wm, next_url, location):
    app, _, _ = web
    client = app.test_client()
    token = wm.csrf_from(client.get("/login", base_url="https://localhost").get_data(as_text=True))
    response = client.post(
        "/login",
        query_string={"next": next_url.replace("%7F", "\x7f")},
        data={"username": "ola", "password": wm.OPERATOR_PASSWORD, "csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )
    assert response.headers["Location"] == location


def sign_device(app, payload, *, salt="crowdmap-trusted-device", age_s=0.0):
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class Then(TimestampSigner):
        def get_timestamp(self):
            return int(time.time() - age_s)

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt, signer=Then).dumps(payload)


@pytest.mark.parametrize(
    ("make", "trusted"),
    [
        (lambda app: sign_device(app, {"u": "sam", "d": "dev-1"}), "dev-1"),
        (lambda app: sign_device(app, {"u": "sam", "d": "dev-1"}, age_s=89 * 86400), "dev-1"),
        (lambda app: sign_device(app, {"u": "sam", "d": "dev-1"}, age_s=91 * 86400), None),
        (lambda app: sign_device(app, {"u": "ola", "d": "dev-1"}), None),
        (lambda app: sign_device(app, {"u": "sam", "d": 7}), None),
        (lambda app: sign_device(app, ["sam", "dev-1"]), None),
        (lambda app: sign_device(app, {"u": "sam", "d": "dev-1"}, salt="cookie-session"), None),
        (lambda app: sign_device(app, {"u": "sam", "d": "dev-1"}, salt=None), None),
        (lambda app: "sam", None),
        (lambda app: "", None),
    ],
    ids=["valid", "89 days", "91 days", "another user's", "id not text", "not a mapping", "session salt",
         "no salt", "unsigned", "empty"],
)  # fmt: skip
def test_only_a_device_cookie_of_that_user_makes_a_device_trusted(web, make, trusted):
    from accounts.login import trusted_device

    app, _, _ = web
    with app.test_request_context():
        assert trusted_device(make(app), "sam") == trusted
