"""Services and home visits (履约): the service catalogue, service records, follow-ups planned by the national
schedules, and service requests — the first increment of issue 10 (backend only; GPS check-in, photos,
reminders and screens come next).

Modules: ``followups`` (the declarative schedule table and the pure planner), ``catalogue`` (record types, the
package cycle), ``forms`` (declared input, the follow-up forms of the six populations), ``plans`` (stored plans,
re-planning under the resident's lock), ``records`` (service records, edits, corrections), ``requests``
(申请服务), ``notices``, ``events``, ``handlers``. It reads the roster through ``hub.roster`` and a resident's
signing in force through the signing plugin's service, which it requires.
"""

from __future__ import annotations

from typing import Any

from hub import Hub, Index, Setting, Subscriber, hookimpl
from plugins.services import events, notices
from plugins.services.plans import Plans
from plugins.services.records import Records
from plugins.services.requests import Requests

requires = ("signing",)

INDEXES = [
    Index("services_records", [("resident_id", 1), ("_id", -1)], "resident_id"),
    Index("services_records", [("team_id", 1), ("_id", -1)], "team_id"),
    Index("services_records", [("institution_id", 1), ("_id", -1)], "institution_id"),
    Index("services_plans", [("team_id", 1), ("next_latest", 1)], "team_next"),
    Index("services_requests", [("account_id", 1), ("_id", -1)], "account_id"),
    Index("services_requests", [("team_id", 1), ("status", 1), ("_id", -1)], "team_status"),
]


class Services:
    """The plugin's services, built once per hub (``service(hub)``)."""

    def __init__(self, hub: Any) -> None:
        self.plans = Plans(hub)
        self.records = Records(hub, self.plans)
        self.requests = Requests(hub)


def service(hub: Any) -> Services:
    state = hub.plugin_state.setdefault("services", {})
    if "services" not in state:
        state["services"] = Services(hub)
    return state["services"]


@hookimpl
def register_settings() -> list[Setting]:
    return [
        Setting("services.edit_window_mins", int, 1440,
                "Minutes after recording that its author may edit a service record; afterwards only correction "
                "entries change it.", least=1, most=10080),
        Setting("services.resident_lock_wait_secs", float, 5.0,
                "Longest wait for a resident's lock before a record or re-planning is refused (503).",
                least=0, most=60),
        Setting("services.resident_lock_ttl_secs", float, 30.0,
                "Life of a resident's lock: a holder that died frees the resident after this long.",
                least=1, most=600),
    ]


@hookimpl
def register_notice_kinds() -> list[str]:
    return [notices.NOTICE_KIND]


@hookimpl
def register_indexes() -> list[Index]:
    return INDEXES


@hookimpl
def register_events() -> list[Any]:
    return events.EVENTS


@hookimpl
def register_subscribers(hub: Hub) -> list[Subscriber]:
    return notices.subscribers(hub)


@hookimpl
def register_routes(hub: Hub) -> list[tuple]:
    from plugins.services.handlers import ROUTES
    return ROUTES
