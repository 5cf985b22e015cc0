"""The shared login's own rules; the flows are tested through both apps (tests/webmap, tests/calibrator)."""

import pytest
from flask import Flask

from accounts.login import LoginPolicy, install
from accounts.settings import AccountSettings
from accounts.users import UserStore


def test_install_needs_a_secret_key(tmp_path):
    policy = LoginPolicy(
        role="staff", landing_endpoint="x", logout_endpoint="x", render=lambda *_: "", device_cookie="d"
    )
    with pytest.raises(
        ValueError, match=r"^install needs settings with a secret key: call settings.with_secret\(\) first$"
    ):
        install(
            Flask(__name__),
            AccountSettings(data_dir=tmp_path),
            policy=policy,
            users=UserStore(tmp_path / "users.sqlite3"),
            session_cookie="s",
            same_site="Lax",
            lifetime_s=60,
        )
