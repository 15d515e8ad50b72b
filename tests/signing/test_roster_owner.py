"""The roster has one owner (``hub.roster``): built once with the hub, typed, its scope rules reusable by any
plugin; the signing plugin reaches roster data and the core's users only through it, and its handlers touch no
collection."""

from __future__ import annotations

import re
from pathlib import Path

from hub import SYSTEM, RequestContext
from hub.roster import Roster, RosterScopes
from hub.roster.packages import Packages
from hub.roster.regions import Regions
from hub.roster.residents import Residents
from hub.roster.tags import Tags
from hub.roster.teams import Institutions, Staff, Teams
from plugins.signing import signings
from tests.signing.world import VILLAGE_A, World

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
# The roster's collections and the core's users: no plugin queries them itself.
NOT_THE_PLUGINS = ("users", "residents", "teams", "team_history", "regions", "institutions", "packages",
                   "signing_tags")


def test_the_roster_is_built_once_with_the_hub_and_typed(world: World) -> None:
    roster = world.hub.roster
    assert isinstance(roster, Roster)
    assert isinstance(roster.scopes, RosterScopes)
    for name, kind in (("regions", Regions), ("institutions", Institutions), ("staff", Staff), ("teams", Teams),
                       ("residents", Residents), ("tags", Tags), ("packages", Packages)):
        assert isinstance(getattr(roster, name), kind), name
    assert signings.service(world.hub) is signings.service(world.hub)  # one Signings per hub
    assert signings.service(world.hub).roster is roster


def test_no_plugin_reads_or_writes_the_roster_or_the_users_itself() -> None:
    pattern = re.compile(r"\bdb\.(" + "|".join(NOT_THE_PLUGINS) + r")\b|\bdb\[")
    found = [f"{path.relative_to(PLUGINS)}:{n}: {line.strip()}"
             for path in sorted(PLUGINS.rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if pattern.search(line)]
    assert found == []


def test_signing_handlers_touch_no_collection() -> None:
    text = (PLUGINS / "signing" / "handlers.py").read_text(encoding="utf-8")
    assert ".db." not in text and "hub.db" not in text


def test_no_plugin_copies_the_roster_scope_rules() -> None:
    rules = {name for name in vars(RosterScopes) if not name.startswith("_")}
    for path in PLUGINS.rglob("*.py"):
        defined = set(re.findall(r"^def (\w+)|^(\w+) = frozenset", path.read_text(encoding="utf-8"), re.M))
        names = {a or b for a, b in defined}
        assert not names & rules, (path, names & rules)


async def test_a_plugin_narrows_its_own_documents_with_the_roster_scopes(world: World) -> None:
    """``scope_filter`` is the roster's rule for any document carrying team, institution and region."""
    hub, scopes = world.hub, world.hub.roster.scopes
    team_a1, team_b1 = world.teams["A1"], world.teams["B1"]
    await hub.db.test_visits.insert_many([
        {"_id": "v1", "team_id": team_a1["_id"], "institution_id": team_a1["institution_id"], "region": VILLAGE_A},
        {"_id": "v2", "team_id": team_b1["_id"], "institution_id": team_b1["institution_id"],
         "region": "330522101201"},
        {"_id": "v3", "team_id": None, "institution_id": None, "region": "330523100201", "account_id":
         world.id("res1")}])

    async def visible(name: str) -> list[str]:
        query = scopes.scope_filter(world.users[name])
        query = {"account_id": world.id(name)} if query is None else query
        return sorted([d["_id"] async for d in hub.db.test_visits.find(query, {"_id": 1})])

    assert await visible("doctor_a1") == ["v1"]
    assert await visible("admin_b") == ["v2"]
    assert await visible("supervisor") == ["v1", "v2"]  # 长兴县
    assert await visible("sysadmin") == ["v1", "v2", "v3"]
    assert await visible("res1") == ["v3"]


async def test_team_membership_is_placed_through_the_accounts_service(world: World) -> None:
    roster, sysadmin = world.hub.roster, world.users["sysadmin"]
    doctor = await roster.staff.create(sysadmin, {"username": "doctor_new", "password": "secret-123",
                                                  "role": "doctor", "name": "新医生",
                                                  "institution_id": world.institutions["A"]["_id"]})
    team = await roster.teams.create(sysadmin, {"institution_id": world.institutions["A"]["_id"], "name": "新团队",
                                                "members": [{"user_id": doctor["_id"]}]})
    assert (await world.hub.accounts.get_user(doctor["_id"]))["team_id"] == team["_id"]
    await roster.teams.update(sysadmin, team, {"members": []})
    assert (await world.hub.accounts.get_user(doctor["_id"]))["team_id"] is None
    history, _ = await roster.teams.history(sysadmin, team, limit=10, cursor=None)
    assert [h["kind"] for h in history] == ["adjusted", "created"]


async def test_a_service_call_is_audited_with_the_request_context(world: World) -> None:
    resident = await world.resident("doctor_a1")
    ctx = RequestContext(actor=world.users["doctor_a1"], address="203.0.113.7")
    team = world.teams["A1"]
    signing = await signings.service(world.hub).open_signing(ctx, resident | {"_id": resident["id"]}, team=team,
                                                             doctor=world.users["doctor_a1"], mode="entry")
    entry = await world.hub.db.audit.find_one({"action": "signing.create", "target": signing["_id"]})
    assert entry["address"] == "203.0.113.7" and entry["actor"] == world.id("doctor_a1")
    assert SYSTEM.actor is None  # the renewal job's context
