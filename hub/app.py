"""The application factory: builds every long-lived object once and hands it to handlers and plugins."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

import pluggy
import tornado.web
from pymongo import AsyncMongoClient

from hub import accounts, alerts, audit, consultations, events, locks, media, messaging, notices, sensitive_words, store
from hub import roster as roster_owner
from hub.accounts import Accounts
from hub.addresses import TrustedProxies
from hub.alerts import Alerts
from hub.audit import AuditLog
from hub.broker import Broker, make_broker
from hub.channels import EVENTS as CHANNEL_EVENTS
from hub.channels import INDEXES as CHANNEL_INDEXES
from hub.channels import Channels, parse_chains
from hub.config import Config
from hub.consultations import Consultations
from hub.errors import ContentBlocked, Unauthorized
from hub.events import DispatchSettings, EventLog
from hub.jobs import JobRunner
from hub.locks import Locks, SharedCache, make_backend
from hub.media import MediaStore
from hub.messaging import Messaging
from hub.notices import Notices
from hub.plugins import answers_by_plugin, call_hook, checked_routes, declared, make_plugin_manager
from hub.roster import Roster
from hub.screening import ScreenResult
from hub.screens import ScreenTable
from hub.sensitive_words import SensitiveWords
from hub.sessions import WS_1001_GOING_AWAY, SessionRegistry, UserLimits
from hub.socket_leases import make_socket_leases

log = logging.getLogger(__name__)

CHANNEL_DELIVER = "deliver"
CHANNEL_CONTROL = "control"


class Hub:
    """Everything a request, a socket or a plugin needs, built once per process.

    Plugins get this object in their hooks and may use: ``config``, ``db``, ``accounts``, ``audit``,
    ``notices``, ``channels``, ``events``, ``locks``, ``cache``, ``media``, ``publish``, ``screen``, ``consultations``,
    ``roster`` (the typed ``hub.roster.Roster``), ``sessions`` (read-only) and ``plugin_state[<plugin name>]``
    for the plugin's own long-lived objects.
    """

    def __init__(self, config: Config, client: AsyncMongoClient, broker: Broker, pm: pluggy.PluginManager) -> None:
        self.config = config
        self.client = client
        self.db = store.database(client, config.mongo_db)
        self.broker = broker
        self.pm = pm
        self.node_id = config.node_id or "node-" + secrets.token_hex(3)
        self.sessions = SessionRegistry(UserLimits(
            max_sockets=config.ws_max_sockets_per_user, rate_per_sec=config.ws_rate_per_sec,
            burst=config.ws_rate_burst, max_strikes=config.ws_rate_strikes))
        self.socket_leases = make_socket_leases(getattr(broker, "client", None), self.node_id,
                                                config.ws_max_sockets_per_user)
        self.proxies = TrustedProxies(config.trusted_proxies)
        backend = make_backend(self.db, self.node_id, config.redis_url)
        self.locks = Locks(backend)
        self.cache = SharedCache(backend, self.locks)
        self.jobs = JobRunner(self.locks)
        self.events = EventLog(self.db, self.locks, node_id=self.node_id, batch_max=config.write_batch_max,
                               settings=DispatchSettings(config.events_lease_secs, config.events_poll_secs,
                                                         config.events_retry_base_secs,
                                                         config.events_retry_max_secs),
                               announce=self._announce_events)
        self.audit = AuditLog(self.db, config.audit_security_window_secs)
        self.accounts = Accounts(self.db, config.secret_key, config.token_ttl_secs,
                                 time_cost=config.password_time_cost, memory_kib=config.password_memory_kib,
                                 max_failures=config.login_max_failures, lockout_secs=config.login_lockout_secs,
                                 audit=self.audit,
                                 announce=lambda payload: self.broker.publish(CHANNEL_CONTROL, payload))
        kinds = [*notices.CORE_KINDS, *declared(pm, "register_notice_kinds", strict=config.strict_plugins)]
        self.channels = Channels(self.db, self.events, presence=self.present_users,
                                 default_chain=config.notify_chain,
                                 chains_by_kind=parse_chains(config.notify_chain_by_kind),
                                 send_timeout_secs=config.notify_send_timeout_secs, node_id=self.node_id)
        self.notices = Notices(self.db, publish=self.publish, kinds=kinds, batch_max=config.write_batch_max,
                               router=self.channels)
        self.words = SensitiveWords(self.db, self.node_id,
                                    announce=lambda payload: self.broker.publish(CHANNEL_CONTROL, payload),
                                    compact_after_secs=config.words_compact_secs)
        self.alerts = Alerts(self.db, self.notices)
        self.roster = Roster(self.db, self.accounts)
        self.consultations = Consultations(self.db, may_consult=self.may_consult,
                                           list_doctors=self.consultable_doctor_ids, audit=self.audit,
                                           notices=self.notices, events=self.events, publish=self.publish,
                                           announce=self.announce_conversation_changed)
        self.media = MediaStore(self.db, max_bytes=config.media_max_bytes, max_pixels=config.media_max_pixels)
        self.messaging = Messaging(self.db, self.consultations, self.media, publish=self.publish,
                                   check=self.check_text, raise_alert=self.alerts.raise_alert,
                                   batch_max=config.write_batch_max, recall_window_secs=config.recall_window_secs,
                                   sync_max_messages=config.sync_max_messages)
        self.shutting_down = False
        # Per-plugin objects that live as long as this hub (running imports, caches): plugins keep them here,
        # under their own name, never in module globals.
        self.plugin_state: dict[str, dict[str, Any]] = {}
        # The plugins' URL rules, checked at start-up (each under its plugin's prefixes, no pattern twice).
        self.plugin_routes: list[tuple] = []
        # The console's and the H5 app's pages (the core's and each plugin's ``register_screens``).
        self.screens = ScreenTable([])

    # -- what plugins and services call ----------------------------------------------------------------------

    async def publish(self, user_ids: list[str], frame: dict[str, Any]) -> None:
        """The one way to reach sockets: deliver a frame to every live session of these users, on any process."""
        text = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
        await self.broker.publish(CHANNEL_DELIVER, {"users": list(user_ids), "frame": text})

    async def present_users(self, user_ids: list[str]) -> set[str]:
        """Those of these users with a live socket on any hub process: this process's sessions, and the socket
        leases in Redis for the others (a lease outlives a crashed process by up to its length)."""
        here = {u for u in user_ids if self.sessions.of_user(u)}
        elsewhere = [u for u in user_ids if u not in here]
        return here | (await self.socket_leases.present(elsewhere) if elsewhere else set())

    def check_text(self, text: str) -> ScreenResult:
        """Screen text with the engine in use; no side effects."""
        return self.words.engine.screen(text)

    async def screen(self, text: str, user: dict[str, Any], where: dict[str, Any]) -> ScreenResult:
        """Screen user text before it is stored or delivered: raises ContentBlocked for a ``block`` word, stores
        and pushes an alert for ``alert``/``block`` hits, returns the result (use ``result.text``: masked)."""
        result = self.check_text(text)
        if result.action in ("alert", "block"):
            await self.alerts.raise_alert(result, text, user, where)
        if result.action == "block":
            raise ContentBlocked(words=sorted({h.word for h in result.hits}))
        return result

    async def _answers(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """The plugins' answers to a question, in pluggy's order; no opinion (None) left out, and a plugin that
        fails is logged by name while the others' answers count."""
        return [answer for _, answer in await call_hook(self.pm, hook_name, reverse=True, **kwargs)]

    async def may_consult(self, resident: dict[str, Any], doctor: dict[str, Any]) -> bool:
        """Asked of the plugins: yes only when one says yes and none says no."""
        answers = await self._answers("can_consult", hub=self, resident=resident, doctor=doctor)
        return bool(answers) and all(a is True for a in answers)

    async def consultable_doctor_ids(self, resident: dict[str, Any]) -> list[str]:
        """Asked of the plugins: every doctor id any of them lists for the resident, first answer first, once
        each. Only a candidate list: ``Consultations.doctors_for`` keeps those ``may_consult`` allows."""
        answers = await self._answers("consultable_doctors", hub=self, resident=resident)
        return list(dict.fromkeys(i for ids in answers if isinstance(ids, list | tuple) for i in ids
                                  if isinstance(i, str) and i))

    async def announce_conversation_changed(self, conv_id: str) -> None:
        await self.broker.publish(CHANNEL_CONTROL, {"kind": "conv_changed", "conv": conv_id})

    async def _announce_events(self, seq: int) -> None:
        await self.broker.publish(CHANNEL_CONTROL, {"kind": "events_appended", "seq": seq})

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def _on_broker_event(self, channel: str, payload: dict[str, Any]) -> None:
        if channel == CHANNEL_DELIVER:
            self.sessions.deliver(payload["users"], payload["frame"])
        elif channel == CHANNEL_CONTROL and payload.get("kind") == "words_changed":
            self.words.on_change(int(payload["version"]), payload.get("delta"))
        elif channel == CHANNEL_CONTROL and payload.get("kind") == "conv_changed":
            self.consultations.forget(payload["conv"])
        elif channel == CHANNEL_CONTROL and payload.get("kind") == accounts.TOKENS_REVOKED:
            self.sessions.close_revoked(payload["user"], int(payload["version"]), Unauthorized.close_code)
        elif channel == CHANNEL_CONTROL and payload.get("kind") == "events_appended":
            self.events.wake()

    async def start(self) -> None:
        self.plugin_routes = self._checked_routes()
        self.screens = ScreenTable(answers_by_plugin(self.pm, "register_screens", strict=self.config.strict_plugins,
                                                     hub=self))
        strict = self.config.strict_plugins
        indexes = [*accounts.INDEXES, *audit.INDEXES, *consultations.INDEXES, *messaging.INDEXES,
                   *notices.INDEXES, *alerts.INDEXES, *sensitive_words.INDEXES, *locks.INDEXES, *events.INDEXES,
                   *media.INDEXES, *roster_owner.INDEXES, *CHANNEL_INDEXES]
        indexes += declared(self.pm, "register_indexes", strict=strict)
        await store.ensure_indexes(self.db, indexes)
        await self.broker.start(self._on_broker_event)
        await self.socket_leases.start(lambda: [(s.user_id, s.id) for s in self.sessions.all()])
        await self.words.start()
        self._declare_events()
        await call_hook(self.pm, "hub_startup", contained=False, hub=self)
        self.events.start()
        self.jobs.start(declared(self.pm, "register_jobs", strict=strict, hub=self))
        log.info("hub %s started with plugins: %s", self.node_id,
                 ", ".join(name for name, _ in self.pm.list_name_plugin()) or "none")

    def _checked_routes(self) -> list[tuple]:
        from handlers import routes  # the handlers package imports hub, never the reverse at import time

        core = [rule[0] for rule in [*routes.core_routes(self), *routes.fallback_routes(self)]]
        found = answers_by_plugin(self.pm, "register_routes", strict=self.config.strict_plugins, hub=self)
        return checked_routes(self.pm, core, found, strict=self.config.strict_plugins)

    def _declare_events(self) -> None:
        """Every event the core and the plugins emit, the channels, then the subscriptions: an undeclared name,
        or a chain naming an unknown channel, fails here."""
        self.events.declare("hub", [*consultations.EVENTS, *CHANNEL_EVENTS])
        strict = self.config.strict_plugins
        for owner, types in answers_by_plugin(self.pm, "register_events", strict=strict):
            self.events.declare(owner, types)
        for owner, found in answers_by_plugin(self.pm, "register_channels", strict=strict, hub=self):
            self.channels.register(owner, found)
        self.channels.check_chains(self.notices.kinds)
        self.events.subscribe("hub", self.channels.subscriber())
        for owner, subscribers in answers_by_plugin(self.pm, "register_subscribers", strict=strict, hub=self):
            for subscriber in subscribers:
                self.events.subscribe(owner, subscriber)

    async def stop(self) -> None:
        """Graceful shutdown: refuse new work, finish in-flight writes, then close sockets with 1001."""
        self.shutting_down = True
        try:
            await asyncio.wait_for(asyncio.gather(self.messaging.log.drain(), self.notices.log.drain(),
                                                  self.events.log.drain()), self.config.shutdown_grace_secs)
            await self.messaging.flush_summaries()
        except TimeoutError:
            log.warning("in-flight writes did not finish within %.1f s", self.config.shutdown_grace_secs)
        for session in self.sessions.all():
            session.close(WS_1001_GOING_AWAY, "server shutting down")
        await self.jobs.stop()
        await self.events.stop()
        await call_hook(self.pm, "hub_shutdown", reverse=True, hub=self)  # dependents first; one failing stops none
        await self.words.stop()
        await self.socket_leases.close()
        await self.locks.close()
        await self.broker.close()
        self.media.close()
        await self.client.close()


