"""Configuration: declared once, validated at start-up, secrets from the environment only and never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import CORE_SETTINGS, load_config
from hub.errors import ConfigError

SECRET = {"HUB_SECRET_KEY": "s" * 40}


def test_defaults_file_and_environment_in_that_order(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text('port = 9000\nws_rate_per_sec = 3\n[plugins]\nsigning = false\n')
    config = load_config(path, {**SECRET, "HUB_PORT": "9100"})
    assert config.port == 9100 and config.ws_rate_per_sec == 3.0 and config.plugins == {"signing": False}
    assert config.ws_max_frame_bytes == 64 * 1024


@pytest.mark.parametrize(("env", "message"), [
    ({}, "HUB_SECRET_KEY"),
    ({**SECRET, "HUB_PORT": "eighty"}, "port"),
    ({**SECRET, "HUB_PORT": "70000"}, "port"),
    ({**SECRET, "HUB_STRICT_PLUGINS": "maybe"}, "strict_plugins"),
    ({**SECRET, "HUB_LOG_LEVEL": "LOUD"}, "log_level"),
    ({**SECRET, "HUB_WS_RATE_PER_SEC": "0"}, "ws_rate_per_sec"),
])
def test_bad_values_fail_with_a_clear_message(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(None, env)


def test_unknown_setting_in_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="prot"):
        load_config(path, SECRET)


def test_secrets_only_from_environment_and_hidden(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text('secret_key = "' + "x" * 40 + '"\n')
    with pytest.raises(ConfigError, match="environment"):
        load_config(path, SECRET)
    config = load_config(None, {**SECRET, "HUB_REDIS_URL": "redis://:pw@127.0.0.1:1/0"})
    assert "s" * 40 not in repr(config) and "pw@" not in repr(config)


def test_readme_lists_every_setting() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    missing = [s.env_name for s in CORE_SETTINGS if s.env_name not in readme]
    assert not missing, f"README.md does not list {missing}"
