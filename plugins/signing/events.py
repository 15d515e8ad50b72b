"""The events the signing plugin emits (declared through ``register_events``; listed in ``docs/plugins.md``).

Payloads carry ids, region codes, states and ISO times — never names, ID numbers or phone numbers.
"""

from __future__ import annotations

from hub import EventType

SIGNING_FIELDS = ("signing_id", "resident_id", "team_id", "institution_id", "doctor_id", "region", "mode",
                  "status", "start", "end")
UNABLE_FIELDS = ("request_id", "resident_id", "region", "team_id", "kind", "status")


def _signing(name: str, doc: str, *extra: str) -> EventType:
    return EventType(f"signing.{name}", (*SIGNING_FIELDS, *extra), doc)


def _unable(name: str, doc: str, *extra: str) -> EventType:
    return EventType(f"unable_to_sign.{name}", (*UNABLE_FIELDS, *extra), doc)


EVENTS = [
    _signing("created", "A signing opened (mode apply: a pending application; entry; pick)."),
    _signing("approved", "An application approved by a doctor."),
    _signing("rejected", "An application rejected by a doctor."),
    _signing("cancelled", "An application withdrawn by the applicant."),
    _signing("renewed", "A term renewed in place (auto-renewal, a doctor or the resident).", "previous_end"),
    _signing("expiring", "Once per term, signing.renewal_notice_days before the end.", "days_left"),
    _signing("expired", "A term ended without renewal."),
    _signing("terminated", "A signing terminated (解约).", "reason"),
    _signing("refused", "A refusal (拒签) recorded."),
    EventType("signing.imported", ("import_id", "team_id", "institution_id", "doctor_id", "count", "signing_ids"),
              "One batch of an Excel import signed."),
    _unable("requested", "A doctor asked for unable-to-sign (无法签约)."),
    _unable("approved", "A supervisor approved an unable-to-sign request."),
    _unable("rejected", "A supervisor rejected an unable-to-sign request."),
    _unable("lifted", "An approved unable-to-sign lifted by a supervisor.", "resident_status"),
]