async def create_hub(config: Config) -> Hub:
    """Load plugins and their settings, connect, ensure indexes and start background work."""
    pm = make_plugin_manager(config)
    config = config.extended(declared(pm, "register_settings", strict=config.strict_plugins))
    client = store.connect(config.mongo_uri)
    hub = Hub(config, client, make_broker(config.redis_url), pm)
    try:
        await hub.start()
    except BaseException:  # a start-up check failed: leave no task or connection of a half-built hub behind
        await hub.stop()
        raise
    return hub


def make_app(hub: Hub) -> tornado.web.Application:
    """The Tornado application: the core's URL tables, then each plugin's."""
    from handlers import routes, security  # the handlers package imports hub, never the reverse at import time

    rules = routes.core_routes(hub)
    for pattern, handler, *rest in hub.plugin_routes:
        rules.append((pattern, handler, {"hub": hub, **(rest[0] if rest else {})}))
    rules += routes.screen_routes(hub)
    rules += routes.fallback_routes(hub)
    app = tornado.web.Application(
        rules, hub=hub, websocket_max_message_size=hub.config.ws_max_frame_bytes,
        websocket_ping_interval=hub.config.ws_heartbeat_secs,
        websocket_ping_timeout=hub.config.ws_heartbeat_secs,
        static_path=str(routes.STATIC_DIR), static_handler_class=routes.StaticFiles,
        xsrf_cookies=False, compress_response=True,
        log_function=routes.log_request)
    app.add_transform(security.SecurityHeaders)
    return app
