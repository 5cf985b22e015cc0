import stat
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import pytest

from webmap.settings import WebSettings


@pytest.mark.parametrize(
    ("env", "field", "value", "expectation"),
    [
        ({}, "port", 8000, does_not_raise()),
        ({"CROWDMAP_PORT": "9001"}, "port", 9001, does_not_raise()),
        ({"CROWDMAP_PORT": "http"}, None, None, pytest.raises(ValueError, match="CROWDMAP_PORT must be an integer")),
        ({"CROWDMAP_PORT": "70000"}, None, None, pytest.raises(ValueError, match=r"CROWDMAP_PORT must lie in")),
        ({"CROWDMAP_COOKIE_SECURE": "0"}, "cookie_secure", False, does_not_raise()),
        ({"CROWDMAP_COOKIE_SECURE": "maybe"}, None, None, pytest.raises(ValueError, match="CROWDMAP_COOKIE_SECURE")),
        ({"CROWDMAP_ASYNC_MODE": "eventlet"}, None, None, pytest.raises(ValueError, match="async_mode must be one of")),
        (
            {"CROWDMAP_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0"},
            "message_queue",
            "redis://127.0.0.1:6379/0",
            does_not_raise(),
        ),
        ({"CROWDMAP_MESSAGE_QUEUE": "amqp://x"}, None, None, pytest.raises(ValueError, match="redis://")),
        ({"CROWDMAP_SECRET_KEY": "short"}, None, None, pytest.raises(ValueError, match="at least 16 characters")),
        ({"CROWDMAP_ALERT_LEVEL": "3"}, "alert_level", 3, does_not_raise()),
        ({"CROWDMAP_ALERT_LEVEL": "0"}, None, None, pytest.raises(ValueError, match="CROWDMAP_ALERT_LEVEL")),
    ],
)
def test_settings_from_env(env, field, value, expectation):
    with expectation:
        settings = WebSettings.from_env(env)
        assert getattr(settings, field) == value


def test_generated_secret_is_kept_and_reused(tmp_path: Path):
    settings = WebSettings(data_dir=tmp_path)
    first = settings.with_secret()
    second = WebSettings(data_dir=tmp_path).with_secret()
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    mode = (tmp_path / "web-secret-key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_given_secret_is_never_written(tmp_path: Path):
    settings = WebSettings(data_dir=tmp_path, secret_key="x" * 32).with_secret()
    assert settings.secret_key == "x" * 32
    assert not (tmp_path / "web-secret-key").exists()
