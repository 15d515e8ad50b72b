"""The example plugin's collections carry its name and it writes no core collection: a database of an earlier
version (``greetings``) is moved at start-up, and its job keeps its figures in its own ``example_greeter_stats``."""

from __future__ import annotations

from hub.ids import now
from hub.store import connect, database
from tests.support import eventually


async def test_old_greetings_are_moved_and_counted_in_the_plugins_own_collection(make_hub, mongo, db_name) -> None:
    client = connect(mongo.uri)
    old = database(client, db_name)
    await old.greetings.insert_many([{"_id": f"g{i}", "user": "u1", "from": "u2", "text": "您好", "at": now()}
                                     for i in range(3)])
    await client.close()
    running = await make_hub(plugins={"signing": False, "example_greeter": True})
    db = running.hub.db
    assert "greetings" not in await db.list_collection_names()
    assert await db.example_greeter_greetings.count_documents({}) == 3
    assert "user_id" in await db.example_greeter_greetings.index_information()
    stats = await eventually(lambda: db.example_greeter_stats.find_one({"_id": "greetings"}),
                             lambda found: bool(found) and found["total"] == 3)  # its job runs every second
    assert stats["total"] == 3
    assert await db.hub_state.find_one({"_id": "greeter_stats"}) is None
