"""Rules slice, item 3: every transition of a resident's state is serialised on the resident (a lease per
resident, ``plugins/signing/locks.py``). Each racing pair runs at once over real HTTP, 20 rounds, and the
invariants are asserted every round."""

from __future__ import annotations

import asyncio
from typing import Any

from plugins.signing import locks
from plugins.signing.signings import HOLDING
from tests.signing.world import World, build_world

ROUNDS = 20


async def holding(world: World, resident_id: str) -> list[dict]:
    return await world.hub.db.signings.find({"resident_id": resident_id, "status": {"$in": list(HOLDING)}}
                                            ).to_list()


async def unable_request(world: World, resident_id: str, kind: str = "死亡") -> dict:
    status, request = await world.call("doctor_a1", "POST", "/api/signing/unable-requests",
                                       {"resident_id": resident_id, "kind": kind, "reason": "经核实"})
    assert status == 201, request
    return request


async def test_unable_approval_racing_a_signing(world: World) -> None:
    """Never an approved 无法签约 resident holding an active signing (about one trial in four before)."""
    for i in range(ROUNDS):
        resident = await world.resident(name=f"无法签约竞争{i}")
        request = await unable_request(world, resident["id"])
        approve, sign = await asyncio.gather(
            world.call("supervisor", "POST", f"/api/signing/unable-requests/{request['id']}/approve", {}),
            world.sign("doctor_a1", resident["id"]))
        assert approve[0] == 200, approve
        assert sign[0] == 201 or (sign[0] == 409 and sign[1]["error"]["code"] == "unable_to_sign"), sign
        stored = await world.hub.db.residents.find_one({"_id": resident["id"]})
        assert stored["unable"] and stored["status"] == "unable", (i, stored)
        assert await holding(world, resident["id"]) == [], i


async def test_unable_approval_racing_an_application_approval(world: World) -> None:
    for i in range(ROUNDS):
        resident = await world.resident(name=f"申请竞争{i}")
        await world.hub.db.residents.update_one({"_id": resident["id"]}, {"$set": {"account_id": world.id("res1"),
                                                                                  "relation": "其他"}})
        status, application = await world.call("res1", "POST", "/api/signing/applications", {
            "resident_id": resident["id"], "team_id": world.teams["A1"]["_id"], "doctor_id": world.id("doctor_a1")})
        assert status == 201, application
        request = await unable_request(world, resident["id"], kind="外迁")
        unable, approve = await asyncio.gather(
            world.call("supervisor", "POST", f"/api/signing/unable-requests/{request['id']}/approve", {}),
            world.call("doctor_a1", "POST", f"/api/signing/signings/{application['id']}/approve", {}))
        assert unable[0] == 200, unable
        assert approve[0] in (200, 409), approve
        assert await holding(world, resident["id"]) == [], i
        assert (await world.hub.db.residents.find_one({"_id": resident["id"]}))["status"] == "unable"


async def test_refusal_racing_a_signing(world: World) -> None:
    """A refusal is never recorded while the resident is being signed: either it came first (and the signing
    after it), or it is refused because the resident is signed."""
    for i in range(ROUNDS):
        resident = await world.resident(name=f"拒签竞争{i}")
        calls = [world.call("doctor_a1", "POST", f"/api/signing/residents/{resident['id']}/refusal",
                            {"reason": "暂不需要"}), world.sign("doctor_a2", resident["id"])]
        first, second = await asyncio.gather(*(calls if i % 2 else calls[::-1]))  # either one sent first
        refuse, sign = (first, second) if i % 2 else (second, first)
        assert sign[0] == 201, sign  # a refusal does not block a later signing
        assert refuse[0] == 201 or (refuse[0] == 409 and refuse[1]["error"]["code"] == "already_signed"), refuse
        held = await holding(world, resident["id"])
        assert len(held) == 1 and held[0]["status"] == "active", i
        refusals = await world.hub.db.signings.find({"resident_id": resident["id"], "status": "refused"}).to_list()
        assert len(refusals) == (1 if refuse[0] == 201 else 0)
        assert all(r["created_at"] <= held[0]["created_at"] for r in refusals), i  # recorded before, not during
        assert (await world.hub.db.residents.find_one({"_id": resident["id"]}))["status"] == "signed"


async def test_signing_racing_signing_across_modes(world: World) -> None:
    """An application, an entry and a pick of one resident at once: exactly one holds the resident."""
    for i in range(ROUNDS):
        resident = await world.resident(name=f"三方竞争{i}")
        await world.hub.db.residents.update_one({"_id": resident["id"]}, {"$set": {"account_id": world.id("res2"),
                                                                                  "relation": "其他"}})
        apply, entry, pick = await asyncio.gather(
            world.call("res2", "POST", "/api/signing/applications", {
                "resident_id": resident["id"], "team_id": world.teams["A1"]["_id"],
                "doctor_id": world.id("doctor_a1")}),
            world.sign("doctor_a1", resident["id"]),
            world.call("doctor_a2", "POST", "/api/signing/signings/batch", {"resident_ids": [resident["id"]]}))
        assert pick[0] == 200, pick
        won = [apply[0] == 201, entry[0] == 201, bool(pick[1]["signed"])]
        assert won.count(True) == 1, (i, apply, entry, pick)
        losers = [r[1] for r, w in ((apply, won[0]), (entry, won[1])) if not w] + pick[1]["failed"]
        assert all((r.get("error") or r)["code"] in ("already_signed", "forbidden") for r in losers), losers
        held = await holding(world, resident["id"])
        assert len(held) == 1, i
        stored = await world.hub.db.residents.find_one({"_id": resident["id"]})
        assert stored["team_id"] == held[0]["team_id"]


async def test_a_lease_is_bounded_and_a_dead_holder_expires(make_hub: Any) -> None:
    """A resident whose lease is held gets 409 busy after the bounded wait; a lease whose holder died is taken
    over once it expires."""
    world = await build_world(make_hub, **{"signing.resident_lock_wait_secs": 0.2})
    resident = await world.resident(name="被占用")
    name = locks.lock_name(resident["id"])
    crashed = await world.hub.locks.acquire(name, ttl_secs=3600)  # its holder dies: never renews nor releases
    assert crashed is not None
    status, data = await world.sign("doctor_a1", resident["id"])
    assert status == 409 and data["error"]["code"] == locks.Busy.code, data
    assert await holding(world, resident["id"]) == []
    assert await world.hub.locks.renew(crashed, ttl_secs=0.001)  # its life runs out
    assert (await world.sign("doctor_a1", resident["id"]))[0] == 201
    assert await world.hub.locks.release(crashed) is False  # taken over
    assert await world.hub.locks.acquire(name, ttl_secs=1) is not None  # released after use


async def test_two_refusals_at_once_count_once(world: World) -> None:
    for i in range(ROUNDS):
        resident = await world.resident(name=f"重复拒签竞争{i}")
        path = f"/api/signing/residents/{resident['id']}/refusal"
        replies = await asyncio.gather(world.call("doctor_a1", "POST", path, {"reason": "暂不需要"}),
                                       world.call("doctor_a2", "POST", path, {"reason": "暂不需要"}))
        assert sorted(status for status, _ in replies) == [201, 409], replies
        assert await world.hub.db.signings.count_documents({"resident_id": resident["id"]}) == 1
