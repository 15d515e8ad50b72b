"""The plugin manager: built once per hub from the ``hub.plugins`` entry points switched on in config."""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Awaitable, Iterable
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy
from pluggy import HookImpl

from hub import hookspecs
from hub.config import Config
from hub.errors import ConfigError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hub.plugins"


def available_plugins() -> dict[str, str]:
    """Name → module path of every plugin declared in the ``hub.plugins`` entry-point group."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def make_plugin_manager(config: Config) -> pluggy.PluginManager:
    """Load the enabled plugins, each after the plugins it ``requires``. A plugin that fails to load is logged by
    name and skipped, or raised when ``strict_plugins`` is on; a hook implementation that matches no spec, or a
    plugin whose required plugin is missing or switched off, fails start-up."""
    pm = pluggy.PluginManager("hub")
    pm.add_hookspecs(hookspecs)
    declared = available_plugins()
    enabled = config.plugins
    unknown = sorted(set(enabled) - set(declared))
    if unknown:
        raise ConfigError(f"unknown plugin(s) in config: {', '.join(unknown)} (known: {', '.join(sorted(declared))})")
    wanted = [(name, path) for name, path in sorted(declared.items()) if enabled.get(name, False)]
    wanted += [(path.rsplit(".", 1)[-1], path) for path in config.plugin_modules]
    loaded: dict[str, object] = {}
    for name, path in wanted:
        module = _import_plugin(name, path, strict=config.strict_plugins)
        if module is not None:
            loaded[name] = module
    for name, plugin in _in_dependency_order(loaded, {name for name, _ in wanted}, declared):
        pm.register(plugin, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConfigError(f"plugin hook error: {exc}") from None
    return pm


def requirements(plugin: object) -> tuple[str, ...]:
    """The plugins this one declares it needs: a module-level ``requires = ("roster",)``."""
    return tuple(getattr(plugin, "requires", ()))


def _in_dependency_order(loaded: dict[str, object], wanted: set[str],
                         declared: dict[str, str]) -> list[tuple[str, object]]:
    """The loaded plugins, each after the ones it requires (by name otherwise); a requirement that is not
    loaded fails with both names and the reason."""
    for name, module in loaded.items():
        for needed in requirements(module):
            if needed in loaded:
                continue
            if needed in wanted:
                why = "which failed to load"
            elif needed in declared:
                why = f"which is switched off (switch it on: [plugins] {needed} = true)"
            else:
                why = "which no installed package declares"
            raise ConfigError(f"plugin {name!r} requires plugin {needed!r}, {why}")
    ordered: list[tuple[str, object]] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if any(n == name for n, _ in ordered):
            return
        if name in visiting:
            raise ConfigError(f"plugins require each other in a cycle: {' -> '.join([*visiting, name])}")
        visiting.append(name)
        for needed in requirements(loaded[name]):
            visit(needed)
        visiting.pop()
        ordered.append((name, loaded[name]))

    for name in loaded:
        visit(name)
    return ordered


def _import_plugin(name: str, path: str, *, strict: bool) -> ModuleType | None:
    try:
        return importlib.import_module(path)
    except Exception as exc:
        if strict:
            raise ConfigError(f"plugin {name!r} ({path}) failed to load: {exc!r}") from exc
        log.exception("plugin %r (%s) failed to load; skipped", name, path)
        return None


def _implementations(pm: pluggy.PluginManager, hook_name: str, reverse: bool) -> list[HookImpl]:
    """A hook's implementations in registration order (required plugins first), or reversed: pluggy's own
    call order, last registered first."""
    impls = getattr(pm.hook, hook_name).get_hookimpls()
    return impls[::-1] if reverse else impls


def answers_by_plugin(pm: pluggy.PluginManager, hook_name: str, *, strict: bool = False,
                      **kwargs: Any) -> list[tuple[str, Any]]:
    """Each plugin's answer to a declaration hook (``register_*``, called at start-up) with the plugin's name,
    in registration order; no answer (None) left out. A plugin that raises is logged by name and left out while
    the others' answers count, or fails start-up naming it when ``strict``."""
    found = []
    for impl in _implementations(pm, hook_name, reverse=False):
        try:
            answer = impl.function(**{name: kwargs[name] for name in impl.argnames})
        except Exception as exc:
            if strict:
                raise ConfigError(f"plugin {impl.plugin_name!r} failed in {hook_name}: {exc!r}") from exc
            log.exception("plugin %r failed in %s; its answer is left out", impl.plugin_name, hook_name)
            continue
        if inspect.isawaitable(answer):
            _discard(answer)
            raise ConfigError(f"plugin {impl.plugin_name!r}: {hook_name} must not be async")
        if answer is not None:
            found.append((impl.plugin_name, answer))
    return found


