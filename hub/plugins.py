"""The plugin manager: built once per hub from the ``hub.plugins`` entry points switched on in config."""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from hub import hookspecs
from hub.config import Config
from hub.errors import ConfigError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hub.plugins"


def available_plugins() -> dict[str, str]:
    """Name → module path of every plugin declared in the ``hub.plugins`` entry-point group."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def make_plugin_manager(config: Config) -> pluggy.PluginManager:
    """Load the enabled plugins. A plugin that fails to load is logged by name and skipped, or raised when
    ``strict_plugins`` is on; a hook implementation that matches no spec fails start-up."""
    pm = pluggy.PluginManager("hub")
    pm.add_hookspecs(hookspecs)
    declared = available_plugins()
    enabled = config.plugins
    unknown = sorted(set(enabled) - set(declared))
    if unknown:
        raise ConfigError(f"unknown plugin(s) in config: {', '.join(unknown)} (known: {', '.join(sorted(declared))})")
    wanted = [(name, path) for name, path in sorted(declared.items()) if enabled.get(name, False)]
    wanted += [(path.rsplit(".", 1)[-1], path) for path in config.plugin_modules]
    for name, path in wanted:
        module = _import_plugin(name, path, strict=config.strict_plugins)
        if module is not None:
            pm.register(module, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConfigError(f"plugin hook error: {exc}") from None
    return pm


def _import_plugin(name: str, path: str, *, strict: bool) -> ModuleType | None:
    try:
        return importlib.import_module(path)
    except Exception as exc:
        if strict:
            raise ConfigError(f"plugin {name!r} ({path}) failed to load: {exc!r}") from exc
        log.exception("plugin %r (%s) failed to load; skipped", name, path)
        return None



def answers_by_plugin(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Each plugin's answer to one hook with the plugin's name, for declarations the core keeps per owner
    (events, subscribers). Called with keyword arguments like pluggy does; no answer (None) left out."""
    found = []
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        answer = impl.function(**{name: kwargs[name] for name in impl.argnames})
        if answer is not None:
            found.append((impl.plugin_name, answer))
    return found
