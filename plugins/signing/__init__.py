"""Signing (签约): the signing workflow on the roster — resident applications with doctor review, doctor entry,
picking from the roster, Excel import, renewal, termination, refusal and unable-to-sign with supervisor approval,
and the family links of resident accounts.

The roster itself (regions, institutions, teams, staff, residents, tags, packages, and their scope rules) is the
core's ``hub.roster``; this plugin still serves its HTTP endpoints under ``/api/signing`` (moving those URLs is
a client change). The core reaches this plugin only through the hooks below. Modules: ``signings`` (the rules,
in one place), ``scopes`` (the signing scope checks, on top of ``hub.roster.scopes``), ``lookups``, ``links``,
``locks``, ``imports`` (xlsx), ``schemas``, ``handlers``, ``demo``. Events it publishes are listed in
``docs/plugins.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub import Index, Job, Screens, Setting, Subscriber, hookimpl
from hub.roster import regions
from plugins.signing import demo, events, handlers, imports, links, notices, screens, signings

# Each secondary index costs ~70 ms per 1,000 inserted documents on the embedded server, so the bulk-written
# signings (the Excel import) keep only the indexes their scoped queries need (the roster's are hub.roster's).
INDEXES = [
    # One signing per resident: pending/active signings carry active_key = resident id; closed ones their own id.
    # Sparse, so records written before the key existed (and bench fixtures) are left out of it.
    Index("signings", [("active_key", 1)], "active_key_unique", unique=True, options={"sparse": True}),
    Index("signings", [("resident_id", 1), ("status", 1)], "resident_status"),
    Index("signings", [("team_id", 1), ("status", 1)], "team_status"),
    Index("signings", [("status", 1), ("end", 1)], "status_end"),
    Index("signings", [("doctor_id", 1), ("_id", -1)], "doctor_id"),
    Index("unable_requests", [("pending_key", 1)], "pending_key_unique", unique=True, options={"sparse": True}),
    Index("unable_requests", [("region", 1), ("status", 1)], "region_status"),
    Index("signing_imports", [("team_id", 1), ("_id", -1)], "team_id"),
    Index("signing_imports", [("institution_id", 1), ("_id", -1)], "institution_id"),
    # signing_leases needs no index of its own: a lease is keyed by the resident id (locks.py).
    Index("signing_import_errors", [("import_id", 1), ("_id", 1)], "import_id"),
    Index("signing_lookups", [("user", 1), ("at", 1)], "user_at"),
    Index("family_links", [("pending_key", 1)], "pending_key_unique", unique=True, options={"sparse": True}),
    Index("family_links", [("account_id", 1), ("_id", -1)], "account_id"),
    Index("family_links", [("status", 1), ("resident_id", 1)], "status_resident"),
]


@hookimpl
def register_settings() -> list[Setting]:
    return [
        Setting("signing.max_term_years", int, 3, "Longest signing term in years (the white paper: 3)."),
        Setting("signing.default_term_years", int, 1, "Term of the standard basic package when first created."),
        Setting("signing.renewal_notice_days", int, 30,
                "Days before a signing ends that its resident becomes 待续签 and signing.expiring is published."),
        Setting("signing.renewal_job_interval_secs", float, 3600.0, "How often the renewal job runs."),
        Setting("signing.resident_lock_wait_secs", float, 5.0,
                "Longest wait for a resident's lease before a change of their state is refused as 409 busy."),
        Setting("signing.resident_lock_ttl_secs", float, 30.0,
                "Life of a resident's lease: a holder that died frees the resident after this long."),
        Setting("signing.import_max_rows", int, 60000, "Most data rows in one Excel import."),
        Setting("signing.import_max_bytes", int, 30 * 1024 * 1024, "Largest Excel file accepted for import."),
        Setting("signing.demo_residents", int, 2000, "Residents the demo seed creates in the demo county."),
        Setting("signing.lookup_max", int, 30,
                "Lookups of a resident by a whole ID or phone number one user may make per window (then 429)."),
        Setting("signing.lookup_window_secs", int, 3600, "The sliding window of signing.lookup_max, in seconds."),
        Setting("signing.regions_file", str, "",
                "A UTF-8 'code,name' file of regions (12-digit codes) loaded at start-up; empty: none."),
    ]


@hookimpl
def register_notice_kinds() -> list[str]:
    return [links.NOTICE_KIND, notices.NOTICE_KIND]


@hookimpl
def register_indexes() -> list[Index]:
    return INDEXES


@hookimpl
def register_events() -> list[Any]:
    return events.EVENTS


@hookimpl
def register_subscribers(hub: Any) -> list[Subscriber]:
    return notices.subscribers(hub)


@hookimpl
def register_screens(hub: Any) -> Screens:
    return screens.screens()


@hookimpl
def register_routes(hub: Any) -> list[tuple]:
    return handlers.ROUTES


@hookimpl
def register_jobs(hub: Any) -> list[Job]:
    async def renewals() -> None:
        await signings.service(hub).run_renewals()
    return [Job("signing.renewals", hub.config["signing.renewal_job_interval_secs"], renewals)]


@hookimpl
async def hub_startup(hub: Any) -> None:
    if not 1 <= hub.config["signing.max_term_years"] <= 3:
        raise ValueError("signing.max_term_years must be 1 to 3")
    if hub.config["signing.resident_lock_wait_secs"] < 0 or hub.config["signing.resident_lock_ttl_secs"] <= 0:
        raise ValueError("signing.resident_lock_wait_secs must be >= 0 and signing.resident_lock_ttl_secs > 0")
    await hub.roster.packages.ensure_standard(hub.config["signing.default_term_years"])
    await hub.roster.residents.normalise_stored_id_numbers(renumbered=signings.service(hub).renumbered)
    if hub.config["signing.regions_file"]:
        text = Path(hub.config["signing.regions_file"]).read_text(encoding="utf-8-sig")
        await hub.roster.regions.load(regions.parse_region_file(text))


@hookimpl
async def hub_shutdown(hub: Any) -> None:
    await imports.service(hub).stop_imports()


async def consulting_team_ids(hub: Any, account: dict[str, Any]) -> list[str]:
    """The teams a resident account may consult: those its own record (relation 本人) is signed with today. A
    signing keyed by the account id itself (written before resident records existed) counts too."""
    own = await hub.roster.residents.own_record_ids(account["_id"])
    return [s["team_id"] for s in await signings.service(hub).in_force_for([*own, account["_id"]])]


@hookimpl
async def can_consult(hub: Any, resident: dict[str, Any], doctor: dict[str, Any]) -> bool | None:
    """A resident account may consult the members of its consulting teams."""
    team_ids = await consulting_team_ids(hub, resident)
    if not team_ids:
        return None
    return True if await hub.roster.teams.any_has_member(team_ids, doctor["_id"]) else None


@hookimpl
async def consultable_doctors(hub: Any, resident: dict[str, Any]) -> list[str] | None:
    """The members of the teams ``can_consult`` looks at."""
    team_ids = await consulting_team_ids(hub, resident)
    if not team_ids:
        return None
    return await hub.roster.teams.members_of(team_ids)


@hookimpl
async def seed_demo(hub: Any, accounts: dict[str, dict[str, Any]]) -> None:
    await demo.seed(hub, accounts)
