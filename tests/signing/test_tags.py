"""Tags: create, rename, delete, apply to many residents at once; roles and scopes."""

from __future__ import annotations

from tests.signing.world import VILLAGE_B, World


async def test_tag_management(world: World) -> None:
    for who in ("doctor_a1", "assistant_a1", "res1", "supervisor"):
        assert (await world.call(who, "POST", "/api/signing/tags", {"name": "x"}))[0] == 403, who
    status, tag = await world.call("leader_a1", "POST", "/api/signing/tags", {"name": "独居老人"})
    assert status == 201 and tag["kind"] == "custom"
    assert (await world.call("admin_a", "POST", "/api/signing/tags", {"name": "独居老人"}))[0] == 409
    await world.hub.words.add(world.users["sysadmin"], "法轮功", "block", "政治")
    await world.hub.words.refresh()
    status, data = await world.call("admin_a", "POST", "/api/signing/tags", {"name": "法轮功"})
    assert status == 422 and data["error"]["code"] == "content_blocked"
    mine = [await world.resident(name=f"甲{i}") for i in range(3)]
    far = await world.resident(name="乙", village=VILLAGE_B)
    apply = f"/api/signing/tags/{tag['id']}/apply"
    status, data = await world.call("doctor_a1", "POST", apply, {"resident_ids": [r["id"] for r in mine]})
    assert status == 200 and data["changed"] == 3
    status, data = await world.call("doctor_a1", "POST", apply, {"resident_ids": [mine[0]["id"], far["id"]]})
    assert status == 403 and data["error"]["details"]["resident_ids"] == [far["id"]]
    assert (await world.call("res1", "POST", apply, {"resident_ids": [mine[0]["id"]]}))[0] == 403
    status, data = await world.call("doctor_a1", "POST", apply, {"resident_ids": [mine[0]["id"]], "remove": True})
    assert status == 200 and data["changed"] == 1
    status, listed = await world.call("doctor_a1", "GET", f"/api/signing/residents?tag={tag['id']}")
    assert sorted(r["name"] for r in listed["items"]) == ["甲1", "甲2"]
    assert listed["items"][0]["tags"] == [{"id": tag["id"], "name": "独居老人"}]
    status, data = await world.call("admin_a", "PATCH", f"/api/signing/tags/{tag['id']}", {"name": "空巢老人"})
    assert status == 200 and data["name"] == "空巢老人"
    status, tags = await world.call("doctor_a1", "GET", "/api/signing/tags")
    assert [(t["name"], t["residents"]) for t in tags["items"]] == [("空巢老人", 2)]
    # set one resident's tags directly
    status, data = await world.call("doctor_a1", "PUT", f"/api/signing/residents/{mine[0]['id']}/tags",
                                    {"tags": [tag["id"]]})
    assert status == 200 and [t["name"] for t in data["tags"]] == ["空巢老人"]
    assert (await world.call("doctor_a1", "PUT", f"/api/signing/residents/{mine[0]['id']}/tags",
                             {"tags": ["nope"]}))[0] == 400
    assert (await world.call("doctor_a1", "DELETE", f"/api/signing/tags/{tag['id']}"))[0] == 403
    status, data = await world.call("sysadmin", "DELETE", f"/api/signing/tags/{tag['id']}")
    assert status == 200 and data["removed_from"] == 3
    assert await world.hub.db.residents.count_documents({"tags": tag["id"]}) == 0
    assert (await world.call("sysadmin", "PATCH", f"/api/signing/tags/{tag['id']}", {"name": "y"}))[0] == 404
    actions = sorted({e["action"] async for e in world.hub.db.audit.find({"target": tag["id"]})})
    assert actions == ["signing.tag_apply", "signing.tag_create", "signing.tag_delete", "signing.tag_remove",
                       "signing.tag_rename"]
