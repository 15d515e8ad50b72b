"""Rules slice, items 2 and 5: a resident keeps their doctor without a gap through an early renewal and through
the auto-renewal job; renewal only within the renewal window, and no term longer than the longest term."""

from __future__ import annotations

from datetime import timedelta

from hub.ids import now, parse_time
from plugins.signing.signings import add_years, service
from tests.signing.test_signings import family_member
from tests.signing.world import World


async def my_doctors(world: World, who: str = "res1") -> set[str]:
    status, data = await world.call(who, "GET", "/api/consultations/doctors")
    assert status == 200, data
    return {d["id"] for d in data["items"]}


async def signed_self(world: World, **extra: object) -> dict:
    """res1's own record (本人), signed by doctor_a1 on the spot."""
    me = await family_member(world)
    status, signing = await world.sign("doctor_a1", me["id"], **extra)
    assert status == 201, signing
    assert world.id("doctor_a1") in await my_doctors(world)
    return signing


async def test_early_renewal_keeps_the_doctor(world: World) -> None:
    signing = await signed_self(world)
    old_end = now() + timedelta(days=10)
    await world.hub.db.signings.update_one({"_id": signing["id"]}, {"$set": {"end": old_end}})
    status, renewed = await world.call("doctor_a1", "POST", f"/api/signing/signings/{signing['id']}/renew", {})
    assert status == 200, renewed
    assert abs(parse_time(renewed["start"]) - old_end) < timedelta(seconds=1)  # the new term starts at the old end
    assert world.id("doctor_a1") in await my_doctors(world)  # ... and the doctor stays meanwhile
    status, _ = await world.call("res1", "POST", "/api/consultations", {"doctor_id": world.id("doctor_a1")})
    assert status == 201


async def test_renewal_job_renews_before_the_end_without_a_gap(world: World) -> None:
    """The job renews an auto-renewing signing by its last run before the end (here the end is 30 minutes away,
    the job runs hourly): waiting for the end would leave the resident without a doctor until the next run."""
    signing = await signed_self(world)
    manual = await world.resident(name="不自动续约")
    off = (await world.sign("doctor_a1", manual["id"], auto_renew=False))[1]
    end = now() + timedelta(minutes=30)
    await world.hub.db.signings.update_many({}, {"$set": {"end": end}})
    counts = await service(world.hub).run_renewals()
    assert counts["renewed"] == 1 and counts["expired"] == 0, counts  # the other expires at its end, not before
    renewed = await world.hub.db.signings.find_one({"_id": signing["id"]})
    assert renewed["status"] == "active" and len(renewed["terms"]) == 1
    assert abs(renewed["start"] - end) < timedelta(seconds=1) and renewed["end"] > now() + timedelta(days=360)
    assert world.id("doctor_a1") in await my_doctors(world)
    assert (await world.hub.db.signings.find_one({"_id": off["id"]}))["status"] == "active"
    assert await service(world.hub).run_renewals() == {"renewed": 0, "expired": 0, "expiring": 0}  # renewed once


async def test_renewal_only_within_the_window_and_never_past_the_longest_term(world: World) -> None:
    """A 3-year signing renewed at once used to end 6, then 9 years out."""
    signing = await signed_self(world, term_years=3)
    path = f"/api/signing/signings/{signing['id']}/renew"
    status, data = await world.call("doctor_a1", "POST", path, {})
    assert status == 409 and data["error"]["details"]["reason"] == "not_due", data
    assert data["error"]["details"]["renewable_from"]
    notice = world.hub.config["signing.renewal_notice_days"]
    old_end = now() + timedelta(days=notice - 1)
    await world.hub.db.signings.update_one({"_id": signing["id"]}, {"$set": {"end": old_end}})
    status, renewed = await world.call("doctor_a1", "POST", path, {})
    assert status == 200 and renewed["renewals"] == 1, renewed
    start, end = parse_time(renewed["start"]), parse_time(renewed["end"])
    assert end <= add_years(start, world.hub.config["signing.max_term_years"])
    assert end <= add_years(now(), 3) + timedelta(days=notice)
    for _ in range(2):  # renewing again at once: refused, the end stays
        status, data = await world.call("doctor_a1", "POST", path, {"term_years": 3})
        assert status == 409 and data["error"]["details"]["reason"] == "not_due", data
    assert abs((await world.hub.db.signings.find_one({"_id": signing["id"]}))["end"] - end) < timedelta(seconds=1)
    status, data = await world.call("doctor_a1", "POST", path, {"term_years": 4})
    assert status == 400  # longer than the longest term