def declared(pm: pluggy.PluginManager, hook_name: str, *, strict: bool = False, **kwargs: Any) -> list[Any]:
    """Every item the plugins declare through a ``register_*`` hook that returns a list, in one list."""
    return [item for _, answer in answers_by_plugin(pm, hook_name, strict=strict, **kwargs) for item in answer]


async def call_hook(pm: pluggy.PluginManager, hook_name: str, *, contained: bool = True, reverse: bool = False,
                    **kwargs: Any) -> list[tuple[str, Any]]:
    """Call a hook whose implementations may be sync or ``async``, one plugin after the other, and return each
    answer (awaited; None left out) with the plugin's name. ``contained``: a plugin that raises is logged by name
    and the others still run (fan-out and shutdown hooks); otherwise its error is raised with a note naming it
    (start-up hooks). Registration order, required plugins first; ``reverse`` for last registered first."""
    found = []
    for impl in _implementations(pm, hook_name, reverse=reverse):
        try:
            answer = impl.function(**{name: kwargs[name] for name in impl.argnames})
            if inspect.isawaitable(answer):
                answer = await answer
        except Exception as exc:
            if not contained:
                exc.add_note(f"in plugin {impl.plugin_name!r}, hook {hook_name}")
                raise
            log.exception("plugin %r failed in %s; the other plugins still run", impl.plugin_name, hook_name)
            continue
        if answer is not None:
            found.append((impl.plugin_name, answer))
    return found


def _discard(awaitable: Awaitable[Any]) -> None:
    """Close a coroutine that will never be awaited, so it warns nobody."""
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()


def route_prefixes(name: str, plugin: object) -> tuple[str, ...]:
    """Where a plugin's URL patterns may live: ``/api/<plugin>/``, ``/plugins/<plugin>/`` (its static files) and
    the extra prefixes it declares in a module-level ``route_prefixes = ("/api/greeter/",)``."""
    return (f"/api/{name}/", f"/plugins/{name}/", *getattr(plugin, "route_prefixes", ()))


def checked_routes(pm: pluggy.PluginManager, core_patterns: Iterable[str], found: list[tuple[str, list[tuple]]],
                   *, strict: bool) -> list[tuple]:
    """The plugins' URL rules, each under one of its plugin's prefixes (outside them: logged and left out, or
    a start-up failure when ``strict``). A pattern that the core or another plugin has already fails start-up
    naming both: Tornado would silently serve only the first."""
    owners = dict.fromkeys(core_patterns, "the core")
    rules = []
    for name, plugin_rules in found:
        prefixes = route_prefixes(name, pm.get_plugin(name))
        for rule in plugin_rules:
            pattern = rule[0]
            if not any(pattern.startswith(p) or pattern == p.rstrip("/") for p in prefixes):
                message = f"plugin {name!r} route {pattern!r} is outside its prefixes ({', '.join(prefixes)})"
                if strict:
                    raise ConfigError(message)
                log.error("%s; left out", message)
                continue
            if pattern in owners:
                raise ConfigError(f"route {pattern!r} of plugin {name!r} is already registered by {owners[pattern]}")
            owners[pattern] = f"plugin {name!r}"
            rules.append(rule)
    return rules
