"""Configuration: every setting declared once, read from ``config/*.toml`` and ``HUB_*`` environment variables.

A setting is looked up, lowest priority first, in its declared default, the TOML file, then the environment
(``HUB_<NAME>`` upper-cased, dots as underscores). Secrets come only from the environment and are never printed.
Plugins declare their own settings through the ``register_settings`` hook; theirs live under ``<plugin>.<name>``
(TOML table ``[plugin.<plugin>]``, environment ``HUB_<PLUGIN>_<NAME>``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.addresses import parse_networks
from hub.errors import ConfigError
from hub.origins import normalise_origin

DEFAULT_CONFIG_FILE = Path(__file__).resolve().parent.parent / "config" / "hub.toml"


@dataclass(frozen=True)
class Setting:
    """One configuration value: its name, type, default and a line of help, and what values it may take:
    ``choices``, or bounds ``least``/``most`` (inclusive) and ``above`` (exclusive, for "positive" floats).
    Every value, the default too, is checked at start-up."""

    name: str
    type: type
    default: Any
    help: str
    secret: bool = False
    choices: tuple[str, ...] = ()
    least: float | None = None
    most: float | None = None
    above: float | None = None

    @property
    def env_name(self) -> str:
        return "HUB_" + self.name.upper().replace(".", "_")

    def check(self, value: Any) -> Any:
        """The value, or ConfigError naming the setting when it is outside its choices or bounds."""
        if self.choices and value not in self.choices:
            raise ConfigError(f"setting {self.name} must be one of {', '.join(self.choices)}, got {value!r}")
        wrong = ((self.least is not None and value < self.least and f"at least {self.least:g}")
                 or (self.most is not None and value > self.most and f"at most {self.most:g}")
                 or (self.above is not None and value <= self.above and f"above {self.above:g}"))
        if wrong:
            raise ConfigError(f"setting {self.name} ({self.env_name}) must be {wrong}, got {value!r}")
        return value


CORE_SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, "127.0.0.1", "Address the hub listens on."),
    Setting("port", int, 8888, "HTTP/WebSocket port (0 picks a free one).", least=0, most=65535),
    Setting("public_url", str, "",
            "URL people open (behind a TLS proxy, its https address); when set, the hub's own origin for /ws. "
            "Derived from host and port when empty."),
    Setting("node_id", str, "", "Name of this hub process in logs and presence; random when empty."),
    Setting("mongo_uri", str, "", "MongoDB URI. Empty: start the embedded SecantusDB server.", secret=True),
    Setting("mongo_db", str, "jthy", "Database name."),
    Setting("embedded_db_path", str, ".data/db", "Folder of the embedded database (kept across restarts)."),
    Setting("embedded_db_port", int, 0, "Port of the embedded database (0 picks a free one).", least=0, most=65535),
    Setting("redis_url", str, "", "Redis URL for several hub processes; empty: in-process broker.", secret=True),
    Setting("secret_key", str, "", "Key that signs access tokens (at least 32 characters).", secret=True),
    Setting("token_ttl_secs", int, 12 * 3600, "Lifetime of an access token.", least=1),
    Setting("password_time_cost", int, 3, "Argon2id time cost for password hashes.", least=1),
    Setting("password_memory_kib", int, 65536, "Argon2id memory cost (KiB) for password hashes.", least=8),
    Setting("login_max_failures", int, 5, "Failed logins per account and address before throttling.", least=1),
    Setting("login_lockout_secs", int, 900, "How long a throttled login stays refused.", least=0),
    Setting("audit_security_window_secs", float, 60.0,
            "Security events (failed logins, lockouts, 403s) of one action and user or address within this time "
            "are counted into one audit record.", least=0),
    Setting("allowed_origins", list, [], "Extra origins allowed to open /ws (the hub's own is always allowed)."),
    Setting("trusted_proxies", list, [],
            "Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For/-Proto are believed; none: "
            "the peer address is the client."),
    Setting("ws_max_frame_bytes", int, 64 * 1024, "Largest WebSocket frame accepted from a client.", least=1024),
    Setting("ws_auth_timeout_secs", float, 10.0, "Time a new socket has to send its auth frame.", above=0),
    Setting("ws_heartbeat_secs", int, 10,
            "Heartbeat interval told to clients (they give up a socket silent for two); idle sockets are pinged.",
            least=1),
    Setting("ws_rate_per_sec", float, 20.0,
            "Frames per second a user may send, across all their sockets (sustained).", above=0),
    Setting("ws_rate_burst", int, 60, "Frames a user may send in a burst, across all their sockets.", least=1),
    Setting("ws_rate_strikes", int, 20,
            "Frames refused as rate_limited in a row before the socket is closed (4008).", least=1),
    Setting("ws_max_sockets_per_user", int, 5,
            "Sockets one user may hold open on one hub process; one more is refused with 4008.", least=1),
    Setting("ws_send_queue_frames", int, 1000,
            "Frames buffered for a slow reader before it is closed (4008).", least=1),
    Setting("ws_send_queue_bytes", int, 4 * 1024 * 1024,
            "Bytes buffered for a slow reader before it is closed.", least=1),
    Setting("recall_window_secs", int, 120, "How long after sending a sender may recall a message.", least=0),
    Setting("sync_max_messages", int, 500,
            "Most messages one sync returns per conversation before truncating.", least=1),
    Setting("write_batch_max", int, 500, "Most messages grouped into one database write.", least=1),
    Setting("words_compact_secs", float, 3.0,
            "Quiet time after a sensitive-word change before a full rebuild folds the changes in.", least=0),
    Setting("events_lease_secs", float, 10.0,
            "Lease of a subscriber's dispatcher: how soon another process takes over after one dies.", above=0),
    Setting("events_poll_secs", float, 1.0, "Longest wait of an idle event dispatcher before it looks again.", above=0),
    Setting("events_retry_base_secs", float, 0.5, "First pause before a failed subscriber is called again.", above=0),
    Setting("events_retry_max_secs", float, 60.0, "Longest pause between calls of a failing subscriber.", above=0),
    Setting("media_max_bytes", int, 10 * 1024 * 1024,
            "Largest media upload (an image or a PDF), refused from its headers.", above=0),
    Setting("media_max_pixels", int, 40_000_000,
            "Most pixels of an uploaded image, checked from its header before it is decoded.", above=0),
    Setting("notify_chain", list, [],
            "Channels tried in order for a notice to a user with no live socket, e.g. wechat,sms (registered by "
            "plugins); empty: the notice waits in the inbox for sync."),
    Setting("notify_chain_by_kind", list, [],
            "Chains for particular notice kinds, each 'kind=channel>channel' ('alert=' for none); other kinds "
            "use notify_chain."),
    Setting("notify_send_timeout_secs", float, 10.0,
            "Longest wait for one channel's send; past it the send counts as failed and the next is tried.",
            above=0),
    Setting("shutdown_grace_secs", float, 5.0, "Time in-flight writes get to finish on shutdown.", least=0),
    Setting("seed_demo", bool, False, "Seed demo accounts and data on first start."),
    Setting("log_format", str, "text", "Log format.", choices=("text", "json")),
    Setting("log_level", str, "INFO", "Log level.", choices=("DEBUG", "INFO", "WARNING", "ERROR")),
    Setting("plugins", dict, {}, "Plugins switched on or off by name, e.g. {signing = true}."),
    Setting("plugin_modules", list, [], "Extra plugin modules to load by dotted path (tests, local plugins)."),
    Setting("strict_plugins", bool, False, "Fail start-up when a plugin fails to load (on in tests)."),
)


class Config(Mapping[str, Any]):
    """Validated settings; read them as ``config["name"]`` or ``config.name``. Secrets are hidden in repr."""

    def __init__(self, settings: Iterable[Setting], values: dict[str, Any],
                 sources: tuple[Mapping[str, Any], Mapping[str, str]] = ({}, {})) -> None:
        self._settings = {s.name: s for s in settings}
        self._values = values
        self._sources = sources

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        shown = {k: ("***" if self._settings[k].secret and v else v) for k, v in self._values.items()}
        return f"Config({shown})"

    @property
    def settings(self) -> list[Setting]:
        return list(self._settings.values())

    def extended(self, settings: Iterable[Setting]) -> Config:
        """A new Config with more (plugin) settings resolved from the same file and environment."""
        extra = [s for s in settings if s.name not in self._settings]
        values = {**self._values, **resolve(extra, *self._sources)}
        return Config([*self._settings.values(), *extra], values, self._sources)


def read_file(path: Path | None) -> dict[str, Any]:
    """The TOML file's values flattened to dotted names (``[plugin.signing] x`` → ``signing.x``)."""
    if path is None or not path.exists():
        return {}
    with path.open("rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "plugin" and isinstance(value, dict):
            for plugin, table in value.items():
                for name, v in table.items():
                    flat[f"{plugin}.{name}"] = v
        else:
            flat[key] = value
    return flat


def coerce(setting: Setting, raw: Any) -> Any:
    """Turn a raw value (TOML value or environment string) into the setting's type, or raise ConfigError."""
    kind = setting.type
    try:
        if isinstance(raw, str) and kind is bool:
            lowered = raw.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(raw)
            value: Any = lowered in {"1", "true", "yes", "on"}
        elif isinstance(raw, str) and kind is list:
            value = [part.strip() for part in raw.split(",") if part.strip()]
        elif isinstance(raw, str) and kind is dict:
            value = {}
            for part in filter(None, (p.strip() for p in raw.split(","))):
                name, _, flag = part.partition("=")
                value[name.strip()] = coerce(Setting(name, bool, True, ""), flag or "true")
        elif kind is float and isinstance(raw, int | float | str) and not isinstance(raw, bool):
            value = float(raw)
        elif kind is int and isinstance(raw, int | str) and not isinstance(raw, bool):
            value = int(raw)
        elif isinstance(raw, kind):
            value = raw
        else:
            raise TypeError(type(raw).__name__)
    except (TypeError, ValueError):
        shown = "***" if setting.secret else repr(raw)
        raise ConfigError(f"setting {setting.name} ({setting.env_name}) must be {kind.__name__}, got {shown}") \
            from None
    return value


def resolve(settings: Iterable[Setting], file_values: Mapping[str, Any],
            environ: Mapping[str, str]) -> dict[str, Any]:
    """Each setting's value: environment over file over default. Secrets never come from a file."""
    values: dict[str, Any] = {}
    for setting in settings:
        if setting.name in file_values and setting.secret:
            raise ConfigError(f"setting {setting.name} is a secret: set {setting.env_name} in the environment")
        if setting.env_name in environ:
            values[setting.name] = setting.check(coerce(setting, environ[setting.env_name]))
        elif setting.name in file_values:
            values[setting.name] = setting.check(coerce(setting, file_values[setting.name]))
        else:
            values[setting.name] = setting.check(setting.default)
    return values


def load_config(path: Path | None = DEFAULT_CONFIG_FILE, environ: Mapping[str, str] | None = None,
                overrides: Mapping[str, Any] | None = None) -> Config:
    """Read and validate the core settings; raise ConfigError with a clear message when one is wrong.

    ``overrides`` (name → value, secrets included) win over file and environment: tests use them instead of
    touching the process environment.
    """
    env = dict(os.environ if environ is None else environ)
    file_values = read_file(path)
    known = {s.name for s in CORE_SETTINGS}
    unknown = [k for k in file_values if k not in known and "." not in k]
    if unknown:
        raise ConfigError(f"unknown setting(s) in {path}: {', '.join(sorted(unknown))}")
    for name, value in (overrides or {}).items():
        env["HUB_" + name.upper().replace(".", "_")] = value if isinstance(value, str) else _env_text(value)
    values = resolve(CORE_SETTINGS, file_values, env)
    validate_core(values)
    return Config(CORE_SETTINGS, values, (file_values, env))


def _env_text(value: Any) -> str:
    """How an override looks as an environment string, so it goes through the same coercion."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return ",".join(f"{k}={_env_text(v)}" for k, v in value.items())
    return str(value)


def validate_core(values: dict[str, Any]) -> None:
    """Cross-field checks that a type alone cannot express."""
    if len(values["secret_key"]) < 32:
        raise ConfigError("HUB_SECRET_KEY must be set in the environment to at least 32 characters")
    # A URL without its scheme would match no page's origin, and every browser's socket would be refused.
    for origin in ([values["public_url"]] if values["public_url"] else []) + values["allowed_origins"]:
        if normalise_origin(origin) is None:
            raise ConfigError(f"{origin!r} (public_url, allowed_origins) must be an http:// or https:// URL")
    parse_networks(values["trusted_proxies"])
