"""Every hook a plugin can implement. Hooks are called with keyword arguments; take only the ones you need.

Naming: ``register_*`` returns things for the core to collect, ``*_startup``/``*_shutdown`` run once,
``can_*`` answers a question. Every hook is listed, with its signature, in ``docs/plugins.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from hub.app import Hub
    from hub.channels import Channel
    from hub.config import Setting
    from hub.events import EventType, Subscriber
    from hub.screens import Screens

hookspec = pluggy.HookspecMarker("hub")


@hookspec
def register_settings() -> list[Setting]:
    """Return the plugin's settings, each named ``<plugin>.<name>`` (``signing.term_years``)."""


@hookspec
def register_routes(hub: Hub) -> list[tuple]:
    """Return Tornado URL rules ``(pattern, HandlerClass, kwargs)``, under ``/api/<plugin>/`` (checked at start-up)."""


@hookspec
def register_indexes() -> list[Any]:
    """Return ``hub.store.Index`` declarations for the plugin's collections; they are ensured at start-up."""


@hookspec
def register_notice_kinds() -> list[str]:
    """Return the notice kinds the plugin sends (besides the core's reminder, mass, alert, consultation, system)."""


@hookspec
def register_jobs(hub: Hub) -> list[Any]:
    """Return ``hub.jobs.Job`` scheduled jobs (an async function run every ``interval_secs`` on one node)."""


@hookspec
def register_events() -> list[EventType]:
    """Return ``hub.EventType(name, fields, doc)`` for each event the plugin emits; emitting or subscribing to
    an undeclared event is an error."""


@hookspec
def register_subscribers(hub: Hub) -> list[Subscriber]:
    """Return ``hub.Subscriber(name, events, handle)`` durable subscriptions; ``handle`` gets each ``Event``
    after the subscriber's cursor, at least once and in order (be idempotent by ``event.id``)."""


@hookspec
def register_channels(hub: Hub) -> list[Channel]:
    """Return notification channels: objects with a ``name`` and ``async send(user, notice) -> hub.Outcome``,
    tried in the order of ``notify_chain`` for users with no live socket."""


@hookspec
def register_screens(hub: Hub) -> Screens:
    """Return ``hub.Screens(static_dir, pages)``: the plugin's console and H5 pages (``hub.Page``), each an ES
    module under ``static_dir``, which the core serves at ``/plugins/<plugin>/static/``."""


@hookspec
def can_consult(hub: Hub, resident: dict, doctor: dict) -> bool | None:
    """Answer whether the resident may open a consultation with the doctor: True, False (veto) or None.
    May be ``async``. With no plugin answering True, the answer is no."""


@hookspec
def consultable_doctors(hub: Hub, resident: dict) -> list[str] | None:
    """Return the user ids of the doctors the resident may consult (their 家庭医生), or None for no opinion.
    May be ``async``. The core lists the union of the answers, keeping only those ``can_consult`` allows."""


@hookspec
async def seed_demo(hub: Hub, accounts: dict[str, dict]) -> None:
    """Add the plugin's demo data on the first start of the embedded default; ``accounts`` maps demo logins
    to their user documents."""


@hookspec
async def hub_startup(hub: Hub) -> None:
    """Run once after the hub is built, before it serves requests."""


@hookspec
async def hub_shutdown(hub: Hub) -> None:
    """Run once when the hub stops."""
