"""The events the services plugin emits (declared through ``register_events``; listed in ``docs/plugins.md``).

Payloads carry ids, region codes, kinds, states and ISO dates — never names, numbers or the text of a record."""

from __future__ import annotations

from hub import EventType

RECORD_FIELDS = ("record_id", "resident_id", "team_id", "institution_id", "region", "type", "item", "population",
                 "at")
REQUEST_FIELDS = ("request_id", "resident_id", "team_id", "item", "status")

EVENTS = [
    EventType("service.recorded", RECORD_FIELDS, "A service act (履约记录) was recorded for a signed resident."),
    EventType("service.corrected", (*RECORD_FIELDS, "correction_id"),
              "A correction entry was added to a service record (the original stays)."),
    EventType("followup.planned", ("resident_id", "team_id", "population", "visit", "earliest", "latest",
                                   "referral", "emergency"),
              "A follow-up visit was planned or re-planned (a new key, or a new window of a key)."),
    EventType("followup.done", ("record_id", "resident_id", "team_id", "population", "visit", "done_on",
                                "on_time"),
              "A recorded follow-up completed a planned visit (on_time: on or before its last day)."),
    EventType("service.requested", REQUEST_FIELDS, "A resident asked for an item of their package (申请服务)."),
    EventType("service.request_changed", REQUEST_FIELDS,
              "A service request was accepted, scheduled, completed, declined or cancelled."),
]
