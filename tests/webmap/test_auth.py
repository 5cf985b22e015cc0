import pytest


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
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'crowdmap_web_logins_total{outcome="limited"} 1.0' in metrics


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
