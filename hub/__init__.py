"""家庭好医 hub core. Plugins import from here only: ``hookimpl``, the error types and the helpers below."""

from __future__ import annotations

import pluggy

from hub.config import Setting
from hub.errors import (
    Conflict,
    ContentBlocked,
    Forbidden,
    HubError,
    InvalidInput,
    NotFound,
    Unauthorized,
)
from hub.events import Event, EventError, EventType, Subscriber
from hub.jobs import Job
from hub.locks import Lease, LockBusy
from hub.store import Index, find_in, get_by_id

hookimpl = pluggy.HookimplMarker("hub")

__all__ = [
    "Conflict", "ContentBlocked", "Event", "EventError", "EventType", "Forbidden", "HubError", "Index",
    "InvalidInput", "Job", "Lease", "LockBusy", "NotFound", "Setting", "Subscriber", "Unauthorized", "find_in",
    "get_by_id", "hookimpl",
]
