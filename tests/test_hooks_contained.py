"""Plugin hooks are contained: a plugin failing in a fan-out or shutdown hook is logged by name and the others
still run; routes live under their plugin's prefixes, once each; settings hold to their bounds; a plugin that
requires another fails start-up when that one is missing or switched off."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from hub.config import load_config
from hub.errors import ConfigError
from hub.plugins import make_plugin_manager
from tests.support import SECRET, api

WITNESS = "tests.plugins.hooks_witness"
FAILING = "tests.plugins.hooks_failing"


def config_with(**overrides: Any):
    return load_config(None, {"HUB_SECRET_KEY": SECRET}, overrides=overrides)


# -- fan-out and shutdown hooks --------------------------------------------------------------------------------

async def test_a_plugin_failing_in_can_consult_is_logged_and_the_others_answers_count(make_hub, caplog) -> None:
    running = await make_hub(plugin_modules=["tests.plugins.consult_allow", FAILING])
    resident = {"_id": "r1", "test_doctors": ["d1"]}
    with caplog.at_level(logging.ERROR, logger="hub.plugins"):
        assert await running.hub.may_consult(resident, {"_id": "d1"}) is True
        assert await running.hub.consultable_doctor_ids(resident) == ["d1"]
    failures = [r.getMessage() for r in caplog.records if r.name == "hub.plugins"]
    assert any("'hooks_failing'" in m and "can_consult" in m for m in failures)
    assert any("'hooks_failing'" in m and "consultable_doctors" in m for m in failures)


async def test_a_plugin_failing_in_hub_shutdown_stops_no_other_plugin(make_hub, caplog) -> None:
    # Shutdown runs last registered first: hooks_failing (listed last) fails before hooks_witness is called.
    running = await make_hub(plugin_modules=[WITNESS, FAILING])
    assert running.hub.plugin_state["hooks_witness"] == {"started": True}
    with caplog.at_level(logging.ERROR, logger="hub.plugins"):
        await running.stop()
    assert running.hub.plugin_state["hooks_witness"]["shut_down"] is True
    assert any("'hooks_failing'" in r.getMessage() and "hub_shutdown" in r.getMessage() for r in caplog.records)


async def test_a_plugin_failing_in_a_declaration_hook_is_left_out_and_the_others_count(make_hub, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="hub.plugins"):
        running = await make_hub(strict_plugins=False, plugin_modules=["tests.plugins.declare_failing", WITNESS])
    assert any("'declare_failing'" in r.getMessage() and "register_notice_kinds" in r.getMessage()
               for r in caplog.records)
    assert "witness" in running.hub.notices.kinds


async def test_a_plugin_failing_in_a_declaration_hook_fails_strict_start_up_by_name(make_hub) -> None:
    with pytest.raises(ConfigError, match="'declare_failing' failed in register_notice_kinds"):
        await make_hub(plugin_modules=["tests.plugins.declare_failing", WITNESS])


async def test_a_plugin_failing_in_hub_startup_fails_start_up_with_its_name(make_hub) -> None:
    with pytest.raises(RuntimeError, match="on purpose") as failure:
        await make_hub(plugin_modules=[WITNESS, "tests.plugins.startup_failing"])
    assert "in plugin 'startup_failing', hook hub_startup" in failure.value.__notes__


# -- routes ----------------------------------------------------------------------------------------------------

async def test_a_route_outside_the_plugins_prefix_fails_strict_start_up(make_hub) -> None:
    with pytest.raises(ConfigError, match=r"'route_outside' route '/api/elsewhere/outside' is outside its prefix"):
        await make_hub(plugin_modules=["tests.plugins.route_outside"])


async def test_a_route_outside_the_prefix_is_left_out_when_not_strict(make_hub, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="hub.plugins"):
        running = await make_hub(strict_plugins=False, plugin_modules=["tests.plugins.route_outside"])
    assert any("/api/elsewhere/outside" in r.getMessage() for r in caplog.records)
    status, body = await api(running.url, "GET", "/api/route_outside/inside")
    assert (status, body) == (200, {"inside": True})
    status, body = await api(running.url, "GET", "/api/elsewhere/outside")
    assert status == 404 and body["error"]["code"] == "not_found"


async def test_a_plugin_pattern_the_core_has_fails_start_up_naming_both(make_hub) -> None:
    with pytest.raises(ConfigError, match=r"'/api/auth/token' of plugin 'route_core_clash' .* by the core"):
        await make_hub(strict_plugins=False, plugin_modules=["tests.plugins.route_core_clash"])


async def test_the_same_pattern_from_two_plugins_fails_start_up_naming_both(make_hub) -> None:
    with pytest.raises(ConfigError, match=r"'/api/twins/same' of plugin 'route_twin_b' .* by plugin 'route_twin_a'"):
        await make_hub(plugin_modules=["tests.plugins.route_twin_a", "tests.plugins.route_twin_b"])


async def test_the_built_in_plugins_routes_pass_the_check(make_hub) -> None:
    running = await make_hub(plugins={"signing": True, "example_greeter": True})
    patterns = [rule[0] for rule in running.hub.plugin_routes]
    assert "/api/greeter/greetings" in patterns and "/api/signing/residents" in patterns


# -- settings bounds -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "value", "message"), [
    ("port", 70000, "setting port .* must be at most 65535"),
    ("embedded_db_port", -1, "setting embedded_db_port .* must be at least 0"),
    ("ws_max_frame_bytes", 100, "setting ws_max_frame_bytes .* must be at least 1024"),
    ("ws_rate_per_sec", 0, "setting ws_rate_per_sec .* must be above 0"),
    ("events_poll_secs", -1, "setting events_poll_secs .* must be above 0"),
    ("write_batch_max", 0, "setting write_batch_max .* must be at least 1"),
])
def test_a_core_setting_out_of_bounds_fails_naming_it(name: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_with(**{name: value})


def test_a_positive_float_may_be_small() -> None:
    assert config_with(ws_rate_per_sec=0.0001).ws_rate_per_sec == 0.0001


def test_a_plugin_setting_out_of_bounds_fails_naming_it() -> None:
    pm = make_plugin_manager(config_with(plugin_modules=["tests.plugins.bounded"]))
    settings = [s for found in pm.hook.register_settings() for s in found]
    assert config_with(plugin_modules=[]).extended(settings)["bounded.batch"] == 50
    with pytest.raises(ConfigError, match=r"setting bounded.batch \(HUB_BOUNDED_BATCH\) must be at most 100, got 500"):
        config_with(**{"bounded.batch": 500}).extended(settings)
    with pytest.raises(ConfigError, match=r"setting bounded\.mode must be one of fast, careful"):
        config_with(**{"bounded.mode": "reckless"}).extended(settings)


async def test_a_plugin_setting_out_of_bounds_fails_hub_start_up(make_hub) -> None:
    with pytest.raises(ConfigError, match=r"bounded\.batch"):
        await make_hub(plugin_modules=["tests.plugins.bounded"], **{"bounded.batch": 0})


# -- requirements ----------------------------------------------------------------------------------------------

def test_a_plugin_requiring_a_missing_plugin_fails_naming_both() -> None:
    with pytest.raises(ConfigError, match="plugin 'needs_missing' requires plugin 'no_such_plugin', which no"):
        make_plugin_manager(config_with(plugin_modules=["tests.plugins.needs_missing"]))


def test_a_plugin_requiring_a_switched_off_plugin_fails_naming_both() -> None:
    with pytest.raises(ConfigError, match="plugin 'needs_greeter' requires plugin 'example_greeter', which is "
                                          "switched off"):
        make_plugin_manager(config_with(plugins={"example_greeter": False},
                                        plugin_modules=["tests.plugins.needs_greeter"]))


def test_a_plugin_requiring_one_that_failed_to_load_fails_naming_both() -> None:
    with pytest.raises(ConfigError, match="plugin 'needs_broken' requires plugin 'broken', which failed to load"):
        make_plugin_manager(config_with(plugin_modules=["tests.plugins.broken", "tests.plugins.needs_broken"]))


async def test_a_required_plugin_is_registered_and_started_first(make_hub) -> None:
    running = await make_hub(plugins={"example_greeter": True}, plugin_modules=["tests.plugins.needs_greeter"])
    names = [name for name, _ in running.hub.pm.list_name_plugin()]
    assert names.index("example_greeter") < names.index("needs_greeter")
    assert running.hub.plugin_state["needs_greeter"] == {"greeting": "您好"}
