"""家庭好医 hub core. Plugins import from here only: ``hookimpl``, ``Hub`` (the type of every hook's ``hub``
argument), the error types and the helpers below."""

from __future__ import annotations

import pluggy

from hub.app import Hub
from hub.audit import SYSTEM, RequestContext
from hub.channels import Channel, ChannelError, Outcome
from hub.config import Setting
from hub.errors import (
    Conflict,
    ContentBlocked,
    Forbidden,
    HubError,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthorized,
)
from hub.events import Event, EventError, EventType, Subscriber
from hub.jobs import Job
from hub.locks import Lease, LockBusy
from hub.schema import (
    PAGE,
    SCREEN,
    SCREEN_BY_SERVICE,
    Body,
    Bool,
    Code,
    Day,
    Enum,
    Field,
    Id,
    Int,
    ListOf,
    Moment,
    Number,
    Phone,
    Search,
    Secret,
    Text,
    screen_fields,
)
from hub.screens import Page, Screens
from hub.spreadsheets import InvalidFile, Sheet, WorkbookLimits, WorkbookTooLarge, read_workbook, workbook_bytes
from hub.store import Index, find_in, get_by_id

hookimpl = pluggy.HookimplMarker("hub")

__all__ = [
    # declared input (hub.schema): a handler's ``body_schema`` and ``query_schema``
    "PAGE",
    "SCREEN",
    "SCREEN_BY_SERVICE",
    "SYSTEM",
    "Body",
    "Bool",
    "Channel",
    "ChannelError",
    "Code",
    "Conflict",
    "ContentBlocked",
    "Day",
    "Enum",
    "Event",
    "EventError",
    "EventType",
    "Field",
    "Forbidden",
    "Hub",
    "HubError",
    "Id",
    "Index",
    "Int",
    "InvalidFile",
    "InvalidInput",
    "Job",
    "Lease",
    "ListOf",
    "LockBusy",
    "Moment",
    "NotFound",
    "Number",
    "Outcome",
    "Page",
    "Phone",
    "RateLimited",
    "RequestContext",
    "Screens",
    "Search",
    "Secret",
    "Setting",
    "Sheet",
    "Subscriber",
    "Text",
    "Unauthorized",
    "WorkbookLimits",
    "WorkbookTooLarge",
    "find_in",
    "get_by_id",
    "hookimpl",
    "read_workbook",
    "screen_fields",
    "workbook_bytes",
]
