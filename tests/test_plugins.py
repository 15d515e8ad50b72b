"""Plugins: loaded from the entry-point group, switched per plugin, misspelled hooks and broken plugins fail
start-up by name, and the worked example of docs/plugins.md works end to end."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from hub import hookspecs
from hub.config import load_config
from hub.errors import ConfigError
from hub.plugins import available_plugins, make_plugin_manager
from tests.support import SECRET, Client, api, eventually

ROOT = Path(__file__).resolve().parent.parent


def config_with(**overrides):
    return load_config(None, {"HUB_SECRET_KEY": SECRET}, overrides=overrides)


def test_builtin_plugins_come_from_the_entry_point_group() -> None:
    declared = available_plugins()
    assert declared["signing"] == "plugins.signing" and "example_greeter" in declared


def test_plugins_switched_on_and_off_per_plugin() -> None:
    pm = make_plugin_manager(config_with(plugins={"signing": True, "example_greeter": False}))
    assert [name for name, _ in pm.list_name_plugin()] == ["signing"]
    pm = make_plugin_manager(config_with(plugins={"signing": False}))
    assert pm.list_name_plugin() == []


def test_unknown_plugin_name_in_config_fails() -> None:
    with pytest.raises(ConfigError, match="sms_typo"):
        make_plugin_manager(config_with(plugins={"sms_typo": True}))


def test_misspelled_hook_fails_start_up() -> None:
    with pytest.raises(ConfigError, match="register_rouets"):
        make_plugin_manager(config_with(plugin_modules=["tests.plugins.misspelled"]))


def test_broken_plugin_is_named_and_fails_in_strict_mode() -> None:
    with pytest.raises(ConfigError, match="broken"):
        make_plugin_manager(config_with(plugin_modules=["tests.plugins.broken"], strict_plugins=True))
    pm = make_plugin_manager(config_with(plugin_modules=["tests.plugins.broken"], strict_plugins=False))
    assert pm.list_name_plugin() == []


def test_core_imports_no_plugin() -> None:
    for path in (ROOT / "hub").glob("*.py"):
        assert not re.search(r"^\s*(from|import) plugins", path.read_text(), re.M), path


def test_every_hook_is_documented_with_its_signature() -> None:
    guide = (ROOT / "docs" / "plugins.md").read_text()
    for name, func in inspect.getmembers(hookspecs, inspect.isfunction):
        if hasattr(func, "hub_spec"):
            signature = f"{name}{inspect.signature(func)}".replace("'", "")
            assert signature in guide, f"docs/plugins.md lacks `{signature}`"


async def test_worked_example_plugin_end_to_end(make_hub) -> None:
    from tests.conftest import add_users
    running = await make_hub(plugins={"signing": False, "example_greeter": True},
                             **{"example_greeter.greeting": "欢迎咨询"})
    users = await add_users(running)
    resident = await Client.connect(running.ws_url, users["resident"]["token"])
    status, conv = await api(running.url, "POST", "/api/consultations", users["resident"]["token"],
                             {"doctor_id": users["doctor"]["_id"]})
    notice = await resident.expect("notice")  # from the plugin's event subscriber
    assert notice["kind"] == "greeting" and notice["body"] == "欢迎咨询" and notice["data"]["conv"] == conv["id"]
    status, _greeting = await api(running.url, "POST", "/api/greeter/greetings", users["doctor"]["token"],
                                 {"to": users["resident"]["_id"], "text": "注意按时服药"})
    assert status == 201
    notice = await resident.expect("notice")
    assert notice["body"] == "注意按时服药"
    status, _ = await api(running.url, "GET", "/api/audit?action=greeting.create", users["sysadmin"]["token"])
    status, doc = await api(running.url, "GET", "/api/openapi.json")
    assert "/api/greeter/greetings" in doc["paths"]
    stats = await eventually(lambda: running.hub.db.example_greeter_stats.find_one({"_id": "greetings"}),
                             lambda found: bool(found) and found["total"] == 1)  # its job runs every second
    assert stats and stats["total"] == 1


async def test_switching_a_plugin_off_removes_its_routes(make_hub) -> None:
    running = await make_hub(plugins={"signing": False, "example_greeter": False})
    status, data = await api(running.url, "POST", "/api/greeter/greetings", None, {})
    assert status == 404 and data["error"]["code"] == "not_found"
