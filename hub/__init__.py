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
    RateLimited,
    Unauthorized,
)
from hub.jobs import Job
from hub.spreadsheets import InvalidFile, Sheet, WorkbookLimits, WorkbookTooLarge, read_workbook, workbook_bytes
from hub.store import Index, find_in, get_by_id

hookimpl = pluggy.HookimplMarker("hub")

__all__ = [
    "Conflict", "ContentBlocked", "Forbidden", "HubError", "Index", "InvalidFile", "InvalidInput", "Job", "NotFound",
    "RateLimited", "Setting", "Sheet", "Unauthorized", "WorkbookLimits", "WorkbookTooLarge", "find_in", "get_by_id",
    "hookimpl", "read_workbook", "workbook_bytes",
]
