"""The signing plugin's collections carry its name: a database written before (``family_links``,
``unable_requests``) is moved at start-up and served as before; starting again changes nothing; a copy cut off
half-way is finished by the next start; a clash on a unique index stops start-up with the ids named."""

from __future__ import annotations

from typing import Any

import pytest

from hub import CollectionClash, Index, move_collection
from hub.store import connect, database
from tests.signing.world import VILLAGE_A, World
from tests.support import token_for

OLD_NAMES = {"signing_family_links": "family_links", "signing_unable_requests": "unable_requests"}


async def start_again(world: World, make_hub: Any) -> None:
    """Start another hub on the (stopped) world's database; the users get tokens of the new hub."""
    world.running = await make_hub(plugins={"signing": True, "example_greeter": False}, plugin_modules=[])
    for name, user in world.users.items():
        world.users[name] = {**user, "token": token_for(world.running, user)}


async def snapshot(db: Any) -> dict[str, Any]:
    names = set(await db.list_collection_names())
    return {"names": sorted(n for n in names if n in OLD_NAMES or n in OLD_NAMES.values()),
            **{new: sorted(map(str, await db[new].distinct("_id"))) for new in OLD_NAMES},
            **{f"{new}.indexes": sorted(await db[new].index_information()) for new in OLD_NAMES}}


async def test_a_database_with_the_old_names_is_moved_at_start_up_and_served(world: World, make_hub: Any) -> None:
    resident = await world.resident(village=VILLAGE_A)
    status, unable = await world.call("doctor_a1", "POST", "/api/signing/unable-requests",
                                      {"resident_id": resident["id"], "kind": "外迁", "reason": "全家搬走"})
    assert status == 201, unable
    doc = await world.hub.db.residents.find_one({"_id": resident["id"]})
    status, link = await world.call("res2", "POST", "/api/signing/family", {
        "name": "测试居民", "id_number": doc["id_number"], "village": VILLAGE_A, "relation": "父母"})
    assert status == 202 and link["status"] == "pending", link
    # what a database of the previous version holds: the same documents under the old names, no new ones
    db = world.hub.db
    await world.running.stop()
    client = connect(world.running.hub.config.mongo_uri)
    old_db = database(client, db.name)
    for new, old in OLD_NAMES.items():
        await old_db[new].rename(old)
    assert not set(OLD_NAMES) & set(await old_db.list_collection_names())
    await client.close()

    await start_again(world, make_hub)
    db = world.hub.db
    moved = await snapshot(db)
    assert moved["names"] == sorted(OLD_NAMES)  # the old names are gone
    assert moved["signing_unable_requests"] == [unable["id"]] and moved["signing_family_links"] == [link["id"]]
    assert "pending_key_unique" in moved["signing_family_links.indexes"]
    status, pending = await world.call("supervisor", "GET", "/api/signing/unable-requests?status=pending")
    assert status == 200 and [r["id"] for r in pending["items"]] == [unable["id"]]
    status, links = await world.call("doctor_a1", "GET", "/api/signing/family/links")
    assert status == 200 and [x["id"] for x in links["items"]] == [link["id"]]
    # the unique pending key still holds: the same request again is the one already pending
    status, again = await world.call("doctor_a1", "POST", "/api/signing/unable-requests",
                                     {"resident_id": resident["id"], "kind": "外迁", "reason": "全家搬走"})
    assert status == 409, again

    await world.running.stop()
    await start_again(world, make_hub)  # a second start moves nothing and changes nothing
    assert await snapshot(world.hub.db) == moved
    status, pending = await world.call("supervisor", "GET", "/api/signing/unable-requests?status=pending")
    assert [r["id"] for r in pending["items"]] == [unable["id"]]


@pytest.fixture
async def scratch(mongo: Any, db_name: str) -> Any:
    client = connect(mongo.uri)
    yield database(client, db_name)
    await client.close()


async def test_a_copy_cut_off_half_way_is_finished_by_the_next_run(scratch: Any) -> None:
    docs = [{"_id": f"d{i:04d}", "n": i} for i in range(23)]
    await scratch.old.insert_many(docs)
    await scratch.new.insert_many(docs[:9])  # what a run killed after its first batch left behind
    assert await move_collection(scratch, "old", "new", batch_size=5) == "merged"
    assert await scratch.new.find({}).sort("_id", 1).to_list() == docs
    assert "old" not in await scratch.list_collection_names()
    assert await move_collection(scratch, "old", "new") == "absent"
    assert await scratch.new.count_documents({}) == 23


async def test_an_empty_new_collection_is_replaced_by_a_rename(scratch: Any) -> None:
    await scratch.old.insert_many([{"_id": i} for i in range(3)])
    await scratch.new.create_index("key")  # what ensure_indexes made before the start-up hooks ran
    assert await move_collection(scratch, "old", "new", [Index("new", [("key", 1)], "key_1")]) == "renamed"
    assert await scratch.new.count_documents({}) == 3 and "key_1" in await scratch.new.index_information()


async def test_a_clash_on_a_unique_index_stops_with_the_ids_named(scratch: Any, caplog: Any) -> None:
    await scratch.new.create_index("pending_key", unique=True, sparse=True)
    await scratch.new.insert_one({"_id": "kept", "pending_key": "r1"})
    await scratch.old.insert_many([{"_id": "other", "pending_key": "r1"}, {"_id": "fine", "pending_key": "r2"}])
    with pytest.raises(CollectionClash, match="other"):
        await move_collection(scratch, "old", "new")
    assert "resolve them by hand" in caplog.text
    assert await scratch.old.count_documents({}) == 2  # nothing lost: the old collection stays until resolved
